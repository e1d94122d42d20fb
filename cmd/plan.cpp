#include "cmd/plan.h"

#include <fstream>
#include <iostream>
#include <sstream>

#include "cmd/exit_codes.h"
#include "cmd/terminal.h"
#include "observe/observe.h"
#include "planner/render.h"

namespace mirror::cmd {

namespace {

std::string render(const planner::Plan& plan, const std::string& format) {
  if (format == "json") return planner::render_json(plan);
  if (format == "markdown") return planner::render_markdown(plan);
  return planner::render_text(plan, {Style::for_stream(stdout).color});
}

void print_spec_diagnostics(const spec::LoadResult& r) {
  for (const auto& d : r.diagnostics.sorted()) std::cerr << spec::format_text(d) << "\n";
}

}  // namespace

CLI::App* add_plan(CLI::App& app, PlanOptions& o) {
  CLI::App* sub =
      app.add_subcommand("plan", "Observe both clusters of every flow and show what apply would change");
  add_spec_options(*sub, o.spec);
  sub->add_option("--out", o.out, "Save the plan to FILE (JSON) for `mirror show` and `mirror apply FILE`");
  sub->add_option("--format", o.format, "Output: text, json, or markdown (for pull-request comments)")
      ->check(CLI::IsMember({"text", "json", "markdown"}))
      ->capture_default_str();
  sub->add_flag("--detailed-exitcode", o.detailed_exitcode,
                "Exit 0 when nothing changes, 2 when something does");
  sub->add_flag("--allow-delete", o.allow_delete, "Plan deletions of orphaned resources that mirror created");
  sub->add_option("--timeout", o.timeout_seconds, "Seconds to wait for each cluster request")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  sub->add_flag("-v,--verbose", o.verbose, "Print each observation phase and its timing to stderr");
  add_policy_flags(*sub, o.policy);
  sub->footer(
      "Policies (the spec's policies:, docs/policies.md) are judged on every plan; their results are in\n"
      "every format. Exit codes: 0 success (no changes with --detailed-exitcode), 1 error, 2 changes "
      "present\n"
      "(--detailed-exitcode), 3 denied by a policy (takes precedence over 2), 64 usage error.");
  return sub;
}

CLI::App* add_show(CLI::App& app, ShowOptions& o) {
  CLI::App* sub = app.add_subcommand("show", "Render a plan saved with `mirror plan --out FILE`");
  sub->add_option("PLANFILE", o.file, "The saved plan")->required();
  sub->add_option("--format", o.format, "Output: text, json, or markdown")
      ->check(CLI::IsMember({"text", "json", "markdown"}))
      ->capture_default_str();
  return sub;
}

int run_plan(const PlanOptions& o) {
  spec::LoadResult loaded = load_spec(o.spec);
  if (!loaded.spec) {
    print_spec_diagnostics(loaded);
    std::cerr
        << "mirror plan: the spec is invalid; fix it (mirror validate shows the same) and plan again.\n";
    return kExitError;
  }
  for (const auto& d : loaded.diagnostics.sorted()) std::cerr << spec::format_text(d) << "\n";  // warnings

  observe::Options opts;
  opts.timeout = std::chrono::seconds(o.timeout_seconds);
  if (o.verbose) opts.log = [](const std::string& line) { std::cerr << "mirror: " << line << "\n"; };
  opts.skipped = [](const state::Skipped& s) {
    std::cerr << "mirror plan: warning: skipped an unreadable record of mirror's state: "
              << state::describe(s) << "\n";
  };
  auto states = observe::observe_spec(*loaded.spec, spec::Resolver::system(), opts);
  if (!states) {
    std::cerr << "mirror plan: cannot read the clusters:\n  " << states.error() << "\n";
    return kExitError;
  }
  planner::Plan plan = planner::make_plan(*loaded.spec, *states, {o.allow_delete});
  int gate_exit = kExitUsage;
  auto gate = judge_plan(plan, *loaded.spec, *states, o.policy, "mirror plan", &gate_exit);
  if (!gate) return gate_exit;

  if (!o.out.empty()) {
    std::ofstream f(o.out, std::ios::binary | std::ios::trunc);
    f << planner::render_json(plan);
    if (!f.good()) {
      std::cerr << "mirror plan: cannot write " << o.out << "\n";
      return kExitError;
    }
  }
  std::cout << render(plan, o.format);
  if (!o.out.empty() && o.format == "text") {
    std::cout << "\nSaved the plan to " << o.out << " (render it again with: mirror show " << o.out << ")\n";
  }
  if (gate->verdict.blocked()) {
    report_blocked(*gate, "mirror plan", "mirror apply would refuse it (exit 3)");
    return kExitPolicy;
  }
  if (o.detailed_exitcode && plan.has_changes()) return kExitChanges;
  return kExitOk;
}

int run_show(const ShowOptions& o) {
  std::ifstream f(o.file, std::ios::binary);
  if (!f) {
    std::cerr << "mirror show: cannot read " << o.file << " (does it exist?)\n";
    return kExitError;
  }
  std::stringstream ss;
  ss << f.rdbuf();
  auto plan = planner::parse_json(ss.str());
  if (!plan) {
    std::cerr << "mirror show: " << o.file << ": " << plan.error()
              << "\n  hint: pass a file written by `mirror plan --out FILE`\n";
    return kExitError;
  }
  std::cout << render(*plan, o.format);
  return kExitOk;
}

}  // namespace mirror::cmd

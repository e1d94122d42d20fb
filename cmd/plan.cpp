#include "cmd/plan.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cmd/exit_codes.h"
#include "cmd/terminal.h"
#include "common/redact.h"
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

// Writes `text` to `path` so that no reader ever sees a partial file and nobody else may read it: a new
// temporary file beside it (O_EXCL, mode 0600), written and fsynced, then renamed over `path` (which
// replaces a symlink there rather than following it), and the directory fsynced. Returns the error.
std::optional<std::string> write_private_atomically(const std::string& path, const std::string& text) {
  namespace fs = std::filesystem;
  const fs::path target(path);
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  std::string tmp = (dir / ("." + target.filename().string() + ".XXXXXX")).string();
  // mkstemp: O_CREAT | O_EXCL, mode 0600, a name nobody else holds.
  const int fd = ::mkstemp(tmp.data());
  if (fd < 0) return "cannot create a temporary file in " + dir.string() + ": " + std::strerror(errno);
  auto fail_with = [&](const std::string& what) {
    const int e = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    return std::optional<std::string>(what + ": " + std::strerror(e));
  };
  if (::fchmod(fd, 0600) != 0) return fail_with("cannot set the mode of " + tmp);
  for (size_t done = 0; done < text.size();) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return fail_with("cannot write " + tmp);
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) return fail_with("cannot sync " + tmp);
  if (::close(fd) != 0) {
    const int e = errno;
    ::unlink(tmp.c_str());
    return "cannot write " + tmp + ": " + std::strerror(e);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = errno;
    ::unlink(tmp.c_str());
    return "cannot rename " + tmp + " to " + path + ": " + std::strerror(e);
  }
  if (const int d = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); d >= 0) {
    (void)::fsync(d);  // the rename itself survives a crash; best effort where directories cannot sync
    ::close(d);
  }
  return std::nullopt;
}

}  // namespace

Result<std::string, std::string> read_plan_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return fail(std::string("cannot read the file (does it exist?)"));
  std::string text;
  char buf[1 << 16];
  while (f.read(buf, sizeof buf) || f.gcount() > 0) {
    text.append(buf, static_cast<size_t>(f.gcount()));
    if (text.size() > planner::kMaxPlanBytes) {
      return fail("the file is larger than a saved plan may be (" + std::to_string(planner::kMaxPlanBytes) +
                  " bytes)");
    }
  }
  if (f.bad()) return fail(std::string("cannot read the file"));
  return text;
}

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
    // A plan names what was observed; a value that is a resolved secret is never written out.
    const std::string json = planner::render_json(plan);
    const std::string redacted = redact(json);
    if (redacted != json) {
      std::cerr
          << "mirror plan: the plan contained a secret value (a value resolved from ${env:} or ${file:});"
             " it is saved as \""
          << kRedacted
          << "\", so `mirror apply` will refuse this file as edited.\n"
             "  hint: find which topic config or name holds the secret and change it\n";
    }
    if (auto err = write_private_atomically(o.out, redacted)) {
      std::cerr << "mirror plan: cannot save the plan to " << o.out << ": " << *err << "\n";
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
  auto text = read_plan_file(o.file);
  if (!text) {
    std::cerr << "mirror show: cannot read " << o.file << ": " << text.error() << "\n";
    return kExitError;
  }
  auto plan = planner::parse_json(*text);
  if (!plan) {
    std::cerr << "mirror show: " << o.file << ": " << plan.error()
              << "\n  hint: pass a file written by `mirror plan --out FILE`\n";
    return kExitError;
  }
  if (planner::plan_fingerprint(*plan) != plan->fingerprint) {
    std::cerr << "mirror show: warning: " << o.file
              << ": its fingerprint does not match its actions: the file was edited after mirror made it "
                 "(mirror apply refuses it)\n";
  }
  std::cout << render(*plan, o.format);
  return kExitOk;
}

}  // namespace mirror::cmd

#include "cmd/apply.h"

#include <pwd.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <tuple>

#include "apply/apply.h"
#include "cmd/exit_codes.h"
#include "cmd/plan.h"
#include "cmd/terminal.h"
#include "common/identity.h"
#include "observe/observe.h"
#include "planner/render.h"
#include "state/lease.h"
#include "state/state.h"

namespace mirror::cmd {

namespace {

// "create_partitions B:A.orders", escaped for the terminal: names come from clusters and plan files.
std::string key(const planner::Action& a) {
  return planner::escape_text(std::string(planner::action_kind_name(a.kind)) + " " + a.cluster + ":" +
                              a.resource);
}

std::string shown(const planner::Json& v) {
  return planner::escape_text(v.dump(-1, ' ', false, planner::Json::error_handler_t::replace));
}

// Every way the saved plan differs from a fresh plan of the same spec, one line each: an action whose
// observed state moved since (before), one that would now do something else (after, or another flow),
// one in the file that is not needed now, one needed now that the file lacks. Empty: they are equal in
// full, so applying the fresh plan does exactly what was reviewed.
std::vector<std::string> differences(const planner::Plan& saved, const planner::Plan& fresh) {
  using Id = std::tuple<planner::ActionKind, std::string, std::string>;  // kind, cluster, resource
  auto id = [](const planner::Action& a) { return Id{a.kind, a.cluster, a.resource}; };
  std::map<Id, std::vector<const planner::Action*>> now;  // (equal ids from two flows pair up in order)
  for (const auto& a : fresh.actions) now[id(a)].push_back(&a);
  std::vector<std::string> out;
  for (const auto& a : saved.actions) {
    auto& candidates = now[id(a)];
    if (candidates.empty()) {
      out.push_back(key(a) +
                    ": in the saved plan but not needed now (someone changed it since the plan was "
                    "made, or the file was edited)");
      continue;
    }
    const planner::Action& f = *candidates.front();
    candidates.erase(candidates.begin());
    if (f.flow != a.flow) {
      out.push_back(key(a) + ": saved for flow " + planner::escape_text(a.flow) + ", now for flow " +
                    planner::escape_text(f.flow));
    }
    if (f.before != a.before)
      out.push_back(key(a) + ": when planned " + shown(a.before) + ", now " + shown(f.before));
    if (f.after != a.after)
      out.push_back(key(a) + ": saved after " + shown(a.after) + ", now " + shown(f.after));
  }
  for (const auto& [ident, left] : now) {
    for (const planner::Action* a : left) out.push_back(key(*a) + ": needed now but not in the saved plan");
  }
  return out;
}

// Holds the apply lease of every target cluster for the lifetime of one apply.
class Locks {
 public:
  bool acquire(const std::string& alias, const kafka::ClientConfig& cfg, const state::LeaseRequest& req) {
    auto r = state::Lease::acquire(cfg, req);
    if (!r) {
      std::cerr << "mirror apply: " << r.error().describe() << "; nothing was changed.\n";
      if (r.error().code == kafka::Errc::already_exists) {
        std::cerr << "  hint: wait for it to finish, or let this apply wait with --lock-timeout SECONDS;\n"
                  << "        if that apply is gone for sure, its lease expires on its own, or run\n"
                  << "        mirror force-unlock LEASE_ID (with the same spec)\n";
      } else if (!r.error().hint().empty()) {
        std::cerr << "  hint: " << r.error().hint() << "\n";
      }
      return false;
    }
    held_.emplace_back(alias, std::move(*r));
    return true;
  }
  // The fence before each batch of changes: every lease still held without interruption.
  std::optional<std::string> confirm() {
    for (auto& [alias, lease] : held_) {
      if (auto r = lease->confirm(); !r) return "lost the apply lock on " + alias + ": " + r.error().message;
    }
    return std::nullopt;
  }
  ~Locks() { release_all(); }
  void release_all() {
    for (auto& [alias, lease] : held_) {
      if (auto r = lease->release(); !r) {
        std::cerr << "mirror apply: could not release the apply lock on " << alias << ": "
                  << r.error().describe() << "\n  hint: it expires on its own after its ttl, or run "
                  << "mirror force-unlock " << lease->holder().id << "\n";
      }
    }
    held_.clear();
  }

 private:
  std::vector<std::pair<std::string, std::unique_ptr<state::Lease>>> held_;
};

}  // namespace

CLI::App* add_apply(CLI::App& app, ApplyOptions& o) {
  CLI::App* sub = app.add_subcommand(
      "apply", "Reconcile the clusters with the spec (or exactly a saved plan) and record what was applied");
  add_spec_options(*sub, o.spec);
  sub->add_option("PLANFILE", o.plan_file,
                  "A plan saved with `mirror plan --out FILE`: apply only what it shows, unchanged since");
  sub->add_flag("--auto-approve", o.auto_approve, "Apply without asking (needed when not on a terminal)");
  sub->add_flag("--allow-delete", o.allow_delete, "Without PLANFILE: also delete orphans mirror created");
  sub->add_flag("--detach", o.detach,
                "Only reconcile and record; do not run the engine (a running engine picks the revision up)");
  add_engine_flags(*sub, o.engine);
  sub->add_option("--lock-timeout", o.lock_timeout_seconds,
                  "Seconds to wait while another apply holds a target's lock (0: refuse at once)")
      ->check(CLI::Range(0, 86400))
      ->capture_default_str();
  sub->add_option("--timeout", o.timeout_seconds, "Seconds to wait for each cluster request")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  sub->add_flag("-v,--verbose", o.verbose, "Print each observation phase and its timing to stderr");
  add_policy_flags(*sub, o.policy);
  sub->footer(
      "Policies (the spec's policies:, docs/policies.md) are judged again before anything changes; an\n"
      "override is recorded in the applied revision and the audit log.\n"
      "With PLANFILE the saved plan is the approval: no prompt. mirror plans again and applies that fresh\n"
      "plan only if its actions equal the file's in full (before and after); if the spec, a resource or\n"
      "the file changed since, it is refused (exit 4) naming each difference, and nothing is changed.\n"
      "The spec (-c or --git) is still needed to reach the clusters.\n"
      "Audit: one JSON line per action on stderr. Exit codes: 0 applied, 1 error or failed action,\n"
      "3 denied by a policy, 4 stale plan, 64 usage error.");
  return sub;
}

int run_apply(const ApplyOptions& o) {
  spec::LoadResult loaded = load_spec(o.spec);
  if (!loaded.spec) {
    for (const auto& d : loaded.diagnostics.sorted()) std::cerr << spec::format_text(d) << "\n";
    std::cerr << "mirror apply: the spec is invalid; nothing was changed.\n";
    return kExitError;
  }
  const spec::Spec& spec = *loaded.spec;

  std::optional<planner::Plan> saved;
  if (!o.plan_file.empty()) {
    auto text = read_plan_file(o.plan_file);
    auto p = text ? planner::parse_json(*text) : Result<planner::Plan, std::string>(fail(text.error()));
    if (!p) {
      std::cerr << "mirror apply: cannot use " << o.plan_file << ": " << p.error()
                << "\n  hint: pass a file written by `mirror plan --out FILE`\n";
      return kExitError;
    }
    // The file is evidence of what was reviewed, never instructions: its fingerprint must be the one of
    // its own actions (else it was edited after mirror wrote it), its actions must equal a fresh plan's
    // in full (below), and what is executed is that fresh plan.
    if (planner::plan_fingerprint(*p) != p->fingerprint) {
      std::cerr << "mirror apply: the plan file was edited after it was made: its fingerprint does not match "
                   "its actions; nothing was changed.\n"
                << "  hint: plan again (mirror plan --out FILE), review, and apply that file unchanged\n";
      return kExitStale;
    }
    saved = std::move(*p);
    if (saved->spec.content_hash != spec.content_hash) {
      std::cerr << "mirror apply: the plan is stale: the spec changed since it was made\n"
                << "  planned from: " << planner::escape_text(saved->spec.source)
                << (saved->spec.commit ? " at " + planner::escape_text(*saved->spec.commit) : std::string())
                << " (content " << planner::escape_text(saved->spec.content_hash.substr(0, 12)) << ")\n"
                << "  spec now:     " << spec.origin.source
                << (spec.origin.commit ? " at " + *spec.origin.commit : std::string()) << " (content "
                << spec.content_hash.substr(0, 12) << ")\n"
                << "  hint: plan again from the spec you want to apply\n";
      return kExitStale;
    }
  }

  // Unreviewed changes need a person or --auto-approve: say so before touching anything.
  if (!saved && !o.auto_approve && !isatty(STDIN_FILENO)) {
    std::cerr
        << "mirror apply: refusing to apply without confirmation: stdin is not a terminal.\n"
        << "  hint: review a saved plan and apply it (mirror plan --out plan.json; mirror apply plan.json),\n"
        << "        or pass --auto-approve in pipelines that apply unreviewed changes on purpose\n";
    return kExitError;
  }

  observe::Options opts;
  opts.timeout = std::chrono::seconds(o.timeout_seconds);
  if (o.verbose) opts.log = [](const std::string& line) { std::cerr << "mirror: " << line << "\n"; };

  std::map<std::string, kafka::ClientConfig> clusters;
  for (const auto& [alias, c] : spec.clusters) {
    auto cfg = observe::client_config(c, spec::Resolver::system(), opts);
    if (!cfg) {
      std::cerr << "mirror apply: cluster " << alias << ": " << cfg.error() << "\n";
      return kExitError;
    }
    clusters.emplace(alias, std::move(*cfg));
  }
  std::set<std::string> targets;
  for (const auto& f : spec.flows) targets.insert(f.target);

  // One apply at a time: the lease is held from before the clusters are read until the record is written.
  Locks locks;
  const state::LeaseRequest req{
      .owner = user_at_host(),
      .purpose = saved ? "apply plan " + saved->fingerprint.substr(0, 12) : "apply without a saved plan",
      .wait = std::chrono::seconds(o.lock_timeout_seconds)};
  for (const auto& t : targets) {
    if (!locks.acquire(t, clusters.at(t), req)) return kExitError;
  }

  auto states = observe::observe_spec(spec, spec::Resolver::system(), opts);
  if (!states) {
    std::cerr << "mirror apply: cannot read the clusters; nothing was changed:\n  " << states.error() << "\n";
    return kExitError;
  }
  bool allow_delete = o.allow_delete;
  if (saved) {
    allow_delete = std::any_of(saved->actions.begin(), saved->actions.end(), [](const planner::Action& a) {
      return planner::change_of(a.kind) == planner::Change::remove;
    });
  }
  planner::Plan fresh = planner::make_plan(spec, *states, {allow_delete});

  if (saved) {
    std::vector<std::string> diff = differences(*saved, fresh);
    if (diff.empty() && saved->fingerprint != fresh.fingerprint) {
      diff.push_back("the spec's commit changed: planned at " +
                     planner::escape_text(saved->spec.commit.value_or("(none)")) + ", now " +
                     planner::escape_text(fresh.spec.commit.value_or("(none)")));
    }
    if (!diff.empty()) {
      std::cerr << "mirror apply: the plan is stale: the clusters changed since it was made (or the file was "
                   "edited); nothing was changed.\n";
      for (const auto& line : diff) std::cerr << "  " << line << "\n";
      std::cerr << "  hint: plan again, review, and apply the new plan\n";
      return kExitStale;
    }
  }
  // Never the file's actions: the fresh plan, now known to equal them in full.
  planner::Plan& plan = fresh;
  // The saved plan's own policy results are not trusted: the policies are judged again, now.
  int gate_exit = kExitUsage;
  auto gate = judge_plan(plan, spec, *states, o.policy, "mirror apply", &gate_exit);
  if (!gate) return gate_exit;
  if (gate->verdict.blocked()) {
    if (!saved) std::cout << planner::render_text(plan, {Style::for_stream(stdout).color});
    report_blocked(*gate, "mirror apply", "nothing was changed");
    return kExitPolicy;
  }

  if (!plan.has_changes()) {
    std::cout << "No changes. Both clusters match the spec; nothing to apply.\n";
    locks.release_all();
    if (o.detach) return kExitOk;
    std::cout << "Running the replication engine (stop with Ctrl-C / SIGTERM; --detach to skip).\n"
              << std::flush;
    return run_engine(spec, o.spec, clusters, o.engine, "apply");
  }
  if (!saved) {
    std::cout << planner::render_text(plan, {Style::for_stream(stdout).color});
    if (!o.auto_approve) {
      if (!isatty(STDIN_FILENO)) {
        std::cerr << "mirror apply: refusing to apply without confirmation: stdin is not a terminal.\n"
                  << "  hint: review a saved plan and apply it (mirror plan --out plan.json; mirror apply "
                     "plan.json),\n"
                  << "        or pass --auto-approve in pipelines that apply unreviewed changes on purpose\n";
        return kExitError;
      }
      std::cout << "\nDo you want to apply these actions? Only 'yes' will be accepted: " << std::flush;
      std::string answer;
      std::getline(std::cin, answer);
      if (answer != "yes") {
        std::cout << "Apply cancelled; nothing was changed.\n";
        return kExitError;
      }
    }
  }

  apply::Options ao;
  ao.now_utc = utc_now();
  ao.user_host = user_at_host();
  ao.audit = [](const std::string& line) { std::cerr << line << "\n"; };
  ao.fence = [&locks] { return locks.confirm(); };
  for (const auto& ov : gate->overrides) {
    state::PolicyOverride rec{ov.rule, ov.reason, {}};
    for (const auto& r : gate->verdict.overridden) {
      if (r.rule == ov.rule && !r.resource.empty()) rec.resources.push_back(r.resource);
    }
    ao.overrides.push_back(std::move(rec));
  }
  apply::Report report = apply::execute(plan, spec, clusters, ao);

  const Style st = Style::for_stream(stdout);
  int ok = 0, failed = 0;
  std::cout << "\n";
  for (const auto& out : report.outcomes) {
    (out.ok ? ok : failed)++;
    std::cout << (out.ok ? st.green("  ok      ") : st.red("  FAILED  ")) << key(*out.action);
    if (!out.ok) std::cout << "\n            " << planner::escape_text(out.error);
    std::cout << "\n";
  }
  for (const auto& e : report.state_errors)
    std::cout << st.red("  FAILED  ") << planner::escape_text(e) << "\n";
  std::cout << "\nApply " << (report.ok() ? "complete" : "incomplete") << ": " << ok << " succeeded, "
            << failed << " failed.";
  if (!report.ok()) std::cout << " Fix the cause and run apply again: it converges.";
  std::cout << "\n";
  locks.release_all();
  if (!report.ok()) {
    if (!o.detach) std::cout << "The engine was not started because the apply is incomplete.\n";
    return kExitError;
  }
  if (o.detach) {
    std::cout << "Detached: a running `mirror run` picks the new revision up; otherwise start one.\n";
    return kExitOk;
  }
  std::cout << "Running the replication engine (stop with Ctrl-C / SIGTERM; --detach to skip).\n"
            << std::flush;
  return run_engine(spec, o.spec, clusters, o.engine, "apply");
}

CLI::App* add_force_unlock(CLI::App& app, ForceUnlockOptions& o) {
  CLI::App* sub = app.add_subcommand(
      "force-unlock", "Remove the apply lock a crashed or stuck apply holds in the spec's target clusters");
  add_spec_options(*sub, o.spec);
  sub->add_option("LEASE_ID", o.lease_id, "The lease id a refused apply printed (lease ...)")->required();
  sub->add_option("--timeout", o.timeout_seconds, "Seconds to wait for each cluster request")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  sub->footer(
      "Only the holding with exactly this id is removed; an apply that still runs notices before its next\n"
      "change and stops. A holder that died needs no force-unlock: its lease expires after its ttl (60 s).\n"
      "Exit codes: 0 removed, 1 no such holder or error.");
  return sub;
}

int run_force_unlock(const ForceUnlockOptions& o) {
  spec::LoadResult loaded = load_spec(o.spec);
  if (!loaded.spec) {
    for (const auto& d : loaded.diagnostics.sorted()) std::cerr << spec::format_text(d) << "\n";
    std::cerr << "mirror force-unlock: the spec is invalid; it is needed to reach the target clusters.\n";
    return kExitError;
  }
  observe::Options opts;
  opts.timeout = std::chrono::seconds(o.timeout_seconds);
  std::set<std::string> targets;
  for (const auto& f : loaded.spec->flows) targets.insert(f.target);
  int removed = 0, errors = 0;
  for (const auto& t : targets) {
    auto cfg = observe::client_config(loaded.spec->clusters.at(t), spec::Resolver::system(), opts);
    if (!cfg) {
      std::cerr << "mirror force-unlock: cluster " << t << ": " << cfg.error() << "\n";
      ++errors;
      continue;
    }
    auto r = state::force_release(*cfg, state::kApplyLease, o.lease_id, user_at_host());
    if (!r) {
      std::cerr << "mirror force-unlock: " << r.error().describe() << "\n";
      ++errors;
    } else if (*r) {
      std::cout << "Removed the apply lock on " << t << ": " << state::describe(**r) << "\n";
      ++removed;
    } else {
      auto now = state::read_lease(*cfg, state::kApplyLease);
      std::cout << "Lease " << o.lease_id << " does not hold the apply lock on " << t << ": "
                << (!now   ? "cannot read it: " + now.error().describe()
                    : *now ? "it is held by " + state::describe(**now)
                           : std::string("the lock is free"))
                << "\n";
    }
  }
  if (removed == 0 && errors == 0) {
    std::cerr << "mirror force-unlock: nothing was removed.\n  hint: pass the lease id that a refused "
                 "`mirror apply` printed (lease ...), with the same spec\n";
  }
  return removed > 0 && errors == 0 ? kExitOk : kExitError;
}

}  // namespace mirror::cmd

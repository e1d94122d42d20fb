#include "cmd/policy_gate.h"

#include <algorithm>
#include <cctype>
#include <iostream>
#include <set>

#include "cmd/exit_codes.h"

namespace mirror::cmd {

void add_policy_flags(CLI::App& app, PolicyFlags& flags) {
  app.add_option("--override-policy", flags.overrides,
                 "Let the failures of this soft-mandatory policy rule through (repeatable; needs --reason)")
      ->type_name("RULE");
  app.add_option("--reason", flags.reason,
                 "Why the override is needed; recorded in the applied revision and the audit log")
      ->type_name("TEXT");
}

std::optional<Gate> judge_plan(planner::Plan& plan, const spec::Spec& spec,
                               const std::map<std::string, planner::ClusterState>& states,
                               const PolicyFlags& flags, const std::string& command, int* exit_code) {
  *exit_code = kExitUsage;
  const bool blank_reason =
      std::all_of(flags.reason.begin(), flags.reason.end(), [](unsigned char c) { return std::isspace(c); });
  if (!flags.overrides.empty() && blank_reason) {
    std::cerr
        << command << ": --override-policy needs --reason TEXT saying why (it is recorded for audit)\n"
        << "  e.g. --override-policy max-actions --reason \"CHG-1234: initial migration of 400 topics\"\n";
    return std::nullopt;
  }
  if (flags.overrides.empty() && !flags.reason.empty()) {
    std::cerr << command << ": --reason is only used with --override-policy RULE\n";
    return std::nullopt;
  }
  Gate gate;
  std::set<std::string> seen;
  for (const auto& rule : flags.overrides) {
    if (seen.insert(rule).second) gate.overrides.push_back({rule, flags.reason});
  }
  plan.policy_results = policies::evaluate(plan, spec, states);
  auto verdict = policies::judge(plan.policy_results, gate.overrides);
  if (!verdict) {
    std::cerr << command << ": " << verdict.error() << "\n";
    // Trying to let a hard-mandatory failure through is a denial, not a typo.
    for (const auto& o : gate.overrides) {
      bool hard = false, soft = false;
      for (const auto& r : plan.policy_results) {
        if (r.rule != o.rule || r.passed) continue;
        hard |= r.level == "hard-mandatory";
        soft |= r.level == "soft-mandatory";
      }
      if (hard && !soft) *exit_code = kExitPolicy;
    }
    return std::nullopt;
  }
  gate.verdict = std::move(*verdict);
  plan.policy_results = gate.verdict.results;  // overridden ones marked, with the reason
  return gate;
}

void report_blocked(const Gate& gate, const std::string& command, const std::string& consequence) {
  const auto& b = gate.verdict.blocking;
  std::cerr << "\n"
            << command << ": denied by policy: " << b.size() << " failed check(s) block this plan; "
            << consequence << "\n";
  std::set<std::string> soft;
  for (const auto& r : b) {
    std::cerr << "  " << r.level << " " << r.rule << (r.resource.empty() ? "" : " on " + r.resource) << ": "
              << r.message << "\n";
    if (r.level == "soft-mandatory") soft.insert(r.rule);
  }
  if (!soft.empty()) {
    std::string flags;
    for (const auto& s : soft) flags += " --override-policy " + s;
    std::cerr << "  hint: change the spec so the checks pass, or, if this is intended and approved, run again"
              << " with" << flags
              << " --reason \"...\" (soft-mandatory rules only; the override is recorded)\n";
  } else {
    std::cerr
        << "  hint: hard-mandatory rules cannot be overridden: change the spec (or the policy, in review)\n";
  }
}

}  // namespace mirror::cmd

// The policy gate shared by `mirror plan` and `mirror apply`: evaluates the spec's policies on a plan,
// applies the operator's overrides, and says what blocks (exit 3) on stderr. docs/policies.md.
#pragma once

#include <CLI/CLI.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "planner/cluster_state.h"
#include "planner/plan.h"
#include "policies/policies.h"
#include "spec/spec.h"

namespace mirror::cmd {

struct PolicyFlags {
  std::vector<std::string> overrides;  // --override-policy RULE (repeatable)
  std::string reason;                  // --reason TEXT (one reason for all overrides)
};

void add_policy_flags(CLI::App& app, PolicyFlags& flags);

// Outcome of the gate: nullopt when the flags are unusable (a usage error, already reported), else the
// verdict. `command` prefixes messages ("mirror plan").
struct Gate {
  policies::Verdict verdict;
  std::vector<policies::Override> overrides;  // as given, for the record and the audit log
};
// On nullopt, *exit_code says why: kExitUsage for flags that make no sense (no reason, a rule the spec
// does not list, a rule that passed), kExitPolicy for an override of a hard-mandatory failure.
std::optional<Gate> judge_plan(planner::Plan& plan, const spec::Spec& spec,
                               const std::map<std::string, planner::ClusterState>& states,
                               const PolicyFlags& flags, const std::string& command, int* exit_code);

// Prints what blocks and how to proceed, on stderr.
void report_blocked(const Gate& gate, const std::string& command, const std::string& consequence);

}  // namespace mirror::cmd

// The policy gate shared by `mirror plan` and `mirror apply`: evaluates the spec's policies on a plan,
// applies the operator's overrides, and says what blocks (exit 3) on stderr. docs/policies.md.
#pragma once

#include <CLI/CLI.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "planner/cluster_state.h"
#include "planner/plan.h"
#include "policies/policies.h"
#include "spec/spec.h"

namespace mirror::cmd {

struct PolicyFlags {
  std::vector<std::string> overrides;  // --override-policy RULE (repeatable)
  std::string reason;                  // --reason TEXT (one reason for all overrides)
  // Policies from a place the spec's author cannot change (docs/security.md). --policies PATH reads a
  // spec file or folder and uses its policies:; --policies-ref REF reads them from a commit of
  // --policies-repo (default: the --git repository, else the current directory) at --policies-path
  // (default: the spec's --path, or the -c path). Empty: the spec's own policies (no trust boundary).
  std::string trusted_path;
  std::string trusted_ref;
  std::string trusted_repo;
  std::string trusted_subpath;
  bool trusted() const { return !trusted_path.empty() || !trusted_ref.empty(); }
};

void add_policy_flags(CLI::App& app, PolicyFlags& flags);

// Outcome of the gate: nullopt when the flags are unusable (a usage error, already reported), else the
// verdict. `command` prefixes messages ("mirror plan").
struct Gate {
  policies::Verdict verdict;
  std::vector<policies::Override> overrides;  // as given, for the record and the audit log
};
// With trusted policies (PolicyFlags::trusted()), the spec's policies are merged with them
// (policies/trusted.h): the trusted rules are always judged, and every rule the spec removed, weakened,
// changed or added becomes a note in the plan. A trusted source that cannot be read or is invalid is an
// error (exit 1): the plan is never judged by fewer rules than the operator asked for.
// On nullopt, *exit_code says why: kExitUsage for flags that make no sense (no reason, a rule the spec
// does not list, a rule that passed), kExitPolicy for an override of a hard-mandatory failure.
std::optional<Gate> judge_plan(planner::Plan& plan, const spec::Spec& spec,
                               const std::map<std::string, planner::ClusterState>& states,
                               const PolicyFlags& flags, const std::string& command, int* exit_code);

// The spec whose policies are judged: `spec` itself, or with the trusted policies merged in (and the
// notes describing the merge appended to `notes`). Errors: the trusted source cannot be read, or its
// policies are invalid.
Result<spec::Spec, std::string> effective_policies(const spec::Spec& spec, const PolicyFlags& flags,
                                                   std::vector<planner::Note>* notes);

// Prints what blocks and how to proceed, on stderr.
void report_blocked(const Gate& gate, const std::string& command, const std::string& consequence);

}  // namespace mirror::cmd

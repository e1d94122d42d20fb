#include "cmd/policy_gate.h"

#include <algorithm>
#include <cctype>
#include <iostream>
#include <set>

#include "cmd/exit_codes.h"
#include "planner/render.h"
#include "policies/trusted.h"
#include "spec/git.h"
#include "spec/load.h"

namespace mirror::cmd {

void add_policy_flags(CLI::App& app, PolicyFlags& flags) {
  app.add_option("--override-policy", flags.overrides,
                 "Let the failures of this soft-mandatory policy rule through (repeatable; needs --reason)")
      ->type_name("RULE");
  app.add_option("--reason", flags.reason,
                 "Why the override is needed; recorded in the applied revision and the audit log")
      ->type_name("TEXT");
  auto* path = app.add_option("--policies", flags.trusted_path,
                              "Judge with the policies: of this spec file or folder (one the pull request "
                              "cannot change); the spec's own are shown against them")
                   ->type_name("PATH")
                   ->group("Trusted policies");
  auto* ref = app.add_option("--policies-ref", flags.trusted_ref,
                             "Judge with the policies: of the spec in this commit (e.g. the base branch)")
                  ->type_name("REF")
                  ->group("Trusted policies");
  app.add_option("--policies-repo", flags.trusted_repo,
                 "Repository for --policies-ref (default: the --git repository, else .)")
      ->type_name("REPO")
      ->group("Trusted policies")
      ->needs(ref);
  app.add_option("--policies-path", flags.trusted_subpath,
                 "Spec file or folder inside --policies-ref's commit (default: the spec's --path, or -c)")
      ->type_name("PATH")
      ->group("Trusted policies")
      ->needs(ref);
  path->excludes(ref);
}

Result<spec::Spec, std::string> effective_policies(const spec::Spec& spec, const PolicyFlags& flags,
                                                   std::vector<planner::Note>* notes) {
  if (!flags.trusted()) return spec;
  spec::LoadResult trusted;
  std::string from;
  if (!flags.trusted_path.empty()) {
    trusted = spec::load_path(flags.trusted_path);
    from = flags.trusted_path;
  } else {
    // Defaults follow the spec: the same repository and path, at another commit.
    const bool spec_from_git = spec.origin.commit.has_value();
    const std::string repo = !flags.trusted_repo.empty() ? flags.trusted_repo
                             : spec_from_git             ? spec.origin.source
                                                         : std::string(".");
    const std::string path = !flags.trusted_subpath.empty() ? flags.trusted_subpath
                             : spec_from_git                ? spec.origin.path
                                                            : spec.origin.source;
    trusted = spec::load_git(spec::GitSource{repo, flags.trusted_ref, path, {}});
    from = flags.trusted_ref + (path.empty() ? "" : ":" + path);
  }
  std::string problems;
  if (trusted.spec) {
    for (auto& d : policies::check(*trusted.spec)) trusted.diagnostics.add(std::move(d));
  }
  if (!trusted.spec || trusted.diagnostics.has_errors()) {
    for (const auto& d : trusted.diagnostics.sorted()) {
      if (d.severity == spec::Severity::error) problems += "\n  " + spec::format_text(d);
    }
    return fail("cannot use the trusted policies from " + from + ":" + problems +
                "\n  hint: --policies/--policies-ref must name a valid spec (its policies: are used); fix it "
                "there, or check the ref and path");
  }
  auto merged = policies::merge_trusted(trusted.spec->policies, spec.policies, from);
  spec::Spec effective = spec;
  effective.policies = std::move(merged.effective);
  for (const auto& c : merged.changes) {
    notes->push_back(planner::Note{
        c.kind == policies::PolicyChange::Kind::added ? planner::Severity::info : planner::Severity::warning,
        "", "", "policy " + c.rule, c.message});
  }
  return effective;
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
  auto effective = effective_policies(spec, flags, &plan.diagnostics);
  if (!effective) {
    std::cerr << command << ": " << effective.error() << "\n";
    *exit_code = kExitError;
    return std::nullopt;
  }
  Gate gate;
  std::set<std::string> seen;
  for (const auto& rule : flags.overrides) {
    if (seen.insert(rule).second) gate.overrides.push_back({rule, flags.reason});
  }
  plan.policy_results = policies::evaluate(plan, *effective, states);
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
    // Resources and messages quote names read from the clusters: printed escaped, like every plan.
    std::cerr << "  " << r.level << " " << r.rule
              << (r.resource.empty() ? "" : " on " + planner::escape_text(r.resource)) << ": "
              << planner::escape_text(r.message) << "\n";
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

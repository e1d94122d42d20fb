// Guardrails judged on a Plan value (docs/policies.md). Pure: no Kafka, no clock, no I/O.
//
// The spec's `policies:` list names built-in rules, each with a level and parameters. evaluate() runs
// every listed rule over the plan (and the observed clusters the plan was made from, for rules that look
// at live state such as ACLs) and returns one PolicyResult per (rule, resource) it judged: failed results
// for each violation, and one passed result per rule that found nothing. judge() then decides, given
// the operator's overrides, whether the plan may proceed.
//
// A rule that cannot know whether the plan complies (a replication factor left to the broker's default,
// a config nobody observed, ACLs that could not be read) fails, and its message says what it could not
// know and how to make it knowable: a guardrail that passes when it cannot see is no guardrail.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/result.h"
#include "planner/cluster_state.h"
#include "planner/plan.h"
#include "spec/diagnostics.h"
#include "spec/spec.h"

namespace mirror::policies {

// Problems with the parameters of one rule (unknown key, missing or malformed value), each at the
// parameter's place in the spec (file:line:col) with a hint. Empty when the rule can be evaluated.
// Layering keeps spec/ ignorant of the rules, so whoever loads a spec for a command adds these to its
// diagnostics (cmd/spec_options.cpp does, for every command).
std::vector<spec::Diagnostic> check_params(const spec::PolicyRule& rule);
// check_params of every rule of the spec, in spec order.
std::vector<spec::Diagnostic> check(const spec::Spec& spec);

// `--override-policy RULE --reason TEXT`: lets a soft-mandatory rule's failures through.
struct Override {
  std::string rule;
  std::string reason;
};

// Every rule of spec.policies over the plan; deterministic order (rule order in the spec, then resource).
// `states` are the observed clusters the plan was made from (by alias): the target's ACLs and, from its
// topics' configs, its broker defaults. A rule that needs what `states` lacks fails with "cannot verify".
// A rule whose parameters are invalid (check_params) gives one failed result saying so: never skipped.
std::vector<planner::PolicyResult> evaluate(const planner::Plan& plan, const spec::Spec& spec,
                                            const std::map<std::string, planner::ClusterState>& states);

struct Verdict {
  std::vector<planner::PolicyResult> blocking;    // failed hard-mandatory, and soft-mandatory not overridden
  std::vector<planner::PolicyResult> overridden;  // failed soft-mandatory let through by an override
  std::vector<planner::PolicyResult> advisories;  // failed advisory (reported only)
  // Every result given to judge(), in the same order, with the overridden ones marked (`overridden`,
  // `override_reason`): put these in the plan so that every rendering shows the override.
  std::vector<planner::PolicyResult> results;
  bool blocked() const { return !blocking.empty(); }
};

// Decides from evaluate()'s results. An override names a rule; overriding a hard-mandatory rule, or a
// rule that did not fail, is an error the caller reports (usage mistakes must not pass silently).
// Errors: an override without a reason; a rule the spec does not list; a rule with no failed result;
// a rule whose failures are all hard-mandatory (cannot be overridden) or all advisory (nothing blocks).
Result<Verdict, std::string> judge(const std::vector<planner::PolicyResult>& results,
                                   const std::vector<Override>& overrides);

}  // namespace mirror::policies

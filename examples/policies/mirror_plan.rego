# Organisation rules for mirror plans, beyond mirror's built-in policies (docs/policies.md), for OPA or
# Conftest. Input: the JSON plan (`mirror plan --format json`, or a file saved with --out), described in
# docs/plan-format.md. Every `deny` message names the resource and says what to do.
#
#   opa eval --fail-defined -d mirror_plan.rego -i plan.json 'data.mirror.plan.deny[_]'
#   conftest test --policy examples/policies --namespace mirror.plan plan.json
package mirror.plan

import rego.v1

# Consumer groups whose offsets mirror must never write: the payments team moves them by hand, following
# their failover runbook. A flow author may forget `groups.exclude`; this catches it in CI.
hand_moved_groups := [`^payments-`]

# A failed soft-mandatory check let through with --override-policy must cite the change ticket that
# approved it, so the audit trail leads somewhere.
ticket := `\bCHG-[0-9]+\b`

# This policy reads format_version "1"; anything else must be looked at, not silently passed.
deny contains msg if {
	input.format_version != "1"
	msg := sprintf("plan format_version %v is not the one this policy reads (\"1\"): review the policy against docs/plan-format.md", [input.format_version])
}

deny contains msg if {
	some action in input.actions
	action.kind == "sync_group_offsets"
	some pattern in hand_moved_groups
	regex.match(pattern, action.resource)
	msg := sprintf("%s:%s: mirror would write the offsets of consumer group %s (flow %s), which the payments team moves by hand; add \"payments-.*\" to the flow's groups.exclude", [action.cluster, action.resource, action.resource, action.flow])
}

deny contains msg if {
	some result in input.policy_results
	result.overridden == true
	not regex.match(ticket, result.override_reason)
	msg := sprintf("policy %s was overridden with reason %q, which cites no change ticket; run again with --override-policy %s --reason \"CHG-<number>: why\"", [result.rule, result.override_reason, result.rule])
}

# Unit tests of mirror_plan.rego on small hand-written plans (`opa test`, or `conftest verify`). The
# whole sample plans in testdata/ are checked by run-tests.sh.
package mirror.plan_test

import rego.v1

import data.mirror.plan

group_write(group) := {
	"kind": "sync_group_offsets", "flow": "a-to-b", "cluster": "B", "resource": group,
	"before": {"state": "Empty", "members": 0, "offsets": []},
	"after": {"offsets": [{"topic": "A.orders", "partition": 0, "offset": 1042, "source_topic": "orders", "source_offset": 42}]},
	"reason": "",
}

overridden(reason) := {
	"rule": "max-actions", "level": "soft-mandatory", "resource": "", "message": "too many actions",
	"passed": false, "overridden": true, "override_reason": reason,
}

a_plan(actions, results) := {"format_version": "1", "actions": actions, "policy_results": results}

test_other_groups_may_be_written if {
	count(plan.deny) == 0 with input as a_plan([group_write("billing"), group_write("my-payments-report")], [])
}

test_payments_groups_are_denied if {
	plan.deny == {"B:payments-settlement: mirror would write the offsets of consumer group payments-settlement (flow a-to-b), which the payments team moves by hand; add \"payments-.*\" to the flow's groups.exclude"} with input as a_plan([group_write("payments-settlement")], [])
}

test_override_with_a_ticket_passes if {
	count(plan.deny) == 0 with input as a_plan([], [overridden("CHG-1234: approved by the CAB")])
}

test_override_without_a_ticket_is_denied if {
	some msg in plan.deny with input as a_plan([], [overridden("urgent")])
	contains(msg, "policy max-actions was overridden with reason \"urgent\", which cites no change ticket")
}

test_not_overridden_failures_are_mirrors_business if {
	# A failed check that was not overridden blocks in mirror itself (exit 3); this policy adds nothing.
	result := object.union(overridden(""), {"overridden": false})
	count(plan.deny) == 0 with input as a_plan([], [result])
}

test_plans_saved_before_overrides_were_rendered if {
	# No "overridden" field at all: nothing to check.
	result := object.remove(overridden(""), ["overridden", "override_reason"])
	count(plan.deny) == 0 with input as a_plan([], [result])
}

test_an_unknown_format_is_denied if {
	some msg in plan.deny with input as {"format_version": "2", "actions": [], "policy_results": []}
	startswith(msg, "plan format_version 2 is not the one this policy reads")
}

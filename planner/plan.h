// The plan: a plain value saying what must change so the clusters match the spec. Built by the pure
// make_plan(); rendered as text, JSON and markdown from this one value; judged by policies; executed
// by apply. Mirrors Terraform's plans: it records what it was built from (spec, commit, fingerprint of
// the observed resources it touches) so a stale plan can be refused.
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "planner/cluster_state.h"
#include "planner/group_sync.h"
#include "spec/spec.h"

namespace mirror::planner {

using Json = nlohmann::ordered_json;

// Closed set, in apply order (design.md section 4).
enum class ActionKind {
  create_internal_topic,
  create_topic,
  create_partitions,
  alter_topic_configs,
  create_acl,
  delete_acl,
  delete_topic,
  sync_group_offsets,
  start_flow,
  update_flow,
  retire_flow,
};
const char* action_kind_name(ActionKind k);
std::optional<ActionKind> action_kind_from_name(std::string_view name);

// The diff symbol of an action: + create, ~ update, - delete.
enum class Change { create, update, remove };
Change change_of(ActionKind k);
char change_symbol(Change c);

struct Action {
  ActionKind kind = ActionKind::create_topic;
  std::string flow;      // the flow that wants it ("" for cluster-wide resources)
  std::string cluster;   // alias of the cluster that changes
  std::string resource;  // topic name, ACL description, group id or flow name
  Json before;           // the observed value (null when absent)
  Json after;            // the desired value (null when it goes away)
  std::string reason;    // for people only: apply never reads it
};

struct Summary {
  int create = 0;
  int update = 0;
  int remove = 0;  // "delete" in JSON
  int no_op = 0;   // resources checked and already as desired
};

enum class Severity { info, warning, error };

// Something a reviewer should know that is not an action: drift that needs --allow-delete, a target
// topic with more partitions than its source, ACL sync skipped for lack of an authorizer, ...
struct Note {
  Severity severity = Severity::warning;
  std::string flow;
  std::string cluster;
  std::string resource;
  std::string message;
};

// One judgement of a policy rule (policies/): a violation, or the rule passing as a whole.
struct PolicyResult {
  std::string rule;
  std::string level;     // advisory, soft-mandatory, hard-mandatory
  std::string resource;  // "B:A.orders", "flow a-to-b", a cluster alias, or "" for the whole plan
  std::string message;
  bool passed = true;
  bool overridden = false;      // a failed soft-mandatory result let through by --override-policy
  std::string override_reason;  // its --reason
};

// A flow recorded in a target's state that this spec does not manage (docs/state.md, "Ownership"):
// recorded by another spec, or by no spec this one knows of (no owner recorded, or this spec's own flow
// that it no longer declares) and neither declared, adopted nor retired here. Nothing it recorded is
// ever changed or deleted by this spec's plans. JSON "not_managed".
struct UnmanagedFlow {
  std::string cluster;  // the target whose state records it
  std::string flow;
  std::string owner;  // the spec that recorded it; "" when none is recorded
  int topics = 0;     // the resources it recorded (left alone)
  int acls = 0;
  auto operator<=>(const UnmanagedFlow&) const = default;
};

struct SpecRef {
  std::string source;
  std::optional<std::string> commit;
  std::string path;
  std::string content_hash;
};

struct Plan {
  std::string format_version = "1";
  SpecRef spec;
  std::string fingerprint;  // plan_fingerprint(): sha256 over the spec reference and every action in full
  std::vector<Action> actions;
  Summary summary;
  std::vector<PolicyResult> policy_results;
  std::vector<Note> diagnostics;
  // Every consumer group a flow selects, with its offsets on both sides, written or not (JSON
  // "group_offsets"); the writes themselves are sync_group_offsets actions.
  std::vector<GroupReport> groups;
  // Flows recorded in a target that this spec does not manage, sorted by cluster and flow.
  std::vector<UnmanagedFlow> not_managed;
  bool has_changes() const { return !actions.empty(); }
};

struct PlanOptions {
  bool allow_delete = false;  // include delete actions for orphans mirror created
};

// Names of mirror's internal topics (docs/state.md).
inline constexpr const char* kStateTopic = "mirror.state.internal";
std::string checkpoints_topic(const spec::Flow& flow);  // "<source>.checkpoints.internal" (MM2's name)

// A flow's revision: changes whenever anything that affects how the flow runs changes.
std::string flow_revision(const spec::Flow& flow);

// The JSON form of an ACL in plans and in mirror's state (and back; nullopt when a field is missing).
Json acl_json(const Acl& a);
std::optional<Acl> acl_from_json(const Json& j);

// sha256 (hex) over the spec reference (content hash, commit) and every action in full: kind, flow,
// cluster, resource, before and after (not the reason, which is for people only). make_plan sets
// Plan::fingerprint to it; apply recomputes it over a saved plan's actions, so a plan file edited after
// mirror wrote it is told apart from one mirror made (an edit that also recomputes the fingerprint is
// caught by apply's full comparison with a fresh plan).
std::string plan_fingerprint(const Plan& plan);

// Pure: spec + observed states (by alias; every cluster a flow names must be present) -> plan.
Plan make_plan(const spec::Spec& spec, const std::map<std::string, ClusterState>& states,
               const PlanOptions& options = {});

}  // namespace mirror::planner

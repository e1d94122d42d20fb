// Consumer-group offsets of one flow: what each selected source group has committed on mirrored
// topics, where that is on the target (exactly, through the engine's offset map), and what mirror may
// write to the target group. Pure: the same function serves `mirror plan`, `mirror apply` and the
// engine's continuous sync. The rules and their reasons are in docs/offsets.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "planner/cluster_state.h"
#include "spec/spec.h"

namespace mirror::planner {

// What happens to one partition of a group.
enum class GroupDecision {
  write,        // the target group is behind (or absent): move it to the translated offset
  in_sync,      // the target group is already at the translated offset
  keep_ahead,   // the target group is ahead of the translation: never moved backwards
  rewound,      // the source group itself moved back since the last checkpoint: follow it (a write)
  not_yet,      // the committed offset is beyond what has been mirrored: wait, never guess
  before_start  // the committed offset is before anything mirrored (or trimmed): no equivalent
};
const char* group_decision_name(GroupDecision d);

struct GroupPartition {
  std::string topic;  // source topic
  int32_t partition = 0;
  int64_t source_offset = -1;            // committed on the source
  std::optional<int64_t> translated;     // exact target offset, when there is one
  std::string target_topic;              // the mirrored topic's name on the target
  std::optional<int64_t> target_offset;  // the target group's committed offset now
  GroupDecision decision = GroupDecision::not_yet;
  std::string detail;  // for people: why (e.g. "mirrored up to source offset 1200")
};

// Whether mirror may write to the group on the target at all.
enum class GroupStatus {
  sync,            // some partitions are written
  in_sync,         // nothing to write
  skipped_active,  // the target group has members: mirror never writes to a group in use
};
const char* group_status_name(GroupStatus s);

struct GroupReport {
  std::string flow;
  std::string group;
  std::string source;  // cluster aliases
  std::string target;
  std::string target_state;  // "absent", or Kafka's state (Empty, Stable, ...)
  int target_members = 0;
  GroupStatus status = GroupStatus::in_sync;
  std::string reason;
  std::vector<GroupPartition> partitions;  // sorted by (topic, partition)

  bool writes() const { return status == GroupStatus::sync; }
};

// True when a group in this state with this many members may be written by mirror: nobody consumes it
// on the target (Kafka accepts an admin offset commit only then, too).
bool group_writable(const std::string& state, int members);

// Every group the flow selects on the source (in `src.groups`) with an offset on a topic the flow
// replicates, judged against the target group (in `dst.groups`), the flow's offset maps and the last
// checkpoints (both in `dst`). Sorted by group. Flows with groups.sync_offsets off still get reports
// (plan shows them) but never status sync.
std::vector<GroupReport> group_reports(const spec::Flow& flow, const ClusterState& src,
                                       const ClusterState& dst);

// Failback: the reverse. Every group the flow selects that committed offsets on the target's mirrored
// topics (in `dst.groups`) is translated back to source offsets (translate_back of the flow's maps) and
// judged against the same group on the source (`src.groups`): the same decisions and statuses, with
// "source" and "target" exchanged in GroupPartition (`source_offset` is the group's offset on the target
// cluster, `translated` the source offset, `target_offset` the source group's current offset).
std::vector<GroupReport> group_reports_back(const spec::Flow& flow, const ClusterState& src,
                                            const ClusterState& dst);

}  // namespace mirror::planner

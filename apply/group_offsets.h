// Writing translated consumer-group offsets to a target cluster, safely. Used by `mirror apply` (the
// plan's sync_group_offsets actions), the engine's continuous sync and `mirror failover`.
//
// Safety: immediately before writing, the group is described again; a group with members (or in any
// state but Empty/Dead) is never written. Kafka refuses an admin offset commit to a group with members
// too (GROUP_NOT_EMPTY / UNKNOWN_MEMBER_ID), so a consumer that joins between the check and the write
// still cannot be overwritten. After the write, one MM2-format checkpoint per partition goes to
// <source>.checkpoints.internal, for RemoteClusterUtils.translateOffsets and for the next plan (which
// uses it to tell a source group that rewound from one that did not).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"
#include "kafka/admin.h"
#include "kafka/client_config.h"
#include "planner/plan.h"

namespace mirror::apply {

struct GroupOffset {
  std::string topic;  // target topic
  int32_t partition = 0;
  int64_t offset = 0;         // target offset to commit
  int64_t source_offset = 0;  // the source group's committed offset it translates
};

struct GroupWrite {
  std::string group;
  std::string source;  // source cluster alias (names the checkpoints topic)
  std::vector<GroupOffset> offsets;
  bool checkpoints = true;  // write MM2-format checkpoints after the offsets (not for failback)
};

// The write a sync_group_offsets action asks for (its `after`); an error when the action is malformed.
Result<GroupWrite, std::string> group_write_from_action(const planner::Action& action,
                                                        const std::string& source);

// What happened; `written` false with `skipped` true when the group was in use (not an error of mirror's,
// but nothing was written).
struct GroupWriteResult {
  bool written = false;
  bool skipped = false;
  std::string message;  // why not written, operator-facing
};

// Checks the group is unused, commits the offsets, writes the checkpoints. `target` is the target
// cluster's config (the checkpoint producer is created from it).
GroupWriteResult write_group_offsets(kafka::Admin& admin, const kafka::ClientConfig& target,
                                     const GroupWrite& write);

}  // namespace mirror::apply

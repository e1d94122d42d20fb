// Recreated topics are new topics (issue #16). Kafka gives every topic an id; a topic deleted and
// created again under the same name gets a new one. The engine stores the ids of a partition's source
// and target topics with its progress (state/progress.h); when a topic's id no longer matches, that
// progress is about a topic that is gone. Pure: these say so, in the one line `mirror plan` prints as a
// note and the engine logs.
//
// The lines quote cluster aliases and topic names as they are: a renderer or a log escapes them
// (planner::escape_text).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "offsets/offset_map.h"
#include "planner/cluster_state.h"
#include "spec/spec.h"

namespace mirror::planner {

// True when both ids are known (not "") and differ: the topic was deleted and created again. An
// unknown id (older progress, a topic not observed) is never a change.
bool topic_id_changed(std::string_view stored, std::string_view current);

// "source topic A:orders was recreated (id OLD -> NEW): the engine copies the new topic from its start;
// the target copy B:A.orders keeps the 120 records of the old topic (offsets 0..119) and the new
// topic's records follow them". `old_maps` are the offset maps stored for the old topic's partitions
// (by partition): the records and target offsets they hold are what the target keeps. Unless the only
// map is partition 0's, partitions are named: "(partition 0: offsets 0..99, partition 1: offsets 0..19)",
// at most 3 listed, then "and N more partitions".
std::string source_recreated_reason(const spec::Flow& flow, std::string_view source_topic,
                                    std::string_view target_topic, std::string_view old_id,
                                    std::string_view new_id,
                                    const std::map<int32_t, offsets::PartitionOffsetMap>& old_maps);

// "target topic B:A.orders was deleted and recreated (id OLD -> NEW) outside mirror: the engine copies
// the source again from its start into it".
std::string target_recreated_reason(const spec::Flow& flow, std::string_view target_topic,
                                    std::string_view old_id, std::string_view new_id);

struct TopicRecreation {
  enum class Side { source, target };
  Side side = Side::source;
  std::string cluster;  // alias of the cluster whose topic was recreated (flow.source or flow.target)
  std::string topic;    // its name there
  std::string old_id;   // stored with the engine's progress
  std::string new_id;   // the topic's id now
  std::vector<int32_t> partitions;  // the source partitions whose stored progress names old_id
  std::string reason;               // source_recreated_reason or target_recreated_reason
  auto operator<=>(const TopicRecreation&) const = default;
};

// Every recreated topic of `flow`: dst.stored_topic_ids[flow.name] (with dst.offset_maps for what the
// target keeps) compared with the ids of src's and dst's topics now. One entry per topic and old id,
// sources first, sorted by topic. A topic that is gone (not recreated) is not listed.
std::vector<TopicRecreation> topic_recreations(const spec::Flow& flow, const ClusterState& src,
                                               const ClusterState& dst);

}  // namespace mirror::planner

// What mirror observed in one cluster: a plain value, built by the observer (observe/) from the live
// cluster or by tests from a builder. The planner reads nothing else.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "offsets/offset_map.h"

namespace mirror::planner {

// Where a topic config's value comes from (Kafka's DescribeConfigs "source").
enum class ConfigSource {
  dynamic_topic,
  dynamic_broker,
  dynamic_default_broker,
  static_broker,
  default_config,
  other
};

struct ConfigValue {
  std::optional<std::string> value;  // nullopt: hidden (sensitive) or unset
  ConfigSource source = ConfigSource::default_config;
  bool read_only = false;
  bool sensitive = false;
  auto operator<=>(const ConfigValue&) const = default;
};

struct TopicState {
  std::string name;
  int partitions = 0;
  int replication_factor = 0;
  std::map<std::string, ConfigValue> configs;  // empty when configs were not observed
  // partition -> (earliest, latest) offsets; observed for topics a flow replicates (and their targets)
  std::map<int32_t, std::pair<int64_t, int64_t>> watermarks;
  // Kafka's id of the topic as it prints it (22 characters of URL-safe base64): a topic deleted and
  // created again under the same name has a new one. "" when not observed; observed for the same
  // topics as the watermarks.
  std::string id;
  auto operator<=>(const TopicState&) const = default;
};

// A Kafka ACL binding, as strings (the planner does not need the adapter's enums).
struct Acl {
  std::string resource_type;  // TOPIC, GROUP, CLUSTER, TRANSACTIONAL_ID
  std::string resource_name;
  std::string pattern_type;  // LITERAL, PREFIXED
  std::string principal;     // User:alice
  std::string host;          // *
  std::string operation;     // READ, WRITE, ALL, ...
  std::string permission;    // ALLOW, DENY
  auto operator<=>(const Acl&) const = default;
  std::string str() const;  // "ALLOW User:alice READ on TOPIC A.orders (LITERAL, host *)"
};

struct GroupState {
  std::string id;
  std::string state;  // Empty, Stable, ... ("" if unknown)
  int members = 0;
  std::map<std::pair<std::string, int32_t>, int64_t> offsets;  // (topic, partition) -> committed offset
  auto operator<=>(const GroupState&) const = default;
};

// What mirror recorded in the target cluster when it last applied a flow (see docs/state.md).
struct AppliedFlow {
  std::string revision;  // content hash of the flow's desired state at apply time
  std::string spec_commit;
  std::string failed_over_at;  // `mirror failover` stopped the flow ("" when not)
  std::string failed_over_by;
  // The spec that recorded it (its `name:`); "" when none is recorded (an unnamed spec, or a mirror
  // before owners). Decides whether a spec manages the flow (docs/state.md, "Ownership").
  std::string owner;
  std::vector<std::string> managed_topics;  // the target topics this flow created (sorted)
  std::vector<Acl> managed_acls;            // the target ACLs this flow created (sorted)
  auto operator<=>(const AppliedFlow&) const = default;
};

// The latest checkpoint of a group partition in <source>.checkpoints.internal (MM2's format, written by
// mirror or by MM2): the source group's offset then, and where it was translated to.
using CheckpointKey = std::tuple<std::string, std::string, std::string, int32_t>;  // source, group,
                                                                                   // target topic, partition
struct CheckpointState {
  int64_t upstream = -1;
  int64_t downstream = -1;
  auto operator<=>(const CheckpointState&) const = default;
};

// The topic ids the engine stored with its progress of one source partition (state/progress.h), and
// the target topic it copies it to. An id is "" when unknown (progress of engines before issue #16).
struct StoredTopicIds {
  std::string target_topic;
  std::string source_topic_id;
  std::string target_topic_id;
  auto operator<=>(const StoredTopicIds&) const = default;
};

// A partition the engine reported paused by an error of its own (its last status, state/progress.h).
struct PausedPartitionState {
  std::string topic;  // the source topic
  int32_t partition = 0;
  std::string reason;  // the error's kind
  std::string error;   // the latest error, one line
  std::string since;   // UTC
  auto operator<=>(const PausedPartitionState&) const = default;
};

struct ClusterState {
  std::string alias;
  std::string cluster_id;
  std::map<std::string, TopicState> topics;  // every topic, internal ones included
  // One broker's configs: the defaults a topic gets without a value of its own (default.replication.factor,
  // min.insync.replicas, log.retention.*). Empty when not readable (no DESCRIBE_CONFIGS on the cluster).
  std::map<std::string, ConfigValue> broker_configs;
  bool acls_observed = false;  // false: no authorizer, or ACLs not asked for
  std::vector<Acl> acls;       // sorted
  std::map<std::string, GroupState> groups;
  std::map<std::string, AppliedFlow> applied;  // flow name -> what was applied (target clusters)
  // Target clusters: the engine's offset map per flow and source (topic, partition), from
  // mirror.progress.internal, and the latest checkpoints.
  std::map<std::string, std::map<std::pair<std::string, int32_t>, offsets::PartitionOffsetMap>> offset_maps;
  std::map<CheckpointKey, CheckpointState> checkpoints;
  // Target clusters, beside offset_maps and from the same records: the topic ids the engine stored,
  // per flow and source (topic, partition) (planner/topic_recreation.h compares them with the topics').
  std::map<std::string, std::map<std::pair<std::string, int32_t>, StoredTopicIds>> stored_topic_ids;
  // Target clusters: per flow, the partitions the engine's last status reported paused.
  std::map<std::string, std::vector<PausedPartitionState>> paused_partitions;
  // Resources mirror created (from the applied state, the union over every flow's record): only these may
  // ever be deleted, and only when no flow that the spec does not manage recorded them (make_plan).
  std::vector<std::string> managed_topics;
  std::vector<Acl> managed_acls;
};

const char* config_source_name(ConfigSource s);

}  // namespace mirror::planner

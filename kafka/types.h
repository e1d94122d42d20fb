// Plain value types that cross the kafka adapter's boundary. Nothing here depends on librdkafka.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "kafka/error.h"

namespace mirror::kafka {

struct TopicPartition {
  std::string topic;
  int32_t partition = 0;
  auto operator<=>(const TopicPartition&) const = default;
};

struct TopicPartitionOffset {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
  std::string metadata;  // group offset metadata (empty when none)
  auto operator<=>(const TopicPartitionOffset&) const = default;
};

// The outcome of one resource in a batched admin request.
struct ResourceResult {
  std::string name;
  std::optional<Error> error;
  bool ok() const { return !error.has_value(); }
};

struct PartitionResult {
  TopicPartition tp;
  int64_t offset = 0;
  std::optional<Error> error;
  bool ok() const { return !error.has_value(); }
};

// ---- cluster and topics ----
// A topic id as Kafka prints it (kafka-topics --describe "TopicId:"): the 16 bytes, most significant
// half first, in URL-safe base64 without padding (22 characters).
std::string topic_id_string(uint64_t most_significant, uint64_t least_significant);

struct BrokerInfo {
  int32_t id = 0;
  std::string host;
  int port = 0;
};

struct ClusterInfo {
  std::string cluster_id;
  int32_t controller_id = -1;
  std::vector<BrokerInfo> brokers;
};

struct PartitionInfo {
  int32_t id = 0;
  int32_t leader = -1;
  std::vector<int32_t> replicas;
  std::vector<int32_t> isr;
};

struct TopicInfo {
  std::string name;
  std::vector<PartitionInfo> partitions;  // sorted by id
  int replication_factor() const {
    return partitions.empty() ? 0 : static_cast<int>(partitions.front().replicas.size());
  }
};

struct NewTopic {
  std::string name;
  int partitions = 1;
  int replication_factor = -1;  // -1: the broker's default.replication.factor
  std::map<std::string, std::string> configs;
};

struct NewPartitions {
  std::string topic;
  int total_count = 0;  // the new total, not the increment
};

// ---- configs ----
enum class ConfigSource {
  unknown,
  dynamic_topic,           // set on this topic
  dynamic_broker,          // dynamic per-broker setting
  dynamic_default_broker,  // dynamic cluster-wide broker default
  static_broker,           // server.properties
  default_config,          // Kafka's built-in default
  dynamic_broker_logger,
  group_config,
};
const char* config_source_name(ConfigSource s);

struct ConfigEntry {
  std::string name;
  std::optional<std::string> value;  // nullopt when the broker hides it (sensitive) or it is unset
  ConfigSource source = ConfigSource::unknown;
  bool is_default = false;
  bool read_only = false;
  bool sensitive = false;
};

struct TopicConfig {
  std::string topic;
  std::vector<ConfigEntry> entries;  // sorted by name
  std::optional<Error> error;
};

enum class ConfigOp { set, remove };  // remove = delete the override so the default applies

struct ConfigChange {
  ConfigOp op = ConfigOp::set;
  std::string name;
  std::string value;  // ignored for remove
};

struct TopicConfigAlteration {
  std::string topic;
  std::vector<ConfigChange> changes;
};

// ---- ACLs ----
enum class AclResourceType { any, topic, group, cluster, transactional_id, delegation_token, user };
enum class AclPatternType { any, match, literal, prefixed };
enum class AclOperation {
  any,
  all,
  read,
  write,
  create,
  remove,  // Kafka's DELETE
  alter,
  describe,
  cluster_action,
  describe_configs,
  alter_configs,
  idempotent_write,
};
enum class AclPermission { any, deny, allow };

const char* acl_resource_type_name(AclResourceType t);
const char* acl_pattern_type_name(AclPatternType t);
const char* acl_operation_name(AclOperation o);
const char* acl_permission_name(AclPermission p);

struct AclBinding {
  AclResourceType resource_type = AclResourceType::topic;
  std::string resource_name;
  AclPatternType pattern_type = AclPatternType::literal;
  std::string principal;  // "User:alice"
  std::string host = "*";
  AclOperation operation = AclOperation::read;
  AclPermission permission = AclPermission::allow;
  auto operator<=>(const AclBinding&) const = default;
};

// Matches bindings; nullopt / `any` fields match everything.
struct AclFilter {
  AclResourceType resource_type = AclResourceType::any;
  std::optional<std::string> resource_name;
  AclPatternType pattern_type = AclPatternType::any;
  std::optional<std::string> principal;
  std::optional<std::string> host;
  AclOperation operation = AclOperation::any;
  AclPermission permission = AclPermission::any;
};

// ---- consumer groups ----
enum class GroupState { unknown, preparing_rebalance, completing_rebalance, stable, dead, empty };
const char* group_state_name(GroupState s);

struct GroupListing {
  std::string group_id;
  GroupState state = GroupState::unknown;
  bool is_simple = false;  // no members ever joined (e.g. offsets committed by a tool)
};

struct GroupDescription {
  std::string group_id;
  GroupState state = GroupState::unknown;
  std::string protocol_type;
  int member_count = 0;
  std::optional<Error> error;
};

// ---- offsets ----
enum class OffsetSpec { earliest, latest, timestamp };

struct OffsetQuery {
  TopicPartition tp;
  OffsetSpec spec = OffsetSpec::latest;
  int64_t timestamp_ms = 0;  // for OffsetSpec::timestamp
};

struct ListedOffset {
  TopicPartition tp;
  int64_t offset = -1;  // -1 when no record has a timestamp >= the query's
  int64_t timestamp_ms = -1;
  std::optional<Error> error;
};

enum class Isolation { read_uncommitted, read_committed };

// ---- records ----
struct Header {
  std::string name;
  std::optional<std::string> value;  // nullopt: a header with a null value
  auto operator<=>(const Header&) const = default;
};

}  // namespace mirror::kafka

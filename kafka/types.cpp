#include "kafka/types.h"

namespace mirror::kafka {

std::string topic_id_string(uint64_t most_significant, uint64_t least_significant) {
  constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  unsigned char bytes[16];
  for (int i = 0; i < 8; ++i) {
    bytes[i] = static_cast<unsigned char>(most_significant >> (56 - 8 * i));
    bytes[8 + i] = static_cast<unsigned char>(least_significant >> (56 - 8 * i));
  }
  std::string out;
  out.reserve(22);
  for (size_t i = 0; i < 16; i += 3) {
    const size_t left = 16 - i;
    uint32_t group = static_cast<uint32_t>(bytes[i]) << 16;
    if (left > 1) group |= static_cast<uint32_t>(bytes[i + 1]) << 8;
    if (left > 2) group |= bytes[i + 2];
    out += kAlphabet[(group >> 18) & 63];
    out += kAlphabet[(group >> 12) & 63];
    if (left > 1) out += kAlphabet[(group >> 6) & 63];
    if (left > 2) out += kAlphabet[group & 63];
  }
  return out;
}

const char* config_source_name(ConfigSource s) {
  switch (s) {
    case ConfigSource::unknown: return "unknown";
    case ConfigSource::dynamic_topic: return "dynamic_topic";
    case ConfigSource::dynamic_broker: return "dynamic_broker";
    case ConfigSource::dynamic_default_broker: return "dynamic_default_broker";
    case ConfigSource::static_broker: return "static_broker";
    case ConfigSource::default_config: return "default";
    case ConfigSource::dynamic_broker_logger: return "dynamic_broker_logger";
    case ConfigSource::group_config: return "group";
  }
  return "unknown";
}

const char* acl_resource_type_name(AclResourceType t) {
  switch (t) {
    case AclResourceType::any: return "ANY";
    case AclResourceType::topic: return "TOPIC";
    case AclResourceType::group: return "GROUP";
    case AclResourceType::cluster: return "CLUSTER";
    case AclResourceType::transactional_id: return "TRANSACTIONAL_ID";
    case AclResourceType::delegation_token: return "DELEGATION_TOKEN";
    case AclResourceType::user: return "USER";
  }
  return "UNKNOWN";
}

const char* acl_pattern_type_name(AclPatternType t) {
  switch (t) {
    case AclPatternType::any: return "ANY";
    case AclPatternType::match: return "MATCH";
    case AclPatternType::literal: return "LITERAL";
    case AclPatternType::prefixed: return "PREFIXED";
  }
  return "UNKNOWN";
}

const char* acl_operation_name(AclOperation o) {
  switch (o) {
    case AclOperation::any: return "ANY";
    case AclOperation::all: return "ALL";
    case AclOperation::read: return "READ";
    case AclOperation::write: return "WRITE";
    case AclOperation::create: return "CREATE";
    case AclOperation::remove: return "DELETE";
    case AclOperation::alter: return "ALTER";
    case AclOperation::describe: return "DESCRIBE";
    case AclOperation::cluster_action: return "CLUSTER_ACTION";
    case AclOperation::describe_configs: return "DESCRIBE_CONFIGS";
    case AclOperation::alter_configs: return "ALTER_CONFIGS";
    case AclOperation::idempotent_write: return "IDEMPOTENT_WRITE";
  }
  return "UNKNOWN";
}

const char* acl_permission_name(AclPermission p) {
  switch (p) {
    case AclPermission::any: return "ANY";
    case AclPermission::deny: return "DENY";
    case AclPermission::allow: return "ALLOW";
  }
  return "UNKNOWN";
}

const char* group_state_name(GroupState s) {
  switch (s) {
    case GroupState::unknown: return "Unknown";
    case GroupState::preparing_rebalance: return "PreparingRebalance";
    case GroupState::completing_rebalance: return "CompletingRebalance";
    case GroupState::stable: return "Stable";
    case GroupState::dead: return "Dead";
    case GroupState::empty: return "Empty";
  }
  return "Unknown";
}

}  // namespace mirror::kafka

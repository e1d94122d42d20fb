#include "kafka/admin.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <map>
#include <set>
#include <thread>

#include "kafka/internal.h"

namespace mirror::kafka {

using namespace detail;  // NOLINT: the adapter's own internals

namespace {

constexpr const char* str_or_empty(const char* s) { return s ? s : ""; }

// A per-call reply queue; every admin call waits on its own.
QueueHandle new_queue(const Client& c) { return QueueHandle(rd_kafka_queue_new(c.get())); }

// Runs one admin request: builds options (adjusted by `configure`, which may fail), lets `start`
// enqueue the request on a reply queue of its own, waits for the reply and checks its request-level
// error.
std::optional<Error> no_configure(rd_kafka_AdminOptions_t*) { return std::nullopt; }

template <class Start, class Configure = decltype(&no_configure)>
Result<EventHandle> run_admin(const Client& c, rd_kafka_admin_op_t op, std::string_view operation,
                              Start&& start, Configure&& configure = &no_configure) {
  auto opts = c.admin_options(op, operation);
  if (!opts) return fail(std::move(opts).error());
  if (auto e = configure(opts->get())) return fail(std::move(*e));
  QueueHandle q = new_queue(c);
  start(opts->get(), q.get());
  auto ev = c.await(q.get(), operation);
  if (!ev) return fail(std::move(ev).error());
  if (auto e = event_error(c, ev->get(), operation)) return fail(std::move(*e));
  return std::move(*ev);
}

std::vector<ResourceResult> topic_results(const Client& c, const rd_kafka_topic_result_t** res, size_t n,
                                          std::string_view operation) {
  std::vector<ResourceResult> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    out.push_back({rd_kafka_topic_result_name(res[i]),
                   resource_error(c, rd_kafka_topic_result_error(res[i]),
                                  rd_kafka_topic_result_error_string(res[i]), operation)});
  }
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.name < b.name; });
  return out;
}

Error invalid_argument(const Client& c, std::string message, std::string_view operation) {
  return c.error(RD_KAFKA_RESP_ERR__INVALID_ARG, std::move(message), operation);
}

// ---- enum conversions (one table each, both directions) ----
struct ResTypeMap {
  AclResourceType ours;
  rd_kafka_ResourceType_t theirs;
};
constexpr std::array kResTypes{
    ResTypeMap{AclResourceType::any, RD_KAFKA_RESOURCE_ANY},
    ResTypeMap{AclResourceType::topic, RD_KAFKA_RESOURCE_TOPIC},
    ResTypeMap{AclResourceType::group, RD_KAFKA_RESOURCE_GROUP},
    ResTypeMap{AclResourceType::cluster, RD_KAFKA_RESOURCE_BROKER},
    ResTypeMap{AclResourceType::transactional_id, RD_KAFKA_RESOURCE_TRANSACTIONAL_ID},
};
struct PatternMap {
  AclPatternType ours;
  rd_kafka_ResourcePatternType_t theirs;
};
constexpr std::array kPatterns{
    PatternMap{AclPatternType::any, RD_KAFKA_RESOURCE_PATTERN_ANY},
    PatternMap{AclPatternType::match, RD_KAFKA_RESOURCE_PATTERN_MATCH},
    PatternMap{AclPatternType::literal, RD_KAFKA_RESOURCE_PATTERN_LITERAL},
    PatternMap{AclPatternType::prefixed, RD_KAFKA_RESOURCE_PATTERN_PREFIXED},
};
struct OperationMap {
  AclOperation ours;
  rd_kafka_AclOperation_t theirs;
};
constexpr std::array kOperations{
    OperationMap{AclOperation::any, RD_KAFKA_ACL_OPERATION_ANY},
    OperationMap{AclOperation::all, RD_KAFKA_ACL_OPERATION_ALL},
    OperationMap{AclOperation::read, RD_KAFKA_ACL_OPERATION_READ},
    OperationMap{AclOperation::write, RD_KAFKA_ACL_OPERATION_WRITE},
    OperationMap{AclOperation::create, RD_KAFKA_ACL_OPERATION_CREATE},
    OperationMap{AclOperation::remove, RD_KAFKA_ACL_OPERATION_DELETE},
    OperationMap{AclOperation::alter, RD_KAFKA_ACL_OPERATION_ALTER},
    OperationMap{AclOperation::describe, RD_KAFKA_ACL_OPERATION_DESCRIBE},
    OperationMap{AclOperation::cluster_action, RD_KAFKA_ACL_OPERATION_CLUSTER_ACTION},
    OperationMap{AclOperation::describe_configs, RD_KAFKA_ACL_OPERATION_DESCRIBE_CONFIGS},
    OperationMap{AclOperation::alter_configs, RD_KAFKA_ACL_OPERATION_ALTER_CONFIGS},
    OperationMap{AclOperation::idempotent_write, RD_KAFKA_ACL_OPERATION_IDEMPOTENT_WRITE},
};
struct PermissionMap {
  AclPermission ours;
  rd_kafka_AclPermissionType_t theirs;
};
constexpr std::array kPermissions{
    PermissionMap{AclPermission::any, RD_KAFKA_ACL_PERMISSION_TYPE_ANY},
    PermissionMap{AclPermission::deny, RD_KAFKA_ACL_PERMISSION_TYPE_DENY},
    PermissionMap{AclPermission::allow, RD_KAFKA_ACL_PERMISSION_TYPE_ALLOW},
};

template <class Table, class Ours>
auto to_rd(const Table& table, Ours v) {
  for (const auto& row : table) {
    if (row.ours == v) return row.theirs;
  }
  return table.front().theirs;  // every enumerator is in its table; `any` is the safe fallback
}

// Returns nullopt for values we do not model (e.g. a DELEGATION_TOKEN resource from a newer broker).
template <class Table, class Theirs>
auto from_rd(const Table& table, Theirs v) -> std::optional<decltype(table.front().ours)> {
  for (const auto& row : table) {
    if (row.theirs == v) return row.ours;
  }
  return std::nullopt;
}

std::optional<AclBinding> from_rd_binding(const rd_kafka_AclBinding_t* b) {
  auto rt = from_rd(kResTypes, rd_kafka_AclBinding_restype(b));
  auto pt = from_rd(kPatterns, rd_kafka_AclBinding_resource_pattern_type(b));
  auto op = from_rd(kOperations, rd_kafka_AclBinding_operation(b));
  auto perm = from_rd(kPermissions, rd_kafka_AclBinding_permission_type(b));
  if (!rt || !pt || !op || !perm) return std::nullopt;
  return AclBinding{*rt,
                    str_or_empty(rd_kafka_AclBinding_name(b)),
                    *pt,
                    str_or_empty(rd_kafka_AclBinding_principal(b)),
                    str_or_empty(rd_kafka_AclBinding_host(b)),
                    *op,
                    *perm};
}

Result<AclBindingHandle> make_filter(const Client& c, const AclFilter& f, std::string_view operation) {
  std::array<char, 512> errstr{};
  rd_kafka_AclBindingFilter_t* raw = rd_kafka_AclBindingFilter_new(
      to_rd(kResTypes, f.resource_type), f.resource_name ? f.resource_name->c_str() : nullptr,
      to_rd(kPatterns, f.pattern_type), f.principal ? f.principal->c_str() : nullptr,
      f.host ? f.host->c_str() : nullptr, to_rd(kOperations, f.operation), to_rd(kPermissions, f.permission),
      errstr.data(), errstr.size());
  if (!raw) return fail(invalid_argument(c, errstr.data(), operation));
  return AclBindingHandle(raw);
}

GroupState group_state(rd_kafka_consumer_group_state_t s) {
  switch (s) {
    case RD_KAFKA_CONSUMER_GROUP_STATE_PREPARING_REBALANCE: return GroupState::preparing_rebalance;
    case RD_KAFKA_CONSUMER_GROUP_STATE_COMPLETING_REBALANCE: return GroupState::completing_rebalance;
    case RD_KAFKA_CONSUMER_GROUP_STATE_STABLE: return GroupState::stable;
    case RD_KAFKA_CONSUMER_GROUP_STATE_DEAD: return GroupState::dead;
    case RD_KAFKA_CONSUMER_GROUP_STATE_EMPTY: return GroupState::empty;
    default: return GroupState::unknown;
  }
}

ConfigSource config_source(rd_kafka_ConfigSource_t s) {
  switch (s) {
    case RD_KAFKA_CONFIG_SOURCE_DYNAMIC_TOPIC_CONFIG: return ConfigSource::dynamic_topic;
    case RD_KAFKA_CONFIG_SOURCE_DYNAMIC_BROKER_CONFIG: return ConfigSource::dynamic_broker;
    case RD_KAFKA_CONFIG_SOURCE_DYNAMIC_DEFAULT_BROKER_CONFIG: return ConfigSource::dynamic_default_broker;
    case RD_KAFKA_CONFIG_SOURCE_STATIC_BROKER_CONFIG: return ConfigSource::static_broker;
    case RD_KAFKA_CONFIG_SOURCE_DEFAULT_CONFIG: return ConfigSource::default_config;
    case RD_KAFKA_CONFIG_SOURCE_GROUP_CONFIG: return ConfigSource::group_config;
    default: return ConfigSource::unknown;
  }
}

PartitionListHandle partition_list(const std::vector<TopicPartitionOffset>& offsets) {
  PartitionListHandle l(rd_kafka_topic_partition_list_new(static_cast<int>(offsets.size())));
  for (const auto& o : offsets) {
    rd_kafka_topic_partition_t* p = rd_kafka_topic_partition_list_add(l.get(), o.topic.c_str(), o.partition);
    p->offset = o.offset;
    if (!o.metadata.empty()) {
      // librdkafka frees metadata with the list, so it must be malloc'ed.
      p->metadata = malloc(o.metadata.size());
      std::copy(o.metadata.begin(), o.metadata.end(), static_cast<char*>(p->metadata));
      p->metadata_size = o.metadata.size();
    }
  }
  return l;
}

// Group requests go to the group's coordinator, which can move or be loading (after a broker restart):
// librdkafka reports that and does not retry. Retry such transient errors until the client's timeout.
template <class Call>
auto retry_coordinator(const Client& c, Call&& call) -> decltype(call()) {
  auto deadline = std::chrono::steady_clock::now() + c.config().timeout;
  std::chrono::milliseconds backoff{100};
  for (;;) {
    auto r = call();
    if (r.ok() || r.error().code != Errc::retriable ||
        std::chrono::steady_clock::now() + backoff >= deadline || c.config().stop.stop_requested()) {
      return r;
    }
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, std::chrono::milliseconds{1000});
  }
}

}  // namespace

Admin::Admin(std::unique_ptr<Client> client) : client_(std::move(client)) {}
Admin::Admin(Admin&&) noexcept = default;
Admin& Admin::operator=(Admin&&) noexcept = default;
Admin::~Admin() = default;

Result<Admin> Admin::connect(const ClientConfig& config) {
  // A consumer handle with a group.id, never subscribed: librdkafka (up to at least 2.12.1, issue
  // #5040) crashes when an OffsetFetch issued by ListConsumerGroupOffsets is answered with
  // NOT_COORDINATOR on a handle without a consumer group. A consumer that never subscribes or assigns
  // joins no group and fetches nothing.
  Overrides o;
  o.forced = {
      {"group.id", "mirror-" + (config.alias.empty() ? std::string("admin") : config.alias) + "-admin"},
      {"enable.auto.commit", "false"}};
  auto c = Client::create(RD_KAFKA_CONSUMER, config, o, "admin");
  if (!c) return fail(std::move(c).error());
  return Admin(std::make_unique<Client>(std::move(*c)));
}

const ClientConfig& Admin::config() const { return client_->config(); }

Result<ClusterInfo> Admin::describe_cluster() {
  constexpr std::string_view op = "describe cluster";
  auto ev = run_admin(*client_, RD_KAFKA_ADMIN_OP_DESCRIBECLUSTER, op,
                      [&](auto* opts, auto* q) { rd_kafka_DescribeCluster(client_->get(), opts, q); });
  if (!ev) return fail(std::move(ev).error());
  const auto* res = rd_kafka_event_DescribeCluster_result(ev->get());
  ClusterInfo info;
  info.cluster_id = str_or_empty(rd_kafka_DescribeCluster_result_cluster_id(res));
  if (const rd_kafka_Node_t* ctl = rd_kafka_DescribeCluster_result_controller(res)) {
    info.controller_id = rd_kafka_Node_id(ctl);
  }
  size_t n = 0;
  const rd_kafka_Node_t** nodes = rd_kafka_DescribeCluster_result_nodes(res, &n);
  for (size_t i = 0; i < n; ++i) {
    info.brokers.push_back({rd_kafka_Node_id(nodes[i]), str_or_empty(rd_kafka_Node_host(nodes[i])),
                            rd_kafka_Node_port(nodes[i])});
  }
  std::sort(info.brokers.begin(), info.brokers.end(), [](auto& a, auto& b) { return a.id < b.id; });
  return info;
}

Result<std::vector<TopicInfo>> Admin::list_topics() {
  constexpr std::string_view op = "list topics";
  // rd_kafka_metadata blocks and does not return early on an authentication failure or a stop
  // request, so it is called in growing slices with those checks in between.
  const rd_kafka_metadata_t* raw = nullptr;
  const auto deadline = std::chrono::steady_clock::now() + client_->config().timeout;
  std::chrono::milliseconds slice{500};
  for (;;) {
    if (client_->config().stop.stop_requested()) {
      return fail(client_->error(RD_KAFKA_RESP_ERR__DESTROY, "stopped on request", op));
    }
    client_->serve();
    if (auto f = client_->async_failure(op)) return fail(std::move(*f));
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left <= std::chrono::milliseconds::zero()) return fail(client_->timeout_error(op));
    rd_kafka_resp_err_t err =
        rd_kafka_metadata(client_->get(), 1, nullptr, &raw, static_cast<int>(std::min(slice, left).count()));
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) break;
    if (err != RD_KAFKA_RESP_ERR__TIMED_OUT && err != RD_KAFKA_RESP_ERR__TRANSPORT) {
      return fail(client_->error(err, "", op));
    }
    slice = std::min(slice * 2, std::chrono::milliseconds{8000});
  }
  MetadataHandle md(raw);
  std::vector<TopicInfo> topics;
  topics.reserve(static_cast<size_t>(md->topic_cnt));
  for (int i = 0; i < md->topic_cnt; ++i) {
    const rd_kafka_metadata_topic_t& t = md->topics[i];
    if (t.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (classify(t.err) == Errc::authorization) continue;  // not visible to us: not ours to list
      return fail(client_->error(t.err, std::string("topic ") + t.topic, op));
    }
    TopicInfo info{t.topic, {}};
    for (int p = 0; p < t.partition_cnt; ++p) {
      const rd_kafka_metadata_partition_t& mp = t.partitions[p];
      info.partitions.push_back({mp.id, mp.leader,
                                 std::vector<int32_t>(mp.replicas, mp.replicas + mp.replica_cnt),
                                 std::vector<int32_t>(mp.isrs, mp.isrs + mp.isr_cnt)});
    }
    std::sort(info.partitions.begin(), info.partitions.end(), [](auto& a, auto& b) { return a.id < b.id; });
    topics.push_back(std::move(info));
  }
  std::sort(topics.begin(), topics.end(), [](auto& a, auto& b) { return a.name < b.name; });
  return topics;
}

Result<std::map<std::string, std::string>> Admin::topic_ids(const std::vector<std::string>& names) {
  constexpr std::string_view op = "describe topics";
  std::map<std::string, std::string> out;
  // DescribeTopics refuses a collection that names a topic twice.
  std::set<std::string> unique;
  for (const auto& n : names) {
    if (!n.empty()) unique.insert(n);
  }
  if (unique.empty()) return out;
  std::vector<const char*> raw;
  for (const auto& n : unique) raw.push_back(n.c_str());
  TopicCollectionHandle topics(rd_kafka_TopicCollection_of_topic_names(raw.data(), raw.size()));
  auto ev = run_admin(*client_, RD_KAFKA_ADMIN_OP_DESCRIBETOPICS, op, [&](auto* opts, auto* q) {
    rd_kafka_DescribeTopics(client_->get(), topics.get(), opts, q);
  });
  if (!ev) return fail(std::move(ev).error());
  size_t n = 0;
  const auto** res =
      rd_kafka_DescribeTopics_result_topics(rd_kafka_event_DescribeTopics_result(ev->get()), &n);
  for (size_t i = 0; i < n; ++i) {
    const char* name = rd_kafka_TopicDescription_name(res[i]);
    if (!name) continue;
    const rd_kafka_error_t* err = rd_kafka_TopicDescription_error(res[i]);
    const rd_kafka_resp_err_t code = err ? rd_kafka_error_code(err) : RD_KAFKA_RESP_ERR_NO_ERROR;
    if (code == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART || classify(code) == Errc::authorization) {
      continue;  // absent, or not visible to us (as in list_topics)
    }
    if (code != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return fail(client_->error(
          code, std::string("topic ") + name + ": " + str_or_empty(rd_kafka_error_string(err)), op));
    }
    const rd_kafka_Uuid_t* id = rd_kafka_TopicDescription_topic_id(res[i]);
    if (!id) continue;
    const auto most = static_cast<uint64_t>(rd_kafka_Uuid_most_significant_bits(id));
    const auto least = static_cast<uint64_t>(rd_kafka_Uuid_least_significant_bits(id));
    if (most == 0 && least == 0) continue;  // a broker without topic ids (Kafka before 2.8)
    // Not rd_kafka_Uuid_base64str(): it uses the standard alphabet (+ /), Kafka prints URL-safe (- _).
    out[name] = topic_id_string(most, least);
  }
  return out;
}

Result<std::vector<ResourceResult>> Admin::create_topics(const std::vector<NewTopic>& topics) {
  constexpr std::string_view op = "create topics";
  std::vector<NewTopicHandle> owned;
  std::vector<rd_kafka_NewTopic_t*> raw;
  std::array<char, 512> errstr{};
  for (const auto& t : topics) {
    NewTopicHandle nt(rd_kafka_NewTopic_new(t.name.c_str(), t.partitions, t.replication_factor, errstr.data(),
                                            errstr.size()));
    if (!nt) return fail(invalid_argument(*client_, "topic " + t.name + ": " + errstr.data(), op));
    for (const auto& [k, v] : t.configs) {
      if (rd_kafka_NewTopic_set_config(nt.get(), k.c_str(), v.c_str()) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return fail(invalid_argument(*client_, "topic " + t.name + ": config " + k, op));
      }
    }
    raw.push_back(nt.get());
    owned.push_back(std::move(nt));
  }
  auto ev = run_admin(*client_, RD_KAFKA_ADMIN_OP_CREATETOPICS, op, [&](auto* opts, auto* q) {
    rd_kafka_CreateTopics(client_->get(), raw.data(), raw.size(), opts, q);
  });
  if (!ev) return fail(std::move(ev).error());
  size_t n = 0;
  const auto** res = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev->get()), &n);
  return topic_results(*client_, res, n, op);
}

Result<std::vector<ResourceResult>> Admin::delete_topics(const std::vector<std::string>& topics) {
  constexpr std::string_view op = "delete topics";
  std::vector<DeleteTopicHandle> owned;
  std::vector<rd_kafka_DeleteTopic_t*> raw;
  for (const auto& t : topics) {
    owned.emplace_back(rd_kafka_DeleteTopic_new(t.c_str()));
    raw.push_back(owned.back().get());
  }
  auto ev = run_admin(*client_, RD_KAFKA_ADMIN_OP_DELETETOPICS, op, [&](auto* opts, auto* q) {
    rd_kafka_DeleteTopics(client_->get(), raw.data(), raw.size(), opts, q);
  });
  if (!ev) return fail(std::move(ev).error());
  size_t n = 0;
  const auto** res = rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(ev->get()), &n);
  return topic_results(*client_, res, n, op);
}

Result<std::vector<PartitionResult>> Admin::delete_records(const std::vector<TopicPartitionOffset>& before) {
  constexpr std::string_view op = "delete records";
  PartitionListHandle parts(rd_kafka_topic_partition_list_new(static_cast<int>(before.size())));
  for (const auto& b : before) {
    rd_kafka_topic_partition_list_add(parts.get(), b.topic.c_str(), b.partition)->offset = b.offset;
  }
  DeleteRecordsHandle del(rd_kafka_DeleteRecords_new(parts.get()));
  rd_kafka_DeleteRecords_t* raw = del.get();
  auto ev = run_admin(*client_, RD_KAFKA_ADMIN_OP_DELETERECORDS, op,
                      [&](auto* opts, auto* q) { rd_kafka_DeleteRecords(client_->get(), &raw, 1, opts, q); });
  if (!ev) return fail(std::move(ev).error());
  const rd_kafka_topic_partition_list_t* res =
      rd_kafka_DeleteRecords_result_offsets(rd_kafka_event_DeleteRecords_result(ev->get()));
  std::vector<PartitionResult> out;
  for (int i = 0; res && i < res->cnt; ++i) {
    const auto& p = res->elems[i];
    out.push_back({{p.topic, p.partition}, p.offset, resource_error(*client_, p.err, nullptr, op)});
  }
  return out;
}

Result<std::vector<ResourceResult>> Admin::create_partitions(const std::vector<NewPartitions>& requests) {
  constexpr std::string_view op = "create partitions";
  std::vector<NewPartitionsHandle> owned;
  std::vector<rd_kafka_NewPartitions_t*> raw;
  std::array<char, 512> errstr{};
  for (const auto& r : requests) {
    NewPartitionsHandle np(rd_kafka_NewPartitions_new(r.topic.c_str(), static_cast<size_t>(r.total_count),
                                                      errstr.data(), errstr.size()));
    if (!np) return fail(invalid_argument(*client_, "topic " + r.topic + ": " + errstr.data(), op));
    raw.push_back(np.get());
    owned.push_back(std::move(np));
  }
  auto ev = run_admin(*client_, RD_KAFKA_ADMIN_OP_CREATEPARTITIONS, op, [&](auto* opts, auto* q) {
    rd_kafka_CreatePartitions(client_->get(), raw.data(), raw.size(), opts, q);
  });
  if (!ev) return fail(std::move(ev).error());
  size_t n = 0;
  const auto** res =
      rd_kafka_CreatePartitions_result_topics(rd_kafka_event_CreatePartitions_result(ev->get()), &n);
  return topic_results(*client_, res, n, op);
}

Result<std::vector<TopicConfig>> Admin::describe_topic_configs(const std::vector<std::string>& topics) {
  return describe_configs(RD_KAFKA_RESOURCE_TOPIC, topics, "describe topic configs");
}

Result<TopicConfig> Admin::describe_broker_configs(int32_t broker_id) {
  auto r = describe_configs(RD_KAFKA_RESOURCE_BROKER, {std::to_string(broker_id)}, "describe broker configs");
  if (!r) return fail(std::move(r).error());
  if (r->size() != 1) {
    return fail(
        client_->error(RD_KAFKA_RESP_ERR__FAIL,
                       "the broker returned " + std::to_string(r->size()) + " config resources, expected 1",
                       "describe broker configs"));
  }
  if ((*r)[0].error) return fail(*(*r)[0].error);
  return std::move((*r)[0]);
}

Result<std::vector<TopicConfig>> Admin::describe_configs(int type, const std::vector<std::string>& names,
                                                         std::string_view op) {
  if (names.empty()) return std::vector<TopicConfig>{};
  std::vector<ConfigResourceHandle> owned;
  std::vector<rd_kafka_ConfigResource_t*> raw;
  for (const auto& t : names) {
    owned.emplace_back(rd_kafka_ConfigResource_new(static_cast<rd_kafka_ResourceType_t>(type), t.c_str()));
    raw.push_back(owned.back().get());
  }
  auto ev = run_admin(*client_, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS, op, [&](auto* opts, auto* q) {
    rd_kafka_DescribeConfigs(client_->get(), raw.data(), raw.size(), opts, q);
  });
  if (!ev) return fail(std::move(ev).error());
  size_t n = 0;
  const auto** res =
      rd_kafka_DescribeConfigs_result_resources(rd_kafka_event_DescribeConfigs_result(ev->get()), &n);
  std::vector<TopicConfig> out;
  for (size_t i = 0; i < n; ++i) {
    TopicConfig tc;
    tc.topic = rd_kafka_ConfigResource_name(res[i]);
    tc.error = resource_error(*client_, rd_kafka_ConfigResource_error(res[i]),
                              rd_kafka_ConfigResource_error_string(res[i]), op);
    size_t m = 0;
    const rd_kafka_ConfigEntry_t** entries = rd_kafka_ConfigResource_configs(res[i], &m);
    for (size_t j = 0; j < m; ++j) {
      const char* v = rd_kafka_ConfigEntry_value(entries[j]);
      tc.entries.push_back({rd_kafka_ConfigEntry_name(entries[j]),
                            v ? std::optional<std::string>(v) : std::nullopt,
                            config_source(rd_kafka_ConfigEntry_source(entries[j])),
                            rd_kafka_ConfigEntry_is_default(entries[j]) != 0,
                            rd_kafka_ConfigEntry_is_read_only(entries[j]) != 0,
                            rd_kafka_ConfigEntry_is_sensitive(entries[j]) != 0});
    }
    std::sort(tc.entries.begin(), tc.entries.end(), [](auto& a, auto& b) { return a.name < b.name; });
    out.push_back(std::move(tc));
  }
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.topic < b.topic; });
  return out;
}

Result<std::vector<ResourceResult>> Admin::alter_topic_configs(
    const std::vector<TopicConfigAlteration>& alterations) {
  constexpr std::string_view op = "alter topic configs";
  if (alterations.empty()) return std::vector<ResourceResult>{};
  std::vector<ConfigResourceHandle> owned;
  std::vector<rd_kafka_ConfigResource_t*> raw;
  for (const auto& a : alterations) {
    ConfigResourceHandle r(rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, a.topic.c_str()));
    for (const auto& ch : a.changes) {
      ErrorHandle err(rd_kafka_ConfigResource_add_incremental_config(
          r.get(), ch.name.c_str(),
          ch.op == ConfigOp::set ? RD_KAFKA_ALTER_CONFIG_OP_TYPE_SET : RD_KAFKA_ALTER_CONFIG_OP_TYPE_DELETE,
          ch.op == ConfigOp::set ? ch.value.c_str() : nullptr));
      if (err) return fail(client_->error(err.get(), op));
    }
    raw.push_back(r.get());
    owned.push_back(std::move(r));
  }
  auto ev = run_admin(*client_, RD_KAFKA_ADMIN_OP_INCREMENTALALTERCONFIGS, op, [&](auto* opts, auto* q) {
    rd_kafka_IncrementalAlterConfigs(client_->get(), raw.data(), raw.size(), opts, q);
  });
  if (!ev) return fail(std::move(ev).error());
  size_t n = 0;
  const auto** res = rd_kafka_IncrementalAlterConfigs_result_resources(
      rd_kafka_event_IncrementalAlterConfigs_result(ev->get()), &n);
  std::vector<ResourceResult> out;
  for (size_t i = 0; i < n; ++i) {
    out.push_back({rd_kafka_ConfigResource_name(res[i]),
                   resource_error(*client_, rd_kafka_ConfigResource_error(res[i]),
                                  rd_kafka_ConfigResource_error_string(res[i]), op)});
  }
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.name < b.name; });
  return out;
}

Result<std::vector<ResourceResult>> Admin::create_acls(const std::vector<AclBinding>& acls) {
  constexpr std::string_view op = "create ACLs";
  std::vector<AclBindingHandle> owned;
  std::vector<rd_kafka_AclBinding_t*> raw;
  std::array<char, 512> errstr{};
  for (const auto& a : acls) {
    rd_kafka_AclBinding_t* b = rd_kafka_AclBinding_new(
        to_rd(kResTypes, a.resource_type), a.resource_name.c_str(), to_rd(kPatterns, a.pattern_type),
        a.principal.c_str(), a.host.c_str(), to_rd(kOperations, a.operation),
        to_rd(kPermissions, a.permission), errstr.data(), errstr.size());
    if (!b) return fail(invalid_argument(*client_, "ACL on " + a.resource_name + ": " + errstr.data(), op));
    owned.emplace_back(b);
    raw.push_back(b);
  }
  auto ev = run_admin(*client_, RD_KAFKA_ADMIN_OP_CREATEACLS, op, [&](auto* opts, auto* q) {
    rd_kafka_CreateAcls(client_->get(), raw.data(), raw.size(), opts, q);
  });
  if (!ev) return fail(std::move(ev).error());
  size_t n = 0;
  const auto** res = rd_kafka_CreateAcls_result_acls(rd_kafka_event_CreateAcls_result(ev->get()), &n);
  std::vector<ResourceResult> out;
  // Results come back in request order.
  for (size_t i = 0; i < n && i < acls.size(); ++i) {
    const rd_kafka_error_t* err = rd_kafka_acl_result_error(res[i]);
    out.push_back({acls[i].principal + " " + acl_operation_name(acls[i].operation) + " " +
                       acl_resource_type_name(acls[i].resource_type) + ":" + acls[i].resource_name,
                   err ? std::optional<Error>(client_->error(err, op)) : std::nullopt});
  }
  return out;
}

Result<std::vector<AclBinding>> Admin::describe_acls(const AclFilter& filter) {
  constexpr std::string_view op = "describe ACLs";
  auto f = make_filter(*client_, filter, op);
  if (!f) return fail(std::move(f).error());
  auto ev = run_admin(*client_, RD_KAFKA_ADMIN_OP_DESCRIBEACLS, op,
                      [&](auto* opts, auto* q) { rd_kafka_DescribeAcls(client_->get(), f->get(), opts, q); });
  if (!ev) return fail(std::move(ev).error());
  size_t n = 0;
  const auto** res = rd_kafka_DescribeAcls_result_acls(rd_kafka_event_DescribeAcls_result(ev->get()), &n);
  std::vector<AclBinding> out;
  for (size_t i = 0; i < n; ++i) {
    if (auto b = from_rd_binding(res[i])) out.push_back(std::move(*b));
  }
  std::sort(out.begin(), out.end());
  return out;
}

Result<std::vector<AclBinding>> Admin::delete_acls(const std::vector<AclFilter>& filters) {
  constexpr std::string_view op = "delete ACLs";
  std::vector<AclBindingHandle> owned;
  std::vector<rd_kafka_AclBindingFilter_t*> raw;
  for (const auto& filter : filters) {
    auto f = make_filter(*client_, filter, op);
    if (!f) return fail(std::move(f).error());
    raw.push_back(f->get());
    owned.push_back(std::move(*f));
  }
  auto ev = run_admin(*client_, RD_KAFKA_ADMIN_OP_DELETEACLS, op, [&](auto* opts, auto* q) {
    rd_kafka_DeleteAcls(client_->get(), raw.data(), raw.size(), opts, q);
  });
  if (!ev) return fail(std::move(ev).error());
  size_t n = 0;
  const auto** res = rd_kafka_DeleteAcls_result_responses(rd_kafka_event_DeleteAcls_result(ev->get()), &n);
  std::vector<AclBinding> out;
  for (size_t i = 0; i < n; ++i) {
    if (const rd_kafka_error_t* err = rd_kafka_DeleteAcls_result_response_error(res[i])) {
      return fail(client_->error(err, op));
    }
    size_t m = 0;
    const auto** matching = rd_kafka_DeleteAcls_result_response_matching_acls(res[i], &m);
    for (size_t j = 0; j < m; ++j) {
      if (auto b = from_rd_binding(matching[j])) out.push_back(std::move(*b));
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

Result<std::vector<GroupListing>> Admin::list_groups() {
  constexpr std::string_view op = "list consumer groups";
  auto ev = run_admin(*client_, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPS, op,
                      [&](auto* opts, auto* q) { rd_kafka_ListConsumerGroups(client_->get(), opts, q); });
  if (!ev) return fail(std::move(ev).error());
  const auto* res = rd_kafka_event_ListConsumerGroups_result(ev->get());
  size_t nerr = 0;
  const rd_kafka_error_t** errs = rd_kafka_ListConsumerGroups_result_errors(res, &nerr);
  // A partial answer would make plan think groups are missing: any broker error fails the call.
  if (nerr > 0) return fail(client_->error(errs[0], op));
  size_t n = 0;
  const auto** groups = rd_kafka_ListConsumerGroups_result_valid(res, &n);
  std::vector<GroupListing> out;
  for (size_t i = 0; i < n; ++i) {
    out.push_back({rd_kafka_ConsumerGroupListing_group_id(groups[i]),
                   group_state(rd_kafka_ConsumerGroupListing_state(groups[i])),
                   rd_kafka_ConsumerGroupListing_is_simple_consumer_group(groups[i]) != 0});
  }
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.group_id < b.group_id; });
  return out;
}

Result<std::vector<GroupDescription>> Admin::describe_groups(const std::vector<std::string>& group_ids) {
  constexpr std::string_view op = "describe consumer groups";
  if (group_ids.empty()) return std::vector<GroupDescription>{};
  std::vector<const char*> ids;
  for (const auto& g : group_ids) ids.push_back(g.c_str());
  auto ev = run_admin(*client_, RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS, op, [&](auto* opts, auto* q) {
    rd_kafka_DescribeConsumerGroups(client_->get(), ids.data(), ids.size(), opts, q);
  });
  if (!ev) return fail(std::move(ev).error());
  size_t n = 0;
  const auto** groups = rd_kafka_DescribeConsumerGroups_result_groups(
      rd_kafka_event_DescribeConsumerGroups_result(ev->get()), &n);
  std::vector<GroupDescription> out;
  for (size_t i = 0; i < n; ++i) {
    const rd_kafka_error_t* err = rd_kafka_ConsumerGroupDescription_error(groups[i]);
    out.push_back({rd_kafka_ConsumerGroupDescription_group_id(groups[i]),
                   group_state(rd_kafka_ConsumerGroupDescription_state(groups[i])),
                   rd_kafka_ConsumerGroupDescription_is_simple_consumer_group(groups[i]) ? "" : "consumer",
                   static_cast<int>(rd_kafka_ConsumerGroupDescription_member_count(groups[i])),
                   err ? std::optional<Error>(client_->error(err, op)) : std::nullopt});
  }
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.group_id < b.group_id; });
  return out;
}

Result<std::vector<TopicPartitionOffset>> Admin::list_group_offsets(const std::string& group_id) {
  return retry_coordinator(*client_, [&] { return list_group_offsets_once(group_id); });
}

Result<std::vector<TopicPartitionOffset>> Admin::list_group_offsets_once(const std::string& group_id) {
  constexpr std::string_view op = "list consumer group offsets";
  ListGroupOffsetsHandle req(rd_kafka_ListConsumerGroupOffsets_new(group_id.c_str(), nullptr));
  rd_kafka_ListConsumerGroupOffsets_t* raw = req.get();
  auto ev = run_admin(*client_, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS, op, [&](auto* opts, auto* q) {
    rd_kafka_ListConsumerGroupOffsets(client_->get(), &raw, 1, opts, q);
  });
  if (!ev) return fail(std::move(ev).error());
  size_t n = 0;
  const auto** groups = rd_kafka_ListConsumerGroupOffsets_result_groups(
      rd_kafka_event_ListConsumerGroupOffsets_result(ev->get()), &n);
  std::vector<TopicPartitionOffset> out;
  for (size_t i = 0; i < n; ++i) {
    if (const rd_kafka_error_t* err = rd_kafka_group_result_error(groups[i])) {
      return fail(client_->error(err, op));
    }
    const rd_kafka_topic_partition_list_t* parts = rd_kafka_group_result_partitions(groups[i]);
    for (int j = 0; parts && j < parts->cnt; ++j) {
      const auto& p = parts->elems[j];
      if (p.err != RD_KAFKA_RESP_ERR_NO_ERROR) return fail(client_->error(p.err, p.topic, op));
      if (p.offset < 0) continue;  // no committed offset
      out.push_back({p.topic, p.partition, p.offset,
                     p.metadata ? std::string(static_cast<const char*>(p.metadata), p.metadata_size) : ""});
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

Result<std::vector<PartitionResult>> Admin::alter_group_offsets(
    const std::string& group_id, const std::vector<TopicPartitionOffset>& offsets) {
  constexpr std::string_view op = "alter consumer group offsets";
  PartitionListHandle parts = partition_list(offsets);
  AlterGroupOffsetsHandle req(rd_kafka_AlterConsumerGroupOffsets_new(group_id.c_str(), parts.get()));
  rd_kafka_AlterConsumerGroupOffsets_t* raw = req.get();
  auto ev = run_admin(*client_, RD_KAFKA_ADMIN_OP_ALTERCONSUMERGROUPOFFSETS, op, [&](auto* opts, auto* q) {
    rd_kafka_AlterConsumerGroupOffsets(client_->get(), &raw, 1, opts, q);
  });
  if (!ev) return fail(std::move(ev).error());
  size_t n = 0;
  const auto** groups = rd_kafka_AlterConsumerGroupOffsets_result_groups(
      rd_kafka_event_AlterConsumerGroupOffsets_result(ev->get()), &n);
  std::vector<PartitionResult> out;
  for (size_t i = 0; i < n; ++i) {
    if (const rd_kafka_error_t* err = rd_kafka_group_result_error(groups[i])) {
      return fail(client_->error(err, op));
    }
    const rd_kafka_topic_partition_list_t* res = rd_kafka_group_result_partitions(groups[i]);
    for (int j = 0; res && j < res->cnt; ++j) {
      const auto& p = res->elems[j];
      out.push_back({{p.topic, p.partition}, p.offset, resource_error(*client_, p.err, nullptr, op)});
    }
  }
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.tp < b.tp; });
  return out;
}

Result<std::vector<ResourceResult>> Admin::delete_groups(const std::vector<std::string>& group_ids) {
  constexpr std::string_view op = "delete consumer groups";
  std::vector<DeleteGroupHandle> owned;
  std::vector<rd_kafka_DeleteGroup_t*> raw;
  for (const auto& g : group_ids) {
    owned.emplace_back(rd_kafka_DeleteGroup_new(g.c_str()));
    raw.push_back(owned.back().get());
  }
  auto ev = run_admin(*client_, RD_KAFKA_ADMIN_OP_DELETEGROUPS, op, [&](auto* opts, auto* q) {
    rd_kafka_DeleteGroups(client_->get(), raw.data(), raw.size(), opts, q);
  });
  if (!ev) return fail(std::move(ev).error());
  size_t n = 0;
  const auto** groups =
      rd_kafka_DeleteGroups_result_groups(rd_kafka_event_DeleteGroups_result(ev->get()), &n);
  std::vector<ResourceResult> out;
  for (size_t i = 0; i < n; ++i) {
    const rd_kafka_error_t* err = rd_kafka_group_result_error(groups[i]);
    out.push_back({rd_kafka_group_result_name(groups[i]),
                   err ? std::optional<Error>(client_->error(err, op)) : std::nullopt});
  }
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.name < b.name; });
  return out;
}

Result<std::vector<ListedOffset>> Admin::list_offsets(const std::vector<OffsetQuery>& queries,
                                                      Isolation isolation) {
  constexpr std::string_view op = "list offsets";
  // One ListOffsets request may name a partition only once, so queries are split into rounds: round k
  // holds every partition's k-th query. Usually there is one round (or two, for watermarks).
  std::vector<std::vector<size_t>> rounds;
  std::map<TopicPartition, size_t> seen;
  for (size_t i = 0; i < queries.size(); ++i) {
    size_t round = seen[queries[i].tp]++;
    if (round == rounds.size()) rounds.emplace_back();
    rounds[round].push_back(i);
  }
  std::vector<ListedOffset> out(queries.size());
  for (const auto& round : rounds) {
    PartitionListHandle parts(rd_kafka_topic_partition_list_new(static_cast<int>(round.size())));
    std::map<TopicPartition, size_t> index;  // partition -> query index in this round
    for (size_t i : round) {
      const OffsetQuery& q = queries[i];
      index[q.tp] = i;
      rd_kafka_topic_partition_t* p =
          rd_kafka_topic_partition_list_add(parts.get(), q.tp.topic.c_str(), q.tp.partition);
      switch (q.spec) {
        case OffsetSpec::earliest: p->offset = RD_KAFKA_OFFSET_SPEC_EARLIEST; break;
        case OffsetSpec::latest: p->offset = RD_KAFKA_OFFSET_SPEC_LATEST; break;
        case OffsetSpec::timestamp: p->offset = q.timestamp_ms; break;
      }
    }
    auto ev = run_admin(
        *client_, RD_KAFKA_ADMIN_OP_LISTOFFSETS, op,
        [&](auto* opts, auto* q) { rd_kafka_ListOffsets(client_->get(), parts.get(), opts, q); },
        [&](rd_kafka_AdminOptions_t* opts) -> std::optional<Error> {
          ErrorHandle err(rd_kafka_AdminOptions_set_isolation_level(
              opts, isolation == Isolation::read_committed ? RD_KAFKA_ISOLATION_LEVEL_READ_COMMITTED
                                                           : RD_KAFKA_ISOLATION_LEVEL_READ_UNCOMMITTED));
          if (err) return client_->error(err.get(), op);
          return std::nullopt;
        });
    if (!ev) return fail(std::move(ev).error());
    size_t n = 0;
    const auto** infos = rd_kafka_ListOffsets_result_infos(rd_kafka_event_ListOffsets_result(ev->get()), &n);
    for (size_t i = 0; i < n; ++i) {
      const rd_kafka_topic_partition_t* p = rd_kafka_ListOffsetsResultInfo_topic_partition(infos[i]);
      auto it = index.find(TopicPartition{p->topic, p->partition});
      if (it == index.end()) continue;
      out[it->second] = {{p->topic, p->partition},
                         p->offset,
                         rd_kafka_ListOffsetsResultInfo_timestamp(infos[i]),
                         resource_error(*client_, p->err, nullptr, op)};
    }
  }
  return out;
}

}  // namespace mirror::kafka

// Admin operations on one cluster: everything `plan` observes and `apply` changes.
//
// Batched calls return Result<vector<...>>: the outer error is a request-level failure (cluster
// unreachable, authentication failed, timed out); per-resource failures are inside the vector, so one
// bad topic does not hide the outcome of the others.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "kafka/client_config.h"
#include "kafka/types.h"

namespace mirror::kafka {

namespace detail {
class Client;
}

class Admin {
 public:
  // Creates the client; does not contact the cluster yet (the first call does).
  static Result<Admin> connect(const ClientConfig& config);
  Admin(Admin&&) noexcept;
  Admin& operator=(Admin&&) noexcept;
  ~Admin();

  const ClientConfig& config() const;

  // Cluster id, controller and brokers (DescribeCluster).
  Result<ClusterInfo> describe_cluster();
  // Every topic with its partitions and replicas (Metadata), sorted by name; internal topics included.
  Result<std::vector<TopicInfo>> list_topics();

  // The id of each named topic (DescribeTopics, one request), as Kafka prints it (topic_id_string): a
  // topic deleted and created again under the same name has a new id. Topics that do not exist, that
  // we may not describe, or whose broker reports no id are absent from the map; any other per-topic
  // error fails the call.
  Result<std::map<std::string, std::string>> topic_ids(const std::vector<std::string>& names);

  Result<std::vector<ResourceResult>> create_topics(const std::vector<NewTopic>& topics);
  Result<std::vector<ResourceResult>> delete_topics(const std::vector<std::string>& topics);
  // DeleteRecords: deletes every record before `offset` in each partition (the new log start offset).
  Result<std::vector<PartitionResult>> delete_records(const std::vector<TopicPartitionOffset>& before);
  Result<std::vector<ResourceResult>> create_partitions(const std::vector<NewPartitions>& requests);

  // All config entries of each topic (one DescribeConfigs request for the whole batch).
  Result<std::vector<TopicConfig>> describe_topic_configs(const std::vector<std::string>& topics);
  // All config entries of one broker (DescribeConfigs BROKER): the cluster's defaults for new topics
  // (default.replication.factor, min.insync.replicas, log.retention.*). `topic` holds the broker id.
  Result<TopicConfig> describe_broker_configs(int32_t broker_id);
  // IncrementalAlterConfigs: only the named keys change; every other override stays as it is.
  Result<std::vector<ResourceResult>> alter_topic_configs(
      const std::vector<TopicConfigAlteration>& alterations);

  Result<std::vector<ResourceResult>> create_acls(const std::vector<AclBinding>& acls);
  Result<std::vector<AclBinding>> describe_acls(const AclFilter& filter);
  // Returns the bindings that were deleted.
  Result<std::vector<AclBinding>> delete_acls(const std::vector<AclFilter>& filters);

  Result<std::vector<GroupListing>> list_groups();
  Result<std::vector<GroupDescription>> describe_groups(const std::vector<std::string>& group_ids);
  // Committed offsets of every partition the group has committed.
  Result<std::vector<TopicPartitionOffset>> list_group_offsets(const std::string& group_id);
  // Fails per partition with Errc::group_not_empty while the group has members.
  Result<std::vector<PartitionResult>> alter_group_offsets(const std::string& group_id,
                                                           const std::vector<TopicPartitionOffset>& offsets);
  Result<std::vector<ResourceResult>> delete_groups(const std::vector<std::string>& group_ids);

  // ListOffsets for many partitions in one call: earliest, latest (the high watermark, or the last
  // stable offset with read_committed) or the first offset whose timestamp is >= the query's.
  // Results are in query order; the same partition may be asked several times.
  Result<std::vector<ListedOffset>> list_offsets(const std::vector<OffsetQuery>& queries,
                                                 Isolation isolation = Isolation::read_uncommitted);

 private:
  explicit Admin(std::unique_ptr<detail::Client> client);
  Result<std::vector<TopicPartitionOffset>> list_group_offsets_once(const std::string& group_id);
  Result<std::vector<PartitionResult>> alter_group_offsets_once(
      const std::string& group_id, const std::vector<TopicPartitionOffset>& offsets);
  // DescribeConfigs of resources of one type (rd_kafka_ResourceType_t), one request.
  Result<std::vector<TopicConfig>> describe_configs(int type, const std::vector<std::string>& names,
                                                    std::string_view op);
  std::unique_ptr<detail::Client> client_;
};

}  // namespace mirror::kafka

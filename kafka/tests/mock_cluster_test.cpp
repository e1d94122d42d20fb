// Error paths of the adapter against librdkafka's in-process mock cluster: fast, no JVM. These check
// our handling of what the broker says, not Kafka itself (the integration tests do that).
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <gtest/gtest.h>

#include <vector>

#include "kafka/admin.h"
#include "kafka/handles.h"
#include "kafka/producer.h"

namespace mirror::kafka {
namespace {

using namespace std::chrono_literals;

constexpr int16_t kProduceApiKey = 0;  // Kafka protocol ApiKeys
constexpr int16_t kListOffsetsApiKey = 2;
constexpr int16_t kOffsetFetchApiKey = 9;

// Owns a mock cluster (it needs a client instance of its own to live in).
class MockCluster {
 public:
  explicit MockCluster(int brokers) {
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    char errstr[256];
    rd_kafka_conf_set(conf, "log_level", "0", errstr, sizeof errstr);
    host_.reset(rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr));
    mock_ = rd_kafka_mock_cluster_new(host_.get(), brokers);
  }
  ~MockCluster() { rd_kafka_mock_cluster_destroy(mock_); }
  rd_kafka_mock_cluster_t* get() const { return mock_; }
  ClientConfig config(std::chrono::milliseconds timeout = 5s) const {
    return ClientConfig{
        .alias = "M", .bootstrap = rd_kafka_mock_cluster_bootstraps(mock_), .timeout = timeout};
  }

 private:
  detail::KafkaHandle host_;
  rd_kafka_mock_cluster_t* mock_ = nullptr;
};

TEST(MockCluster, ProducerReportsEveryDeliveryWithItsTag) {
  MockCluster mc(1);
  rd_kafka_mock_topic_create(mc.get(), "t", 2, 1);
  std::vector<Delivery> seen;
  auto p = Producer::create(mc.config(), {}, [&](const Delivery& d) { seen.push_back(d); });
  ASSERT_TRUE(p.ok()) << p.error().describe();
  for (uint64_t i = 0; i < 10; ++i) {
    std::string v = "v" + std::to_string(i);
    ASSERT_TRUE(p->send({.topic = "t", .partition = static_cast<int32_t>(i % 2), .value = v, .tag = i}).ok());
  }
  ASSERT_TRUE(p->flush().ok());
  ASSERT_EQ(seen.size(), 10u);
  for (const auto& d : seen) {
    EXPECT_FALSE(d.error) << d.error->describe();
    EXPECT_EQ(d.partition, static_cast<int32_t>(d.tag % 2));
    EXPECT_EQ(d.offset, static_cast<int64_t>(d.tag / 2));  // in order per partition
  }
}

TEST(MockCluster, NonRetriableProduceErrorReachesTheDeliveryHandler) {
  MockCluster mc(1);
  rd_kafka_mock_topic_create(mc.get(), "t", 1, 1);
  rd_kafka_mock_push_request_errors(mc.get(), kProduceApiKey, 1,
                                    RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
  std::vector<Delivery> seen;
  auto p = Producer::create(mc.config(), {}, [&](const Delivery& d) { seen.push_back(d); });
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE(p->send({.topic = "t", .partition = 0, .value = "x"}).ok());
  (void)p->flush();
  ASSERT_EQ(seen.size(), 1u);
  ASSERT_TRUE(seen[0].error.has_value());
  EXPECT_EQ(seen[0].error->code, Errc::authorization);
  EXPECT_NE(seen[0].error->describe().find("M ("), std::string::npos) << seen[0].error->describe();
}

TEST(MockCluster, RetriableProduceErrorIsRetriedInvisibly) {
  MockCluster mc(1);
  rd_kafka_mock_topic_create(mc.get(), "t", 1, 1);
  rd_kafka_mock_push_request_errors(mc.get(), kProduceApiKey, 2, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
                                    RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS);
  std::vector<Delivery> seen;
  auto p = Producer::create(mc.config(), {}, [&](const Delivery& d) { seen.push_back(d); });
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE(p->send({.topic = "t", .partition = 0, .value = "x"}).ok());
  ASSERT_TRUE(p->flush().ok());
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_FALSE(seen[0].error.has_value());
  EXPECT_EQ(seen[0].offset, 0);
}

TEST(MockCluster, AdminRequestAgainstDownBrokerNamesTheClusterAndCause) {
  MockCluster mc(1);
  rd_kafka_mock_broker_set_down(mc.get(), 1);
  auto admin = Admin::connect(mc.config(2s));
  ASSERT_TRUE(admin.ok());
  auto r = admin->create_topics({{.name = "x", .partitions = 1, .replication_factor = 1}});
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error().code == Errc::transport || r.error().code == Errc::timed_out) << r.error().describe();
  EXPECT_NE(r.error().describe().find("create topics on cluster M ("), std::string::npos)
      << r.error().describe();
}

TEST(MockCluster, PerPartitionErrorsDoNotHideOtherResults) {
  MockCluster mc(1);
  rd_kafka_mock_topic_create(mc.get(), "t", 1, 1);
  rd_kafka_mock_partition_push_leader_response(mc.get(), "t", 0, 1, 0);
  auto admin = Admin::connect(mc.config());
  ASSERT_TRUE(admin.ok());
  // The mock cluster answers ListOffsets per partition; the ACL-denied partition fails on its own.
  rd_kafka_mock_push_request_errors(mc.get(), kListOffsetsApiKey, 1,
                                    RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
  auto r = admin->list_offsets({{{"t", 0}, OffsetSpec::latest}});
  ASSERT_TRUE(r.ok()) << r.error().describe();
  ASSERT_EQ(r->size(), 1u);
  ASSERT_TRUE((*r)[0].error.has_value());
  EXPECT_EQ((*r)[0].error->code, Errc::authorization);
  auto again = admin->list_offsets({{{"t", 0}, OffsetSpec::latest}, {{"t", 0}, OffsetSpec::earliest}});
  ASSERT_TRUE(again.ok()) << again.error().describe();
  for (const auto& lo : *again) {
    EXPECT_FALSE(lo.error) << lo.error->describe();
    EXPECT_EQ(lo.offset, 0);
  }
}

// librdkafka #5040: an OffsetFetch answered with NOT_COORDINATOR crashes a handle without a consumer
// group (all versions up to at least 2.12.1). The adapter's admin handle is a consumer with a group.id
// for that reason, and it retries coordinator errors.
TEST(MockCluster, GroupOffsetsSurviveNotCoordinator) {
  MockCluster mc(1);
  rd_kafka_mock_topic_create(mc.get(), "t", 1, 1);
  rd_kafka_mock_push_request_errors(mc.get(), kOffsetFetchApiKey, 2, RD_KAFKA_RESP_ERR_NOT_COORDINATOR,
                                    RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS);
  auto admin = Admin::connect(mc.config());
  ASSERT_TRUE(admin.ok());
  auto r = admin->list_group_offsets("g");
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_TRUE(r->empty());
}

TEST(MockCluster, StopRequestEndsAWaitPromptly) {
  MockCluster mc(1);
  rd_kafka_mock_broker_set_down(mc.get(), 1);
  std::stop_source stop;
  ClientConfig cfg = mc.config(60s);
  cfg.stop = stop.get_token();
  auto admin = Admin::connect(cfg);
  ASSERT_TRUE(admin.ok());
  stop.request_stop();
  auto r = admin->describe_cluster();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::cancelled);
}

}  // namespace
}  // namespace mirror::kafka

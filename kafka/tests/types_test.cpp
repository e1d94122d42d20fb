// Pure helpers of kafka/types.h: topic ids printed as Kafka prints them.
#include <librdkafka/rdkafka.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>

#include "kafka/types.h"

namespace mirror::kafka {
namespace {

TEST(TopicId, PrintedAsKafkaPrintsIt) {
  // Kafka's Uuid.ZERO_UUID and Uuid.METADATA_TOPIC_ID (new Uuid(0, 1)).
  EXPECT_EQ(topic_id_string(0, 0), "AAAAAAAAAAAAAAAAAAAAAA");
  EXPECT_EQ(topic_id_string(0, 1), "AAAAAAAAAAAAAAAAAAAAAQ");
  // URL-safe alphabet ('-' and '_', not '+' and '/'), no '=' padding.
  EXPECT_EQ(topic_id_string(UINT64_MAX, UINT64_MAX), std::string(21, '_') + "w");
  EXPECT_EQ(topic_id_string(0xfbefbefbefbefbefULL, 0xbefbefbefbefbefbULL).substr(0, 4), "----");
}

TEST(TopicId, SameBytesAsLibrdkafkaWithTheUrlSafeAlphabet) {
  std::mt19937_64 rng(16);
  for (int i = 0; i < 200; ++i) {
    const uint64_t most = rng(), least = rng();
    rd_kafka_Uuid_t* uuid = rd_kafka_Uuid_new(static_cast<int64_t>(most), static_cast<int64_t>(least));
    std::string theirs = rd_kafka_Uuid_base64str(uuid);
    rd_kafka_Uuid_destroy(uuid);
    std::replace(theirs.begin(), theirs.end(), '+', '-');
    std::replace(theirs.begin(), theirs.end(), '/', '_');
    const std::string ours = topic_id_string(most, least);
    EXPECT_EQ(ours, theirs);
    EXPECT_EQ(ours.size(), 22u);
  }
}

}  // namespace
}  // namespace mirror::kafka

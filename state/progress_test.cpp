// The progress record format (docs/engine.md): round trip, and refusal of anything it cannot trust.
#include "state/progress.h"

#include <gtest/gtest.h>

namespace mirror::state {
namespace {

TEST(Progress, RoundTripsWithTheOffsetMap) {
  PartitionProgress p;
  p.flow = "a-to-b";
  p.source_topic = "orders";
  p.partition = 3;
  p.target_topic = "A.orders";
  ASSERT_TRUE(p.map.begin(100, 7));
  ASSERT_TRUE(p.map.record(100, 7));
  ASSERT_TRUE(p.map.record(101, 8));
  ASSERT_TRUE(p.map.record(105, 9));  // a compaction gap upstream
  p.skipped = 12;
  p.updated_at = "2026-11-25T23:00:00Z";
  std::string why;
  auto back = progress_from_json(to_json(p), &why);
  ASSERT_TRUE(back) << why;
  EXPECT_EQ(back->flow, "a-to-b");
  EXPECT_EQ(back->source_topic, "orders");
  EXPECT_EQ(back->partition, 3);
  EXPECT_EQ(back->target_topic, "A.orders");
  EXPECT_EQ(back->skipped, 12);
  EXPECT_EQ(back->map, p.map);
  EXPECT_EQ(back->map.scanned_up(), 106);
  EXPECT_NE(to_json(p).find("\"next_offset\":106"), std::string::npos) << to_json(p);
}

TEST(Progress, TopicIdsRoundTripAndAreOptional) {
  PartitionProgress p{"a-to-b", "orders", 0, "A.orders"};
  ASSERT_TRUE(p.map.begin(0, 0));
  ASSERT_TRUE(p.map.record(0, 0));
  p.updated_at = "2026-11-25T23:00:00Z";
  // Unknown ids (an older engine's progress) are not written, and read back as unknown.
  const std::string without = to_json(p);
  EXPECT_EQ(without.find("topic_id"), std::string::npos) << without;
  std::string why;
  auto old = progress_from_json(without, &why);
  ASSERT_TRUE(old) << why;
  EXPECT_EQ(old->source_topic_id, "");
  EXPECT_EQ(old->target_topic_id, "");

  p.source_topic_id = "AAAAAAAAAAAAAAAAAAAAAQ";
  p.target_topic_id = "q-7_Zz09abcdefghijklmw";
  const std::string with = to_json(p);
  EXPECT_NE(with.find("\"source_topic_id\":\"AAAAAAAAAAAAAAAAAAAAAQ\""), std::string::npos) << with;
  auto back = progress_from_json(with, &why);
  ASSERT_TRUE(back) << why;
  EXPECT_EQ(back->source_topic_id, "AAAAAAAAAAAAAAAAAAAAAQ");
  EXPECT_EQ(back->target_topic_id, "q-7_Zz09abcdefghijklmw");
  EXPECT_EQ(back->map, p.map);

  // One known, one not.
  p.target_topic_id.clear();
  back = progress_from_json(to_json(p), &why);
  ASSERT_TRUE(back) << why;
  EXPECT_EQ(back->source_topic_id, "AAAAAAAAAAAAAAAAAAAAAQ");
  EXPECT_EQ(back->target_topic_id, "");
  EXPECT_EQ(to_json(p).find("target_topic_id"), std::string::npos);
}

TEST(Progress, RefusesWhatItCannotTrust) {
  std::string why;
  EXPECT_FALSE(progress_from_json("not json", &why));
  EXPECT_FALSE(progress_from_json(R"({"format":2})", &why));
  EXPECT_FALSE(progress_from_json(
      R"({"format":1,"flow":"f","source_topic":"t","partition":0,"target_topic":"A.t","next_offset":5,"offset_map":"!!!!"})",
      &why));
  PartitionProgress p{"f", "t", 0, "A.t"};
  ASSERT_TRUE(p.map.begin(5, 0));
  std::string text = to_json(p);
  text.replace(text.find("\"next_offset\":5"), 15, "\"next_offset\":9");
  EXPECT_FALSE(progress_from_json(text, &why));
  EXPECT_EQ(why, "next_offset disagrees with the offset map");
}

TEST(Progress, KeysAndStatus) {
  EXPECT_EQ(progress_key("f", "orders.eu", 12), "progress/f/orders.eu/12");
  EngineStatus s{"f", "running", "ops@host pid 1", "2026-11-25T23:00:00Z", 10, 2.5, 3, ""};
  auto back = status_from_json(to_json(s));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->state, "running");
  EXPECT_EQ(back->records, 10u);
  EXPECT_EQ(back->lag, 3);
  EXPECT_TRUE(back->paused.empty());
  EXPECT_EQ(to_json(s).find("paused"), std::string::npos) << "absent when empty, like engines before it";
}

TEST(EngineStatusJson, PausedPartitionsAndRecreationsRoundTrip) {
  EngineStatus s{"f", "running", "ops@host pid 1", "2026-11-25T23:00:00Z", 10, 2.5, 3, ""};
  s.paused = {{"orders", 2, "invalid", "deliver record on cluster B failed: Message size too large",
               "2026-12-07T22:00:00Z"}};
  s.recreated = {"2026-12-07T22:01:00Z source topic A:orders was recreated (id x -> y)"};
  auto back = status_from_json(to_json(s));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->paused, s.paused);
  EXPECT_EQ(back->recreated, s.recreated);
  std::string why;
  EXPECT_FALSE(status_from_json(R"({"format":1,"flow":"f","state":"running","owner":"o","updated_at":"t",)"
                                R"("records":1,"records_per_second":0,"lag":0,"last_error":"","paused":[7]})",
                                &why));
  EXPECT_FALSE(why.empty());
  EXPECT_FALSE(
      status_from_json(R"({"format":1,"flow":"f","state":"running","owner":"o","updated_at":"t",)"
                       R"("records":1,"records_per_second":0,"lag":0,"last_error":"","recreated":"x"})"));
}

}  // namespace
}  // namespace mirror::state

// Taking over from MirrorMaker 2: decoding its Connect offsets and status records, and finding its last
// copied record on the target (docs/migrate-from-mm2.md). The broker-facing part is tested with real MM2
// in importer's integration test.
#include "state/mm2_progress.h"

#include <gtest/gtest.h>

namespace mirror::state {
namespace {

TEST(Mm2Offsets, DecodesMirrorSourceConnectorPositions) {
  // As MM2 4.3.1 wrote them in mm2-offsets.A.internal on the local clusters.
  auto p = decode_mm2_offset(R"(["MirrorSourceConnector",{"cluster":"A","partition":2,"topic":"orders"}])",
                             R"({"offset":999})", "A");
  ASSERT_TRUE(p);
  EXPECT_EQ(*p, (Mm2Position{"orders", 2, 999}));
}

TEST(Mm2Offsets, IgnoresOtherConnectorsClustersAndTombstones) {
  std::string why;
  EXPECT_FALSE(
      decode_mm2_offset(R"(["MirrorHeartbeatConnector",{"sourceClusterAlias":"A","targetClusterAlias":"B"}])",
                        R"({"offset":0})", "A", &why));
  EXPECT_TRUE(why.empty());
  EXPECT_FALSE(decode_mm2_offset(R"(["MirrorSourceConnector",{"cluster":"C","partition":0,"topic":"t"}])",
                                 R"({"offset":5})", "A", &why));
  EXPECT_TRUE(why.empty());
  EXPECT_FALSE(decode_mm2_offset(R"(["MirrorSourceConnector",{"cluster":"A","partition":0,"topic":"t"}])",
                                 std::nullopt, "A", &why));
  EXPECT_TRUE(why.empty());
}

TEST(Mm2Offsets, SaysWhyAForeignRecordIsRefused) {
  std::string why;
  EXPECT_FALSE(decode_mm2_offset("not json", R"({"offset":5})", "A", &why));
  EXPECT_NE(why.find("not a Connect source offset key"), std::string::npos) << why;
  why.clear();
  EXPECT_FALSE(decode_mm2_offset(R"(["MirrorSourceConnector",{"cluster":"A","topic":"t"}])",
                                 R"({"offset":5})", "A", &why));
  EXPECT_NE(why.find("without cluster, topic and partition"), std::string::npos) << why;
  why.clear();
  EXPECT_FALSE(decode_mm2_offset(R"(["MirrorSourceConnector",{"cluster":"A","partition":0,"topic":"t"}])",
                                 R"({"offset":"five"})", "A", &why));
  EXPECT_NE(why.find("without an integer offset"), std::string::npos) << why;
  why.clear();
  EXPECT_FALSE(decode_mm2_offset(R"(["MirrorSourceConnector",{"cluster":"A","partition":-1,"topic":"t"}])",
                                 R"({"offset":5})", "A", &why));
  EXPECT_NE(why.find("out of range"), std::string::npos) << why;
}

TEST(Mm2Status, ReadsTheState) {
  EXPECT_EQ(decode_mm2_status(R"({"state":"RUNNING","trace":null,"worker_id":"w","generation":6})"),
            "RUNNING");
  EXPECT_EQ(decode_mm2_status(R"({"state":"UNASSIGNED"})"), "UNASSIGNED");
  EXPECT_FALSE(decode_mm2_status(R"({"topic":{"name":"A.t"}})"));
  EXPECT_FALSE(decode_mm2_status("garbage"));
}

std::vector<RecordPrint> prints(int64_t first_offset, std::vector<uint64_t> hashes) {
  std::vector<RecordPrint> out;
  for (auto h : hashes) out.push_back({first_offset++, h});
  return out;
}

TEST(Mm2Align, GracefulStopEndsWithTheLastCopiedRecord) {
  // Target offsets 40..44 hold source records 100..104; MM2 committed 104.
  auto a = align(prints(40, {10, 11, 12, 13, 14}), {104, 14}, prints(105, {15, 16}));
  EXPECT_TRUE(a.found);
  EXPECT_EQ(a.last_down, 44);
  EXPECT_EQ(a.matched, 0);
  EXPECT_EQ(a.resume_up, 105);
  EXPECT_EQ(a.next_down, 45);
  EXPECT_EQ(a.unexplained, 0);
}

TEST(Mm2Align, TheCopiesBeforeTheLastRecordSeedTheOffsetMap) {
  // Target 40..44 hold source 100..104; the target's 39 is no copy of source 99 (it came from elsewhere).
  auto a = align(prints(39, {77, 10, 11, 12, 13, 14}), {104, 14}, prints(105, {15}),
                 prints(99, {9, 10, 11, 12, 13}));
  ASSERT_TRUE(a.found);
  const std::vector<std::pair<int64_t, int64_t>> want{{100, 40}, {101, 41}, {102, 42}, {103, 43}, {104, 44}};
  EXPECT_EQ(a.pairs, want);
  // With a gap in the source offsets (compaction): pairs follow records, not offsets.
  auto g = align(prints(40, {10, 11, 12}), {9, 12}, {}, {{3, 10}, {7, 11}});
  const std::vector<std::pair<int64_t, int64_t>> gaps{{3, 40}, {7, 41}, {9, 42}};
  EXPECT_EQ(g.pairs, gaps);
}

TEST(Mm2Align, RecordsWrittenAfterTheLastCommitAreNotCopiedAgain) {
  // MM2 committed 102 but had also written 103 and 104 before it died.
  auto a = align(prints(40, {10, 11, 12, 13, 14}), {102, 12}, prints(103, {13, 14, 15}));
  EXPECT_TRUE(a.found);
  EXPECT_EQ(a.last_down, 42);
  EXPECT_EQ(a.matched, 2);
  EXPECT_EQ(a.resume_up, 105);
  EXPECT_EQ(a.next_down, 45);
}

TEST(Mm2Align, SourceGapsAndTheLastDuplicateOfTheRecord) {
  // Source offsets skip (compaction/transactions); an earlier MM2 restart left a duplicate of 12.
  auto a = align(prints(40, {12, 13, 12, 13}), {7, 12}, {{9, 13}, {20, 14}});
  EXPECT_TRUE(a.found);
  EXPECT_EQ(a.last_down, 42);  // the later copy
  EXPECT_EQ(a.matched, 1);
  EXPECT_EQ(a.resume_up, 10);
  EXPECT_EQ(a.next_down, 44);
}

TEST(Mm2Align, ForeignRecordsAfterwardsAreCountedNotMatched) {
  auto a = align(prints(40, {12, 99, 98}), {7, 12}, prints(8, {13, 14}));
  EXPECT_TRUE(a.found);
  EXPECT_EQ(a.matched, 0);
  EXPECT_EQ(a.unexplained, 2);
  EXPECT_EQ(a.resume_up, 8);
}

TEST(Mm2Align, NotFound) {
  auto a = align(prints(40, {1, 2, 3}), {7, 12}, {});
  EXPECT_FALSE(a.found);
  EXPECT_FALSE(align({}, {7, 12}, {}).found);
}

TEST(Mm2Align, FromTheStartWhenMm2NeverCommitted) {
  // MM2 copied source offsets 5..7 (its first records) to target offsets 0..2, then died.
  auto a = align_from_start(prints(0, {1, 2, 3}), prints(5, {1, 2, 3}));
  EXPECT_TRUE(a.found);
  EXPECT_EQ(a.matched, 3);
  EXPECT_EQ(a.resume_up, 8);
  EXPECT_EQ(a.next_down, 3);
  const std::vector<std::pair<int64_t, int64_t>> want{{5, 0}, {6, 1}, {7, 2}};
  EXPECT_EQ(a.pairs, want);
}

TEST(Mm2Align, FromTheStartRefusesATargetWithOtherRecords) {
  EXPECT_FALSE(align_from_start(prints(0, {9, 2}), prints(5, {1, 2})).found);
  auto a = align_from_start(prints(0, {1, 2, 7}), prints(5, {1, 2, 3}));
  EXPECT_FALSE(a.found);  // a record that is no copy: cannot tell what is what
  EXPECT_EQ(a.unexplained, 1);
  EXPECT_FALSE(align_from_start({}, prints(5, {1})).found);
}

}  // namespace
}  // namespace mirror::state

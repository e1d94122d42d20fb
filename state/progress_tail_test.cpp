#include "state/progress_tail.h"

#include <gtest/gtest.h>

namespace mirror::state {
namespace {

std::vector<RecordPrint> prints(int64_t first_offset, std::vector<uint64_t> hashes, int64_t step = 1) {
  std::vector<RecordPrint> out;
  int64_t o = first_offset;
  for (uint64_t h : hashes) {
    out.push_back({o, h});
    o += step;
  }
  return out;
}

TEST(MatchTail, TheTargetsTailIsTheNextSourceRecords) {
  // Source offsets 100.. (every other offset a transaction marker), target offsets 40..
  const auto t = match_tail(prints(40, {7, 8, 9}), prints(100, {7, 8, 9, 10, 11}, 2));
  EXPECT_EQ(t.matched, 3);
  EXPECT_EQ(t.unexplained, 0);
  const std::vector<std::pair<int64_t, int64_t>> want{{100, 40}, {102, 41}, {104, 42}};
  EXPECT_EQ(t.pairs, want);
}

TEST(MatchTail, TheFirstRecordThatDiffersEndsTheMatch) {
  // The third target record is not the third source record (a record failed and the ones behind it
  // landed, or someone else wrote there): it and everything after it stay unexplained.
  const auto t = match_tail(prints(0, {1, 2, 4, 5}), prints(10, {1, 2, 3, 4, 5}));
  EXPECT_EQ(t.matched, 2);
  EXPECT_EQ(t.unexplained, 2);
  ASSERT_EQ(t.pairs.size(), 2u);
  EXPECT_EQ(t.pairs.back(), (std::pair<int64_t, int64_t>{11, 1}));
}

TEST(MatchTail, NothingMatchesAForeignTail) {
  const auto t = match_tail(prints(0, {9, 9}), prints(0, {1, 2}));
  EXPECT_EQ(t.matched, 0);
  EXPECT_EQ(t.unexplained, 2);
  EXPECT_TRUE(t.pairs.empty());
}

TEST(MatchTail, MoreOnTheTargetThanTheSourceHolds) {
  // The source has fewer records after the progress than the target (retention, or foreign records):
  // only what both have can match.
  const auto t = match_tail(prints(0, {1, 2, 3}), prints(5, {1, 2}));
  EXPECT_EQ(t.matched, 2);
  EXPECT_EQ(t.unexplained, 1);
}

TEST(MatchTail, EmptyTailMatchesNothing) {
  const auto t = match_tail({}, prints(0, {1}));
  EXPECT_EQ(t.matched, 0);
  EXPECT_EQ(t.unexplained, 0);
}

TEST(MatchTail, PairsExtendTheOffsetMap) {
  offsets::PartitionOffsetMap map;
  ASSERT_TRUE(map.begin(100, 40));
  ASSERT_TRUE(map.record(100, 40));
  const auto t = match_tail(prints(41, {2, 3}), prints(101, {2, 3, 4}));
  for (const auto& [u, d] : t.pairs) ASSERT_TRUE(map.record(u, d));
  EXPECT_EQ(map.scanned_up(), 103);
  EXPECT_EQ(map.next_down(), 43);
  EXPECT_EQ(map.runs().size(), 1u);  // one contiguous run 100..102 -> 40..42
}

}  // namespace
}  // namespace mirror::state

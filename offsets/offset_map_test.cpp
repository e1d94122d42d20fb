#include "offsets/offset_map.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <ostream>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace mirror::offsets {

// Readable failures.
void PrintTo(const Translation& t, std::ostream* os) { *os << kind_name(t.kind) << "(" << t.offset << ")"; }
void PrintTo(const Run& r, std::ostream* os) {
  *os << "{up " << r.up << ", down " << r.down << ", len " << r.length << "}";
}

namespace {

using Kind = Translation::Kind;
using Runs = std::vector<Run>;  // (inside a TEST, `Run` is testing::Test::Run)
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

Translation exact(int64_t offset) { return {Kind::exact, offset}; }
const Translation kNotYet{Kind::not_yet, -1};
const Translation kOlder{Kind::older_than_mirrored, -1};

PartitionOffsetMap begun(int64_t start_up, int64_t next_down) {
  PartitionOffsetMap m;
  EXPECT_TRUE(m.begin(start_up, next_down).ok());
  return m;
}

void record(PartitionOffsetMap& m, std::vector<std::pair<int64_t, int64_t>> pairs) {
  for (auto [u, d] : pairs) {
    auto r = m.record(u, d);
    ASSERT_TRUE(r.ok()) << r.error();
  }
}

std::string bytes(std::initializer_list<int> values) {
  std::string s;
  for (int v : values) s.push_back(static_cast<char>(v));
  return s;
}

// The brute-force reference: the explicit list of mirrored pairs and the rules of docs/offsets.md, read
// literally (linear scans, no runs).
struct Reference {
  int64_t start_up = 0;
  int64_t start_down = 0;
  int64_t scanned_up = 0;
  int64_t next_down = 0;
  std::vector<std::pair<int64_t, int64_t>> pairs;

  Translation translate(int64_t u) const {
    if (u < start_up) return kOlder;
    if (u > scanned_up) return kNotYet;
    if (u == scanned_up) return exact(next_down);
    for (auto [pu, pd] : pairs) {
      if (pu >= u) return exact(pd);
    }
    return exact(next_down);
  }

  Translation translate_back(int64_t d) const {
    if (d < start_down) return kOlder;
    if (d > next_down) return kNotYet;
    if (d == next_down) return exact(scanned_up);
    for (auto [pu, pd] : pairs) {
      if (pd >= d) return exact(pu);
    }
    return exact(scanned_up);
  }

  void trim_below(int64_t u) {
    u = std::min(u, scanned_up);
    if (u <= start_up) return;
    for (auto [pu, pd] : pairs) {
      if (pu < u) start_down = pd + 1;
    }
    start_up = u;
    std::erase_if(pairs, [&](const auto& p) { return p.first < u; });
  }

  // The canonical runs of the pairs.
  std::vector<Run> runs() const {
    std::vector<Run> out;
    for (auto [u, d] : pairs) {
      if (!out.empty() && out.back().up + out.back().length == u &&
          out.back().down + out.back().length == d) {
        ++out.back().length;
      } else {
        out.push_back({u, d, 1});
      }
    }
    return out;
  }
};

// Every invariant of offset_map.h, checked through the public interface only.
void expect_invariants(const PartitionOffsetMap& m) {
  EXPECT_LE(0, m.start_up());
  EXPECT_LE(m.start_up(), m.scanned_up());
  EXPECT_LE(0, m.start_down());
  EXPECT_LE(m.start_down(), m.next_down());
  int64_t prev_up = m.start_up();
  int64_t prev_down = m.start_down();
  for (size_t i = 0; i < m.runs().size(); ++i) {
    const Run& r = m.runs()[i];
    EXPECT_GE(r.length, 1);
    EXPECT_GE(r.up, prev_up);
    EXPECT_GE(r.down, prev_down);
    if (i > 0) {
      EXPECT_FALSE(r.up == prev_up && r.down == prev_down) << "adjacent runs not merged at " << i;
    }
    prev_up = r.up + r.length;
    prev_down = r.down + r.length;
  }
  EXPECT_LE(prev_up, m.scanned_up());
  EXPECT_LE(prev_down, m.next_down());
}

void expect_same_translations(const PartitionOffsetMap& m, const Reference& ref) {
  ASSERT_EQ(m.start_up(), ref.start_up);
  ASSERT_EQ(m.start_down(), ref.start_down);
  ASSERT_EQ(m.scanned_up(), ref.scanned_up);
  ASSERT_EQ(m.next_down(), ref.next_down);
  ASSERT_EQ(m.runs(), ref.runs());
  for (int64_t u = ref.start_up - 2; u <= ref.scanned_up + 2; ++u) {
    ASSERT_EQ(m.translate(u), ref.translate(u)) << "source offset " << u;
  }
  for (int64_t d = ref.start_down - 2; d <= ref.next_down + 2; ++d) {
    ASSERT_EQ(m.translate_back(d), ref.translate_back(d)) << "target offset " << d;
  }
}

// Random maps: mostly lockstep copying, with gaps on either side, scanned/next advances, occasional trims
// and rejected out-of-order pairs. The map and the reference take the same steps.
struct RandomMap {
  PartitionOffsetMap map;
  Reference ref;
};

RandomMap random_map(std::mt19937_64& rng, bool with_trims, int64_t base = 0) {
  auto pick = [&](int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); };
  auto gap = [&] { return pick(0, 9) < 7 ? 0 : pick(1, 4); };
  RandomMap rm;
  const int64_t start_up = base + pick(0, 20);
  const int64_t next_down = base + pick(0, 20);
  EXPECT_TRUE(rm.map.begin(start_up, next_down).ok());
  rm.ref = {start_up, next_down, start_up, next_down, {}};
  const int steps = static_cast<int>(pick(0, 120));
  for (int i = 0; i < steps; ++i) {
    const int64_t what = pick(0, 99);
    if (what < 75) {
      const int64_t u = rm.ref.scanned_up + gap();
      const int64_t d = rm.ref.next_down + gap();
      EXPECT_TRUE(rm.map.record(u, d).ok());
      rm.ref.pairs.emplace_back(u, d);
      rm.ref.scanned_up = u + 1;
      rm.ref.next_down = d + 1;
    } else if (what < 83) {
      const int64_t u = rm.ref.scanned_up + pick(0, 3);
      EXPECT_TRUE(rm.map.advance_scanned(u).ok());
      rm.ref.scanned_up = u;
    } else if (what < 88) {
      const int64_t d = rm.ref.next_down + pick(0, 3);
      EXPECT_TRUE(rm.map.advance_down(d).ok());
      rm.ref.next_down = d;
    } else if (what < 93) {
      if (with_trims) {
        const int64_t u = rm.ref.start_up + pick(0, rm.ref.scanned_up - rm.ref.start_up + 2);
        rm.map.trim_below(u);
        rm.ref.trim_below(u);
      }
    } else {
      // Out of order on one side or both: rejected, nothing changes.
      const PartitionOffsetMap before = rm.map;
      const int64_t u = pick(0, 1) ? rm.ref.scanned_up - pick(1, 3) : rm.ref.scanned_up;
      const int64_t d =
          u < rm.ref.scanned_up && pick(0, 1) ? rm.ref.next_down : rm.ref.next_down - pick(1, 3);
      EXPECT_FALSE(rm.map.record(u, d).ok());
      EXPECT_EQ(rm.map, before);
    }
  }
  return rm;
}

// ---- recording ----

TEST(OffsetMap, LockstepCopyIsOneRun) {
  PartitionOffsetMap m = begun(1000, 40);
  for (int64_t i = 0; i < 10000; ++i) ASSERT_TRUE(m.record(1000 + i, 40 + i).ok());
  EXPECT_EQ(m.runs(), (Runs{{1000, 40, 10000}}));
  EXPECT_EQ(m.scanned_up(), 11000);
  EXPECT_EQ(m.next_down(), 10040);
  EXPECT_EQ(m.translate(5000), exact(4040));
  EXPECT_EQ(m.translate_back(4040), exact(5000));
}

TEST(OffsetMap, CompactionGapsUpstreamStartNewRuns) {
  PartitionOffsetMap m = begun(0, 0);
  record(m, {{0, 0}, {1, 1}, {5, 2}, {6, 3}, {9, 4}});  // 2-4 and 7-8 compacted away on the source
  EXPECT_EQ(m.runs(), (Runs{{0, 0, 2}, {5, 2, 2}, {9, 4, 1}}));
  EXPECT_EQ(m.translate(2), exact(2));  // a consumer at 2 reads 5 next, which is at 2 on the target
  EXPECT_EQ(m.translate(4), exact(2));
  EXPECT_EQ(m.translate(7), exact(4));
  EXPECT_EQ(m.translate(10), exact(5));
}

TEST(OffsetMap, TransactionMarkersDownstreamStartNewRuns) {
  PartitionOffsetMap m = begun(0, 0);
  record(m, {{0, 0}, {1, 1}, {2, 3}, {3, 4}, {4, 6}});  // commit markers at target offsets 2 and 5
  EXPECT_EQ(m.runs(), (Runs{{0, 0, 2}, {2, 3, 2}, {4, 6, 1}}));
  EXPECT_EQ(m.translate(2), exact(3));  // the marker at 2 is skipped, nothing is re-read
  EXPECT_EQ(m.translate(4), exact(6));
  EXPECT_EQ(m.translate(5), exact(7));
  EXPECT_EQ(m.translate_back(2), exact(2));
  EXPECT_EQ(m.translate_back(5), exact(4));
}

TEST(OffsetMap, GapsOnBothSides) {
  PartitionOffsetMap m = begun(10, 100);
  record(m, {{10, 100}, {13, 102}, {14, 103}, {15, 105}});
  ASSERT_TRUE(m.advance_scanned(20).ok());  // 16-19: a source transaction marker and aborted records
  EXPECT_EQ(m.runs(), (Runs{{10, 100, 1}, {13, 102, 2}, {15, 105, 1}}));
  EXPECT_EQ(m.translate(11), exact(102));
  EXPECT_EQ(m.translate(15), exact(105));
  EXPECT_EQ(m.translate(16), exact(106));
  EXPECT_EQ(m.translate(19), exact(106));
  EXPECT_EQ(m.translate(20), exact(106));
  EXPECT_EQ(m.translate(21), kNotYet);
  EXPECT_EQ(m.translate_back(101), exact(13));
  EXPECT_EQ(m.translate_back(104), exact(15));
  EXPECT_EQ(m.translate_back(106), exact(20));
}

// The example table of docs/offsets.md.
TEST(OffsetMap, WorkedExampleFromDocs) {
  PartitionOffsetMap m = begun(100, 50);
  record(m, {{100, 50}, {101, 51}, {102, 52}, {105, 54}, {106, 55}, {108, 57}});
  ASSERT_TRUE(m.advance_scanned(109).ok());
  EXPECT_EQ(m.runs(), (Runs{{100, 50, 3}, {105, 54, 2}, {108, 57, 1}}));
  const std::vector<std::pair<int64_t, Translation>> forward = {
      {99, kOlder},     {100, exact(50)}, {102, exact(52)}, {103, exact(54)},
      {104, exact(54)}, {105, exact(54)}, {106, exact(55)}, {107, exact(57)},
      {108, exact(57)}, {109, exact(58)}, {110, kNotYet}};
  for (auto [u, t] : forward) EXPECT_EQ(m.translate(u), t) << u;
  const std::vector<std::pair<int64_t, Translation>> back = {
      {49, kOlder},     {50, exact(100)}, {52, exact(102)}, {53, exact(105)}, {54, exact(105)},
      {55, exact(106)}, {56, exact(108)}, {57, exact(108)}, {58, exact(109)}, {59, kNotYet}};
  for (auto [d, t] : back) EXPECT_EQ(m.translate_back(d), t) << d;
  EXPECT_EQ(encode(m), bytes({1, 1, 100, 50, 0, 0, 3, 0, 0, 2, 2, 1, 1, 1, 1, 0, 0, 0}));
}

TEST(OffsetMap, NothingMirroredTranslatesOnlyTheStart) {
  PartitionOffsetMap m = begun(7, 3);
  EXPECT_EQ(m.translate(6), kOlder);
  EXPECT_EQ(m.translate(7), exact(3));
  EXPECT_EQ(m.translate(8), kNotYet);
  EXPECT_EQ(m.translate_back(2), kOlder);
  EXPECT_EQ(m.translate_back(3), exact(7));
  EXPECT_EQ(m.translate_back(4), kNotYet);
  // Scanning without mirroring anything (all markers) moves the source side only.
  ASSERT_TRUE(m.advance_scanned(12).ok());
  EXPECT_EQ(m.translate(9), exact(3));
  EXPECT_EQ(m.translate(12), exact(3));
  EXPECT_EQ(m.translate(13), kNotYet);
  EXPECT_EQ(m.translate_back(3), exact(12));
}

TEST(OffsetMap, TranslateAtEveryBoundary) {
  // start 10/100; runs [12,15)->[101,104), [18,20)->[107,109); scanned 23; next_down 110.
  PartitionOffsetMap m = begun(10, 100);
  record(m, {{12, 101}, {13, 102}, {14, 103}, {18, 107}, {19, 108}});
  ASSERT_TRUE(m.advance_scanned(23).ok());
  ASSERT_TRUE(m.advance_down(110).ok());
  EXPECT_EQ(m.translate(9), kOlder);       // start_up - 1
  EXPECT_EQ(m.translate(10), exact(101));  // start_up, before the first run
  EXPECT_EQ(m.translate(11), exact(101));  // gap before the first run
  EXPECT_EQ(m.translate(12), exact(101));  // first run start
  EXPECT_EQ(m.translate(14), exact(103));  // first run end
  EXPECT_EQ(m.translate(15), exact(107));  // gap
  EXPECT_EQ(m.translate(17), exact(107));  // gap end
  EXPECT_EQ(m.translate(18), exact(107));  // second run start
  EXPECT_EQ(m.translate(19), exact(108));  // second run end
  EXPECT_EQ(m.translate(20), exact(110));  // after the last run: next_down
  EXPECT_EQ(m.translate(22), exact(110));  // scanned_up - 1
  EXPECT_EQ(m.translate(23), exact(110));  // scanned_up
  EXPECT_EQ(m.translate(24), kNotYet);     // scanned_up + 1
  EXPECT_EQ(m.translate(-1), kOlder);
  EXPECT_EQ(m.translate(kMax), kNotYet);
  EXPECT_EQ(m.translate(std::numeric_limits<int64_t>::min()), kOlder);
}

TEST(OffsetMap, TranslateBackAtEveryBoundary) {
  PartitionOffsetMap m = begun(10, 100);
  record(m, {{12, 101}, {13, 102}, {14, 103}, {18, 107}, {19, 108}});
  ASSERT_TRUE(m.advance_scanned(23).ok());
  ASSERT_TRUE(m.advance_down(110).ok());
  EXPECT_EQ(m.translate_back(99), kOlder);      // start_down - 1
  EXPECT_EQ(m.translate_back(100), exact(12));  // start_down, before the first run
  EXPECT_EQ(m.translate_back(101), exact(12));  // first run start
  EXPECT_EQ(m.translate_back(103), exact(14));  // first run end
  EXPECT_EQ(m.translate_back(104), exact(18));  // gap (markers)
  EXPECT_EQ(m.translate_back(106), exact(18));  // gap end
  EXPECT_EQ(m.translate_back(107), exact(18));  // second run start
  EXPECT_EQ(m.translate_back(108), exact(19));  // second run end
  EXPECT_EQ(m.translate_back(109), exact(23));  // after the last run: scanned_up
  EXPECT_EQ(m.translate_back(110), exact(23));  // next_down
  EXPECT_EQ(m.translate_back(111), kNotYet);    // next_down + 1
  EXPECT_EQ(m.translate_back(-5), kOlder);
  EXPECT_EQ(m.translate_back(kMax), kNotYet);
}

TEST(OffsetMap, RejectsOutOfOrderRecords) {
  PartitionOffsetMap m = begun(10, 100);
  record(m, {{10, 100}, {11, 101}, {15, 104}});
  const PartitionOffsetMap before = m;
  EXPECT_FALSE(m.record(15, 105).ok());  // same source offset
  EXPECT_FALSE(m.record(12, 105).ok());  // source offset goes back
  EXPECT_FALSE(m.record(16, 104).ok());  // same target offset
  EXPECT_FALSE(m.record(16, 103).ok());  // target offset goes back
  EXPECT_FALSE(m.record(9, 99).ok());    // both, and before the start
  EXPECT_EQ(m, before);
  ASSERT_TRUE(m.advance_scanned(20).ok());
  EXPECT_FALSE(m.record(18, 110).ok());  // below scanned_up: the map already said 18 holds no data
  EXPECT_FALSE(m.record(kMax, 110).ok());
  EXPECT_FALSE(m.record(20, kMax).ok());
  EXPECT_TRUE(m.record(20, 105).ok());

  PartitionOffsetMap fresh = begun(10, 100);
  EXPECT_FALSE(fresh.record(9, 100).ok());  // before start_up
  EXPECT_FALSE(fresh.record(10, 99).ok());  // below the target's log end when mirroring began
  EXPECT_FALSE(fresh.begin(-1, 0).ok());
  EXPECT_FALSE(fresh.begin(0, -1).ok());
  EXPECT_EQ(fresh, begun(10, 100));
}

TEST(OffsetMap, AdvancesAreMonotonic) {
  PartitionOffsetMap m = begun(10, 100);
  record(m, {{10, 100}});
  EXPECT_TRUE(m.advance_scanned(11).ok());  // no-op
  EXPECT_TRUE(m.advance_scanned(15).ok());
  EXPECT_FALSE(m.advance_scanned(14).ok());
  EXPECT_TRUE(m.advance_down(101).ok());  // no-op
  EXPECT_TRUE(m.advance_down(103).ok());
  EXPECT_FALSE(m.advance_down(102).ok());
  EXPECT_EQ(m.scanned_up(), 15);
  EXPECT_EQ(m.next_down(), 103);
  EXPECT_EQ(m.translate(11), exact(103));
  EXPECT_EQ(m.translate_back(101), exact(15));
  EXPECT_EQ(m.translate_back(102), exact(15));
  // The next record starts a run on both sides: nothing is adjacent any more.
  record(m, {{15, 103}});
  EXPECT_EQ(m.runs(), (Runs{{10, 100, 1}, {15, 103, 1}}));
}

TEST(OffsetMap, TrimBelowDropsAndCutsRuns) {
  PartitionOffsetMap m = begun(10, 100);
  record(m, {{10, 100}, {11, 101}, {14, 102}, {15, 103}, {16, 104}, {20, 110}});
  ASSERT_TRUE(m.advance_scanned(25).ok());
  EXPECT_EQ(m.trim_below(5), 0u);  // below the start: nothing
  EXPECT_EQ(m.start_up(), 10);
  EXPECT_EQ(m.trim_below(12), 1u);  // in the gap after the first run: dropped
  EXPECT_EQ(m.start_up(), 12);
  EXPECT_EQ(m.start_down(), 102);
  EXPECT_EQ(m.runs(), (Runs{{14, 102, 3}, {20, 110, 1}}));
  EXPECT_EQ(m.translate(11), kOlder);
  EXPECT_EQ(m.translate(12), exact(102));
  EXPECT_EQ(m.translate_back(101), kOlder);
  EXPECT_EQ(m.translate_back(102), exact(14));
  EXPECT_EQ(m.trim_below(15), 0u);  // inside a run: cut
  EXPECT_EQ(m.runs(), (Runs{{15, 103, 2}, {20, 110, 1}}));
  EXPECT_EQ(m.start_down(), 103);
  EXPECT_EQ(m.translate(16), exact(104));
  EXPECT_EQ(m.trim_below(21), 2u);  // everything mirrored is gone
  EXPECT_TRUE(m.runs().empty());
  EXPECT_EQ(m.start_up(), 21);
  EXPECT_EQ(m.start_down(), 111);
  EXPECT_EQ(m.translate(21), exact(111));
  EXPECT_EQ(m.translate(25), exact(111));
  EXPECT_EQ(m.translate_back(111), exact(25));
  EXPECT_EQ(m.trim_below(1000), 0u);  // clamped to scanned_up
  EXPECT_EQ(m.start_up(), 25);
  EXPECT_EQ(m.scanned_up(), 25);
  EXPECT_EQ(m.translate(25), exact(111));
  expect_invariants(m);

  // In a gap before target markers: the map starts on the target right after the last record dropped,
  // whatever is mirrored later.
  PartitionOffsetMap g = begun(0, 0);
  record(g, {{0, 0}, {5, 3}});
  EXPECT_EQ(g.trim_below(3), 1u);
  EXPECT_EQ(g.start_down(), 1);
  EXPECT_EQ(g.translate(2), kOlder);
  EXPECT_EQ(g.translate(3), exact(3));
  EXPECT_EQ(g.translate_back(0), kOlder);
  EXPECT_EQ(g.translate_back(1), exact(5));
  expect_invariants(g);
}

// ---- property tests against the brute-force reference ----

TEST(OffsetMapProperty, TranslateMatchesBruteForce) {
  std::mt19937_64 rng(20240611);
  for (int i = 0; i < 400; ++i) {
    SCOPED_TRACE("map " + std::to_string(i));
    RandomMap rm = random_map(rng, /*with_trims=*/i % 2 == 1);
    expect_invariants(rm.map);
    expect_same_translations(rm.map, rm.ref);
    if (HasFatalFailure()) return;
  }
}

TEST(OffsetMapEncoding, RoundTripsRandomMaps) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 400; ++i) {
    SCOPED_TRACE("map " + std::to_string(i));
    // Some maps far up the offset range, where varints take up to nine bytes.
    const int64_t base = i % 4 == 3 ? kMax / 2 + static_cast<int64_t>(rng() % 1000) : 0;
    RandomMap rm = random_map(rng, /*with_trims=*/true, base);
    const std::string b = encode(rm.map);
    auto back = decode(b);
    ASSERT_TRUE(back.ok()) << back.error();
    EXPECT_EQ(*back, rm.map);
    EXPECT_EQ(encode(*back), b);
    if (base == 0) expect_same_translations(*back, rm.ref);
  }
}

TEST(OffsetMapEncoding, LockstepCopyCostsAFewBytes) {
  PartitionOffsetMap m = begun(1'000'000'000, 5'000'000);
  for (int64_t i = 0; i < 100000; ++i) ASSERT_TRUE(m.record(1'000'000'000 + i, 5'000'000 + i).ok());
  // version, kind (2) + start_up (5) + start_down (4) + base gaps (2) + count (1) + the run (1 + 1 + 3)
  // + scanned and next gaps (2).
  EXPECT_EQ(encode(m).size(), 21u);
  // One transaction marker downstream every 500 records: a new run each time, ~4 bytes each.
  PartitionOffsetMap t = begun(0, 0);
  for (int64_t i = 0, d = 0; i < 100000; ++i, ++d) {
    if (i > 0 && i % 500 == 0) ++d;
    ASSERT_TRUE(t.record(i, d).ok());
  }
  EXPECT_EQ(t.runs().size(), 200u);
  EXPECT_LE(encode(t).size(), 200u * 4 + 16);
}

TEST(OffsetMapEncoding, DeltasRebuildTheMap) {
  std::mt19937_64 rng(99);
  auto pick = [&](int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); };
  for (int round = 0; round < 150; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    PartitionOffsetMap sender;
    ASSERT_TRUE(sender.begin(pick(0, 50), pick(0, 50)).ok());
    auto receiver = decode(encode(sender));  // the snapshot written when mirroring begins
    ASSERT_TRUE(receiver.ok());
    size_t since = 0;
    std::string previous;
    const int commits = static_cast<int>(pick(1, 30));
    for (int c = 0; c < commits; ++c) {
      const int steps = static_cast<int>(pick(0, 20));
      for (int s = 0; s < steps; ++s) {
        const int64_t what = pick(0, 99);
        const int64_t gap_u = pick(0, 9) < 7 ? 0 : pick(1, 3);
        const int64_t gap_d = pick(0, 9) < 7 ? 0 : pick(1, 3);
        if (what < 85) {
          ASSERT_TRUE(sender.record(sender.scanned_up() + gap_u, sender.next_down() + gap_d).ok());
        } else if (what < 93) {
          ASSERT_TRUE(sender.advance_scanned(sender.scanned_up() + gap_u).ok());
        } else if (what < 96) {
          ASSERT_TRUE(sender.advance_down(sender.next_down() + gap_d).ok());
        } else {
          const size_t dropped = sender.trim_below(sender.start_up() + pick(0, 10));
          since -= std::min(since, dropped);
        }
      }
      const std::string delta = encode_delta(sender, since);
      auto applied = apply_delta(*receiver, delta);
      ASSERT_TRUE(applied.ok()) << applied.error();
      ASSERT_EQ(*receiver, sender);
      // Idempotent: the same delta again, or the previous one, changes nothing.
      ASSERT_TRUE(apply_delta(*receiver, delta).ok());
      if (!previous.empty()) {
        ASSERT_TRUE(apply_delta(*receiver, previous).ok());
      }
      ASSERT_EQ(*receiver, sender);
      previous = delta;
      since = sender.runs().empty() ? 0 : sender.runs().size() - 1;
    }
    // A snapshot applies as a delta too, and agrees.
    ASSERT_TRUE(apply_delta(*receiver, encode(sender)).ok());
    ASSERT_EQ(*receiver, sender);
    expect_invariants(*receiver);
  }
}

TEST(OffsetMapEncoding, DeltaIsSmall) {
  PartitionOffsetMap m = begun(1'000'000, 2'000'000);
  for (int64_t i = 0; i < 1000; ++i) ASSERT_TRUE(m.record(1'000'000 + i, 2'000'000 + i).ok());
  // A commit after another 1000 lockstep records re-sends the grown run: well under 20 bytes.
  for (int64_t i = 1000; i < 2000; ++i) ASSERT_TRUE(m.record(1'000'000 + i, 2'000'000 + i).ok());
  EXPECT_LE(encode_delta(m, 0).size(), 20u);
}

TEST(OffsetMapEncoding, DeltaRejectsAGapAndDisagreement) {
  PartitionOffsetMap sender = begun(0, 0);
  record(sender, {{0, 0}, {1, 1}});
  PartitionOffsetMap receiver = sender;
  record(sender, {{5, 3}});
  const std::string lost = encode_delta(sender, 1);
  record(sender, {{8, 6}});
  const std::string next = encode_delta(sender, 2);
  // `lost` never reached the receiver: `next` starts at source offset 6, after the receiver's 2.
  const PartitionOffsetMap before = receiver;
  auto r = apply_delta(receiver, next);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("a delta is missing"), std::string::npos) << r.error();
  EXPECT_EQ(receiver, before);
  ASSERT_TRUE(apply_delta(receiver, lost).ok());
  ASSERT_TRUE(apply_delta(receiver, next).ok());
  EXPECT_EQ(receiver, sender);

  // A different history for offsets the receiver already has.
  PartitionOffsetMap other = begun(0, 0);
  record(other, {{0, 0}, {1, 2}, {5, 3}});
  const PartitionOffsetMap snapshot = receiver;
  r = apply_delta(receiver, encode_delta(other, 0));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("disagrees"), std::string::npos) << r.error();
  // Saying "no data" where the receiver has a mirrored record is a disagreement too.
  PartitionOffsetMap empty = begun(0, 0);
  ASSERT_TRUE(empty.advance_scanned(3).ok());
  EXPECT_FALSE(apply_delta(receiver, encode_delta(empty, 0)).ok());
  // New pairs below the receiver's next target offset.
  PartitionOffsetMap behind = receiver;
  ASSERT_TRUE(behind.advance_down(100).ok());
  PartitionOffsetMap ahead = receiver;
  record(ahead, {{9, 50}});
  EXPECT_FALSE(apply_delta(behind, encode_delta(ahead, 0)).ok());
  EXPECT_EQ(receiver, snapshot);
}

TEST(OffsetMapEncoding, DeltaAfterATrimPastTheReceiver) {
  PartitionOffsetMap sender = begun(0, 0);
  record(sender, {{0, 0}, {1, 1}});
  PartitionOffsetMap receiver = sender;  // the last commit
  size_t since = 0;
  record(sender, {{4, 3}, {7, 6}, {8, 7}});
  // The source's log start moved past everything the receiver knows; the delta starts at the new start.
  since -= std::min(since, sender.trim_below(6));
  EXPECT_EQ(sender.start_down(), 4);
  auto r = apply_delta(receiver, encode_delta(sender, since));
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(receiver, sender);
}

// ---- corrupt input ----

TEST(OffsetMapEncoding, DecodeRejectsCorruptInput) {
  const std::string good = bytes({1, 1, 100, 50, 0, 0, 3, 0, 0, 2, 2, 1, 1, 1, 1, 0, 0, 0});
  ASSERT_TRUE(decode(good).ok());
  auto rejects = [](const std::string& b, const std::string& why) {
    auto r = decode(b);
    EXPECT_FALSE(r.ok()) << why;
    if (!r.ok()) {
      EXPECT_NE(r.error().find("offset map: "), std::string::npos) << r.error();
    }
  };
  for (size_t n = 0; n < good.size(); ++n) rejects(good.substr(0, n), "prefix of " + std::to_string(n));
  rejects(good + '\0', "trailing byte");
  rejects(bytes({2, 1, 0, 0, 0, 0, 0, 0, 0}), "unknown version");
  rejects(bytes({0, 1, 0, 0, 0, 0, 0, 0, 0}), "version 0");
  rejects(bytes({1, 3, 0, 0, 0, 0, 0, 0, 0}), "unknown kind");
  rejects(bytes({1, 2, 0, 0, 0, 0, 0, 0, 0}), "a delta is not a snapshot");
  rejects(bytes({1, 1, 0, 0, 1, 0, 0, 0, 0}), "snapshot with a source base gap");
  rejects(bytes({1, 1, 0, 0, 0, 1, 0, 0, 0}), "snapshot with a target base gap");
  rejects(bytes({1, 1, 0x80, 0, 0, 0, 0, 0, 0, 0}), "varint not in shortest form");
  rejects(bytes({1, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0, 0, 0, 0, 0, 0}),
          "varint of 64 bits");
  rejects(bytes({1, 1, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0}),
          "endless varint");
  // start_up = INT64_MAX, then a base gap or a scanned gap of 1: overflow.
  rejects(bytes({1, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0, 1, 0, 0, 0, 0}),
          "base overflow");
  rejects(bytes({1, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0, 1, 0}),
          "scanned overflow");
  // Run length INT64_MAX + 1.
  rejects(bytes({1, 1, 0, 0, 0, 0, 1, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0, 0}),
          "length overflow");
  // A run of INT64_MAX records from source offset 1: its end overflows.
  rejects(bytes({1, 1, 1, 0, 0, 0, 1, 0, 0, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0, 0}),
          "run end overflow");
  rejects(bytes({1, 1, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0}), "unmerged runs");
  rejects(bytes({1, 1, 0, 0, 0, 0, 0x7f, 0, 0}), "run count beyond the input");
  rejects(bytes({1, 1, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0, 0}),
          "huge run count");

  // The extreme that is valid: everything at INT64_MAX.
  auto top = decode(bytes({1,    1,    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0xff, 0xff,
                           0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0,    0,    0,    0,    0}));
  ASSERT_TRUE(top.ok()) << top.error();
  EXPECT_EQ(top->translate(kMax), exact(kMax));
  EXPECT_FALSE(top->record(kMax, kMax).ok());
}

// libFuzzer-free fuzzing: random bytes, and valid encodings truncated, extended and with bytes changed.
// Nothing may crash (the sanitizer build checks memory and UB); whatever decodes is a valid map that
// re-encodes to the same bytes; whatever applies leaves a valid map.
void expect_safe(const std::string& b, const PartitionOffsetMap& target) {
  auto m = decode(b);
  if (m.ok()) {
    expect_invariants(*m);
    EXPECT_EQ(encode(*m), b);
    (void)m->translate(m->scanned_up());
    (void)m->translate_back(m->start_down());
  }
  PartitionOffsetMap t = target;
  auto applied = apply_delta(t, b);
  if (applied.ok()) {
    expect_invariants(t);
  } else {
    EXPECT_EQ(t, target);
  }
}

TEST(OffsetMapFuzz, RandomBytes) {
  std::mt19937_64 rng(12345);
  RandomMap target = random_map(rng, true);
  for (int i = 0; i < 20000; ++i) {
    std::string b(rng() % 40, '\0');
    for (char& c : b) c = static_cast<char>(rng());
    // Mostly a valid header, so the fuzzing gets past the first two bytes.
    if (b.size() >= 2 && rng() % 4 != 0) {
      b[0] = 1;
      b[1] = static_cast<char>(1 + rng() % 2);
    }
    expect_safe(b, target.map);
    if (HasFailure()) return;
  }
}

TEST(OffsetMapFuzz, MutatedEncodings) {
  std::mt19937_64 rng(54321);
  for (int i = 0; i < 300; ++i) {
    RandomMap rm = random_map(rng, true, i % 3 == 2 ? kMax - 5000 : 0);
    const std::string good =
        rng() % 2 ? encode(rm.map) : encode_delta(rm.map, rng() % (rm.map.runs().size() + 1));
    for (size_t n = 0; n < good.size(); ++n) expect_safe(good.substr(0, n), rm.map);
    for (int j = 0; j < 60; ++j) {
      std::string b = good;
      const int edits = 1 + static_cast<int>(rng() % 3);
      for (int e = 0; e < edits && !b.empty(); ++e) {
        const size_t at = rng() % b.size();
        switch (rng() % 4) {
          case 0: b[at] = static_cast<char>(rng()); break;
          case 1: b[at] = static_cast<char>(b[at] ^ (1 << (rng() % 8))); break;
          case 2: b.erase(at, 1); break;
          default: b.insert(at, 1, static_cast<char>(rng())); break;
        }
      }
      expect_safe(b, rm.map);
    }
    if (HasFailure()) return;
  }
}

}  // namespace
}  // namespace mirror::offsets

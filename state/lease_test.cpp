// The lease rules are a pure function of the lock topic's log: tested here without a broker.
#include "state/lease.h"

#include <gtest/gtest.h>

namespace mirror::state {
namespace {

int64_t next_offset = 0;

LeaseEvent ev(LeaseOp op, std::string id, int64_t ts, int64_t ttl = 10'000, std::string lease = "apply") {
  return {.lease = std::move(lease),
          .op = op,
          .id = std::move(id),
          .owner = "u@h",
          .purpose = "",
          .ttl_ms = ttl,
          .ts_ms = ts,
          .offset = next_offset++};
}

// Standbys: whoever was refused the lease shows as waiting (by owner, latest attempt) until it holds it.
TEST(LeaseFold, RefusedAttemptsAreWaitersUntilTheyHoldTheLease) {
  auto as = [](LeaseEvent e, std::string owner) {
    e.owner = std::move(owner);
    return e;
  };
  LeaseFolder f{"apply"};
  f.apply(as(ev(LeaseOp::acquire, "a", 0), "engine-1"));
  f.apply(as(ev(LeaseOp::acquire, "b1", 1'000), "engine-2"));
  f.apply(as(ev(LeaseOp::acquire, "b2", 6'000), "engine-2"));
  f.apply(as(ev(LeaseOp::renew, "a", 7'000), "engine-1"));
  ASSERT_EQ(f.waiting().size(), 1u);
  EXPECT_EQ(f.waiting().at("engine-2").last_ms, 6'000);
  EXPECT_FALSE(f.waiting().count("engine-1"));  // the holder's own renewals are no attempts
  f.apply(as(ev(LeaseOp::release, "a", 8'000), "engine-1"));
  f.apply(as(ev(LeaseOp::acquire, "b3", 9'000), "engine-2"));
  EXPECT_EQ(f.holder()->owner, "engine-2");
  EXPECT_TRUE(f.waiting().empty());
}

TEST(LeaseFold, FreeUntilAcquiredAndFirstAcquireWins) {
  EXPECT_FALSE(fold({}, "apply"));
  auto h = fold({ev(LeaseOp::acquire, "a", 100), ev(LeaseOp::acquire, "b", 101)}, "apply");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->id, "a");
  EXPECT_EQ(h->since_ms, 100);
  EXPECT_EQ(h->expires_ms, 10'100);
}

TEST(LeaseFold, RenewalExtendsOnlyTheHolder) {
  auto h =
      fold({ev(LeaseOp::acquire, "a", 0), ev(LeaseOp::renew, "a", 9'000), ev(LeaseOp::acquire, "b", 15'000)},
           "apply");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->id, "a");  // renewed at 9 s: held until 19 s, so b's attempt at 15 s loses
  EXPECT_EQ(h->expires_ms, 19'000);
  EXPECT_EQ(h->since_ms, 0);
}

TEST(LeaseFold, ExpiredHoldingIsFreeForTheNextComer) {
  auto h = fold({ev(LeaseOp::acquire, "a", 0), ev(LeaseOp::acquire, "b", 10'000)}, "apply");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->id, "b");  // expires_ms <= ts: expired exactly at 10 s
  EXPECT_EQ(h->since_ms, 10'000);
}

TEST(LeaseFold, HolderPausedPastItsTtlCannotRenewItBack) {
  auto h = fold({ev(LeaseOp::acquire, "a", 0), ev(LeaseOp::acquire, "b", 12'000),
                 ev(LeaseOp::renew, "b", 15'000), ev(LeaseOp::renew, "a", 20'000)},
                "apply");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->id, "b");
}

TEST(LeaseFold, ALostLeaseIsNotTakenBackByRenewing) {
  // Nobody took it while a was paused, or it was force-unlocked: a's renewal does not hold it again.
  EXPECT_FALSE(fold({ev(LeaseOp::acquire, "a", 0), ev(LeaseOp::renew, "a", 30'000)}, "apply"));
  EXPECT_FALSE(
      fold({ev(LeaseOp::acquire, "a", 0), ev(LeaseOp::force_release, "a", 1), ev(LeaseOp::renew, "a", 2)},
           "apply"));
}

TEST(LeaseFold, RenewalFirstInTheLogStandsForItsHolding) {
  // Retention removed the acquire of a long-held lease: its renewals still count.
  auto h = fold({ev(LeaseOp::renew, "a", 100), ev(LeaseOp::acquire, "b", 200)}, "apply");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->id, "a");
}

TEST(LeaseFold, ReleaseAndForceReleaseNeedTheHoldersId) {
  EXPECT_TRUE(fold({ev(LeaseOp::acquire, "a", 0), ev(LeaseOp::release, "b", 1)}, "apply"));
  EXPECT_FALSE(fold({ev(LeaseOp::acquire, "a", 0), ev(LeaseOp::release, "a", 1)}, "apply"));
  EXPECT_TRUE(fold({ev(LeaseOp::acquire, "a", 0), ev(LeaseOp::force_release, "x", 1)}, "apply"));
  auto h =
      fold({ev(LeaseOp::acquire, "a", 0), ev(LeaseOp::force_release, "a", 1), ev(LeaseOp::acquire, "b", 2)},
           "apply");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->id, "b");
}

TEST(LeaseFold, ProbeOnlyMovesTime) {
  EXPECT_TRUE(fold({ev(LeaseOp::acquire, "a", 0), ev(LeaseOp::probe, "", 9'999)}, "apply"));
  EXPECT_FALSE(fold({ev(LeaseOp::acquire, "a", 0), ev(LeaseOp::probe, "", 10'000)}, "apply"));
}

TEST(LeaseFold, LeasesAreIndependent) {
  auto events = std::vector<LeaseEvent>{ev(LeaseOp::acquire, "a", 0, 10'000, "apply"),
                                        ev(LeaseOp::acquire, "e", 1, 10'000, "engine/x")};
  EXPECT_EQ(fold(events, "apply")->id, "a");
  EXPECT_EQ(fold(events, "engine/x")->id, "e");
  EXPECT_FALSE(fold(events, "engine/y"));
}

TEST(LeaseEvents, RoundTripAndForeignRecordsAreIgnored) {
  LeaseEvent e{.lease = "apply",
               .op = LeaseOp::force_release,
               .id = "0011",
               .owner = "ops@laptop",
               .purpose = "apply plan abc",
               .ttl_ms = 5};
  auto back = decode_event("apply", encode_event(e), 42, 7);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->op, LeaseOp::force_release);
  EXPECT_EQ(back->id, "0011");
  EXPECT_EQ(back->owner, "ops@laptop");
  EXPECT_EQ(back->purpose, "apply plan abc");
  EXPECT_EQ(back->ttl_ms, 5);
  EXPECT_EQ(back->ts_ms, 42);
  EXPECT_EQ(back->offset, 7);
  EXPECT_FALSE(decode_event("lock", R"({"owner":"old format"})", 0, 0));
  EXPECT_FALSE(decode_event("apply", "not json", 0, 0));
  EXPECT_FALSE(decode_event("apply", R"({"format":1,"op":"steal","id":"x"})", 0, 0));
  EXPECT_FALSE(decode_event("apply", R"({"format":1,"op":"acquire"})", 0, 0));  // no id
}

TEST(LeaseDescribe, NamesOwnerSinceIdAndExpiry) {
  LeaseHolder h{"1a2b", "deploy@runner-7", "apply plan 0123", 1764064800000, 3, 1764064860000};
  EXPECT_EQ(describe(h),
            "deploy@runner-7 since 2025-11-25T10:00:00Z (lease 1a2b, apply plan 0123; expires "
            "2025-11-25T10:01:00Z unless renewed)");
}

}  // namespace
}  // namespace mirror::state

// Hostile records in mirror's own topics (issue 14): every decoder is strict, and every reader skips a
// record it cannot decode, names it once, never quotes its value, and keeps the previous readable record
// of the key. Tested on the pure folds the readers use, without a broker.
#include <gtest/gtest.h>

#include <string>

#include "state/lease.h"
#include "state/mm2_progress.h"
#include "state/progress.h"
#include "state/state.h"

namespace mirror::state {
namespace {

// A marker that must never appear in a reason: reasons describe, they do not quote.
constexpr const char* kMarker = "hunter2-SECRET";

AppliedRecord applied(const std::string& flow, const std::string& revision) {
  AppliedRecord r;
  r.flow = flow;
  r.revision = revision;
  r.spec_source = "git@example.com:acme/specs.git";
  r.spec_commit = "9f2c";
  r.content_hash = "abc";
  r.applied_at = "2026-11-25T21:14:43Z";
  r.applied_by = "deploy@runner-7";
  r.mirror_version = "0.1.0";
  r.managed_topics = {"A.orders"};
  r.managed_acls = {{"TOPIC", "A.orders", "LITERAL", "User:alice", "*", "READ", "ALLOW"}};
  return r;
}

std::string nested(int depth) { return std::string(depth, '[') + std::string(depth, ']'); }

TEST(AppliedRecordDecoding, RoundTripsAndIsStrict) {
  AppliedRecord r = applied("a-to-b", "rev1");
  r.failed_over_at = "2026-11-26T00:00:00Z";
  r.failed_over_by = "ops@laptop";
  r.policy_overrides = {{"max-actions", "CHG-1", {"A.orders"}}};
  std::string why;
  auto back = from_json(to_json(r), &why);
  ASSERT_TRUE(back) << why;
  EXPECT_EQ(back->revision, "rev1");
  EXPECT_EQ(back->managed_acls, r.managed_acls);
  EXPECT_EQ(back->policy_overrides, r.policy_overrides);
  EXPECT_EQ(back->failed_over_by, "ops@laptop");
  EXPECT_TRUE(back->failed_over_groups.empty());
  EXPECT_TRUE(back->failed_back_at.empty());

  // The switches with their groups (issue #22); a failed_over of a mirror before it has no groups.
  r.failed_over_groups = {"billing", "search"};
  r.failed_back_at = "2026-11-27T00:00:00Z";
  r.failed_back_by = "ops@desk";
  r.failed_back_groups = {"billing"};
  back = from_json(to_json(r), &why);
  ASSERT_TRUE(back) << why;
  EXPECT_EQ(back->failed_over_groups, r.failed_over_groups);
  EXPECT_EQ(back->failed_back_at, r.failed_back_at);
  EXPECT_EQ(back->failed_back_by, "ops@desk");
  EXPECT_EQ(back->failed_back_groups, r.failed_back_groups);
  std::string old_switch = to_json(applied("f", "r"));
  old_switch.insert(old_switch.size() - 1,
                    R"(,"failed_over":{"at":"2026-11-26T00:00:00Z","by":"ops@laptop"})");
  back = from_json(old_switch, &why);
  ASSERT_TRUE(back) << why;
  EXPECT_EQ(back->failed_over_by, "ops@laptop");
  EXPECT_TRUE(back->failed_over_groups.empty());
  std::string bad_groups = to_json(applied("f", "r"));
  bad_groups.insert(bad_groups.size() - 1, R"(,"failed_back":{"at":"t","by":"b","groups":[1]})");
  EXPECT_FALSE(from_json(bad_groups, &why));
  EXPECT_EQ(why, "failed_back: field groups holds something else than strings");

  // No silent defaults: each required field missing, or of another type, is refused with its name.
  const std::string ok = to_json(applied("f", "r"));
  auto without = [&](const std::string& field, const std::string& replacement) {
    std::string t = ok;
    const auto at = t.find(field);
    EXPECT_NE(at, std::string::npos) << field;
    t.replace(at, field.size(), replacement);
    return t;
  };
  EXPECT_FALSE(from_json(without("\"revision\":\"r\"", "\"x\":1"), &why));
  EXPECT_EQ(why, "field revision is missing");
  EXPECT_FALSE(from_json(without("\"revision\":\"r\"", "\"revision\":7"), &why));
  EXPECT_EQ(why, "field revision is not a string");
  EXPECT_FALSE(from_json(without("\"applied_by\":\"deploy@runner-7\"", "\"y\":1"), &why));
  EXPECT_EQ(why, "field applied_by is missing");
  EXPECT_FALSE(from_json(without("\"topics\":[\"A.orders\"]", "\"topics\":[1]"), &why));
  EXPECT_EQ(why, "managed: field topics holds something else than strings");
  EXPECT_FALSE(from_json(without("\"principal\":\"User:alice\",", ""), &why));
  EXPECT_EQ(why, "managed.acls: field principal is missing");
  EXPECT_FALSE(from_json(without("\"format\":1", "\"format\":2"), &why));
  EXPECT_NE(why.find("format 2 is not one this mirror reads"), std::string::npos);
  EXPECT_FALSE(from_json(without("\"format\":1", "\"format\":\"1\""), &why));
  EXPECT_EQ(why, "field format is not an integer");
  EXPECT_FALSE(from_json("[]", &why));
  EXPECT_EQ(why, "the value is not a JSON object");
}

// Ownership (docs/state.md): owner is optional (records of older mirrors and unnamed specs have none);
// when present it is a non-empty string. merge_into keeps each flow's owner and resources apart.
TEST(AppliedRecordDecoding, OwnerIsOptionalAndCheckedWhenPresent) {
  AppliedRecord r = applied("a-to-b", "rev1");
  EXPECT_EQ(to_json(r).find("\"owner\""), std::string::npos);
  auto old = from_json(to_json(r));
  ASSERT_TRUE(old);
  EXPECT_EQ(old->owner, "");
  r.owner = "payments";
  auto back = from_json(to_json(r));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->owner, "payments");

  std::string text = to_json(r), why;
  const std::string field = "\"owner\":\"payments\"";
  ASSERT_NE(text.find(field), std::string::npos) << text;
  EXPECT_FALSE(from_json(std::string(text).replace(text.find(field), field.size(), "\"owner\":\"\""), &why));
  EXPECT_NE(why.find("owner"), std::string::npos) << why;
  EXPECT_FALSE(from_json(std::string(text).replace(text.find(field), field.size(), "\"owner\":7"), &why));
  EXPECT_NE(why.find("owner"), std::string::npos) << why;

  AppliedRecord other = applied("b-to-c", "rev2");
  other.managed_topics = {"A.payments", "A.ads"};
  planner::ClusterState st;
  merge_into({{"a-to-b", *back}, {"b-to-c", other}}, st);
  EXPECT_EQ(st.applied.at("a-to-b").owner, "payments");
  EXPECT_EQ(st.applied.at("b-to-c").owner, "");
  EXPECT_EQ(st.applied.at("a-to-b").managed_topics, std::vector<std::string>{"A.orders"});
  EXPECT_EQ(st.applied.at("b-to-c").managed_topics, (std::vector<std::string>{"A.ads", "A.payments"}));
  EXPECT_EQ(st.managed_topics, (std::vector<std::string>{"A.ads", "A.orders", "A.payments"}));
}

TEST(AppliedRecordDecoding, RefusesDeepAndHugeValuesBeforeParsing) {
  std::string why;
  EXPECT_FALSE(from_json(R"({"format":1,"x":)" + nested(40) + "}", &why));
  EXPECT_NE(why.find("deeper than 32"), std::string::npos) << why;
  // Brackets inside strings do not count.
  EXPECT_FALSE(from_json(R"({"format":1,"x":")" + std::string(100, '[') + "\"}", &why));
  EXPECT_EQ(why, "field flow is missing");
  EXPECT_FALSE(from_json(R"({"format":1,"x":")" + std::string(kMaxRecordBytes, 'a') + "\"}", &why));
  EXPECT_NE(why.find("more than the 1048576"), std::string::npos) << why;
  // Deeply nested input that is not even valid JSON (an unbalanced opening) is refused the same way.
  EXPECT_FALSE(from_json(std::string(100000, '['), &why));
  EXPECT_NE(why.find("deeper than 32"), std::string::npos);
}

TEST(AppliedRecordDecoding, ReasonsNeverQuoteTheValue) {
  std::string why;
  for (const std::string& v : {std::string("password=") + kMarker, std::string("{\"") + kMarker + "\": 1",
                               std::string(R"({"format":1,"flow":")") + kMarker + R"(","revision":5})"}) {
    EXPECT_FALSE(from_json(v, &why));
    EXPECT_EQ(why.find(kMarker), std::string::npos) << why;
  }
}

TEST(AppliedFold, SkipsAnUnreadableRecordAndKeepsThePreviousOne) {
  AppliedFold f;
  EXPECT_EQ(f.add("flow/a", to_json(applied("a", "r1")), 0, 10), AppliedFold::Outcome::read);
  EXPECT_EQ(f.add("flow/a", std::string("garbage ") + kMarker, 0, 11), AppliedFold::Outcome::skipped);
  EXPECT_EQ(f.add("flow/b", to_json(applied("b", "r9")), 0, 12), AppliedFold::Outcome::read);
  EXPECT_EQ(f.add("flow/c", nested(1000), 0, 13), AppliedFold::Outcome::skipped);
  EXPECT_EQ(f.add("other/key", "whatever", 0, 14), AppliedFold::Outcome::ignored);
  EXPECT_EQ(f.add(std::nullopt, "x", 0, 15), AppliedFold::Outcome::ignored);
  // A record whose flow is not its key's is not trusted for either.
  EXPECT_EQ(f.add("flow/d", to_json(applied("b", "evil")), 0, 16), AppliedFold::Outcome::skipped);
  const AppliedRead r = f.result();
  ASSERT_EQ(r.records.size(), 2u);
  EXPECT_EQ(r.records.at("a").revision, "r1");  // the previous readable record stands
  EXPECT_EQ(r.records.at("b").revision, "r9");  // other flows are untouched
  ASSERT_EQ(r.skipped.size(), 3u);              // each named once, in log order
  EXPECT_EQ(describe(r.skipped[0]),
            "mirror.state.internal[0] offset 11 (key flow/a): the value is not JSON (invalid at byte 1)");
  EXPECT_EQ(r.skipped[1].offset, 13);
  EXPECT_NE(r.skipped[1].reason.find("deeper than"), std::string::npos);
  EXPECT_EQ(r.skipped[2].reason, "field flow names another flow than the key");
  for (const auto& s : r.skipped) EXPECT_EQ(describe(s).find(kMarker), std::string::npos);
}

TEST(AppliedFold, ALaterReadableRecordOrTombstoneSupersedesTheSkippedOne) {
  AppliedFold f;
  f.add("flow/a", "garbage", 0, 1);
  f.add("flow/b", "garbage", 0, 2);
  f.add("flow/a", to_json(applied("a", "r2")), 0, 3);
  f.add("flow/b", std::nullopt, 0, 4);
  const AppliedRead r = f.result();
  EXPECT_TRUE(r.skipped.empty());
  EXPECT_EQ(r.records.at("a").revision, "r2");
  EXPECT_FALSE(r.records.count("b"));
}

TEST(AppliedFold, KeysAreMadePrintable) {
  AppliedFold f;
  f.add(std::string_view("flow/\x1b[31mred\n", 14), "garbage", 0, 1);
  ASSERT_EQ(f.result().skipped.size(), 1u);
  EXPECT_EQ(f.result().skipped[0].key, "flow/\\x1b[31mred\\x0a");
  EXPECT_EQ(printable_key(std::string(500, 'k')).size(), 203u);
}

PartitionProgress progress(const std::string& flow, const std::string& topic, int32_t partition,
                           int64_t next) {
  PartitionProgress p{flow, topic, partition, "A." + topic};
  EXPECT_TRUE(p.map.begin(next, 0));
  p.updated_at = "2026-11-25T23:00:00Z";
  return p;
}

TEST(ProgressDecoding, StrictAboutEveryField) {
  std::string why;
  const std::string ok = to_json(progress("f", "t", 0, 5));
  ASSERT_TRUE(progress_from_json(ok, &why)) << why;
  auto with = [&](const std::string& from, const std::string& to) {
    std::string t = ok;
    t.replace(t.find(from), from.size(), to);
    return t;
  };
  EXPECT_FALSE(progress_from_json(with("\"skipped\":0", "\"x\":0"), &why));
  EXPECT_EQ(why, "field skipped is missing");
  EXPECT_FALSE(progress_from_json(with("\"partition\":0", "\"partition\":0.5"), &why));
  EXPECT_EQ(why, "field partition is not an integer");
  EXPECT_FALSE(progress_from_json(with("\"partition\":0", "\"partition\":4294967296"), &why));
  EXPECT_NE(why.find("field partition is out of range"), std::string::npos);
  EXPECT_FALSE(progress_from_json(with("\"next_offset\":5", "\"next_offset\":18446744073709551615"), &why));
  EXPECT_EQ(why, "field next_offset is out of range");
  EXPECT_FALSE(progress_from_json(with("\"skipped\":0", "\"skipped\":-3"), &why));
  EXPECT_NE(why.find("field skipped is out of range"), std::string::npos);
  EXPECT_FALSE(progress_from_json(with("\"next_target_offset\":0", "\"next_target_offset\":1"), &why));
  EXPECT_EQ(why, "next_target_offset disagrees with the offset map");
  // Records of older engines have no next_target_offset: still read (it is derived from the map).
  auto older = progress_from_json(with(",\"next_target_offset\":0", ""), &why);
  ASSERT_TRUE(older) << why;
  EXPECT_EQ(older->map.scanned_up(), 5);
}

TEST(ProgressDecoding, TopicIdsAreCheckedWhenPresent) {
  PartitionProgress p = progress("f", "t", 0, 5);
  p.source_topic_id = "AAAAAAAAAAAAAAAAAAAAAQ";
  p.target_topic_id = "AAAAAAAAAAAAAAAAAAAAAg";
  const std::string ok = to_json(p);
  std::string why;
  ASSERT_TRUE(progress_from_json(ok, &why)) << why;
  auto with = [&](const std::string& from, const std::string& to) {
    std::string t = ok;
    t.replace(t.find(from), from.size(), to);
    return t;
  };
  const std::string src = "\"source_topic_id\":\"AAAAAAAAAAAAAAAAAAAAAQ\"";
  EXPECT_FALSE(progress_from_json(with(src, "\"source_topic_id\":7"), &why));
  EXPECT_EQ(why, "field source_topic_id is not a string");
  EXPECT_FALSE(progress_from_json(with(src, "\"source_topic_id\":\"\""), &why));
  EXPECT_EQ(why, "field source_topic_id is not a topic id");
  EXPECT_FALSE(progress_from_json(with(src, "\"source_topic_id\":\"AAAAAAAAAAAAAAAAAAAA+Q\""), &why));
  EXPECT_EQ(why, "field source_topic_id is not a topic id");  // the standard alphabet: not Kafka's
  EXPECT_FALSE(progress_from_json(with(src, "\"source_topic_id\":\"AAAAAAAAAAAAAAAAAAAAAB\""), &why));
  EXPECT_EQ(why, "field source_topic_id is not a topic id");  // more than 16 bytes' worth of bits
  EXPECT_FALSE(progress_from_json(with(src, "\"source_topic_id\":\"" + std::string(100, 'A') + "\""), &why));
  EXPECT_NE(why.find("field source_topic_id is longer than"), std::string::npos) << why;
  EXPECT_FALSE(progress_from_json(
      with("\"target_topic_id\":\"AAAAAAAAAAAAAAAAAAAAAg\"", "\"target_topic_id\":\"\\u001b[31m\""), &why));
  EXPECT_EQ(why, "field target_topic_id is not a topic id");
  // Without them (an older engine's record): read, ids unknown.
  auto older = progress_from_json(with("," + src, ""), &why);
  ASSERT_TRUE(older) << why;
  EXPECT_EQ(older->source_topic_id, "");
  EXPECT_EQ(older->target_topic_id, "AAAAAAAAAAAAAAAAAAAAAg");
}

TEST(ProgressDecoding, StatusIsStrictToo) {
  EngineStatus s{"f", "running", "ops@host pid 1", "2026-11-25T23:00:00Z", 10, 2.5, 3, ""};
  std::string why;
  ASSERT_TRUE(status_from_json(to_json(s), &why)) << why;
  s.state = "pwned";
  EXPECT_FALSE(status_from_json(to_json(s), &why));
  EXPECT_NE(why.find("field state is none of"), std::string::npos);
  EXPECT_FALSE(status_from_json(R"({"format":1,"flow":"f"})", &why));
  EXPECT_EQ(why, "field state is missing");
}

TEST(ProgressFold, SkipsUnreadableProgressAndKeepsThePreviousOne) {
  LatestFold f(kProgressTopic, "progress/", check_progress_record);
  const std::string k0 = progress_key("f", "t", 0), k1 = progress_key("f", "t", 1);
  f.add(k0, to_json(progress("f", "t", 0, 5)), 0, 1);
  f.add(k0, std::string("{\"format\":1,\"secret\":\"") + kMarker + "\"}", 0, 2);
  f.add(k1, to_json(progress("f", "t", 0, 7)), 0, 3);  // partition 0's record under partition 1's key
  f.add("engine/f", "not mine: prefix", 0, 4);
  f.add(std::nullopt, "no key", 0, 5);
  const LatestRead r = f.result();
  ASSERT_EQ(r.values.size(), 1u);
  EXPECT_EQ(progress_from_json(r.values.at(k0))->map.scanned_up(), 5);  // the previous record stands
  ASSERT_EQ(r.skipped.size(), 2u);
  EXPECT_EQ(describe(r.skipped[0]),
            "mirror.progress.internal[0] offset 2 (key progress/f/t/0): field flow is missing");
  EXPECT_EQ(r.skipped[1].reason, "its flow, source_topic and partition do not match its key");
}

TEST(ProgressFold, NothingKnownWhenTheOnlyRecordIsUnreadable) {
  LatestFold f(kProgressTopic, "", check_progress_record);
  f.add(progress_key("f", "t", 0), nested(33), 0, 1);
  f.add(status_key("f"), R"({"format":1})", 0, 2);
  f.add("something/else", "free-form", 0, 3);  // not the engine's: not checked
  const LatestRead r = f.result();
  EXPECT_EQ(r.values.size(), 1u);
  EXPECT_EQ(r.skipped.size(), 2u);
}

LeaseEvent event(LeaseOp op, std::string id, int64_t ts, int64_t offset) {
  return {.lease = "apply",
          .op = op,
          .id = std::move(id),
          .owner = "u@h",
          .ttl_ms = 10'000,
          .ts_ms = ts,
          .offset = offset};
}

TEST(LeaseDecoding, IsStrict) {
  std::string why;
  const LeaseEvent e = event(LeaseOp::acquire, "0123456789abcdef", 0, 0);
  ASSERT_TRUE(decode_event("apply", encode_event(e), 1, 2, &why)) << why;
  EXPECT_FALSE(
      decode_event("apply", R"({"format":1,"op":"acquire","id":"x","owner":"o","purpose":"p"})", 0, 0, &why));
  EXPECT_EQ(why, "field ttl_ms is missing");
  EXPECT_FALSE(decode_event(
      "apply",
      R"({"format":1,"op":"acquire","id":"x","owner":"o","purpose":"p","ttl_ms":9223372036854775807})", 0, 0,
      &why));
  EXPECT_NE(why.find("field ttl_ms is out of range"), std::string::npos);
  EXPECT_FALSE(decode_event(
      "apply", R"({"format":1,"op":"acquire","id":"x y","owner":"o","purpose":"p","ttl_ms":1})", 0, 0, &why));
  EXPECT_EQ(why, "field id is not a lease id");
  EXPECT_FALSE(decode_event(
      "apply", R"({"format":1,"op":"acquire","id":"x","owner":"\u001b[2J","purpose":"p","ttl_ms":1})", 0, 0,
      &why));
  EXPECT_EQ(why, "field owner or purpose has control characters");
  EXPECT_FALSE(decode_event("apply", std::string("op=acquire ") + kMarker, 0, 0, &why));
  EXPECT_EQ(why.find(kMarker), std::string::npos);
}

TEST(LeaseFold, AnUnreadableRecordHoldsAFreeLeaseForAWhile) {
  // Never read as free: it may be an acquire that this mirror cannot read. Waiting is the safe side.
  std::vector<LeaseEvent> log = {unreadable_event("apply", 1'000, 0, "the value is not JSON"),
                                 event(LeaseOp::acquire, "b", 2'000, 1)};
  auto h = fold(log, "apply");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->id, "unreadable@0");
  EXPECT_EQ(h->expires_ms, 1'000 + kUnreadableHoldMs);
  EXPECT_NE(describe(*h).find("at offset 0: the value is not JSON"), std::string::npos) << describe(*h);
  // After kUnreadableHoldMs, the next comer takes it.
  log.push_back(event(LeaseOp::acquire, "c", 1'000 + kUnreadableHoldMs, 2));
  EXPECT_EQ(fold(log, "apply")->id, "c");
}

TEST(LeaseFold, AnUnreadableRecordCanBeForceUnlockedAndNeverShortensAHolding) {
  auto h = fold({unreadable_event("apply", 0, 0, "x"), event(LeaseOp::force_release, "unreadable@0", 5, 1),
                 event(LeaseOp::acquire, "b", 6, 2)},
                "apply");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->id, "b");
  // Held by a: an unreadable record (a's release? someone's acquire?) keeps a's holding at least 60 s.
  h = fold({event(LeaseOp::acquire, "a", 0, 0), unreadable_event("apply", 5'000, 1, "x"),
            event(LeaseOp::acquire, "b", 20'000, 2)},
           "apply");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->id, "a");
  EXPECT_EQ(h->expires_ms, 5'000 + kUnreadableHoldMs);
  // Of another lease: no effect.
  EXPECT_FALSE(fold({unreadable_event("engine/x", 0, 0, "x")}, "apply"));
}

TEST(LeaseFold, HugeTtlsAndTimestampsDoNotOverflow) {
  LeaseEvent e = event(LeaseOp::acquire, "a", INT64_MAX - 5, 0);
  e.ttl_ms = kMaxTtlMs;
  auto h = fold({e}, "apply");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->expires_ms, INT64_MAX);
}

TEST(Mm2OffsetDecoding, ReasonsNeverQuoteTheValue) {
  std::string why;
  EXPECT_FALSE(decode_mm2_offset(R"(["MirrorSourceConnector",{"cluster":"A","partition":0,"topic":"t"}])",
                                 std::string(R"({"offset":")") + kMarker + "\"}", "A", &why));
  EXPECT_FALSE(why.empty());
  EXPECT_EQ(why.find(kMarker), std::string::npos) << why;
  EXPECT_FALSE(decode_mm2_offset(nested(500), R"({"offset":1})", "A", &why));
  EXPECT_NE(why.find("not a Connect source offset key"), std::string::npos);
}

}  // namespace
}  // namespace mirror::state

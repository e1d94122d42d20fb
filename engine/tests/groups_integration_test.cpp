// Consumer-group offsets end to end on the local clusters, through the mirror binary: plan shows each
// selected group with its exact translation, apply writes it (and MM2-format checkpoints that MM2's own
// RemoteClusterUtils reads back), a group with members on the target is never touched, and a target
// group that is ahead is never moved backwards.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "engine/tests/e2e.h"
#include "offsets/mm2_format.h"

namespace mirror::e2e {
namespace {

using Json = nlohmann::json;

class GroupsE2E : public EngineE2E {
 protected:
  // Copies `n` records per partition, waits until the engine stored progress for all, stops it.
  // `target_head` records already in partition 0 of the target topic: offsets there are shifted.
  void mirror_topic(const std::string& topic, int partitions, int per_partition, int target_head = 0) {
    create_topic(topic, partitions);
    if (target_head > 0) {
      auto r = admin(kB).create_topics(
          {{.name = "A." + topic, .partitions = partitions, .replication_factor = 1}});
      ASSERT_TRUE(r.ok() && (*r)[0].ok());
      std::optional<kafka::Error> failed;
      auto p = kafka::Producer::create(kB, {}, [&](const kafka::Delivery& d) {
        if (d.error) failed = d.error;
      });
      ASSERT_TRUE(p.ok());
      for (int i = 0; i < target_head; ++i) {
        bool sent = false;
        for (int attempt = 0; attempt < 100 && !sent; ++attempt) {  // the new topic's leader
          sent = p->send({.topic = "A." + topic, .partition = 0, .key = "old", .value = "old"}).ok();
          if (!sent) std::this_thread::sleep_for(100ms);
        }
        ASSERT_TRUE(sent);
      }
      ASSERT_TRUE(p->flush().ok());
      ASSERT_FALSE(failed) << failed->describe();
    }
    std::vector<int32_t> parts;
    auto recs = numbered(per_partition * partitions, partitions, parts);
    produce(topic, recs, parts);
    spec_ = write_spec();
    ASSERT_NO_FATAL_FAILURE(apply(spec_));
    auto engine = run(spec_, "copy");
    ASSERT_TRUE(wait_caught_up(prefix_, topic, partitions, 120s)) << engine->output();
    ASSERT_EQ(engine->stop(SIGTERM, 20s), 0) << engine->output();
  }

  // Reads with group `g` on `c` until `limit` records or 5 s without one, counting each key in `seen`
  // (keys "old" are not counted); commits what it read. Returns how many it read.
  int consume_group(const kafka::ClientConfig& c, const std::string& g, const std::string& t, int limit,
                    std::map<std::string, int>& seen) {
    auto consumer = kafka::Consumer::create(c, {.group_id = g});
    EXPECT_TRUE(consumer.ok()) << consumer.error().describe();
    if (!consumer) return 0;
    EXPECT_TRUE(consumer->subscribe({t}).ok());
    std::map<int32_t, int64_t> next;
    int n = 0;
    auto idle_since = Clock::now();
    while (n < limit && Clock::now() - idle_since < 5s) {
      auto m = consumer->poll(100ms);
      EXPECT_TRUE(m.ok()) << m.error().describe();
      if (!m.ok() || !*m || (*m)->eof()) continue;
      idle_since = Clock::now();
      if ((*m)->key() != std::optional<std::string_view>("old")) ++seen[std::string(*(*m)->key())];
      next[(*m)->partition()] = (*m)->offset() + 1;
      ++n;
    }
    std::vector<kafka::TopicPartitionOffset> offs;
    for (const auto& [p, o] : next) offs.push_back({t, p, o, ""});
    if (!offs.empty()) {
      EXPECT_TRUE(consumer->commit(offs).ok());
    }
    consumer->close();
    return n;
  }

  void failover_while_records_flow(bool kill_engine_first);

  void commit(const kafka::ClientConfig& c, const std::string& group, const std::string& topic,
              std::map<int32_t, int64_t> offsets) {
    auto a = admin(c);
    std::vector<kafka::TopicPartitionOffset> offs;
    for (const auto& [p, o] : offsets) offs.push_back({topic, p, o, ""});
    auto r = a.alter_group_offsets(group, offs);
    ASSERT_TRUE(r.ok()) << r.error().describe();
    for (const auto& x : *r) ASSERT_FALSE(x.error) << x.error->describe();
  }

  std::map<int32_t, int64_t> committed(const kafka::ClientConfig& c, const std::string& group) {
    auto a = admin(c);
    auto r = a.list_group_offsets(group);
    EXPECT_TRUE(r.ok()) << r.error().describe();
    std::map<int32_t, int64_t> out;
    if (r) {
      for (const auto& o : *r) out[o.partition] = o.offset;
    }
    return out;
  }

  Json plan() {
    const fs::path out = dir_ / "plan.json";
    Proc p({"plan", "-c", spec_, "--out", out.string()}, dir_ / "plan.log");
    const int rc = p.stop(0, 120s);
    EXPECT_TRUE(rc == 0 || rc == 2) << p.output();
    std::ifstream in(out);
    return Json::parse(in);
  }

  static const Json* group(const Json& plan, const std::string& id) {
    for (const auto& g : plan["group_offsets"]) {
      if (g["group"] == id) return &g;
    }
    return nullptr;
  }

  // What a read_committed consumer of the source reads: (offset, key) of every record, in order.
  static std::vector<std::pair<int64_t, std::string>> readable(const std::string& topic) {
    std::vector<std::pair<int64_t, std::string>> out;
    auto c = kafka::Consumer::create(kA, {.isolation = kafka::Isolation::read_committed, .report_eof = true});
    EXPECT_TRUE(c.ok());
    if (!c.ok()) return out;
    EXPECT_TRUE(c->assign({{topic, 0, 0}}).ok());
    for (auto deadline = Clock::now() + 60s; Clock::now() < deadline;) {
      auto m = c->poll(100ms);
      EXPECT_TRUE(m.ok());
      if (!m.ok() || !*m) continue;
      if ((*m)->eof()) break;
      out.push_back({(*m)->offset(), std::string((*m)->key().value_or(""))});
    }
    c->close();
    return out;
  }

  // For each committed source offset in `at` (partition 0): a group committed there on A, synced by
  // apply, must point on B at exactly the record a read_committed consumer of A reads next.
  void expect_exact(const std::string& topic, const std::vector<std::pair<int64_t, std::string>>& source,
                    const std::vector<int64_t>& at) {
    for (size_t i = 0; i < at.size(); ++i) {
      ASSERT_NO_FATAL_FAILURE(commit(kA, prefix_ + "-g" + std::to_string(i), topic, {{0, at[i]}}));
    }
    ASSERT_NO_FATAL_FAILURE(apply(spec_));
    auto target = read_all(kB, "A." + topic, 1, kafka::Isolation::read_uncommitted);
    const int64_t target_end = end_offsets(kB, "A." + topic, 1);
    for (size_t i = 0; i < at.size(); ++i) {
      const auto got = committed(kB, prefix_ + "-g" + std::to_string(i));
      ASSERT_EQ(got.count(0), 1u) << "group " << i << " (source offset " << at[i] << ") was not synced";
      const int64_t t = got.at(0);
      auto next = std::find_if(source.begin(), source.end(), [&](const auto& r) { return r.first >= at[i]; });
      if (next == source.end()) {
        EXPECT_EQ(t, target_end) << "a caught-up group resumes at the target's end";
        continue;
      }
      // The record at target offset t (the target topic began empty and has no markers: offset = index).
      ASSERT_LT(t, static_cast<int64_t>(target[0].size()));
      EXPECT_EQ(*target[0][static_cast<size_t>(t)].key, next->second)
          << "source offset " << at[i] << " translated to target offset " << t;
    }
  }

  std::string spec_;
};

TEST_F(GroupsE2E, PlanTranslatesApplyWritesAndMm2ClientReadsTheCheckpoints) {
  const std::string topic = prefix_ + ".orders";
  ASSERT_NO_FATAL_FAILURE(mirror_topic(topic, 2, 500, 7));
  const std::string g = prefix_ + "-billing";
  // Lagging on partition 0 (10%), caught up on partition 1.
  ASSERT_NO_FATAL_FAILURE(commit(kA, g, topic, {{0, 50}, {1, 500}}));

  const Json p = plan();
  const Json* rep = group(p, g);
  ASSERT_NE(rep, nullptr) << p.dump(2);
  EXPECT_EQ((*rep)["status"], "sync");
  EXPECT_EQ((*rep)["target_state"], "absent");
  ASSERT_EQ((*rep)["partitions"].size(), 2u);
  // Partition 0 of the target held 7 older records when mirroring began: its offsets are 7 further.
  EXPECT_EQ((*rep)["partitions"][0]["translated"], 57);
  EXPECT_EQ((*rep)["partitions"][1]["translated"], 500);

  ASSERT_NO_FATAL_FAILURE(apply(spec_));
  EXPECT_EQ(committed(kB, g), (std::map<int32_t, int64_t>{{0, 57}, {1, 500}}));

  // MM2's own client library reads the checkpoints mirror wrote and gets the same offsets.
  const std::string cmd = std::string(MIRROR_SOURCE_DIR) +
                          "/scripts/mm2-translate --bootstrap 127.0.0.1:29092 --source A --group " + g +
                          " 2>&1";
  std::string out;
  if (FILE* f = ::popen(cmd.c_str(), "r")) {
    char buf[512];
    while (std::fgets(buf, sizeof buf, f)) out += buf;
    EXPECT_EQ(::pclose(f), 0) << out;
  }
  EXPECT_NE(out.find("A." + topic + " 0 57"), std::string::npos) << out;
  EXPECT_NE(out.find("A." + topic + " 1 500"), std::string::npos) << out;

  // Nothing left to do for the group: in sync, no action.
  const Json again = plan();
  ASSERT_NE(group(again, g), nullptr);
  EXPECT_EQ((*group(again, g))["status"], "in_sync") << again.dump(2);
}

TEST_F(GroupsE2E, TargetGroupAheadIsNotMovedBackwardsAndAnActiveGroupIsNotTouched) {
  const std::string topic = prefix_ + ".orders";
  ASSERT_NO_FATAL_FAILURE(mirror_topic(topic, 1, 300));
  const std::string ahead = prefix_ + "-ahead", active = prefix_ + "-active";
  ASSERT_NO_FATAL_FAILURE(commit(kA, ahead, topic, {{0, 100}}));
  ASSERT_NO_FATAL_FAILURE(commit(kB, ahead, "A." + topic, {{0, 200}}));  // consumed further on B
  ASSERT_NO_FATAL_FAILURE(commit(kA, active, topic, {{0, 250}}));
  ASSERT_NO_FATAL_FAILURE(commit(kB, active, "A." + topic, {{0, 10}}));

  // A live consumer of `active` on B: a member of the group for the rest of the test.
  kafka::ClientConfig live = kB;
  live.properties["session.timeout.ms"] = "45000";
  auto consumer = kafka::Consumer::create(live, {.group_id = active});
  ASSERT_TRUE(consumer.ok()) << consumer.error().describe();
  ASSERT_TRUE(consumer->subscribe({"A." + topic}).ok());
  bool member = false;
  for (int i = 0; i < 300 && !member; ++i) {
    (void)consumer->poll(100ms);
    auto d = admin(kB).describe_groups({active});
    member = d && !d->empty() && (*d)[0].member_count > 0;
  }
  ASSERT_TRUE(member) << "the live consumer did not join its group";
  for (int i = 0; i < 30 && consumer->assignments() == 0; ++i) (void)consumer->poll(100ms);
  const int assigned = consumer->assignments();
  ASSERT_GE(assigned, 1);

  const Json p = plan();
  const Json* a = group(p, ahead);
  ASSERT_NE(a, nullptr) << p.dump(2);
  EXPECT_EQ((*a)["status"], "in_sync");
  EXPECT_EQ((*a)["partitions"][0]["decision"], "keep_ahead");
  const Json* b = group(p, active);
  ASSERT_NE(b, nullptr) << p.dump(2);
  EXPECT_EQ((*b)["status"], "skipped_active");
  EXPECT_NE((*b)["reason"].get<std::string>().find("member"), std::string::npos);

  ASSERT_NO_FATAL_FAILURE(apply(spec_));
  EXPECT_EQ(committed(kB, ahead), (std::map<int32_t, int64_t>{{0, 200}}));
  for (int i = 0; i < 20; ++i) (void)consumer->poll(100ms);  // a rebalance would show up here
  EXPECT_EQ(consumer->assignments(), assigned) << "the live consumer's group rebalanced";
  consumer->close();
  EXPECT_EQ(committed(kB, active), (std::map<int32_t, int64_t>{{0, 10}}));
}

// The engine keeps syncing while it runs: a source group that moves is followed on the target within
// the interval, exactly, without any apply.
TEST_F(GroupsE2E, RunningEngineFollowsTheSourceGroup) {
  const std::string topic = prefix_ + ".orders";
  ASSERT_NO_FATAL_FAILURE(mirror_topic(topic, 2, 200, 3));
  const std::string g = prefix_ + "-follow";
  auto engine = run(spec_, "run", {"--group-sync-interval", "1"});
  auto wait_target = [&](std::map<int32_t, int64_t> want) {
    for (int i = 0; i < 300; ++i) {
      if (committed(kB, g) == want) return true;
      std::this_thread::sleep_for(100ms);
    }
    return false;
  };
  ASSERT_NO_FATAL_FAILURE(commit(kA, g, topic, {{0, 20}, {1, 0}}));
  EXPECT_TRUE(wait_target({{0, 23}, {1, 0}})) << engine->output();
  ASSERT_NO_FATAL_FAILURE(commit(kA, g, topic, {{0, 150}, {1, 199}}));
  EXPECT_TRUE(wait_target({{0, 153}, {1, 199}})) << engine->output();
  // More records while it runs: a group at the new end is translated once they are mirrored.
  std::vector<int32_t> parts;
  auto recs = numbered(100, 2, parts, 100, 10'000);
  produce(topic, recs, parts);
  ASSERT_NO_FATAL_FAILURE(commit(kA, g, topic, {{0, 250}, {1, 250}}));
  EXPECT_TRUE(wait_target({{0, 253}, {1, 250}})) << engine->output();
  EXPECT_EQ(engine->stop(SIGTERM, 20s), 0) << engine->output();
}

// Exact across the hard cases: a transactional source topic with aborted transactions (their records and
// the markers occupy source offsets the target never gets), an engine killed with -9 mid-copy (so the
// target holds at-least-once duplicates), and groups lagging at 10% and 90%. For every committed offset U
// the target offset written must hold exactly the record a read_committed consumer of the source reads
// next after U.
TEST_F(GroupsE2E, TranslationIsExactAcrossAbortedTransactionsAndAKillNine) {
  const std::string topic = prefix_ + ".txn";
  create_topic(topic, 1);
  {
    std::optional<kafka::Error> failed;
    auto p =
        kafka::Producer::create(kA, {.transactional_id = prefix_ + "-txn"}, [&](const kafka::Delivery& d) {
          if (d.error) failed = d.error;
        });
    ASSERT_TRUE(p.ok()) << p.error().describe();
    ASSERT_TRUE(p->init_transactions().ok());
    int key = 0;
    for (int round = 0; round < 40; ++round) {
      ASSERT_TRUE(p->begin_transaction().ok());
      const bool abort = round % 4 == 1;
      for (int i = 0; i < 500; ++i) {
        const std::string k = abort ? "aborted-" + std::to_string(round * 1000 + i) : std::to_string(key++);
        ASSERT_TRUE(p->send({.topic = topic, .partition = 0, .key = k, .value = std::string(200, 'x')}).ok());
      }
      ASSERT_TRUE(p->flush().ok());  // the aborted records are in the log too, then the abort marker
      ASSERT_TRUE((abort ? p->abort_transaction() : p->commit_transaction()).ok());
    }
    ASSERT_FALSE(failed) << failed->describe();
  }
  const auto source = readable(topic);
  ASSERT_EQ(source.size(), 30u * 500u);
  const int64_t end = end_offsets(kA, topic, 1);

  spec_ = write_spec();
  ASSERT_NO_FATAL_FAILURE(apply(spec_));
  {
    auto first = run(spec_, "run-killed");
    ASSERT_TRUE(wait_for("A." + topic, 1, 6'000, 60s)) << first->output();
    EXPECT_EQ(first->stop(SIGKILL, 10s), -1);
  }
  auto engine = run(spec_, "run");
  ASSERT_TRUE(wait_caught_up(prefix_, topic, 1, 120s)) << engine->output();
  ASSERT_EQ(engine->stop(SIGTERM, 20s), 0) << engine->output();

  // Committed offsets: 10% and 90% of the way, inside an aborted transaction, on a commit marker, the end.
  expect_exact(topic, source, {0, end / 10, end * 9 / 10, 501 + 250, 500, end});
}

// Exact across compaction gaps: a compacted source topic whose cleaner removed most offsets; groups
// committed inside the gaps resume on B at the next record that survived.
TEST_F(GroupsE2E, TranslationIsExactAcrossCompactionGaps) {
  const std::string topic = prefix_ + ".compacted";
  auto r = admin(kA).create_topics({{.name = topic,
                                     .partitions = 1,
                                     .replication_factor = 1,
                                     .configs = {{"cleanup.policy", "compact"},
                                                 {"segment.ms", "100"},
                                                 {"min.cleanable.dirty.ratio", "0.01"},
                                                 {"delete.retention.ms", "0"}}}});
  ASSERT_TRUE(r.ok() && (*r)[0].ok());
  std::vector<Rec> recs;
  std::vector<int32_t> parts;
  for (int i = 0; i < 2000; ++i) {  // 10 keys written 200 times each: most offsets compact away
    Rec rec;
    rec.key = "k" + std::to_string(i % 10) + "-" + std::to_string(i / 500);
    rec.value = "v" + std::to_string(i);
    recs.push_back(std::move(rec));
    parts.push_back(0);
  }
  produce(topic, recs, parts);
  // Segments roll only when a record arrives after segment.ms; the cleaner looks every 15 s.
  std::vector<std::pair<int64_t, std::string>> source;
  for (int i = 0; i < 120; ++i) {
    std::this_thread::sleep_for(1s);
    produce(topic, {Rec{.key = "roll", .value = "x"}}, {0});
    source = readable(topic);
    if (source.size() < 1000) break;
  }
  ASSERT_LT(source.size(), 1000u) << "the log cleaner did not compact " << topic << " within 2 minutes";
  spec_ = write_spec();
  ASSERT_NO_FATAL_FAILURE(apply(spec_));
  {
    auto engine = run(spec_, "copy");
    ASSERT_TRUE(wait_caught_up(prefix_, topic, 1, 120s)) << engine->output();
    ASSERT_EQ(engine->stop(SIGTERM, 20s), 0) << engine->output();
  }
  source = readable(topic);  // the rolls since
  // Offsets inside gaps (compacted away), on survivors, and the end.
  std::vector<int64_t> at = {0, 1, 250, 777, 1500, source.back().first, end_offsets(kA, topic, 1)};
  expect_exact(topic, source, at);
}

// An empty source partition: a group committed at 0 there resumes at the target's start of it.
TEST_F(GroupsE2E, EmptySourcePartitionTranslatesToTheTargetsStart) {
  const std::string topic = prefix_ + ".sparse";
  create_topic(topic, 3);
  std::vector<int32_t> parts;
  auto recs = numbered(100, 2, parts);  // partitions 0 and 1 only
  produce(topic, recs, parts);
  spec_ = write_spec();
  ASSERT_NO_FATAL_FAILURE(apply(spec_));
  {
    auto engine = run(spec_, "copy");
    ASSERT_TRUE(wait_caught_up(prefix_, topic, 3, 120s)) << engine->output();
    ASSERT_EQ(engine->stop(SIGTERM, 20s), 0) << engine->output();
  }
  const std::string g = prefix_ + "-sparse";
  ASSERT_NO_FATAL_FAILURE(commit(kA, g, topic, {{0, 50}, {1, 50}, {2, 0}}));
  const Json p = plan();
  const Json* rep = group(p, g);
  ASSERT_NE(rep, nullptr) << p.dump(2);
  ASSERT_EQ((*rep)["partitions"].size(), 3u);
  EXPECT_EQ((*rep)["partitions"][2]["decision"], "write");
  EXPECT_EQ((*rep)["partitions"][2]["translated"], 0);
  ASSERT_NO_FATAL_FAILURE(apply(spec_));
  EXPECT_EQ(committed(kB, g), (std::map<int32_t, int64_t>{{0, 50}, {1, 50}, {2, 0}}));
}

// Heartbeats in MM2's format: written to A's `heartbeats` (key: source B, target A, as MM2's B->A pair
// writes them), mirrored to B as A.heartbeats, and their latency exposed per flow.
TEST_F(GroupsE2E, HeartbeatsAreEmittedMirroredAndMeasured) {
  const std::string topic = prefix_ + ".orders";
  ASSERT_NO_FATAL_FAILURE(mirror_topic(topic, 1, 10));
  auto engine = run(spec_, "run", {"--heartbeat-interval", "1", "--discovery-interval", "1"});
  bool seen = false;
  for (int i = 0; i < 300 && !seen; ++i) {
    std::this_thread::sleep_for(100ms);
    seen = end_offsets(kB, "A.heartbeats", 1) >= 2;
  }
  ASSERT_TRUE(seen) << engine->output();
  auto copies = read_all(kB, "A.heartbeats", 1, kafka::Isolation::read_uncommitted);
  ASSERT_FALSE(copies[0].empty());
  bool ours = false;
  for (const auto& r : copies[0]) {
    auto h = offsets::decode_heartbeat(r.key.value_or(""), r.value.value_or(""));
    ASSERT_TRUE(h.ok()) << h.error();
    ours |= h->source_alias == "B" && h->target_alias == "A" && h->timestamp_ms > 0;
  }
  EXPECT_TRUE(ours);
  const std::string addr = metrics_url(*engine);
  ASSERT_FALSE(addr.empty());
  httplib::Client http("http://" + addr);
  std::smatch m;
  std::string body;
  const std::regex gauge("mirror_heartbeat_latency_seconds\\{flow=\"" + prefix_ + "\"\\} ([0-9.e+-]+)");
  // The gauge is there from the start (0); it moves once a heartbeat's copy is acknowledged.
  for (int i = 0; i < 100 && !(std::regex_search(body, m, gauge) && std::stod(m[1]) > 0); ++i) {
    std::this_thread::sleep_for(100ms);
    auto res = http.Get("/metrics");
    if (res) body = res->body;
  }
  ASSERT_TRUE(std::regex_search(body, m, gauge)) << body;
  EXPECT_GT(std::stod(m[1]), 0.0);
  EXPECT_LT(std::stod(m[1]), 30.0);
  EXPECT_EQ(engine->stop(SIGTERM, 20s), 0) << engine->output();
}

// A real consumer group reads part of a topic on A, fails over to B (mirror failover, the engine running
// all along), reads the rest there, and comes back to A (mirror failback) for records written since:
// every record is seen exactly once across both switches.
TEST_F(GroupsE2E, FailoverAndFailbackWithARealConsumerSeeEveryRecordOnce) {
  const std::string topic = prefix_ + ".orders";
  ASSERT_NO_FATAL_FAILURE(mirror_topic(topic, 2, 300, 5));
  const std::string g = prefix_ + "-app";
  auto engine = run(spec_, "run", {"--group-sync-interval", "1"});
  ASSERT_NO_FATAL_FAILURE(commit(kA, g, topic, {{0, 0}, {1, 0}}));

  std::map<std::string, int> seen;  // key -> times read
  auto consume = [&](const kafka::ClientConfig& c, const std::string& t, int limit) {
    return consume_group(c, g, t, limit, seen);
  };
  EXPECT_EQ(consume(kA, topic, 250), 250);
  ASSERT_TRUE(wait_caught_up(prefix_, topic, 2, 60s)) << engine->output();

  Proc dry({"failover", "-c", spec_, "--flow", prefix_, "--dry-run"}, dir_ / "failover-dry.log");
  ASSERT_EQ(dry.stop(0, 120s), 0) << dry.output();
  EXPECT_NE(dry.output().find("Dry run complete: nothing was changed."), std::string::npos) << dry.output();

  Proc fo({"failover", "-c", spec_, "--flow", prefix_}, dir_ / "failover.log");
  ASSERT_EQ(fo.stop(0, 180s), 0) << fo.output();
  EXPECT_NE(fo.output().find("Failover complete"), std::string::npos) << fo.output();
  EXPECT_NE(fo.output().find(g), std::string::npos) << fo.output();
  // The engine stops the failed-over flow by itself (its only flow: the process exits).
  EXPECT_EQ(engine->stop(0, 60s), 0) << engine->output();
  EXPECT_NE(engine->output().find("failed over"), std::string::npos) << engine->output();

  consume(kB, "A." + topic, 100'000);
  for (int i = 0; i < 600; ++i) EXPECT_EQ(seen[std::to_string(i)], 1) << "record " << i;

  // Back to A, for records written there since the failover (not mirrored: the flow is stopped).
  std::vector<int32_t> parts;
  produce(topic, numbered(40, 2, parts, 100, 1000), parts);
  Proc fb({"failback", "-c", spec_, "--flow", prefix_}, dir_ / "failback.log");
  ASSERT_EQ(fb.stop(0, 180s), 0) << fb.output();
  EXPECT_NE(fb.output().find("Failback complete: 1 group(s) ready on A (1 written now"), std::string::npos)
      << fb.output();
  EXPECT_EQ(consume(kA, topic, 100'000), 40);
  for (int i = 0; i < 600; ++i) EXPECT_EQ(seen[std::to_string(i)], 1) << "record " << i;
  for (int i = 1000; i < 1040; ++i) EXPECT_EQ(seen[std::to_string(i)], 1) << "record " << i;
  EXPECT_EQ(seen.size(), 640u);
}

// Issue #22: a failover while producers still write to A and the engine is copying (a real incident),
// with the engine running (it stops for the failover) or killed with SIGKILL just before. The engine's
// records after its last stored progress count as mirrored (found by comparing records), so the group
// resumes on B exactly, fails back to A exactly, mirror status tells each step, and re-applying leaves no
// duplicate on B.
void GroupsE2E::failover_while_records_flow(bool kill_engine_first) {
  const std::string topic = prefix_ + ".live";
  create_topic(topic, 2);
  spec_ = write_spec();
  ASSERT_NO_FATAL_FAILURE(apply(spec_));
  const std::string g = prefix_ + "-app";
  // A steady producer on A, about 2,000 records/s, keys 0, 1, 2, ... alternating between the partitions.
  std::atomic<bool> stop{false}, paused{false};
  std::atomic<int> produced{0};
  std::thread writer([&] {
    auto p = kafka::Producer::create(kA, {}, [](const kafka::Delivery&) {});
    if (!p) return;
    while (!stop) {
      if (paused) {
        (void)p->flush();
        std::this_thread::sleep_for(10ms);
        continue;
      }
      for (int i = 0; i < 20; ++i) {
        const int n = produced;
        if (p->send({.topic = topic,
                     .partition = n % 2,
                     .key = std::to_string(n),
                     .value = std::string(100, 'v')})
                .ok())
          ++produced;
      }
      p->poll(0ms);
      std::this_thread::sleep_for(10ms);
    }
    (void)p->flush();
  });
  struct Join {
    std::atomic<bool>& stop;
    std::thread& t;
    ~Join() {
      stop = true;
      if (t.joinable()) t.join();
    }
  } join{stop, writer};
  auto engine = run(spec_, "run", {"--group-sync-interval", "1"});
  std::map<std::string, int> seen;
  ASSERT_NO_FATAL_FAILURE(commit(kA, g, topic, {{0, 0}, {1, 0}}));  // the group starts at the beginning
  std::this_thread::sleep_for(5s);  // copying is under way (about 10,000 records on A by now)
  EXPECT_EQ(consume_group(kA, g, topic, 3000, seen), 3000);
  std::this_thread::sleep_for(2s);  // the group's offsets are synced to B (every second)
  // Killed: A receives records for a second more, then the producers pause across the failover, so that
  // the table's UNMIRRORED can be checked against what the group reads on A after the failback.
  int produced_at_failover = 0;
  if (kill_engine_first) {
    EXPECT_EQ(engine->stop(SIGKILL, 10s), -1);
    std::this_thread::sleep_for(1s);  // A receives records B never gets
    paused = true;
    std::this_thread::sleep_for(200ms);
    produced_at_failover = produced;
  }

  Proc fo({"failover", "-c", spec_, "--flow", prefix_}, dir_ / "failover.log");
  ASSERT_EQ(fo.stop(0, 180s), 0) << fo.output();
  std::cout << fo.output();
  EXPECT_NE(fo.output().find("Failover complete: 1 group(s) ready on B"), std::string::npos) << fo.output();
  paused = false;
  int64_t unmirrored = 0;  // the table's UNMIRRORED, summed over the partitions
  {
    const std::string out = fo.output();
    std::regex row(R"(\.live\[[01]\] +[0-9]+ +[0-9]+ +([0-9]+)(\s|$))");
    for (std::sregex_iterator it(out.begin(), out.end(), row), end; it != end; ++it)
      unmirrored += std::stoll((*it)[1]);
  }
  if (!kill_engine_first) {
    // The engine stops for the failover without an error and leaves a last report saying why.
    EXPECT_EQ(engine->stop(0, 60s), 0) << engine->output();
    EXPECT_NE(engine->output().find("failed over by"), std::string::npos) << engine->output();
    EXPECT_EQ(engine->output().find("error:"), std::string::npos) << engine->output();
  }
  auto status = [&](const std::string& name) {
    Proc st({"status", "-c", spec_, "--format", "json"}, dir_ / (name + ".log"));
    EXPECT_EQ(st.stop(0, 120s), 0) << st.output();
    const std::string out = st.output();
    Json j = Json::parse(out.substr(out.find('{')), nullptr, false);
    for (const auto& f : j["flows"]) {
      if (f["flow"] == prefix_) return f;
    }
    ADD_FAILURE() << "no flow " << prefix_ << " in " << out;
    return Json();
  };
  {
    Proc text({"status", "-c", spec_}, dir_ / "status-failover-text.log");
    ASSERT_EQ(text.stop(0, 120s), 0) << text.output();
    EXPECT_NE(text.output().find("state:    FAILED OVER "), std::string::npos) << text.output();
    EXPECT_NE(text.output().find("(groups ready on B: " + g + ")"), std::string::npos) << text.output();
  }
  const Json after_failover = status("status-failover");
  EXPECT_EQ(after_failover["state"], "failed_over") << after_failover.dump();
  EXPECT_EQ(after_failover["failed_over"]["groups"], Json::array({g})) << after_failover.dump();
  if (!kill_engine_first) {
    EXPECT_EQ(after_failover["engine"]["state"], "stopped") << after_failover.dump();
    EXPECT_NE(after_failover["engine"]["last_error"].get<std::string>().find("failed over by"),
              std::string::npos);
  }
  std::this_thread::sleep_for(1s);
  stop = true;
  writer.join();
  const int total = produced;

  // On B: every record the group had not read on A, once; nothing twice.
  const int on_b = consume_group(kB, g, "A." + topic, 1'000'000, seen);
  std::cout << "produced " << total << ", read on A 3000, then on B " << on_b << "\n";
  for (const auto& [k, n] : seen) EXPECT_EQ(n, 1) << "record " << k << " read " << n << " times";
  // Back to A: exact, and the records B never got are read there, once.
  Proc fb({"failback", "-c", spec_, "--flow", prefix_}, dir_ / "failback.log");
  ASSERT_EQ(fb.stop(0, 180s), 0) << fb.output();
  std::cout << fb.output();
  EXPECT_NE(fb.output().find("Failback complete: 1 group(s) ready on A"), std::string::npos) << fb.output();
  {
    Proc text({"status", "-c", spec_}, dir_ / "status-failback-text.log");
    ASSERT_EQ(text.stop(0, 120s), 0) << text.output();
    EXPECT_NE(text.output().find("state:    FAILED BACK "), std::string::npos) << text.output();
    std::cout << text.output();
  }
  const Json after_failback = status("status-failback");
  EXPECT_EQ(after_failback["state"], "failed_back") << after_failback.dump();
  EXPECT_EQ(after_failback["failed_back"]["groups"], Json::array({g})) << after_failback.dump();
  const int on_a = consume_group(kA, g, topic, 1'000'000, seen);
  if (kill_engine_first) {
    // The failover's UNMIRRORED is exactly what B never got of what A held then: the group reads it on
    // A after the failback, beside what was produced after the failover.
    EXPECT_EQ(unmirrored, on_a - (total - produced_at_failover)) << fo.output();
    std::cout << "UNMIRRORED at failover " << unmirrored << "; read on A after failback " << on_a
              << ", of which " << total - produced_at_failover << " produced after the failover\n";
  }
  for (int i = 0; i < total; ++i) EXPECT_EQ(seen[std::to_string(i)], 1) << "record " << i;
  EXPECT_EQ(seen.size(), static_cast<size_t>(total));

  // Mirroring again: B ends with every record of A once, and the switch is history.
  ASSERT_NO_FATAL_FAILURE(apply(spec_));
  auto again = run(spec_, "again");
  ASSERT_TRUE(wait_caught_up(prefix_, topic, 2, 120s)) << again->output();
  EXPECT_TRUE(status("status-resumed")["failed_over"].is_null());
  EXPECT_EQ(again->stop(SIGTERM, 30s), 0) << again->output();
  EXPECT_EQ(check_complete(topic, 2, kafka::Isolation::read_uncommitted), 0) << "records on B twice";
}

TEST_F(GroupsE2E, FailoverWhileRecordsFlowIsExactBothWaysAndDuplicatesNothing) {
  failover_while_records_flow(false);
}
TEST_F(GroupsE2E, FailoverRightAfterTheEngineWasKilledIsExactToo) { failover_while_records_flow(true); }

// A group that read records on B that are no copies (produced on B directly after the failover) cannot
// be translated back exactly: failback writes nothing for it, names it and exits 1.
TEST_F(GroupsE2E, FailbackOfAGroupBeyondWhatWasMirroredFailsAndSaysWhy) {
  const std::string topic = prefix_ + ".orders";
  ASSERT_NO_FATAL_FAILURE(mirror_topic(topic, 1, 50));
  const std::string g = prefix_ + "-app";
  ASSERT_NO_FATAL_FAILURE(commit(kA, g, topic, {{0, 20}}));
  Proc fo({"failover", "-c", spec_, "--flow", prefix_}, dir_ / "failover.log");
  ASSERT_EQ(fo.stop(0, 180s), 0) << fo.output();
  // Producers moved to B and wrote there; the group read everything on B.
  std::vector<int32_t> parts;
  auto p = kafka::Producer::create(kB, {}, [](const kafka::Delivery&) {});
  ASSERT_TRUE(p.ok());
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(p->send({.topic = "A." + topic, .partition = 0, .key = "b", .value = "b"}).ok());
  ASSERT_TRUE(p->flush().ok());
  ASSERT_NO_FATAL_FAILURE(commit(kB, g, "A." + topic, {{0, 55}}));

  Proc fb({"failback", "-c", spec_, "--flow", prefix_}, dir_ / "failback.log");
  EXPECT_EQ(fb.stop(0, 180s), 1) << fb.output();
  const std::string out = fb.output();
  EXPECT_NE(out.find("Not translated exactly, nothing written: " + g + " (A." + topic + "[0] not_yet"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("Failback incomplete: 0 group(s) ready on A"), std::string::npos) << out;
  EXPECT_EQ(out.find("ready (already in sync)"), std::string::npos) << out;
  EXPECT_EQ(committed(kA, g), (std::map<int32_t, int64_t>{{0, 20}})) << "the group on A is unchanged";
}

// The failover paths an outage takes: a flow never applied, a source that cannot be reached during the
// failover (the last synced offsets are used), and a failback while the source is down (refused, nothing
// changed). The source "outage" is a spec whose source bootstrap is a closed port: same flow, same state.
TEST_F(GroupsE2E, FailoverWithoutTheSourceAndFailbackRefusedWhileItIsDown) {
  const std::string never = (dir_ / "never.yaml").string();
  std::ofstream(never) << "version: 1\nclusters:\n  A: {bootstrap: \"127.0.0.1:19092\"}\n"
                          "  B: {bootstrap: \"127.0.0.1:29092\"}\nflows:\n  - {name: "
                       << prefix_ << "-never, source: A, target: B}\n";
  Proc nothing({"failover", "-c", never, "--flow", prefix_ + "-never"}, dir_ / "never.log");
  EXPECT_EQ(nothing.stop(0, 120s), 1) << nothing.output();
  EXPECT_NE(nothing.output().find("was never applied to B: there is nothing to fail over"), std::string::npos)
      << nothing.output();

  const std::string topic = prefix_ + ".orders";
  ASSERT_NO_FATAL_FAILURE(mirror_topic(topic, 2, 200, 0));
  const std::string g = prefix_ + "-app";
  ASSERT_NO_FATAL_FAILURE(commit(kA, g, topic, {{0, 120}, {1, 80}}));
  auto engine = run(spec_, "sync", {"--group-sync-interval", "1"});
  std::map<int32_t, int64_t> synced;
  for (auto deadline = Clock::now() + 60s; Clock::now() < deadline && synced.size() < 2;) {
    std::this_thread::sleep_for(500ms);
    synced = committed(kB, g);
  }
  ASSERT_EQ(synced.size(), 2u) << "the engine did not sync the group:\n" << engine->output();
  ASSERT_EQ(engine->stop(SIGTERM, 30s), 0) << engine->output();
  // mirror status: the group, in sync on B; then behind once it moves on A.
  Proc in_sync({"status", "-c", spec_}, dir_ / "status-in-sync.log");
  EXPECT_EQ(in_sync.stop(0, 60s), 0) << in_sync.output();
  EXPECT_NE(in_sync.output().find("    " + g + ": in sync"), std::string::npos) << in_sync.output();
  ASSERT_NO_FATAL_FAILURE(commit(kA, g, topic, {{0, 150}, {1, 80}}));
  Proc behind({"status", "-c", spec_}, dir_ / "status-behind.log");
  EXPECT_EQ(behind.stop(0, 60s), 0) << behind.output();
  EXPECT_NE(behind.output().find("    " + g + ": 30 record(s) behind its translation in 1 partition(s)"),
            std::string::npos)
      << behind.output();
  ASSERT_NO_FATAL_FAILURE(commit(kA, g, topic, {{0, 120}, {1, 80}}));

  std::string text;
  {
    std::ifstream in(spec_);
    std::stringstream ss;
    ss << in.rdbuf();
    text = ss.str();
  }
  const std::string down = (dir_ / "source-down.yaml").string();
  std::ofstream(down) << std::regex_replace(text, std::regex("127\\.0\\.0\\.1:19092"), "127.0.0.1:1");

  // Failback before anything: A is down, so it refuses and changes nothing.
  Proc early({"failback", "-c", down, "--flow", prefix_, "--timeout", "5"}, dir_ / "failback-early.log");
  EXPECT_EQ(early.stop(0, 120s), 1) << early.output();
  EXPECT_NE(early.output().find("cannot be reached; nothing was changed"), std::string::npos)
      << early.output();

  Proc fo({"failover", "-c", down, "--flow", prefix_, "--timeout", "5"}, dir_ / "failover.log");
  ASSERT_EQ(fo.stop(0, 180s), 0) << fo.output();
  EXPECT_NE(fo.output().find("source A: unreachable"), std::string::npos) << fo.output();
  EXPECT_NE(fo.output().find("from the offsets the engine synced last"), std::string::npos) << fo.output();
  EXPECT_NE(fo.output().find("Failover complete"), std::string::npos) << fo.output();
  EXPECT_EQ(committed(kB, g), synced) << "the group on B must stay at the last synced offsets";

  // The flow is failed over now: the engine does not copy it.
  Proc status({"status", "-c", spec_}, dir_ / "status.log");
  EXPECT_EQ(status.stop(0, 60s), 0) << status.output();

  // Failing back while A is still down: refused, A's group untouched (checked once A is "back").
  Proc fb({"failback", "-c", down, "--flow", prefix_, "--timeout", "5"}, dir_ / "failback.log");
  EXPECT_EQ(fb.stop(0, 120s), 1) << fb.output();
  EXPECT_NE(fb.output().find("cannot be reached; nothing was changed"), std::string::npos) << fb.output();
  EXPECT_EQ(committed(kA, g), (std::map<int32_t, int64_t>{{0, 120}, {1, 80}}));
}

}  // namespace
}  // namespace mirror::e2e

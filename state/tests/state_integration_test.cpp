// Hostile records in mirror's own topics on the real local clusters (issue 14): a garbage record in
// mirror.state.internal and in mirror.progress.internal never blocks `mirror plan` (it names each one,
// never its value), the previous readable record of a key stands, and an unreadable lease event holds
// the lease rather than freeing it. Every garbage key is this run's own, and tombstoned at the end.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "kafka/admin.h"
#include "kafka/producer.h"
#include "state/lease.h"
#include "state/progress.h"
#include "state/state.h"

namespace mirror::state {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr const char* kMarker = "hunter2-NEVER-PRINTED";

const kafka::ClientConfig kB{.alias = "B", .bootstrap = "127.0.0.1:29092"};

struct CliRun {
  int code = -1;
  std::string out;  // stdout and stderr
};

CliRun run(const std::string& args) {
  CliRun r;
  const std::string cmd = std::string(MIRROR_BINARY) + " " + args + " 2>&1 </dev/null";
  FILE* p = popen(cmd.c_str(), "r");
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, p)) r.out.append(buf, n);
  const int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// Writes records to partition 0 of a topic; a nullopt value is a tombstone. Returns their offsets.
std::vector<int64_t> produce(const std::string& topic,
                             const std::vector<std::pair<std::string, std::optional<std::string>>>& records) {
  std::vector<int64_t> offsets(records.size(), -1);
  auto p = kafka::Producer::create(kB, {}, [&](const kafka::Delivery& d) {
    EXPECT_FALSE(d.error) << d.error->describe();
    if (d.tag < offsets.size()) offsets[d.tag] = d.offset;
  });
  EXPECT_TRUE(p.ok());
  if (!p.ok()) return offsets;
  for (size_t i = 0; i < records.size(); ++i) {
    kafka::OutRecord r{.topic = topic, .partition = 0, .key = records[i].first, .tag = i};
    if (records[i].second) r.value = *records[i].second;
    EXPECT_TRUE(p->send(r).ok());
  }
  EXPECT_TRUE(p->flush().ok());
  return offsets;
}

void ensure_topic(const std::string& topic, const std::map<std::string, std::string>& configs) {
  auto a = kafka::Admin::connect(kB);
  ASSERT_TRUE(a.ok());
  auto r = a->create_topics({{.name = topic, .partitions = 1, .replication_factor = 1, .configs = configs}});
  ASSERT_TRUE(r.ok()) << r.error().describe();
  ASSERT_TRUE((*r)[0].ok() || (*r)[0].error->code == kafka::Errc::already_exists)
      << (*r)[0].error->describe();
  for (int i = 0; i < 100; ++i) {
    auto t = a->list_topics();
    if (t && std::any_of(t->begin(), t->end(), [&](auto& x) { return x.name == topic; })) return;
    std::this_thread::sleep_for(100ms);
  }
}

class HostileState : public ::testing::Test {
 protected:
  void SetUp() override {
    id_ = "hostile" + std::to_string(::getpid()) +
          ::testing::UnitTest::GetInstance()->current_test_info()->name();
    dir_ = fs::temp_directory_path() / id_;
    fs::create_directories(dir_);
  }
  void TearDown() override {
    // Tombstones: the garbage never outlives the test (compaction then drops it).
    if (!state_keys_.empty()) {
      std::vector<std::pair<std::string, std::optional<std::string>>> t;
      for (const auto& k : state_keys_) t.emplace_back(k, std::nullopt);
      produce(kTopic, t);
    }
    if (!progress_keys_.empty()) {
      std::vector<std::pair<std::string, std::optional<std::string>>> t;
      for (const auto& k : progress_keys_) t.emplace_back(k, std::nullopt);
      produce(kProgressTopic, t);
    }
    fs::remove_all(dir_);
  }
  std::string id_;
  fs::path dir_;
  std::vector<std::string> state_keys_, progress_keys_;
};

TEST_F(HostileState, PlanSkipsAndNamesGarbageInTheStateAndProgressTopics) {
  ensure_topic(kTopic, {{"cleanup.policy", "compact"}});
  ASSERT_TRUE(ensure_progress_topic(kB, 1).ok());
  // A readable applied record, then garbage under the same key: the readable one stands.
  AppliedRecord good;
  good.flow = id_;
  good.revision = "rev-good";
  good.applied_at = "2026-12-07T00:00:00Z";
  good.applied_by = "test@host";
  const std::string key = "flow/" + id_, garbage_key = "flow/" + id_ + "-garbage";
  const std::string progress = progress_key(id_, "t", 0);
  state_keys_ = {key, garbage_key};
  progress_keys_ = {progress};
  const auto state_offsets =
      produce(kTopic, {{key, to_json(good)},
                       {key, std::string("{\"format\":1,\"flow\":\"") + kMarker + "\"}"},
                       {garbage_key, std::string("\x01\x02 not json ") + kMarker},
                       {"flow/" + id_ + "-deep", std::string(5000, '[')}});
  state_keys_.push_back("flow/" + id_ + "-deep");
  const auto progress_offsets =
      produce(kProgressTopic, {{progress, std::string("{\"format\":1,\"x\":\"") + kMarker + "\"}"}});
  ASSERT_EQ(state_offsets.size(), 4u);
  ASSERT_EQ(progress_offsets.size(), 1u);

  auto read = read_applied_checked(kB);
  ASSERT_TRUE(read.ok()) << read.error().describe();
  ASSERT_TRUE(read->records.count(id_));
  EXPECT_EQ(read->records.at(id_).revision, "rev-good");
  int mine = 0;
  for (const auto& s : read->skipped) {
    if (s.key.find(id_) == std::string::npos) continue;  // another test's
    ++mine;
    EXPECT_EQ(describe(s).find(kMarker), std::string::npos) << describe(s);
  }
  EXPECT_EQ(mine, 3);
  auto progress_read = read_progress(kB, "progress/" + id_ + "/");
  ASSERT_TRUE(progress_read.ok()) << progress_read.error().describe();
  EXPECT_TRUE(progress_read->progress.empty());
  ASSERT_EQ(progress_read->skipped.size(), 1u);
  EXPECT_EQ(progress_read->skipped[0].reason, "field flow is missing");

  // mirror plan works and names each record once (topic, partition, offset, key, what is wrong).
  const fs::path spec = dir_ / "mirror.yaml";
  std::ofstream(spec) << "version: 1\nclusters:\n  A: {bootstrap: \"127.0.0.1:19092\"}\n"
                         "  B: {bootstrap: \"127.0.0.1:29092\"}\nflows:\n  - name: "
                      << id_ << "\n    source: A\n    target: B\n    replication_factor: 1\n"
                      << "    topics: {include: [\"" << id_ << "\\\\..*\"]}\n";
  const CliRun plan = run("plan -c " + spec.string() + " --detailed-exitcode");
  EXPECT_TRUE(plan.code == 0 || plan.code == 2) << plan.code << "\n" << plan.out;
  EXPECT_EQ(plan.out.find(kMarker), std::string::npos) << plan.out;
  auto named = [&](const std::string& topic, int64_t offset, const std::string& k) {
    const std::string line = "skipped an unreadable record of mirror's state: " + topic + "[0] offset " +
                             std::to_string(offset) + " (key " + k + "): ";
    const size_t at = plan.out.find(line);
    EXPECT_NE(at, std::string::npos) << line << "\n" << plan.out;
    if (at != std::string::npos) {
      EXPECT_EQ(plan.out.find(line, at + 1), std::string::npos) << "named twice";
    }
  };
  named(kTopic, state_offsets[1], key);
  named(kTopic, state_offsets[2], garbage_key);
  named(kProgressTopic, progress_offsets[0], progress);
  EXPECT_NE(
      plan.out.find("(key flow/" + id_ + "-deep): the value nests objects or arrays deeper than 32 levels"),
      std::string::npos)
      << plan.out;
}

TEST_F(HostileState, AnUnreadableLeaseEventHoldsTheLease) {
  // A lease log of this test's own (not the real apply lock).
  const std::string topic = "mirror.lock." + id_;
  ensure_topic(topic, {{"message.timestamp.type", "LogAppendTime"}});
  const auto offsets =
      produce(topic, {{"apply", std::string("{\"format\":1,\"op\":\"acquire\",\"id\":\"") + kMarker}});
  ASSERT_EQ(offsets.size(), 1u);
  auto h = read_lease(kB, "apply", topic);
  ASSERT_TRUE(h.ok()) << h.error().describe();
  ASSERT_TRUE(h->has_value()) << "an unreadable event must not leave the lease free";
  EXPECT_EQ((*h)->id, "unreadable@" + std::to_string(offsets[0]));
  EXPECT_EQ(describe(**h).find(kMarker), std::string::npos);
  auto taken = Lease::acquire(kB, {.topic = topic, .lease = "apply", .owner = "test@host", .ttl = 5s});
  ASSERT_FALSE(taken.ok());
  EXPECT_NE(taken.error().message.find("unreadable@"), std::string::npos) << taken.error().message;
  // It can be force-unlocked like any holder; then the lease is free.
  auto removed = force_release(kB, "apply", "unreadable@" + std::to_string(offsets[0]), "test@host", topic);
  ASSERT_TRUE(removed.ok()) << removed.error().describe();
  EXPECT_TRUE(removed->has_value());
  auto mine = Lease::acquire(kB, {.topic = topic, .lease = "apply", .owner = "test@host", .ttl = 5s});
  ASSERT_TRUE(mine.ok()) << mine.error().describe();
  EXPECT_TRUE((*mine)->release().ok());
  auto a = kafka::Admin::connect(kB);
  if (a.ok()) (void)a->delete_topics({topic});
}

}  // namespace
}  // namespace mirror::state

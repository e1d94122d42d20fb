// Migrating from MirrorMaker 2 (docs/migrate-from-mm2.md), against the local clusters with real MM2 from
// Maven: MM2 copies part of a topic and stops (cleanly, or killed mid-copy), `mirror import mm2
// --resume-from-mm2` turns its configuration into a spec and its progress into mirror's, and mirror's
// engine continues: every source record is on the target exactly once, in order.
#include <gtest/gtest.h>

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <regex>
#include <sstream>

#include <nlohmann/json.hpp>

#include "engine/tests/e2e.h"

namespace mirror::e2e {
namespace {

std::string java_binary() {
  if (const char* j = std::getenv("JAVA")) return j;
  if (const char* home = std::getenv("JAVA_HOME")) return std::string(home) + "/bin/java";
  for (const char* d : {"/usr/bin/java", "/usr/local/bin/java"}) {
    if (fs::exists(d)) return d;
  }
  return "java";
}

std::string mm2_lib() {
  if (const char* l = std::getenv("MM2_LIB")) return l;
  std::ifstream v(std::string(MIRROR_SOURCE_DIR) + "/scripts/kafka/VERSION");
  std::string version;
  v >> version;
  return std::string(MIRROR_SOURCE_DIR) + "/.cache/kafka-" + version + "/mm2-lib";
}

// Records keyed "<partition>-<index>" so that a copy names its source position.
std::vector<Rec> keyed(int first, int n, int partitions, std::vector<int32_t>& parts, size_t size) {
  std::vector<Rec> out;
  parts.clear();
  for (int i = first; i < first + n; ++i) {
    const int p = i % partitions;
    Rec r;
    r.key = std::to_string(p) + "-" + std::to_string(i / partitions);
    r.value = std::string(size, static_cast<char>('a' + i % 26));
    out.push_back(std::move(r));
    parts.push_back(p);
  }
  return out;
}

class Mm2Takeover : public EngineE2E {
 protected:
  void SetUp() override {
    EngineE2E::SetUp();
    if (!fs::exists(mm2_lib())) GTEST_SKIP() << "no MM2 jars in " << mm2_lib();
    // MM2's alias of the source names everything MM2 and mirror create: unique per test run.
    alias_ = "m" + std::to_string(::getpid()) + test_name();
    topic_ = prefix_ + ".orders";
  }
  static const char* test_name() { return ::testing::UnitTest::GetInstance()->current_test_info()->name(); }

  std::string write_mm2_properties(bool commit_every_second = false) {
    const std::string path = (dir_ / "mm2.properties").string();
    std::string escaped;
    for (char c : topic_) escaped += c == '.' ? std::string("\\\\.") : std::string(1, c);
    std::ofstream(path) << "# MirrorMaker 2, dedicated mode (written by mm2_takeover_integration_test)\n"
                        << "clusters = " << alias_ << ", B\n"
                        << alias_ << ".bootstrap.servers = 127.0.0.1:19092\n"
                        << "B.bootstrap.servers = 127.0.0.1:29092\n"
                        << alias_ << "->B.enabled = true\n"
                        << alias_ << "->B.topics = " << escaped << "\n"
                        << "B->" << alias_ << ".enabled = false\n"
                        << "emit.heartbeats.enabled = false\n"
                        << "emit.checkpoints.enabled = false\n"
                        << "sync.group.offsets.enabled = false\n"
                        << "sync.topic.acls.enabled = false\n"
                        << "tasks.max = 1\n"
                        << "replication.factor = 1\n"
                        << "checkpoints.topic.replication.factor = 1\n"
                        << "heartbeats.topic.replication.factor = 1\n"
                        << "offset-syncs.topic.replication.factor = 1\n"
                        << "config.storage.replication.factor = 1\n"
                        << "offset.storage.replication.factor = 1\n"
                        << "status.storage.replication.factor = 1\n"
                        // A worker setting: MM2 takes it from the target cluster's settings.
                        << (commit_every_second ? "B.offset.flush.interval.ms = 1000\n" : "")
                        << "B.group.id = " << alias_ << "-mm2\n";
    return path;
  }

  std::unique_ptr<Proc> start_mm2(const std::string& properties) {
    const std::string src = MIRROR_SOURCE_DIR;
    return std::make_unique<Proc>(
        std::vector<std::string>{"-Xms128m", "-Xmx512m",
                                 "-Dlog4j2.configurationFile=" + src + "/scripts/kafka/log4j2.properties",
                                 "-Dkafka.logs.dir=" + dir_.string(), "-cp", mm2_lib() + "/*",
                                 "org.apache.kafka.connect.mirror.MirrorMaker", properties},
        dir_ / "mm2.log", java_binary());
  }

  // Every source record is on the target exactly once and in order.
  void expect_exactly_once(int partitions) {
    auto src = read_all(kA, topic_, partitions);
    auto dst = read_all(kB, alias_ + "." + topic_, partitions);
    for (int p = 0; p < partitions; ++p) {
      std::vector<std::string> s, d;
      for (const auto& r : src[p]) s.push_back(*r.key);
      for (const auto& r : dst[p]) d.push_back(*r.key);
      ASSERT_EQ(d.size(), s.size()) << "partition " << p << ": the target holds " << d.size()
                                    << " records, the source " << s.size() << " (duplicates or losses)";
      EXPECT_EQ(d, s) << "partition " << p << ": the target differs from the source";
    }
  }

  void cleanup() {
    auto a = admin(kB);
    (void)a.delete_topics({alias_ + "." + topic_, alias_ + ".heartbeats",
                           "mm2-offsets." + alias_ + ".internal", "mm2-configs." + alias_ + ".internal",
                           "mm2-status." + alias_ + ".internal", alias_ + ".checkpoints.internal"});
    auto src = admin(kA);
    (void)src.delete_topics({topic_, "mm2-offset-syncs.B.internal"});
  }

  std::string alias_, topic_;
};

TEST_F(Mm2Takeover, CleanStop) {
  constexpr int kParts = 3;
  create_topic(topic_, kParts);
  std::vector<int32_t> parts;
  produce(topic_, keyed(0, 3000, kParts, parts, 100), parts);

  const std::string props = write_mm2_properties();
  auto mm2 = start_mm2(props);
  ASSERT_TRUE(wait_for(alias_ + "." + topic_, kParts, 3000, 180s)) << "MM2 did not copy the topic:\n"
                                                                   << mm2->output();
  std::this_thread::sleep_for(2s);  // a commit of its offsets after the last record
  ASSERT_NE(mm2->stop(SIGTERM, 60s), -2) << "MM2 did not stop within 60 s:\n" << mm2->output();

  // Records MM2 never saw: mirror must copy exactly these.
  produce(topic_, keyed(3000, 2000, kParts, parts, 100), parts);

  const std::string spec = (dir_ / "mirror.yaml").string();
  Proc imp({"import", "mm2", props, "--out", spec, "--resume-from-mm2"}, dir_ / "import.log");
  ASSERT_EQ(imp.stop(0, 120s), 0) << imp.output();
  const std::string out = imp.output();
  EXPECT_NE(out.find(topic_ + "[0]: MM2 copied up to offset 999"), std::string::npos) << out;
  EXPECT_NE(out.find("continues at source offset 1000"), std::string::npos) << out;
  EXPECT_EQ(out.find("secret"), std::string::npos) << out;

  // A consumer group that read part of the topic before the takeover translates exactly: mirror's offset
  // map begins with the copies MM2 made (the target began empty, so target offset = source offset).
  const std::string g = prefix_ + "-app";
  {
    auto a = admin(kA);
    auto r = a.alter_group_offsets(g, {{topic_, 0, 400, ""}, {topic_, 1, 999, ""}, {topic_, 2, 1000, ""}});
    ASSERT_TRUE(r.ok()) << r.error().describe();
  }
  {
    std::ifstream in(spec);
    std::stringstream ss;
    ss << in.rdbuf();
    std::ofstream(spec) << std::regex_replace(ss.str(), std::regex("sync_offsets: false"),
                                              "sync_offsets: true");
  }
  const std::string plan_json = (dir_ / "plan.json").string();
  Proc plan({"plan", "-c", spec, "--out", plan_json}, dir_ / "plan.log");
  ASSERT_EQ(plan.stop(0, 120s), 0) << plan.output();
  std::ifstream pj(plan_json);
  const auto j = nlohmann::json::parse(pj);
  std::map<int, int64_t> translated;
  for (const auto& grp : j["group_offsets"]) {
    if (grp["group"] != g) continue;
    for (const auto& p : grp["partitions"]) {
      EXPECT_EQ(p["decision"], "write") << p.dump();
      if (p["translated"].is_number()) translated[p["partition"].get<int>()] = p["translated"].get<int64_t>();
    }
  }
  EXPECT_EQ(translated, (std::map<int, int64_t>{{0, 400}, {1, 999}, {2, 1000}})) << plan.output();

  apply(spec);
  auto engine = run(spec, "run");
  ASSERT_TRUE(wait_caught_up(alias_ + "-to-B", topic_, kParts, 120s)) << engine->output();
  ASSERT_EQ(engine->stop(SIGTERM, 60s), 0) << engine->output();
  EXPECT_EQ(engine->output().find("written again"), std::string::npos) << engine->output();
  expect_exactly_once(kParts);
  if (!HasFailure()) cleanup();
}

// Produces records [first, first + n) at about `per_second` from a thread; the destructor waits for all.
class SteadyProducer {
 public:
  SteadyProducer(std::string topic, int first, int n, int partitions, int per_second)
      : thread_([=] {
          auto p = kafka::Producer::create(kA, {}, [](const kafka::Delivery& d) {
            if (d.error) ADD_FAILURE() << "producing failed: " << d.error->describe();
          });
          if (!p) {
            ADD_FAILURE() << p.error().describe();
            return;
          }
          std::vector<int32_t> parts;
          constexpr int kBatch = 100;
          for (int i = first; i < first + n; i += kBatch) {
            const auto t0 = Clock::now();
            const auto recs = keyed(i, std::min(kBatch, first + n - i), partitions, parts, 500);
            for (size_t k = 0; k < recs.size(); ++k) {
              auto sent = p->send(
                  {.topic = topic, .partition = parts[k], .key = *recs[k].key, .value = *recs[k].value});
              if (!sent) ADD_FAILURE() << sent.error().describe();
            }
            p->poll(std::chrono::milliseconds(0));
            std::this_thread::sleep_until(t0 + std::chrono::microseconds(1'000'000LL * kBatch / per_second));
          }
          if (auto f = p->flush(); !f) ADD_FAILURE() << f.error().describe();
        }) {}
  ~SteadyProducer() { thread_.join(); }

 private:
  std::thread thread_;
};

TEST_F(Mm2Takeover, KilledMidCopy) {
  constexpr int kParts = 2;
  create_topic(topic_, kParts);
  const std::string props = write_mm2_properties(/*commit_every_second=*/true);
  {
    // MM2 copies while records keep arriving, commits its position every second, and is killed in the
    // middle: what it sent after its last commit is on the target but not in its position.
    SteadyProducer producer(topic_, 0, 30000, kParts, 2000);
    auto mm2 = start_mm2(props);
    ASSERT_TRUE(wait_for(alias_ + "." + topic_, kParts, 12000, 180s)) << mm2->output();
    std::this_thread::sleep_for(2500ms);  // a few position commits; records keep arriving until 30,000
    mm2->stop(SIGKILL, 30s);
  }
  const std::string spec = (dir_ / "mirror.yaml").string();
  // MM2's status still says RUNNING (it was killed): import refuses unless told MM2 is stopped.
  Proc refused({"import", "mm2", props, "--out", spec, "--resume-from-mm2"}, dir_ / "refused.log");
  EXPECT_EQ(refused.stop(0, 120s), 1) << refused.output();
  EXPECT_NE(refused.output().find("RUNNING"), std::string::npos) << refused.output();
  EXPECT_NE(refused.output().find("--mm2-stopped"), std::string::npos) << refused.output();
  EXPECT_FALSE(fs::exists(spec)) << "a refused import must write nothing";

  Proc imp({"import", "mm2", props, "--out", spec, "--resume-from-mm2", "--mm2-stopped"},
           dir_ / "import.log");
  ASSERT_EQ(imp.stop(0, 120s), 0) << imp.output();
  EXPECT_NE(imp.output().find(topic_ + "[1]: MM2 copied up to offset"), std::string::npos) << imp.output();
  std::cout << imp.output();

  apply(spec);
  auto engine = run(spec, "run");
  ASSERT_TRUE(wait_caught_up(alias_ + "-to-B", topic_, kParts, 180s)) << engine->output();
  ASSERT_EQ(engine->stop(SIGTERM, 60s), 0) << engine->output();
  EXPECT_EQ(engine->output().find("written again"), std::string::npos) << engine->output();
  expect_exactly_once(kParts);
  if (!HasFailure()) cleanup();
}

TEST_F(Mm2Takeover, KilledBeforeItsFirstCommit) {
  constexpr int kParts = 2;
  create_topic(topic_, kParts);
  std::vector<int32_t> parts;
  produce(topic_, keyed(0, 6000, kParts, parts, 500), parts);
  // Connect commits positions every 60 s by default: killed sooner, MM2 leaves copies and no position.
  const std::string props = write_mm2_properties(/*commit_every_second=*/false);
  auto mm2 = start_mm2(props);
  ASSERT_TRUE(wait_for(alias_ + "." + topic_, kParts, 6000, 180s)) << mm2->output();
  mm2->stop(SIGKILL, 30s);
  produce(topic_, keyed(6000, 1000, kParts, parts, 500), parts);

  const std::string spec = (dir_ / "mirror.yaml").string();
  Proc imp({"import", "mm2", props, "--out", spec, "--resume-from-mm2", "--mm2-stopped"},
           dir_ / "import.log");
  ASSERT_EQ(imp.stop(0, 120s), 0) << imp.output();
  EXPECT_NE(
      imp.output().find(topic_ + "[0]: MM2 committed no position; mirror continues at source offset 3000"),
      std::string::npos)
      << imp.output();

  apply(spec);
  auto engine = run(spec, "run");
  ASSERT_TRUE(wait_caught_up(alias_ + "-to-B", topic_, kParts, 180s)) << engine->output();
  ASSERT_EQ(engine->stop(SIGTERM, 60s), 0) << engine->output();
  expect_exactly_once(kParts);
  if (!HasFailure()) cleanup();
}

}  // namespace
}  // namespace mirror::e2e

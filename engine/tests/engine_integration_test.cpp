// The engine against the real local clusters, through the mirror binary as operators run it:
// fidelity, kill -9 resume, exactly once, new topics, data loss upstream, metrics, clean stop.
#include <gtest/gtest.h>
#include <httplib.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "kafka/admin.h"
#include "kafka/consumer.h"
#include "kafka/producer.h"

namespace mirror {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

const kafka::ClientConfig kA{.alias = "A", .bootstrap = "127.0.0.1:19092"};
const kafka::ClientConfig kB{.alias = "B", .bootstrap = "127.0.0.1:29092"};

// A mirror process with its stdout and stderr in a file.
class Proc {
 public:
  Proc(const std::vector<std::string>& args, const fs::path& log) : log_(log) {
    pid_ = fork();
    if (pid_ == 0) {
      int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      dup2(fd, 1);
      dup2(fd, 2);
      int in = open("/dev/null", O_RDONLY);
      dup2(in, 0);
      std::vector<char*> argv;
      std::string bin = MIRROR_BINARY;
      argv.push_back(bin.data());
      std::vector<std::string> copy = args;
      for (auto& a : copy) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(bin.c_str(), argv.data());
      _exit(127);
    }
  }
  ~Proc() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  // Sends `sig` and waits up to `limit` for the exit; the exit code, or -1 (killed by a signal / timeout).
  int stop(int sig, std::chrono::milliseconds limit, std::chrono::milliseconds* took = nullptr) {
    const auto start = Clock::now();
    kill(pid_, sig);
    int status = 0;
    while (Clock::now() - start < limit) {
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        if (took) *took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      std::this_thread::sleep_for(20ms);
    }
    return -2;
  }
  std::string output() const {
    std::ifstream f(log_);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
  }

 private:
  pid_t pid_ = -1;
  fs::path log_;
};

struct Rec {
  std::optional<std::string> key, value;
  std::vector<kafka::Header> headers;
  int64_t ts = 0;
  bool operator==(const Rec&) const = default;
};

kafka::Admin admin(const kafka::ClientConfig& c) {
  auto a = kafka::Admin::connect(c);
  if (!a) throw std::runtime_error(a.error().describe());
  return std::move(a).value();
}

void create_topic(const std::string& name, int partitions) {
  auto a = admin(kA);
  auto r = a.create_topics({{.name = name, .partitions = partitions, .replication_factor = 1}});
  ASSERT_TRUE(r.ok()) << r.error().describe();
  ASSERT_TRUE((*r)[0].ok()) << (*r)[0].error->describe();
  for (int i = 0; i < 100; ++i) {
    auto offs = a.list_offsets({{{name, partitions - 1}, kafka::OffsetSpec::latest}});
    if (offs && !(*offs)[0].error) return;
    std::this_thread::sleep_for(100ms);
  }
}

// Produces records[i] to partition parts[i].
void produce(const std::string& topic, const std::vector<Rec>& records, const std::vector<int32_t>& parts) {
  std::optional<kafka::Error> failed;
  auto p = kafka::Producer::create(kA, {}, [&](const kafka::Delivery& d) {
    if (d.error) failed = d.error;
  });
  ASSERT_TRUE(p.ok()) << p.error().describe();
  for (size_t i = 0; i < records.size(); ++i) {
    const Rec& r = records[i];
    std::optional<std::string_view> k, v;
    if (r.key) k = *r.key;
    if (r.value) v = *r.value;
    auto s = p->send({.topic = topic,
                      .partition = parts[i],
                      .key = k,
                      .value = v,
                      .headers = r.headers,
                      .timestamp_ms = r.ts});
    ASSERT_TRUE(s.ok()) << s.error().describe();
  }
  ASSERT_TRUE(p->flush().ok());
  ASSERT_FALSE(failed) << failed->describe();
}

std::map<int32_t, std::vector<Rec>> read_all(const kafka::ClientConfig& c, const std::string& topic,
                                             int partitions,
                                             kafka::Isolation iso = kafka::Isolation::read_uncommitted) {
  std::map<int32_t, std::vector<Rec>> out;
  auto a = admin(c);
  std::vector<kafka::OffsetQuery> q;
  for (int p = 0; p < partitions; ++p) q.push_back({{topic, p}, kafka::OffsetSpec::latest});
  auto ends = a.list_offsets(q, iso);
  if (!ends) throw std::runtime_error(ends.error().describe());
  auto consumer = kafka::Consumer::create(c, {.isolation = iso, .report_eof = true});
  if (!consumer) throw std::runtime_error(consumer.error().describe());
  std::vector<kafka::TopicPartitionOffset> assign;
  std::set<int32_t> open;
  for (int p = 0; p < partitions; ++p) {
    assign.push_back({topic, p, -2});
    if ((*ends)[p].offset > 0) open.insert(p);
    out[p];
  }
  (void)consumer->assign(assign);
  const auto deadline = Clock::now() + 120s;
  while (!open.empty() && Clock::now() < deadline) {
    auto m = consumer->poll(200ms);
    if (!m || !*m) continue;
    const auto p = (*m)->partition();
    if ((*m)->eof()) {
      if ((*m)->offset() >= (*ends)[p].offset) open.erase(p);
      continue;
    }
    Rec r;
    if (auto k = (*m)->key()) r.key = std::string(*k);
    if (auto v = (*m)->value()) r.value = std::string(*v);
    r.headers = (*m)->headers();
    r.ts = (*m)->timestamp_ms();
    out[p].push_back(std::move(r));
    if ((*m)->offset() + 1 >= (*ends)[p].offset) open.erase(p);
  }
  consumer->close();
  return out;
}

int64_t end_offsets(const kafka::ClientConfig& c, const std::string& topic, int partitions) {
  auto a = kafka::Admin::connect(c);
  if (!a) return -1;
  std::vector<kafka::OffsetQuery> q;
  for (int p = 0; p < partitions; ++p) q.push_back({{topic, p}, kafka::OffsetSpec::latest});
  auto r = a->list_offsets(q);
  if (!r) return -1;
  int64_t sum = 0;
  for (const auto& x : *r) {
    if (x.error) return -1;
    sum += x.offset;
  }
  return sum;
}

// Waits until the target topic holds at least `n` records (summed over partitions).
bool wait_for(const std::string& topic, int partitions, int64_t n, std::chrono::seconds limit) {
  const auto deadline = Clock::now() + limit;
  while (Clock::now() < deadline) {
    if (end_offsets(kB, topic, partitions) >= n) return true;
    std::this_thread::sleep_for(250ms);
  }
  return false;
}

// Waits until the engine's stored progress (mirror.progress.internal, read_committed) has reached the
// source's end in every partition of `topic`.
bool wait_caught_up(const std::string& flow, const std::string& topic, int partitions,
                    std::chrono::seconds limit) {
  const auto deadline = Clock::now() + limit;
  const int64_t src_end_sum = end_offsets(kA, topic, partitions);
  while (Clock::now() < deadline) {
    auto a = admin(kB);
    auto end = a.list_offsets({{{"mirror.progress.internal", 0}, kafka::OffsetSpec::latest}},
                              kafka::Isolation::read_committed);
    if (end && !(*end)[0].error && (*end)[0].offset > 0) {
      auto c =
          kafka::Consumer::create(kB, {.isolation = kafka::Isolation::read_committed, .report_eof = true});
      (void)c->assign({{"mirror.progress.internal", 0, -2}});
      std::map<std::string, int64_t> next;
      const std::string prefix = "progress/" + flow + "/" + topic + "/";
      const auto read_until = Clock::now() + 30s;
      while (Clock::now() < read_until) {
        auto m = c->poll(100ms);
        if (!m || !*m) continue;
        if ((*m)->eof()) {
          if ((*m)->offset() >= (*end)[0].offset) break;
          continue;
        }
        auto k = (*m)->key();
        auto v = (*m)->value();
        if (k && v && k->starts_with(prefix)) {
          std::smatch mm;
          std::string value(*v);
          if (std::regex_search(value, mm, std::regex("\"next_offset\":([0-9]+)")))
            next[std::string(*k)] = std::stoll(mm[1]);
        }
        if ((*m)->offset() + 1 >= (*end)[0].offset) break;
      }
      c->close();
      int64_t sum = 0;
      for (const auto& [k, v] : next) sum += v;
      if (static_cast<int>(next.size()) == partitions && sum >= src_end_sum) return true;
    }
    std::this_thread::sleep_for(500ms);
  }
  return false;
}

std::string metrics_url(const Proc& p) {
  for (int i = 0; i < 100; ++i) {
    std::smatch m;
    const std::string out = p.output();
    if (std::regex_search(out, m, std::regex("metrics on http://([0-9.]+):([0-9]+)/metrics"))) {
      return m[1].str() + ":" + m[2].str();
    }
    std::this_thread::sleep_for(100ms);
  }
  return "";
}

class EngineE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    prefix_ =
        "eng" + std::to_string(::getpid()) + ::testing::UnitTest::GetInstance()->current_test_info()->name();
    for (auto& c : prefix_) c = std::isalnum(static_cast<unsigned char>(c)) ? c : '-';
    dir_ = fs::temp_directory_path() / prefix_;
    fs::create_directories(dir_);
  }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(dir_);
  }

  std::string write_spec(bool exactly_once = false) {
    const std::string path = (dir_ / "mirror.yaml").string();
    std::ofstream(path) << "version: 1\nclusters:\n  A: {bootstrap: \"127.0.0.1:19092\"}\n"
                           "  B: {bootstrap: \"127.0.0.1:29092\"}\nflows:\n  - name: "
                        << prefix_ << "\n    source: A\n    target: B\n    replication_factor: 1\n"
                        << (exactly_once ? "    exactly_once: true\n" : "") << "    topics: {include: [\""
                        << prefix_ << "\\\\..*\"]}\n";
    return path;
  }
  void apply(const std::string& spec) {
    Proc p({"apply", "-c", spec, "--auto-approve", "--detach"}, dir_ / "apply.log");
    ASSERT_EQ(p.stop(0, 120s), 0) << p.output();
  }
  std::unique_ptr<Proc> run(const std::string& spec, const std::string& name,
                            std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"run", "-c", spec, "--metrics-addr", "127.0.0.1:0", "--commit-interval-ms",
                                  "200"};
    args.insert(args.end(), extra.begin(), extra.end());
    return std::make_unique<Proc>(args, dir_ / (name + ".log"));
  }

  std::string prefix_;
  fs::path dir_;
};

// Keys, headers, tombstones and null keys across partitions arrive identical and in order; the
// metrics endpoint serves valid Prometheus text; SIGTERM stops cleanly.
TEST_F(EngineE2E, RecordsArriveIdenticalAndInOrder) {
  const std::string topic = prefix_ + ".data";
  create_topic(topic, 4);
  std::vector<Rec> recs;
  std::vector<int32_t> parts;
  for (int i = 0; i < 100'000; ++i) {
    Rec r;
    if (i % 10 != 0) r.key = "k" + std::to_string(i);
    if (i % 7 != 0) r.value = "v" + std::to_string(i) + std::string(static_cast<size_t>(i % 50), 'x');
    if (i % 3 == 0) r.headers = {{"h1", "x" + std::to_string(i)}, {"h2", std::nullopt}, {"h1", "dup"}};
    r.ts = 1'700'000'000'000 + i;
    recs.push_back(std::move(r));
    parts.push_back(i % 4);
  }
  produce(topic, recs, parts);
  const std::string spec = write_spec();
  apply(spec);
  auto engine = run(spec, "run");
  ASSERT_TRUE(wait_for("A." + topic, 4, 100'000, 120s)) << engine->output();

  const std::string addr = metrics_url(*engine);
  ASSERT_FALSE(addr.empty()) << engine->output();
  httplib::Client http("http://" + addr);
  std::string body;
  for (int i = 0; i < 50; ++i) {  // the last deliveries' counters
    auto res = http.Get("/metrics");
    ASSERT_TRUE(res) << "no answer from /metrics";
    EXPECT_EQ(res->status, 200);
    EXPECT_EQ(res->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
    body = res->body;
    double sum = 0;
    std::regex line("mirror_records_replicated_total\\{flow=\"" + prefix_ + "\",[^}]*\\} ([0-9.e+]+)");
    for (std::sregex_iterator it(body.begin(), body.end(), line), end; it != end; ++it)
      sum += std::stod((*it)[1]);
    if (sum == 100'000) break;
    std::this_thread::sleep_for(200ms);
  }
  std::istringstream lines(body);
  const std::regex sample(
      R"(^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? -?([0-9.e+-]+|\+Inf|NaN)$)");
  for (std::string l; std::getline(lines, l);) {
    if (l.starts_with("# HELP ") || l.starts_with("# TYPE ")) continue;
    EXPECT_TRUE(std::regex_match(l, sample)) << "not Prometheus text: " << l;
  }
  EXPECT_NE(body.find("# TYPE mirror_records_replicated_total counter"), std::string::npos);
  EXPECT_NE(body.find("# TYPE mirror_replication_latency_seconds histogram"), std::string::npos);
  EXPECT_NE(body.find("mirror_lag_records{flow=\"" + prefix_ + "\""), std::string::npos);
  EXPECT_NE(body.find("mirror_flow_state{flow=\"" + prefix_ + "\",state=\"running\"} 1"), std::string::npos)
      << body;
  auto health = http.Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200) << health->body;

  std::chrono::milliseconds took{};
  EXPECT_EQ(engine->stop(SIGTERM, 10s, &took), 0) << engine->output();
  EXPECT_LT(took, 10s);
  EXPECT_NE(engine->output().find("stopped; progress stored"), std::string::npos) << engine->output();

  auto src = read_all(kA, topic, 4);
  auto dst = read_all(kB, "A." + topic, 4);
  for (int p = 0; p < 4; ++p) {
    ASSERT_EQ(src[p].size(), 25'000u);
    ASSERT_EQ(dst[p].size(), src[p].size()) << "partition " << p;
    for (size_t i = 0; i < src[p].size(); ++i) {
      ASSERT_EQ(dst[p][i], src[p][i]) << "partition " << p << " record " << i;
    }
  }
}

// Index of a record produced by load(): its key.
std::vector<Rec> numbered(int n, int partitions, std::vector<int32_t>& parts, size_t size = 100) {
  std::vector<Rec> recs;
  recs.reserve(static_cast<size_t>(n));
  parts.clear();
  for (int i = 0; i < n; ++i) {
    Rec r;
    r.key = std::to_string(i);
    r.value = std::string(size, static_cast<char>('a' + i % 26));
    recs.push_back(std::move(r));
    parts.push_back(i % partitions);
  }
  return recs;
}

// Every source record is in the target, in source order; duplicates (a record again after a later one
// was already written: at-least-once replays) are counted.
int64_t check_complete(const std::string& topic, int partitions, kafka::Isolation iso) {
  auto src = read_all(kA, topic, partitions);
  auto dst = read_all(kB, "A." + topic, partitions, iso);
  int64_t duplicates = 0;
  for (int p = 0; p < partitions; ++p) {
    std::vector<std::string> firsts;
    std::set<std::string> seen;
    for (const auto& r : dst[p]) {
      if (seen.insert(*r.key).second) {
        firsts.push_back(*r.key);
      } else {
        ++duplicates;
      }
    }
    EXPECT_EQ(firsts.size(), src[p].size()) << "partition " << p << ": records lost";
    for (size_t i = 0; i < std::min(firsts.size(), src[p].size()); ++i) {
      if (firsts[i] != *src[p][i].key) {
        ADD_FAILURE() << "partition " << p << ": order differs at " << i;
        break;
      }
    }
  }
  return duplicates;
}

TEST_F(EngineE2E, KillNineFiveTimesLosesNothing) {
  const std::string topic = prefix_ + ".bulk";
  create_topic(topic, 8);
  std::vector<int32_t> parts;
  produce(topic, numbered(1'000'000, 8, parts), parts);
  const std::string spec = write_spec();
  apply(spec);
  // kill -9 at 15%, 30%, 45%, 60% and 75% of the copy (target high watermarks), restarting each time.
  int64_t reported = 0;
  auto count_reported = [&](const std::string& out) {
    std::regex re("resuming: up to ([0-9]+) records written after the last stored progress");
    for (std::sregex_iterator it(out.begin(), out.end(), re), end; it != end; ++it)
      reported += std::stoll((*it)[1]);
  };
  for (int kill = 1; kill <= 5; ++kill) {
    auto engine = run(spec, "run" + std::to_string(kill));
    const int64_t at = 150'000 * kill;
    const auto deadline = Clock::now() + 120s;
    while (Clock::now() < deadline && end_offsets(kB, "A." + topic, 8) < at)
      std::this_thread::sleep_for(20ms);
    EXPECT_EQ(engine->stop(SIGKILL, 10s), -1);
    std::cout << "kill -9 at " << end_offsets(kB, "A." + topic, 8) << " records on the target\n";
    count_reported(engine->output());
  }
  auto engine = run(spec, "final");
  ASSERT_TRUE(wait_caught_up(prefix_, topic, 8, 240s)) << engine->output();
  EXPECT_EQ(engine->stop(SIGTERM, 10s), 0) << engine->output();
  count_reported(engine->output());
  const int64_t dups = check_complete(topic, 8, kafka::Isolation::read_uncommitted);
  std::cout << "at-least-once after 5 x kill -9: 1000000 records, " << dups << " duplicates, " << reported
            << " announced\n";
  // Each resume announces what it may write again; a resume killed before it re-sent them announces
  // them again, so the announcements bound the duplicates from above.
  EXPECT_LE(dups, reported) << "every duplicate is announced when the engine resumes";
}

TEST_F(EngineE2E, ExactlyOnceSurvivesKillNineWithoutDuplicates) {
  const std::string topic = prefix_ + ".eos";
  create_topic(topic, 4);
  std::vector<int32_t> parts;
  produce(topic, numbered(300'000, 4, parts), parts);
  const std::string spec = write_spec(/*exactly_once=*/true);
  apply(spec);
  std::mt19937 rng(7);
  for (int kill = 0; kill < 3; ++kill) {
    auto engine = run(spec, "run" + std::to_string(kill));
    std::this_thread::sleep_for(std::chrono::milliseconds(2000 + rng() % 2000));
    EXPECT_EQ(engine->stop(SIGKILL, 10s), -1);
  }
  auto engine = run(spec, "final");
  ASSERT_TRUE(wait_caught_up(prefix_, topic, 4, 240s)) << engine->output();
  EXPECT_EQ(engine->stop(SIGTERM, 10s), 0) << engine->output();
  const int64_t dups = check_complete(topic, 4, kafka::Isolation::read_committed);
  EXPECT_EQ(dups, 0) << "a read_committed reader of the target saw duplicates";
}

TEST_F(EngineE2E, NewTopicIsMirroredWhileOthersKeepFlowing) {
  const std::string first = prefix_ + ".first";
  create_topic(first, 2);
  std::vector<int32_t> parts;
  produce(first, numbered(1000, 2, parts), parts);
  const std::string spec = write_spec();
  apply(spec);
  auto engine = run(spec, "run", {"--discovery-interval", "2"});
  ASSERT_TRUE(wait_for("A." + first, 2, 1000, 60s)) << engine->output();

  const std::string late = prefix_ + ".late";
  create_topic(late, 3);
  produce(late, numbered(300, 3, parts), parts);
  const auto created = Clock::now();
  ASSERT_TRUE(wait_for("A." + late, 3, 300, 30s)) << engine->output();
  std::cout << "new topic mirrored "
            << std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - created).count()
            << " ms after it was created (discovery interval 2 s)\n";
  produce(first, numbered(1000, 2, parts), parts);  // the first topic never paused
  ASSERT_TRUE(wait_for("A." + first, 2, 2000, 30s)) << engine->output();
  EXPECT_NE(engine->output().find("\"kind\":\"create_topic\""), std::string::npos) << "no audit line";
  EXPECT_EQ(engine->stop(SIGTERM, 10s), 0) << engine->output();
}

TEST_F(EngineE2E, RecordsDeletedUpstreamBeforeMirroringAreReported) {
  const std::string topic = prefix_ + ".gone";
  create_topic(topic, 1);
  std::vector<int32_t> parts;
  produce(topic, numbered(100, 1, parts), parts);
  const std::string spec = write_spec();
  apply(spec);
  {
    auto engine = run(spec, "run1");
    ASSERT_TRUE(wait_for("A." + topic, 1, 100, 60s)) << engine->output();
    EXPECT_EQ(engine->stop(SIGTERM, 10s), 0) << engine->output();
  }
  produce(topic, numbered(100, 1, parts), parts);  // offsets 100..199
  auto del = admin(kA).delete_records({{topic, 0, 150}});
  ASSERT_TRUE(del.ok()) << del.error().describe();
  auto engine = run(spec, "run2");
  ASSERT_TRUE(wait_for("A." + topic, 1, 150, 60s)) << engine->output();
  std::this_thread::sleep_for(500ms);
  const std::string out = engine->output();
  EXPECT_NE(out.find("DATA LOSS UPSTREAM: 50 records of A:" + topic + "[0] (offsets 100..149)"),
            std::string::npos)
      << out;
  httplib::Client http("http://" + metrics_url(*engine));
  auto res = http.Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_NE(res->body.find("mirror_skipped_records_total{flow=\"" + prefix_ + "\",topic=\"" + topic +
                           "\",partition=\"0\"} 50"),
            std::string::npos)
      << res->body;
  EXPECT_EQ(engine->stop(SIGTERM, 10s), 0) << out;
  EXPECT_EQ(end_offsets(kB, "A." + topic, 1), 150);
}

TEST_F(EngineE2E, SecondEngineWaitsAsStandbyAndTakesOver) {
  const std::string topic = prefix_ + ".ha";
  create_topic(topic, 2);
  std::vector<int32_t> parts;
  produce(topic, numbered(1000, 2, parts), parts);
  const std::string spec = write_spec();
  apply(spec);
  auto first = run(spec, "first");
  ASSERT_TRUE(wait_for("A." + topic, 2, 1000, 60s)) << first->output();
  auto second = run(spec, "second");
  std::this_thread::sleep_for(3s);
  EXPECT_NE(second->output().find("standby: another engine runs this flow"), std::string::npos)
      << second->output();
  EXPECT_EQ(first->stop(SIGKILL, 10s), -1);
  produce(topic, numbered(1000, 2, parts), parts);
  ASSERT_TRUE(wait_for("A." + topic, 2, 2000, 60s)) << second->output();
  EXPECT_EQ(second->stop(SIGTERM, 10s), 0) << second->output();
}

// A pipeline applies a new revision with --detach while the engine runs elsewhere: the engine picks it
// up without a restart, and `mirror status` shows the engine's state.
TEST_F(EngineE2E, NewRevisionAppliedWithDetachIsPickedUp) {
  const std::string kept = prefix_ + ".kept", added = prefix_ + "-added";
  create_topic(kept, 1);
  create_topic(added, 1);
  std::vector<int32_t> parts;
  produce(kept, numbered(100, 1, parts), parts);
  produce(added, numbered(100, 1, parts), parts);
  const std::string spec = write_spec();
  apply(spec);
  auto engine = run(spec, "run", {"--discovery-interval", "1"});
  ASSERT_TRUE(wait_for("A." + kept, 1, 100, 60s)) << engine->output();
  EXPECT_EQ(end_offsets(kB, "A." + added, 1), -1) << "not selected yet";

  // The spec now also selects <prefix>-added; applied with --detach (as a deploy pipeline would).
  std::string text;
  {
    std::ifstream f(spec);
    std::stringstream ss;
    ss << f.rdbuf();
    text = ss.str();
  }
  const std::string from = "include: [\"" + prefix_ + "\\\\..*\"]";
  ASSERT_NE(text.find(from), std::string::npos) << text;
  text.replace(text.find(from), from.size(),
               "include: [\"" + prefix_ + "\\\\..*\", \"" + prefix_ + "-added\"]");
  std::ofstream(spec) << text;
  apply(spec);
  ASSERT_TRUE(wait_for("A." + added, 1, 100, 60s)) << engine->output();
  EXPECT_NE(engine->output().find("; switching to it"), std::string::npos) << engine->output();

  Proc status({"status", "-c", spec, "--format", "json"}, dir_ / "status.log");
  ASSERT_EQ(status.stop(0, 60s), 0) << status.output();
  EXPECT_NE(status.output().find("\"state\": \"running\""), std::string::npos) << status.output();
  EXPECT_EQ(engine->stop(SIGTERM, 10s), 0) << engine->output();
}

}  // namespace
}  // namespace mirror

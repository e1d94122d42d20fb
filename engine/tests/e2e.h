// Helpers of the engine's end-to-end tests: a mirror process, producing and reading whole topics,
// waiting for the engine's stored progress. Header-only, for the test binaries in this folder.
#pragma once

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

namespace mirror::e2e {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

inline const kafka::ClientConfig kA{.alias = "A", .bootstrap = "127.0.0.1:19092"};
inline const kafka::ClientConfig kB{.alias = "B", .bootstrap = "127.0.0.1:29092"};

// A mirror process with its stdout and stderr in a file.
class Proc {
 public:
  Proc(const std::vector<std::string>& args, const fs::path& log, std::string binary = MIRROR_BINARY)
      : log_(log) {
    pid_ = fork();
    if (pid_ == 0) {
      int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      dup2(fd, 1);
      dup2(fd, 2);
      int in = open("/dev/null", O_RDONLY);
      dup2(in, 0);
      std::vector<char*> argv;
      std::string bin = binary;
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
  void signal(int sig) const { kill(pid_, sig); }
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

inline kafka::Admin admin(const kafka::ClientConfig& c) {
  auto a = kafka::Admin::connect(c);
  if (!a) throw std::runtime_error(a.error().describe());
  return std::move(a).value();
}

inline void create_topic(const std::string& name, int partitions) {
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
inline void produce(const std::string& topic, const std::vector<Rec>& records,
                    const std::vector<int32_t>& parts) {
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

inline std::map<int32_t, std::vector<Rec>> read_all(
    const kafka::ClientConfig& c, const std::string& topic, int partitions,
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

inline int64_t end_offsets(const kafka::ClientConfig& c, const std::string& topic, int partitions) {
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
inline bool wait_for(const std::string& topic, int partitions, int64_t n, std::chrono::seconds limit) {
  const auto deadline = Clock::now() + limit;
  while (Clock::now() < deadline) {
    if (end_offsets(kB, topic, partitions) >= n) return true;
    std::this_thread::sleep_for(250ms);
  }
  return false;
}

// Waits until the engine's stored progress (mirror.progress.internal, read_committed) has reached the
// source's end in every partition of `topic`.
inline bool wait_caught_up(const std::string& flow, const std::string& topic, int partitions,
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

inline std::string metrics_url(const Proc& p) {
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
    // Other integration tests apply to B at the same time (ctest -j2): wait for their lock.
    Proc p({"apply", "-c", spec, "--auto-approve", "--detach", "--lock-timeout", "120"}, dir_ / "apply.log");
    ASSERT_EQ(p.stop(0, 120s), 0) << p.output();
  }
  std::unique_ptr<Proc> run(const std::string& spec, const std::string& name,
                            std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"run", "-c", spec, "--metrics-addr", "127.0.0.1:0", "--commit-interval-ms",
                                  "200"};
    // Heartbeats only where a test asks for them: an engine that creates `heartbeats` on A makes every
    // flow from A want A.heartbeats on B, which would change plans other tests are comparing.
    if (std::find(extra.begin(), extra.end(), "--heartbeat-interval") == extra.end()) {
      args.insert(args.end(), {"--heartbeat-interval", "0"});
    }
    args.insert(args.end(), extra.begin(), extra.end());
    return std::make_unique<Proc>(args, dir_ / (name + ".log"));
  }

  std::string prefix_;
  fs::path dir_;
};

// Index of a record produced by load(): its key.
inline std::vector<Rec> numbered(int n, int partitions, std::vector<int32_t>& parts, size_t size = 100,
                                 int first = 0) {
  std::vector<Rec> recs;
  recs.reserve(static_cast<size_t>(n));
  parts.clear();
  for (int i = 0; i < n; ++i) {
    Rec r;
    r.key = std::to_string(first + i);
    r.value = std::string(size, static_cast<char>('a' + i % 26));
    recs.push_back(std::move(r));
    parts.push_back(i % partitions);
  }
  return recs;
}

// Every source record is in the target, in source order; duplicates (a record again after a later one
// was already written: at-least-once replays) are counted.
inline int64_t check_complete(const std::string& topic, int partitions, kafka::Isolation iso) {
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

}  // namespace mirror::e2e

// Helpers of the fault-injection suite (fault_integration_test.cpp, docs/reliability.md): a Toxiproxy
// server with one proxy per cluster in front of the brokers' PROXIED listeners, a steady producer, a
// watcher of the engine's stored progress, and the checks (lost, duplicates, order).
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <cstdlib>
#include <mutex>

#include "engine/tests/e2e.h"

namespace mirror::faults {

using namespace mirror::e2e;

// The cache the tools are installed into (scripts/install-fault-tools).
inline fs::path tool(const std::string& name) {
  const char* cache = std::getenv("MIRROR_CACHE");
  return fs::path(cache && *cache ? cache : MIRROR_SOURCE_DIR "/.cache") / "bin" / name;
}

inline fs::path kafka_dir() {
  const char* d = std::getenv("MIRROR_KAFKA_DIR");
  return fs::path(d && *d ? d : MIRROR_SOURCE_DIR "/.kafka-local");
}

inline int free_port() {
  int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(s);
  return ntohs(a.sin_port);
}

// toxiproxy-server on a free port, with proxies "A" (127.0.0.1:19199 -> 19099) and "B" (29199 -> 29099):
// the brokers advertise 19199/29199 on their PROXIED listener, so every connection of a client that
// bootstraps there passes the proxy.
class Toxiproxy {
 public:
  // Empty when it could not be started: the reason is in error().
  explicit Toxiproxy(const fs::path& dir) {
    const fs::path server = tool("toxiproxy-server");
    if (!fs::exists(server)) {
      error_ = server.string() + " is not installed: run scripts/install-fault-tools (scripts/test does)";
      return;
    }
    port_ = free_port();
    proc_ =
        std::make_unique<Proc>(std::vector<std::string>{"-host", "127.0.0.1", "-port", std::to_string(port_)},
                               dir / "toxiproxy.log", server.string());
    http_ = std::make_unique<httplib::Client>("127.0.0.1", port_);
    http_->set_connection_timeout(2s);
    bool up = false;
    for (int i = 0; i < 100 && !up; ++i) {
      auto r = http_->Get("/version");
      up = r && r->status == 200;
      if (!up) std::this_thread::sleep_for(100ms);
    }
    if (!up) {
      error_ = "toxiproxy-server did not answer on port " + std::to_string(port_) + ": " + proc_->output();
      return;
    }
    for (const auto& [name, listen, upstream] : {std::tuple{"A", "127.0.0.1:19199", "127.0.0.1:19099"},
                                                 std::tuple{"B", "127.0.0.1:29199", "127.0.0.1:29099"}}) {
      const std::string body = std::string("{\"name\":\"") + name + "\",\"listen\":\"" + listen +
                               "\",\"upstream\":\"" + upstream + "\",\"enabled\":true}";
      auto r = http_->Post("/proxies", body, "application/json");
      if (!r || r->status != 201) {
        error_ = std::string("could not create the proxy ") + listen + " -> " + upstream + ": " +
                 (r ? r->body : "no answer") + " (is another proxy listening there?)";
        return;
      }
    }
  }
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }

  // A toxic on `proxy` ("A" or "B") in `stream` ("upstream": client -> broker, "downstream").
  void add(const std::string& proxy, const std::string& name, const std::string& type,
           const std::string& stream, const std::string& attributes) {
    const std::string body = "{\"name\":\"" + name + "\",\"type\":\"" + type + "\",\"stream\":\"" + stream +
                             "\",\"toxicity\":1.0,\"attributes\":" + attributes + "}";
    auto r = http_->Post("/proxies/" + proxy + "/toxics", body, "application/json");
    ASSERT_TRUE(r && r->status == 200) << "toxic " << name << ": " << (r ? r->body : "no answer");
  }
  void remove(const std::string& proxy, const std::string& name) {
    auto r = http_->Delete("/proxies/" + proxy + "/toxics/" + name);
    EXPECT_TRUE(r && r->status == 204) << "remove toxic " << name << ": " << (r ? r->body : "no answer");
  }

 private:
  std::string error_;
  int port_ = 0;
  std::unique_ptr<Proc> proc_;
  std::unique_ptr<httplib::Client> http_;
};

// Produces to every partition of `topics` on A (direct listener) at about `per_second` records, keys
// "<topic>/<partition>/<n>", until stopped.
class SteadyProducer {
 public:
  SteadyProducer(std::vector<std::string> topics, int partitions, int per_second)
      : topics_(std::move(topics)), partitions_(partitions), per_second_(per_second) {
    thread_ = std::thread([this] { loop(); });
  }
  ~SteadyProducer() { stop(); }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  int64_t failed() const { return failed_; }

 private:
  void loop() {
    auto p = kafka::Producer::create(kA, {}, [this](const kafka::Delivery& d) {
      if (d.error) ++failed_;
    });
    if (!p) {
      failed_ = -1;
      return;
    }
    // Incompressible values (200 bytes from a random pool), so bandwidth limits bite as they would.
    std::string pool(1 << 16, '\0');
    std::mt19937 rng(42);
    for (auto& ch : pool) ch = static_cast<char>(rng());
    std::map<std::string, int64_t> seq;
    const int slots = static_cast<int>(topics_.size()) * partitions_;
    const auto start = Clock::now();
    int64_t sent = 0;
    while (!stop_) {
      const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
      while (sent < static_cast<int64_t>(elapsed * per_second_)) {
        const int slot = static_cast<int>(sent % slots);
        const std::string& topic = topics_[static_cast<size_t>(slot / partitions_)];
        const int32_t part = slot % partitions_;
        const std::string key =
            topic + "/" + std::to_string(part) + "/" + std::to_string(seq[key_of(topic, part)]++);
        const std::string_view value(pool.data() + (sent * 7919) % (pool.size() - 200), 200);
        (void)p->send({.topic = topic, .partition = part, .key = key, .value = value});
        ++sent;
      }
      p->poll(10ms);
    }
    (void)p->flush();
  }
  static std::string key_of(const std::string& t, int32_t p) { return t + "/" + std::to_string(p); }

  std::vector<std::string> topics_;
  int partitions_;
  int per_second_;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> failed_{0};
  std::thread thread_;
};

// Follows the flow's stored progress (mirror.progress.internal on B, read_committed) and samples it every
// 250 ms: the source offsets the engine has copied and committed, per "<topic>/<partition>".
class ProgressWatcher {
 public:
  explicit ProgressWatcher(std::string flow) : prefix_("progress/" + std::move(flow) + "/") {
    thread_ = std::thread([this] { loop(); });
  }
  ~ProgressWatcher() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  std::map<std::string, int64_t> now() {
    std::lock_guard l(mu_);
    return next_;
  }
  struct Sample {
    Clock::time_point at;
    std::map<std::string, int64_t> next;
  };
  std::vector<Sample> samples() {
    std::lock_guard l(mu_);
    return samples_;
  }

 private:
  void loop() {
    // A consumer that sees nothing for 3 s (the topic is written every commit interval by every engine), or
    // gets an error (a frozen or restarted broker), is replaced by a new one at the next offset.
    int64_t position = -2;
    while (!stop_) {
      auto c = kafka::Consumer::create(kB, {.isolation = kafka::Isolation::read_committed});
      if (!c) {
        std::this_thread::sleep_for(500ms);
        continue;
      }
      (void)c->assign({{"mirror.progress.internal", 0, position}});
      auto last_message = Clock::now();
      while (!stop_ && Clock::now() - last_message < 3s) {
        auto m = c->poll(50ms);
        if (!m) break;
        if (*m && !(*m)->eof()) {
          last_message = Clock::now();
          position = (*m)->offset() + 1;
          read(**m);
        } else if (*m) {
          last_message = Clock::now();
        }
        sample();
      }
      c->close();
    }
  }
  void read(const kafka::Message& m) {
    auto k = m.key();
    auto v = m.value();
    if (!k || !v || !k->starts_with(prefix_)) return;
    static const std::regex next_re("\"next_offset\":([0-9]+)");
    std::smatch mm;
    const std::string value(*v);
    if (std::regex_search(value, mm, next_re)) {
      std::lock_guard l(mu_);
      next_[std::string(k->substr(prefix_.size()))] = std::stoll(mm[1]);
    }
  }
  void sample() {
    if (Clock::now() - last_sample_ < 250ms) return;
    last_sample_ = Clock::now();
    std::lock_guard l(mu_);
    samples_.push_back({last_sample_, next_});
  }

  Clock::time_point last_sample_ = Clock::now();
  std::string prefix_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::map<std::string, int64_t> next_;
  std::vector<Sample> samples_;
  std::thread thread_;
};

// Source end offsets of every partition, by "<topic>/<partition>".
inline std::map<std::string, int64_t> source_ends(const std::vector<std::string>& topics, int partitions) {
  std::map<std::string, int64_t> out;
  auto a = admin(kA);
  std::vector<kafka::OffsetQuery> q;
  for (const auto& t : topics)
    for (int p = 0; p < partitions; ++p) q.push_back({{t, p}, kafka::OffsetSpec::latest});
  auto r = a.list_offsets(q);
  if (!r) return out;
  for (size_t i = 0; i < r->size(); ++i)
    out[q[i].tp.topic + "/" + std::to_string(q[i].tp.partition)] = (*r)[i].offset;
  return out;
}

inline bool covers(const std::map<std::string, int64_t>& progress,
                   const std::map<std::string, int64_t>& ends) {
  for (const auto& [k, end] : ends) {
    if (end <= 0) continue;
    auto it = progress.find(k);
    if (it == progress.end() || it->second < end) return false;
  }
  return true;
}

struct Check {
  int64_t source = 0, lost = 0, duplicates = 0, healthy_duplicates = 0;
  bool in_order = true;
  std::string detail;
};

// Every source record of `topics` on the target (A.<topic>) in order; duplicates counted (a key seen again).
inline Check check_topics(const std::vector<std::string>& topics, int partitions, kafka::Isolation iso,
                          const std::set<std::string>& healthy_topics) {
  Check c;
  for (const auto& t : topics) {
    auto src = read_all(kA, t, partitions);
    std::map<int32_t, std::vector<Rec>> dst;
    try {
      dst = read_all(kB, "A." + t, partitions, iso);
    } catch (const std::exception& e) {
      c.detail += "A." + t + " unreadable: " + e.what() + "; ";
    }
    for (int p = 0; p < partitions; ++p) {
      std::vector<std::string> firsts;
      std::set<std::string> seen;
      for (const auto& r : dst[p]) {
        if (seen.insert(r.key.value_or("")).second) {
          firsts.push_back(r.key.value_or(""));
        } else {
          ++c.duplicates;
          if (healthy_topics.contains(t)) ++c.healthy_duplicates;
        }
      }
      c.source += static_cast<int64_t>(src[p].size());
      size_t j = 0;
      for (const auto& r : src[p]) {
        if (!seen.contains(*r.key)) {
          ++c.lost;
          continue;
        }
        while (j < firsts.size() && firsts[j] != *r.key) ++j;
        if (j == firsts.size()) c.in_order = false;
      }
      if (c.lost && c.detail.find(t) == std::string::npos)
        c.detail += t + "[" + std::to_string(p) + "]: " + std::to_string(src[p].size()) + " on A, " +
                    std::to_string(firsts.size()) + " distinct on B; ";
    }
  }
  return c;
}

}  // namespace mirror::faults

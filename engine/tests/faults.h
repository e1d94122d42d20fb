// Helpers of the fault-injection suite (fault_integration_test.cpp, docs/reliability.md): a Toxiproxy
// server with one proxy per cluster in front of the brokers' PROXIED listeners, a steady producer, a
// watcher of the engine's stored progress, and the checks (lost, duplicates, order).
#pragma once

#include <netinet/in.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/statvfs.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
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

// Produces to every partition of `topics` on A (direct listener; `source` for another cluster) at about
// `per_second` records, keys "<topic>/<partition>/<n>", until stopped.
class SteadyProducer {
 public:
  SteadyProducer(std::vector<std::string> topics, int partitions, int per_second,
                 kafka::ClientConfig source = kA)
      : topics_(std::move(topics)),
        partitions_(partitions),
        per_second_(per_second),
        source_(std::move(source)) {
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
    auto p = kafka::Producer::create(source_, {}, [this](const kafka::Delivery& d) {
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
  kafka::ClientConfig source_;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> failed_{0};
  std::thread thread_;
};

// Follows the flow's stored progress (mirror.progress.internal on B, or `target`, read_committed) and
// samples it every 250 ms: the source offsets the engine has copied and committed, per "<topic>/<partition>".
class ProgressWatcher {
 public:
  explicit ProgressWatcher(std::string flow, kafka::ClientConfig target = kB)
      : prefix_("progress/" + std::move(flow) + "/"), target_(std::move(target)) {
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
      auto c = kafka::Consumer::create(target_, {.isolation = kafka::Isolation::read_committed});
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
  kafka::ClientConfig target_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::map<std::string, int64_t> next_;
  std::vector<Sample> samples_;
  std::thread thread_;
};

// Source end offsets of every partition, by "<topic>/<partition>" (on A, or `source`).
inline std::map<std::string, int64_t> source_ends(const std::vector<std::string>& topics, int partitions,
                                                  const kafka::ClientConfig& source = kA) {
  std::map<std::string, int64_t> out;
  auto a = admin(source);
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

// Seconds from `since` until the stored progress covers `ends` (the recovery time), or -1 when it does
// not within `guard` of `since` (a hang guard, not a timed assertion).
inline double seconds_until_covered(ProgressWatcher& progress, const std::map<std::string, int64_t>& ends,
                                    Clock::time_point since, std::chrono::seconds guard) {
  while (Clock::now() - since < guard) {
    if (covers(progress.now(), ends)) return std::chrono::duration<double>(Clock::now() - since).count();
    std::this_thread::sleep_for(100ms);
  }
  return -1;
}

struct Check {
  int64_t source = 0, lost = 0, duplicates = 0, healthy_duplicates = 0;
  bool in_order = true;
  std::string detail;
};

// Every source record of `topics` on the target (A.<topic>) in order; duplicates counted (a key seen again).
// A and B by default; `source` and `target` for another pair of clusters.
inline Check check_topics(const std::vector<std::string>& topics, int partitions, kafka::Isolation iso,
                          const std::set<std::string>& healthy_topics, const kafka::ClientConfig& source = kA,
                          const kafka::ClientConfig& target = kB) {
  Check c;
  for (const auto& t : topics) {
    auto src = read_all(source, t, partitions);
    std::map<int32_t, std::vector<Rec>> dst;
    try {
      dst = read_all(target, "A." + t, partitions, iso);
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

// ---- a second pair of clusters (the target-disk-full row) ----

// Is process `pid` running (not gone, not a zombie)?
inline bool process_alive(pid_t pid) {
  if (pid <= 0) return false;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return false;
  const auto paren = line.rfind(')');  // "pid (comm) S ...": the state follows the command name
  if (paren == std::string::npos || paren + 2 >= line.size()) return false;
  const char state = line[paren + 2];
  return state != 'Z' && state != 'X';
}

// Why this process cannot mount a tmpfs (not root, no tmpfs, ...), or "" if it can: it mounts a 1 MB
// tmpfs on `probe` and unmounts it again.
inline std::string tmpfs_unavailable(const fs::path& probe) {
  if (::geteuid() != 0)
    return "not root (euid " + std::to_string(::geteuid()) + "): mounting a tmpfs needs root";
  fs::create_directories(probe);
  if (::mount("tmpfs", probe.c_str(), "tmpfs", 0, "size=1m") != 0)
    return std::string("mount -t tmpfs -o size=1m tmpfs ") + probe.string() +
           " failed: " + std::strerror(errno);
  ::umount2(probe.c_str(), 0);
  fs::remove(probe);
  return "";
}

// Free bytes on the filesystem of `path`, or -1.
inline int64_t free_bytes(const fs::path& path) {
  struct statvfs v {};
  if (::statvfs(path.c_str(), &v) != 0) return -1;
  return static_cast<int64_t>(v.f_bavail) * static_cast<int64_t>(v.f_frsize);
}

// Writes a file of `bytes` zero bytes (fewer if the filesystem fills first); the bytes written.
inline int64_t write_filler(const fs::path& file, int64_t bytes) {
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return -1;
  const std::string chunk(1 << 20, '\0');
  int64_t done = 0;
  while (done < bytes) {
    const auto n =
        ::write(fd, chunk.data(), static_cast<size_t>(std::min<int64_t>(bytes - done, chunk.size())));
    if (n <= 0) break;
    done += n;
  }
  ::close(fd);
  return done;
}

// A second pair of local clusters beside the shared one, started by scripts/kafka-local with its own state
// dir (`dir`/kafka), every port moved by `port_offset`, and cluster B's data dir on a tmpfs of `b_tmpfs`
// (e.g. "96m"; empty: on the normal disk). Always torn down (kafka-local down, which unmounts the tmpfs;
// a mount it leaves is detached) when the object goes.
class KafkaPair {
 public:
  KafkaPair(const fs::path& dir, int port_offset, std::string b_tmpfs)
      : state_(dir / "kafka"),
        log_(dir / "kafka-local.log"),
        offset_(port_offset),
        tmpfs_(std::move(b_tmpfs)) {
    a = {.alias = "A", .bootstrap = "127.0.0.1:" + std::to_string(19092 + offset_)};
    b = {.alias = "B", .bootstrap = "127.0.0.1:" + std::to_string(29092 + offset_)};
  }
  KafkaPair(const KafkaPair&) = delete;
  KafkaPair& operator=(const KafkaPair&) = delete;
  ~KafkaPair() { down(); }

  // scripts/kafka-local ARGS with this pair's environment (its output appended to log()); the exit code.
  int run(const std::string& args) {
    used_ = true;
    const std::string cmd = "cd " MIRROR_SOURCE_DIR " && env MIRROR_KAFKA_DIR='" + state_.string() +
                            "' KAFKA_LOCAL_PORT_OFFSET=" + std::to_string(offset_) +
                            (tmpfs_.empty() ? std::string() : " KAFKA_LOCAL_B_DATA_TMPFS=" + tmpfs_) +
                            " scripts/kafka-local " + args + " >>'" + log_.string() + "' 2>&1";
    std::ofstream(log_, std::ios::app) << "$ kafka-local " << args << "\n";
    const int status = std::system(cmd.c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  void down() {
    if (!used_) return;
    (void)run("down");
    used_ = false;
    if (fs::exists(b_data()) && ::umount2(b_data().c_str(), MNT_DETACH) == 0)
      std::cerr << "KafkaPair: " << b_data() << " was still mounted after kafka-local down: detached\n";
  }
  std::string log() const {
    std::ifstream f(log_);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
  }
  fs::path state() const { return state_; }
  fs::path b_data() const { return state_ / "B" / "data"; }
  fs::path b_server_log() const { return state_ / "B" / "logs" / "server.log"; }
  pid_t b_pid() const {
    pid_t pid = 0;
    std::ifstream(state_ / "B" / "pid") >> pid;
    return pid;
  }

  kafka::ClientConfig a, b;

 private:
  fs::path state_, log_;
  int offset_;
  std::string tmpfs_;
  bool used_ = false;
};

// How often `needle` occurs in `text`.
inline int occurrences(const std::string& text, const std::string& needle) {
  int n = 0;
  for (size_t pos = 0; (pos = text.find(needle, pos)) != std::string::npos; pos += needle.size()) ++n;
  return n;
}

// The records the engine announced it writes again when a session or a paused partition resumes.
inline int64_t announced_rewrites(const std::string& engine_log) {
  int64_t announced = 0;
  const std::regex re("resuming: up to ([0-9]+) records written after the last stored progress");
  for (std::sregex_iterator it(engine_log.begin(), engine_log.end(), re), end; it != end; ++it)
    announced += std::stoll((*it)[1]);
  return announced;
}

// The lines of `text` that contain one of `needles`, at most `limit` of them.
inline std::vector<std::string> lines_with(const std::string& text, const std::vector<std::string>& needles,
                                           size_t limit) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; out.size() < limit && std::getline(in, line);)
    for (const auto& n : needles)
      if (line.find(n) != std::string::npos) {
        out.push_back(line);
        break;
      }
  return out;
}

}  // namespace mirror::faults

// Prometheus metrics for the replication engine: a thread-safe registry of metric families rendered in
// the Prometheus text exposition format 0.0.4, and a small HTTP server for /metrics and /healthz.
//
// The engine registers its families once, asks a family for the series of a (flow, topic, partition),
// keeps the returned handle and updates it on the hot path with a relaxed atomic (counters, gauges) or an
// uncontended per-series mutex (histograms); scrapes render from the HTTP thread at the same time.
//
// Names are checked at registration against Prometheus's rules; a bad name, a wrong set of labels or a
// conflicting re-registration is a programming error and throws std::invalid_argument. Bad input from an
// operator (the listen address) is reported as an error value instead.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "common/result.h"

namespace httplib {
class Server;
}

namespace mirror::engine {

// Label name/value pairs, in any order: {{"flow", "a"}, {"topic", "t"}, {"partition", "0"}}.
using Labels = std::vector<std::pair<std::string, std::string>>;

template <class Metric>
class Family;

// A value that only goes up (records copied, bytes, errors). Exposed as a uint64 when only inc() was
// used, as a double once add() was.
class Counter {
 public:
  void inc(std::uint64_t n = 1) { whole_.fetch_add(n, std::memory_order_relaxed); }
  // Adds a non-negative amount (e.g. seconds); throws std::invalid_argument for a negative or NaN one.
  void add(double v);
  double value() const;

 private:
  friend class Family<Counter>;
  std::atomic<std::uint64_t> whole_{0};
  std::atomic<double> fraction_{0.0};
};

// A value that goes up and down (lag, assigned partitions, last success timestamp).
class Gauge {
 public:
  void set(double v) { v_.store(v, std::memory_order_relaxed); }
  void add(double v) { v_.fetch_add(v, std::memory_order_relaxed); }
  void inc() { add(1.0); }
  void dec() { add(-1.0); }
  double value() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> v_{0.0};
};

// Counts observations into buckets fixed when the family was registered (upper bounds, inclusive).
class Histogram {
 public:
  struct Snapshot {
    std::vector<std::uint64_t> cumulative;  // one per bound, then +Inf (== count)
    double sum = 0;
    std::uint64_t count = 0;
  };

  explicit Histogram(std::shared_ptr<const std::vector<double>> bounds);
  void observe(double v);
  Snapshot snapshot() const;  // consistent: taken under the series' lock
  const std::vector<double>& bounds() const { return *bounds_; }

 private:
  std::shared_ptr<const std::vector<double>> bounds_;  // finite, strictly increasing
  mutable std::mutex mu_;
  std::vector<std::uint64_t> counts_;  // per bucket (not cumulative); the last one is +Inf
  double sum_ = 0;
};

// Bucket helpers: count bounds start, start+width, ... and start, start*factor, ...
std::vector<double> linear_buckets(double start, double width, std::size_t count);
std::vector<double> exponential_buckets(double start, double factor, std::size_t count);

class Registry;

// What every family has, whatever its type. Owned by a Registry and never destroyed before it.
class FamilyBase {
 public:
  FamilyBase(const FamilyBase&) = delete;
  FamilyBase& operator=(const FamilyBase&) = delete;
  virtual ~FamilyBase() = default;

  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  const std::vector<std::string>& label_names() const { return label_names_; }
  virtual const char* type() const = 0;  // "counter", "gauge" or "histogram"

 protected:
  FamilyBase(std::string name, std::string help, std::vector<std::string> label_names);
  // The values of `labels` in label_names() order; throws std::invalid_argument unless `labels` names
  // exactly the family's labels, each once.
  std::vector<std::string> values_of(const Labels& labels) const;
  // Appends the HELP and TYPE lines.
  void render_header(std::string& out) const;
  // Appends name{a="x",b="y"[,extra_name="extra_value"]} (no braces when there are no labels).
  void render_series_name(std::string& out, std::string_view suffix, const std::vector<std::string>& values,
                          std::string_view extra_name = {}, std::string_view extra_value = {}) const;

 private:
  friend class Registry;
  virtual void render(std::string& out) const = 0;

  std::string name_;
  std::string help_;
  std::vector<std::string> label_names_;
};

// All series of one metric, one per combination of label values.
template <class Metric>
class Family final : public FamilyBase {
 public:
  // The series with these labels, created at zero on first use. The handle stays valid for as long as
  // it is held, even after remove(): a removed series keeps counting but is no longer exposed, and the
  // next with() of the same labels starts a new one at zero. Throws std::invalid_argument when the
  // label names differ from the family's.
  std::shared_ptr<Metric> with(const Labels& labels = {});
  // Stops exposing the series with exactly these labels; false if there was none.
  bool remove(const Labels& labels);
  // Stops exposing every series whose labels include all of `subset` (e.g. {{"flow", "a"}}), and
  // returns how many. An empty subset removes every series.
  std::size_t remove_matching(const Labels& subset);
  std::size_t size() const;
  const char* type() const override;

 private:
  friend class Registry;
  Family(std::string name, std::string help, std::vector<std::string> label_names,
         std::shared_ptr<const std::vector<double>> bounds);
  std::shared_ptr<Metric> make() const;
  void render(std::string& out) const override;

  std::shared_ptr<const std::vector<double>> bounds_;  // histograms only
  mutable std::mutex mu_;
  std::map<std::vector<std::string>, std::shared_ptr<Metric>> series_;  // by label values, in order
};

extern template class Family<Counter>;
extern template class Family<Gauge>;
extern template class Family<Histogram>;

// The set of families a process exposes. Registering the same name again with the same type, help,
// labels (and buckets) returns the existing family; anything else conflicting throws.
class Registry {
 public:
  Registry();
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Counter names must end in "_total".
  Family<Counter>& counter(const std::string& name, const std::string& help,
                           std::vector<std::string> label_names = {});
  Family<Gauge>& gauge(const std::string& name, const std::string& help,
                       std::vector<std::string> label_names = {});
  // `buckets`: finite, strictly increasing upper bounds; +Inf is added (a trailing +Inf is accepted).
  Family<Histogram>& histogram(const std::string& name, const std::string& help, std::vector<double> buckets,
                               std::vector<std::string> label_names = {});

  // The whole exposition (text format 0.0.4): families sorted by name, series by label values. A
  // family with labels but no series is left out; one without labels always has its single series.
  std::string render() const;

 private:
  template <class Metric>
  Family<Metric>& add(const std::string& name, const std::string& help, std::vector<std::string> label_names,
                      std::shared_ptr<const std::vector<double>> bounds);

  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<FamilyBase>, std::less<>> families_;
};

// Prometheus's naming rules, exposed for tests and for code that builds names.
bool valid_metric_name(std::string_view name);  // [a-zA-Z_:][a-zA-Z0-9_:]*
bool valid_label_name(std::string_view name);   // [a-zA-Z_][a-zA-Z0-9_]*, not starting with "__"

// HOST:PORT as given to the metrics server: an IPv4 address, a host name or a bracketed IPv6 address,
// and a port in 0-65535 (0: any free port).
struct ListenAddress {
  std::string host;  // without brackets
  std::uint16_t port = 0;
};
// The error is the reason only ("expected HOST:PORT ..."); MetricsServer::start adds where and a hint.
Result<ListenAddress, std::string> parse_listen_address(std::string_view address);

struct Health {
  bool healthy = true;
  std::string detail;  // shown to whoever probes /healthz
};
using HealthCheck = std::function<Health()>;

struct MetricsServerOptions {
  // Called for each /healthz request, on the server's threads (possibly several at once); empty: always
  // healthy. An exception it throws makes the answer 503.
  HealthCheck health;
  std::string address_flag = "--metrics-addr";  // the option named in error hints
};

// Serves, on its own thread:
//   GET /metrics  the registry's exposition, Content-Type text/plain; version=0.0.4; charset=utf-8
//                 (gzip when the client accepts it)
//   GET /healthz  200 "ok\n" (+ detail) when the health check says healthy, 503 with the detail if not
// and 404 for anything else. The registry must outlive the server.
class MetricsServer {
 public:
  explicit MetricsServer(const Registry& registry, MetricsServerOptions options = {});
  ~MetricsServer();  // stop()
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // Binds `address` (e.g. "127.0.0.1:9464", "[::1]:9464", "0.0.0.0:0") and starts serving; returns once
  // the server accepts connections. Errors (bad address, port in use, ...) are one line saying what,
  // where and what to do. Starting a running server is an error; after stop() it may start again.
  Result<void, std::string> start(std::string_view address);
  // Stops accepting, finishes the requests in flight and joins the thread. Idempotent.
  void stop();

  bool running() const;
  std::uint16_t port() const;   // the bound port (the chosen one for port 0); 0 when not running
  std::string address() const;  // the bound HOST:PORT, e.g. "127.0.0.1:41234" or "[::1]:9464"

 private:
  const Registry& registry_;
  MetricsServerOptions options_;
  mutable std::mutex mu_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  std::string host_;
  std::uint16_t port_ = 0;
};

}  // namespace mirror::engine

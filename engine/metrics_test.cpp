#include "engine/metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <limits>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace mirror::engine {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

// The message of the std::invalid_argument that f throws, or "" if it throws none.
template <class F>
std::string invalid_argument_of(F&& f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

TEST(Registry, RendersExactExposition) {
  Registry r;
  auto& records =
      r.counter("mirror_records_total", "Records copied to the target.", {"flow", "topic", "partition"});
  auto& lag = r.gauge("mirror_lag_records", "Records the target is behind the source.", {"flow"});
  auto& up = r.gauge("mirror_up", "1 while the engine runs.");
  r.counter("mirror_errors_total", "Errors.", {"flow"});  // labels but no series yet: not exposed
  auto& seconds = r.counter("mirror_busy_seconds_total", "Seconds spent copying.");

  records.with({{"flow", "a"}, {"topic", "t"}, {"partition", "1"}})->inc(5);
  records.with({{"partition", "0"}, {"topic", "t"}, {"flow", "a"}})
      ->inc();  // any order names the same series
  records.with({{"flow", "a"}, {"topic", "t"}, {"partition", "0"}})->inc(2);
  lag.with({{"flow", "b"}})->set(-2.5);
  lag.with({{"flow", "a"}})->set(1e20);
  up.with()->set(1);
  seconds.with()->add(0.5);
  seconds.with()->inc();

  EXPECT_EQ(r.render(), R"(# HELP mirror_busy_seconds_total Seconds spent copying.
# TYPE mirror_busy_seconds_total counter
mirror_busy_seconds_total 1.5
# HELP mirror_lag_records Records the target is behind the source.
# TYPE mirror_lag_records gauge
mirror_lag_records{flow="a"} 1e+20
mirror_lag_records{flow="b"} -2.5
# HELP mirror_records_total Records copied to the target.
# TYPE mirror_records_total counter
mirror_records_total{flow="a",topic="t",partition="0"} 3
mirror_records_total{flow="a",topic="t",partition="1"} 5
# HELP mirror_up 1 while the engine runs.
# TYPE mirror_up gauge
mirror_up 1
)");
}

TEST(Registry, EmptyRegistryRendersNothing) {
  Registry r;
  EXPECT_EQ(r.render(), "");
}

TEST(Registry, RendersSpecialAndLargeValues) {
  Registry r;
  auto& g = r.gauge("g", "A gauge.", {"k"});
  g.with({{"k", "inf"}})->set(std::numeric_limits<double>::infinity());
  g.with({{"k", "minf"}})->set(-std::numeric_limits<double>::infinity());
  g.with({{"k", "nan"}})->set(std::numeric_limits<double>::quiet_NaN());
  g.with({{"k", "small"}})->set(0.001);
  g.with({{"k", "zero"}})->set(-0.0);
  auto& c = r.counter("c_total", "A counter.");
  c.with()->inc(std::numeric_limits<std::uint64_t>::max());  // exact, not rounded through a double
  EXPECT_EQ(r.render(), R"(# HELP c_total A counter.
# TYPE c_total counter
c_total 18446744073709551615
# HELP g A gauge.
# TYPE g gauge
g{k="inf"} +Inf
g{k="minf"} -Inf
g{k="nan"} NaN
g{k="small"} 0.001
g{k="zero"} 0
)");
}

TEST(Registry, EscapesLabelValuesAndHelp) {
  Registry r;
  auto& c = r.counter("odd_total", "Help with a \\ backslash,\na newline and \"quotes\".", {"topic"});
  c.with({{"topic", "a\\b\"c\nd"}})->inc();
  EXPECT_EQ(r.render(), R"(# HELP odd_total Help with a \\ backslash,\na newline and "quotes".
# TYPE odd_total counter
odd_total{topic="a\\b\"c\nd"} 1
)");
}

TEST(Registry, HistogramBucketsSumAndCount) {
  Registry r;
  auto& h = r.histogram("mirror_batch_seconds", "Time to copy one batch.", {0.25, 1, 8}, {"flow"});
  auto a = h.with({{"flow", "a"}});
  for (double v : {0.125, 0.25, 0.5, 100.0}) a->observe(v);  // 0.25 is on a bound: le is inclusive
  h.with({{"flow", "b"}});                                   // a series with no observations
  auto& plain = r.histogram("size_bytes", "Sizes.", {1024, std::numeric_limits<double>::infinity()});
  plain.with()->observe(std::numeric_limits<double>::quiet_NaN());  // NaN counts in +Inf only

  EXPECT_EQ(r.render(), R"(# HELP mirror_batch_seconds Time to copy one batch.
# TYPE mirror_batch_seconds histogram
mirror_batch_seconds_bucket{flow="a",le="0.25"} 2
mirror_batch_seconds_bucket{flow="a",le="1"} 3
mirror_batch_seconds_bucket{flow="a",le="8"} 3
mirror_batch_seconds_bucket{flow="a",le="+Inf"} 4
mirror_batch_seconds_sum{flow="a"} 100.875
mirror_batch_seconds_count{flow="a"} 4
mirror_batch_seconds_bucket{flow="b",le="0.25"} 0
mirror_batch_seconds_bucket{flow="b",le="1"} 0
mirror_batch_seconds_bucket{flow="b",le="8"} 0
mirror_batch_seconds_bucket{flow="b",le="+Inf"} 0
mirror_batch_seconds_sum{flow="b"} 0
mirror_batch_seconds_count{flow="b"} 0
# HELP size_bytes Sizes.
# TYPE size_bytes histogram
size_bytes_bucket{le="1024"} 0
size_bytes_bucket{le="+Inf"} 1
size_bytes_sum NaN
size_bytes_count 1
)");

  Histogram::Snapshot s = a->snapshot();
  EXPECT_EQ(s.cumulative, (std::vector<std::uint64_t>{2, 3, 3, 4}));
  EXPECT_EQ(s.count, 4u);
  EXPECT_EQ(s.sum, 100.875);
}

TEST(Registry, BucketHelpersAndValidation) {
  EXPECT_EQ(linear_buckets(1, 2, 3), (std::vector<double>{1, 3, 5}));
  EXPECT_EQ(exponential_buckets(0.5, 4, 3), (std::vector<double>{0.5, 2, 8}));
  EXPECT_THROW(linear_buckets(0, 0, 3), std::invalid_argument);
  EXPECT_THROW(exponential_buckets(0, 2, 3), std::invalid_argument);
  EXPECT_THROW(exponential_buckets(1, 1, 3), std::invalid_argument);

  Registry r;
  EXPECT_EQ(invalid_argument_of([&] {
              r.histogram("h1", "H.", {1, 1});
            }),
            "histogram h1: bucket bounds must be strictly increasing, but 1 follows 1");
  EXPECT_EQ(invalid_argument_of([&] { r.histogram("h2", "H.", {std::numeric_limits<double>::quiet_NaN()}); }),
            "histogram h2: bucket bound NaN is not finite (+Inf is added by itself)");
  auto& only_inf = r.histogram("h3", "H.", {});
  only_inf.with()->observe(3);
  EXPECT_THAT(r.render(), HasSubstr("h3_bucket{le=\"+Inf\"} 1\nh3_sum 3\nh3_count 1\n"));
}

TEST(Registry, RemovesSeries) {
  Registry r;
  auto& c = r.counter("records_total", "Records.", {"flow", "partition"});
  auto a0 = c.with({{"flow", "a"}, {"partition", "0"}});
  c.with({{"flow", "a"}, {"partition", "1"}})->inc();
  c.with({{"flow", "b"}, {"partition", "0"}})->inc();
  a0->inc(7);
  ASSERT_EQ(c.size(), 3u);

  EXPECT_TRUE(c.remove({{"partition", "0"}, {"flow", "a"}}));
  EXPECT_FALSE(c.remove({{"flow", "a"}, {"partition", "0"}}));
  EXPECT_EQ(r.render(), R"(# HELP records_total Records.
# TYPE records_total counter
records_total{flow="a",partition="1"} 1
records_total{flow="b",partition="0"} 1
)");

  a0->inc();  // a held handle stays usable after removal; it is just not exposed
  EXPECT_EQ(a0->value(), 8);
  auto again = c.with({{"flow", "a"}, {"partition", "0"}});  // a new series, from zero
  EXPECT_NE(again, a0);
  EXPECT_EQ(again->value(), 0);

  EXPECT_EQ(c.remove_matching({{"flow", "a"}}), 2u);
  EXPECT_EQ(r.render(), R"(# HELP records_total Records.
# TYPE records_total counter
records_total{flow="b",partition="0"} 1
)");
  EXPECT_EQ(c.remove_matching({}), 1u);
  EXPECT_EQ(r.render(), "");  // a labelled family without series is left out
  EXPECT_THAT(invalid_argument_of([&] {
                c.remove_matching({{"topic", "t"}});
              }),
              HasSubstr("are not a subset of its label names {flow, partition}"));

  auto& up = r.gauge("up", "Up.");
  EXPECT_TRUE(up.remove({}));
  EXPECT_EQ(r.render(), "");
  up.with()->set(1);
  EXPECT_EQ(r.render(), "# HELP up Up.\n# TYPE up gauge\nup 1\n");
}

TEST(Registry, ValidatesNames) {
  EXPECT_TRUE(valid_metric_name("mirror_records_total"));
  EXPECT_TRUE(valid_metric_name("job:rate5m"));
  EXPECT_TRUE(valid_metric_name("_x9"));
  EXPECT_FALSE(valid_metric_name(""));
  EXPECT_FALSE(valid_metric_name("9lives"));
  EXPECT_FALSE(valid_metric_name("bad-name"));
  EXPECT_FALSE(valid_metric_name("bad name"));
  EXPECT_FALSE(valid_metric_name("caf\xc3\xa9"));
  EXPECT_TRUE(valid_label_name("partition"));
  EXPECT_TRUE(valid_label_name("_p1"));
  EXPECT_FALSE(valid_label_name(""));
  EXPECT_FALSE(valid_label_name("__name__"));
  EXPECT_FALSE(valid_label_name("a:b"));
  EXPECT_FALSE(valid_label_name("1a"));

  Registry r;
  EXPECT_EQ(invalid_argument_of([&] { r.gauge("bad-name", "H."); }),
            "invalid metric name \"bad-name\": Prometheus metric names match [a-zA-Z_:][a-zA-Z0-9_:]*");
  EXPECT_EQ(invalid_argument_of([&] { r.counter("records", "H."); }),
            "counter records: counter names end in _total, e.g. records_total");
  EXPECT_EQ(invalid_argument_of([&] { r.gauge("g", ""); }),
            "metric g: the help text is empty; say what it measures");
  EXPECT_EQ(
      invalid_argument_of([&] { r.gauge("g", "H.", {"__reserved"}); }),
      "metric g: invalid label name \"__reserved\": label names match [a-zA-Z_][a-zA-Z0-9_]* and do not "
      "start with __");
  EXPECT_EQ(invalid_argument_of([&] {
              r.gauge("g", "H.", {"flow", "flow"});
            }),
            "metric g: label name \"flow\" is listed twice");
  EXPECT_EQ(invalid_argument_of([&] { r.histogram("h", "H.", {1}, {"le"}); }),
            "histogram h: the label name \"le\" is reserved for buckets");

  // Registering again: the same family back when identical, an error when anything differs.
  auto& g = r.gauge("g", "H.", {"flow"});
  EXPECT_EQ(&r.gauge("g", "H.", {"flow"}), &g);
  EXPECT_EQ(invalid_argument_of([&] { r.counter("g", "H.", {"flow"}); }),
            "counter g: counter names end in _total, e.g. g_total");
  EXPECT_EQ(invalid_argument_of([&] { r.gauge("g", "H.", {"topic"}); }),
            "metric g is already registered (as a gauge with labels {flow}); registering it again as a gauge "
            "with labels {topic} needs the same type, help, labels and buckets");
  r.histogram("lat", "H.", {1, 2});
  EXPECT_THAT(invalid_argument_of([&] {
                r.histogram("lat", "H.", {1, 3});
              }),
              HasSubstr("already registered"));
  EXPECT_EQ(invalid_argument_of([&] { r.gauge("lat_count", "H."); }),
            "metric lat_count would expose lat_count, which the histogram lat already exposes");

  // Series labels must name exactly the family's labels.
  EXPECT_EQ(invalid_argument_of([&] {
              g.with({{"topic", "t"}});
            }),
            "metric g: labels {topic} do not match its label names {flow}");
  EXPECT_THAT(invalid_argument_of([&] {
                g.with({{"flow", "a"}, {"flow", "b"}});
              }),
              HasSubstr("do not match"));
  EXPECT_THAT(invalid_argument_of([&] { g.with(); }), HasSubstr("labels {} do not match"));

  auto& c = r.counter("c_total", "C.");
  EXPECT_EQ(invalid_argument_of([&] { c.with()->add(-1); }), "Counter::add: a counter only goes up, got -1");
}

// Several writer threads update shared and per-thread series, create and remove series, while another
// thread renders; nothing is lost and every render is well formed.
TEST(Registry, ConcurrentUpdatesAndRender) {
  Registry r;
  auto& records = r.counter("records_total", "Records.", {"flow", "partition"});
  auto& lag = r.gauge("lag", "Lag.");
  auto& latency = r.histogram("latency_seconds", "Latency.", {0.001, 0.01, 0.1});
  constexpr int kThreads = 8;
  constexpr int kIterations = 50000;

  std::atomic<bool> done{false};
  std::atomic<int> renders{0};
  std::thread renderer([&] {
    while (!done.load()) {
      std::string text = r.render();
      renders.fetch_add(1);
      ASSERT_THAT(text, StartsWith("# HELP lag Lag.\n"));
      ASSERT_EQ(text.back(), '\n');
    }
  });
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&, t] {
      while (renders.load() == 0) std::this_thread::yield();  // start once scrapes are under way
      auto shared = records.with({{"flow", "shared"}, {"partition", "0"}});
      auto mine = records.with({{"flow", "own"}, {"partition", std::to_string(t)}});
      auto hist = latency.with();
      auto gauge = lag.with();
      for (int i = 0; i < kIterations; ++i) {
        shared->inc();
        mine->inc(2);
        gauge->inc();
        hist->observe(i % 2 == 0 ? 0.005 : 0.5);
        if (i % 1000 == 0) {  // series come and go while others update and render
          Labels temp = {{"flow", "temp"}, {"partition", std::to_string(t)}};
          records.with(temp)->inc();
          records.remove(temp);
        }
      }
    });
  }
  for (auto& w : writers) w.join();
  done.store(true);
  renderer.join();

  EXPECT_GT(renders.load(), 0);
  EXPECT_EQ(records.with({{"flow", "shared"}, {"partition", "0"}})->value(), kThreads * kIterations);
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(records.with({{"flow", "own"}, {"partition", std::to_string(t)}})->value(), 2.0 * kIterations);
  }
  EXPECT_EQ(lag.with()->value(), kThreads * kIterations);
  Histogram::Snapshot s = latency.with()->snapshot();
  EXPECT_EQ(s.count, static_cast<std::uint64_t>(kThreads * kIterations));
  EXPECT_EQ(s.cumulative, (std::vector<std::uint64_t>{0, s.count / 2, s.count / 2, s.count}));
  EXPECT_THAT(r.render(), HasSubstr("records_total{flow=\"shared\",partition=\"0\"} " +
                                    std::to_string(kThreads * kIterations) + "\n"));
  EXPECT_THAT(r.render(), Not(HasSubstr("temp")));
}

TEST(ListenAddress, Parses) {
  auto v4 = parse_listen_address("127.0.0.1:9464");
  ASSERT_TRUE(v4.ok()) << v4.error();
  EXPECT_EQ(v4->host, "127.0.0.1");
  EXPECT_EQ(v4->port, 9464);
  auto v6 = parse_listen_address("[::1]:0");
  ASSERT_TRUE(v6.ok()) << v6.error();
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 0);
  auto name = parse_listen_address("localhost:65535");
  ASSERT_TRUE(name.ok()) << name.error();
  EXPECT_EQ(name->host, "localhost");
  EXPECT_EQ(name->port, 65535);
}

// The server, on an ephemeral port of the loopback interface.
class MetricsServerTest : public ::testing::Test {
 protected:
  MetricsServerTest() {
    registry_.counter("records_total", "Records copied.", {"flow"}).with({{"flow", "a"}})->inc(42);
  }

  MetricsServerOptions options() {
    return {.health = [this] {
      std::lock_guard lock(mu_);
      return health_;
    }};
  }
  void set_health(Health h) {
    std::lock_guard lock(mu_);
    health_ = std::move(h);
  }

  Registry registry_;
  std::mutex mu_;
  Health health_;
};

TEST_F(MetricsServerTest, ServesMetricsAndHealth) {
  MetricsServer server(registry_, options());
  auto started = server.start("127.0.0.1:0");
  ASSERT_TRUE(started.ok()) << started.error();
  ASSERT_TRUE(server.running());
  ASSERT_NE(server.port(), 0);
  EXPECT_EQ(server.address(), "127.0.0.1:" + std::to_string(server.port()));

  httplib::Client client("127.0.0.1", server.port());
  auto metrics = client.Get("/metrics");
  ASSERT_TRUE(metrics) << httplib::to_string(metrics.error());
  EXPECT_EQ(metrics->status, 200);
  EXPECT_EQ(metrics->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(metrics->body, registry_.render());
  EXPECT_THAT(metrics->body, HasSubstr("records_total{flow=\"a\"} 42\n"));

  auto healthy = client.Get("/healthz");
  ASSERT_TRUE(healthy);
  EXPECT_EQ(healthy->status, 200);
  EXPECT_EQ(healthy->body, "ok\n");

  set_health({true, "2 flows running"});
  healthy = client.Get("/healthz");
  ASSERT_TRUE(healthy);
  EXPECT_EQ(healthy->status, 200);
  EXPECT_EQ(healthy->body, "ok\n2 flows running\n");

  set_health({false, "flow a: cannot reach cluster B (127.0.0.1:29092)"});
  auto unhealthy = client.Get("/healthz");
  ASSERT_TRUE(unhealthy);
  EXPECT_EQ(unhealthy->status, 503);
  EXPECT_EQ(unhealthy->body, "flow a: cannot reach cluster B (127.0.0.1:29092)\n");

  auto missing = client.Get("/nope");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(missing->body, "not found; mirror serves /metrics and /healthz\n");
}

TEST_F(MetricsServerTest, GzipsForPrometheus) {
  MetricsServer server(registry_, options());
  ASSERT_TRUE(server.start("127.0.0.1:0").ok());
  httplib::Client client("127.0.0.1", server.port());
  client.set_decompress(false);
  auto res = client.Get("/metrics", {{"Accept-Encoding", "gzip"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Encoding"), "gzip");
}

TEST_F(MetricsServerTest, HealthCheckThatThrowsIsUnhealthy) {
  MetricsServer server(registry_, {.health = []() -> Health { throw std::runtime_error("boom"); }});
  ASSERT_TRUE(server.start("127.0.0.1:0").ok());
  httplib::Client client("127.0.0.1", server.port());
  auto res = client.Get("/healthz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 503);
  EXPECT_EQ(res->body, "the health check failed: boom\n");
}

TEST_F(MetricsServerTest, ReportsPortInUse) {
  MetricsServer first(registry_);
  ASSERT_TRUE(first.start("127.0.0.1:0").ok());
  std::string taken = "127.0.0.1:" + std::to_string(first.port());

  MetricsServer second(registry_);
  auto r = second.start(taken);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(),
            "cannot serve metrics on " + taken +
                ": address already in use; hint: pick another port with --metrics-addr HOST:PORT, or "
                "127.0.0.1:0 for any free port");
  EXPECT_FALSE(second.running());
  EXPECT_EQ(second.port(), 0);
}

TEST_F(MetricsServerTest, ReportsPortTakenByAnotherProgram) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);

  MetricsServer server(registry_, {.address_flag = "--listen"});
  std::string taken = "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  auto r = server.start(taken);
  ::close(fd);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), "cannot serve metrics on " + taken +
                           ": address already in use; hint: pick another port with --listen HOST:PORT, or "
                           "127.0.0.1:0 for any free port");
}

// Prometheus keeps its connection open between scrapes; that must not hold stop() up for long.
TEST_F(MetricsServerTest, StopsWhileAClientKeepsItsConnectionOpen) {
  MetricsServer server(registry_);
  ASSERT_TRUE(server.start("127.0.0.1:0").ok());
  httplib::Client client("127.0.0.1", server.port());
  client.set_keep_alive(true);
  auto res = client.Get("/metrics");
  ASSERT_TRUE(res);
  auto start = std::chrono::steady_clock::now();
  server.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
}

TEST_F(MetricsServerTest, ReportsBadAddresses) {
  const std::string set_hint =
      "; hint: set --metrics-addr to HOST:PORT, e.g. 127.0.0.1:9464 (this machine only), 0.0.0.0:9464 (all "
      "interfaces) or 127.0.0.1:0 (any free port)";
  struct Case {
    std::string address;
    std::string error;
  };
  const std::vector<Case> cases = {
      {"nonsense",
       "cannot serve metrics on nonsense: expected HOST:PORT, e.g. 127.0.0.1:9464, [::1]:9464 or "
       "0.0.0.0:9464" +
           set_hint},
      {"127.0.0.1:70000",
       "cannot serve metrics on 127.0.0.1:70000: port 70000 is out of range (0-65535)" + set_hint},
      {"127.0.0.1:99999999999999999999999",
       "cannot serve metrics on 127.0.0.1:99999999999999999999999: port 99999999999999999999999 is out of "
       "range "
       "(0-65535)" +
           set_hint},
      {"127.0.0.1:http",
       "cannot serve metrics on 127.0.0.1:http: the port \"http\" is not a number" + set_hint},
      {"127.0.0.1:",
       "cannot serve metrics on 127.0.0.1:: the port is missing; expected HOST:PORT, e.g. "
       "127.0.0.1:9464, [::1]:9464 or 0.0.0.0:9464" +
           set_hint},
      {":9464",
       "cannot serve metrics on :9464: the host is missing; write 0.0.0.0:PORT for all interfaces or "
       "127.0.0.1:PORT for this machine only" +
           set_hint},
      {"::1:9464",
       "cannot serve metrics on ::1:9464: an IPv6 address needs brackets, as in [::1]:9464" + set_hint},
      {"[::1", "cannot serve metrics on [::1: missing ']' after the IPv6 address" + set_hint},
      {"[::1]",
       "cannot serve metrics on [::1]: expected :PORT after the IPv6 address, as in [::1]:9464" + set_hint},
      {"[nope]:1", "cannot serve metrics on [nope]:1: \"nope\" is not an IPv6 address" + set_hint},
      {"white space:1",
       "cannot serve metrics on white space:1: \"white space\" is not a host name or an IP "
       "address" +
           set_hint},
      {"",
       "cannot serve metrics on \"\": the address is empty; expected HOST:PORT, e.g. 127.0.0.1:9464, "
       "[::1]:9464 or 0.0.0.0:9464" +
           set_hint},
      // 192.0.2.0/24 is reserved for documentation: no machine has it.
      {"192.0.2.1:9464",
       "cannot serve metrics on 192.0.2.1:9464: no network interface of this machine has the address "
       "192.0.2.1; "
       "hint: set --metrics-addr to one of its addresses, e.g. 127.0.0.1:9464 (this machine only) or "
       "0.0.0.0:9464 (all interfaces)"},
  };
  for (const Case& c : cases) {
    MetricsServer server(registry_);
    auto r = server.start(c.address);
    ASSERT_FALSE(r.ok()) << c.address;
    EXPECT_EQ(r.error(), c.error) << c.address;
    EXPECT_FALSE(server.running());
  }
}

TEST_F(MetricsServerTest, StopsAndRestarts) {
  MetricsServer server(registry_);
  ASSERT_TRUE(server.start("127.0.0.1:0").ok());
  const std::uint16_t port = server.port();
  {
    httplib::Client client("127.0.0.1", port);
    auto res = client.Get("/metrics");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200);
  }
  auto again = server.start("127.0.0.1:0");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error(), "cannot serve metrics on 127.0.0.1:0: this server already serves on 127.0.0.1:" +
                               std::to_string(port) + "; hint: stop it before starting it again");

  server.stop();
  EXPECT_FALSE(server.running());
  EXPECT_EQ(server.port(), 0);
  EXPECT_EQ(server.address(), "");
  server.stop();  // idempotent
  {
    httplib::Client client("127.0.0.1", port);
    client.set_connection_timeout(1);
    EXPECT_FALSE(client.Get("/metrics"));  // nobody listens any more
  }

  // The same port again right away: connections in TIME_WAIT do not block it.
  auto restarted = server.start("127.0.0.1:" + std::to_string(port));
  ASSERT_TRUE(restarted.ok()) << restarted.error();
  EXPECT_EQ(server.port(), port);
  httplib::Client client("127.0.0.1", port);
  auto res = client.Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->body, registry_.render());
}

TEST_F(MetricsServerTest, ServesOnIpv6Loopback) {
  MetricsServer server(registry_);
  auto r = server.start("[::1]:0");
  if (!r.ok()) GTEST_SKIP() << "no IPv6 loopback here: " << r.error();
  EXPECT_EQ(server.address(), "[::1]:" + std::to_string(server.port()));
  httplib::Client client("::1", server.port());
  auto res = client.Get("/healthz");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 200);
}

}  // namespace
}  // namespace mirror::engine

// How to reach one cluster: what the spec's `clusters.<alias>` section resolves to at connect time.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <stop_token>
#include <string>
#include <string_view>

namespace mirror::kafka {

// Receives librdkafka's log lines (level: syslog levels, 0 = emergency .. 7 = debug). Called from
// librdkafka's own threads: must be thread-safe.
using LogSink = std::function<void(int level, std::string_view facility, std::string_view message)>;

struct ClientConfig {
  std::string alias;      // the cluster's name in the spec, e.g. "A"
  std::string bootstrap;  // "host:port[,host:port...]"
  // Any librdkafka property (security.protocol, sasl.*, ssl.*, ...), already resolved (no ${env:}).
  std::map<std::string, std::string> properties;
  // How long one operation may take before it fails with Errc::timed_out.
  std::chrono::milliseconds timeout{30'000};
  // A stop request makes any waiting operation return Errc::cancelled within ~100 ms.
  std::stop_token stop;
  LogSink log;  // optional; by default librdkafka's log lines are dropped (errors still surface)

  // "A (127.0.0.1:19092)": how errors name the cluster.
  std::string label() const;
};

// The librdkafka release this binary runs with, as librdkafka itself reports it ("2.12.1").
std::string librdkafka_version();

}  // namespace mirror::kafka

// Shared machinery of the kafka adapter: creating a client handle from a ClientConfig, capturing
// librdkafka's asynchronous errors, and waiting for results with short polls. Private to kafka/.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "kafka/client_config.h"
#include "kafka/error.h"
#include "kafka/handles.h"
#include "kafka/tls.h"
#include "kafka/types.h"

namespace mirror::kafka::detail {

Errc classify(rd_kafka_resp_err_t err);
Error make_error(rd_kafka_resp_err_t err, std::string message, std::string_view operation,
                 std::string_view cluster);
Error make_error(const rd_kafka_error_t* err, std::string_view operation, std::string_view cluster);

// What librdkafka told us asynchronously (error_cb, log_cb). Lives on the heap so its address, given
// to librdkafka as the callbacks' opaque, stays valid when the owning Client moves.
struct ClientState {
  std::string label;
  LogSink log;
  std::mutex mu;
  std::optional<Error> auth_failure;  // the first authentication error; operations fail fast on it
  std::optional<Error> fatal;         // rd_kafka_fatal_error() after ERR__FATAL
  std::optional<Error> tls_failure;   // the first refused certificate (ours or the broker's); fail fast on it
  TlsSettings tls;                    // this client's TLS settings, for explaining such a failure
  std::string last_broker_error;      // e.g. "Connect to ipv4#127.0.0.1:29092 failed: Connection refused"
  void* user = nullptr;               // the owning wrapper's own state (e.g. the delivery handler)
  std::atomic<int> assignments{0};    // consumers in a group: partitions assigned by a rebalance
};

// Extra settings a particular kind of client forces (e.g. enable.idempotence for producers). Applied
// after the user's properties so they win, except where the caller says the user may override.
struct Overrides {
  std::map<std::string, std::string> defaults;  // applied first; user properties may override
  std::map<std::string, std::string> forced;    // applied last
};

class Client {
 public:
  static Result<Client> create(rd_kafka_type_t type, const ClientConfig& config, const Overrides& overrides,
                               std::string_view role, void (*configure)(rd_kafka_conf_t*) = nullptr);

  rd_kafka_t* get() const { return handle_.get(); }
  const ClientConfig& config() const { return config_; }
  const std::string& label() const { return state_->label; }
  ClientState& state() const { return *state_; }

  Error error(rd_kafka_resp_err_t err, std::string message, std::string_view operation) const {
    return make_error(err, std::move(message), operation, label());
  }
  Error error(const rd_kafka_error_t* err, std::string_view operation) const {
    return make_error(err, operation, label());
  }
  // Errc::timed_out, enriched with the last thing the brokers said (connection refused, ...).
  Error timeout_error(std::string_view operation) const;
  // The authentication or fatal error captured asynchronously, if any.
  std::optional<Error> async_failure(std::string_view operation) const;

  // Serves the main queue (error and log callbacks, producer delivery reports) without blocking.
  void serve() const { rd_kafka_poll(handle_.get(), 0); }

  // Waits for the next event on `queue`, polling in slices of at most 100 ms so that a stop request,
  // an authentication failure or the deadline is noticed promptly.
  Result<EventHandle> await(rd_kafka_queue_t* queue, std::string_view operation) const;

  // AdminOptions with this client's timeout (request and operation timeouts) for one API.
  Result<AdminOptionsHandle> admin_options(rd_kafka_admin_op_t op, std::string_view operation) const;

 private:
  Client() = default;
  ClientConfig config_;
  std::unique_ptr<ClientState> state_;  // declared before handle_, so it is destroyed after it
  KafkaHandle handle_;
};

// Converts an admin result event's request-level error (if any) into Error.
std::optional<Error> event_error(const Client& c, rd_kafka_event_t* ev, std::string_view operation);

// Converts a per-resource error code + message into an optional Error.
std::optional<Error> resource_error(const Client& c, rd_kafka_resp_err_t err, const char* msg,
                                    std::string_view operation);

int timeout_ms(const ClientConfig& config);

// Errc::config for a rejected client property; a secret property's value is cut out of the message.
Error config_error(const ClientConfig& config, const std::string& name, const std::string& value,
                   std::string message);

}  // namespace mirror::kafka::detail

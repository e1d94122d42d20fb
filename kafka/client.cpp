#include <algorithm>
#include <array>
#include <cstdio>

#include "common/secrets.h"
#include "kafka/internal.h"

namespace mirror::kafka {

std::string ClientConfig::label() const {
  if (alias.empty()) return bootstrap;
  return alias + " (" + bootstrap + ")";
}

std::string librdkafka_version() { return rd_kafka_version_str(); }

namespace detail {
namespace {

constexpr std::chrono::milliseconds kPollSlice{100};
// librdkafka enforces the request timeout itself; our own deadline is a backstop a little later.
constexpr std::chrono::milliseconds kDeadlineGrace{2000};

Error tls_error(rd_kafka_resp_err_t code, TlsFailure f, const std::string& label) {
  Error e = make_error(code, std::move(f.message), "", label);
  e.code = Errc::tls;
  e.retriable = false;
  e.advice = std::move(f.advice);
  return e;
}

void on_error(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
  auto* st = static_cast<ClientState*>(opaque);
  auto code = static_cast<rd_kafka_resp_err_t>(err);
  std::lock_guard lock(st->mu);
  if (code == RD_KAFKA_RESP_ERR__FATAL) {
    std::array<char, 512> buf{};
    rd_kafka_resp_err_t orig = rd_kafka_fatal_error(rk, buf.data(), buf.size());
    Error e = make_error(orig, buf.data(), "", st->label);
    if (e.code != Errc::fenced) e.code = Errc::fatal;
    e.retriable = false;
    if (!st->fatal) st->fatal = std::move(e);
  } else if (classify(code) == Errc::authentication) {
    if (!st->auth_failure) st->auth_failure = make_error(code, reason, "", st->label);
  } else {
    st->last_broker_error = reason;
    if (code == RD_KAFKA_RESP_ERR__SSL || code == RD_KAFKA_RESP_ERR__TRANSPORT) {
      if (auto t = explain_tls_error(reason ? reason : "", st->tls); t && !st->tls_failure) {
        st->tls_failure = tls_error(code, std::move(*t), st->label);
      }
    }
  }
}

// librdkafka's certificate check: called for every certificate of the broker's chain with OpenSSL's
// verdict in *x509_error. The verdict stands (accepted exactly when OpenSSL found no error); we only
// record why, in words, and make the client's operations fail fast on it.
int on_certificate(rd_kafka_t*, const char* broker_name, int32_t, int* x509_error, int depth, const char* buf,
                   size_t size, char* errstr, size_t errstr_size, void* opaque) {
  if (*x509_error == 0) return 1;
  auto* st = static_cast<ClientState*>(opaque);
  TlsFailure f = explain_certificate(*x509_error, depth, reinterpret_cast<const unsigned char*>(buf), size,
                                     broker_name ? broker_name : "?", st->tls);
  std::snprintf(errstr, errstr_size, "%s", f.message.c_str());
  std::lock_guard lock(st->mu);
  if (!st->tls_failure) st->tls_failure = tls_error(RD_KAFKA_RESP_ERR__SSL, std::move(f), st->label);
  return 0;
}

void on_log(const rd_kafka_t* rk, int level, const char* fac, const char* buf) {
  auto* st = static_cast<ClientState*>(rd_kafka_opaque(rk));
  if (st && st->log) st->log(level, fac, buf);
}

}  // namespace

Error config_error(const ClientConfig& config, const std::string& name, const std::string& value,
                   std::string message) {
  Error e;
  e.code = Errc::config;
  e.operation = "configure the Kafka client";
  e.cluster = config.label();
  // librdkafka quotes a rejected value in its message; a secret's value must never be printed.
  if (is_secret_property(name) && !value.empty()) {
    for (size_t pos = message.find(value); pos != std::string::npos; pos = message.find(value, pos)) {
      message.replace(pos, value.size(), "<secret not shown>");
    }
  }
  e.message = std::move(message);
  return e;
}

int timeout_ms(const ClientConfig& config) {
  return static_cast<int>(std::max<int64_t>(1, config.timeout.count()));
}

Result<Client> Client::create(rd_kafka_type_t type, const ClientConfig& config, const Overrides& overrides,
                              std::string_view role, void (*configure)(rd_kafka_conf_t*)) {
  Client c;
  c.config_ = config;
  c.state_ = std::make_unique<ClientState>();
  c.state_->label = config.label();
  c.state_->log = config.log;
  c.state_->tls = tls_settings(config.properties);

  if (config.bootstrap.empty()) {
    Error e;
    e.code = Errc::config;
    e.operation = "configure the Kafka client";
    e.cluster = config.label();
    e.message = "no bootstrap servers given";
    return fail(std::move(e));
  }

  ConfHandle conf(rd_kafka_conf_new());
  std::array<char, 512> errstr{};
  auto set = [&](const std::string& name, const std::string& value) -> std::optional<Error> {
    if (rd_kafka_conf_set(conf.get(), name.c_str(), value.c_str(), errstr.data(), errstr.size()) !=
        RD_KAFKA_CONF_OK) {
      return config_error(config, name, value, errstr.data());
    }
    return std::nullopt;
  };

  std::map<std::string, std::string> props = {
      {"client.id",
       "mirror-" + (config.alias.empty() ? std::string("client") : config.alias) + "-" + std::string(role)},
      {"log.connection.close", "false"},
      {"socket.connection.setup.timeout.ms", std::to_string(std::min(timeout_ms(config), 10'000))},
  };
  for (const auto& [k, v] : overrides.defaults) props[k] = v;
  props["bootstrap.servers"] = config.bootstrap;
  for (const auto& [k, v] : config.properties) props[k] = v;
  for (const auto& [k, v] : overrides.forced) props[k] = v;
  for (const auto& [k, v] : props) {
    if (auto e = set(k, v)) return fail(std::move(*e));
  }

  rd_kafka_conf_set_opaque(conf.get(), c.state_.get());
  rd_kafka_conf_set_error_cb(conf.get(), on_error);
  rd_kafka_conf_set_log_cb(conf.get(), on_log);
  if (props["security.protocol"].find("SSL") != std::string::npos ||
      props["security.protocol"].find("ssl") != std::string::npos) {
    if (rd_kafka_conf_set_ssl_cert_verify_cb(conf.get(), on_certificate) != RD_KAFKA_CONF_OK) {
      return fail(
          config_error(config, "", "", "this librdkafka cannot check TLS certificates (built without SSL)"));
    }
  }
  if (configure) configure(conf.get());

  rd_kafka_t* rk = rd_kafka_new(type, conf.get(), errstr.data(), errstr.size());
  if (!rk) {
    // Cross-property checks happen here; redact every secret value the message might quote.
    std::string message = errstr.data();
    for (const auto& [k, v] : props) message = config_error(config, k, v, std::move(message)).message;
    return fail(config_error(config, "", "", std::move(message)));
  }
  conf.release();  // owned by rk from here on
  c.handle_.reset(rk);
  return c;
}

Error Client::timeout_error(std::string_view operation) const {
  Error e;
  e.code = Errc::timed_out;
  e.kafka_code = "_TIMED_OUT";
  e.operation = operation;
  e.cluster = label();
  e.retriable = true;
  e.message = "no answer within " + std::to_string(config_.timeout.count()) + " ms";
  std::lock_guard lock(state_->mu);
  if (!state_->last_broker_error.empty()) {
    e.message += "; last broker error: " + state_->last_broker_error;
    e.code = Errc::transport;  // the brokers could not be reached at all: say so, not just "timeout"
  }
  return e;
}

std::optional<Error> Client::async_failure(std::string_view operation) const {
  std::lock_guard lock(state_->mu);
  std::optional<Error> e = state_->fatal          ? state_->fatal
                           : state_->auth_failure ? state_->auth_failure
                                                  : state_->tls_failure;
  if (e) e->operation = operation;
  return e;
}

Result<EventHandle> Client::await(rd_kafka_queue_t* queue, std::string_view operation) const {
  auto deadline = std::chrono::steady_clock::now() + config_.timeout + kDeadlineGrace;
  for (;;) {
    if (config_.stop.stop_requested()) {
      Error e;
      e.code = Errc::cancelled;
      e.operation = operation;
      e.cluster = label();
      e.message = "stopped on request";
      return fail(std::move(e));
    }
    serve();
    if (auto f = async_failure(operation)) return fail(std::move(*f));
    if (rd_kafka_event_t* ev = rd_kafka_queue_poll(queue, static_cast<int>(kPollSlice.count()))) {
      return EventHandle(ev);
    }
    if (std::chrono::steady_clock::now() >= deadline) return fail(timeout_error(operation));
  }
}

Result<AdminOptionsHandle> Client::admin_options(rd_kafka_admin_op_t op, std::string_view operation) const {
  AdminOptionsHandle opts(rd_kafka_AdminOptions_new(get(), op));
  std::array<char, 512> errstr{};
  if (rd_kafka_AdminOptions_set_request_timeout(opts.get(), timeout_ms(config_), errstr.data(),
                                                errstr.size()) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return fail(error(RD_KAFKA_RESP_ERR__INVALID_ARG, errstr.data(), operation));
  }
  if (op == RD_KAFKA_ADMIN_OP_CREATETOPICS || op == RD_KAFKA_ADMIN_OP_DELETETOPICS ||
      op == RD_KAFKA_ADMIN_OP_CREATEPARTITIONS) {
    // Wait until the controller has applied the change, so a describe right after sees it.
    if (rd_kafka_AdminOptions_set_operation_timeout(opts.get(), timeout_ms(config_), errstr.data(),
                                                    errstr.size()) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return fail(error(RD_KAFKA_RESP_ERR__INVALID_ARG, errstr.data(), operation));
    }
  }
  return opts;
}

std::optional<Error> event_error(const Client& c, rd_kafka_event_t* ev, std::string_view operation) {
  rd_kafka_resp_err_t err = rd_kafka_event_error(ev);
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return std::nullopt;
  if (classify(err) == Errc::timed_out) {
    if (auto f = c.async_failure(operation)) return f;
    return c.timeout_error(operation);
  }
  const char* msg = rd_kafka_event_error_string(ev);
  return c.error(err, msg ? msg : "", operation);
}

std::optional<Error> resource_error(const Client& c, rd_kafka_resp_err_t err, const char* msg,
                                    std::string_view operation) {
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return std::nullopt;
  return c.error(err, msg ? msg : "", operation);
}

}  // namespace detail
}  // namespace mirror::kafka

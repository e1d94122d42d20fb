#include "kafka/producer.h"

#include <algorithm>

#include "kafka/internal.h"

namespace mirror::kafka {

using namespace detail;  // NOLINT: the adapter's own internals

struct Producer::State {
  DeliveryHandler on_delivery;
};

namespace {

// Delivery reports reach this through the client's opaque (ClientState), whose `user` field points to
// the Producer::State. Called from rd_kafka_poll/flush on the caller's thread.
void on_delivery(rd_kafka_t* /*rk*/, const rd_kafka_message_t* m, void* opaque) {
  auto* cs = static_cast<ClientState*>(opaque);
  auto* st = static_cast<const DeliveryHandler*>(cs->user);
  if (!st || !*st) return;
  Delivery d;
  d.topic = m->rkt ? rd_kafka_topic_name(m->rkt) : "";
  d.partition = m->partition;
  d.offset = m->offset;
  d.tag = static_cast<uint64_t>(reinterpret_cast<uintptr_t>(m->_private));
  d.timestamp_ms = rd_kafka_message_timestamp(m, nullptr);
  if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    d.error = make_error(m->err, rd_kafka_err2str(m->err), "deliver record", cs->label);
  }
  (*st)(d);
}

// Enqueues through `produce` (one rd_kafka_producev call). While the local queue is full (back-pressure),
// serves delivery reports and tries again until the client's timeout or a stop request.
template <class Produce>
Result<void> produce_with_backpressure(Client& client, HeadersHandle& headers, const Produce& produce) {
  constexpr std::string_view op = "produce";
  const auto deadline = std::chrono::steady_clock::now() + client.config().timeout;
  for (;;) {
    rd_kafka_resp_err_t err = produce(headers.get());
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      (void)headers.release();  // owned by librdkafka now
      return {};
    }
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
      // Say which: e.g. PRODUCER_FENCED when a newer instance with the same transactional.id took over.
      char reason[512] = "";
      const rd_kafka_resp_err_t cause = rd_kafka_fatal_error(client.get(), reason, sizeof reason);
      Error e = client.error(cause != RD_KAFKA_RESP_ERR_NO_ERROR ? cause : err, reason, op);
      if (e.code != Errc::fenced) e.code = Errc::fatal;
      return fail(std::move(e));
    }
    if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      if (auto f = client.async_failure(op)) return fail(std::move(*f));
      return fail(client.error(err, "", op));
    }
    if (client.config().stop.stop_requested()) {
      return fail(client.error(RD_KAFKA_RESP_ERR__DESTROY, "stopped on request", op));
    }
    if (std::chrono::steady_clock::now() >= deadline) return fail(client.timeout_error(op));
    rd_kafka_poll(client.get(), 10);
  }
}

void configure_producer(rd_kafka_conf_t* conf) { rd_kafka_conf_set_dr_msg_cb(conf, on_delivery); }

}  // namespace

Producer::Producer(std::unique_ptr<Client> client, std::unique_ptr<State> state)
    : state_(std::move(state)), client_(std::move(client)) {}
Producer::Producer(Producer&&) noexcept = default;
Producer& Producer::operator=(Producer&&) noexcept = default;
Producer::~Producer() = default;

Result<Producer> Producer::create(const ClientConfig& config, const ProducerOptions& options,
                                  DeliveryHandler handler) {
  Overrides o;
  // Throughput defaults; the spec's client properties may override them.
  // The local queue is bounded (16 MiB): a slow target slows the caller (send() waits), memory stays flat.
  o.defaults = {{"linger.ms", "5"},
                {"batch.size", "1000000"},
                {"compression.type", "lz4"},
                {"queue.buffering.max.kbytes", "16384"}};
  if (options.idempotent || options.transactional_id) {
    o.forced["enable.idempotence"] = "true";
    o.forced["acks"] = "all";
  }
  if (options.transactional_id) o.forced["transactional.id"] = *options.transactional_id;
  if (options.max_record_bytes) {
    // librdkafka accepts 1,000 .. 1,000,000,000.
    o.forced["message.max.bytes"] =
        std::to_string(std::clamp<int64_t>(*options.max_record_bytes, 1000, 1'000'000'000));
  }
  auto c = Client::create(RD_KAFKA_PRODUCER, config, o, "producer", configure_producer);
  if (!c) return fail(std::move(c).error());
  auto state = std::make_unique<State>();
  state->on_delivery = std::move(handler);
  auto client = std::make_unique<Client>(std::move(*c));
  client->state().user = &state->on_delivery;
  return Producer(std::move(client), std::move(state));
}

Result<void> Producer::send(const OutRecord& r) {
  HeadersHandle headers;
  if (!r.headers.empty()) {
    headers.reset(rd_kafka_headers_new(r.headers.size()));
    for (const auto& h : r.headers) {
      rd_kafka_header_add(headers.get(), h.name.data(), static_cast<ssize_t>(h.name.size()),
                          h.value ? h.value->data() : nullptr,
                          h.value ? static_cast<ssize_t>(h.value->size()) : 0);
    }
  }
  const std::string topic(r.topic);
  // librdkafka's V_ macros cast their arguments, so compute them first (a null pointer means null).
  const void* key = r.key ? r.key->data() : nullptr;
  const size_t key_len = r.key ? r.key->size() : 0;
  void* value = r.value ? const_cast<char*>(r.value->data()) : nullptr;  // copied (MSG_F_COPY)
  const size_t value_len = r.value ? r.value->size() : 0;
  // rd_kafka_producev takes ownership of the headers only on success; on failure they are still ours.
  return produce_with_backpressure(*client_, headers, [&](rd_kafka_headers_t* h) {
    return rd_kafka_producev(
        client_->get(), RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(r.partition),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(key, key_len),
        RD_KAFKA_V_VALUE(value, value_len), RD_KAFKA_V_TIMESTAMP(r.timestamp_ms), RD_KAFKA_V_HEADERS(h),
        RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(static_cast<uintptr_t>(r.tag))), RD_KAFKA_V_END);
  });
}

Result<void> Producer::forward(const Message& m, const std::string& topic, int32_t partition, uint64_t tag) {
  const rd_kafka_message_t* in = m.raw();
  HeadersHandle headers;
  rd_kafka_headers_t* src = nullptr;
  // rd_kafka_message_headers needs a non-const message; it only reads (and caches the parsed headers).
  if (rd_kafka_message_headers(const_cast<rd_kafka_message_t*>(in), &src) == RD_KAFKA_RESP_ERR_NO_ERROR &&
      src) {
    headers.reset(rd_kafka_headers_copy(src));
  }
  const int64_t ts = std::max<int64_t>(0, rd_kafka_message_timestamp(in, nullptr));
  return produce_with_backpressure(*client_, headers, [&](rd_kafka_headers_t* h) {
    return rd_kafka_producev(
        client_->get(), RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(partition),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(in->key, in->key_len),
        RD_KAFKA_V_VALUE(in->payload, in->len), RD_KAFKA_V_TIMESTAMP(ts), RD_KAFKA_V_HEADERS(h),
        RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(static_cast<uintptr_t>(tag))), RD_KAFKA_V_END);
  });
}

int Producer::poll(std::chrono::milliseconds wait) {
  return rd_kafka_poll(client_->get(), static_cast<int>(wait.count()));
}

Result<void> Producer::flush() {
  constexpr std::string_view op = "flush";
  auto deadline = std::chrono::steady_clock::now() + client_->config().timeout;
  while (rd_kafka_outq_len(client_->get()) > 0) {
    if (auto f = client_->async_failure(op)) return fail(std::move(*f));
    if (client_->config().stop.stop_requested()) {
      return fail(client_->error(RD_KAFKA_RESP_ERR__DESTROY, "stopped on request", op));
    }
    if (std::chrono::steady_clock::now() >= deadline) return fail(client_->timeout_error(op));
    rd_kafka_flush(client_->get(), 100);
  }
  return {};
}

int Producer::in_flight() const { return rd_kafka_outq_len(client_->get()); }

namespace {
Result<void> txn_result(const Client& c, rd_kafka_error_t* raw, std::string_view op) {
  ErrorHandle err(raw);
  if (!err) return {};
  return fail(c.error(err.get(), op));
}
}  // namespace

Result<void> Producer::init_transactions() {
  return txn_result(*client_, rd_kafka_init_transactions(client_->get(), timeout_ms(client_->config())),
                    "init transactions");
}

Result<void> Producer::begin_transaction() {
  return txn_result(*client_, rd_kafka_begin_transaction(client_->get()), "begin transaction");
}

Result<void> Producer::commit_transaction() {
  return txn_result(*client_, rd_kafka_commit_transaction(client_->get(), timeout_ms(client_->config())),
                    "commit transaction");
}

Result<void> Producer::abort_transaction() {
  return txn_result(*client_, rd_kafka_abort_transaction(client_->get(), timeout_ms(client_->config())),
                    "abort transaction");
}

}  // namespace mirror::kafka

#include "kafka/consumer.h"

#include <algorithm>
#include <set>

#include "kafka/internal.h"

namespace mirror::kafka {

using namespace detail;  // NOLINT: the adapter's own internals

// ---- Message ----
void Message::Deleter::operator()(rd_kafka_message_s* m) const noexcept { rd_kafka_message_destroy(m); }
Message::Message(rd_kafka_message_s* m) : m_(m) {}
Message::Message(Message&&) noexcept = default;
Message& Message::operator=(Message&&) noexcept = default;
Message::~Message() = default;

std::string_view Message::topic() const { return m_->rkt ? rd_kafka_topic_name(m_->rkt) : ""; }
int32_t Message::partition() const { return m_->partition; }
int64_t Message::offset() const { return m_->offset; }
std::optional<std::string_view> Message::key() const {
  if (!m_->key) return std::nullopt;
  return std::string_view(static_cast<const char*>(m_->key), m_->key_len);
}
std::optional<std::string_view> Message::value() const {
  if (!m_->payload) return std::nullopt;
  return std::string_view(static_cast<const char*>(m_->payload), m_->len);
}
int64_t Message::timestamp_ms() const { return rd_kafka_message_timestamp(m_.get(), nullptr); }
TimestampType Message::timestamp_type() const {
  rd_kafka_timestamp_type_t t = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE;
  rd_kafka_message_timestamp(m_.get(), &t);
  switch (t) {
    case RD_KAFKA_TIMESTAMP_CREATE_TIME: return TimestampType::create_time;
    case RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME: return TimestampType::log_append_time;
    default: return TimestampType::none;
  }
}
std::vector<Header> Message::headers() const {
  std::vector<Header> out;
  rd_kafka_headers_t* hdrs = nullptr;
  if (rd_kafka_message_headers(m_.get(), &hdrs) != RD_KAFKA_RESP_ERR_NO_ERROR) return out;
  const char* name = nullptr;
  const void* val = nullptr;
  size_t size = 0;
  for (size_t i = 0; rd_kafka_header_get_all(hdrs, i, &name, &val, &size) == RD_KAFKA_RESP_ERR_NO_ERROR;
       ++i) {
    out.push_back({name, val ? std::optional<std::string>(std::string(static_cast<const char*>(val), size))
                             : std::nullopt});
  }
  return out;
}
bool Message::eof() const { return m_->err == RD_KAFKA_RESP_ERR__PARTITION_EOF; }

// ---- Consumer ----
Consumer::Consumer(std::unique_ptr<Client> client) : client_(std::move(client)) {}
Consumer::Consumer(Consumer&& o) noexcept : client_(std::move(o.client_)), closed_(o.closed_) {
  o.closed_ = true;
}
Consumer& Consumer::operator=(Consumer&& o) noexcept {
  if (this != &o) {
    close();
    client_ = std::move(o.client_);
    closed_ = o.closed_;
    o.closed_ = true;
  }
  return *this;
}
Consumer::~Consumer() { close(); }

namespace {
// Group rebalances (subscribe() only): take what the group assigns, give back what it revokes, with the
// eager or the cooperative protocol; counted for callers who must show a group was not disturbed.
void on_rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts,
                  void* opaque) {
  auto* cs = static_cast<ClientState*>(opaque);
  const bool cooperative = std::string_view(rd_kafka_rebalance_protocol(rk)) == "COOPERATIVE";
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    if (cs) ++cs->assignments;
    if (cooperative) {
      ErrorHandle e(rd_kafka_incremental_assign(rk, parts));
    } else {
      rd_kafka_assign(rk, parts);
    }
  } else if (cooperative) {
    ErrorHandle e(rd_kafka_incremental_unassign(rk, parts));
  } else {
    rd_kafka_assign(rk, nullptr);
  }
}
void configure_consumer(rd_kafka_conf_t* conf) { rd_kafka_conf_set_rebalance_cb(conf, on_rebalance); }
}  // namespace

int Consumer::assignments() const { return client_->state().assignments.load(); }

Result<Consumer> Consumer::create(const ClientConfig& config, const ConsumerOptions& options) {
  Overrides o;
  // librdkafka serves a consumer's queue only with a group.id; with assign() it never joins the group.
  o.defaults["group.id"] =
      "mirror-" + (config.alias.empty() ? std::string("reader") : config.alias) + "-reader";
  o.defaults["fetch.max.bytes"] = "52428800";
  // Bounded read-ahead per client: 16 MiB, and at most 10,000 records per partition.
  o.defaults["queued.max.messages.kbytes"] = "16384";
  o.defaults["queued.min.messages"] = "10000";
  // When the read-ahead is full librdkafka waits this long before it looks again (default 1 s). With
  // the default a fast reader found the queue empty most of the time: 1.1M records took 16 s to copy
  // instead of 4 s (docs/performance.md).
  o.defaults["fetch.queue.backoff.ms"] = "10";
  o.forced = {
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"enable.partition.eof", options.report_eof ? "true" : "false"},
      {"isolation.level",
       options.isolation == Isolation::read_committed ? "read_committed" : "read_uncommitted"},
      // A position outside the log is an event mirror must see (data loss upstream), never silently reset.
      {"auto.offset.reset", "error"},
  };
  // A reader that stops at the end learns it is there from an empty fetch: the broker holds that one
  // for fetch.wait.max.ms (default 500 ms) before answering.
  if (options.report_eof) o.defaults["fetch.wait.max.ms"] = "10";
  if (options.max_record_bytes && *options.max_record_bytes + (1 << 20) > 52428800) {
    const int64_t fetch = std::min<int64_t>(*options.max_record_bytes + (1 << 20), 1'000'000'000);
    o.defaults["fetch.max.bytes"] = std::to_string(fetch);
    o.defaults["receive.message.max.bytes"] =
        std::to_string(std::min<int64_t>(fetch + (1 << 20), 2'147'483'647));
  }
  if (options.group_id) o.forced["group.id"] = *options.group_id;
  auto c = Client::create(RD_KAFKA_CONSUMER, config, o, "consumer", configure_consumer);
  if (!c) return fail(std::move(c).error());
  // Route the main queue (error callbacks) into the consumer queue served by poll().
  rd_kafka_poll_set_consumer(c->get());
  return Consumer(std::make_unique<Client>(std::move(*c)));
}

namespace {
// librdkafka learns the leaders of a topic new to the client at its next periodic metadata scan (up to
// 1 s later), and a partition assigned at a logical offset (beginning, end) then waits another 500 ms
// for its offset query. Asking for the topics' metadata right away lets fetching start at once.
void learn_leaders(Client& client, const std::vector<TopicPartitionOffset>& partitions) {
  std::vector<TopicHandle> topics;
  std::set<std::string_view> seen;
  for (const auto& p : partitions) {
    if (!seen.insert(p.topic).second) continue;
    topics.emplace_back(rd_kafka_topic_new(client.get(), p.topic.c_str(), nullptr));
  }
  const rd_kafka_metadata_t* md = nullptr;
  // Every topic the client knows, which includes these; a failure only means the usual wait.
  if (rd_kafka_metadata(client.get(), 0, nullptr, &md, std::min(timeout_ms(client.config()), 5000)) ==
      RD_KAFKA_RESP_ERR_NO_ERROR) {
    MetadataHandle keep(md);
  }
}
}  // namespace

Result<void> Consumer::assign(const std::vector<TopicPartitionOffset>& partitions) {
  learn_leaders(*client_, partitions);
  PartitionListHandle l(rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size())));
  for (const auto& p : partitions) {
    rd_kafka_topic_partition_list_add(l.get(), p.topic.c_str(), p.partition)->offset = p.offset;
  }
  rd_kafka_resp_err_t err = rd_kafka_assign(client_->get(), l.get());
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return fail(client_->error(err, "", "assign partitions"));
  return {};
}

Result<void> Consumer::subscribe(const std::vector<std::string>& topics) {
  PartitionListHandle l(rd_kafka_topic_partition_list_new(static_cast<int>(topics.size())));
  for (const auto& t : topics) rd_kafka_topic_partition_list_add(l.get(), t.c_str(), RD_KAFKA_PARTITION_UA);
  rd_kafka_resp_err_t err = rd_kafka_subscribe(client_->get(), l.get());
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return fail(client_->error(err, "", "subscribe"));
  return {};
}

Result<void> Consumer::add(const std::vector<TopicPartitionOffset>& partitions) {
  learn_leaders(*client_, partitions);
  PartitionListHandle l(rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size())));
  for (const auto& p : partitions) {
    rd_kafka_topic_partition_list_add(l.get(), p.topic.c_str(), p.partition)->offset = p.offset;
  }
  ErrorHandle err(rd_kafka_incremental_assign(client_->get(), l.get()));
  if (err) return fail(client_->error(err.get(), "add partitions to the assignment"));
  return {};
}

Result<void> Consumer::remove(const std::vector<TopicPartition>& partitions) {
  PartitionListHandle l(rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size())));
  for (const auto& p : partitions) rd_kafka_topic_partition_list_add(l.get(), p.topic.c_str(), p.partition);
  ErrorHandle err(rd_kafka_incremental_unassign(client_->get(), l.get()));
  if (err) return fail(client_->error(err.get(), "remove partitions from the assignment"));
  return {};
}

std::optional<std::pair<int64_t, int64_t>> Consumer::cached_watermarks(const TopicPartition& tp) const {
  int64_t low = -1, high = -1;
  if (rd_kafka_get_watermark_offsets(client_->get(), tp.topic.c_str(), tp.partition, &low, &high) !=
          RD_KAFKA_RESP_ERR_NO_ERROR ||
      high < 0) {
    return std::nullopt;
  }
  return std::make_pair(low, high);
}

std::optional<int64_t> Consumer::position(const TopicPartition& tp) const {
  PartitionListHandle l(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(l.get(), tp.topic.c_str(), tp.partition);
  if (rd_kafka_position(client_->get(), l.get()) != RD_KAFKA_RESP_ERR_NO_ERROR) return std::nullopt;
  const int64_t off = l->elems[0].offset;
  if (off < 0) return std::nullopt;
  return off;
}

Result<std::optional<Message>> Consumer::poll(std::chrono::milliseconds wait) {
  constexpr std::string_view op = "consume";
  if (auto f = client_->async_failure(op)) return fail(std::move(*f));
  rd_kafka_message_t* raw = rd_kafka_consumer_poll(client_->get(), static_cast<int>(wait.count()));
  if (auto f = client_->async_failure(op)) {
    if (raw) rd_kafka_message_destroy(raw);
    return fail(std::move(*f));
  }
  if (!raw) return std::optional<Message>{};
  Message m(raw);
  if (raw->err == RD_KAFKA_RESP_ERR_NO_ERROR || raw->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
    return std::optional<Message>(std::move(m));
  }
  Error e = client_->error(raw->err, rd_kafka_message_errstr(raw), op);
  if (raw->rkt) {
    e.topic = rd_kafka_topic_name(raw->rkt);
    e.partition = raw->partition;
  }
  if (raw->rkt)
    e.message =
        std::string(rd_kafka_topic_name(raw->rkt)) + "[" + std::to_string(raw->partition) + "]: " + e.message;
  if (e.code == Errc::transport || e.code == Errc::retriable || e.code == Errc::timed_out) {
    std::lock_guard lock(client_->state().mu);
    client_->state().last_broker_error = e.message;
    return std::optional<Message>{};  // librdkafka reconnects and retries by itself
  }
  return fail(std::move(e));
}

Result<void> Consumer::commit(const std::vector<TopicPartitionOffset>& offsets) {
  PartitionListHandle l(rd_kafka_topic_partition_list_new(static_cast<int>(offsets.size())));
  for (const auto& p : offsets) {
    rd_kafka_topic_partition_list_add(l.get(), p.topic.c_str(), p.partition)->offset = p.offset;
  }
  rd_kafka_resp_err_t err = rd_kafka_commit(client_->get(), l.get(), 0);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return fail(client_->error(err, "", "commit offsets"));
  for (int i = 0; i < l->cnt; ++i) {
    if (l->elems[i].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return fail(client_->error(l->elems[i].err, l->elems[i].topic, "commit offsets"));
    }
  }
  return {};
}

void Consumer::close() {
  if (closed_ || !client_) return;
  closed_ = true;
  rd_kafka_consumer_close(client_->get());
}

}  // namespace mirror::kafka

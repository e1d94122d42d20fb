// A producer for one cluster: idempotent by default, optionally transactional.
//
// Records are handed to librdkafka (copied) by send(); their fate arrives later as a Delivery, through
// the handler given at creation, from poll()/flush() on the caller's thread. A record counts as written
// only when its Delivery has no error: the engine advances progress only from these.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "kafka/client_config.h"
#include "kafka/consumer.h"
#include "kafka/types.h"

namespace mirror::kafka {

namespace detail {
class Client;
}

struct ProducerOptions {
  // enable.idempotence=true (implies acks=all): no duplicates or reordering from internal retries.
  bool idempotent = true;
  // Set to make the producer transactional (implies idempotent). Zombies with the same id are fenced.
  std::optional<std::string> transactional_id;
  // The largest record (key, value and headers) the producer accepts; also bounds one produce request.
  // librdkafka's default (message.max.bytes=1,000,000) is below Kafka's topic default (1,048,588).
  std::optional<int64_t> max_record_bytes;
};

struct OutRecord {
  std::string_view topic;
  int32_t partition = -1;                 // -1: let the partitioner choose
  std::optional<std::string_view> key;    // nullopt: a null key
  std::optional<std::string_view> value;  // nullopt: a null value (a tombstone)
  std::span<const Header> headers;
  int64_t timestamp_ms = 0;  // 0: now
  uint64_t tag = 0;          // returned in the Delivery
};

struct Delivery {
  std::string_view topic;  // valid only during the handler call
  int32_t partition = -1;
  int64_t offset = -1;
  uint64_t tag = 0;
  int64_t timestamp_ms = -1;  // the record's timestamp as stored (the broker's, for LogAppendTime topics)
  std::optional<Error> error;
};

using DeliveryHandler = std::function<void(const Delivery&)>;

class Producer {
 public:
  static Result<Producer> create(const ClientConfig& config, const ProducerOptions& options,
                                 DeliveryHandler on_delivery);
  Producer(Producer&&) noexcept;
  Producer& operator=(Producer&&) noexcept;
  ~Producer();  // does not flush: call flush() first to wait for outstanding records

  // Enqueues a copy of the record. While librdkafka's local queue is full, serves delivery reports
  // and retries until the client's timeout or a stop request.
  Result<void> send(const OutRecord& record);
  // Enqueues a copy of a fetched record (key, value, headers, timestamp byte for byte) for `topic` /
  // `partition`. Same back-pressure as send().
  Result<void> forward(const Message& m, const std::string& topic, int32_t partition, uint64_t tag);
  // Serves delivery reports for up to `wait`; returns how many events were served.
  int poll(std::chrono::milliseconds wait);
  // Waits until every enqueued record has a delivery report (or the timeout / a stop request).
  Result<void> flush();
  // Records enqueued but not yet reported.
  int in_flight() const;

  // Transactions (only with ProducerOptions::transactional_id).
  Result<void> init_transactions();
  Result<void> begin_transaction();
  Result<void> commit_transaction();
  Result<void> abort_transaction();

 private:
  struct State;
  Producer(std::unique_ptr<detail::Client> client, std::unique_ptr<State> state);
  std::unique_ptr<State> state_;  // outlives client_: delivery reports refer to it
  std::unique_ptr<detail::Client> client_;
};

}  // namespace mirror::kafka

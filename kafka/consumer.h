// A consumer for one cluster with manual partition assignment: no group membership, no rebalances.
// mirror decides which partitions each worker reads and from which offset; the broker never does.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kafka/client_config.h"
#include "kafka/types.h"

struct rd_kafka_message_s;

namespace mirror::kafka {

namespace detail {
class Client;
}

struct ConsumerOptions {
  // Used only to commit offsets (tests, tools); assignment never joins the group.
  std::optional<std::string> group_id;
  Isolation isolation = Isolation::read_committed;
  bool report_eof = false;  // deliver an eof() message when a partition reaches its end
  // The largest record batch the consumer must be able to fetch (a source topic's max.message.bytes):
  // fetch.max.bytes and receive.message.max.bytes grow to fit it when it is above their defaults.
  std::optional<int64_t> max_record_bytes;
};

enum class TimestampType { none, create_time, log_append_time };

// One fetched record. Owns librdkafka's message; the views it returns live as long as it does.
class Message {
 public:
  explicit Message(rd_kafka_message_s* m);
  Message(Message&&) noexcept;
  Message& operator=(Message&&) noexcept;
  ~Message();

  std::string_view topic() const;
  int32_t partition() const;
  int64_t offset() const;
  std::optional<std::string_view> key() const;    // nullopt: null key
  std::optional<std::string_view> value() const;  // nullopt: null value (tombstone)
  int64_t timestamp_ms() const;
  TimestampType timestamp_type() const;
  std::vector<Header> headers() const;
  bool eof() const;  // not a record: the partition's end was reached at offset()
  rd_kafka_message_s* raw() const { return m_.get(); }  // for the adapter (Producer::forward)

 private:
  struct Deleter {
    void operator()(rd_kafka_message_s* m) const noexcept;
  };
  std::unique_ptr<rd_kafka_message_s, Deleter> m_;
};

class Consumer {
 public:
  static Result<Consumer> create(const ClientConfig& config, const ConsumerOptions& options);
  Consumer(Consumer&&) noexcept;
  Consumer& operator=(Consumer&&) noexcept;
  ~Consumer();  // closes the consumer if close() was not called

  // Replaces the assignment. Offsets: a real offset, or -2 (earliest) / -1 (latest).
  Result<void> assign(const std::vector<TopicPartitionOffset>& partitions);
  // Adds partitions to the assignment, or removes them, leaving the others' positions and prefetched
  // records untouched.
  // Joins the consumer group (options.group_id) for these topics: the group gets this consumer as a
  // member and Kafka assigns the partitions. mirror itself never subscribes (it assigns manually); tests
  // and tools use this to act like an application's consumer.
  Result<void> subscribe(const std::vector<std::string>& topics);
  Result<void> add(const std::vector<TopicPartitionOffset>& partitions);
  Result<void> remove(const std::vector<TopicPartition>& partitions);
  // The low and high watermarks librdkafka last saw in fetch responses for an assigned partition
  // (no request is sent). nullopt until the first fetch answered.
  std::optional<std::pair<int64_t, int64_t>> cached_watermarks(const TopicPartition& tp) const;
  // The next offset the consumer will fetch for an assigned partition (after skipped control records),
  // or nullopt when unknown.
  std::optional<int64_t> position(const TopicPartition& tp) const;
  // Waits up to `wait` for one record (or eof marker). nullopt: nothing arrived in time. Transient
  // broker errors are absorbed (librdkafka retries); errors the caller must act on are returned.
  Result<std::optional<Message>> poll(std::chrono::milliseconds wait);
  // Synchronous offset commit for the configured group (offset = the next record to read).
  Result<void> commit(const std::vector<TopicPartitionOffset>& offsets);
  // After subscribe(): how many times the group gave this consumer its partitions (1 after joining; more
  // means the group rebalanced).
  int assignments() const;
  void close();

 private:
  explicit Consumer(std::unique_ptr<detail::Client> client);
  std::unique_ptr<detail::Client> client_;
  bool closed_ = false;
};

}  // namespace mirror::kafka

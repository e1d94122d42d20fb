// MirrorMaker 2's record formats, byte for byte: consumer-group checkpoints (topic
// `<source>.checkpoints.internal` on the target cluster) and heartbeats (topic `heartbeats`), as written
// by org.apache.kafka.connect.mirror.Checkpoint / Heartbeat in connect-mirror-client 4.3.1. Java
// applications read them with RemoteClusterUtils.translateOffsets, so mirror must write exactly these bytes.
//
// Pure: no Kafka, no I/O. Layouts, topics and how MM2's client reads them: docs/mm2-formats.md. The
// encoders are checked against vectors produced by MM2's own classes (testdata/mm2/golden.txt).
//
// Every record is Kafka's old `Schema`/`Struct` serialization: INT16/INT32/INT64 big endian, STRING =
// INT16 byte length (0..32767, never null) + UTF-8 bytes. Keys have no version; values start with an
// INT16 version, always 0.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace mirror::offsets {

// The longest STRING the format can hold, in UTF-8 bytes (Kafka's Short.MAX_VALUE).
inline constexpr size_t kMaxStringBytes = 32767;

// The only value version MirrorMaker 2 (up to 4.3.1 at least) writes or knows.
inline constexpr int16_t kFormatVersion = 0;

// MM2's DefaultReplicationPolicy names (default separator "."). Both topics are compacted, 1 partition.
inline constexpr std::string_view kHeartbeatsTopic = "heartbeats";
// "<source>.checkpoints.internal": where checkpoints of groups on `source_alias` are kept, in the target.
std::string checkpoints_topic(std::string_view source_alias);

// A group's committed position on the source, translated to the target. The record key is
// (group, topic, partition), so a compacted topic keeps the latest checkpoint per group and partition.
struct Checkpoint {
  std::string group;              // consumer group id, as on the source cluster
  std::string topic;              // the *target* (remote) topic name, e.g. "A.orders"
  int32_t partition = 0;          // >= 0
  int64_t upstream_offset = 0;    // the group's committed offset on the source, >= 0
  int64_t downstream_offset = 0;  // the equivalent offset in the target topic, >= 0
  std::string metadata;           // the commit's metadata string, copied as is ("" when none)

  bool operator==(const Checkpoint&) const = default;
};

// MM2 emits one per (source, target) pair, every emit.heartbeats.interval.seconds, into the `heartbeats`
// topic of the cluster it writes to; the key is (source, target), the value the emit time.
struct Heartbeat {
  std::string source_alias;  // non-empty
  std::string target_alias;  // non-empty
  int64_t timestamp_ms = 0;  // epoch milliseconds, >= 0

  bool operator==(const Heartbeat&) const = default;
};

// Whether the value can be written without harming MM2's readers: every string valid UTF-8 of at most
// kMaxStringBytes, topic a legal Kafka topic name, partition and offsets >= 0 (MM2's client throws
// IllegalArgumentException from translateOffsets on a negative downstream offset), aliases non-empty,
// timestamp >= 0. The error says which field is wrong and why.
Result<void, std::string> check_checkpoint(const Checkpoint& c);
Result<void, std::string> check_heartbeat(const Heartbeat& h);

// The record key and value, exactly as MM2's recordKey()/recordValue(). Precondition: check_*() passed.
// Violating it is a programmer error that would corrupt a topic Java clients read, so it aborts with a
// message even in release builds.
std::string checkpoint_key(const Checkpoint& c);
std::string checkpoint_value(const Checkpoint& c);
std::string heartbeat_key(const Heartbeat& h);
std::string heartbeat_value(const Heartbeat& h);

// Decodes untrusted record bytes. Stricter than MM2 (which ignores trailing bytes and reads any version
// as version 0): fails on truncation, a version other than 0, a negative string length, trailing bytes,
// and on anything check_*() rejects. The error says whether the key or the value is wrong, which field,
// and at which byte.
Result<Checkpoint, std::string> decode_checkpoint(std::string_view key, std::string_view value);
Result<Heartbeat, std::string> decode_heartbeat(std::string_view key, std::string_view value);

}  // namespace mirror::offsets

// The engine's progress in the target cluster: per source partition, the next offset to read and the
// offset map (docs/offsets.md), in the compacted topic mirror.progress.internal (docs/engine.md).
// Records are written only from delivery reports of records the target acknowledged.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kafka/client_config.h"
#include "kafka/error.h"
#include "offsets/offset_map.h"

namespace mirror::state {

inline constexpr const char* kProgressTopic = "mirror.progress.internal";
// Leases of running engines (one per flow): a standby waits on it (state/lease.h).
inline constexpr const char* kEngineLeaseTopic = "mirror.engine.internal";

struct PartitionProgress {
  std::string flow;
  std::string source_topic;
  int32_t partition = 0;
  std::string target_topic;
  offsets::PartitionOffsetMap map;  // map.scanned_up(): the next source offset to read
  int64_t skipped = 0;              // records lost upstream before they were mirrored (total)
  std::string updated_at;           // UTC
};

// "progress/<flow>/<topic>/<partition>"
std::string progress_key(std::string_view flow, std::string_view topic, int32_t partition);
std::string to_json(const PartitionProgress& p);
// nullopt for a foreign or corrupt value (the reason in *why when given).
std::optional<PartitionProgress> progress_from_json(std::string_view text, std::string* why = nullptr);

// What `mirror status` shows about a running engine: key "engine/<flow>".
struct EngineStatus {
  std::string flow;
  std::string state;  // standby | starting | running | error | stopped
  std::string owner;  // user@host pid
  std::string updated_at;
  uint64_t records = 0;  // copied by this process
  double records_per_second = 0;
  int64_t lag = 0;  // records on the source not yet mirrored (last known)
  std::string last_error;
};
std::string status_key(std::string_view flow);
std::string to_json(const EngineStatus& s);
std::optional<EngineStatus> status_from_json(std::string_view text);

// Creates mirror.progress.internal (compacted, 1 partition) when missing.
kafka::Result<void> ensure_progress_topic(const kafka::ClientConfig& target, int replication_factor);
// The latest value of every key that starts with `prefix` (tombstones remove keys). A missing topic
// is empty.
kafka::Result<std::map<std::string, std::string>> read_latest(const kafka::ClientConfig& target,
                                                              std::string_view prefix);
// Writes (key, value) records to partition 0 of `topic` and waits until the broker acknowledged every
// one; `operation` names the step in errors ("record the applied revision").
kafka::Result<void> write_keyed(const kafka::ClientConfig& target, const std::string& topic,
                                const std::vector<std::pair<std::string, std::string>>& records,
                                const std::string& operation);
// The same for any compacted topic (partition 0), e.g. <source>.checkpoints.internal.
kafka::Result<std::map<std::string, std::string>> read_latest_of(const kafka::ClientConfig& target,
                                                                 const std::string& topic,
                                                                 std::string_view prefix = "");

}  // namespace mirror::state

// The engine's progress in the target cluster: per source partition, the next offset to read and the
// offset map (docs/offsets.md), in the compacted topic mirror.progress.internal (docs/engine.md).
// Records are written only from delivery reports of records the target acknowledged.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kafka/client_config.h"
#include "kafka/error.h"
#include "offsets/offset_map.h"
#include "state/skipped.h"

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
  // The ids of the source and target topics (as Kafka prints them, kafka::topic_id_string) this
  // progress was made with: a topic deleted and created again under the same name has a new id, and
  // this progress is not about it. "" = unknown (engines before issue #16 did not record them).
  std::string source_topic_id;
  std::string target_topic_id;
};

// "progress/<flow>/<topic>/<partition>"
std::string progress_key(std::string_view flow, std::string_view topic, int32_t partition);
// Empty topic ids are not written.
std::string to_json(const PartitionProgress& p);
// Strict: nullopt for a foreign or corrupt value (the reason in *why when given, never quoting it).
std::optional<PartitionProgress> progress_from_json(std::string_view text, std::string* why = nullptr);

// A partition the engine paused because of an error of its own (docs/engine.md, "Containment").
struct PausedPartition {
  std::string topic;  // the source topic
  int32_t partition = 0;
  std::string reason;  // the error's kind (kafka::errc_name), as in the mirror_partition_paused metric
  std::string error;   // the latest error, one line
  std::string since;   // UTC, when it was paused
  bool operator==(const PausedPartition&) const = default;
};

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
  std::vector<PausedPartition> paused;  // absent in records of engines before issue #16
  std::vector<std::string> recreated;   // "UTC: reason" of recreated topics this engine found (last 20)
};
std::string status_key(std::string_view flow);
std::string to_json(const EngineStatus& s);
std::optional<EngineStatus> status_from_json(std::string_view text, std::string* why = nullptr);

// Checks one record of a compacted topic: "" when it is readable, else what is wrong with it.
using RecordCheck = std::function<std::string(std::string_view key, std::string_view value)>;
// The check of mirror.progress.internal: "progress/..." records decode as PartitionProgress and
// "engine/..." as EngineStatus, each matching its key; other keys are not checked.
std::string check_progress_record(std::string_view key, std::string_view value);

// The latest readable value of every key, and the unreadable records that are still the latest of
// their key (a later readable record or a tombstone supersedes one), in log order. An unreadable record
// leaves the previous readable value of its key (or none) in place.
struct LatestRead {
  std::map<std::string, std::string> values;
  std::vector<Skipped> skipped;
};

// Pure. Folds records of a compacted topic in log order (keys starting with `prefix` only).
class LatestFold {
 public:
  LatestFold(std::string topic, std::string prefix, RecordCheck check);
  void add(std::optional<std::string_view> key, std::optional<std::string_view> value, int32_t partition,
           int64_t offset);
  LatestRead result() const;

 private:
  std::string topic_, prefix_;
  RecordCheck check_;
  LatestRead out_;
  std::map<std::string, Skipped> pending_;
};

// The progress topic decoded: progress by key, engine statuses by key, and what was skipped.
struct ProgressRead {
  std::map<std::string, PartitionProgress> progress;  // "progress/<flow>/<topic>/<partition>"
  std::map<std::string, EngineStatus> statuses;       // "engine/<flow>"
  std::vector<Skipped> skipped;
};

// Creates mirror.progress.internal (compacted, 1 partition) when missing.
kafka::Result<void> ensure_progress_topic(const kafka::ClientConfig& target, int replication_factor);
// The latest readable value of every key that starts with `prefix` (tombstones remove keys). A missing
// topic is empty. Unreadable records (check_progress_record) are left out without a word: prefer
// read_progress, which returns them.
kafka::Result<std::map<std::string, std::string>> read_latest(const kafka::ClientConfig& target,
                                                              std::string_view prefix);
// The progress topic's records under `prefix`, decoded, with the records it skipped. Never fails on an
// unreadable record.
kafka::Result<ProgressRead> read_progress(const kafka::ClientConfig& target, std::string_view prefix);
// (key, value) records of a compacted topic; a value nullopt is a tombstone (removes the key).
using KeyedRecords = std::vector<std::pair<std::string, std::optional<std::string>>>;
// Writes them to partition 0 of `topic` and waits until the broker acknowledged every one; `operation`
// names the step in errors ("record the applied revision").
kafka::Result<void> write_keyed(const kafka::ClientConfig& target, const std::string& topic,
                                const KeyedRecords& records, const std::string& operation);
// The same for any compacted topic (partition 0), e.g. <source>.checkpoints.internal (records of the
// progress topic are checked as above; of other topics, not).
kafka::Result<std::map<std::string, std::string>> read_latest_of(const kafka::ClientConfig& target,
                                                                 const std::string& topic,
                                                                 std::string_view prefix = "");
// Any compacted topic (partition 0), each record checked by `check` (none: every record is readable).
kafka::Result<LatestRead> read_latest_checked(const kafka::ClientConfig& target, const std::string& topic,
                                              std::string_view prefix, const RecordCheck& check);

}  // namespace mirror::state

// Taking over from MirrorMaker 2 (docs/migrate-from-mm2.md): read how far a dedicated-mode MM2 copied
// each source partition, find exactly where its last copied record sits on the target, and store that as
// mirror's progress so the engine continues there, without copying a record twice or skipping one.
//
// MM2 keeps its position in Kafka Connect's offsets topic on the target cluster (dedicated mode default
// "mm2-offsets.<source>.internal", 25 partitions): key ["MirrorSourceConnector",{"cluster":"A",
// "partition":0,"topic":"orders"}], value {"offset":N}, N being the source offset of the last record it
// copied and committed. Records MM2 sent after that commit (it stopped hard) are on the target too; they
// are found by comparing records, and mirror continues after them.
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
#include "state/skipped.h"

namespace mirror::state {

// One source partition MM2 copied: the source offset of the last record it committed.
struct Mm2Position {
  std::string topic;
  int32_t partition = 0;
  int64_t last_copied = -1;  // -1: none committed
  bool operator==(const Mm2Position&) const = default;
};

// Pure. One record of the Connect offsets topic: the position when it is MirrorSourceConnector's for
// `source_alias`; nullopt for other connectors, other clusters, tombstones (value nullopt) and values
// that are not MM2's (the reason in *why, when malformed).
std::optional<Mm2Position> decode_mm2_offset(std::string_view key, std::optional<std::string_view> value,
                                             std::string_view source_alias, std::string* why = nullptr);

// Pure. The latest task and connector states in Connect's status topic, by key
// ("status-task-MirrorSourceConnector-0" -> "RUNNING"); empty values are removed.
std::optional<std::string> decode_mm2_status(std::string_view value);

// A record reduced to what identifies it: a hash of key, value, timestamp and headers.
struct RecordPrint {
  int64_t offset = 0;
  uint64_t hash = 0;
};

// Pure. Where MM2's last copied record is on the target, and how many records MM2 wrote after it that
// are copies of the next source records (written after MM2's last commit).
//   tail: the last records of the target partition, in offset order;
//   last: the source record MM2 committed last;
//   next: the source records after it, in offset order (at least as many as tail records after the match).
struct Alignment {
  bool found = false;       // `last` is in the tail
  int64_t last_down = -1;   // its target offset
  int64_t matched = 0;      // records after it that are copies of next[0..matched)
  int64_t resume_up = -1;   // the source offset to copy next: after the last matched source record
  int64_t next_down = -1;   // the target offset after the last matched record
  int64_t unexplained = 0;  // target records after those that are no copy of the next source records
  // Every (source offset, target offset) pair known to hold the same record, ascending: the copies
  // before MM2's last record that match the source records before it (`prev`), that record, and the
  // matched ones after it. Seeds mirror's offset map, so consumer groups committed before the takeover
  // translate exactly too.
  std::vector<std::pair<int64_t, int64_t>> pairs;
};
Alignment align(const std::vector<RecordPrint>& tail, const RecordPrint& last,
                const std::vector<RecordPrint>& next, const std::vector<RecordPrint>& prev = {});
// Pure. The same for a partition MM2 copied but never committed a position for (it died before its first
// offset commit): `head` are the target partition's first records, `first` the source's, both from their
// start; found when the target holds exactly copies of the source's first records (matched of them).
Alignment align_from_start(const std::vector<RecordPrint>& head, const std::vector<RecordPrint>& first);

// Where mirror's engine continues one partition, and what was found.
struct ResumePoint {
  std::string source_topic;
  int32_t partition = 0;
  std::string target_topic;
  int64_t mm2_last_copied = -1;  // from MM2's offsets topic
  int64_t resume_up = -1;        // the next source offset mirror copies
  int64_t next_down = -1;        // the target offset mirror's first record will get
  int64_t target_end = -1;       // the target partition's end offset now
  int64_t after_commit = 0;      // records MM2 wrote after its last commit (not copied again)
  bool verified = false;         // MM2's last record was found on the target
  std::vector<std::pair<int64_t, int64_t>> pairs;  // Alignment::pairs: the offset map's first entries
  std::string note;                                // for the operator, when not verified or something is odd
};

struct Mm2Source {
  std::string flow;                 // mirror flow that continues MM2's replication
  std::string source_alias;         // MM2's cluster alias of the source
  std::string offsets_topic;        // on the target; default "mm2-offsets.<source>.internal"
  std::string status_topic;         // on the target; default "mm2-status.<source>.internal"
  std::string target_prefix;        // prepended to source topic names on the target ("A." or "")
  int64_t search_window = 100'000;  // target records searched for MM2's last copied record
};

// MM2's positions (latest readable per key) from its offsets topic on the target, and the records that
// were not what MM2 writes (skipped: the position before such a record, if any, stands).
struct Mm2PositionsRead {
  std::vector<Mm2Position> positions;
  std::vector<Skipped> skipped;
};
kafka::Result<Mm2PositionsRead> read_mm2_positions_checked(const kafka::ClientConfig& target,
                                                           const Mm2Source& mm2);
// The same without the skipped records.
kafka::Result<std::vector<Mm2Position>> read_mm2_positions(const kafka::ClientConfig& target,
                                                           const Mm2Source& mm2);
// MM2's source connector tasks and their latest states, from its status topic on the target.
kafka::Result<std::map<std::string, std::string>> read_mm2_states(const kafka::ClientConfig& target,
                                                                  const Mm2Source& mm2);

// For every position: finds MM2's last record on the target and the records after it. A position with
// last_copied -1 is a partition MM2 has no committed position for: its target partition, if it has
// records, is matched from the start (align_from_start).
kafka::Result<std::vector<ResumePoint>> find_resume_points(const kafka::ClientConfig& source,
                                                           const kafka::ClientConfig& target,
                                                           const Mm2Source& mm2,
                                                           const std::vector<Mm2Position>& positions);

// Stores the points as the flow's progress in mirror.progress.internal on the target. Refuses (writes
// nothing) when the flow already has progress for any of those partitions: mirror has run since.
kafka::Result<void> store_resume_points(const kafka::ClientConfig& target, const std::string& flow,
                                        const std::vector<ResumePoint>& points, int replication_factor,
                                        const std::string& now_utc);

}  // namespace mirror::state

// The offset map of one mirrored partition: which target offset holds which source record, exactly.
//
// Pure: no Kafka, no I/O, no clock. The engine feeds it every (source offset, target offset) pair the
// target acknowledged, and uses it to translate consumer-group offsets in both directions. The model, its
// invariants, the translation rules and the binary format are in docs/offsets.md.
//
// Invariants (every operation keeps them; decode() and apply_delta() check them on untrusted bytes):
//   0 <= start_up <= scanned_up and 0 <= start_down <= next_down;
//   runs are non-empty, strictly increasing on both sides, never adjacent on both sides at once
//   (adjacent pairs are one run), and lie within [start_up, scanned_up) x [start_down, next_down).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace mirror::offsets {

// Source offset up+i was copied to target offset down+i, for 0 <= i < length (length >= 1).
struct Run {
  int64_t up = 0;
  int64_t down = 0;
  int64_t length = 0;

  bool operator==(const Run&) const = default;
};

struct Translation {
  enum class Kind {
    exact,                // `offset` is the exact equivalent position
    not_yet,              // beyond what has been mirrored so far: ask again later, never guess
    older_than_mirrored,  // before mirroring began (or was trimmed): there is no equivalent position
  };
  Kind kind = Kind::exact;
  int64_t offset = -1;  // the translated offset when kind == exact, else -1

  bool operator==(const Translation&) const = default;
};

// "exact", "not_yet", "older_than_mirrored".
const char* kind_name(Translation::Kind kind);

class PartitionOffsetMap {
 public:
  // A map that begins at source offset 0 and target offset 0 with nothing mirrored; see begin().
  PartitionOffsetMap() = default;

  // Forgets everything: mirroring of the partition begins at source offset `start_up` (records before it
  // are never mirrored) into a target partition whose log end offset is `next_down`.
  // Fails (map unchanged) on a negative offset.
  Result<void, std::string> begin(int64_t start_up, int64_t next_down);

  // The target acknowledged source record `up` at target offset `down`. Extends the last run when the pair
  // follows it on both sides, else starts a run. Then scanned_up = up + 1 and next_down = down + 1: the
  // engine records every acknowledged pair in order, so the source offsets skipped since scanned_up held
  // no data record. Fails (map unchanged) unless up >= scanned_up and down >= next_down (so in particular
  // on up <= the last recorded source offset or down <= the last recorded target offset).
  Result<void, std::string> record(int64_t up, int64_t down);

  // Every source offset below `up` was mirrored or holds no data record (transaction marker, compacted
  // away, aborted, deleted by retention before it was read). Monotonic: fails (map unchanged) when
  // up < scanned_up; up == scanned_up is a no-op.
  Result<void, std::string> advance_scanned(int64_t up);

  // Target offsets below `down` hold no mirrored data record that is not in a run (e.g. mirror's own
  // transaction markers or aborted transactions after a restart). Optional: record() keeps next_down right
  // by itself. Monotonic like advance_scanned.
  Result<void, std::string> advance_down(int64_t down);

  // Forgets source offsets below `up` (the source's log start offset moved): drops the runs entirely below
  // it, cuts a run that straddles it, moves start_up to `up` and start_down to the target offset after the
  // last record dropped (unchanged if none was). Never moves start_up past scanned_up (`up` is clamped to
  // it); no-op when up <= start_up. Returns the number of runs dropped, so a caller holding a run index
  // (for encode_delta) can shift it.
  size_t trim_below(int64_t up);

  // Consumer-group offset ("next offset to read") on the source -> on the target:
  //   up < start_up                -> older_than_mirrored
  //   start_up <= up < scanned_up  -> exact: target offset of the first mirrored record with source offset
  //                                   >= up, or next_down when there is none
  //   up == scanned_up             -> exact: next_down
  //   up > scanned_up              -> not_yet
  // O(log runs).
  Translation translate(int64_t up) const;

  // Target offset -> source offset (failback), symmetrically:
  //   down < start_down                -> older_than_mirrored
  //   start_down <= down < next_down   -> exact: source offset of the first mirrored record with target
  //                                       offset >= down, or scanned_up when there is none
  //   down == next_down                -> exact: scanned_up
  //   down > next_down                 -> not_yet
  // O(log runs).
  Translation translate_back(int64_t down) const;

  int64_t start_up() const { return start_up_; }      // first source offset the map covers
  int64_t start_down() const { return start_down_; }  // first target offset the map covers
  int64_t scanned_up() const { return scanned_up_; }  // next source offset to read
  int64_t next_down() const { return next_down_; }    // target offset after the last mirrored record
  const std::vector<Run>& runs() const { return runs_; }

  bool operator==(const PartitionOffsetMap&) const = default;

 private:
  friend Result<PartitionOffsetMap, std::string> decode(std::string_view bytes);
  friend Result<void, std::string> apply_delta(PartitionOffsetMap& map, std::string_view bytes);

  int64_t start_up_ = 0;
  int64_t start_down_ = 0;
  int64_t scanned_up_ = 0;
  int64_t next_down_ = 0;
  std::vector<Run> runs_;
};

// The whole map (a snapshot); decode(encode(m)) == m, and encode(decode(b)) == b whenever decode succeeds.
std::string encode(const PartitionOffsetMap& map);

// Reads a snapshot written by encode(). Validates everything (version, truncation, overflow, ordering,
// trailing bytes); never trusts the input.
Result<PartitionOffsetMap, std::string> decode(std::string_view bytes);

// The runs from index `since_run_index` on (clamped to the run count), the scalars and start_up. To write
// one delta per progress commit, remember i = max(runs().size(), 1) - 1 after each commit and pass it next
// time: the last run may have grown since, so it is sent again (a few bytes), and apply_delta skips the
// pairs it already has. After trim_below, subtract the number of runs it dropped (not below 0).
std::string encode_delta(const PartitionOffsetMap& map, size_t since_run_index);

// Applies a delta from encode_delta() (or a snapshot from encode()) to `map`: appends the new pairs,
// advances scanned_up and next_down, and trims to the sender's start. Idempotent: re-applying a delta, or
// an older one, changes nothing. Fails, leaving `map` unchanged, on invalid bytes, when the delta does not
// follow the map (it starts after map.scanned_up() and not at the sender's start_up: a delta is missing),
// or when the delta and the map disagree (about a source offset both cover, or about the start).
Result<void, std::string> apply_delta(PartitionOffsetMap& map, std::string_view bytes);

}  // namespace mirror::offsets

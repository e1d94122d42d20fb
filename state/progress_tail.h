// Records mirror wrote to a target partition after its last stored progress: an engine that stopped
// without storing it (killed, or its lease ended by `mirror failover` or by expiry) leaves them behind.
// They are copies of the source records after the stored progress, in order (one producer, one target
// partition per source partition), so comparing records finds them again. The progress and the offset
// map then cover them: a failover counts them as mirrored and translates groups through them, and the
// next engine continues after them instead of writing them twice. docs/engine.md, "Unstored tail".
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "kafka/client_config.h"
#include "kafka/error.h"
#include "offsets/offset_map.h"
#include "state/mm2_progress.h"

namespace mirror::state {

struct TailMatch {
  int64_t matched = 0;      // target records that are copies of the next source records, in order
  int64_t unexplained = 0;  // target records after those (copies of nothing expected: left alone)
  std::vector<std::pair<int64_t, int64_t>> pairs;  // (source offset, target offset) of the matched ones
};

// Pure. `target_after`: the target partition's records from the stored next_down on; `source_after`: the
// source partition's records from the stored scanned_up on (as the engine reads them: read_committed).
// The longest common prefix; the first record that differs ends the match.
TailMatch match_tail(const std::vector<RecordPrint>& target_after,
                     const std::vector<RecordPrint>& source_after);

struct TailRequest {
  std::string source_topic;
  std::string target_topic;
  int32_t partition = 0;
  int64_t target_end = 0;   // the target partition's end offset now
  int64_t limit = 100'000;  // at most this many target records are compared (more: nothing matched)
};

// Reads both partitions after `map` (target from map.next_down() to target_end, source from
// map.scanned_up()), and records every matched pair in `map`. Nothing to read (target_end <=
// next_down) matches nothing.
kafka::Result<TailMatch> extend_by_tail(const kafka::ClientConfig& source, const kafka::ClientConfig& target,
                                        const TailRequest& request, offsets::PartitionOffsetMap& map);

}  // namespace mirror::state

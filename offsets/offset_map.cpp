#include "offsets/offset_map.h"

#include <algorithm>
#include <limits>
#include <span>

namespace mirror::offsets {
namespace {

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

// The binary format (docs/offsets.md, "Binary format").
constexpr uint8_t kFormatVersion = 1;
constexpr uint8_t kSnapshot = 1;
constexpr uint8_t kDelta = 2;
// Each run takes at least three bytes (three varints): bounds the run count a header may claim.
constexpr size_t kMinRunBytes = 3;

int64_t end_up(const Run& r) { return r.up + r.length; }
int64_t end_down(const Run& r) { return r.down + r.length; }

Translation exact(int64_t offset) { return {Translation::Kind::exact, offset}; }
Translation not_yet() { return {Translation::Kind::not_yet, -1}; }
Translation older() { return {Translation::Kind::older_than_mirrored, -1}; }

std::string str(int64_t v) { return std::to_string(v); }

Failure<std::string> error(const std::string& what) { return fail("offset map: " + what); }

// ---- encoding ----

// Unsigned LEB128: 7 bits per byte, least significant group first, high bit set on all but the last byte.
void put_varint(std::string& out, int64_t value) {
  auto v = static_cast<uint64_t>(value);
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

// The common layout of snapshots and deltas: runs are encoded against the end of the previous one,
// starting from (base_up, base_down); a snapshot's base is its start.
std::string encode_batch(uint8_t kind, const PartitionOffsetMap& map, int64_t base_up, int64_t base_down,
                         std::span<const Run> runs) {
  std::string out;
  out.reserve(2 + 6 * 9 + runs.size() * 4);
  out.push_back(static_cast<char>(kFormatVersion));
  out.push_back(static_cast<char>(kind));
  put_varint(out, map.start_up());
  put_varint(out, map.start_down());
  put_varint(out, base_up - map.start_up());
  put_varint(out, base_down - map.start_down());
  put_varint(out, static_cast<int64_t>(runs.size()));
  int64_t prev_up = base_up;
  int64_t prev_down = base_down;
  for (const Run& r : runs) {
    put_varint(out, r.up - prev_up);
    put_varint(out, r.down - prev_down);
    put_varint(out, r.length - 1);
    prev_up = end_up(r);
    prev_down = end_down(r);
  }
  put_varint(out, map.scanned_up() - prev_up);
  put_varint(out, map.next_down() - prev_down);
  return out;
}

// ---- decoding ----

struct Batch {
  uint8_t kind = 0;
  int64_t start_up = 0;
  int64_t start_down = 0;
  int64_t base_up = 0;
  int64_t base_down = 0;
  std::vector<Run> runs;
  int64_t scanned_up = 0;
  int64_t next_down = 0;
};

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}

  bool byte(uint8_t& out, const char* what) {
    if (pos_ >= in_.size()) return truncated(what);
    out = static_cast<uint8_t>(in_[pos_++]);
    return true;
  }

  // One canonical (shortest form) unsigned LEB128 varint of at most 63 bits, i.e. in [0, INT64_MAX].
  bool varint(int64_t& out, const char* what) {
    const size_t at = pos_;
    uint64_t v = 0;
    for (int i = 0;; ++i) {
      if (pos_ >= in_.size()) return truncated(what);
      // Nine groups of 7 bits hold every non-negative int64; a tenth byte is always out of range.
      if (i == 9)
        return failed(std::string(what) + ": varint at byte " + std::to_string(at) + " exceeds 63 bits");
      const auto b = static_cast<uint8_t>(in_[pos_++]);
      v |= static_cast<uint64_t>(b & 0x7f) << (7 * i);
      if ((b & 0x80) == 0) {
        if (b == 0 && i > 0) {
          return failed(std::string(what) + ": varint at byte " + std::to_string(at) +
                        " is not in shortest form");
        }
        out = static_cast<int64_t>(v);
        return true;
      }
    }
  }

  size_t remaining() const { return in_.size() - pos_; }
  size_t position() const { return pos_; }
  const std::string& error() const { return error_; }

  bool failed(std::string what) {
    error_ = std::move(what);
    return false;
  }

 private:
  bool truncated(const char* what) {
    return failed("truncated: " + std::string(what) + " missing at byte " + std::to_string(pos_));
  }

  std::string_view in_;
  size_t pos_ = 0;
  std::string error_;
};

// a + b for non-negative a and b, failing instead of overflowing.
bool add(Reader& r, int64_t a, int64_t b, int64_t& out, const std::string& what) {
  if (b > kMax - a) return r.failed(what + " overflows a 64-bit offset");
  out = a + b;
  return true;
}

Result<Batch, std::string> decode_batch(std::string_view bytes) {
  Reader r(bytes);
  Batch b;
  uint8_t version = 0;
  if (!r.byte(version, "format version")) return error(r.error());
  if (version != kFormatVersion) {
    return error("unknown format version " + std::to_string(version) + " (this mirror reads version " +
                 std::to_string(kFormatVersion) + ")");
  }
  if (!r.byte(b.kind, "kind")) return error(r.error());
  if (b.kind != kSnapshot && b.kind != kDelta) return error("unknown kind " + std::to_string(b.kind));

  int64_t base_gap_up = 0;
  int64_t base_gap_down = 0;
  int64_t count = 0;
  if (!r.varint(b.start_up, "start_up") || !r.varint(b.start_down, "start_down") ||
      !r.varint(base_gap_up, "base_up") || !add(r, b.start_up, base_gap_up, b.base_up, "base_up") ||
      !r.varint(base_gap_down, "base_down") ||
      !add(r, b.start_down, base_gap_down, b.base_down, "base_down") || !r.varint(count, "run count")) {
    return error(r.error());
  }
  if (static_cast<uint64_t>(count) > r.remaining() / kMinRunBytes) {
    return error("run count " + str(count) + " does not fit in the " + std::to_string(r.remaining()) +
                 " remaining bytes");
  }
  b.runs.reserve(static_cast<size_t>(count));
  int64_t prev_up = b.base_up;
  int64_t prev_down = b.base_down;
  for (int64_t i = 0; i < count; ++i) {
    const std::string name = "run " + str(i);
    int64_t gap_up = 0;
    int64_t gap_down = 0;
    int64_t extra = 0;
    Run run;
    if (!r.varint(gap_up, "run source gap") || !r.varint(gap_down, "run target gap") ||
        !r.varint(extra, "run length") || !add(r, prev_up, gap_up, run.up, name + " source offset") ||
        !add(r, prev_down, gap_down, run.down, name + " target offset") ||
        !add(r, extra, 1, run.length, name + " length") ||
        !add(r, run.up, run.length, prev_up, name + " source end") ||
        !add(r, run.down, run.length, prev_down, name + " target end")) {
      return error(r.error());
    }
    if (i > 0 && gap_up == 0 && gap_down == 0) {
      return error(name + " continues the previous run on both sides (runs must be merged)");
    }
    b.runs.push_back(run);
  }
  int64_t scanned_gap = 0;
  int64_t next_gap = 0;
  if (!r.varint(scanned_gap, "scanned_up") || !add(r, prev_up, scanned_gap, b.scanned_up, "scanned_up") ||
      !r.varint(next_gap, "next_down") || !add(r, prev_down, next_gap, b.next_down, "next_down")) {
    return error(r.error());
  }
  if (r.remaining() != 0) {
    return error(std::to_string(r.remaining()) + " unexpected bytes after the end, at byte " +
                 std::to_string(r.position()));
  }
  return b;
}

// The runs restricted to source offsets [lo, hi): cut at both ends.
std::vector<Run> clip(std::span<const Run> runs, int64_t lo, int64_t hi) {
  std::vector<Run> out;
  auto it = std::partition_point(runs.begin(), runs.end(), [&](const Run& r) { return end_up(r) <= lo; });
  for (; it != runs.end() && it->up < hi; ++it) {
    Run r = *it;
    if (r.up < lo) {
      const int64_t cut = lo - r.up;
      r.up += cut;
      r.down += cut;
      r.length -= cut;
    }
    r.length = std::min(r.length, hi - r.up);
    out.push_back(r);
  }
  return out;
}

// The target offset after the last mirrored record with a source offset below `up`, or `start_down` when
// there is none: where a map trimmed to `up` begins on the target, whatever is mirrored later.
int64_t down_after_records_below(std::span<const Run> runs, int64_t start_down, int64_t up) {
  const auto it = std::partition_point(runs.begin(), runs.end(), [&](const Run& r) { return r.up < up; });
  if (it == runs.begin()) return start_down;
  const Run& r = *(it - 1);
  return r.down + std::min(r.length, up - r.up);
}

}  // namespace

const char* kind_name(Translation::Kind kind) {
  switch (kind) {
    case Translation::Kind::exact: return "exact";
    case Translation::Kind::not_yet: return "not_yet";
    case Translation::Kind::older_than_mirrored: return "older_than_mirrored";
  }
  return "unknown";
}

// ---- PartitionOffsetMap ----

Result<void, std::string> PartitionOffsetMap::begin(int64_t start_up, int64_t next_down) {
  if (start_up < 0 || next_down < 0) {
    return error("cannot begin at source offset " + str(start_up) + ", target offset " + str(next_down));
  }
  *this = PartitionOffsetMap();
  start_up_ = scanned_up_ = start_up;
  start_down_ = next_down_ = next_down;
  return {};
}

Result<void, std::string> PartitionOffsetMap::record(int64_t up, int64_t down) {
  if (up < scanned_up_) {
    return error("source offset " + str(up) +
                 " is out of order: the map already covers source offsets below " + str(scanned_up_));
  }
  if (down < next_down_) {
    return error("target offset " + str(down) +
                 " is out of order: the map already covers target offsets below " + str(next_down_));
  }
  if (up == kMax || down == kMax) return error("offset " + str(kMax) + " cannot be recorded");
  if (!runs_.empty() && end_up(runs_.back()) == up && end_down(runs_.back()) == down) {
    ++runs_.back().length;
  } else {
    runs_.push_back({up, down, 1});
  }
  scanned_up_ = up + 1;
  next_down_ = down + 1;
  return {};
}

Result<void, std::string> PartitionOffsetMap::advance_scanned(int64_t up) {
  if (up < scanned_up_) {
    return error("scanned source offset cannot move back from " + str(scanned_up_) + " to " + str(up));
  }
  scanned_up_ = up;
  return {};
}

Result<void, std::string> PartitionOffsetMap::advance_down(int64_t down) {
  if (down < next_down_) {
    return error("next target offset cannot move back from " + str(next_down_) + " to " + str(down));
  }
  next_down_ = down;
  return {};
}

size_t PartitionOffsetMap::trim_below(int64_t up) {
  up = std::min(up, scanned_up_);
  if (up <= start_up_) return 0;
  const int64_t new_start_down = down_after_records_below(runs_, start_down_, up);
  const auto first =
      std::partition_point(runs_.begin(), runs_.end(), [&](const Run& r) { return end_up(r) <= up; });
  const auto dropped = static_cast<size_t>(first - runs_.begin());
  runs_.erase(runs_.begin(), first);
  if (!runs_.empty() && runs_.front().up < up) {
    Run& r = runs_.front();
    const int64_t cut = up - r.up;
    r.up += cut;
    r.down += cut;
    r.length -= cut;
  }
  start_up_ = up;
  start_down_ = new_start_down;
  return dropped;
}

Translation PartitionOffsetMap::translate(int64_t up) const {
  if (up < start_up_) return older();
  if (up > scanned_up_) return not_yet();
  if (up == scanned_up_) return exact(next_down_);
  // The first run that ends after `up`: it contains `up`, or is the first mirrored record after it.
  const auto it =
      std::partition_point(runs_.begin(), runs_.end(), [&](const Run& r) { return end_up(r) <= up; });
  if (it == runs_.end()) return exact(next_down_);
  return exact(it->down + std::max<int64_t>(0, up - it->up));
}

Translation PartitionOffsetMap::translate_back(int64_t down) const {
  if (down < start_down_) return older();
  if (down > next_down_) return not_yet();
  if (down == next_down_) return exact(scanned_up_);
  const auto it =
      std::partition_point(runs_.begin(), runs_.end(), [&](const Run& r) { return end_down(r) <= down; });
  if (it == runs_.end()) return exact(scanned_up_);
  return exact(it->up + std::max<int64_t>(0, down - it->down));
}

// ---- storage ----

std::string encode(const PartitionOffsetMap& map) {
  return encode_batch(kSnapshot, map, map.start_up(), map.start_down(), map.runs());
}

Result<PartitionOffsetMap, std::string> decode(std::string_view bytes) {
  auto batch = decode_batch(bytes);
  if (!batch) return fail(std::move(batch).error());
  Batch& b = *batch;
  if (b.kind != kSnapshot) return error("expected a snapshot (kind 1), got kind " + std::to_string(b.kind));
  if (b.base_up != b.start_up || b.base_down != b.start_down) {
    return error("a snapshot's runs must be encoded from its start (base gaps 0)");
  }
  PartitionOffsetMap map;
  map.start_up_ = b.start_up;
  map.start_down_ = b.start_down;
  map.scanned_up_ = b.scanned_up;
  map.next_down_ = b.next_down;
  map.runs_ = std::move(b.runs);
  return map;
}

std::string encode_delta(const PartitionOffsetMap& map, size_t since_run_index) {
  const std::vector<Run>& runs = map.runs();
  const size_t since = std::min(since_run_index, runs.size());
  const int64_t base_up = since == 0 ? map.start_up() : end_up(runs[since - 1]);
  const int64_t base_down = since == 0 ? map.start_down() : end_down(runs[since - 1]);
  return encode_batch(kDelta, map, base_up, base_down, std::span(runs).subspan(since));
}

Result<void, std::string> apply_delta(PartitionOffsetMap& map, std::string_view bytes) {
  auto batch = decode_batch(bytes);
  if (!batch) return fail(std::move(batch).error());
  const Batch& b = *batch;

  // The delta speaks for source offsets [base_up, b.scanned_up): its runs are the mirrored records there,
  // everything else holds no data. It must continue what the map covers, or a delta is missing; unless
  // it starts at the sender's start (base_up == start_up): then whatever the map lacks below it is
  // trimmed away anyway.
  if (b.base_up > map.scanned_up_ && b.base_up != b.start_up) {
    return error("the delta covers source offsets from " + str(b.base_up) + " but the map stops at " +
                 str(map.scanned_up_) + " (a delta is missing)");
  }
  // Where both speak, they must agree pair for pair (both run lists are canonical, so clipped lists compare).
  const int64_t lo = std::max(b.base_up, map.start_up_);
  const int64_t hi = std::min(b.scanned_up, map.scanned_up_);
  if (lo < hi && clip(map.runs_, lo, hi) != clip(b.runs, lo, hi)) {
    return error("the delta disagrees with the map about source offsets [" + str(lo) + ", " + str(hi) + ")");
  }
  // The pairs the map does not have yet: those at or after its scanned_up.
  const std::vector<Run> fresh = clip(b.runs, map.scanned_up_, kMax);
  if (!fresh.empty() && fresh.front().down < map.next_down_) {
    return error("the delta maps source offset " + str(fresh.front().up) + " to target offset " +
                 str(fresh.front().down) + ", below the map's next target offset " + str(map.next_down_));
  }
  const int64_t scanned_up = std::max(map.scanned_up_, b.scanned_up);
  const int64_t next_down = std::max(map.next_down_, b.next_down);
  // The sender's start: the same as the map's, or later (the sender trimmed; fresh pairs are all at or
  // after b.start_up). A later start_down must lie between the map's records below b.start_up and its
  // records (or next_down) from there on.
  if (b.start_up == map.start_up_ && b.start_down != map.start_down_) {
    return error("the delta starts at target offset " + str(b.start_down) + ", the map at " +
                 str(map.start_down_));
  }
  if (b.start_up > map.start_up_) {
    const int64_t floor = down_after_records_below(map.runs_, map.start_down_, b.start_up);
    const auto after = std::partition_point(map.runs_.begin(), map.runs_.end(),
                                            [&](const Run& r) { return end_up(r) <= b.start_up; });
    const int64_t ceiling = after != map.runs_.end()
                                ? after->down + std::max<int64_t>(0, b.start_up - after->up)
                            : !fresh.empty() ? fresh.front().down
                                             : next_down;
    if (b.start_down < floor || b.start_down > ceiling) {
      return error("the delta starts at target offset " + str(b.start_down) + ", outside [" + str(floor) +
                   ", " + str(ceiling) + "] where the map would start at source offset " + str(b.start_up));
    }
  }

  // Validated: from here on nothing fails.
  for (size_t i = 0; i < fresh.size(); ++i) {
    const Run& r = fresh[i];
    if (i == 0 && !map.runs_.empty() && end_up(map.runs_.back()) == r.up &&
        end_down(map.runs_.back()) == r.down) {
      map.runs_.back().length += r.length;
    } else {
      map.runs_.push_back(r);
    }
  }
  map.scanned_up_ = scanned_up;
  map.next_down_ = next_down;
  if (b.start_up > map.start_up_) {
    map.trim_below(b.start_up);
    map.start_down_ = b.start_down;
  }
  return {};
}

}  // namespace mirror::offsets

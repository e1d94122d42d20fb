// Reading mirror's own topics safely: every record of them is untrusted input (in pull-request CI anyone
// may have written to them). Decoders are strict (checked types, bounded sizes and nesting, no defaults
// for missing fields) and readers skip a record they cannot decode, returning it as a Skipped value so
// plan and status can name it. A skipped record never stops a reader and never prints its value.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mirror::state {

// JSON values larger than this are refused before parsing (Kafka's default record size limit).
inline constexpr size_t kMaxRecordBytes = 1024 * 1024;
// Objects and arrays nested deeper than this are refused before parsing.
inline constexpr int kMaxJsonDepth = 32;
// Any one string field (names, reasons, base64 offset maps are bounded by the record size instead).
inline constexpr size_t kMaxFieldBytes = 64 * 1024;

// A record a reader could not decode and left out. Never holds the record's value.
struct Skipped {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = -1;
  std::string key;     // printable: control and non-ASCII bytes escaped, at most 200 bytes
  std::string reason;  // what is wrong with it, e.g. "field partition is not an integer"
  bool operator==(const Skipped&) const = default;
};

// "mirror.state.internal[0] offset 42 (key flow/a-to-b): field revision is missing"
std::string describe(const Skipped& s);
// A key made safe to show: escapes, truncation; "(null)" for a missing key.
std::string printable_key(std::optional<std::string_view> key);

}  // namespace mirror::state

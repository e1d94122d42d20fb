// One fuzz input through every decoder of mirror's own topics (shared by the libFuzzer target
// state_fuzz.cpp and the replay test replay_test.cpp). The input is records separated by NUL bytes:
// key, value, key, value, ... (a lone last part is a value with an empty key). Each record goes through
// every decoder on its own, and all of them, in order, through the readers' folds. Besides "no crash, no
// hang, no sanitizer report", it checks invariants and aborts on a violation:
//   - whatever decodes re-encodes to something that decodes again (mirror can write what it read);
//   - a reason never quotes the value (a skipped record's value is never printed; never_quotes);
//   - a fold never keeps a record it could not decode.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "offsets/mm2_format.h"
#include "offsets/offset_map.h"
#include "state/lease.h"
#include "state/mm2_progress.h"
#include "state/progress.h"
#include "state/state.h"

namespace mirror::state::fuzz {

inline void require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "state fuzz: invariant violated: %s\n", what);
    std::abort();
  }
}

// A reason may name a field, never carry the value. Reasons are mirror's own words, numbers and names,
// which never contain a quote, a brace, a backslash or a byte outside printable ASCII: so an 8-byte
// window of the value that holds one of those and appears in the reason was copied from the value.
inline void never_quotes(const std::string& why, std::string_view value) {
  if (value.size() < 8 || why.size() < 8) return;
  auto telltale = [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return c == '"' || c == '{' || c == '}' || c == '\\' || u < 0x20 || u > 0x7e;
  };
  for (size_t i = 0; i + 8 <= value.size() && i < 4096; ++i) {
    const std::string_view w = value.substr(i, 8);
    bool marked = false;
    for (char c : w) marked = marked || telltale(c);
    if (marked) require(why.find(w) == std::string::npos, "a reason quotes the record's value");
  }
}

inline void one_record(std::string_view key, std::string_view value) {
  std::string why;
  if (auto r = from_json(value, &why)) {
    require(from_json(to_json(*r)).has_value(), "an applied record does not decode after re-encoding");
  } else {
    never_quotes(why, value);
  }
  why.clear();
  if (auto p = progress_from_json(value, &why)) {
    require(progress_from_json(to_json(*p)).has_value(), "progress does not decode after re-encoding");
  } else {
    never_quotes(why, value);
  }
  why.clear();
  if (auto s = status_from_json(value, &why)) {
    require(status_from_json(to_json(*s)).has_value(), "a status does not decode after re-encoding");
  } else {
    never_quotes(why, value);
  }
  never_quotes(check_progress_record(key, value), value);
  why.clear();
  if (auto e = decode_event(key, value, 1'700'000'000'000, 7, &why)) {
    auto again = decode_event(key, encode_event(*e), e->ts_ms, e->offset);
    require(again.has_value() && again->id == e->id && again->op == e->op,
            "a lease event does not round-trip");
  } else {
    never_quotes(why, value);
  }
  why.clear();
  (void)decode_mm2_offset(key, value, "A", &why);
  never_quotes(why, value);
  (void)decode_mm2_offset(key, std::nullopt, "A");
  (void)decode_mm2_status(value);
  if (auto m = offsets::decode(value)) {
    require(offsets::encode(*m) == value, "an offset map does not re-encode to its bytes");
  }
  (void)offsets::decode_checkpoint(key, value);
  (void)offsets::decode_heartbeat(key, value);
}

inline void fuzz_one(std::string_view data) {
  std::vector<std::string_view> parts;
  for (size_t start = 0;;) {
    const size_t nul = data.find('\0', start);
    parts.push_back(data.substr(start, nul == std::string_view::npos ? std::string_view::npos : nul - start));
    if (nul == std::string_view::npos) break;
    start = nul + 1;
  }
  if (parts.size() % 2 == 1) parts.insert(parts.end() - 1, std::string_view());
  AppliedFold applied;
  LatestFold progress(kProgressTopic, "", check_progress_record);
  LeaseFolder lease("apply");
  int64_t ts = 1'700'000'000'000;
  for (size_t i = 0; i + 1 < parts.size(); i += 2) {
    const std::string_view key = parts[i], value = parts[i + 1];
    const auto offset = static_cast<int64_t>(i / 2);
    one_record(key, value);
    // An empty value stands for a tombstone in the folds.
    const std::optional<std::string_view> v = value.empty() ? std::nullopt : std::optional(value);
    applied.add(key, v, 0, offset);
    progress.add(key, v, 0, offset);
    std::string why = "the value is null";
    auto e = v ? decode_event(key, *v, ts, offset, &why) : std::nullopt;
    lease.apply(e ? *e : unreadable_event(key, ts, offset, why));
    ts += 1'000 * static_cast<int64_t>(value.size() % 97);
  }
  const AppliedRead a = applied.result();
  for (const auto& [flow, r] : a.records)
    require(from_json(to_json(r)).has_value(), "fold kept an unreadable record");
  for (const auto& s : a.skipped) (void)describe(s);
  const LatestRead l = progress.result();
  for (const auto& [k, v] : l.values)
    require(check_progress_record(k, v).empty(), "fold kept an unreadable record");
  for (const auto& s : l.skipped) (void)describe(s);
  if (lease.holder()) (void)describe(*lease.holder());
}

}  // namespace mirror::state::fuzz

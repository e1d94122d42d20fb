// Strict JSON decoding for the records of mirror's own topics (private to state/; state/skipped.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "state/skipped.h"

namespace mirror::state::record {

// Not ordered_json: its objects find keys linearly, quadratic on a hostile object of many keys.
using Json = nlohmann::json;

// Parses `text` as one JSON value within kMaxRecordBytes and kMaxJsonDepth. On failure: nullopt and
// the reason in why (never quoting the text).
std::optional<Json> parse_bounded(std::string_view text, std::string& why);
// Parses `text` as one JSON object within kMaxRecordBytes and kMaxJsonDepth. On failure: nullopt and
// the reason in why (never quoting the text).
std::optional<Json> parse_object(std::string_view text, std::string& why);

// Checked field access: each returns false and sets why when the field is missing, of another type, or
// out of bounds.
bool get(const Json& o, const char* name, std::string& out, std::string& why, size_t max = kMaxFieldBytes);
bool get(const Json& o, const char* name, int64_t& out, std::string& why, int64_t min = INT64_MIN,
         int64_t max = INT64_MAX);
bool get(const Json& o, const char* name, int32_t& out, std::string& why, int32_t min = INT32_MIN,
         int32_t max = INT32_MAX);
bool get(const Json& o, const char* name, uint64_t& out, std::string& why);
bool get(const Json& o, const char* name, double& out, std::string& why);
bool get(const Json& o, const char* name, std::vector<std::string>& out, std::string& why);
// The object or array field itself.
const Json* object(const Json& o, const char* name, std::string& why);
const Json* array(const Json& o, const char* name, std::string& why);
// "format" must be present and equal `format`.
bool format_is(const Json& o, int64_t format, std::string& why);
}  // namespace mirror::state::record

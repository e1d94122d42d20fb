#include "state/json_record.h"

#include <cmath>
#include <cstdio>

namespace mirror::state {

std::string printable_key(std::optional<std::string_view> key) {
  if (!key) return "(null)";
  constexpr size_t kMax = 200;
  std::string out;
  for (unsigned char c : *key) {
    if (out.size() >= kMax) {
      out += "...";
      break;
    }
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  return out;
}

std::string describe(const Skipped& s) {
  return s.topic + "[" + std::to_string(s.partition) + "] offset " + std::to_string(s.offset) + " (key " +
         s.key + "): " + s.reason;
}

namespace record {

namespace {
// Depth of the deepest object/array, counted without parsing (strings skipped); stops early past limit.
bool too_deep(std::string_view text) {
  int depth = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > kMaxJsonDepth) return true;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return false;
}

std::string field(const char* name) { return std::string("field ") + name; }
}  // namespace

std::optional<Json> parse_object(std::string_view text, std::string& why) {
  auto j = parse_bounded(text, why);
  if (j && !j->is_object()) {
    why = "the value is not a JSON object";
    return std::nullopt;
  }
  return j;
}

std::optional<Json> parse_bounded(std::string_view text, std::string& why) {
  if (text.size() > kMaxRecordBytes) {
    why = "the value is " + std::to_string(text.size()) + " bytes, more than the " +
          std::to_string(kMaxRecordBytes) + " a record of mirror's may have";
    return std::nullopt;
  }
  if (too_deep(text)) {
    why = "the value nests objects or arrays deeper than " + std::to_string(kMaxJsonDepth) + " levels";
    return std::nullopt;
  }
  Json j;
  try {
    j = Json::parse(text);
  } catch (const Json::parse_error& e) {
    // e.what() quotes the bytes it read: say only where it failed.
    why = "the value is not JSON (invalid at byte " + std::to_string(e.byte) + ")";
    return std::nullopt;
  } catch (const Json::exception&) {
    why = "the value is not JSON";
    return std::nullopt;
  }
  return j;
}

namespace {
const Json* find(const Json& o, const char* name, std::string& why) {
  auto it = o.find(name);
  if (it == o.end()) {
    why = field(name) + " is missing";
    return nullptr;
  }
  return &*it;
}

bool integer(const Json& o, const char* name, int64_t& out, std::string& why, int64_t min, int64_t max) {
  const Json* v = find(o, name, why);
  if (!v) return false;
  if (v->is_number_unsigned()) {
    const auto u = v->get<uint64_t>();
    if (u > static_cast<uint64_t>(INT64_MAX)) {
      why = field(name) + " is out of range";
      return false;
    }
    out = static_cast<int64_t>(u);
  } else if (v->is_number_integer()) {
    out = v->get<int64_t>();
  } else {
    why = field(name) + " is not an integer";
    return false;
  }
  if (out < min || out > max) {
    why = field(name) + " is out of range (" + std::to_string(out) + ")";
    return false;
  }
  return true;
}
}  // namespace

bool get(const Json& o, const char* name, std::string& out, std::string& why, size_t max) {
  const Json* v = find(o, name, why);
  if (!v) return false;
  if (!v->is_string()) {
    why = field(name) + " is not a string";
    return false;
  }
  const auto& s = v->get_ref<const std::string&>();
  if (s.size() > max) {
    why = field(name) + " is longer than " + std::to_string(max) + " bytes";
    return false;
  }
  out = s;
  return true;
}

bool get(const Json& o, const char* name, int64_t& out, std::string& why, int64_t min, int64_t max) {
  return integer(o, name, out, why, min, max);
}

bool get(const Json& o, const char* name, int32_t& out, std::string& why, int32_t min, int32_t max) {
  int64_t v = 0;
  if (!integer(o, name, v, why, min, max)) return false;
  out = static_cast<int32_t>(v);
  return true;
}

bool get(const Json& o, const char* name, uint64_t& out, std::string& why) {
  const Json* v = find(o, name, why);
  if (!v) return false;
  if (v->is_number_unsigned()) {
    out = v->get<uint64_t>();
    return true;
  }
  if (v->is_number_integer() && v->get<int64_t>() >= 0) {
    out = static_cast<uint64_t>(v->get<int64_t>());
    return true;
  }
  why = field(name) + " is not a non-negative integer";
  return false;
}

bool get(const Json& o, const char* name, double& out, std::string& why) {
  const Json* v = find(o, name, why);
  if (!v) return false;
  if (!v->is_number() || !std::isfinite(v->get<double>())) {
    why = field(name) + " is not a number";
    return false;
  }
  out = v->get<double>();
  return true;
}

bool get(const Json& o, const char* name, std::vector<std::string>& out, std::string& why) {
  const Json* a = array(o, name, why);
  if (!a) return false;
  out.clear();
  out.reserve(a->size());
  for (const auto& e : *a) {
    if (!e.is_string() || e.get_ref<const std::string&>().size() > kMaxFieldBytes) {
      why = field(name) + " holds something else than strings";
      return false;
    }
    out.push_back(e.get<std::string>());
  }
  return true;
}

const Json* object(const Json& o, const char* name, std::string& why) {
  const Json* v = find(o, name, why);
  if (v && !v->is_object()) {
    why = field(name) + " is not an object";
    return nullptr;
  }
  return v;
}

const Json* array(const Json& o, const char* name, std::string& why) {
  const Json* v = find(o, name, why);
  if (v && !v->is_array()) {
    why = field(name) + " is not an array";
    return nullptr;
  }
  return v;
}

bool format_is(const Json& o, int64_t format, std::string& why) {
  int64_t f = 0;
  if (!get(o, "format", f, why)) return false;
  if (f != format) {
    why = "format " + std::to_string(f) + " is not one this mirror reads (a newer mirror wrote it?)";
    return false;
  }
  return true;
}

}  // namespace record
}  // namespace mirror::state

#include "offsets/mm2_format.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>

namespace mirror::offsets {
namespace {

// Kafka's topic name rules (org.apache.kafka.common.internals.Topic.validate).
constexpr size_t kMaxTopicBytes = 249;

std::string str(int64_t v) { return std::to_string(v); }

// ---- checks shared by encoders and decoders ----

// Strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF. Java would decode invalid
// bytes to U+FFFD, so a group name that is not valid UTF-8 could never match the one a client asks for.
bool valid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto b = static_cast<uint8_t>(s[i]);
    size_t extra = 0;
    uint32_t cp = 0;
    if (b < 0x80) {
      ++i;
      continue;
    } else if (b >= 0xc2 && b <= 0xdf) {
      extra = 1, cp = b & 0x1f;
    } else if (b >= 0xe0 && b <= 0xef) {
      extra = 2, cp = b & 0x0f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      extra = 3, cp = b & 0x07;
    } else {
      return false;  // a continuation byte, 0xc0/0xc1 (always overlong) or 0xf5..0xff
    }
    if (s.size() - i <= extra) return false;
    for (size_t k = 1; k <= extra; ++k) {
      const auto c = static_cast<uint8_t>(s[i + k]);
      if ((c & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (c & 0x3f);
    }
    const uint32_t min = extra == 1 ? 0x80 : extra == 2 ? 0x800 : 0x10000;
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += extra + 1;
  }
  return true;
}

Result<void, std::string> check_string(std::string_view field, std::string_view s) {
  if (s.size() > kMaxStringBytes) {
    return fail(std::string(field) + " is " + str(static_cast<int64_t>(s.size())) +
                " bytes long; the format holds at most " + str(kMaxStringBytes));
  }
  if (!valid_utf8(s)) return fail(std::string(field) + " is not valid UTF-8");
  return {};
}

Result<void, std::string> check_topic(std::string_view topic) {
  if (topic.empty()) return fail(std::string("topic is empty"));
  if (topic == "." || topic == "..") return fail("topic '" + std::string(topic) + "' is not a legal name");
  if (topic.size() > kMaxTopicBytes) {
    return fail("topic is " + str(static_cast<int64_t>(topic.size())) + " bytes long; Kafka allows " +
                str(kMaxTopicBytes));
  }
  for (size_t i = 0; i < topic.size(); ++i) {
    const char ch = topic[i];
    const bool legal = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                       ch == '.' || ch == '_' || ch == '-';
    if (!legal) {
      // Not echoed: the name may come from untrusted bytes.
      char hex[5];
      std::snprintf(hex, sizeof hex, "0x%02x", static_cast<unsigned>(static_cast<uint8_t>(ch)));
      return fail("topic has byte " + std::string(hex) + " at index " + str(static_cast<int64_t>(i)) +
                  ", which Kafka does not allow in a topic name (legal: a-z A-Z 0-9 . _ -)");
    }
  }
  return {};
}

Result<void, std::string> check_non_negative(std::string_view field, int64_t v) {
  if (v < 0) return fail(std::string(field) + " is negative (" + str(v) + ")");
  return {};
}

Result<void, std::string> check_alias(std::string_view field, std::string_view alias) {
  if (alias.empty()) return fail(std::string(field) + " is empty");
  return check_string(field, alias);
}

// The fields of the record key, then of the value: decode reports which half is wrong.
Result<void, std::string> check_checkpoint_key(const Checkpoint& c) {
  if (auto r = check_string("group", c.group); !r.ok()) return r;
  if (auto r = check_topic(c.topic); !r.ok()) return r;
  return check_non_negative("partition", c.partition);
}

Result<void, std::string> check_checkpoint_value(const Checkpoint& c) {
  if (auto r = check_non_negative("upstream offset", c.upstream_offset); !r.ok()) return r;
  if (auto r = check_non_negative("downstream offset", c.downstream_offset); !r.ok()) return r;
  return check_string("metadata", c.metadata);
}

// Encoding an unchecked value would write a record every Java reader chokes on: stop loudly instead.
void require(const Result<void, std::string>& checked, const char* what) {
  if (checked.ok()) return;
  std::fprintf(stderr, "mirror: internal error: encoding an invalid MM2 %s: %s\n", what,
               checked.error().c_str());
  std::abort();
}

// ---- encoding ----

void put_be(std::string& out, uint64_t v, int bytes) {
  for (int shift = 8 * (bytes - 1); shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
}
void put_i16(std::string& out, int16_t v) { put_be(out, static_cast<uint16_t>(v), 2); }
void put_i32(std::string& out, int32_t v) { put_be(out, static_cast<uint32_t>(v), 4); }
void put_i64(std::string& out, int64_t v) { put_be(out, static_cast<uint64_t>(v), 8); }

// STRING: INT16 length, then the bytes (length <= kMaxStringBytes, checked by the caller).
void put_string(std::string& out, std::string_view s) {
  put_i16(out, static_cast<int16_t>(s.size()));
  out.append(s);
}

// ---- decoding ----

// Reads one record half (key or value) field by field; the first problem wins and names the field.
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}

  bool i16(int16_t& out, const char* field) {
    uint64_t v = 0;
    if (!be(v, 2, field)) return false;
    out = static_cast<int16_t>(static_cast<uint16_t>(v));
    return true;
  }
  bool i32(int32_t& out, const char* field) {
    uint64_t v = 0;
    if (!be(v, 4, field)) return false;
    out = static_cast<int32_t>(static_cast<uint32_t>(v));
    return true;
  }
  bool i64(int64_t& out, const char* field) {
    uint64_t v = 0;
    if (!be(v, 8, field)) return false;
    out = static_cast<int64_t>(v);
    return true;
  }

  // STRING is not nullable: a negative length (Kafka's NULLABLE_STRING uses -1 for null) is an error.
  bool string(std::string& out, const char* field) {
    const size_t at = pos_;
    int16_t length = 0;
    if (!i16(length, field)) return false;
    if (length < 0) {
      return failed("field '" + std::string(field) + "' has negative length " + str(length) + " at byte " +
                    str(static_cast<int64_t>(at)) + " (the field is not nullable)");
    }
    const auto n = static_cast<size_t>(length);
    if (n > remaining()) return truncated(field, n);
    out.assign(in_.substr(pos_, n));
    pos_ += n;
    return true;
  }

  bool at_end() {
    if (remaining() == 0) return true;
    return failed(str(static_cast<int64_t>(remaining())) +
                  " unexpected bytes after the last field, at byte " + str(static_cast<int64_t>(pos_)));
  }

  bool failed(std::string what) {
    error_ = std::move(what);
    return false;
  }
  const std::string& error() const { return error_; }

 private:
  size_t remaining() const { return in_.size() - pos_; }

  bool be(uint64_t& out, size_t bytes, const char* field) {
    if (bytes > remaining()) return truncated(field, bytes);
    out = 0;
    for (size_t i = 0; i < bytes; ++i) out = (out << 8) | static_cast<uint8_t>(in_[pos_++]);
    return true;
  }

  bool truncated(const char* field, size_t needed) {
    return failed("truncated: field '" + std::string(field) + "' needs " + str(static_cast<int64_t>(needed)) +
                  " bytes at byte " + str(static_cast<int64_t>(pos_)) + ", only " +
                  str(static_cast<int64_t>(remaining())) + " left");
  }

  std::string_view in_;
  size_t pos_ = 0;
  std::string error_;
};

Failure<std::string> error(const char* part, const std::string& what) {
  return fail(std::string(part) + ": " + what);
}

// The value header: INT16 version, which must be the one version MM2 has.
bool read_version(Reader& r) {
  int16_t version = 0;
  if (!r.i16(version, "version")) return false;
  if (version == kFormatVersion) return true;
  return r.failed("unsupported version " + str(version) + " (MirrorMaker 2 writes version " +
                  str(kFormatVersion) + ", the only one this mirror reads)");
}

}  // namespace

std::string checkpoints_topic(std::string_view source_alias) {
  return std::string(source_alias) + ".checkpoints.internal";
}

Result<void, std::string> check_checkpoint(const Checkpoint& c) {
  if (auto r = check_checkpoint_key(c); !r.ok()) return r;
  return check_checkpoint_value(c);
}

Result<void, std::string> check_heartbeat(const Heartbeat& h) {
  if (auto r = check_alias("source alias", h.source_alias); !r.ok()) return r;
  if (auto r = check_alias("target alias", h.target_alias); !r.ok()) return r;
  return check_non_negative("timestamp", h.timestamp_ms);
}

// Key: group STRING, topic STRING, partition INT32. Keys carry no version header (values do).
std::string checkpoint_key(const Checkpoint& c) {
  require(check_checkpoint(c), "checkpoint");
  std::string out;
  out.reserve(2 + c.group.size() + 2 + c.topic.size() + 4);
  put_string(out, c.group);
  put_string(out, c.topic);
  put_i32(out, c.partition);
  return out;
}

// Value: version INT16 (0), upstreamOffset INT64, offset INT64 (downstream), metadata STRING.
std::string checkpoint_value(const Checkpoint& c) {
  require(check_checkpoint(c), "checkpoint");
  std::string out;
  out.reserve(2 + 8 + 8 + 2 + c.metadata.size());
  put_i16(out, kFormatVersion);
  put_i64(out, c.upstream_offset);
  put_i64(out, c.downstream_offset);
  put_string(out, c.metadata);
  return out;
}

// Key: sourceClusterAlias STRING, targetClusterAlias STRING.
std::string heartbeat_key(const Heartbeat& h) {
  require(check_heartbeat(h), "heartbeat");
  std::string out;
  out.reserve(2 + h.source_alias.size() + 2 + h.target_alias.size());
  put_string(out, h.source_alias);
  put_string(out, h.target_alias);
  return out;
}

// Value: version INT16 (0), timestamp INT64.
std::string heartbeat_value(const Heartbeat& h) {
  require(check_heartbeat(h), "heartbeat");
  std::string out;
  out.reserve(2 + 8);
  put_i16(out, kFormatVersion);
  put_i64(out, h.timestamp_ms);
  return out;
}

Result<Checkpoint, std::string> decode_checkpoint(std::string_view key, std::string_view value) {
  Checkpoint c;
  Reader k(key);
  if (!k.string(c.group, "group") || !k.string(c.topic, "topic") || !k.i32(c.partition, "partition") ||
      !k.at_end()) {
    return error("checkpoint key", k.error());
  }
  if (auto r = check_checkpoint_key(c); !r.ok()) return error("checkpoint key", r.error());
  Reader v(value);
  if (!read_version(v) || !v.i64(c.upstream_offset, "upstreamOffset") ||
      !v.i64(c.downstream_offset, "offset") || !v.string(c.metadata, "metadata") || !v.at_end()) {
    return error("checkpoint value", v.error());
  }
  if (auto r = check_checkpoint_value(c); !r.ok()) return error("checkpoint value", r.error());
  return c;
}

Result<Heartbeat, std::string> decode_heartbeat(std::string_view key, std::string_view value) {
  Heartbeat h;
  Reader k(key);
  if (!k.string(h.source_alias, "sourceClusterAlias") || !k.string(h.target_alias, "targetClusterAlias") ||
      !k.at_end()) {
    return error("heartbeat key", k.error());
  }
  if (auto r = check_alias("source alias", h.source_alias); !r.ok()) return error("heartbeat key", r.error());
  if (auto r = check_alias("target alias", h.target_alias); !r.ok()) return error("heartbeat key", r.error());
  Reader v(value);
  if (!read_version(v) || !v.i64(h.timestamp_ms, "timestamp") || !v.at_end()) {
    return error("heartbeat value", v.error());
  }
  if (auto r = check_non_negative("timestamp", h.timestamp_ms); !r.ok()) {
    return error("heartbeat value", r.error());
  }
  return h;
}

}  // namespace mirror::offsets

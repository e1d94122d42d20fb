// MirrorMaker 2's checkpoint and heartbeat formats: the encoders must produce exactly the bytes MM2's own
// classes produce (testdata/mm2/golden.txt, written by scripts/mm2-client/Mm2Format.java), the decoders
// must read them back, and must reject every malformed input with a message that says what is wrong.
#include "offsets/mm2_format.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

// The golden file's folder: MIRROR_MM2_TESTDATA_DIR, else <MIRROR_SOURCE_DIR>/testdata/mm2.
#if !defined(MIRROR_MM2_TESTDATA_DIR) && defined(MIRROR_SOURCE_DIR)
#define MIRROR_MM2_TESTDATA_DIR MIRROR_SOURCE_DIR "/testdata/mm2"
#endif
#ifndef MIRROR_MM2_TESTDATA_DIR
#error "MIRROR_SOURCE_DIR (the repository) or MIRROR_MM2_TESTDATA_DIR (testdata/mm2) must be defined"
#endif

namespace mirror::offsets {

// Readable failures.
void PrintTo(const Checkpoint& c, std::ostream* os) {
  *os << "{group '" << c.group << "', topic '" << c.topic << "', partition " << c.partition << ", upstream "
      << c.upstream_offset << ", downstream " << c.downstream_offset << ", metadata '" << c.metadata << "'}";
}
void PrintTo(const Heartbeat& h, std::ostream* os) {
  *os << "{source '" << h.source_alias << "', target '" << h.target_alias << "', timestamp " << h.timestamp_ms
      << "}";
}

namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

const fs::path kGolden = fs::path(MIRROR_MM2_TESTDATA_DIR) / "golden.txt";
constexpr int64_t kMax64 = std::numeric_limits<int64_t>::max();

// ---- the golden file ----

std::string unhex(const std::string& hex) {
  EXPECT_EQ(hex.size() % 2, 0u) << "odd hex length in " << kGolden << ": " << hex;
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return out;
}

std::string hex(std::string_view bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (char c : bytes) {
    out.push_back(digits[static_cast<uint8_t>(c) >> 4]);
    out.push_back(digits[static_cast<uint8_t>(c) & 0xf]);
  }
  return out;
}

// One line: `kind field=value ...`.
struct Line {
  std::string kind;
  std::map<std::string, std::string> fields;
  int number = 0;

  const std::string& at(const std::string& field) const {
    auto it = fields.find(field);
    if (it == fields.end()) {
      ADD_FAILURE() << kGolden << ":" << number << ": no field '" << field << "'";
      static const std::string empty;
      return empty;
    }
    return it->second;
  }
  std::string text(const std::string& field) const { return unhex(at(field)); }
  int64_t number_field(const std::string& field) const { return std::stoll(at(field)); }
};

std::vector<Line> golden_lines(const std::string& kind) {
  std::ifstream in(kGolden);
  EXPECT_TRUE(in.good()) << "cannot read " << kGolden
                         << " (regenerate it: see its header or docs/mm2-formats.md)";
  std::vector<Line> lines;
  std::string raw;
  for (int number = 1; std::getline(in, raw); ++number) {
    if (raw.empty() || raw[0] == '#') continue;
    std::istringstream words(raw);
    Line line;
    line.number = number;
    words >> line.kind;
    for (std::string word; words >> word;) {
      const auto eq = word.find('=');
      EXPECT_NE(eq, std::string::npos) << kGolden << ":" << number << ": '" << word << "' is not field=value";
      if (eq != std::string::npos) line.fields[word.substr(0, eq)] = word.substr(eq + 1);
    }
    if (line.kind == kind) lines.push_back(std::move(line));
  }
  return lines;
}

struct GoldenCheckpoint {
  std::string name;
  Checkpoint checkpoint;
  std::string key;
  std::string value;
};

std::vector<GoldenCheckpoint> golden_checkpoints() {
  std::vector<GoldenCheckpoint> out;
  for (const Line& l : golden_lines("checkpoint")) {
    Checkpoint c{l.text("group"),
                 l.text("topic"),
                 static_cast<int32_t>(l.number_field("partition")),
                 l.number_field("upstream"),
                 l.number_field("downstream"),
                 l.text("metadata")};
    out.push_back({l.at("name"), c, l.text("key"), l.text("value")});
  }
  return out;
}

struct GoldenHeartbeat {
  std::string name;
  Heartbeat heartbeat;
  std::string key;
  std::string value;
};

std::vector<GoldenHeartbeat> golden_heartbeats() {
  std::vector<GoldenHeartbeat> out;
  for (const Line& l : golden_lines("heartbeat")) {
    Heartbeat h{l.text("source"), l.text("target"), l.number_field("timestamp")};
    out.push_back({l.at("name"), h, l.text("key"), l.text("value")});
  }
  return out;
}

// ---- helpers ----

Checkpoint sample() { return {"payments-service", "A.payments", 3, 1500, 1498, "checkpoint metadata"}; }
Heartbeat sample_heartbeat() { return {"us-west", "us-east", 1718000000000}; }

std::string be16(uint16_t v) { return {static_cast<char>(v >> 8), static_cast<char>(v & 0xff)}; }
std::string str16(std::string_view s) { return be16(static_cast<uint16_t>(s.size())) + std::string(s); }

std::string decode_error(std::string_view key, std::string_view value) {
  auto r = decode_checkpoint(key, value);
  EXPECT_FALSE(r.ok()) << "decoded key " << hex(key) << " value " << hex(value);
  return r.ok() ? "" : r.error();
}

std::string heartbeat_error(std::string_view key, std::string_view value) {
  auto r = decode_heartbeat(key, value);
  EXPECT_FALSE(r.ok()) << "decoded key " << hex(key) << " value " << hex(value);
  return r.ok() ? "" : r.error();
}

std::string check_error(const Checkpoint& c) {
  auto r = check_checkpoint(c);
  EXPECT_FALSE(r.ok());
  return r.ok() ? "" : r.error();
}

// ---- golden vectors from MM2's own classes ----

TEST(Mm2Golden, FileHasEveryKindOfVector) {
  EXPECT_GE(golden_checkpoints().size(), 9u) << kGolden;
  EXPECT_GE(golden_heartbeats().size(), 5u) << kGolden;
  EXPECT_GE(golden_lines("checkpoints-topic").size(), 3u) << kGolden;
  EXPECT_EQ(golden_lines("heartbeats-topic").size(), 1u) << kGolden;
}

TEST(Mm2Golden, CheckpointEncodingIsMm2s) {
  for (const auto& g : golden_checkpoints()) {
    SCOPED_TRACE(g.name);
    ASSERT_TRUE(check_checkpoint(g.checkpoint).ok()) << check_checkpoint(g.checkpoint).error();
    EXPECT_EQ(hex(checkpoint_key(g.checkpoint)), hex(g.key));
    EXPECT_EQ(hex(checkpoint_value(g.checkpoint)), hex(g.value));
  }
}

TEST(Mm2Golden, CheckpointDecodingReadsMm2s) {
  for (const auto& g : golden_checkpoints()) {
    SCOPED_TRACE(g.name);
    auto decoded = decode_checkpoint(g.key, g.value);
    ASSERT_TRUE(decoded.ok()) << decoded.error();
    EXPECT_EQ(*decoded, g.checkpoint);
  }
}

TEST(Mm2Golden, HeartbeatEncodingIsMm2s) {
  for (const auto& g : golden_heartbeats()) {
    SCOPED_TRACE(g.name);
    ASSERT_TRUE(check_heartbeat(g.heartbeat).ok()) << check_heartbeat(g.heartbeat).error();
    EXPECT_EQ(hex(heartbeat_key(g.heartbeat)), hex(g.key));
    EXPECT_EQ(hex(heartbeat_value(g.heartbeat)), hex(g.value));
  }
}

TEST(Mm2Golden, HeartbeatDecodingReadsMm2s) {
  for (const auto& g : golden_heartbeats()) {
    SCOPED_TRACE(g.name);
    auto decoded = decode_heartbeat(g.key, g.value);
    ASSERT_TRUE(decoded.ok()) << decoded.error();
    EXPECT_EQ(*decoded, g.heartbeat);
  }
}

TEST(Mm2Golden, TopicNamesAreDefaultReplicationPolicys) {
  for (const Line& l : golden_lines("checkpoints-topic")) {
    EXPECT_EQ(checkpoints_topic(l.text("source")), l.text("topic")) << kGolden << ":" << l.number;
  }
  for (const Line& l : golden_lines("heartbeats-topic"))
    EXPECT_EQ(std::string(kHeartbeatsTopic), l.text("topic"));
}

// ---- the layout, spelled out (docs/mm2-formats.md) ----

TEST(Mm2Layout, CheckpointBytes) {
  const Checkpoint c{"g", "t", 256, 255, 0x0102030405060708, "x"};
  EXPECT_EQ(hex(checkpoint_key(c)),
            "0001"
            "67"
            "0001"
            "74"
            "00000100");
  EXPECT_EQ(hex(checkpoint_value(c)),
            "0000"
            "00000000000000ff"
            "0102030405060708"
            "0001"
            "78");
}

TEST(Mm2Layout, HeartbeatBytes) {
  const Heartbeat h{"A", "B", 256};
  EXPECT_EQ(hex(heartbeat_key(h)),
            "0001"
            "41"
            "0001"
            "42");
  EXPECT_EQ(hex(heartbeat_value(h)),
            "0000"
            "0000000000000100");
}

TEST(Mm2Layout, TopicNames) {
  EXPECT_EQ(checkpoints_topic("A"), "A.checkpoints.internal");
  EXPECT_EQ(kHeartbeatsTopic, "heartbeats");
}

// ---- round trips ----

TEST(Mm2RoundTrip, LongestStringsFit) {
  Checkpoint c = sample();
  c.group = std::string(kMaxStringBytes, 'g');
  c.metadata = std::string(kMaxStringBytes, 'm');
  ASSERT_TRUE(check_checkpoint(c).ok());
  EXPECT_EQ(hex(checkpoint_key(c).substr(0, 2)), "7fff");
  auto decoded = decode_checkpoint(checkpoint_key(c), checkpoint_value(c));
  ASSERT_TRUE(decoded.ok()) << decoded.error();
  EXPECT_EQ(*decoded, c);
}

TEST(Mm2RoundTrip, RandomValues) {
  std::mt19937_64 rng(20240611);
  const std::vector<std::string> pieces = {
      "a", "Z", "0", ".", "-", "_", " ", "ü", "日", "🚀", std::string(1, '\0')};
  const std::string topic_chars = "abcXYZ019._-";
  auto text = [&](size_t max) {
    std::string s;
    for (size_t n = rng() % (max + 1); n > 0; --n) s += pieces[rng() % pieces.size()];
    return s;
  };
  auto offset = [&] { return static_cast<int64_t>(rng() >> (rng() % 64)) & kMax64; };
  for (int i = 0; i < 2000; ++i) {
    Checkpoint c{text(40), "", static_cast<int32_t>(rng() & 0x7fffffff), offset(), offset(), text(60)};
    for (size_t n = 1 + rng() % 40; n > 0; --n) c.topic += topic_chars[rng() % topic_chars.size()];
    if (c.topic == "." || c.topic == "..") c.topic = "t";
    ASSERT_TRUE(check_checkpoint(c).ok()) << check_checkpoint(c).error();
    auto decoded = decode_checkpoint(checkpoint_key(c), checkpoint_value(c));
    ASSERT_TRUE(decoded.ok()) << decoded.error();
    ASSERT_EQ(*decoded, c);

    Heartbeat h{"s" + text(20), "t" + text(20), offset()};
    auto back = decode_heartbeat(heartbeat_key(h), heartbeat_value(h));
    ASSERT_TRUE(back.ok()) << back.error();
    ASSERT_EQ(*back, h);
  }
}

// ---- decoding rejects malformed input, saying what is wrong ----

TEST(Mm2Decode, EveryTruncationIsRejected) {
  for (const auto& g : golden_checkpoints()) {
    SCOPED_TRACE(g.name);
    for (size_t n = 0; n < g.key.size(); ++n) {
      EXPECT_THAT(decode_error(g.key.substr(0, n), g.value), HasSubstr("checkpoint key: truncated: field '"));
    }
    for (size_t n = 0; n < g.value.size(); ++n) {
      EXPECT_THAT(decode_error(g.key, g.value.substr(0, n)),
                  HasSubstr("checkpoint value: truncated: field '"));
    }
  }
  for (const auto& g : golden_heartbeats()) {
    SCOPED_TRACE(g.name);
    for (size_t n = 0; n < g.key.size(); ++n) {
      EXPECT_THAT(heartbeat_error(g.key.substr(0, n), g.value),
                  HasSubstr("heartbeat key: truncated: field '"));
    }
    for (size_t n = 0; n < g.value.size(); ++n) {
      EXPECT_THAT(heartbeat_error(g.key, g.value.substr(0, n)),
                  HasSubstr("heartbeat value: truncated: field '"));
    }
  }
}

TEST(Mm2Decode, TruncationMessageNamesFieldAndPosition) {
  const Checkpoint c = sample();
  const std::string key = checkpoint_key(c);
  EXPECT_EQ(decode_error(key.substr(0, key.size() - 1), checkpoint_value(c)),
            "checkpoint key: truncated: field 'partition' needs 4 bytes at byte 30, only 3 left");
  EXPECT_EQ(decode_error(key, ""),
            "checkpoint value: truncated: field 'version' needs 2 bytes at byte 0, only 0 left");
  // A string length that claims more bytes than there are.
  EXPECT_EQ(decode_error(str16("g") + be16(10) + "abc", checkpoint_value(c)),
            "checkpoint key: truncated: field 'topic' needs 10 bytes at byte 5, only 3 left");
}

TEST(Mm2Decode, TrailingBytesAreRejected) {
  const Checkpoint c = sample();
  EXPECT_EQ(decode_error(checkpoint_key(c) + '\0', checkpoint_value(c)),
            "checkpoint key: 1 unexpected bytes after the last field, at byte 34");
  EXPECT_EQ(decode_error(checkpoint_key(c), checkpoint_value(c) + "xyz"),
            "checkpoint value: 3 unexpected bytes after the last field, at byte 39");
  const Heartbeat h = sample_heartbeat();
  EXPECT_THAT(heartbeat_error(heartbeat_key(h) + "!", heartbeat_value(h)),
              HasSubstr("heartbeat key: 1 unexpected bytes after the last field"));
  EXPECT_THAT(heartbeat_error(heartbeat_key(h), heartbeat_value(h) + "!"),
              HasSubstr("heartbeat value: 1 unexpected bytes after the last field, at byte 10"));
}

TEST(Mm2Decode, OtherVersionsAreRejected) {
  const Checkpoint c = sample();
  for (uint16_t version : {1, 2, 0x7fff, 0xffff}) {
    std::string value = checkpoint_value(c);
    value.replace(0, 2, be16(version));
    EXPECT_EQ(decode_error(checkpoint_key(c), value),
              "checkpoint value: unsupported version " + std::to_string(static_cast<int16_t>(version)) +
                  " (MirrorMaker 2 writes version 0, the only one this mirror reads)");
  }
  const Heartbeat h = sample_heartbeat();
  std::string value = heartbeat_value(h);
  value.replace(0, 2, be16(1));
  EXPECT_THAT(heartbeat_error(heartbeat_key(h), value), HasSubstr("heartbeat value: unsupported version 1"));
}

TEST(Mm2Decode, NegativeStringLengthsAreRejected) {
  const Checkpoint c = sample();
  EXPECT_EQ(decode_error(be16(0xffff) + str16("t") + std::string(4, '\0'), checkpoint_value(c)),
            "checkpoint key: field 'group' has negative length -1 at byte 0 (the field is not nullable)");
  std::string value = checkpoint_value(c);
  value.replace(18, 2, be16(0x8000));
  EXPECT_EQ(
      decode_error(checkpoint_key(c), value),
      "checkpoint value: field 'metadata' has negative length -32768 at byte 18 (the field is not nullable)");
  EXPECT_THAT(heartbeat_error(str16("A") + be16(0xfffe), heartbeat_value(sample_heartbeat())),
              HasSubstr("heartbeat key: field 'targetClusterAlias' has negative length -2 at byte 3"));
}

TEST(Mm2Decode, NegativeNumbersAreRejected) {
  const Checkpoint c = sample();
  std::string key = checkpoint_key(c);
  key.replace(key.size() - 4, 4, std::string(4, '\xff'));
  EXPECT_EQ(decode_error(key, checkpoint_value(c)), "checkpoint key: partition is negative (-1)");

  std::string value = checkpoint_value(c);
  value.replace(2, 8, std::string(8, '\xff'));
  EXPECT_EQ(decode_error(checkpoint_key(c), value), "checkpoint value: upstream offset is negative (-1)");
  value = checkpoint_value(c);
  value[10] = '\x80';  // the downstream offset's sign bit
  EXPECT_THAT(decode_error(checkpoint_key(c), value),
              HasSubstr("checkpoint value: downstream offset is negative"));

  std::string hb = heartbeat_value(sample_heartbeat());
  hb[2] = '\xff';
  EXPECT_THAT(heartbeat_error(heartbeat_key(sample_heartbeat()), hb),
              HasSubstr("heartbeat value: timestamp is negative"));
}

TEST(Mm2Decode, InvalidUtf8IsRejected) {
  const std::string value = checkpoint_value(sample());
  for (const std::string bad : {"\xff", "\x80", "\xc0\x80", "\xc1\xbf", "\xe0\x80\x80", "\xed\xa0\x80",
                                "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xe6\x97", "a\xc3"}) {
    SCOPED_TRACE(hex(bad));
    EXPECT_EQ(decode_error(str16(bad) + str16("t") + std::string(4, '\0'), value),
              "checkpoint key: group is not valid UTF-8");
  }
  std::string bad_metadata = value.substr(0, 18) + str16("\xc3\x28");
  EXPECT_EQ(decode_error(checkpoint_key(sample()), bad_metadata),
            "checkpoint value: metadata is not valid UTF-8");
  // The edges of the valid ranges still pass.
  for (const std::string good : {"\x7f", "\xc2\x80", "\xdf\xbf", "\xe0\xa0\x80", "\xed\x9f\xbf",
                                 "\xee\x80\x80", "\xf0\x90\x80\x80", "\xf4\x8f\xbf\xbf"}) {
    SCOPED_TRACE(hex(good));
    EXPECT_TRUE(decode_checkpoint(str16(good) + str16("t") + std::string(4, '\0'), value).ok());
  }
}

TEST(Mm2Decode, IllegalTopicNamesAreRejected) {
  const std::string value = checkpoint_value(sample());
  auto key = [](std::string_view topic) { return str16("g") + str16(topic) + std::string(4, '\0'); };
  EXPECT_EQ(decode_error(key(""), value), "checkpoint key: topic is empty");
  EXPECT_EQ(decode_error(key(".."), value), "checkpoint key: topic '..' is not a legal name");
  EXPECT_EQ(
      decode_error(key("a b"), value),
      "checkpoint key: topic has byte 0x20 at index 1, which Kafka does not allow in a topic name (legal: "
      "a-z A-Z 0-9 . _ -)");
  EXPECT_EQ(decode_error(key(std::string(250, 't')), value),
            "checkpoint key: topic is 250 bytes long; Kafka allows 249");
  EXPECT_TRUE(decode_checkpoint(key(std::string(249, 't')), value).ok());
}

TEST(Mm2Decode, EmptyAliasesAreRejected) {
  const std::string value = heartbeat_value(sample_heartbeat());
  EXPECT_EQ(heartbeat_error(str16("") + str16("B"), value), "heartbeat key: source alias is empty");
  EXPECT_EQ(heartbeat_error(str16("A") + str16(""), value), "heartbeat key: target alias is empty");
}

TEST(Mm2Decode, EmptyInputsAreRejected) {
  EXPECT_THAT(decode_error("", ""), HasSubstr("checkpoint key: truncated: field 'group'"));
  EXPECT_THAT(heartbeat_error("", ""), HasSubstr("heartbeat key: truncated: field 'sourceClusterAlias'"));
}

// ---- checks before encoding ----

TEST(Mm2Check, RejectsWhatWouldHarmMm2Readers) {
  Checkpoint c = sample();
  c.group = std::string(kMaxStringBytes + 1, 'g');
  EXPECT_EQ(check_error(c), "group is 32768 bytes long; the format holds at most 32767");
  c = sample();
  c.metadata = std::string(40000, 'm');
  EXPECT_EQ(check_error(c), "metadata is 40000 bytes long; the format holds at most 32767");
  c = sample();
  c.downstream_offset = -1;
  EXPECT_EQ(check_error(c), "downstream offset is negative (-1)");
  c = sample();
  c.partition = -1;
  EXPECT_EQ(check_error(c), "partition is negative (-1)");
  c = sample();
  c.topic = "A/orders";
  EXPECT_THAT(check_error(c), HasSubstr("topic has byte 0x2f at index 1"));

  Heartbeat h = sample_heartbeat();
  h.timestamp_ms = -5;
  EXPECT_EQ(check_heartbeat(h).error(), "timestamp is negative (-5)");
  h = sample_heartbeat();
  h.target_alias = "";
  EXPECT_EQ(check_heartbeat(h).error(), "target alias is empty");
}

TEST(Mm2CheckDeathTest, EncodingAnUncheckedValueAborts) {
  Checkpoint c = sample();
  c.downstream_offset = -1;
  EXPECT_DEATH((void)checkpoint_value(c),
               "encoding an invalid MM2 checkpoint: downstream offset is negative");
  Heartbeat h = sample_heartbeat();
  h.source_alias = "";
  EXPECT_DEATH((void)heartbeat_key(h), "encoding an invalid MM2 heartbeat: source alias is empty");
}

}  // namespace
}  // namespace mirror::offsets

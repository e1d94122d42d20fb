#include "state/progress.h"

#include <openssl/evp.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <thread>

#include "kafka/admin.h"
#include "kafka/consumer.h"
#include "kafka/producer.h"
#include "state/json_record.h"

namespace mirror::state {

namespace {
using Json = nlohmann::ordered_json;

std::string base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                      reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::optional<std::string> unbase64(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out(3 * text.size() / 4 + 1, '\0');
  const int n =
      EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                      reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  size_t len = static_cast<size_t>(n);
  // EVP_DecodeBlock counts padding as zero bytes.
  if (!text.empty() && text.back() == '=') --len;
  if (text.size() > 1 && text[text.size() - 2] == '=') --len;
  out.resize(len);
  return out;
}
// A topic id as Kafka prints it: 16 bytes in URL-safe base64 without padding.
constexpr size_t kTopicIdChars = 22;
bool is_topic_id(std::string_view s) {
  constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  // The last character carries 2 bits of the 16th byte and 4 zero bits: only A, Q, g or w.
  return s.size() == kTopicIdChars && s.find_first_not_of(kAlphabet) == std::string_view::npos &&
         std::string_view("AQgw").find(s.back()) != std::string_view::npos;
}
}  // namespace

std::string progress_key(std::string_view flow, std::string_view topic, int32_t partition) {
  return "progress/" + std::string(flow) + "/" + std::string(topic) + "/" + std::to_string(partition);
}

std::string to_json(const PartitionProgress& p) {
  Json j{{"format", 1},
         {"flow", p.flow},
         {"source_topic", p.source_topic},
         {"partition", p.partition},
         {"target_topic", p.target_topic},
         {"next_offset", p.map.scanned_up()},
         {"next_target_offset", p.map.next_down()},
         {"skipped", p.skipped},
         {"updated_at", p.updated_at},
         {"offset_map", base64(offsets::encode(p.map))}};
  if (!p.source_topic_id.empty()) j["source_topic_id"] = p.source_topic_id;
  if (!p.target_topic_id.empty()) j["target_topic_id"] = p.target_topic_id;
  return j.dump();
}

std::optional<PartitionProgress> progress_from_json(std::string_view text, std::string* why) {
  std::string reason;
  auto bad = [&]() -> std::optional<PartitionProgress> {
    if (why) *why = std::move(reason);
    return std::nullopt;
  };
  auto j = record::parse_object(text, reason);
  if (!j || !record::format_is(*j, 1, reason)) return bad();
  using record::get;
  PartitionProgress p;
  std::string map_text;
  int64_t next_offset = 0, next_target_offset = 0;
  if (!get(*j, "flow", p.flow, reason) || !get(*j, "source_topic", p.source_topic, reason) ||
      !get(*j, "partition", p.partition, reason, 0) || !get(*j, "target_topic", p.target_topic, reason) ||
      !get(*j, "next_offset", next_offset, reason, 0) ||
      // Older engines did not write next_target_offset; it is derived from the map, so its absence
      // is no reason to forget a partition's progress (which would copy it again from the start).
      (j->contains("next_target_offset") && !get(*j, "next_target_offset", next_target_offset, reason, 0)) ||
      !get(*j, "skipped", p.skipped, reason, 0) || !get(*j, "updated_at", p.updated_at, reason) ||
      !get(*j, "offset_map", map_text, reason, kMaxRecordBytes)) {
    return bad();
  }
  // Older engines did not write the topic ids: absent means unknown. Present, it must be one.
  for (auto [name, field] :
       {std::pair{"source_topic_id", &p.source_topic_id}, std::pair{"target_topic_id", &p.target_topic_id}}) {
    if (!j->contains(name)) continue;
    if (!get(*j, name, *field, reason, kTopicIdChars)) return bad();
    if (!is_topic_id(*field)) {
      reason = std::string("field ") + name + " is not a topic id";
      return bad();
    }
  }
  if (p.flow.empty() || p.source_topic.empty() || p.target_topic.empty()) {
    reason = "flow, source_topic or target_topic is empty";
    return bad();
  }
  auto bytes = unbase64(map_text);
  if (!bytes) {
    reason = "offset_map is not base64";
    return bad();
  }
  auto map = offsets::decode(*bytes);
  if (!map) {
    reason = "offset_map: " + map.error();
    return bad();
  }
  p.map = std::move(*map);
  if (p.map.scanned_up() != next_offset) {
    reason = "next_offset disagrees with the offset map";
    return bad();
  }
  if (j->contains("next_target_offset") && p.map.next_down() != next_target_offset) {
    reason = "next_target_offset disagrees with the offset map";
    return bad();
  }
  return p;
}

std::string check_progress_record(std::string_view key, std::string_view value) {
  std::string why;
  if (key.starts_with("progress/")) {
    auto p = progress_from_json(value, &why);
    if (!p) return why;
    if (progress_key(p->flow, p->source_topic, p->partition) != key) {
      return "its flow, source_topic and partition do not match its key";
    }
    return "";
  }
  if (key.starts_with("engine/")) {
    auto s = status_from_json(value, &why);
    if (!s) return why;
    if (status_key(s->flow) != key) return "its flow does not match its key";
    return "";
  }
  return "";  // no record of the engine's: not checked here
}

LatestFold::LatestFold(std::string topic, std::string prefix, RecordCheck check)
    : topic_(std::move(topic)), prefix_(std::move(prefix)), check_(std::move(check)) {}

void LatestFold::add(std::optional<std::string_view> key, std::optional<std::string_view> value,
                     int32_t partition, int64_t offset) {
  if (!key || !key->starts_with(prefix_)) return;
  const std::string k(*key);
  if (!value) {
    out_.values.erase(k);  // a tombstone forgets the key, and an unreadable record before it
    pending_.erase(k);
    return;
  }
  std::string why = check_ ? check_(*key, *value) : std::string();
  if (!why.empty()) {
    // The previous readable value of the key (or none) stands.
    pending_[k] = Skipped{topic_, partition, offset, printable_key(key), std::move(why)};
    return;
  }
  pending_.erase(k);
  out_.values[k] = std::string(*value);
}

LatestRead LatestFold::result() const {
  LatestRead r = out_;
  for (const auto& [k, s] : pending_) r.skipped.push_back(s);
  std::sort(r.skipped.begin(), r.skipped.end(),
            [](const Skipped& a, const Skipped& b) { return a.offset < b.offset; });
  return r;
}

std::string status_key(std::string_view flow) { return "engine/" + std::string(flow); }

std::string to_json(const EngineStatus& s) {
  Json j{{"format", 1},
         {"flow", s.flow},
         {"state", s.state},
         {"owner", s.owner},
         {"updated_at", s.updated_at},
         {"records", s.records},
         {"records_per_second", s.records_per_second},
         {"lag", s.lag},
         {"last_error", s.last_error}};
  if (!s.paused.empty()) {
    Json a = Json::array();
    for (const auto& p : s.paused) {
      a.push_back({{"topic", p.topic},
                   {"partition", p.partition},
                   {"reason", p.reason},
                   {"error", p.error},
                   {"since", p.since}});
    }
    j["paused"] = std::move(a);
  }
  if (!s.recreated.empty()) j["recreated"] = s.recreated;
  return j.dump();
}

std::optional<EngineStatus> status_from_json(std::string_view text, std::string* why) {
  std::string reason;
  auto bad = [&]() -> std::optional<EngineStatus> {
    if (why) *why = std::move(reason);
    return std::nullopt;
  };
  auto j = record::parse_object(text, reason);
  if (!j || !record::format_is(*j, 1, reason)) return bad();
  using record::get;
  EngineStatus s;
  if (!get(*j, "flow", s.flow, reason) || !get(*j, "state", s.state, reason) ||
      !get(*j, "owner", s.owner, reason) || !get(*j, "updated_at", s.updated_at, reason) ||
      !get(*j, "records", s.records, reason) ||
      !get(*j, "records_per_second", s.records_per_second, reason) || !get(*j, "lag", s.lag, reason) ||
      !get(*j, "last_error", s.last_error, reason)) {
    return bad();
  }
  if (s.flow.empty()) {
    reason = "field flow is empty";
    return bad();
  }
  // Optional (engines before issue #16 did not write them); bounded like every field.
  constexpr size_t kMaxListed = 10'000;
  if (j->contains("paused")) {
    const Json& a = (*j)["paused"];
    if (!a.is_array() || a.size() > kMaxListed) {
      reason = "field paused is not a list of at most 10000 partitions";
      return bad();
    }
    for (const Json& e : a) {
      PausedPartition p;
      if (!e.is_object() || !get(e, "topic", p.topic, reason) ||
          !get(e, "partition", p.partition, reason, 0) || !get(e, "reason", p.reason, reason) ||
          !get(e, "error", p.error, reason) || !get(e, "since", p.since, reason)) {
        if (reason.empty()) reason = "field paused holds a non-object";
        return bad();
      }
      s.paused.push_back(std::move(p));
    }
  }
  if (j->contains("recreated")) {
    const Json& a = (*j)["recreated"];
    if (!a.is_array() || a.size() > kMaxListed) {
      reason = "field recreated is not a list of at most 10000 lines";
      return bad();
    }
    for (const Json& e : a) {
      if (!e.is_string()) {
        reason = "field recreated holds a non-string";
        return bad();
      }
      s.recreated.push_back(e.get<std::string>());
    }
  }
  constexpr std::string_view kStates[] = {"standby", "starting", "running", "error", "stopped"};
  if (std::find(std::begin(kStates), std::end(kStates), s.state) == std::end(kStates)) {
    reason = "field state is none of standby, starting, running, error, stopped";
    return bad();
  }
  return s;
}

kafka::Result<void> ensure_progress_topic(const kafka::ClientConfig& target, int replication_factor) {
  auto admin = kafka::Admin::connect(target);
  if (!admin) return fail(std::move(admin).error());
  auto r = admin->create_topics(
      {{.name = kProgressTopic,
        .partitions = 1,
        .replication_factor = replication_factor,
        // Compaction keeps the latest record per partition; small segments let it
        // run often, so a restart reads little.
        .configs = {
            {"cleanup.policy", "compact"}, {"segment.ms", "600000"}, {"min.cleanable.dirty.ratio", "0.1"}}}});
  if (!r) return fail(std::move(r).error());
  if (!(*r)[0].ok() && (*r)[0].error->code != kafka::Errc::already_exists) return fail(*(*r)[0].error);
  return {};
}

kafka::Result<std::map<std::string, std::string>> read_latest(const kafka::ClientConfig& target,
                                                              std::string_view prefix) {
  return read_latest_of(target, kProgressTopic, prefix);
}

kafka::Result<std::map<std::string, std::string>> read_latest_of(const kafka::ClientConfig& target,
                                                                 const std::string& topic,
                                                                 std::string_view prefix) {
  auto r = read_latest_checked(target, topic, prefix,
                               topic == kProgressTopic ? RecordCheck(check_progress_record) : RecordCheck());
  if (!r) return fail(std::move(r).error());
  return std::move(r->values);
}

kafka::Result<ProgressRead> read_progress(const kafka::ClientConfig& target, std::string_view prefix) {
  auto r = read_latest_checked(target, kProgressTopic, prefix, check_progress_record);
  if (!r) return fail(std::move(r).error());
  ProgressRead out;
  out.skipped = std::move(r->skipped);
  for (const auto& [key, value] : r->values) {
    // Checked while reading: these decode.
    if (key.starts_with("progress/")) {
      if (auto p = progress_from_json(value)) out.progress.emplace(key, std::move(*p));
    } else if (key.starts_with("engine/")) {
      if (auto s = status_from_json(value)) out.statuses.emplace(key, std::move(*s));
    }
  }
  return out;
}

kafka::Result<LatestRead> read_latest_checked(const kafka::ClientConfig& target, const std::string& topic,
                                              std::string_view prefix, const RecordCheck& check) {
  LatestFold fold(topic, std::string(prefix), check);
  auto admin = kafka::Admin::connect(target);
  if (!admin) return fail(std::move(admin).error());
  // The end offset to read up to; a topic created a moment ago may not have a leader yet.
  int64_t end = -1;
  const auto deadline = std::chrono::steady_clock::now() + target.timeout;
  for (;;) {
    auto offs = admin->list_offsets({{{topic, 0}, kafka::OffsetSpec::latest}});
    if (offs && !(*offs)[0].error) {
      end = (*offs)[0].offset;
      break;
    }
    const kafka::Error e = offs ? *(*offs)[0].error : offs.error();
    if (e.code == kafka::Errc::not_found && std::chrono::steady_clock::now() > deadline) return fold.result();
    if ((e.code != kafka::Errc::not_found && !e.retriable) || std::chrono::steady_clock::now() > deadline) {
      return fail(e);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  if (end <= 0) return fold.result();
  auto c =
      kafka::Consumer::create(target, {.isolation = kafka::Isolation::read_committed, .report_eof = true});
  if (!c) return fail(std::move(c).error());
  if (auto a = c->assign({{topic, 0, -2}}); !a) return fail(a.error());
  const auto read_deadline = std::chrono::steady_clock::now() + target.timeout;
  // read_committed: an open transaction holds the reader back at its first offset (the last stable
  // offset); transaction markers occupy offsets. The end-of-partition marker says where the reader is.
  for (;;) {
    if (std::chrono::steady_clock::now() > read_deadline) {
      kafka::Error e;
      e.code = kafka::Errc::timed_out;
      e.operation = "read " + topic;
      e.cluster = target.label();
      e.message = "could not read " + topic + " up to offset " + std::to_string(end) +
                  " in time (a transaction of another engine may be open)";
      return fail(std::move(e));
    }
    auto m = c->poll(std::chrono::milliseconds(100));
    if (!m) return fail(m.error());
    if (!*m) continue;
    if ((*m)->eof()) {
      if ((*m)->offset() >= end) break;
      continue;
    }
    fold.add((*m)->key(), (*m)->value(), (*m)->partition(), (*m)->offset());
    if ((*m)->offset() + 1 >= end) break;
  }
  c->close();
  return fold.result();
}

kafka::Result<void> write_keyed(const kafka::ClientConfig& target, const std::string& topic,
                                const KeyedRecords& records, const std::string& operation) {
  std::optional<kafka::Error> failed;
  size_t acked = 0;
  auto producer = kafka::Producer::create(target, {}, [&](const kafka::Delivery& d) {
    if (d.error && !failed) failed = d.error;
    if (!d.error) ++acked;
  });
  if (!producer) return fail(std::move(producer).error());
  for (const auto& [k, v] : records) {
    if (auto sent = producer->send({.topic = topic, .partition = 0, .key = k, .value = v}); !sent)
      return fail(sent.error());
  }
  if (auto f = producer->flush(); !f) return fail(f.error());
  if (failed) return fail(*failed);
  if (acked != records.size()) {
    kafka::Error e;
    e.code = kafka::Errc::other;
    e.operation = operation;
    e.cluster = target.label();
    e.message = "only " + std::to_string(acked) + " of " + std::to_string(records.size()) +
                " records were acknowledged";
    return fail(std::move(e));
  }
  return {};
}

}  // namespace mirror::state

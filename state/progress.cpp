#include "state/progress.h"

#include <openssl/evp.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <thread>

#include "kafka/admin.h"
#include "kafka/consumer.h"
#include "kafka/producer.h"

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
}  // namespace

std::string progress_key(std::string_view flow, std::string_view topic, int32_t partition) {
  return "progress/" + std::string(flow) + "/" + std::string(topic) + "/" + std::to_string(partition);
}

std::string to_json(const PartitionProgress& p) {
  return Json{{"format", 1},
              {"flow", p.flow},
              {"source_topic", p.source_topic},
              {"partition", p.partition},
              {"target_topic", p.target_topic},
              {"next_offset", p.map.scanned_up()},
              {"next_target_offset", p.map.next_down()},
              {"skipped", p.skipped},
              {"updated_at", p.updated_at},
              {"offset_map", base64(offsets::encode(p.map))}}
      .dump();
}

std::optional<PartitionProgress> progress_from_json(std::string_view text, std::string* why) {
  auto bad = [&](std::string reason) -> std::optional<PartitionProgress> {
    if (why) *why = std::move(reason);
    return std::nullopt;
  };
  Json j = Json::parse(text, nullptr, false);
  if (!j.is_object() || j.value("format", 0) != 1) return bad("not a format-1 progress record");
  try {
    PartitionProgress p;
    p.flow = j.at("flow").get<std::string>();
    p.source_topic = j.at("source_topic").get<std::string>();
    p.partition = j.at("partition").get<int32_t>();
    p.target_topic = j.at("target_topic").get<std::string>();
    p.skipped = j.value("skipped", int64_t{0});
    p.updated_at = j.value("updated_at", std::string());
    auto bytes = unbase64(j.at("offset_map").get<std::string>());
    if (!bytes) return bad("offset_map is not base64");
    auto map = offsets::decode(*bytes);
    if (!map) return bad("offset_map: " + map.error());
    p.map = std::move(*map);
    if (p.map.scanned_up() != j.at("next_offset").get<int64_t>()) {
      return bad("next_offset disagrees with the offset map");
    }
    return p;
  } catch (const nlohmann::json::exception& e) {
    return bad(e.what());
  }
}

std::string status_key(std::string_view flow) { return "engine/" + std::string(flow); }

std::string to_json(const EngineStatus& s) {
  return Json{{"format", 1},
              {"flow", s.flow},
              {"state", s.state},
              {"owner", s.owner},
              {"updated_at", s.updated_at},
              {"records", s.records},
              {"records_per_second", s.records_per_second},
              {"lag", s.lag},
              {"last_error", s.last_error}}
      .dump();
}

std::optional<EngineStatus> status_from_json(std::string_view text) {
  Json j = Json::parse(text, nullptr, false);
  if (!j.is_object() || j.value("format", 0) != 1) return std::nullopt;
  EngineStatus s;
  s.flow = j.value("flow", std::string());
  s.state = j.value("state", std::string());
  s.owner = j.value("owner", std::string());
  s.updated_at = j.value("updated_at", std::string());
  s.records = j.value("records", uint64_t{0});
  s.records_per_second = j.value("records_per_second", 0.0);
  s.lag = j.value("lag", int64_t{0});
  s.last_error = j.value("last_error", std::string());
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
  std::map<std::string, std::string> out;
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
    if (e.code == kafka::Errc::not_found && std::chrono::steady_clock::now() > deadline) return out;
    if ((e.code != kafka::Errc::not_found && !e.retriable) || std::chrono::steady_clock::now() > deadline) {
      return fail(e);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  if (end <= 0) return out;
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
    auto k = (*m)->key();
    if (!k || !k->starts_with(prefix)) continue;
    if (auto v = (*m)->value()) {
      out[std::string(*k)] = std::string(*v);
    } else {
      out.erase(std::string(*k));
    }
    if ((*m)->offset() + 1 >= end) break;
  }
  c->close();
  return out;
}

kafka::Result<void> write_keyed(const kafka::ClientConfig& target, const std::string& topic,
                                const std::vector<std::pair<std::string, std::string>>& records,
                                const std::string& operation) {
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

#include "state/mm2_progress.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <functional>
#include <set>

#include "kafka/admin.h"
#include "kafka/consumer.h"
#include "kafka/producer.h"
#include "state/json_record.h"
#include "state/progress.h"
#include "state/record_read.h"

namespace mirror::state {

namespace {

using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

kafka::Error error(const kafka::ClientConfig& cfg, std::string operation, std::string message,
                   kafka::Errc code = kafka::Errc::other) {
  kafka::Error e;
  e.code = code;
  e.operation = std::move(operation);
  e.cluster = cfg.label();
  e.message = std::move(message);
  return e;
}

}  // namespace

uint64_t print_of(const kafka::Message& m) {
  // Length-prefixed fields, so ("ab","c") and ("a","bc") differ; null and empty differ too.
  std::string s;
  auto add = [&s](std::optional<std::string_view> v) {
    if (!v) {
      s += "N;";
      return;
    }
    s += std::to_string(v->size()) + ":";
    s += *v;
  };
  add(m.key());
  add(m.value());
  s += "T" + std::to_string(m.timestamp_ms()) + ";";
  for (const auto& h : m.headers()) {
    add(h.name);
    add(h.value ? std::optional<std::string_view>(*h.value) : std::nullopt);
  }
  return std::hash<std::string>{}(s);
}

// Reads `topic` on every partition from `from` (per partition, default earliest) until each reaches the
// end it had when reading began, or `limit` records of a partition were seen. Calls `visit` per record.
kafka::Result<void> read_to_end(const kafka::ClientConfig& cfg, const std::string& topic,
                                const std::map<int32_t, int64_t>& from, int64_t limit,
                                const std::function<void(const kafka::Message&)>& visit) {
  auto admin = kafka::Admin::connect(cfg);
  if (!admin) return fail(std::move(admin).error());
  std::vector<kafka::OffsetQuery> q;
  for (const auto& [p, off] : from) q.push_back({{topic, p}, kafka::OffsetSpec::latest});
  auto ends = admin->list_offsets(q);
  if (!ends) return fail(std::move(ends).error());
  std::map<int32_t, int64_t> end, seen;
  std::vector<kafka::TopicPartitionOffset> assign;
  for (const auto& r : *ends) {
    if (r.error) return fail(*r.error);
    const int64_t start = from.at(r.tp.partition);
    if (r.offset <= 0 || (start >= 0 && start >= r.offset)) continue;
    end[r.tp.partition] = r.offset;
    assign.push_back({topic, r.tp.partition, start});
  }
  if (assign.empty()) return {};
  auto c = kafka::Consumer::create(cfg, {.isolation = kafka::Isolation::read_committed, .report_eof = true});
  if (!c) return fail(std::move(c).error());
  if (auto a = c->assign(assign); !a) return fail(a.error());
  std::set<int32_t> open;
  for (const auto& [p, e] : end) open.insert(p);
  const auto deadline = Clock::now() + cfg.timeout;
  while (!open.empty()) {
    if (Clock::now() > deadline) {
      return fail(error(cfg, "read " + topic,
                        "could not read " + topic + " to its end in time (" + std::to_string(open.size()) +
                            " partition(s) left)",
                        kafka::Errc::timed_out));
    }
    auto m = c->poll(std::chrono::milliseconds(100));
    if (!m) return fail(m.error());
    if (!*m) continue;
    const int32_t p = (*m)->partition();
    if (!open.count(p)) continue;
    if ((*m)->eof()) {
      if ((*m)->offset() >= end[p]) open.erase(p);
      continue;
    }
    visit(**m);
    if ((*m)->offset() + 1 >= end[p] || ++seen[p] >= limit) open.erase(p);
  }
  c->close();
  return {};
}

namespace {

// A found alignment is where mirror continues.
void take(ResumePoint& rp, const Alignment& a) {
  rp.verified = true;
  rp.resume_up = a.resume_up;
  rp.next_down = a.next_down;
  rp.after_commit = a.matched;
  rp.pairs = a.pairs;
}

kafka::Result<std::map<int32_t, int64_t>> all_partitions(const kafka::ClientConfig& cfg,
                                                         const std::string& topic, int64_t from) {
  auto admin = kafka::Admin::connect(cfg);
  if (!admin) return fail(std::move(admin).error());
  auto topics = admin->list_topics();
  if (!topics) return fail(std::move(topics).error());
  for (const auto& t : *topics) {
    if (t.name != topic) continue;
    std::map<int32_t, int64_t> out;
    for (const auto& p : t.partitions) out[p.id] = from;
    return out;
  }
  return fail(error(cfg, "read " + topic, "topic " + topic + " does not exist", kafka::Errc::not_found));
}

}  // namespace

std::optional<Mm2Position> decode_mm2_offset(std::string_view key, std::optional<std::string_view> value,
                                             std::string_view source_alias, std::string* why) {
  auto say = [why](std::string s) {
    if (why) *why = std::move(s);
    return std::nullopt;
  };
  std::string reason;
  auto k = record::parse_bounded(key, reason);
  if (!k || !k->is_array() || k->size() != 2 || !(*k)[0].is_string() || !(*k)[1].is_object()) {
    return say("the key is not a Connect source offset key ([connector, partition])");
  }
  if ((*k)[0].get<std::string>() != "MirrorSourceConnector") return std::nullopt;  // heartbeats, checkpoints
  const auto& part = (*k)[1];
  std::string cluster, topic;
  int32_t partition = 0;
  if (!record::get(part, "cluster", cluster, reason) || !record::get(part, "topic", topic, reason, 249) ||
      !record::get(part, "partition", partition, reason, 0)) {
    return say("MirrorSourceConnector key without cluster, topic and partition (" + reason + ")");
  }
  if (cluster != source_alias) return std::nullopt;
  if (topic.empty()) return say("MirrorSourceConnector key with an empty topic");
  if (!value) return std::nullopt;  // tombstone: the position was reset
  auto v = record::parse_object(*value, reason);
  int64_t offset = 0;
  if (!v || !record::get(*v, "offset", offset, reason, 0)) {
    return say("MirrorSourceConnector offset value without an integer offset (" + reason + ")");
  }
  return Mm2Position{topic, partition, offset};
}

std::optional<std::string> decode_mm2_status(std::string_view value) {
  std::string reason, state;
  auto v = record::parse_object(value, reason);
  if (!v || !record::get(*v, "state", state, reason, 64)) return std::nullopt;
  return state;
}

Alignment align(const std::vector<RecordPrint>& tail, const RecordPrint& last,
                const std::vector<RecordPrint>& next, const std::vector<RecordPrint>& prev) {
  Alignment a;
  // The last copy of MM2's last record: an earlier one would be a duplicate from an earlier restart.
  size_t at = tail.size();
  for (size_t i = tail.size(); i-- > 0;) {
    if (tail[i].hash == last.hash) {
      at = i;
      break;
    }
  }
  if (at == tail.size()) return a;
  a.found = true;
  a.last_down = tail[at].offset;
  a.resume_up = last.offset + 1;
  a.next_down = tail[at].offset + 1;
  size_t k = 0;
  while (at + 1 + k < tail.size() && k < next.size() && tail[at + 1 + k].hash == next[k].hash) {
    a.resume_up = next[k].offset + 1;
    a.next_down = tail[at + 1 + k].offset + 1;
    ++k;
  }
  a.matched = static_cast<int64_t>(k);
  a.unexplained = static_cast<int64_t>(tail.size() - (at + 1 + k));
  size_t back = 0;
  while (back < at && back < prev.size() && tail[at - 1 - back].hash == prev[prev.size() - 1 - back].hash)
    ++back;
  for (size_t j = back; j > 0; --j) a.pairs.emplace_back(prev[prev.size() - j].offset, tail[at - j].offset);
  a.pairs.emplace_back(last.offset, tail[at].offset);
  for (size_t j = 0; j < k; ++j) a.pairs.emplace_back(next[j].offset, tail[at + 1 + j].offset);
  return a;
}

Alignment align_from_start(const std::vector<RecordPrint>& head, const std::vector<RecordPrint>& first) {
  Alignment a;
  size_t k = 0;
  while (k < head.size() && k < first.size() && head[k].hash == first[k].hash) ++k;
  if (k == 0 || k < head.size()) {
    a.unexplained = static_cast<int64_t>(head.size() - k);
    return a;  // the target holds something else than the source's first records
  }
  a.found = true;
  a.matched = static_cast<int64_t>(k);
  a.resume_up = first[k - 1].offset + 1;
  a.next_down = head[k - 1].offset + 1;
  for (size_t j = 0; j < k; ++j) a.pairs.emplace_back(first[j].offset, head[j].offset);
  return a;
}

kafka::Result<Mm2PositionsRead> read_mm2_positions_checked(const kafka::ClientConfig& target,
                                                           const Mm2Source& mm2) {
  auto parts = all_partitions(target, mm2.offsets_topic, -2);
  if (!parts) return fail(std::move(parts).error());
  std::map<std::pair<std::string, int32_t>, int64_t> latest;
  Mm2PositionsRead out;
  auto r = read_to_end(target, mm2.offsets_topic, *parts, INT64_MAX, [&](const kafka::Message& m) {
    if (!m.key()) return;
    if (!m.value()) {
      // A tombstone resets the position of its key (this source cluster's only).
      if (auto pos = decode_mm2_offset(*m.key(), R"({"offset":0})", mm2.source_alias))
        latest.erase({pos->topic, pos->partition});
      return;
    }
    std::string why;
    auto pos = decode_mm2_offset(*m.key(), m.value(), mm2.source_alias, &why);
    if (!why.empty()) {
      // Not what MM2 writes: left out; the position before it (if any) stands.
      out.skipped.push_back({mm2.offsets_topic, m.partition(), m.offset(), printable_key(m.key()), why});
      return;
    }
    if (pos) latest[{pos->topic, pos->partition}] = pos->last_copied;
  });
  if (!r) return fail(r.error());
  for (const auto& [tp, off] : latest) out.positions.push_back({tp.first, tp.second, off});
  return out;
}

kafka::Result<std::vector<Mm2Position>> read_mm2_positions(const kafka::ClientConfig& target,
                                                           const Mm2Source& mm2) {
  auto r = read_mm2_positions_checked(target, mm2);
  if (!r) return fail(std::move(r).error());
  return std::move(r->positions);
}

kafka::Result<std::map<std::string, std::string>> read_mm2_states(const kafka::ClientConfig& target,
                                                                  const Mm2Source& mm2) {
  std::map<std::string, std::string> out;
  auto parts = all_partitions(target, mm2.status_topic, -2);
  if (!parts) {
    if (parts.error().code == kafka::Errc::not_found) return out;
    return fail(std::move(parts).error());
  }
  auto r = read_to_end(target, mm2.status_topic, *parts, INT64_MAX, [&](const kafka::Message& m) {
    if (!m.key()) return;
    const std::string key(*m.key());
    if (!key.starts_with("status-task-MirrorSourceConnector") &&
        !key.starts_with("status-connector-MirrorSourceConnector"))
      return;
    auto state = m.value() ? decode_mm2_status(*m.value()) : std::nullopt;
    if (state) {
      out[key] = *state;
    } else {
      out.erase(key);
    }
  });
  if (!r) return fail(r.error());
  return out;
}

kafka::Result<std::vector<ResumePoint>> find_resume_points(const kafka::ClientConfig& source,
                                                           const kafka::ClientConfig& target,
                                                           const Mm2Source& mm2,
                                                           const std::vector<Mm2Position>& positions) {
  std::vector<ResumePoint> out;
  auto target_admin = kafka::Admin::connect(target);
  if (!target_admin) return fail(std::move(target_admin).error());
  auto source_admin = kafka::Admin::connect(source);
  if (!source_admin) return fail(std::move(source_admin).error());
  for (const auto& pos : positions) {
    ResumePoint rp;
    rp.source_topic = pos.topic;
    rp.partition = pos.partition;
    rp.target_topic = mm2.target_prefix + pos.topic;
    rp.mm2_last_copied = pos.last_copied;
    rp.resume_up = pos.last_copied + 1;
    const std::string where = pos.topic + "[" + std::to_string(pos.partition) + "]";

    auto ends = target_admin->list_offsets({{{rp.target_topic, pos.partition}, kafka::OffsetSpec::earliest},
                                            {{rp.target_topic, pos.partition}, kafka::OffsetSpec::latest}});
    if (!ends) return fail(std::move(ends).error());
    if ((*ends)[0].error || (*ends)[1].error) {
      const kafka::Error e = (*ends)[0].error ? *(*ends)[0].error : *(*ends)[1].error;
      if (e.code != kafka::Errc::not_found) return fail(e);
      if (pos.last_copied < 0) continue;  // neither MM2 nor anyone wrote there: a new partition for mirror
      rp.note = "MM2 recorded a position for " + where + " but the target has no " + rp.target_topic + "[" +
                std::to_string(pos.partition) +
                "]; mirror starts that partition as the flow's start: setting says";
      out.push_back(std::move(rp));
      continue;
    }
    const int64_t low = (*ends)[0].offset;
    rp.target_end = (*ends)[1].offset;
    rp.next_down = rp.target_end;

    auto src_low = source_admin->list_offsets({{{pos.topic, pos.partition}, kafka::OffsetSpec::earliest}});
    if (!src_low) return fail(std::move(src_low).error());
    if ((*src_low)[0].error) return fail(*(*src_low)[0].error);
    const int64_t source_low = (*src_low)[0].offset;

    if (pos.last_copied < 0) {
      // No committed position: MM2 died before its first offset commit, or never copied this partition.
      if (rp.target_end <= low) {
        rp.next_down = -1;  // nothing on the target: the engine starts the partition like a new one
        rp.note = "MM2 has no position for " + where + " and " + rp.target_topic +
                  " is empty: mirror starts it as the flow's start: setting says";
        out.push_back(std::move(rp));
        continue;
      }
      std::vector<RecordPrint> head, first;
      if (rp.target_end - low <= mm2.search_window) {
        auto rt = read_to_end(target, rp.target_topic, {{pos.partition, low}}, mm2.search_window,
                              [&](const kafka::Message& m) {
                                head.push_back({m.offset(), print_of(m)});
                              });
        if (!rt) return fail(rt.error());
        auto rs = read_to_end(source, pos.topic, {{pos.partition, source_low}},
                              static_cast<int64_t>(head.size()), [&](const kafka::Message& m) {
                                first.push_back({m.offset(), print_of(m)});
                              });
        if (!rs) return fail(rs.error());
      }
      const Alignment a = align_from_start(head, first);
      if (!a.found) {
        rp.next_down = -1;
        rp.note = "MM2 has no position for " + where + ", and the " + std::to_string(rp.target_end - low) +
                  " record(s) of " + rp.target_topic + "[" + std::to_string(pos.partition) +
                  "] are not copies of the source's first records: mirror starts it as the flow's start: "
                  "setting says, and those records stay (check them: they may be copied again)";
        out.push_back(std::move(rp));
        continue;
      }
      take(rp, a);
      out.push_back(std::move(rp));
      continue;
    }

    // MM2's last copied record on the source, and the records after it (as many as the target tail).
    const int64_t window = std::min<int64_t>(mm2.search_window, rp.target_end - low);
    std::vector<RecordPrint> tail, next, prev_records;
    std::optional<RecordPrint> last;
    if (pos.last_copied < source_low) last = RecordPrint{-1, 0};
    if (window > 0 && !last) {
      auto rt = read_to_end(target, rp.target_topic, {{pos.partition, rp.target_end - window}}, window,
                            [&](const kafka::Message& m) {
                              tail.push_back({m.offset(), print_of(m)});
                            });
      if (!rt) return fail(rt.error());
      // The source records before MM2's last one too (as many as the window): their copies seed the
      // offset map, so groups committed before the takeover translate exactly.
      const int64_t from = std::max(source_low, pos.last_copied - window + 1);
      std::vector<RecordPrint> prev;
      bool gone = false;
      auto rs = read_to_end(source, pos.topic, {{pos.partition, from}}, 2 * window + 1,
                            [&](const kafka::Message& m) {
                              if (m.offset() < pos.last_copied) {
                                prev.push_back({m.offset(), print_of(m)});
                              } else if (!last) {
                                // Record N itself, or (gone: retention, compaction) the first one after it.
                                if (m.offset() == pos.last_copied)
                                  last = RecordPrint{m.offset(), print_of(m)};
                                else
                                  gone = true, last = RecordPrint{-1, 0};
                              } else if (!gone) {
                                next.push_back({m.offset(), print_of(m)});
                              }
                            });
      if (!rs) return fail(rs.error());
      prev_records = std::move(prev);
    }
    if (window == 0) {
      rp.note = rp.target_topic + "[" + std::to_string(pos.partition) + "] is empty although MM2 recorded " +
                "copying up to offset " + std::to_string(pos.last_copied) + " (was it recreated?): mirror " +
                "continues at offset " + std::to_string(rp.resume_up) + " (MM2's own restart point)";
      out.push_back(std::move(rp));
      continue;
    }
    if (!last || last->offset < 0) {
      rp.note =
          "MM2's last copied record (" + where + " offset " + std::to_string(pos.last_copied) +
          ") is no longer on the source, so it cannot be found on the target: mirror continues at "
          "offset " +
          std::to_string(rp.resume_up) +
          " (MM2's own restart point); records MM2 wrote after its last commit, if any, are copied again";
      out.push_back(std::move(rp));
      continue;
    }
    const Alignment a = align(tail, *last, next, prev_records);
    if (!a.found) {
      rp.note =
          "MM2's last copied record (" + where + " offset " + std::to_string(pos.last_copied) +
          ") is not among the last " + std::to_string(window) + " records of " + rp.target_topic +
          ": mirror continues at offset " + std::to_string(rp.resume_up) +
          " (MM2's own restart point); records MM2 wrote after its last commit, if any, are copied again";
      out.push_back(std::move(rp));
      continue;
    }
    take(rp, a);
    if (a.unexplained > 0) {
      rp.note = std::to_string(a.unexplained) + " record(s) at the end of " + rp.target_topic + "[" +
                std::to_string(pos.partition) +
                "] are not copies of the next source records (written by "
                "something else than MM2?); mirror writes after them";
      rp.next_down = rp.target_end;
    }
    out.push_back(std::move(rp));
  }
  return out;
}

kafka::Result<void> store_resume_points(const kafka::ClientConfig& target, const std::string& flow,
                                        const std::vector<ResumePoint>& points, int replication_factor,
                                        const std::string& now_utc) {
  if (auto e = ensure_progress_topic(target, replication_factor); !e) return fail(e.error());
  auto stored = read_latest(target, "progress/" + flow + "/");
  if (!stored) return fail(std::move(stored).error());
  for (const auto& p : points) {
    if (stored->count(progress_key(flow, p.source_topic, p.partition))) {
      return fail(error(target, "store the positions MM2 reached",
                        "flow " + flow + " already has progress for " + p.source_topic + "[" +
                            std::to_string(p.partition) + "] in " + kProgressTopic +
                            ": mirror has replicated it since, and its own progress is newer than MM2's",
                        kafka::Errc::already_exists));
    }
  }
  KeyedRecords records;
  for (const auto& p : points) {
    if (p.next_down < 0) continue;  // no target partition: the engine starts it like a new one
    PartitionProgress pp;
    pp.flow = flow;
    pp.source_topic = p.source_topic;
    pp.partition = p.partition;
    pp.target_topic = p.target_topic;
    // The copies found on the target begin the offset map (exact translation of groups committed before
    // the takeover); without any, it begins at the takeover point.
    const int64_t up0 = p.pairs.empty() ? p.resume_up : p.pairs.front().first;
    const int64_t down0 = p.pairs.empty() ? p.next_down : p.pairs.front().second;
    auto check = [&](Result<void, std::string> r) -> kafka::Result<void> {
      if (!r) return fail(error(target, "store the positions MM2 reached", r.error()));
      return {};
    };
    if (auto b = check(pp.map.begin(up0, down0)); !b) return b;
    for (const auto& [up, down] : p.pairs) {
      if (auto r = check(pp.map.record(up, down)); !r) return r;
    }
    if (p.resume_up > pp.map.scanned_up()) {
      if (auto r = check(pp.map.advance_scanned(p.resume_up)); !r) return r;
    }
    if (p.next_down > pp.map.next_down()) {
      if (auto r = check(pp.map.advance_down(p.next_down)); !r) return r;
    }
    pp.updated_at = now_utc;
    records.emplace_back(progress_key(flow, p.source_topic, p.partition), to_json(pp));
  }
  return write_keyed(target, kProgressTopic, records, "store the positions MM2 reached");
}

}  // namespace mirror::state

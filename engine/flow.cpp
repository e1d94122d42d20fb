#include "engine/flow.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>

#include <algorithm>
#include <ctime>
#include <deque>
#include <future>
#include <optional>
#include <set>
#include <thread>

#include "apply/apply.h"
#include "apply/group_offsets.h"
#include "common/identity.h"
#include "kafka/admin.h"
#include "kafka/consumer.h"
#include "kafka/producer.h"
#include "observe/observe.h"
#include "offsets/mm2_format.h"
#include "planner/group_sync.h"
#include "planner/plan.h"
#include "planner/render.h"
#include "planner/topic_recreation.h"
#include "state/lease.h"
#include "state/progress.h"
#include "state/progress_tail.h"
#include "state/state.h"

namespace mirror::engine {

using offsets::PartitionOffsetMap;
using state::EngineStatus;
using state::ensure_progress_topic;
using state::kEngineLeaseTopic;
using state::kProgressTopic;
using state::PartitionProgress;
using state::progress_key;
using state::status_key;
using state::to_json;

namespace {
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

int64_t wall_ms() {
  return std::chrono::duration_cast<milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Thrown inside a session to end it; the runner logs it and starts a new session after a backoff.
struct SessionError {
  std::string message;
  bool lost_lease = false;
};

constexpr uint64_t kNotARecord = ~uint64_t{0};  // delivery tag of progress and status records
// Runs kept per partition in the stored offset map (about 4 bytes each encoded): 20,000 runs cover
// 5.5 hours of exactly_once commits at 1 s, and any length of a lock-step at-least-once copy.
constexpr size_t kMaxRuns = 20'000;

[[noreturn]] void raise(std::string message, bool lost_lease = false) {
  throw SessionError{std::move(message), lost_lease};
}

template <class T>
T must(kafka::Result<T> r, const std::string& what) {
  if (!r) raise(what + ": " + r.error().describe());
  if constexpr (!std::is_void_v<T>) return std::move(*r);
}

}  // namespace

EngineMetrics::EngineMetrics(Registry& r)
    : records(r.counter("mirror_records_replicated_total",
                        "Records written to the target and acknowledged by it",
                        {"flow", "topic", "partition"})),
      bytes(r.counter("mirror_bytes_replicated_total", "Key and value bytes of the records replicated",
                      {"flow", "topic", "partition"})),
      lag(r.gauge("mirror_lag_records", "Records on the source partition not yet replicated",
                  {"flow", "topic", "partition"})),
      latency(r.histogram(
          "mirror_replication_latency_seconds",
          "From the source record's timestamp to the target's acknowledgement",
          {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300}, {"flow"})),
      errors(r.counter("mirror_errors_total",
                       "Errors that interrupted replication (it restarts after a backoff)",
                       {"flow", "kind"})),
      skipped(r.counter("mirror_skipped_records_total",
                        "Records deleted on the source (retention) before they could be replicated",
                        {"flow", "topic", "partition"})),
      duplicates(r.counter("mirror_duplicate_records_total",
                           "Records written again after a restart (at-least-once delivery)", {"flow"})),
      state(r.gauge("mirror_flow_state", "1 for the flow's current state", {"flow", "state"})),
      partitions(r.gauge("mirror_partitions_assigned", "Source partitions this engine replicates", {"flow"})),
      group_offsets(r.counter("mirror_group_offsets_synced_total",
                              "Consumer-group partitions whose translated offset was written to the target",
                              {"flow", "group"})),
      heartbeat_latency(
          r.gauge("mirror_heartbeat_latency_seconds",
                  "From a heartbeat's emission on the source to the target's acknowledgement of "
                  "its copy (the last one mirrored)",
                  {"flow"})),
      paused(r.gauge("mirror_partition_paused",
                     "1 while a partition is paused by an error of its own (the others keep flowing); the "
                     "reason is the error's kind",
                     {"flow", "topic", "partition", "reason"})),
      recreated(
          r.counter("mirror_topic_recreations_total",
                    "Topics found deleted and created again under the same name (a new topic id), on the "
                    "source or the target side; their new contents are copied from the start",
                    {"flow", "topic", "side"})) {}

const char* flow_state_name(FlowState s) {
  switch (s) {
    case FlowState::standby: return "standby";
    case FlowState::starting: return "starting";
    case FlowState::running: return "running";
    case FlowState::error: return "error";
    case FlowState::stopped: return "stopped";
  }
  return "unknown";
}

// ---- one replication session: from reading progress to a clean stop or the first error ----

struct FlowRunner::Session {
  struct InFlight {
    int64_t up;
    int64_t bytes;
    int64_t ts_ms;
  };
  using Pause = PartitionPause;
  struct Slot {
    std::string topic;
    int32_t partition = 0;
    std::string target_topic;
    PartitionOffsetMap map;
    int64_t skipped = 0;
    int64_t next_send = 0;  // the next source offset handed to the producer
    std::deque<InFlight> inflight;
    bool dirty = false;
    // The partition's own failure (a record the target refused, the topic gone, an ACL revoked): its
    // progress stops at the last record written before it; it is paused, then retried, alone.
    std::optional<kafka::Error> error;
    bool held = false;           // paused: not assigned to the consumer until its retry
    std::optional<Pause> pause;  // set from the first failure until a record is written again
    std::string source_topic_id, target_topic_id;  // "" = unknown; stored with the progress
    bool refill_pending = false;       // the target topic was recreated: refill it at the partition's retry
    PartitionOffsetMap committed_map;  // exactly_once: the map as of the last committed transaction
    int64_t committed_skipped = 0;
    bool heartbeats = false;  // the source's `heartbeats` topic: its copies measure latency
    std::shared_ptr<Counter> records, bytes, skipped_total;
    std::shared_ptr<Gauge> lag;
  };

  FlowRunner& runner;
  const spec::Flow& flow;
  const kafka::ClientConfig& source;
  const kafka::ClientConfig& target;
  state::Lease& lease;
  std::stop_token stop;
  bool eos;

  std::optional<kafka::Admin> src_admin, dst_admin;
  std::optional<kafka::Consumer> consumer;
  std::optional<kafka::Producer> producer;        // records (and progress, when exactly once)
  std::optional<kafka::Producer> state_producer;  // progress, when at least once
  std::optional<kafka::Error> state_error;
  std::vector<Slot> slots;
  uint32_t generation = 0;  // delivery tags carry it: reports of an aborted transaction's records are ignored
  bool any_failure = false, needs_abort = false;
  int blind_aborts = 0;                      // aborts in a row that found no failed partition
  std::optional<std::string> session_error;  // a failure of the whole client, not of one partition
  int64_t record_limit = 0;                  // the producer's max_record_bytes this session
  bool restart = false;                      // end the session cleanly and start a new one at once
  std::map<std::string, std::map<int32_t, size_t>, std::less<>> index;  // topic -> partition -> slot
  std::shared_ptr<Histogram> latency;
  std::shared_ptr<Gauge> heartbeat_latency;
  uint64_t copied = 0, copied_at_last_log = 0;
  Clock::time_point last_log = Clock::now();

  Session(FlowRunner& r, const spec::Flow& f, state::Lease& l, std::stop_token s)
      : runner(r),
        flow(f),
        source(r.clusters_.at(f.source)),
        target(r.clusters_.at(f.target)),
        lease(l),
        stop(std::move(s)),
        eos(f.exactly_once) {}

  void log(const std::string& line) const {
    if (runner.options_.log) runner.options_.log("flow " + flow.name + ": " + line);
  }

  // ---- set-up ----
  // The largest record the flow's topics may hold now: the selected source topics' max.message.bytes
  // (what the source accepted), never below Kafka's default. The producer and consumer are sized for it.
  static constexpr int64_t kKafkaDefaultMaxMessageBytes = 1'048'588;
  static int64_t source_record_limit(kafka::Admin& src, const std::map<std::string, int>& topics) {
    int64_t limit = kKafkaDefaultMaxMessageBytes;
    std::vector<std::string> names;
    for (const auto& [t, n] : topics) names.push_back(t);
    if (names.empty()) return limit;
    for (const auto& tc :
         must(src.describe_topic_configs(names), "read the source topics' max.message.bytes")) {
      for (const auto& e : tc.entries) {
        if (e.name != "max.message.bytes" || !e.value) continue;
        int64_t v = 0;
        const char* end = e.value->data() + e.value->size();
        if (std::from_chars(e.value->data(), end, v).ptr == end) limit = std::max(limit, v);
      }
    }
    return limit;
  }

  void open_clients() {
    src_admin.emplace(must(kafka::Admin::connect(source), "connect to the source"));
    dst_admin.emplace(must(kafka::Admin::connect(target), "connect to the target"));
    // Room for the record framing and headers above the limit; the target broker enforces the topic's own.
    record_limit = source_record_limit(*src_admin, selected(*src_admin));
    auto on_delivery = [this](const kafka::Delivery& d) { delivered(d); };
    kafka::ProducerOptions po;
    po.max_record_bytes = record_limit + 65'536;
    // One transactional id per flow and target: a second instance fences this one (zombie fencing).
    if (eos) po.transactional_id = "mirror-" + flow.name;
    producer.emplace(must(kafka::Producer::create(target, po, on_delivery), "create the target producer"));
    if (eos) {
      // Also aborts whatever a crashed predecessor left open, so progress reads below see committed data.
      must(producer->init_transactions(), "initialize transactions (exactly_once)");
    } else {
      state_producer.emplace(must(kafka::Producer::create(target, {},
                                                          [this](const kafka::Delivery& d) {
                                                            if (d.error) state_error = d.error;
                                                          }),
                                  "create the progress producer"));
    }
    consumer.emplace(must(kafka::Consumer::create(source, {.isolation = kafka::Isolation::read_committed,
                                                           .max_record_bytes = record_limit}),
                          "create the source consumer"));
    latency = runner.metrics_.latency.with({{"flow", flow.name}});
    heartbeat_latency = runner.metrics_.heartbeat_latency.with({{"flow", flow.name}});
  }

  // Source partitions the flow selects now: topic -> partition count.
  std::map<std::string, int> selected(kafka::Admin& src) {
    std::map<std::string, int> out;
    for (const auto& t : must(src.list_topics(), "list the source topics")) {
      if (flow.replicates_topic(t.name)) out[t.name] = static_cast<int>(t.partitions.size());
    }
    return out;
  }

  // Target topics with at least the source's partition count, created by the same planner and executor
  // as `mirror apply` when missing (same names, partitions and configs; ACLs wait for the next apply).
  void ensure_targets(kafka::Admin& dst, const std::map<std::string, int>& wanted) {
    std::map<std::string, int> have;
    for (const auto& t : must(dst.list_topics(), "list the target topics")) {
      have[t.name] = static_cast<int>(t.partitions.size());
    }
    bool missing = false;
    for (const auto& [topic, n] : wanted) {
      auto it = have.find(flow.target_topic(topic));
      missing |= it == have.end() || it->second < n;
    }
    if (!missing) return;
    spec::Spec one = *runner.spec_;
    one.flows.erase(std::remove_if(one.flows.begin(), one.flows.end(),
                                   [&](const spec::Flow& f) { return f.name != flow.name; }),
                    one.flows.end());
    observe::Options oo;
    oo.timeout = target.timeout;
    auto states = observe::observe_spec(one, spec::Resolver::system(), oo);
    if (!states) raise("read the clusters to create new target topics: " + states.error());
    planner::Plan plan = planner::make_plan(one, *states, {});
    planner::Plan creations = plan;
    creations.actions.clear();
    for (const auto& a : plan.actions) {
      if (a.flow == flow.name &&
          (a.kind == planner::ActionKind::create_topic || a.kind == planner::ActionKind::create_partitions)) {
        creations.actions.push_back(a);
      }
    }
    if (creations.actions.empty()) return;
    apply::Options ao;
    ao.now_utc = utc_now();
    ao.user_host = runner.options_.owner;
    ao.audit = runner.options_.audit;
    ao.keep_revision = true;
    // Like any apply, under the target's apply lock, so that it never races a `mirror apply`.
    auto lock =
        state::Lease::acquire(target, {.owner = runner.options_.owner,
                                       .purpose = "mirror run: create target topics for new source topics",
                                       .wait = std::chrono::seconds(30)});
    if (!lock) raise("create new target topics: " + lock.error().describe());
    apply::Report report = apply::execute(creations, one, runner.clusters_, ao);
    (void)(*lock)->release();
    for (const auto& o : report.outcomes) {
      if (!o.ok) raise("create " + o.action->resource + " on " + flow.target + ": " + o.error);
      log(std::string(planner::action_kind_name(o.action->kind)) + " " + o.action->resource +
          " (new on the source)");
    }
  }

  // Adds slots for partitions not yet replicated, starting from stored progress or the flow's `start`.
  void add_partitions(const std::map<std::string, int>& wanted,
                      const std::map<std::string, PartitionProgress>& stored) {
    std::vector<kafka::TopicPartition> fresh;
    for (const auto& [topic, n] : wanted) {
      for (int32_t p = 0; p < n; ++p) {
        if (index.count(topic) && index[topic].count(p)) continue;
        fresh.push_back({topic, p});
      }
    }
    if (fresh.empty()) return;
    // The topics' ids now: stored progress made with another id is about a topic that is gone.
    std::set<std::string> src_names, dst_names;
    for (const auto& tp : fresh) {
      src_names.insert(tp.topic);
      dst_names.insert(flow.target_topic(tp.topic));
    }
    const auto src_ids = ids_of(*src_admin, src_names), dst_ids = ids_of(*dst_admin, dst_names);
    auto id_in = [](const std::map<std::string, std::string>& ids, const std::string& t) {
      auto it = ids.find(t);
      return it == ids.end() ? std::string() : it->second;
    };
    std::set<std::string> stale;  // progress keys of recreated topics
    std::map<std::pair<std::string, bool>, std::pair<std::string, std::string>>
        recreations;  // (topic, source?)
    for (const auto& tp : fresh) {
      const std::string key = progress_key(flow.name, tp.topic, tp.partition);
      auto it = stored.find(key);
      if (it == stored.end()) continue;
      const std::string src_now = id_in(src_ids, tp.topic),
                        dst_now = id_in(dst_ids, flow.target_topic(tp.topic));
      if (planner::topic_id_changed(it->second.source_topic_id, src_now)) {
        stale.insert(key);
        recreations[{tp.topic, true}] = {it->second.source_topic_id, src_now};
      } else if (planner::topic_id_changed(it->second.target_topic_id, dst_now)) {
        stale.insert(key);
        recreations[{tp.topic, false}] = {it->second.target_topic_id, dst_now};
      }
    }
    for (const auto& [what, ids] : recreations) {
      const auto& [topic, source_side] = what;
      std::map<int32_t, PartitionOffsetMap> old_maps;
      for (const auto& [key, p] : stored) {
        if (p.source_topic == topic && stale.count(key)) old_maps[p.partition] = p.map;
      }
      report_recreation(topic, source_side, ids.first, ids.second, old_maps);
    }
    // Where never-mirrored partitions start (source), and where the target's logs end now.
    std::vector<kafka::OffsetQuery> src_q, dst_q;
    for (const auto& tp : fresh) {
      const std::string key = progress_key(flow.name, tp.topic, tp.partition);
      if (!stored.count(key) || stale.count(key)) {
        kafka::OffsetQuery q{tp, kafka::OffsetSpec::earliest};
        // A recreated topic is a new topic: copied from its start whatever the flow's `start`.
        const bool recreated = stale.count(key) > 0;
        if (!recreated && flow.start.kind == spec::StartKind::latest) q.spec = kafka::OffsetSpec::latest;
        if (!recreated && flow.start.kind == spec::StartKind::timestamp) {
          q.spec = kafka::OffsetSpec::timestamp;
          q.timestamp_ms = flow.start.timestamp_ms;
        }
        src_q.push_back(q);
      }
      dst_q.push_back({{flow.target_topic(tp.topic), tp.partition}, kafka::OffsetSpec::latest});
    }
    std::map<kafka::TopicPartition, int64_t> src_start, dst_end;
    if (!src_q.empty()) {
      for (const auto& r : must(src_admin->list_offsets(src_q), "read the source start offsets")) {
        if (r.error)
          raise("read the start offset of " + r.tp.topic + "[" + std::to_string(r.tp.partition) +
                "]: " + r.error->describe());
        src_start[r.tp] = r.offset;
      }
      // A timestamp after the last record: start at the end.
      std::vector<kafka::OffsetQuery> ends;
      for (const auto& [tp, off] : src_start) {
        if (off < 0) ends.push_back({tp, kafka::OffsetSpec::latest});
      }
      if (!ends.empty()) {
        for (const auto& r : must(src_admin->list_offsets(ends), "read the source end offsets")) {
          src_start[r.tp] = r.offset;
        }
      }
    }
    for (const auto& r : must(dst_admin->list_offsets(dst_q), "read the target end offsets")) {
      if (r.error)
        raise("read the end offset of target " + r.tp.topic + "[" + std::to_string(r.tp.partition) +
              "]: " + r.error->describe());
      dst_end[r.tp] = r.offset;
    }
    std::vector<kafka::TopicPartitionOffset> assign;
    int64_t duplicates = 0;
    for (const auto& tp : fresh) {
      Slot s;
      s.topic = tp.topic;
      s.partition = tp.partition;
      s.target_topic = flow.target_topic(tp.topic);
      s.heartbeats = tp.topic == offsets::kHeartbeatsTopic;
      const int64_t target_end = dst_end.at({s.target_topic, tp.partition});
      s.source_topic_id = id_in(src_ids, tp.topic);
      s.target_topic_id = id_in(dst_ids, s.target_topic);
      const std::string key = progress_key(flow.name, tp.topic, tp.partition);
      if (auto it = stored.find(key); it != stored.end() && !stale.count(key)) {
        // Ids learnt now (older progress had none) are stored with the next progress.
        if (it->second.source_topic_id != s.source_topic_id ||
            it->second.target_topic_id != s.target_topic_id)
          s.dirty = true;
        s.map = it->second.map;
        s.skipped = it->second.skipped;
        // At least once: records that reached the target after the last stored progress (the engine
        // before this one stopped without storing it) are found again by comparing records and
        // continued after; whatever does not match is written again (announced below).
        if (!eos && target_end > s.map.next_down()) {
          recover_tail(s, target_end);
          if (target_end > s.map.next_down()) duplicates += target_end - s.map.next_down();
        }
      } else {
        const int64_t start = src_start.at(tp);
        if (auto b = s.map.begin(start, target_end); !b) raise("offset map: " + b.error());
        s.dirty = true;
      }
      s.next_send = s.map.scanned_up();
      s.committed_map = s.map;
      s.committed_skipped = s.skipped;
      const std::string part = std::to_string(tp.partition);
      const Labels labels{{"flow", flow.name}, {"topic", tp.topic}, {"partition", part}};
      s.records = runner.metrics_.records.with(labels);
      s.bytes = runner.metrics_.bytes.with(labels);
      s.skipped_total = runner.metrics_.skipped.with(labels);
      s.lag = runner.metrics_.lag.with(labels);
      // Paused by its own error in an earlier session: it stays paused until its retry.
      if (auto pz = runner.paused_.find({tp.topic, tp.partition}); pz != runner.paused_.end()) {
        s.pause = pz->second;
        s.pause->retrying = false;
        s.pause->retry_at = std::max(s.pause->retry_at, Clock::now());
        s.held = true;
        s.error = s.pause->error;
      } else {
        assign.push_back({tp.topic, tp.partition, s.next_send});
      }
      index[tp.topic][tp.partition] = slots.size();
      slots.push_back(std::move(s));
    }
    if (duplicates > 0) {
      runner.metrics_.duplicates.with({{"flow", flow.name}})->inc(static_cast<uint64_t>(duplicates));
      log("resuming: up to " + std::to_string(duplicates) +
          " records written after the last stored progress are written again (at-least-once; use "
          "exactly_once: true for none)");
    }
    if (!assign.empty()) must(consumer->add(assign), "assign the source partitions");
    runner.metrics_.partitions.with({{"flow", flow.name}})->set(static_cast<double>(slots.size()));
    log("replicating " + std::to_string(assign.size()) + " new source partition(s); " +
        std::to_string(slots.size()) + " in all");
  }

  // The records after the stored progress on the target that are copies of the next source records
  // (state/progress_tail.h) join the map, so they are neither written again nor counted as unmirrored.
  void recover_tail(Slot& s, int64_t target_end) {
    const int64_t behind = target_end - s.map.next_down();
    auto t = state::extend_by_tail(source, target,
                                   {.source_topic = s.topic,
                                    .target_topic = s.target_topic,
                                    .partition = s.partition,
                                    .target_end = target_end},
                                   s.map);
    const std::string part = flow.target + ":" + s.target_topic + "[" + std::to_string(s.partition) + "]";
    if (!t) {
      log("warning: could not compare the " + std::to_string(behind) + " records of " + part +
          " after the last stored progress with the source (" + planner::escape_text(t.error().describe()) +
          "): they are written again");
      return;
    }
    if (t->matched == 0) return;
    s.dirty = true;
    log("found the " + std::to_string(t->matched) + " records of " + part +
        " written after the last stored progress (an engine stopped before storing it): they are copies of " +
        flow.source + ":" + s.topic + "[" + std::to_string(s.partition) + "] up to offset " +
        std::to_string(s.map.scanned_up() - 1) + "; continuing after them, nothing written twice" +
        (t->unexplained > 0 ? " (" + std::to_string(t->unexplained) +
                                  " records after them are not copies of "
                                  "the next source records)"
                            : ""));
  }

  // ---- the data path ----
  uint64_t tag_of(size_t slot) const { return (uint64_t{generation} << 32) | slot; }

  // Errors that concern the whole client (or the flow), not one partition: the session ends on them.
  static bool whole_client(const kafka::Error& e) {
    switch (e.code) {
      case kafka::Errc::fatal:
      case kafka::Errc::fenced:
      case kafka::Errc::authentication:
      case kafka::Errc::tls:
      case kafka::Errc::cancelled:
      case kafka::Errc::config: return true;
      default: return false;
    }
  }

  // Records the first failure of one partition; contain_failures() pauses it (and, exactly once,
  // aborts the open transaction) before anything more is stored.
  void fail_slot(Slot& s, const kafka::Error& e, bool in_transaction) {
    any_failure = true;
    if (whole_client(e) && !session_error) session_error = e.describe();
    if (eos && in_transaction) needs_abort = true;
    if (!s.error) s.error = e;
  }

  void delivered(const kafka::Delivery& d) {
    if (d.tag == kNotARecord) {
      // exactly_once: progress and status records of an aborted transaction are purged with it.
      if (d.error && !(eos && d.error->kafka_code.starts_with("_PURGE"))) state_error = d.error;
      return;
    }
    if ((d.tag >> 32) != generation) return;  // a record of an aborted transaction
    Slot& s = slots[d.tag & 0xffff'ffff];
    if (s.inflight.empty()) return;  // cannot happen: one report per record sent
    const InFlight f = s.inflight.front();
    s.inflight.pop_front();
    // Progress stays at the first failure; a record written behind it is written again when the
    // partition resumes (counted and announced then).
    if (s.error) return;
    if (d.error) {
      // A record purged by the transaction's abort is collateral, not this partition's failure.
      if (eos && d.error->kafka_code.starts_with("_PURGE")) {
        any_failure = needs_abort = true;
        return;
      }
      fail_slot(s, *d.error, true);
      return;
    }
    if (auto r = s.map.record(f.up, d.offset); !r) {
      kafka::Error e;
      e.code = kafka::Errc::invalid;
      e.operation = "record the offset map";
      e.cluster = target.label();
      e.message = r.error();
      fail_slot(s, e, true);
      return;
    }
    if (s.pause && s.pause->retrying) resumed(s);
    s.dirty = true;
    s.records->inc();
    s.bytes->inc(static_cast<uint64_t>(f.bytes));
    ++copied;
    if (f.ts_ms > 0) {
      const double secs = static_cast<double>(std::max<int64_t>(0, wall_ms() - f.ts_ms)) / 1000.0;
      latency->observe(secs);
      if (s.heartbeats) heartbeat_latency->set(secs);
    }
  }

  void forward(const kafka::Message& m) {
    auto t = index.find(m.topic());
    if (t == index.end()) return;
    auto p = t->second.find(m.partition());
    if (p == t->second.end()) return;
    const size_t slot = p->second;
    Slot& s = slots[slot];
    if (s.error || s.held) return;         // paused: nothing more is sent until its retry
    if (m.offset() < s.next_send) return;  // a re-delivery after a re-assignment
    const int64_t bytes =
        static_cast<int64_t>((m.key() ? m.key()->size() : 0) + (m.value() ? m.value()->size() : 0));
    s.inflight.push_back({m.offset(), bytes, m.timestamp_ms()});
    s.next_send = m.offset() + 1;
    if (auto r = producer->forward(m, s.target_topic, s.partition, tag_of(slot)); !r) {
      s.inflight.pop_back();
      s.next_send = m.offset();
      const kafka::Error& e = r.error();
      // Refused here, before it was queued (larger than the producer's limit, an unknown partition):
      // this partition's failure. Anything else ends the session as before.
      if (e.code == kafka::Errc::invalid || e.code == kafka::Errc::not_found ||
          e.code == kafka::Errc::authorization) {
        fail_slot(s, e, false);
        return;
      }
      // exactly_once: the open transaction failed already (a record of it was refused): abort it.
      if (eos && (any_failure || e.kafka_code == "_STATE")) {
        any_failure = needs_abort = true;
        return;
      }
      raise("write to " + flow.target + ":" + s.target_topic + "[" + std::to_string(s.partition) +
            "]: " + e.describe());
    }
  }

  // ---- containment: one partition's failure pauses that partition only ----
  std::string where(const Slot& s) const {
    return flow.source + ":" + s.topic + "[" + std::to_string(s.partition) + "] -> " + flow.target + ":" +
           s.target_topic;
  }

  // What to do about a partition's failure, beyond the error's own hint.
  std::string advice(const Slot& s, const kafka::Error& e) const {
    if (e.kafka_code == "MSG_SIZE_TOO_LARGE" || e.kafka_code == "RECORD_LIST_TOO_LARGE") {
      return "a record is larger than " + flow.target + ":" + s.target_topic +
             " accepts: raise its max.message.bytes to the source topic's (mirror plan shows the difference)";
    }
    return e.hint();
  }

  void set_paused_gauge(const Slot& s, const std::string& reason, double v) {
    runner.metrics_.paused
        .with({{"flow", flow.name},
               {"topic", s.topic},
               {"partition", std::to_string(s.partition)},
               {"reason", reason}})
        ->set(v);
  }

  void pause_slot(Slot& s) {
    s.held = true;
    const auto now = Clock::now();
    const kafka::Error& e = *s.error;
    const std::string reason = kafka::errc_name(e.code);
    // Broker and librdkafka messages are text from outside: escaped, like every name in the engine's log.
    const std::string raw = e.describe();
    const std::string why = planner::escape_text(raw), hint = planner::escape_text(advice(s, e));
    if (!s.pause) {
      s.pause = Pause{e, utc_now(), now, now + milliseconds(1000), milliseconds(1000), false, reason};
      log("partition " + where(s) + " paused: " + why + (hint.empty() ? "" : "; " + hint) +
          ". The flow's other partitions continue; this one is retried (1 s, doubling up to " +
          std::to_string(runner.options_.partition_retry_max.count() / 1000) +
          " s) from its stored progress.");
    } else {
      // One line per change of state or reason, not per retry.
      if (s.pause->error.describe() != raw)
        log("partition " + where(s) + " still paused, now: " + why + (hint.empty() ? "" : "; " + hint));
      s.pause->error = e;
      s.pause->backoff = std::min(s.pause->backoff * 2, runner.options_.partition_retry_max);
      s.pause->retry_at = now + s.pause->backoff;
      s.pause->retrying = false;
      if (s.pause->reason != reason) set_paused_gauge(s, s.pause->reason, 0);
      s.pause->reason = reason;
    }
    set_paused_gauge(s, reason, 1);
    runner.metrics_.errors.with({{"flow", flow.name}, {"kind", "partition_" + reason}})->inc();
    runner.paused_[{s.topic, s.partition}] = *s.pause;
    status_due = true;
  }

  void resumed(Slot& s) {
    const auto paused_for = std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - s.pause->started);
    log("partition " + where(s) + " resumed after " + std::to_string(paused_for.count()) +
        " s (paused since " + s.pause->since + ")");
    set_paused_gauge(s, s.pause->reason, 0);
    s.pause.reset();
    runner.paused_.erase({s.topic, s.partition});
    status_due = true;
  }

  // exactly_once: the open transaction holds a failed record, so it cannot commit. Abort it (none of
  // its records is ever visible), put every partition back to its last committed progress, and read
  // the healthy ones again from there; the failed ones are paused by the caller.
  void abort_and_rewind() {
    ++generation;  // reports of the aborted records are ignored
    must(producer->abort_transaction(), "abort the transaction");
    std::vector<kafka::TopicPartition> out;
    std::vector<kafka::TopicPartitionOffset> back;
    for (auto& s : slots) {
      s.inflight.clear();
      s.map = s.committed_map;
      s.skipped = s.committed_skipped;
      s.next_send = s.map.scanned_up();
      s.dirty = true;
      if (s.held) continue;
      out.push_back({s.topic, s.partition});
      if (!s.error) back.push_back({s.topic, s.partition, s.next_send});
    }
    if (!out.empty()) must(consumer->remove(out), "rewind the source partitions");
    if (!back.empty()) must(consumer->add(back), "rewind the source partitions");
    must(producer->begin_transaction(), "begin a transaction");
    log("exactly_once: aborted the open transaction (none of its records becomes visible); the other "
        "partitions continue from their last committed progress");
  }

  // Pauses every partition that failed since the last call. Runs before progress is stored.
  void contain_failures() {
    if (!any_failure) return;
    any_failure = false;
    if (session_error) raise(*session_error);
    const bool aborted = eos && needs_abort;
    if (aborted) {
      // The refused record's own report says which partition failed: serve the reports first.
      producer->poll(milliseconds(0));
      const bool culprit =
          std::any_of(slots.begin(), slots.end(), [](const Slot& s) { return s.error && !s.held; });
      if (!culprit && ++blind_aborts > 3) {
        raise("exactly_once: the transaction failed " + std::to_string(blind_aborts) +
              " times without a failed record to pause");
      }
      if (culprit) blind_aborts = 0;
      abort_and_rewind();
    }
    needs_abort = false;
    std::vector<kafka::TopicPartition> out;
    for (auto& s : slots) {
      if (!s.error || s.held) continue;
      if (!aborted) out.push_back({s.topic, s.partition});
      pause_slot(s);
    }
    if (!out.empty()) must(consumer->remove(out), "pause the failed partitions");
  }

  // Paused partitions whose time has come are assigned again from their progress. A target partition
  // that now ends before what mirror wrote there (the topic was deleted and recreated, or truncated)
  // is filled again from the source's start.
  void retry_paused(Clock::time_point now) {
    if (runner.paused_.empty()) return;  // every held partition is in it: the common case costs nothing
    std::vector<kafka::TopicPartitionOffset> back;
    // A topic that was deleted (its partitions paused, not found) and created again is a new topic:
    // started over from its start rather than resumed at the old topic's position.
    std::set<std::string> due;
    for (const auto& s : slots) {
      if (s.held && now >= s.pause->retry_at && s.inflight.empty()) due.insert(s.topic);
    }
    if (due.empty()) return;
    std::set<std::string> due_targets;
    for (const auto& t : due) due_targets.insert(flow.target_topic(t));
    const auto src_ids = ids_of(*src_admin, due), dst_ids = ids_of(*dst_admin, due_targets);
    for (const auto& t : due) act_on_new_ids(t, src_ids, dst_ids);
    for (auto& s : slots) {
      // Every report of its records is in (none still in flight could land after the retry's writes).
      if (!s.held || now < s.pause->retry_at || !s.inflight.empty()) continue;
      auto end = dst_admin->list_offsets({{{s.target_topic, s.partition}, kafka::OffsetSpec::latest}});
      if (!end || (*end)[0].error) {  // still unreadable (the topic not there yet): try again later
        s.pause->retry_at = now + s.pause->backoff;
        continue;
      }
      const int64_t target_end = (*end)[0].offset;
      if (s.refill_pending || target_end < s.map.next_down()) {
        drop_strays(s, target_end);
        refill(s, target_end);
        s.refill_pending = false;
      } else if (target_end > s.map.next_down() && !eos) {
        // Records that reached the target after the partition's progress (behind the failed one)
        // are written again from it: at least once, announced like a session's resume.
        const int64_t again = target_end - s.map.next_down();
        runner.metrics_.duplicates.with({{"flow", flow.name}})->inc(static_cast<uint64_t>(again));
        log("partition " + where(s) + ": resuming: up to " + std::to_string(again) +
            " records written after the last stored progress are written again (at-least-once; use "
            "exactly_once: true for none)");
      }
      s.error.reset();
      s.held = false;
      s.pause->retrying = true;
      runner.paused_[{s.topic, s.partition}] = *s.pause;
      s.next_send = s.map.scanned_up();
      back.push_back({s.topic, s.partition, s.next_send});
    }
    if (!back.empty()) must(consumer->add(back), "resume paused partitions");
  }

  // ---- recreated topics: a new topic id is a new topic ----
  // Topic name -> id now; empty when they cannot be read (then no change is ever seen).
  static std::map<std::string, std::string> ids_of(kafka::Admin& a, const std::set<std::string>& names) {
    auto r = a.topic_ids(std::vector<std::string>(names.begin(), names.end()));
    return r ? std::move(*r) : std::map<std::string, std::string>{};
  }

  void report_recreation(const std::string& topic, bool source_side, const std::string& old_id,
                         const std::string& new_id, const std::map<int32_t, PartitionOffsetMap>& old_maps) {
    const std::string target_topic = flow.target_topic(topic);
    const std::string why =
        source_side ? planner::source_recreated_reason(flow, topic, target_topic, old_id, new_id, old_maps)
                    : planner::target_recreated_reason(flow, target_topic, old_id, new_id);
    log((source_side ? "SOURCE TOPIC RECREATED: " : "TARGET TOPIC RECREATED: ") + planner::escape_text(why));
    runner.metrics_.recreated
        .with({{"flow", flow.name}, {"topic", topic}, {"side", source_side ? "source" : "target"}})
        ->inc();
    runner.recreations_.push_back(utc_now() + " " + why);
  }

  // The topic `topic` (source side) or its target copy now has id `new_id`: its partitions start over
  // from the (new) source topic's start, after what the target holds now.
  void restart_topic(const std::string& topic, bool source_side, const std::string& new_id) {
    auto t = index.find(topic);
    if (t == index.end()) return;
    if (!source_side) return target_recreated(t->second, new_id);
    must(producer->flush(), "flush the target producer");  // settle what is in flight first
    std::map<int32_t, PartitionOffsetMap> old_maps;
    std::string old_id;
    std::vector<kafka::TopicPartition> out;
    for (const auto& [p, slot] : t->second) {
      Slot& s = slots[slot];
      old_maps[p] = s.map;
      old_id = source_side ? s.source_topic_id : s.target_topic_id;
      if (!s.held) out.push_back({s.topic, s.partition});
    }
    report_recreation(topic, source_side, old_id, new_id, old_maps);
    if (!out.empty()) must(consumer->remove(out), "re-assign " + topic);
    std::vector<kafka::TopicPartitionOffset> back;
    for (const auto& [p, slot] : t->second) {
      Slot& s = slots[slot];
      (source_side ? s.source_topic_id : s.target_topic_id) = new_id;
      const kafka::TopicPartition tp{s.topic, s.partition};
      auto src = src_admin->list_offsets({{tp, kafka::OffsetSpec::earliest}});
      auto dst = dst_admin->list_offsets({{{s.target_topic, s.partition}, kafka::OffsetSpec::latest}});
      if (!src || (*src)[0].error || !dst || (*dst)[0].error) {
        // The partition is gone in the new topic (fewer partitions), or not readable yet: paused.
        kafka::Error e = !src              ? src.error()
                         : (*src)[0].error ? *(*src)[0].error
                         : !dst            ? dst.error()
                                           : *(*dst)[0].error;
        s.inflight.clear();
        s.held = false;
        s.error.reset();
        fail_slot(s, e, false);
        continue;
      }
      PartitionOffsetMap fresh;
      if (auto b = fresh.begin((*src)[0].offset, (*dst)[0].offset); !b) raise("offset map: " + b.error());
      s.map = std::move(fresh);
      s.committed_map = s.map;
      s.skipped = s.committed_skipped = 0;
      s.dirty = true;
      s.next_send = s.map.scanned_up();
      if (s.pause) resumed(s);  // a partition paused because its topic was gone starts afresh
      s.error.reset();
      s.held = false;
      back.push_back({s.topic, s.partition, s.next_send});
    }
    if (!back.empty()) must(consumer->add(back), "re-assign " + topic);
  }

  // The target copy of a topic was deleted and created again outside mirror: its partitions pause
  // (records still in flight may land in the new topic) and, at their retry, drop what landed there
  // and are filled again from the source's start (retry_paused).
  void target_recreated(const std::map<int32_t, size_t>& parts, const std::string& new_id) {
    const Slot& first = slots[parts.begin()->second];
    report_recreation(first.topic, false, first.target_topic_id, new_id, {});
    for (const auto& [p, slot] : parts) {
      Slot& s = slots[slot];
      s.target_topic_id = new_id;
      s.refill_pending = true;
      s.dirty = true;
      if (!s.error && !s.held) {
        kafka::Error e;
        e.code = kafka::Errc::not_found;
        e.operation = "write to " + flow.target + ":" + s.target_topic;
        e.cluster = target.label();
        e.message = "the topic was deleted and created again (a new topic id); refilling it from the source";
        fail_slot(s, e, eos);
      }
    }
  }

  // Records mirror wrote into a target partition before it noticed the topic was recreated (they were
  // in flight) sit at its offsets 0..end-1, out of the source's order: drop them (DeleteRecords), so the
  // partition holds the source's records in order once it is filled again.
  void drop_strays(const Slot& s, int64_t target_end) {
    if (target_end <= 0) return;
    const std::string part = flow.target + ":" + s.target_topic + "[" + std::to_string(s.partition) + "]";
    auto r = dst_admin->delete_records({{s.target_topic, s.partition, target_end}});
    if (!r || (*r)[0].error) {
      log("warning: could not drop the " + std::to_string(target_end) + " records mirror wrote into " + part +
          " before it noticed the topic was recreated (" +
          planner::escape_text(!r ? r.error().describe() : (*r)[0].error->describe()) +
          "): they stay before the refilled copy (grant DELETE on the topic to avoid this)");
      return;
    }
    log("dropped the " + std::to_string(target_end) + " records mirror wrote into " + part +
        " before it noticed the topic was recreated (DeleteRecords before offset " +
        std::to_string(target_end) + "), so the refilled partition holds the source's records in order");
  }

  // `topic`'s source or target id differs from the one its progress was made with: start it over.
  void act_on_new_ids(const std::string& topic, const std::map<std::string, std::string>& src_ids,
                      const std::map<std::string, std::string>& dst_ids) {
    const Slot& s = slots[index.at(topic).begin()->second];
    if (auto it = src_ids.find(topic);
        it != src_ids.end() && planner::topic_id_changed(s.source_topic_id, it->second)) {
      restart_topic(topic, true, it->second);
    } else if (auto jt = dst_ids.find(s.target_topic);
               jt != dst_ids.end() && planner::topic_id_changed(s.target_topic_id, jt->second)) {
      restart_topic(topic, false, jt->second);
    }
  }

  // Discovery read the ids of the flow's topics: act on any that changed.
  void check_topic_ids(const std::map<std::string, int>& wanted,
                       const std::map<std::string, std::string>& src_ids,
                       const std::map<std::string, std::string>& dst_ids) {
    for (const auto& [topic, parts] : index) {  // restart_topic and fail_slot leave `index` as it is
      if (parts.empty()) continue;
      // The source topic is gone (deleted; the topic list was read fine): its partitions wait, paused,
      // so that a topic created again under the name is seen as new at their retry, never continued.
      // (`wanted` comes from a topic listing that succeeded: discovery ends on a failed one.)
      if (!wanted.count(topic) && !src_ids.count(topic)) {
        for (const auto& [p, slot] : parts) {
          Slot& g = slots[slot];
          if (g.error || g.held) continue;
          kafka::Error e;
          e.code = kafka::Errc::not_found;
          e.operation = "read " + flow.source + ":" + topic;
          e.cluster = source.label();
          e.message =
              "the source topic was deleted; a topic created again under this name is copied from its start";
          fail_slot(g, e, false);
        }
        continue;
      }
      act_on_new_ids(topic, src_ids, dst_ids);
      // Ids learnt for the first time (a topic whose id could not be read before).
      for (const auto& [p, slot] : parts) {
        Slot& x = slots[slot];
        if (x.source_topic_id.empty() && src_ids.count(topic))
          x.source_topic_id = src_ids.at(topic), x.dirty = true;
        if (x.target_topic_id.empty() && dst_ids.count(x.target_topic))
          x.target_topic_id = dst_ids.at(x.target_topic), x.dirty = true;
      }
    }
  }

  void refill(Slot& s, int64_t target_end) {
    const kafka::TopicPartition tp{s.topic, s.partition};
    auto offs = must(src_admin->list_offsets({{tp, kafka::OffsetSpec::earliest}}), "read the source offsets");
    const int64_t earliest = offs[0].offset;
    log("TARGET RECREATED: " + flow.target + ":" + s.target_topic + "[" + std::to_string(s.partition) +
        "] now ends at offset " + std::to_string(target_end) + ", before the " +
        std::to_string(s.map.next_down()) +
        " records mirror had written there (the topic was deleted and recreated, or truncated, outside "
        "mirror): copying " +
        flow.source + ":" + s.topic + "[" + std::to_string(s.partition) + "] into it again from offset " +
        std::to_string(earliest));
    PartitionOffsetMap fresh;
    if (auto b = fresh.begin(earliest, target_end); !b) raise("offset map: " + b.error());
    s.map = std::move(fresh);
    s.committed_map = s.map;
    s.skipped = 0;
    s.committed_skipped = 0;
    s.dirty = true;
    runner.metrics_.errors.with({{"flow", flow.name}, {"kind", "target_recreated"}})->inc();
  }

  bool source_partition_failed(const kafka::Error& e) {
    if (e.topic.empty() || whole_client(e)) return false;
    if (e.code != kafka::Errc::authorization && e.code != kafka::Errc::not_found) return false;
    auto t = index.find(e.topic);
    if (t == index.end()) return false;
    for (const auto& [p, slot] : t->second) {
      if (e.partition < 0 || p == e.partition) fail_slot(slots[slot], e, false);
    }
    return true;
  }

  // Retention deleted records before they were mirrored, or the topic was recreated: say so loudly and
  // continue from the earliest offset available.
  void out_of_range(const kafka::Error& e) {
    auto t = index.find(e.topic);
    if (t == index.end() || !t->second.count(e.partition)) raise(e.describe());
    Slot& s = slots[t->second.at(e.partition)];
    // An offset anomaly may be a recreated topic: a new id is a new topic, copied from its start.
    if (auto ids = ids_of(*src_admin, {s.topic});
        ids.count(s.topic) && planner::topic_id_changed(s.source_topic_id, ids.at(s.topic))) {
      restart_topic(s.topic, true, ids.at(s.topic));
      return;
    }
    must(producer->flush(), "flush the target producer");  // settle the map first
    const kafka::TopicPartition tp{s.topic, s.partition};
    auto offs =
        must(src_admin->list_offsets({{tp, kafka::OffsetSpec::earliest}, {tp, kafka::OffsetSpec::latest}}),
             "read the source offsets of " + s.topic);
    const int64_t earliest = offs[0].offset, latest = offs[1].offset;
    const std::string where = flow.source + ":" + s.topic + "[" + std::to_string(s.partition) + "]";
    const int64_t pos = s.next_send;
    if (pos < earliest) {
      const int64_t lost = earliest - pos;
      log("DATA LOSS UPSTREAM: " + std::to_string(lost) + " records of " + where + " (offsets " +
          std::to_string(pos) + ".." + std::to_string(earliest - 1) +
          ") were deleted by retention before mirror could copy them; continuing from offset " +
          std::to_string(earliest) + ". Raise the source topic's retention.ms or reduce the lag.");
      s.skipped += lost;
      s.skipped_total->inc(static_cast<uint64_t>(lost));
      if (auto r = s.map.advance_scanned(earliest); !r) raise("offset map: " + r.error());
    } else if (pos > latest) {
      log("DATA LOSS UPSTREAM: " + where + " now ends at offset " + std::to_string(latest) +
          ", before the next offset to copy (" + std::to_string(pos) +
          "): the topic was deleted and recreated, or truncated. Records written there since are copied "
          "from offset " +
          std::to_string(earliest) + "; translation of older group offsets starts over.");
      PartitionOffsetMap fresh;
      if (auto b = fresh.begin(earliest, s.map.next_down()); !b) raise("offset map: " + b.error());
      s.map = std::move(fresh);
    }
    s.dirty = true;
    s.next_send = s.map.scanned_up();
    runner.metrics_.errors.with({{"flow", flow.name}, {"kind", "data_loss_upstream"}})->inc();
    must(consumer->remove({tp}), "re-assign " + where);
    must(consumer->add({{s.topic, s.partition, s.next_send}}), "re-assign " + where);
  }

  // ---- progress ----
  void commit() {
    // Before anything is stored: this engine must still hold the flow (a paused engine stops here).
    if (auto c = lease.confirm(); !c) raise(c.error().describe(), c.error().code == kafka::Errc::fenced);
    if (eos) {
      must(producer->flush(), "flush the transaction's records");
    } else {
      producer->poll(milliseconds(0));
    }
    // A failed partition is paused here; the others' progress is stored as usual. (exactly_once: the
    // transaction was aborted and every partition is back at its committed progress: nothing to store.)
    const bool aborting = eos && needs_abort;
    contain_failures();
    if (aborting) return;
    for (auto& s : slots) {
      if (s.error || s.held) continue;
      // Nothing in flight: offsets the consumer skipped (transaction markers, aborted records) are done.
      if (s.inflight.empty()) {
        if (auto pos = consumer->position({s.topic, s.partition}); pos && *pos > s.map.scanned_up()) {
          if (s.map.advance_scanned(*pos)) s.dirty = true;
          s.next_send = std::max(s.next_send, *pos);
        }
      }
    }
    for (auto& s : slots) {
      // Keep the map small: nothing below the source's log start can be asked for, and beyond kMaxRuns
      // (exactly_once adds a run per transaction) the oldest runs go.
      size_t dropped = 0;
      if (auto wm = consumer->cached_watermarks({s.topic, s.partition}); wm && wm->first > s.map.start_up()) {
        dropped += s.map.trim_below(std::min(wm->first, s.map.scanned_up()));
      }
      if (s.map.runs().size() > kMaxRuns) {
        dropped += s.map.trim_below(s.map.runs()[s.map.runs().size() - kMaxRuns].up);
      }
      if (dropped > 0) s.dirty = true;
    }
    kafka::Producer& out = eos ? *producer : *state_producer;
    const std::string at = utc_now();
    for (auto& s : slots) {
      if (!s.dirty) continue;
      PartitionProgress p{flow.name, s.topic, s.partition,       s.target_topic,   s.map,
                          s.skipped, at,      s.source_topic_id, s.target_topic_id};
      const std::string key = progress_key(flow.name, s.topic, s.partition);
      const std::string value = to_json(p);
      must(
          out.send({.topic = kProgressTopic, .partition = 0, .key = key, .value = value, .tag = kNotARecord}),
          "store progress");
      s.dirty = false;
    }
    if (eos) {
      if (auto c = producer->commit_transaction(); !c) {
        // A record of the transaction failed while it committed: abort, pause that partition, go on.
        if (any_failure && needs_abort) {
          contain_failures();
          return;
        }
        raise("commit the transaction (records and progress): " + c.error().describe());
      }
      if (state_error) raise("store progress: " + state_error->describe());
      for (auto& s : slots) {
        s.committed_map = s.map;
        s.committed_skipped = s.skipped;
      }
      must(producer->begin_transaction(), "begin a transaction");
    } else {
      must(state_producer->flush(), "store progress");
      if (state_error) raise("store progress: " + state_error->describe());
    }
  }

  void write_status(const std::string& st, double rate, int64_t lag) {
    runner.last_copied_ = copied;
    EngineStatus es{flow.name, st, runner.options_.owner, utc_now(), copied, rate, lag, runner.last_error()};
    for (const auto& [tp, pz] : runner.paused_) {
      es.paused.push_back({tp.first, tp.second, pz.reason, pz.error.describe(), pz.since});
    }
    const auto& rc = runner.recreations_;
    es.recreated.assign(rc.size() > 20 ? rc.end() - 20 : rc.begin(), rc.end());
    const std::string key = status_key(flow.name), value = to_json(es);
    kafka::Producer& out = eos ? *producer : *state_producer;
    (void)out.send({.topic = kProgressTopic, .partition = 0, .key = key, .value = value, .tag = kNotARecord});
  }

  int64_t update_lag() {
    int64_t total = 0;
    for (auto& s : slots) {
      auto wm = consumer->cached_watermarks({s.topic, s.partition});
      if (!wm) continue;
      const int64_t lag = std::max<int64_t>(0, wm->second - s.map.scanned_up());
      s.lag->set(static_cast<double>(lag));
      total += lag;
    }
    return total;
  }

  void report_progress(bool force) {
    const auto now = Clock::now();
    if (!force && now - last_log < runner.options_.progress_log_interval) return;
    const double secs = std::chrono::duration<double>(now - last_log).count();
    const double rate = secs > 0 ? static_cast<double>(copied - copied_at_last_log) / secs : 0;
    const int64_t lag = update_lag();
    if (copied != copied_at_last_log || lag > 0) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.0f", rate);
      log("copied " + std::to_string(copied) + " records (" + buf + " records/s); " + std::to_string(lag) +
          " remaining");
    }
    write_status("running", rate, lag);
    last_rate = rate;
    last_lag = lag;
    status_due = false;
    copied_at_last_log = copied;
    last_log = now;
  }
  double last_rate = 0;
  int64_t last_lag = 0;
  bool status_due = false;  // a partition was paused or resumed: `mirror status` should say so now

  // A different revision of this flow was applied to the target (mirror apply --detach, maybe from
  // another machine): reload the spec and, when it has that revision, continue with it.
  std::shared_ptr<const spec::Spec> reload_to;
  bool failed_over = false;  // `mirror failover` stopped the flow
  std::string announced_revision;
  bool new_revision() {
    auto applied = state::read_applied(target);
    if (!applied) return false;  // checked again at the next discovery
    auto it = applied->find(flow.name);
    if (it != applied->end() && !it->second.failed_over_at.empty()) {
      failed_over = true;  // stop like on SIGTERM; the runner then stops the flow
      return true;
    }
    if (!runner.options_.reload) return false;
    if (it == applied->end() || it->second.revision == planner::flow_revision(flow)) return false;
    const auto& r = it->second;
    auto spec = runner.options_.reload();
    const spec::Flow* f = spec ? spec->flow(flow.name) : nullptr;
    if (spec && (!f || planner::flow_revision(*f) == r.revision)) {
      log("revision " + r.revision + " was applied to " + flow.target + " by " + r.applied_by + " at " +
          r.applied_at + (f ? "; switching to it" : "; the flow is no longer in the spec: stopping it"));
      reload_to = std::move(spec);
      return true;
    }
    if (announced_revision != r.revision) {
      announced_revision = r.revision;
      log("warning: revision " + r.revision + " was applied to " + flow.target + " by " + r.applied_by +
          " at " + r.applied_at + ", but the spec this engine reads " +
          (spec ? "has revision " + (f ? planner::flow_revision(*f) : std::string("(none)"))
                : "cannot be loaded") +
          "; still running revision " + planner::flow_revision(flow) +
          ". Point the engine at the spec that was applied (-c / --git).");
    }
    return false;
  }

  // What a discovery round found: the partitions the flow selects now (targets created), or a new
  // revision to switch to. Runs on its own thread with its own admin clients.
  struct Discovery {
    std::map<std::string, int> wanted;
    bool reload = false;
    int64_t record_limit = 0;
    std::map<std::string, std::string> src_ids, dst_ids;  // the selected topics' ids and their targets'
    std::string error;
  };
  std::future<Discovery> discovery;
  Discovery discover() {
    Discovery d;
    try {
      if (new_revision()) {
        d.reload = true;
        return d;
      }
      auto src = must(kafka::Admin::connect(source), "connect to the source");
      auto dst = must(kafka::Admin::connect(target), "connect to the target");
      d.wanted = selected(src);
      d.record_limit = source_record_limit(src, d.wanted);
      ensure_targets(dst, d.wanted);
      std::set<std::string> names, targets;
      for (const auto& [t, n] : d.wanted) {
        names.insert(t);
        targets.insert(flow.target_topic(t));
      }
      d.src_ids = ids_of(src, names);
      d.dst_ids = ids_of(dst, targets);
    } catch (const SessionError& e) {
      d.error = e.message;
    }
    return d;
  }

  // ---- consumer-group offsets (planner/group_sync.h), every group_sync_interval beside the data path ----
  using Maps = std::map<std::pair<std::string, int32_t>, PartitionOffsetMap>;
  std::optional<kafka::Admin> gs_src, gs_dst;
  std::optional<std::map<planner::CheckpointKey, planner::CheckpointState>> checkpoints;
  std::set<std::string> announced_skips;
  // Declared after what a round uses: destroyed first, it waits for a running round to end.
  std::future<std::string> group_sync;  // "" or the round's error

  // On the group-sync thread only (rounds never overlap); `maps` is a snapshot taken on the data path.
  std::string sync_groups(Maps maps, std::set<std::string> topics) {
    try {
      if (!gs_src) gs_src.emplace(must(kafka::Admin::connect(source), "connect to the source"));
      if (!gs_dst) gs_dst.emplace(must(kafka::Admin::connect(target), "connect to the target"));
      if (!checkpoints) {  // once per session: what mirror (or MM2) checkpointed before
        planner::ClusterState known;
        const std::string topic = offsets::checkpoints_topic(flow.source);
        for (const auto& t : must(gs_dst->list_topics(), "list the target topics")) {
          if (t.name != topic) continue;
          if (auto n = observe::read_checkpoints(target, flow.source, known); !n)
            return "read " + topic + ": " + n.error();
        }
        checkpoints = std::move(known.checkpoints);
      }
      auto selected = [this](const std::string& g) { return flow.replicates_group(g); };
      planner::ClusterState src, dst;
      src.alias = flow.source;
      dst.alias = flow.target;
      for (const auto& t : topics) src.topics[t] = planner::TopicState{t};
      auto sg = observe::observe_groups(*gs_src, selected);
      if (!sg) return "read the source's consumer groups: " + sg.error();
      auto dg = observe::observe_groups(*gs_dst, selected);
      if (!dg) return "read the target's consumer groups: " + dg.error();
      src.groups = std::move(*sg);
      dst.groups = std::move(*dg);
      dst.offset_maps[flow.name] = std::move(maps);
      dst.checkpoints = *checkpoints;
      for (const auto& r : planner::group_reports(flow, src, dst)) {
        if (r.status == planner::GroupStatus::skipped_active) {
          if (announced_skips.insert(r.group).second)
            log("group " + planner::escape_text(r.group) + ": " + planner::escape_text(r.reason));
          continue;
        }
        announced_skips.erase(r.group);
        if (!r.writes()) continue;
        apply::GroupWrite w{r.group, flow.source, {}};
        for (const auto& p : r.partitions) {
          if (p.decision != planner::GroupDecision::write && p.decision != planner::GroupDecision::rewound)
            continue;
          w.offsets.push_back({p.target_topic, p.partition, *p.translated, p.source_offset});
        }
        const apply::GroupWriteResult res = apply::write_group_offsets(*gs_dst, target, w);
        if (!res.written) {
          log("group " + planner::escape_text(r.group) + ": " + planner::escape_text(res.message));
          continue;
        }
        for (const auto& o : w.offsets) {
          (*checkpoints)[{flow.source, r.group, o.topic, o.partition}] = {o.source_offset, o.offset};
        }
        runner.metrics_.group_offsets.with({{"flow", flow.name}, {"group", r.group}})->inc(w.offsets.size());
        if (!res.message.empty())
          log("group " + planner::escape_text(r.group) + ": " + planner::escape_text(res.message));
      }
    } catch (const SessionError& e) {
      return e.message;
    }
    return "";
  }

  void maybe_sync_groups(Clock::time_point now, Clock::time_point& next) {
    if (group_sync.valid() && group_sync.wait_for(milliseconds(0)) == std::future_status::ready) {
      // A failed round is reported and retried next interval; replication goes on.
      if (const std::string err = group_sync.get(); !err.empty()) {
        runner.metrics_.errors.with({{"flow", flow.name}, {"kind", "group_sync"}})->inc();
        log("consumer-group sync: " + err + " (retrying in " +
            std::to_string(runner.options_.group_sync_interval.count() / 1000) + " s)");
      }
    }
    if (!flow.groups.sync_offsets || group_sync.valid() || now < next) return;
    next = now + runner.options_.group_sync_interval;
    Maps maps;
    std::set<std::string> topics;
    for (const auto& s : slots) {
      maps[{s.topic, s.partition}] = s.map;
      topics.insert(s.topic);
    }
    group_sync = std::async(std::launch::async, [this, m = std::move(maps), t = std::move(topics)]() mutable {
      return sync_groups(std::move(m), std::move(t));
    });
  }

  // ---- heartbeats: MM2's format, so that MM2's tools (and its RemoteClusterUtils) see a live pair ----
  // Like MM2, the pair A -> B writes Heartbeat(source B, target A) into A's `heartbeats`; the flow
  // mirrors that topic to B (as A.heartbeats) and the copy's latency is the flow's end-to-end latency.
  // One flow per (source, target) emits and mirrors them: the first in the spec (Flow::mirrors_heartbeats).
  std::optional<kafka::Producer> hb_producer;
  Clock::time_point next_heartbeat = Clock::now();
  bool heartbeats_off = false;

  bool emits_heartbeats() const {
    return runner.options_.heartbeat_interval.count() > 0 && flow.mirrors_heartbeats;
  }

  void heartbeats_fail(const std::string& why) {
    heartbeats_off = true;
    log("heartbeats are off for this session: " + why +
        " (replication is not affected; MM2-style latency is not measured)");
  }

  void start_heartbeats() {
    if (!emits_heartbeats()) return;
    const std::string topic(offsets::kHeartbeatsTopic);
    auto topics = src_admin->list_topics();
    if (!topics) return heartbeats_fail("list the source topics: " + topics.error().describe());
    if (std::none_of(topics->begin(), topics->end(), [&](const auto& t) { return t.name == topic; })) {
      auto r = src_admin->create_topics({{.name = topic, .configs = {{"cleanup.policy", "compact"}}}});
      if (!r || (!(*r)[0].ok() && (*r)[0].error->code != kafka::Errc::already_exists)) {
        return heartbeats_fail("cannot create `" + topic + "` on " + flow.source + ": " +
                               planner::escape_text(!r ? r.error().describe() : (*r)[0].error->describe()) +
                               "; create it (compacted, 1 partition) or grant CREATE on it");
      }
    }
    auto p = kafka::Producer::create(source, {}, [this](const kafka::Delivery& d) {
      if (d.error && !heartbeats_off)
        heartbeats_fail("write to `heartbeats` on " + flow.source + ": " + d.error->describe());
    });
    if (!p) return heartbeats_fail(p.error().describe());
    hb_producer.emplace(std::move(*p));
  }

  void maybe_heartbeat(Clock::time_point now) {
    if (!hb_producer || heartbeats_off) return;
    hb_producer->poll(milliseconds(0));
    if (now < next_heartbeat) return;
    next_heartbeat = now + runner.options_.heartbeat_interval;
    const offsets::Heartbeat h{flow.target, flow.source, wall_ms()};
    const std::string key = offsets::heartbeat_key(h), value = offsets::heartbeat_value(h);
    if (auto r = hb_producer->send(
            {.topic = offsets::kHeartbeatsTopic, .partition = 0, .key = key, .value = value});
        !r) {
      heartbeats_fail("write to `heartbeats` on " + flow.source + ": " + r.error().describe());
    }
  }

  // ---- the session ----
  void run() {
    open_clients();
    must(ensure_progress_topic(target, flow.replication_factor), "create " + std::string(kProgressTopic));
    const std::string prefix = "progress/" + flow.name + "/";
    auto read = must(state::read_progress(target, prefix), "read the stored progress");
    // An unreadable record never stops the flow: the previous readable record of its partition stands
    // (records since then are copied again), or none (the partition starts as the flow's start: says).
    for (const auto& s : read.skipped) {
      log("warning: skipped an unreadable progress record: " + state::describe(s) +
          "; its partition continues from its previous readable progress, if any");
    }
    std::map<std::string, PartitionProgress> stored = std::move(read.progress);
    start_heartbeats();  // first: a `heartbeats` topic it creates is mirrored from the start
    auto wanted = selected(*src_admin);
    ensure_targets(*dst_admin, wanted);
    add_partitions(wanted, stored);
    if (eos) must(producer->begin_transaction(), "begin a transaction");
    commit();  // new partitions' start positions are progress too
    runner.set_state(FlowState::running);
    write_status("running", 0, 0);

    auto next_commit = Clock::now() + runner.options_.commit_interval;
    auto next_discovery = Clock::now() + runner.options_.discovery_interval;
    auto next_group_sync = Clock::now();
    while (!stop.stop_requested()) {
      int got = 0;
      for (; got < 5000; ++got) {
        auto m = consumer->poll(milliseconds(got == 0 ? 50 : 0));
        if (!m) {
          const kafka::Error& e = m.error();
          if (e.partition >= 0 &&
              (e.kafka_code == "_AUTO_OFFSET_RESET" || e.kafka_code == "OFFSET_OUT_OF_RANGE")) {
            out_of_range(e);
            continue;
          }
          // A source partition's own failure (its topic deleted, READ revoked on it): pause it alone.
          if (source_partition_failed(e)) continue;
          raise("read from " + flow.source + ": " + e.describe());
        }
        if (!*m) break;
        if ((*m)->eof()) continue;
        forward(**m);
      }
      producer->poll(milliseconds(0));
      contain_failures();
      const auto now = Clock::now();
      retry_paused(now);
      if (now >= next_commit) {
        commit();
        next_commit = now + runner.options_.commit_interval;
      }
      // Discovery runs beside the data path (its requests take a while); its result is used here.
      if (!discovery.valid() && now >= next_discovery) {
        discovery = std::async(std::launch::async, [this] { return discover(); });
      }
      if (discovery.valid() && discovery.wait_for(milliseconds(0)) == std::future_status::ready) {
        Discovery d = discovery.get();
        if (!d.error.empty()) raise(d.error);
        if (d.reload) break;  // stop like on SIGTERM; the runner continues with the new spec
        if (d.record_limit > record_limit) {
          log("a selected source topic now accepts records of up to " + std::to_string(d.record_limit) +
              " bytes (max.message.bytes), above this session's " + std::to_string(record_limit) +
              ": storing progress and starting again with clients sized for it");
          restart = true;
          break;
        }
        check_topic_ids(d.wanted, d.src_ids, d.dst_ids);
        add_partitions(d.wanted, {});
        next_discovery = Clock::now() + runner.options_.discovery_interval;
      }
      maybe_sync_groups(now, next_group_sync);
      maybe_heartbeat(now);
      if (status_due) {
        write_status("running", last_rate, last_lag);
        status_due = false;
      }
      report_progress(false);
    }
    if (discovery.valid()) (void)discovery.get();  // let a running discovery round finish
    if (group_sync.valid()) (void)group_sync.get();
    // Graceful stop: nothing more is read; what was sent is flushed and stored.
    log("stopping: flushing records in flight and storing progress");
    must(producer->flush(), "flush the target producer");
    commit();
    report_progress(true);
    write_status("stopped", 0, update_lag());
    if (eos) {
      must(producer->commit_transaction(), "commit the last transaction");
    } else {
      must(state_producer->flush(), "store the engine status");
    }
    consumer->close();
  }
};

// ---- the runner: standby, sessions, backoff ----

FlowRunner::FlowRunner(std::shared_ptr<const spec::Spec> spec, std::string flow,
                       std::map<std::string, kafka::ClientConfig> clusters, EngineOptions options,
                       EngineMetrics& metrics)
    : spec_(std::move(spec)),
      flow_(std::move(flow)),
      clusters_(std::move(clusters)),
      options_(std::move(options)),
      metrics_(metrics) {}

FlowRunner::~FlowRunner() = default;

FlowState FlowRunner::state() const {
  std::lock_guard lock(mu_);
  return state_;
}

std::string FlowRunner::last_error() const {
  std::lock_guard lock(mu_);
  return last_error_;
}

void FlowRunner::set_state(FlowState s, std::string error) {
  {
    std::lock_guard lock(mu_);
    state_ = s;
    if (!error.empty()) last_error_ = std::move(error);
  }
  for (FlowState x :
       {FlowState::standby, FlowState::starting, FlowState::running, FlowState::error, FlowState::stopped}) {
    metrics_.state.with({{"flow", flow_}, {"state", flow_state_name(x)}})->set(x == s ? 1 : 0);
  }
}

// "flow F was failed over by U at T ..." when `mirror failover` stopped this flow; nullopt otherwise (or
// when the state cannot be read: the lease decides then).
std::optional<std::string> FlowRunner::failed_over_by(const kafka::ClientConfig& target) {
  auto applied = state::read_applied(target);
  if (!applied) return std::nullopt;
  auto it = applied->find(flow_);
  if (it == applied->end() || it->second.failed_over_at.empty()) return std::nullopt;
  return "the flow was failed over by " + it->second.failed_over_by + " at " + it->second.failed_over_at +
         " (mirror failover): not replicating it. Run `mirror apply` for this flow to resume replication.";
}

// The engine's last report, written after its session ended (no lease needed: it is a status, not
// progress). Best effort: `mirror status` shows the previous report when it cannot be written.
void FlowRunner::write_final_status(const kafka::ClientConfig& target, const std::string& st,
                                    const std::string& why) {
  state::EngineStatus es{flow_, st, options_.owner, utc_now(), last_copied_, 0, 0, why};
  (void)state::write_keyed(target, state::kProgressTopic, {{state::status_key(flow_), state::to_json(es)}},
                           "store the engine's last status");
}

// A holder on this host whose process is gone (kill -9, OOM) need not be waited for until its lease
// expires: its owner names the host and pid ("user@host pid N").
bool FlowRunner::take_over_dead_local_holder(const kafka::ClientConfig& target) {
  const std::string lease = "engine/" + flow_;
  auto h = state::read_lease(target, lease, kEngineLeaseTopic);
  if (!h || !*h) return false;
  char host[256] = "";
  gethostname(host, sizeof host - 1);
  const std::string& owner = (*h)->owner;
  const auto at = owner.find('@'), pid_at = owner.rfind(" pid ");
  if (at == std::string::npos || pid_at == std::string::npos || pid_at < at) return false;
  if (owner.substr(at + 1, pid_at - at - 1) != host) return false;
  const pid_t pid = static_cast<pid_t>(std::atol(owner.c_str() + pid_at + 5));
  if (pid <= 0 || pid == getpid() || kill(pid, 0) == 0 || errno != ESRCH) return false;
  auto r = state::force_release(target, lease, (*h)->id, options_.owner, kEngineLeaseTopic);
  if (!r || !*r) return false;
  if (options_.log) {
    options_.log("flow " + flow_ + ": the previous engine on this host (pid " + std::to_string(pid) +
                 ") is gone; taking over its lease " + (*h)->id + " without waiting for it to expire");
  }
  return true;
}

void FlowRunner::run(std::stop_token stop) {
  const spec::Flow* flow = spec_->flow(flow_);
  if (!flow) return;
  auto log = [&](const std::string& line) {
    if (options_.log) options_.log("flow " + flow_ + ": " + line);
  };
  const kafka::ClientConfig& target = clusters_.at(flow->target);
  auto sleep_until_stopped = [&](milliseconds d) {
    const auto until = Clock::now() + d;
    while (!stop.stop_requested() && Clock::now() < until) std::this_thread::sleep_for(milliseconds(100));
  };

  milliseconds backoff{1000};
  while (!stop.stop_requested()) {
    // One engine per flow and target: the others wait as standbys and take over when it dies.
    set_state(FlowState::standby);
    std::unique_ptr<state::Lease> lease;
    bool said = false;
    while (!stop.stop_requested() && !lease) {
      if (auto why = failed_over_by(target)) {
        log(*why);
        set_state(FlowState::stopped);
        return;
      }
      auto l = state::Lease::acquire(target, {.topic = kEngineLeaseTopic,
                                              .lease = "engine/" + flow_,
                                              .owner = options_.owner,
                                              .purpose = "mirror run",
                                              .ttl = options_.lease_ttl,
                                              .wait = milliseconds(0)});
      if (l) {
        lease = std::move(*l);
        break;
      }
      if (l.error().code == kafka::Errc::already_exists && take_over_dead_local_holder(target)) continue;
      if (!said || l.error().code != kafka::Errc::already_exists) {
        log(l.error().code == kafka::Errc::already_exists
                ? "standby: another engine runs this flow (" + l.error().message +
                      "); this one takes over when it stops"
                : "cannot take the flow's lease: " + l.error().describe());
        said = l.error().code == kafka::Errc::already_exists;
      }
      sleep_until_stopped(std::max(milliseconds(1000), options_.lease_ttl / 3));
    }
    if (!lease) break;
    set_state(FlowState::starting);
    log("running (lease " + lease->holder().id + ")");
    const auto started = Clock::now();
    try {
      Session session(*this, *flow, *lease, stop);
      session.run();
      if (session.failed_over) {
        (void)lease->release();
        continue;  // the check above says who failed it over, and stops
      }
      if (session.restart) {  // clients sized anew; progress was stored by the clean stop
        (void)lease->release();
        continue;
      }
      if (session.reload_to) {
        spec_ = session.reload_to;
        flow = spec_->flow(flow_);
        (void)lease->release();
        if (!flow) break;
        backoff = milliseconds(1000);
        continue;
      }
      set_state(FlowState::stopped);
      log("stopped; progress stored");
      (void)lease->release();
      return;
    } catch (const std::exception& e) {  // a bug, not bad input: report it like any error and restart
      metrics_.errors.with({{"flow", flow_}, {"kind", "internal"}})->inc();
      set_state(FlowState::error, std::string("internal error: ") + e.what());
      log(std::string("internal error: ") + e.what() + "; restarting from the stored progress");
    } catch (const SessionError& e) {
      // `mirror failover` ended the lease on purpose: not an error. Its last word goes to mirror status.
      if (e.lost_lease) {
        if (auto why = failed_over_by(target)) {
          lease->abandon();
          log(*why + ": stopped; records written after the last stored progress are counted by the failover");
          write_final_status(target, "stopped", *why);
          set_state(FlowState::stopped);
          return;
        }
      }
      metrics_.errors.with({{"flow", flow_}, {"kind", e.lost_lease ? "lost_lease" : "replication"}})->inc();
      set_state(FlowState::error, e.message);
      log("error: " + e.message +
          (e.lost_lease ? "; this engine waits as a standby and takes the flow again once its lease is free"
                        : "; restarting from the stored progress in " +
                              std::to_string(backoff.count() / 1000) + " s"));
      if (e.lost_lease) {
        lease->abandon();
        continue;
      }
    }
    (void)lease->release();
    if (Clock::now() - started > std::chrono::minutes(1)) backoff = milliseconds(1000);  // it had recovered
    sleep_until_stopped(backoff);
    backoff = std::min(backoff * 2, milliseconds(30'000));
  }
  set_state(FlowState::stopped);
}

}  // namespace mirror::engine

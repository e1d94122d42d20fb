#include "state/lease.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <condition_variable>
#include <ctime>
#include <mutex>
#include <random>
#include <thread>
#include <utility>

#include "kafka/admin.h"
#include "kafka/consumer.h"
#include "kafka/producer.h"
#include "state/json_record.h"

namespace mirror::state {

namespace {
using Json = nlohmann::ordered_json;
using Clock = std::chrono::steady_clock;

constexpr std::pair<LeaseOp, const char*> kOps[] = {{LeaseOp::acquire, "acquire"},
                                                    {LeaseOp::renew, "renew"},
                                                    {LeaseOp::release, "release"},
                                                    {LeaseOp::force_release, "force_release"},
                                                    {LeaseOp::probe, "probe"}};

// ts + ttl without overflow (a topic with CreateTime would let a writer choose ts).
int64_t plus(int64_t ts, int64_t ttl) { return ts > INT64_MAX - ttl ? INT64_MAX : ts + ttl; }
}  // namespace

const char* lease_op_name(LeaseOp op) {
  for (const auto& [o, name] : kOps) {
    if (o == op) return name;
  }
  return op == LeaseOp::unreadable ? "unreadable" : "unknown";
}

void LeaseFolder::apply(const LeaseEvent& e) {
  if (e.lease != lease_) return;
  const bool first = !std::exchange(seen_, true);
  if (holder_ && holder_->expires_ms <= e.ts_ms) {
    last_end_ = End{holder_->id, "it expired at " + format_utc(holder_->expires_ms) +
                                     ": it was not renewed in time (was its process paused or cut off "
                                     "from the cluster?)"};
    holder_.reset();
  }
  switch (e.op) {
    case LeaseOp::acquire:
    case LeaseOp::renew:
      // A renewal never takes a free lease: a holder that lost it must acquire again. Only when the
      // log's retention removed everything before it does a renewal stand for the holding it extends.
      if (!holder_ && (e.op == LeaseOp::acquire || first)) {
        holder_ = LeaseHolder{e.id, e.owner, e.purpose, e.ts_ms, e.offset, plus(e.ts_ms, e.ttl_ms)};
      } else if (holder_ && holder_->id == e.id) {
        holder_->expires_ms = plus(e.ts_ms, e.ttl_ms);
      }
      break;
    case LeaseOp::unreadable:
      // The safe side: held (see lease.h), never free.
      if (!holder_) {
        holder_ = LeaseHolder{e.id, e.owner, e.purpose, e.ts_ms, e.offset, plus(e.ts_ms, e.ttl_ms)};
      } else {
        holder_->expires_ms = std::max(holder_->expires_ms, plus(e.ts_ms, e.ttl_ms));
      }
      break;
    case LeaseOp::release:
    case LeaseOp::force_release:
      if (holder_ && holder_->id == e.id) {
        last_end_ = End{e.id, e.op == LeaseOp::release
                                  ? "it was released at " + format_utc(e.ts_ms)
                                  : "it was force-unlocked by " + e.owner + " at " + format_utc(e.ts_ms)};
        holder_.reset();
      }
      break;
    case LeaseOp::probe: break;
  }
  if (e.op == LeaseOp::acquire) {
    if (holder_ && holder_->id == e.id) {
      waiting_.erase(e.owner);
    } else if (holder_) {
      waiting_[e.owner] = LeaseWaiter{e.owner, e.purpose, e.ts_ms};
    }
  }
}

std::optional<LeaseHolder> fold(const std::vector<LeaseEvent>& events, std::string_view lease) {
  LeaseFolder f{std::string(lease)};
  for (const auto& e : events) f.apply(e);
  return f.holder();
}

std::string format_utc(int64_t ms) {
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string describe(const LeaseHolder& h) {
  return h.owner + " since " + format_utc(h.since_ms) + " (lease " + h.id +
         (h.purpose.empty() ? std::string() : ", " + h.purpose) + "; expires " + format_utc(h.expires_ms) +
         " unless renewed)";
}

std::string encode_event(const LeaseEvent& e) {
  return Json{{"format", 1},      {"op", lease_op_name(e.op)}, {"id", e.id},
              {"owner", e.owner}, {"purpose", e.purpose},      {"ttl_ms", e.ttl_ms}}
      .dump();
}

namespace {
// Ids are what `mirror new_lease_id` makes (16 hex digits) or unreadable_event's "unreadable@<offset>".
bool valid_id(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '@' ||
           c == '.' || c == '_' || c == '-';
  });
}
// Owner and purpose are printed to whoever waits: no control characters (terminal escapes).
bool printable(std::string_view s) {
  return std::none_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
}
}  // namespace

std::optional<LeaseEvent> decode_event(std::string_view key, std::string_view value, int64_t ts_ms,
                                       int64_t offset, std::string* why) {
  std::string reason;
  auto bad = [&](std::string r = "") -> std::optional<LeaseEvent> {
    if (why) *why = r.empty() ? std::move(reason) : std::move(r);
    return std::nullopt;
  };
  auto j = record::parse_object(value, reason);
  if (!j || !record::format_is(*j, 1, reason)) return bad();
  using record::get;
  LeaseEvent e;
  std::string op_name;
  if (!get(*j, "op", op_name, reason, 64) || !get(*j, "id", e.id, reason, 64) ||
      !get(*j, "owner", e.owner, reason, 1024) || !get(*j, "purpose", e.purpose, reason, 1024) ||
      !get(*j, "ttl_ms", e.ttl_ms, reason, 0, kMaxTtlMs)) {
    return bad();
  }
  bool known = false;
  for (const auto& [o, name] : kOps) {
    if (op_name == name) {
      e.op = o;
      known = true;
    }
  }
  if (!known) return bad("field op is none of acquire, renew, release, force_release, probe");
  if (e.op != LeaseOp::probe && !valid_id(e.id)) return bad("field id is not a lease id");
  if (!printable(e.owner) || !printable(e.purpose))
    return bad("field owner or purpose has control characters");
  e.lease = std::string(key);
  e.ts_ms = ts_ms;
  e.offset = offset;
  return e;
}

LeaseEvent unreadable_event(std::string_view lease, int64_t ts_ms, int64_t offset, const std::string& why) {
  return {.lease = std::string(lease),
          .op = LeaseOp::unreadable,
          .id = "unreadable@" + std::to_string(offset),
          .owner = "an unreadable record",
          .purpose = "at offset " + std::to_string(offset) + ": " + why,
          .ttl_ms = kUnreadableHoldMs,
          .ts_ms = ts_ms,
          .offset = offset};
}

// ---- I/O ----

namespace {

std::string new_lease_id() {
  std::random_device rd;
  std::mt19937_64 g((static_cast<uint64_t>(rd()) << 32) ^ rd() ^
                    static_cast<uint64_t>(Clock::now().time_since_epoch().count()));
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(g()));
  return buf;
}

kafka::Error lease_error(const kafka::ClientConfig& target, kafka::Errc code, std::string message,
                         const std::string& lease = kApplyLease) {
  kafka::Error e;
  e.code = code;
  e.operation = lease == kApplyLease ? "take the apply lock" : "take the " + lease + " lease";
  e.cluster = target.label();
  e.message = std::move(message);
  return e;
}

// The lease log, created on first use: one partition (one total order), broker timestamps.
kafka::Result<void> ensure_topic(const kafka::ClientConfig& target, const std::string& topic) {
  auto admin = kafka::Admin::connect(target);
  if (!admin) return fail(std::move(admin).error());
  auto r = admin->create_topics({{.name = topic,
                                  .partitions = 1,
                                  .replication_factor = -1,
                                  .configs = {{"message.timestamp.type", "LogAppendTime"},
                                              {"cleanup.policy", "delete"},
                                              {"retention.ms", "604800000"},
                                              {"segment.ms", "86400000"}}}});
  if (!r) return fail(std::move(r).error());
  if (!(*r)[0].ok() && (*r)[0].error->code != kafka::Errc::already_exists) return fail(*(*r)[0].error);
  return {};
}

kafka::Result<bool> topic_exists(const kafka::ClientConfig& target, const std::string& topic) {
  auto admin = kafka::Admin::connect(target);
  if (!admin) return fail(std::move(admin).error());
  auto topics = admin->list_topics();
  if (!topics) return fail(std::move(topics).error());
  return std::any_of(topics->begin(), topics->end(),
                     [&](const kafka::TopicInfo& t) { return t.name == topic; });
}

// Appends events of one lease and folds the log incrementally (a consumer that keeps its position), so
// each confirmation reads only what was appended since the last one. Not thread-safe (Lease serializes).
class Log {
 public:
  static kafka::Result<std::unique_ptr<Log>> open(const kafka::ClientConfig& target, std::string topic,
                                                  std::string lease) {
    auto log = std::unique_ptr<Log>(new Log(target, std::move(topic), std::move(lease)));
    auto p = kafka::Producer::create(target, {}, [l = log.get()](const kafka::Delivery& d) {
      l->delivered_offset_ = d.offset;
      l->delivery_error_ = d.error;
      l->delivered_ = true;
    });
    if (!p) return fail(std::move(p).error());
    log->producer_.emplace(std::move(*p));
    auto c = kafka::Consumer::create(target, {.isolation = kafka::Isolation::read_uncommitted});
    if (!c) return fail(std::move(c).error());
    if (auto a = c->assign({{log->topic_, 0, -2}}); !a) return fail(a.error());
    log->consumer_.emplace(std::move(*c));
    return log;
  }

  // Appends and returns the event's offset once the broker acknowledged it.
  kafka::Result<int64_t> append(const LeaseEvent& e) {
    delivered_ = false;
    delivery_error_.reset();
    const std::string value = encode_event(e);
    if (auto s = producer_->send({.topic = topic_, .partition = 0, .key = e.lease, .value = value}); !s) {
      return fail(s.error());
    }
    if (auto f = producer_->flush(); !f) return fail(f.error());
    if (delivery_error_) return fail(*delivery_error_);
    if (!delivered_) return fail(lease_error(target_, kafka::Errc::other, "no delivery report"));
    return delivered_offset_;
  }

  // Folds every event up to and including `offset`.
  kafka::Result<void> sync_through(int64_t offset) {
    const auto deadline = Clock::now() + target_.timeout;
    while (seen_ < offset) {
      if (Clock::now() > deadline) {
        return fail(
            lease_error(target_, kafka::Errc::timed_out,
                        "could not read " + topic_ + " up to offset " + std::to_string(offset) + " in time"));
      }
      auto m = consumer_->poll(std::chrono::milliseconds(100));
      if (!m) return fail(m.error());
      if (!*m || (*m)->eof()) continue;
      seen_ = (*m)->offset();
      auto k = (*m)->key();
      auto v = (*m)->value();
      if (!k) continue;  // no lease's record: every writer keys its events by the lease
      std::string why = "the value is null";
      auto e = v ? decode_event(*k, *v, (*m)->timestamp_ms(), seen_, &why) : std::nullopt;
      folder_.apply(e ? *e : unreadable_event(*k, (*m)->timestamp_ms(), seen_, why));
    }
    return {};
  }

  kafka::Result<std::optional<LeaseHolder>> append_and_fold(const LeaseEvent& e) {
    auto off = append(e);
    if (!off) return fail(off.error());
    if (auto s = sync_through(*off); !s) return fail(s.error());
    return folder_.holder();
  }

  const LeaseFolder& folder() const { return folder_; }

 private:
  Log(const kafka::ClientConfig& target, std::string topic, std::string lease)
      : target_(target), topic_(std::move(topic)), folder_(std::move(lease)) {}
  kafka::ClientConfig target_;
  std::string topic_;
  LeaseFolder folder_;
  int64_t seen_ = -1;
  std::optional<kafka::Producer> producer_;
  std::optional<kafka::Consumer> consumer_;
  bool delivered_ = false;
  int64_t delivered_offset_ = -1;
  std::optional<kafka::Error> delivery_error_;
};

}  // namespace

struct Lease::Impl {
  kafka::ClientConfig target;
  LeaseRequest request;
  std::unique_ptr<Log> log;
  std::mutex mu;  // serializes use of `log`
  std::condition_variable cv;
  bool stopping = false;
  bool done = false;  // released or abandoned
  std::thread renewer;

  void stop_renewing() {
    {
      std::lock_guard lock(mu);
      stopping = true;
    }
    cv.notify_all();
    if (renewer.joinable()) renewer.join();
  }
};

Lease::Lease(std::unique_ptr<Impl> impl, LeaseHolder me) : impl_(std::move(impl)), me_(std::move(me)) {}

Lease::~Lease() {
  if (impl_ && !impl_->done) (void)release();
}

kafka::Result<std::unique_ptr<Lease>> Lease::acquire(const kafka::ClientConfig& target,
                                                     const LeaseRequest& request) {
  if (auto t = ensure_topic(target, request.topic); !t) return fail(t.error());
  auto log = Log::open(target, request.topic, request.lease);
  if (!log) return fail(log.error());
  const LeaseEvent attempt{.lease = request.lease,
                           .op = LeaseOp::acquire,
                           .id = new_lease_id(),
                           .owner = request.owner,
                           .purpose = request.purpose,
                           .ttl_ms = request.ttl.count()};
  const auto deadline = Clock::now() + request.wait;
  for (;;) {
    auto h = (*log)->append_and_fold(attempt);
    if (!h) return fail(h.error());
    if (*h && (*h)->id == attempt.id) {
      auto impl = std::make_unique<Impl>();
      impl->target = target;
      impl->request = request;
      impl->log = std::move(*log);
      Impl* raw = impl.get();
      LeaseEvent renew = attempt;
      renew.op = LeaseOp::renew;
      raw->renewer = std::thread([raw, renew] {
        std::unique_lock lock(raw->mu);
        const auto period = std::max(std::chrono::milliseconds(100), raw->request.ttl / 3);
        while (!raw->cv.wait_for(lock, period, [raw] { return raw->stopping; })) {
          (void)raw->log->append(renew);  // a failed renewal shows up in confirm()
        }
      });
      return std::unique_ptr<Lease>(new Lease(std::move(impl), **h));
    }
    if (Clock::now() >= deadline || target.stop.stop_requested()) {
      const std::string who = request.lease == kApplyLease ? "another mirror apply holds the lock: "
                                                           : "the " + request.lease + " lease is held by ";
      return fail(lease_error(target, kafka::Errc::already_exists,
                              *h ? who + describe(**h) : "the lease is contended; try again", request.lease));
    }
    const auto pause = std::min<Clock::duration>(std::chrono::seconds(1), deadline - Clock::now());
    std::this_thread::sleep_for(pause);
  }
}

kafka::Result<void> Lease::confirm() {
  std::lock_guard lock(impl_->mu);
  LeaseEvent renew{.lease = impl_->request.lease,
                   .op = LeaseOp::renew,
                   .id = me_.id,
                   .owner = me_.owner,
                   .purpose = me_.purpose,
                   .ttl_ms = impl_->request.ttl.count()};
  auto h = impl_->log->append_and_fold(renew);
  if (!h) return fail(h.error());
  if (*h && (*h)->id == me_.id && (*h)->since_offset == me_.since_offset) return {};
  const auto& end = impl_->log->folder().last_end();
  std::string why = end && end->id == me_.id ? end->how : "it was lost";
  if (*h && (*h)->id != me_.id) why += "; since then it is held by " + describe(**h);
  kafka::Error e = lease_error(impl_->target, kafka::Errc::fenced, "no longer holds the lease: " + why);
  e.operation = "confirm the " + impl_->request.lease + " lease";
  return fail(std::move(e));
}

kafka::Result<void> Lease::release() {
  if (impl_->done) return {};
  impl_->stop_renewing();
  impl_->done = true;
  LeaseEvent e{.lease = impl_->request.lease, .op = LeaseOp::release, .id = me_.id, .owner = me_.owner};
  auto off = impl_->log->append(e);
  if (!off) return fail(off.error());
  return {};
}

void Lease::abandon() {
  impl_->stop_renewing();
  impl_->done = true;
}

kafka::Result<std::optional<LeaseHolder>> read_lease(const kafka::ClientConfig& target,
                                                     std::string_view lease, std::string_view topic) {
  auto exists = topic_exists(target, std::string(topic));
  if (!exists) return fail(exists.error());
  if (!*exists) return std::optional<LeaseHolder>{};
  auto log = Log::open(target, std::string(topic), std::string(lease));
  if (!log) return fail(log.error());
  // A probe asks the broker what time it is: a holding that expired before it is free.
  return (*log)->append_and_fold({.lease = std::string(lease), .op = LeaseOp::probe});
}

kafka::Result<LeaseView> read_lease_view(const kafka::ClientConfig& target, std::string_view lease,
                                         std::string_view topic) {
  auto exists = topic_exists(target, std::string(topic));
  if (!exists) return fail(exists.error());
  if (!*exists) return LeaseView{};
  auto admin = kafka::Admin::connect(target);
  if (!admin) return fail(std::move(admin).error());
  auto end = admin->list_offsets({{{std::string(topic), 0}, kafka::OffsetSpec::latest}});
  if (!end) return fail(std::move(end).error());
  if ((*end)[0].error) return fail(*(*end)[0].error);
  auto log = Log::open(target, std::string(topic), std::string(lease));
  if (!log) return fail(log.error());
  if (auto s = (*log)->sync_through((*end)[0].offset - 1); !s) return fail(s.error());
  LeaseView v{(*log)->folder().holder(), {}};
  for (const auto& [owner, w] : (*log)->folder().waiting()) v.waiting.push_back(w);
  std::sort(v.waiting.begin(), v.waiting.end(),
            [](const LeaseWaiter& a, const LeaseWaiter& b) { return a.last_ms > b.last_ms; });
  return v;
}

kafka::Result<std::optional<LeaseHolder>> force_release(const kafka::ClientConfig& target,
                                                        std::string_view lease, std::string_view id,
                                                        std::string_view by, std::string_view topic) {
  auto current = read_lease(target, lease, topic);
  if (!current) return fail(current.error());
  if (!*current || (*current)->id != id) return std::optional<LeaseHolder>{};
  auto log = Log::open(target, std::string(topic), std::string(lease));
  if (!log) return fail(log.error());
  auto after = (*log)->append_and_fold({.lease = std::string(lease),
                                        .op = LeaseOp::force_release,
                                        .id = std::string(id),
                                        .owner = std::string(by)});
  if (!after) return fail(after.error());
  return current;
}

}  // namespace mirror::state

#include "state/lease.h"

#include <nlohmann/json.hpp>

#include <condition_variable>
#include <ctime>
#include <mutex>
#include <random>
#include <thread>
#include <utility>

#include "kafka/admin.h"
#include "kafka/consumer.h"
#include "kafka/producer.h"

namespace mirror::state {

namespace {
using Json = nlohmann::ordered_json;
using Clock = std::chrono::steady_clock;

constexpr std::pair<LeaseOp, const char*> kOps[] = {{LeaseOp::acquire, "acquire"},
                                                    {LeaseOp::renew, "renew"},
                                                    {LeaseOp::release, "release"},
                                                    {LeaseOp::force_release, "force_release"},
                                                    {LeaseOp::probe, "probe"}};
}  // namespace

const char* lease_op_name(LeaseOp op) {
  for (const auto& [o, name] : kOps) {
    if (o == op) return name;
  }
  return "unknown";
}

std::optional<LeaseHolder> fold(const std::vector<LeaseEvent>& events, std::string_view lease) {
  std::optional<LeaseHolder> h;
  bool seen = false;  // an earlier event of this lease is in view
  for (const auto& e : events) {
    if (e.lease != lease) continue;
    const bool first = !std::exchange(seen, true);
    if (h && h->expires_ms <= e.ts_ms) h.reset();
    switch (e.op) {
      case LeaseOp::acquire:
      case LeaseOp::renew:
        // A renewal never takes a free lease: a holder that lost it must acquire again. Only when the
        // log's retention removed everything before it does a renewal stand for the holding it extends.
        if (!h && (e.op == LeaseOp::acquire || first)) {
          h = LeaseHolder{e.id, e.owner, e.purpose, e.ts_ms, e.offset, e.ts_ms + e.ttl_ms};
        } else if (h->id == e.id) {
          h->expires_ms = e.ts_ms + e.ttl_ms;
        }
        break;
      case LeaseOp::release:
      case LeaseOp::force_release:
        if (h && h->id == e.id) h.reset();
        break;
      case LeaseOp::probe: break;
    }
  }
  return h;
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

std::optional<LeaseEvent> decode_event(std::string_view key, std::string_view value, int64_t ts_ms,
                                       int64_t offset) {
  Json j = Json::parse(value, nullptr, false);
  if (!j.is_object() || j.value("format", 0) != 1) return std::nullopt;
  const auto op_name = j.value("op", std::string());
  LeaseEvent e;
  bool known = false;
  for (const auto& [o, name] : kOps) {
    if (op_name == name) {
      e.op = o;
      known = true;
    }
  }
  if (!known) return std::nullopt;
  e.lease = std::string(key);
  e.id = j.value("id", std::string());
  e.owner = j.value("owner", std::string());
  e.purpose = j.value("purpose", std::string());
  e.ttl_ms = j.value("ttl_ms", int64_t{0});
  e.ts_ms = ts_ms;
  e.offset = offset;
  if (e.id.empty() && e.op != LeaseOp::probe) return std::nullopt;
  return e;
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

kafka::Error lease_error(const kafka::ClientConfig& target, kafka::Errc code, std::string message) {
  kafka::Error e;
  e.code = code;
  e.operation = "take the apply lock";
  e.cluster = target.label();
  e.message = std::move(message);
  return e;
}

// The lock topic, created on first use: one partition (one total order), broker timestamps.
kafka::Result<void> ensure_topic(const kafka::ClientConfig& target) {
  auto admin = kafka::Admin::connect(target);
  if (!admin) return fail(std::move(admin).error());
  auto r = admin->create_topics({{.name = kLockTopic,
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

kafka::Result<bool> topic_exists(const kafka::ClientConfig& target) {
  auto admin = kafka::Admin::connect(target);
  if (!admin) return fail(std::move(admin).error());
  auto topics = admin->list_topics();
  if (!topics) return fail(std::move(topics).error());
  return std::any_of(topics->begin(), topics->end(),
                     [](const kafka::TopicInfo& t) { return t.name == kLockTopic; });
}

// Appends events through one producer and reads the log back; not thread-safe (Lease serializes).
class Log {
 public:
  static kafka::Result<std::unique_ptr<Log>> open(const kafka::ClientConfig& target) {
    auto log = std::unique_ptr<Log>(new Log(target));
    auto p = kafka::Producer::create(target, {}, [l = log.get()](const kafka::Delivery& d) {
      l->delivered_offset_ = d.offset;
      l->delivery_error_ = d.error;
      l->delivered_ = true;
    });
    if (!p) return fail(std::move(p).error());
    log->producer_.emplace(std::move(*p));
    return log;
  }

  // Appends and returns the event's offset once the broker acknowledged it.
  kafka::Result<int64_t> append(const LeaseEvent& e) {
    delivered_ = false;
    delivery_error_.reset();
    const std::string value = encode_event(e);
    if (auto s = producer_->send({.topic = kLockTopic, .partition = 0, .key = e.lease, .value = value}); !s) {
      return fail(s.error());
    }
    if (auto f = producer_->flush(); !f) return fail(f.error());
    if (delivery_error_) return fail(*delivery_error_);
    if (!delivered_) return fail(lease_error(target_, kafka::Errc::other, "no delivery report"));
    return delivered_offset_;
  }

  // Every event from the start of the log up to and including `offset`.
  kafka::Result<std::vector<LeaseEvent>> read_through(int64_t offset) {
    auto c = kafka::Consumer::create(target_, {.isolation = kafka::Isolation::read_uncommitted});
    if (!c) return fail(std::move(c).error());
    if (auto a = c->assign({{kLockTopic, 0, -2}}); !a) return fail(a.error());
    std::vector<LeaseEvent> out;
    const auto deadline = Clock::now() + target_.timeout;
    int64_t seen = -1;
    while (seen < offset) {
      if (Clock::now() > deadline) {
        return fail(lease_error(target_, kafka::Errc::timed_out,
                                "could not read " + std::string(kLockTopic) + " up to offset " +
                                    std::to_string(offset) + " in time"));
      }
      auto m = c->poll(std::chrono::milliseconds(100));
      if (!m) return fail(m.error());
      if (!*m || (*m)->eof()) continue;
      seen = (*m)->offset();
      auto k = (*m)->key();
      auto v = (*m)->value();
      if (!k || !v) continue;
      if (auto e = decode_event(*k, *v, (*m)->timestamp_ms(), seen)) out.push_back(std::move(*e));
    }
    c->close();
    return out;
  }

  kafka::Result<std::optional<LeaseHolder>> append_and_fold(const LeaseEvent& e,
                                                            std::vector<LeaseEvent>* events = nullptr) {
    auto off = append(e);
    if (!off) return fail(off.error());
    auto evs = read_through(*off);
    if (!evs) return fail(evs.error());
    auto h = fold(*evs, e.lease);
    if (events) *events = std::move(*evs);
    return h;
  }

 private:
  explicit Log(const kafka::ClientConfig& target) : target_(target) {}
  kafka::ClientConfig target_;
  std::optional<kafka::Producer> producer_;
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
  if (auto t = ensure_topic(target); !t) return fail(t.error());
  auto log = Log::open(target);
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
      return fail(lease_error(
          target, kafka::Errc::already_exists,
          *h ? "another mirror apply holds the lock: " + describe(**h) : "the lock is contended; try again"));
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
  std::vector<LeaseEvent> events;
  auto h = impl_->log->append_and_fold(renew, &events);
  if (!h) return fail(h.error());
  if (*h && (*h)->id == me_.id && (*h)->since_offset == me_.since_offset) return {};
  std::string why;
  for (const auto& e : events) {
    if (e.offset <= me_.since_offset) continue;
    if (e.lease == impl_->request.lease && e.op == LeaseOp::force_release && e.id == me_.id) {
      why = "it was force-unlocked by " + e.owner + " at " + format_utc(e.ts_ms);
    }
  }
  if (why.empty()) {
    why = "it expired: it was not renewed for longer than its ttl of " +
          std::to_string(impl_->request.ttl.count() / 1000) +
          " s (was this process paused or cut off from the cluster?)";
    for (const auto& e : events) {
      if (e.lease == impl_->request.lease && e.offset > me_.since_offset && e.id != me_.id &&
          (e.op == LeaseOp::acquire || e.op == LeaseOp::renew) && *h && (*h)->id == e.id) {
        why += "; since then " + describe(**h);
        break;
      }
    }
  }
  kafka::Error e =
      lease_error(impl_->target, kafka::Errc::fenced, "this apply no longer holds the lock: " + why);
  e.operation = "confirm the apply lock";
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
                                                     std::string_view lease) {
  auto exists = topic_exists(target);
  if (!exists) return fail(exists.error());
  if (!*exists) return std::optional<LeaseHolder>{};
  auto log = Log::open(target);
  if (!log) return fail(log.error());
  // A probe asks the broker what time it is: a holding that expired before it is free.
  return (*log)->append_and_fold({.lease = std::string(lease), .op = LeaseOp::probe});
}

kafka::Result<std::optional<LeaseHolder>> force_release(const kafka::ClientConfig& target,
                                                        std::string_view lease, std::string_view id,
                                                        std::string_view by) {
  auto current = read_lease(target, lease);
  if (!current) return fail(current.error());
  if (!*current || (*current)->id != id) return std::optional<LeaseHolder>{};
  auto log = Log::open(target);
  if (!log) return fail(log.error());
  auto after = (*log)->append_and_fold({.lease = std::string(lease),
                                        .op = LeaseOp::force_release,
                                        .id = std::string(id),
                                        .owner = std::string(by)});
  if (!after) return fail(after.error());
  return current;
}

}  // namespace mirror::state

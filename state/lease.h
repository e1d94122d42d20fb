// Leases kept in the target cluster: one `mirror apply` at a time per target (and one engine per
// flow). The lock topic mirror.lock.internal is an append-only log of lease events; its single partition
// orders every event, and the broker stamps each one (LogAppendTime), so whoever holds a lease is a pure
// function of the log: no client clock, no compare-and-set API needed. docs/state.md explains why this
// is safe, including a holder that pauses past its ttl.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kafka/client_config.h"
#include "kafka/error.h"

namespace mirror::state {

inline constexpr const char* kLockTopic = "mirror.lock.internal";
inline constexpr const char* kApplyLease = "apply";

// ---- the pure core ----

// probe: changes nothing; its broker timestamp tells readers what time it is (expiry).
// unreadable: not written by anyone: a record of the lease that does not decode (unreadable_event).
enum class LeaseOp { acquire, renew, release, force_release, probe, unreadable };
const char* lease_op_name(LeaseOp op);

// One record of the lock topic: key = the lease name, value = JSON (docs/state.md).
struct LeaseEvent {
  std::string lease;  // e.g. "apply"
  LeaseOp op = LeaseOp::acquire;
  std::string id;       // the lease id of the (would-be) holder: random, printed, what force-unlock takes
  std::string owner;    // user@host
  std::string purpose;  // what it is held for, e.g. "apply plan 0123456789ab"
  int64_t ttl_ms = 0;
  int64_t ts_ms = 0;    // broker time (the topic's LogAppendTime)
  int64_t offset = -1;  // position in the lock topic
};

struct LeaseHolder {
  std::string id;
  std::string owner;
  std::string purpose;
  int64_t since_ms = 0;  // broker time of the event that (re)established this holding
  int64_t since_offset = -1;
  int64_t expires_ms = 0;  // broker time after which it is free unless renewed
};

// Who holds a lease, event by event (only events of its lease count). Rules:
//   - a holding whose expires_ms <= the event's ts_ms has expired: the lease is free;
//   - acquire when free: the event's id holds it from that event (since = the event);
//   - renew when free: ignored (a holder that lost its lease never gets it back by renewing), except
//     as the first event of the lease still in the log (retention removed its acquire);
//   - acquire or renew by the holder: extends expires_ms to ts_ms + ttl_ms;
//   - acquire or renew by anyone else while held: ignored (that caller lost the race);
//   - release or force_release naming the holder's id: free. Naming another id: ignored.
//   - unreadable (a record of this lease that does not decode): when free, held by that record until
//     its ts_ms + kUnreadableHoldMs (its id "unreadable@<offset>" can be force-unlocked); when held,
//     the holding lasts at least that long. Why held and not free: the record may be an acquire (or a
//     renewal) that a newer or broken writer meant; reading it as nothing could let a second holder in.
//     Reading it as held can only make the next apply wait (at most kUnreadableHoldMs after the last
//     such record), never admit two. Every reader folds the same log the same way, so they all agree.
// Someone who asked for a lease while another held it (a standby engine retries every few seconds).
struct LeaseWaiter {
  std::string owner;
  std::string purpose;
  int64_t last_ms = 0;  // broker time of its latest refused attempt
  bool operator==(const LeaseWaiter&) const = default;
};

class LeaseFolder {
 public:
  explicit LeaseFolder(std::string lease) : lease_(std::move(lease)) {}
  void apply(const LeaseEvent& e);
  const std::optional<LeaseHolder>& holder() const { return holder_; }
  // By owner: whoever was refused the lease and has not held it since (for `mirror status`).
  const std::map<std::string, LeaseWaiter>& waiting() const { return waiting_; }
  // How the most recent holding ended, for messages: its id and e.g. "it expired at ...".
  struct End {
    std::string id;
    std::string how;
  };
  const std::optional<End>& last_end() const { return last_end_; }

 private:
  std::string lease_;
  bool seen_ = false;
  std::optional<LeaseHolder> holder_;
  std::optional<End> last_end_;
  std::map<std::string, LeaseWaiter> waiting_;
};

// The holder right after the given events (in log order), or nullopt when free.
std::optional<LeaseHolder> fold(const std::vector<LeaseEvent>& events, std::string_view lease);

// "deploy@runner-7 (lease 1a2b3c4d5e6f7a8b, apply plan 0123456789ab) since 2026-11-25T10:00:00Z"
std::string describe(const LeaseHolder& h);
std::string format_utc(int64_t ms);

// How long an unreadable record of a lease holds it (the default ttl of a lease).
inline constexpr int64_t kUnreadableHoldMs = 60'000;
// The longest ttl a record may carry (anything longer is unreadable).
inline constexpr int64_t kMaxTtlMs = 7LL * 24 * 3600 * 1000;

std::string encode_event(const LeaseEvent& e);  // the record value (JSON)
// Strictly parses a record; ts and offset come from the record, not the value. nullopt (the reason in
// *why, never quoting the value) for a value that is not a format-1 lease event with every field.
std::optional<LeaseEvent> decode_event(std::string_view key, std::string_view value, int64_t ts_ms,
                                       int64_t offset, std::string* why = nullptr);
// The event standing for a record of `lease` that did not decode (LeaseOp::unreadable).
LeaseEvent unreadable_event(std::string_view lease, int64_t ts_ms, int64_t offset, const std::string& why);

// ---- the imperative shell ----

struct LeaseRequest {
  std::string topic = kLockTopic;  // the lease log
  std::string lease = kApplyLease;
  std::string owner;    // user@host
  std::string purpose;  // shown to whoever waits
  std::chrono::milliseconds ttl{60'000};
  std::chrono::milliseconds wait{0};  // how long to keep trying while someone else holds it
};

// A held lease. A background thread renews it every ttl/3 until release() or destruction.
class Lease {
 public:
  // Takes the lease, waiting up to request.wait. While someone else holds it past the wait, fails with
  // Errc::already_exists and a message naming the holder (describe()) and how to force it.
  static kafka::Result<std::unique_ptr<Lease>> acquire(const kafka::ClientConfig& target,
                                                       const LeaseRequest& request);
  ~Lease();  // releases (best effort)
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;

  const LeaseHolder& holder() const { return me_; }
  // The fence: appends a renewal and reads the log up to it. Ok only if this lease has been held without
  // interruption since it was acquired (a pause past the ttl, or a force-unlock, ends that for good).
  kafka::Result<void> confirm();
  kafka::Result<void> release();
  // Stops renewing without releasing, as a crashed holder would (for tests of expiry).
  void abandon();

 private:
  struct Impl;
  explicit Lease(std::unique_ptr<Impl> impl, LeaseHolder me);
  std::unique_ptr<Impl> impl_;
  LeaseHolder me_;
};

// The current holder of a lease (free: nullopt).
kafka::Result<std::optional<LeaseHolder>> read_lease(const kafka::ClientConfig& target,
                                                     std::string_view lease,
                                                     std::string_view topic = kLockTopic);

// A lease as its log says, read without writing to it (no probe: `now_ms` is the reader's clock, so a
// holder past expires_ms is one that has not renewed in time): for `mirror status`.
struct LeaseView {
  std::optional<LeaseHolder> holder;
  std::vector<LeaseWaiter> waiting;  // by their latest attempt, newest first
};
kafka::Result<LeaseView> read_lease_view(const kafka::ClientConfig& target, std::string_view lease,
                                         std::string_view topic);

// `mirror force-unlock ID`: ends the holding of lease id `id`. Returns the holder that was removed, or
// nullopt when `id` did not hold the lease (then nothing changed).
kafka::Result<std::optional<LeaseHolder>> force_release(const kafka::ClientConfig& target,
                                                        std::string_view lease, std::string_view id,
                                                        std::string_view by,
                                                        std::string_view topic = kLockTopic);

}  // namespace mirror::state

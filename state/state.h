// mirror's state in the target cluster: the compacted topic mirror.state.internal (docs/state.md).
// No local files: everything mirror needs to know what it applied lives in the cluster it applied to.
//
//   key   "flow/<flow name>"      value: JSON AppliedRecord (below); a null value (tombstone) forgets it
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "kafka/client_config.h"
#include "kafka/error.h"
#include "planner/cluster_state.h"
#include "state/skipped.h"

namespace mirror::state {

inline constexpr const char* kTopic = "mirror.state.internal";

// A soft-mandatory policy let through by `--override-policy RULE --reason TEXT` (docs/policies.md).
struct PolicyOverride {
  std::string rule;
  std::string reason;
  std::vector<std::string> resources;  // what the overridden checks failed on
  bool operator==(const PolicyOverride&) const = default;
};

struct AppliedRecord {
  std::string flow;
  // The name of the spec that applied the flow (its `name:`); "" when none is recorded: applied by an
  // unnamed spec, or by a mirror before owners existed (docs/state.md, "Ownership").
  std::string owner;
  std::string revision;      // planner::flow_revision at apply time
  std::string spec_source;   // without credentials
  std::string spec_commit;   // "" when the spec was not read from git
  std::string content_hash;  // of the spec files
  std::string applied_at;    // UTC, ISO 8601
  std::string applied_by;    // user@host
  std::string mirror_version;
  std::vector<std::string> managed_topics;  // target topics this flow created
  std::vector<planner::Acl> managed_acls;   // target ACLs this flow created
  // Set by `mirror failover`: engines do not replicate the flow until an apply resumes it.
  std::string failed_over_at;  // UTC; "" when not failed over
  std::string failed_over_by;
  std::vector<std::string> failed_over_groups;  // the groups it made ready on the target (absent before #22)
  // Set by `mirror failback` (a failed-over flow whose consumers went back to the source); cleared, like
  // failed_over, by the apply that resumes the flow.
  std::string failed_back_at;  // UTC; "" when not failed back
  std::string failed_back_by;
  std::vector<std::string> failed_back_groups;  // the groups it made ready on the source
  // The policy overrides the apply that recorded this revision used (empty: none).
  std::vector<PolicyOverride> policy_overrides;
};

std::string to_json(const AppliedRecord& r);
// Strict: nullopt (the reason in *why, never quoting the value) unless `text` is a format-1 record
// with every field the format requires, each of its type.
std::optional<AppliedRecord> from_json(std::string_view text, std::string* why = nullptr);
// "flow/<name>" -> name; nullopt for any other key.
std::optional<std::string> applied_flow_of_key(std::string_view key);

// What a read of the state topic found: the latest readable record per flow, and the records it skipped.
struct AppliedRead {
  std::map<std::string, AppliedRecord> records;  // by flow
  // Unreadable records that are still the latest of their key (a later readable record or tombstone
  // of the key supersedes one), in log order. Their flow keeps its previous readable record, if any.
  std::vector<Skipped> skipped;
};

// Pure. Folds the state topic's records in log order (unit-testable without a broker).
class AppliedFold {
 public:
  enum class Outcome { read, ignored, skipped };
  Outcome add(std::optional<std::string_view> key, std::optional<std::string_view> value, int32_t partition,
              int64_t offset);
  AppliedRead result() const;

 private:
  std::map<std::string, AppliedRecord> records_;
  std::map<std::string, Skipped> pending_;  // by key
};

// Reads every record of the state topic. A missing topic is an empty state. An unreadable record never
// fails the read: it is skipped and returned in `skipped`.
kafka::Result<AppliedRead> read_applied_checked(const kafka::ClientConfig& target);
// The same without the skipped records.
kafka::Result<std::map<std::string, AppliedRecord>> read_applied(const kafka::ClientConfig& target);

// Writes records (one per flow) and waits until the broker acknowledged all of them.
kafka::Result<void> write_applied(const kafka::ClientConfig& target,
                                  const std::vector<AppliedRecord>& records);
// Forgets flows (a retired flow): one tombstone per flow, acknowledged by the broker.
kafka::Result<void> forget_applied(const kafka::ClientConfig& target, const std::vector<std::string>& flows);

// Fills a ClusterState's applied flows (revision, owner, the resources each created) and the union of
// their managed resources from the records.
void merge_into(const std::map<std::string, AppliedRecord>& records, planner::ClusterState& st);

}  // namespace mirror::state

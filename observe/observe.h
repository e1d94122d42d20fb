// Reading the live state of the clusters a spec names, through the kafka adapter, into the planner's
// ClusterState values. The only place where the spec meets the network: references in the spec are
// resolved here, just before connecting, and never stored.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <set>
#include <string>

#include "common/result.h"
#include "kafka/admin.h"
#include "kafka/client_config.h"
#include "planner/cluster_state.h"
#include "spec/spec.h"
#include "spec/value.h"
#include "state/skipped.h"

namespace mirror::observe {

struct Options {
  std::chrono::milliseconds timeout{30'000};
  std::stop_token stop;
  // Receives "phase: detail (N ms)" lines for -v; never given secrets.
  std::function<void(const std::string&)> log;
  // Receives each record of mirror's own topics (applied state, the engine's progress) that does not
  // decode and was skipped (state/skipped.h), once per read, for plan and status to name. Never its value.
  std::function<void(const state::Skipped&)> skipped;
};

// The adapter's client config for a spec cluster, with ${env:}/${file:} references resolved now, under
// the operator's allowlists in resolver.settings (spec/trust.h): MIRROR_ALLOW_ENV, MIRROR_ALLOW_FILES,
// MIRROR_ALLOW_BOOTSTRAP (a broker it does not allow is refused before connecting) and
// MIRROR_ALLOW_CLIENT_PROPERTIES. Every resolved value and every secret property's value is registered
// with mirror::register_secret, and the MIRROR_KAFKA_DEBUG log goes through mirror::redact.
// The error names the reference and where it was written, never a value.
Result<kafka::ClientConfig, std::string> client_config(const spec::Cluster& cluster,
                                                       const spec::Resolver& resolver,
                                                       const Options& options);

// What to read from one cluster.
struct Scope {
  bool configs = true;  // topic configs (only for topics a flow replicates or could write)
  bool acls = true;
  std::set<std::string> config_topics;                     // topics whose configs are needed
  std::function<bool(const std::string&)> group_selected;  // groups whose offsets are needed
};

// The consumer groups `selected` picks on one cluster: state, members, committed offsets (one request
// per group for the offsets). Used by observe_spec and by the engine's continuous group sync.
Result<std::map<std::string, planner::GroupState>, std::string> observe_groups(
    kafka::Admin& admin, const std::function<bool(const std::string&)>& selected);

// In a target cluster: the engine's offset maps (of `flow`, or of every flow when empty) into
// `into.offset_maps` and the topic ids stored with them into `into.stored_topic_ids`, and the latest
// checkpoints of groups of `source` (<source>.checkpoints.internal, which must exist) into
// `into.checkpoints`. Return how many records they read. An unreadable progress record is skipped (given to
// `skipped`), never an error.
Result<size_t, std::string> read_offset_maps(const kafka::ClientConfig& target, const std::string& flow,
                                             planner::ClusterState& into,
                                             const std::function<void(const state::Skipped&)>& skipped = {});
Result<size_t, std::string> read_checkpoints(const kafka::ClientConfig& target, const std::string& source,
                                             planner::ClusterState& into);

// Observes every cluster the spec's flows name. Admin round trips do not grow with the number of topics:
// metadata, configs and ACLs are one request each per cluster; group offsets are one per selected group.
Result<std::map<std::string, planner::ClusterState>, std::string> observe_spec(const spec::Spec& spec,
                                                                               const spec::Resolver& resolver,
                                                                               const Options& options);

}  // namespace mirror::observe

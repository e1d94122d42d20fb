// Executing a plan: exactly its actions, in its order, batched per kind and cluster, continuing past
// failures of independent actions, then recording what was applied in each target cluster.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "kafka/client_config.h"
#include "planner/plan.h"
#include "spec/spec.h"
#include "state/state.h"

namespace mirror::apply {

struct Outcome {
  const planner::Action* action = nullptr;
  bool ok = false;
  std::string error;  // operator-facing, when !ok
};

struct Report {
  std::vector<Outcome> outcomes;          // one per plan action, in plan order
  std::vector<std::string> state_errors;  // recording the applied revision failed (per target)
  bool ok() const;
};

struct Options {
  std::string user_host;  // who applies, for the applied record ("alice@deploy-1")
  std::string now_utc;    // ISO 8601 time of the apply (injected: the applier reads no clock)
  // One structured JSON line per applied action (the audit trail), and per recorded revision.
  std::function<void(const std::string&)> audit;
  // Called before each batch of changes and before recording: an error (e.g. the apply lock was lost)
  // stops the apply there. The remaining actions are reported as not attempted, with this reason.
  std::function<std::optional<std::string>()> fence;
  // The engine creating topics for new source topics: record them as managed, but leave the flow's
  // applied revision (and who applied it) as it is.
  bool keep_revision = false;
  // Soft-mandatory policies this apply overrides: one audit line each before any change, and recorded
  // with every flow revision the apply records.
  std::vector<state::PolicyOverride> overrides;
};

// `clusters` holds a resolved client config for every alias the plan touches.
Report execute(const planner::Plan& plan, const spec::Spec& spec,
               const std::map<std::string, kafka::ClientConfig>& clusters, const Options& options);

}  // namespace mirror::apply

// One flow's replication: reads the selected source partitions (manual assignment) and writes each
// record to the same partition of the target topic, keeping progress and the offset map in the target
// cluster (state/progress.h). docs/engine.md describes the guarantees.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "engine/metrics.h"
#include "kafka/client_config.h"
#include "kafka/error.h"
#include "spec/spec.h"

namespace mirror::engine {

struct EngineOptions {
  std::chrono::milliseconds commit_interval{1'000};      // how often progress is stored
  std::chrono::milliseconds discovery_interval{10'000};  // how often new topics/partitions are looked for
  std::chrono::milliseconds group_sync_interval{5'000};  // how often group offsets are synced
  // How often a heartbeat (MM2's format) is written to the source's `heartbeats` topic; 0: never.
  std::chrono::milliseconds heartbeat_interval{1'000};
  std::chrono::milliseconds progress_log_interval{10'000};
  std::chrono::milliseconds lease_ttl{15'000};  // a standby takes over this long after a crash
  // A partition paused by its own error (docs/engine.md) is retried after 1 s, doubling up to this.
  std::chrono::milliseconds partition_retry_max{60'000};
  std::string owner;                              // "user@host pid N"
  std::function<void(const std::string&)> log;    // operator lines (thread-safe)
  std::function<void(const std::string&)> audit;  // JSON lines for created target topics
  // Loads the spec again from where it came from (file or git), when a new revision was applied.
  std::function<std::shared_ptr<const spec::Spec>()> reload;
};

// The metric families every flow updates (docs/metrics.md).
struct EngineMetrics {
  explicit EngineMetrics(Registry& r);
  Family<Counter>& records;
  Family<Counter>& bytes;
  Family<Gauge>& lag;
  Family<Histogram>& latency;
  Family<Counter>& errors;
  Family<Counter>& skipped;
  Family<Counter>& duplicates;
  Family<Gauge>& state;
  Family<Gauge>& partitions;
  Family<Counter>& group_offsets;  // group partitions whose target offset mirror wrote
  Family<Gauge>& heartbeat_latency;
  Family<Gauge>& paused;       // 1 while a partition is paused by its own error, labelled with the reason
  Family<Counter>& recreated;  // topics found deleted and created again (a new topic id), by side
};

enum class FlowState { standby, starting, running, error, stopped };

// A partition paused by an error of its own (docs/engine.md, "Containment"): the flow's other
// partitions go on; this one is retried with backoff until a record is written again.
struct PartitionPause {
  kafka::Error error;  // the latest failure
  std::string since;   // UTC, when it was first paused
  std::chrono::steady_clock::time_point started, retry_at;
  std::chrono::milliseconds backoff{1000};
  bool retrying = false;  // assigned again: its first record written resumes it
  std::string reason;     // the label of the mirror_partition_paused gauge now at 1
};
const char* flow_state_name(FlowState s);

class FlowRunner {
 public:
  // `clusters`: resolved client configs of every alias of the spec. The config's stop token is the
  // hard stop (abandon waits); `run`'s token is the graceful one.
  FlowRunner(std::shared_ptr<const spec::Spec> spec, std::string flow,
             std::map<std::string, kafka::ClientConfig> clusters, EngineOptions options,
             EngineMetrics& metrics);
  ~FlowRunner();

  // Runs until `stop` is requested: waits as a standby while another engine runs the flow, replicates,
  // retries after errors with backoff. Returns after storing progress.
  void run(std::stop_token stop);

  FlowState state() const;
  std::string last_error() const;
  const std::string& flow_name() const { return flow_; }

 private:
  struct Session;
  void set_state(FlowState s, std::string error = "");
  std::optional<std::string> failed_over_by(const kafka::ClientConfig& target);
  bool take_over_dead_local_holder(const kafka::ClientConfig& target);
  void write_final_status(const kafka::ClientConfig& target, const std::string& st, const std::string& why);
  uint64_t last_copied_ = 0;  // records copied by this process, as its last status report said

  std::shared_ptr<const spec::Spec> spec_;
  std::string flow_;
  std::map<std::string, kafka::ClientConfig> clusters_;
  EngineOptions options_;
  EngineMetrics& metrics_;
  mutable std::mutex mu_;
  FlowState state_ = FlowState::stopped;
  std::string last_error_;
  std::vector<std::string> recreations_;  // "UTC reason" of each recreated topic found (for status)
  // Paused partitions (source topic, partition), kept across sessions; only the flow's thread uses it.
  std::map<std::pair<std::string, int32_t>, PartitionPause> paused_;
};

}  // namespace mirror::engine

// `mirror run`: the replication engine in the foreground, resuming from progress stored in the target
// clusters. `mirror apply` (without --detach) ends by calling run_engine too.
#pragma once

#include <CLI/CLI.hpp>

#include <map>
#include <string>

#include "cmd/spec_options.h"
#include "kafka/client_config.h"
#include "spec/spec.h"

namespace mirror::cmd {

struct EngineFlags {
  std::string metrics_addr = "127.0.0.1:9464";
  int commit_interval_ms = 1000;
  int discovery_interval_s = 10;
  int group_sync_interval_s = 5;
  int heartbeat_interval_s = 1;
};
void add_engine_flags(CLI::App& sub, EngineFlags& f);

struct RunOptions {
  SpecOptions spec;
  EngineFlags engine;
  int timeout_seconds = 30;
};

CLI::App* add_run(CLI::App& app, RunOptions& o);
int run_run(const RunOptions& o);

// Runs the engine for every flow of `spec` until SIGINT/SIGTERM, then stores progress and returns the
// exit code (0 after a clean stop). The flows must have been applied to their targets.
// `spec_options` says where the spec came from, so that the engine can load it again when a new
// revision is applied while it runs.
int run_engine(const spec::Spec& spec, const SpecOptions& spec_options,
               const std::map<std::string, kafka::ClientConfig>& clusters, const EngineFlags& flags,
               const char* command);

}  // namespace mirror::cmd

#include "cmd/run.h"

#include <pwd.h>
#include <signal.h>
#include <unistd.h>

#include <ctime>
#include <iostream>
#include <memory>
#include <mutex>
#include <stop_token>
#include <thread>

#include "cmd/exit_codes.h"
#include "common/identity.h"
#include "engine/engine.h"
#include "observe/observe.h"
#include "planner/plan.h"
#include "state/state.h"

namespace mirror::cmd {

namespace {

std::string owner() { return user_at_host() + " pid " + std::to_string(getpid()); }

}  // namespace

void add_engine_flags(CLI::App& sub, EngineFlags& f) {
  sub.add_option("--metrics-addr", f.metrics_addr, "HOST:PORT for /metrics and /healthz (\"\" for none)")
      ->capture_default_str();
  sub.add_option("--commit-interval-ms", f.commit_interval_ms,
                 "How often progress is stored in the target (bounds re-copied records after a crash)")
      ->check(CLI::Range(10, 600000))
      ->capture_default_str();
  sub.add_option("--discovery-interval", f.discovery_interval_s,
                 "Seconds between looks for new source topics and partitions")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  sub.add_option("--group-sync-interval", f.group_sync_interval_s,
                 "Seconds between consumer-group offset syncs to the target (flows with "
                 "groups.sync_offsets)")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  sub.add_option("--heartbeat-interval", f.heartbeat_interval_s,
                 "Seconds between MM2-format heartbeats written to the source's `heartbeats` topic and "
                 "mirrored (end-to-end latency); 0: none")
      ->check(CLI::Range(0, 3600))
      ->capture_default_str();
}

CLI::App* add_run(CLI::App& app, RunOptions& o) {
  CLI::App* sub = app.add_subcommand(
      "run", "Run the replication engine for the spec's applied flows, resuming from stored progress");
  add_spec_options(*sub, o.spec);
  add_engine_flags(*sub, o.engine);
  sub->add_option("--timeout", o.timeout_seconds, "Seconds to wait for each cluster request")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  sub->footer(
      "Stops on SIGINT or SIGTERM: stops reading, flushes, stores progress and exits 0; whatever is still\n"
      "waiting 8 s later (or after a second signal) is abandoned and it exits 1 (nothing is lost: it "
      "resumes).\n"
      "A second engine for the same flow and target waits as a standby and takes over when the first\n"
      "stops or dies. Progress and the offset map live in the target cluster (docs/engine.md).\n"
      "Exit codes: 0 stopped cleanly, 1 error (spec, cluster, flow never applied, metrics address,\n"
      "hard stop).");
  return sub;
}

namespace {
sigset_t stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}
}  // namespace

int run_engine(const spec::Spec& spec, const SpecOptions& spec_options,
               const std::map<std::string, kafka::ClientConfig>& clusters_in, const EngineFlags& flags,
               const char* command) {
  // From here on SIGINT/SIGTERM are served by the signal thread below (a stop before the flows start
  // is a clean exit, not a kill).
  sigset_t set = stop_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::mutex out_mu;
  auto log = [&out_mu](const std::string& line) {
    std::lock_guard lock(out_mu);
    std::cerr << utc_now() << " " << line << "\n";
  };

  // Only flows that were applied: the engine replicates what was reviewed and recorded, never more.
  for (const auto& f : spec.flows) {
    auto applied = state::read_applied(clusters_in.at(f.target));
    if (!applied) {
      std::cerr << "mirror " << command << ": cannot read what was applied to " << f.target << ": "
                << applied.error().describe() << "; nothing was copied.\n";
      if (!applied.error().hint().empty()) std::cerr << "  hint: " << applied.error().hint() << "\n";
      return kExitError;
    }
    auto it = applied->find(f.name);
    if (it == applied->end()) {
      std::cerr
          << "mirror " << command << ": flow " << f.name << " was never applied to " << f.target
          << "; nothing was copied.\n  hint: review and apply it first: mirror plan -c SPEC --out plan.json; "
             "mirror apply -c SPEC plan.json\n";
      return kExitError;
    }
    if (it->second.revision != planner::flow_revision(f)) {
      log("mirror: warning: flow " + f.name + ": the spec differs from what was applied to " + f.target +
          " (revision " + it->second.revision + ", applied " + it->second.applied_at + " by " +
          it->second.applied_by + "); running the spec as given. Apply it to record it.");
    }
  }

  // SIGINT/SIGTERM: a graceful stop; a hard stop (cancel waits) 8 s later or on a second signal.
  std::stop_source graceful, hard;
  std::map<std::string, kafka::ClientConfig> clusters = clusters_in;
  for (auto& [alias, cfg] : clusters) cfg.stop = hard.get_token();

  engine::EngineOptions eo;
  eo.commit_interval = std::chrono::milliseconds(flags.commit_interval_ms);
  eo.discovery_interval = std::chrono::seconds(flags.discovery_interval_s);
  eo.group_sync_interval = std::chrono::seconds(flags.group_sync_interval_s);
  eo.heartbeat_interval = std::chrono::seconds(flags.heartbeat_interval_s);
  eo.owner = owner();
  eo.log = [log](const std::string& line) { log("mirror: " + line); };
  eo.audit = [log](const std::string& line) { log(line); };
  eo.reload = [spec_options]() -> std::shared_ptr<const spec::Spec> {
    spec::LoadResult l = load_spec(spec_options);
    if (!l.spec) return nullptr;
    return std::make_shared<const spec::Spec>(std::move(*l.spec));
  };
  engine::Engine engine(std::make_shared<const spec::Spec>(spec), clusters, eo);
  if (auto m = engine.serve_metrics(flags.metrics_addr); !m) {
    std::cerr << "mirror " << command << ": " << m.error() << "\n";
    pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
    return kExitError;
  }
  if (!flags.metrics_addr.empty()) log("mirror: metrics on http://" + engine.metrics_address() + "/metrics");

  std::jthread signals([&](std::stop_token done) {
    int count = 0;
    while (!done.stop_requested()) {
      timespec tick{0, 200'000'000};
      int sig = sigtimedwait(&set, nullptr, &tick);
      if (sig < 0) continue;
      if (++count == 1) {
        log(std::string("mirror: ") + (sig == SIGINT ? "SIGINT" : "SIGTERM") +
            ": stopping (flush, store progress); a second signal stops at once");
        graceful.request_stop();
      } else {
        hard.request_stop();
      }
    }
  });
  std::jthread watchdog([&](std::stop_token done) {
    while (!done.stop_requested() && !graceful.stop_requested())
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    for (int i = 0; i < 80 && !done.stop_requested(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (!done.stop_requested()) hard.request_stop();  // 8 s after the stop request: stop waiting
  });
  engine.run(graceful.get_token());
  signals.request_stop();
  watchdog.request_stop();
  signals.join();
  watchdog.join();
  pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
  return hard.stop_requested() ? kExitError : kExitOk;
}

int run_run(const RunOptions& o) {
  sigset_t set = stop_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);  // a stop while starting up is still a clean stop
  spec::LoadResult loaded = load_spec(o.spec);
  if (!loaded.spec) {
    for (const auto& d : loaded.diagnostics.sorted()) std::cerr << spec::format_text(d) << "\n";
    std::cerr << "mirror run: the spec is invalid; nothing was copied.\n";
    return kExitError;
  }
  observe::Options opts;
  opts.timeout = std::chrono::seconds(o.timeout_seconds);
  std::map<std::string, kafka::ClientConfig> clusters;
  for (const auto& [alias, c] : loaded.spec->clusters) {
    auto cfg = observe::client_config(c, spec::Resolver::system(), opts);
    if (!cfg) {
      std::cerr << "mirror run: cluster " << alias << ": " << cfg.error() << "\n";
      return kExitError;
    }
    clusters.emplace(alias, std::move(*cfg));
  }
  return run_engine(*loaded.spec, o.spec, clusters, o.engine, "run");
}

}  // namespace mirror::cmd

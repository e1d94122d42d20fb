// The engine behind `mirror run`: one FlowRunner thread per flow, the metrics endpoint, and a graceful
// stop. Everything it remembers lives in the target clusters (state/progress.h).
#pragma once

#include <map>
#include <memory>
#include <stop_token>
#include <string>
#include <vector>

#include "common/result.h"
#include "engine/flow.h"
#include "engine/metrics.h"

namespace mirror::engine {

class Engine {
 public:
  Engine(std::shared_ptr<const spec::Spec> spec, std::map<std::string, kafka::ClientConfig> clusters,
         EngineOptions options);
  ~Engine();

  // Serves /metrics and /healthz on `address` ("" for none). Errors say what, where and what to do.
  Result<void, std::string> serve_metrics(const std::string& address);
  std::string metrics_address() const;

  // Runs every flow of the spec until `stop`; returns once each flow stored its progress.
  void run(std::stop_token stop);

  const Registry& registry() const { return registry_; }

 private:
  std::shared_ptr<const spec::Spec> spec_;
  std::map<std::string, kafka::ClientConfig> clusters_;
  EngineOptions options_;
  Registry registry_;
  EngineMetrics metrics_;
  std::vector<std::unique_ptr<FlowRunner>> flows_;
  std::unique_ptr<MetricsServer> server_;
};

}  // namespace mirror::engine

#include "engine/engine.h"

#include <thread>

namespace mirror::engine {

Engine::Engine(std::shared_ptr<const spec::Spec> spec, std::map<std::string, kafka::ClientConfig> clusters,
               EngineOptions options)
    : spec_(std::move(spec)),
      clusters_(std::move(clusters)),
      options_(std::move(options)),
      metrics_(registry_) {
  for (const auto& f : spec_->flows) {
    flows_.push_back(std::make_unique<FlowRunner>(spec_, f.name, clusters_, options_, metrics_));
  }
}

Engine::~Engine() = default;

Result<void, std::string> Engine::serve_metrics(const std::string& address) {
  if (address.empty()) return {};
  MetricsServerOptions mo;
  mo.health = [this] {
    Health h;
    for (const auto& f : flows_) {
      const FlowState s = f->state();
      if (s == FlowState::error) {
        h.healthy = false;
        h.detail += "flow " + f->flow_name() + ": error: " + f->last_error() + "\n";
      } else {
        h.detail += "flow " + f->flow_name() + ": " + flow_state_name(s) + "\n";
      }
    }
    return h;
  };
  server_ = std::make_unique<MetricsServer>(registry_, mo);
  return server_->start(address);
}

std::string Engine::metrics_address() const { return server_ ? server_->address() : ""; }

void Engine::run(std::stop_token stop) {
  std::vector<std::jthread> threads;
  for (auto& f : flows_) {
    threads.emplace_back([&f, stop] { f->run(stop); });
  }
  threads.clear();  // joins
}

}  // namespace mirror::engine

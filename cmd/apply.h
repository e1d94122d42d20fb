#pragma once

#include <CLI/CLI.hpp>

#include "cmd/policy_gate.h"
#include "cmd/run.h"
#include "cmd/spec_options.h"

namespace mirror::cmd {

struct ApplyOptions {
  SpecOptions spec;
  std::string plan_file;  // optional: apply exactly this saved plan
  bool auto_approve = false;
  bool allow_delete = false;     // only without a plan file (a saved plan says it itself)
  int lock_timeout_seconds = 0;  // wait this long for another apply's lock
  bool detach = false;           // do not run the engine after applying
  EngineFlags engine;
  int timeout_seconds = 30;
  bool verbose = false;
  PolicyFlags policy;
};

CLI::App* add_apply(CLI::App& app, ApplyOptions& o);
int run_apply(const ApplyOptions& o);

struct ForceUnlockOptions {
  SpecOptions spec;
  std::string lease_id;  // as printed by the apply that holds it
  int timeout_seconds = 30;
};

CLI::App* add_force_unlock(CLI::App& app, ForceUnlockOptions& o);
int run_force_unlock(const ForceUnlockOptions& o);

}  // namespace mirror::cmd

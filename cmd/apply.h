#pragma once

#include <CLI/CLI.hpp>

#include "cmd/spec_options.h"

namespace mirror::cmd {

struct ApplyOptions {
  SpecOptions spec;
  std::string plan_file;  // optional: apply exactly this saved plan
  bool auto_approve = false;
  bool allow_delete = false;  // only without a plan file (a saved plan says it itself)
  bool force_unlock = false;  // remove a lock left behind by a crashed apply, then stop
  int timeout_seconds = 30;
  bool verbose = false;
};

CLI::App* add_apply(CLI::App& app, ApplyOptions& o);
int run_apply(const ApplyOptions& o);

}  // namespace mirror::cmd

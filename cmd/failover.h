// `mirror failover` and `mirror failback`: moving a flow's consumer groups between its clusters for a
// disaster-recovery switch and back (runbooks: docs/failover.md).
#pragma once

#include <CLI/CLI.hpp>

#include "cmd/spec_options.h"

namespace mirror::cmd {

struct FailoverOptions {
  SpecOptions spec;
  bool dry_run = false;
  int timeout_seconds = 30;
  bool back = false;  // failback
};

CLI::App* add_failover(CLI::App& app, FailoverOptions& o);
CLI::App* add_failback(CLI::App& app, FailoverOptions& o);
int run_failover(const FailoverOptions& o);

}  // namespace mirror::cmd

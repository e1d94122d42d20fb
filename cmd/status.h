#pragma once

#include <CLI/CLI.hpp>

#include "cmd/spec_options.h"

namespace mirror::cmd {

struct StatusOptions {
  SpecOptions spec;
  std::string format = "text";  // text | json
  int timeout_seconds = 30;
};

CLI::App* add_status(CLI::App& app, StatusOptions& o);
int run_status(const StatusOptions& o);

}  // namespace mirror::cmd

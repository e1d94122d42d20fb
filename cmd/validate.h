#pragma once

#include <CLI/CLI.hpp>

#include "cmd/spec_options.h"

namespace mirror::cmd {

struct ValidateOptions {
  SpecOptions spec;
  std::string format = "text";  // text | json | github
};

CLI::App* add_validate(CLI::App& app, ValidateOptions& o);
// Offline: parses and checks the spec; prints diagnostics; returns the exit code.
int run_validate(const ValidateOptions& o);

}  // namespace mirror::cmd

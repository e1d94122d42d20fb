#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "cmd/policy_gate.h"
#include "cmd/spec_options.h"
#include "common/result.h"

namespace mirror::cmd {

struct PlanOptions {
  SpecOptions spec;
  std::string out;              // --out FILE: save the plan (JSON) for show/apply
  std::string format = "text";  // text | json | markdown
  bool detailed_exitcode = false;
  bool allow_delete = false;
  int timeout_seconds = 30;
  bool verbose = false;
  PolicyFlags policy;
};

struct ShowOptions {
  std::string file;
  std::string format = "text";
};

CLI::App* add_plan(CLI::App& app, PlanOptions& o);
CLI::App* add_show(CLI::App& app, ShowOptions& o);
int run_plan(const PlanOptions& o);
int run_show(const ShowOptions& o);

// The bytes of a saved plan (for `show` and `apply PLANFILE`); a file larger than planner::kMaxPlanBytes
// is refused before it is read whole.
Result<std::string, std::string> read_plan_file(const std::string& path);

}  // namespace mirror::cmd

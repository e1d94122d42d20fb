// The options every command uses to find its spec (design.md section 3), and loading it.
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "spec/load.h"

namespace mirror::cmd {

struct SpecOptions {
  std::string config = "mirror.yaml";  // -c, --config: a file or a folder
  std::string git;                     // --git REPO
  std::string ref;                     // --ref REF
  std::string path;                    // --path DIR inside the commit
  std::vector<std::string> flows;      // --flow NAME (repeatable)
};

void add_spec_options(CLI::App& app, SpecOptions& o);

// Loads from git or the file system, checks the policies' parameters (policies::check), then keeps only
// the flows named with --flow (an unknown name is an error that lists the defined ones).
spec::LoadResult load_spec(const SpecOptions& o);

}  // namespace mirror::cmd

// Turning spec files into a checked Spec value, or into diagnostics good enough that nobody has to
// read our source to fix their YAML. Every problem in one run, each with file:line:col and a hint.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "spec/diagnostics.h"
#include "spec/spec.h"

namespace mirror::spec {

struct SourceFile {
  std::string name;     // shown in diagnostics
  std::string content;  // the YAML text
};

struct LoadResult {
  std::optional<Spec> spec;  // set when there are no errors (warnings are allowed)
  Diagnostics diagnostics;
};

// Pure: parses and checks files already read (merged in the order given). No I/O.
LoadResult parse_files(const std::vector<SourceFile>& files, Origin origin);

// Reads a spec file, or every *.yaml file of a folder (sorted by name, not recursive), then parses it.
LoadResult load_path(const std::filesystem::path& path);

}  // namespace mirror::spec

// Turning spec files into a checked Spec value, or into diagnostics good enough that nobody has to
// read our source to fix their YAML. Every problem in one run, each with file:line:col and a hint.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "spec/diagnostics.h"
#include "spec/spec.h"
#include "spec/trust.h"

namespace mirror::spec {

struct SourceFile {
  std::string name;     // shown in diagnostics
  std::string content;  // the YAML text
};

struct LoadResult {
  std::optional<Spec> spec;  // set when there are no errors (warnings are allowed)
  Diagnostics diagnostics;
};

// Parses and checks files already read (merged in the order given). No I/O. Client properties are checked
// against the allowlist of spec/trust.h, widened by the operator's MIRROR_ALLOW_CLIENT_PROPERTIES (read
// from the environment by the first overload). Hostile YAML is refused quickly: a file over 1 MiB, more
// than 100,000 nodes once aliases are expanded, or nesting deeper than 64 levels.
LoadResult parse_files(const std::vector<SourceFile>& files, Origin origin);
LoadResult parse_files(const std::vector<SourceFile>& files, Origin origin, const OperatorSettings& settings);

// Reads a spec file, or every *.yaml file of a folder (sorted by name, not recursive), then parses it.
LoadResult load_path(const std::filesystem::path& path);

}  // namespace mirror::spec

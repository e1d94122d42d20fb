// ${env:NAME} and ${file:PATH} references inside spec strings. They are checked when the spec is
// parsed and resolved only when a client connects, so a secret never enters a Spec, a plan or a log.
//   ${env:NAME}  the environment variable NAME ([A-Za-z_][A-Za-z0-9_]*)
//   ${file:PATH} the contents of the file PATH (relative to the working directory), one trailing
//                newline removed
//   $$           a literal $
// A spec may use them only in credentials (see spec/trust.h, references_allowed_in), and a reference
// resolves only when the runner's operator allows it: MIRROR_ALLOW_ENV for variables, MIRROR_ALLOW_FILES
// for files (read at most 1 MiB, never below /proc, /sys or /dev).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "spec/diagnostics.h"
#include "spec/spec.h"
#include "spec/trust.h"

namespace mirror::spec {

struct Reference {
  enum class Kind { env, file } kind = Kind::env;
  std::string name;   // variable name or file path
  size_t offset = 0;  // where "${" starts in the raw string
  std::string text;   // the reference as written, e.g. "${env:KAFKA_PASSWORD}"
};

struct ReferenceError {
  std::string message;
  size_t offset = 0;
};

// The references in `raw`, or the first syntax error.
std::variant<std::vector<Reference>, ReferenceError> parse_references(std::string_view raw);

// Where resolution looks things up; injectable so tests need no real environment.
struct Resolver {
  std::function<std::optional<std::string>(const std::string& name)> env;
  // Called with the canonical path check_file_reference approved.
  std::function<std::optional<std::string>(const std::string& path)> read_file;
  // What the operator allows; the default allows no reference at all.
  OperatorSettings settings;
  // getenv, the file system (at most kMaxReferencedFileBytes) and OperatorSettings::from_environment().
  static Resolver system();
};

// The string with every reference replaced. A variable the operator does not allow (MIRROR_ALLOW_ENV), a
// file outside MIRROR_ALLOW_FILES, a missing variable or file is a Diagnostic naming the reference and
// where it was written (never its would-be value). Every value read from a reference is registered with
// mirror::register_secret (common/redact.h), so it never appears in mirror's output.
Result<std::string, Diagnostic> resolve(const Value& value, const Resolver& resolver);

}  // namespace mirror::spec

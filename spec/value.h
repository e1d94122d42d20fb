// ${env:NAME} and ${file:PATH} references inside spec strings. They are checked when the spec is
// parsed and resolved only when a client connects, so a secret never enters a Spec, a plan or a log.
//   ${env:NAME}  the environment variable NAME ([A-Za-z_][A-Za-z0-9_]*)
//   ${file:PATH} the contents of the file PATH (relative to the working directory), one trailing
//                newline removed
//   $$           a literal $
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "spec/diagnostics.h"
#include "spec/spec.h"

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
  std::function<std::optional<std::string>(const std::string& path)> read_file;
  static Resolver system();  // getenv and the file system
};

// The string with every reference replaced; a missing variable or file is a Diagnostic naming the
// reference and where it was written (never its would-be value).
Result<std::string, Diagnostic> resolve(const Value& value, const Resolver& resolver);

}  // namespace mirror::spec

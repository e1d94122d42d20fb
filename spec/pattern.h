// A compiled regular expression that matches whole names, as MM2's filters do (Java's
// Pattern.matcher(name).matches()). Backed by PCRE2, whose syntax is close to Java's and which reports
// where in a pattern a syntax error is.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <variant>

#include "spec/diagnostics.h"

namespace mirror::spec {

struct PatternError {
  std::string message;  // PCRE2's explanation
  size_t offset = 0;    // 0-based position in the pattern where the error was found
};

class Pattern {
 public:
  static std::variant<Pattern, PatternError> compile(std::string source, Location where = {});

  // True when the whole name matches (anchored at both ends).
  bool matches(std::string_view name) const;
  const std::string& source() const { return source_; }
  const Location& where() const { return where_; }
  // Equality is by source text: two patterns written the same way are the same filter.
  bool operator==(const Pattern& o) const { return source_ == o.source_; }

 private:
  struct Code;
  Pattern(std::string source, Location where, std::shared_ptr<const Code> code);
  std::string source_;
  Location where_;
  std::shared_ptr<const Code> code_;  // immutable once compiled, so copies share it
};

// Compiles a pattern known to be valid (built-in defaults); aborts on a programming error.
Pattern builtin_pattern(std::string source);

}  // namespace mirror::spec

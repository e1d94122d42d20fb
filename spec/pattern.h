// A compiled regular expression that matches whole names, as MM2's filters do (Java's
// Pattern.matcher(name).matches()). Backed by PCRE2, whose syntax is close to Java's and which reports
// where in a pattern a syntax error is.
#pragma once

#include <cstdint>
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

// The outcome of matching one name. `limit`: PCRE2 gave up (the pattern backtracks catastrophically on
// this name, e.g. "(a+)+$" on "aaaa...!", and hit the match or depth limit) or failed otherwise, so
// whether the name matches is unknown. Callers fail closed: see Filter::decide.
enum class Match { yes, no, limit };

class Pattern {
 public:
  // Bounds on one match, so that a spec's pattern cannot stall mirror (PCRE2's match and depth limits).
  static constexpr uint32_t kMatchLimit = 1'000'000;
  static constexpr uint32_t kDepthLimit = 10'000;

  static std::variant<Pattern, PatternError> compile(std::string source, Location where = {});

  // Whether the whole name matches (anchored at both ends). Thread-safe.
  Match match(std::string_view name) const;
  // match(name) == Match::yes: a limit counts as no match. For filters use Filter, which fails closed.
  bool matches(std::string_view name) const { return match(name) == Match::yes; }
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

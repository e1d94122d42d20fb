#define PCRE2_CODE_UNIT_WIDTH 8
#include "spec/pattern.h"

#include <pcre2.h>

#include <array>
#include <cstdlib>
#include <iostream>

namespace mirror::spec {

struct Pattern::Code {
  pcre2_code* code = nullptr;
  ~Code() { pcre2_code_free(code); }
};

Pattern::Pattern(std::string source, Location where, std::shared_ptr<const Code> code)
    : source_(std::move(source)), where_(std::move(where)), code_(std::move(code)) {}

std::variant<Pattern, PatternError> Pattern::compile(std::string source, Location where) {
  int errcode = 0;
  PCRE2_SIZE erroffset = 0;
  // Anchored at both ends: a filter selects a name only if the whole name matches.
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(source.data()), source.size(),
                                   PCRE2_ANCHORED | PCRE2_ENDANCHORED | PCRE2_UTF | PCRE2_MATCH_INVALID_UTF,
                                   &errcode, &erroffset, nullptr);
  if (!code) {
    std::array<PCRE2_UCHAR, 256> buf{};
    pcre2_get_error_message(errcode, buf.data(), buf.size());
    return PatternError{reinterpret_cast<const char*>(buf.data()), static_cast<size_t>(erroffset)};
  }
  auto owned = std::make_shared<Code>();
  owned->code = code;
  return Pattern(std::move(source), std::move(where), std::move(owned));
}

namespace {

// One match context for the process: only read once made, which PCRE2 allows from any thread.
pcre2_match_context* limits() {
  static pcre2_match_context* const ctx = [] {
    pcre2_match_context* c = pcre2_match_context_create(nullptr);
    if (!c) {
      std::cerr << "mirror: out of memory creating a PCRE2 match context\n";
      std::abort();
    }
    pcre2_set_match_limit(c, Pattern::kMatchLimit);
    pcre2_set_depth_limit(c, Pattern::kDepthLimit);
    return c;
  }();
  return ctx;
}

// Match data is written by every match: one per thread. One pair of offsets is enough, since only
// whether the name matches is used (a match with too small a vector still returns 0, not an error).
pcre2_match_data* thread_match_data() {
  thread_local std::unique_ptr<pcre2_match_data, decltype(&pcre2_match_data_free)> md(
      pcre2_match_data_create(1, nullptr), &pcre2_match_data_free);
  return md.get();
}

}  // namespace

Match Pattern::match(std::string_view name) const {
  pcre2_match_data* md = thread_match_data();
  if (!md) return Match::limit;
  const int rc =
      pcre2_match(code_->code, reinterpret_cast<PCRE2_SPTR>(name.data()), name.size(), 0, 0, md, limits());
  if (rc >= 0) return Match::yes;
  if (rc == PCRE2_ERROR_NOMATCH) return Match::no;
  return Match::limit;  // PCRE2_ERROR_MATCHLIMIT, _DEPTHLIMIT, _HEAPLIMIT, or anything else: unknown
}

Pattern builtin_pattern(std::string source) {
  auto r = Pattern::compile(source, Location{"<built-in default>", 0, 0});
  if (auto* p = std::get_if<Pattern>(&r)) return *p;
  std::cerr << "mirror: internal error: built-in pattern " << source << " does not compile\n";
  std::abort();
}

}  // namespace mirror::spec

// Secrets never printed: every value resolved from a ${env:} / ${file:} reference (and every secret
// client property) is registered here once, and everything mirror prints or writes passes redact().
//
// The registry is process-wide and thread-safe (librdkafka logs from its own threads). install_redacting
// _streams() puts a filter in front of std::cout and std::cerr, so a value that reaches them by any path
// (an error message, a librdkafka log line, a plan) comes out as "<secret not shown>".
#pragma once

#include <string>
#include <string_view>

namespace mirror {

inline constexpr std::string_view kRedacted = "<secret not shown>";

// Registers a secret value. Values shorter than 4 characters are not registered (they would blank out
// ordinary text and are no secret); a multi-line value (a PEM key) also registers each of its lines.
void register_secret(std::string_view value);

// `text` with every registered secret replaced by kRedacted.
std::string redact(std::string_view text);

// True when `text` contains a registered secret (tests and assertions).
bool contains_secret(std::string_view text);

// Filters std::cout and std::cerr through redact(), a line at a time (output is held until a newline or
// a flush, so a secret split over two writes is still found). Idempotent; call it first thing in main().
void install_redacting_streams();

// Forgets every registered secret (tests only).
void clear_secrets_for_testing();

}  // namespace mirror

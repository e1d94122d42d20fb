// Renderings of one Plan value: JSON for machines (also the saved-plan format), text for people,
// markdown for pull-request comments. All are deterministic: the same plan gives the same bytes.
//
// Every name in a plan (topics, groups, principals, hosts, config names and values, flows, messages that
// quote them) was read from a cluster, a spec or a saved plan file and is untrusted: the text rendering
// passes each through escape_text() and the markdown one through markdown_code(), so no name can move
// the terminal's cursor, clear the screen, or open an HTML comment, a tag, a link or a mention in a
// pull-request comment.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/result.h"
#include "planner/plan.h"

namespace mirror::planner {

// Limits of a saved plan that parse_json accepts (mirror's own plans stay far below both).
inline constexpr size_t kMaxPlanBytes = size_t{64} << 20;  // 64 MiB
inline constexpr int kMaxPlanDepth = 64;                   // arrays and objects nested in each other

std::string render_json(const Plan& plan);  // design.md section 4, docs/plan-format.md
// The inverse, for `show` and `apply`. Strict: every field must be present with its type, no unknown
// fields, known kinds and names only, a summary that matches the actions, at most kMaxPlanBytes and
// kMaxPlanDepth. Never throws.
Result<Plan, std::string> parse_json(const std::string& text);

struct TextStyle {
  bool color = false;
};
std::string render_text(const Plan& plan, TextStyle style = {});

// Kept under max_chars (GitHub's comment limit is 65,536); what was cut is said at the end.
std::string render_markdown(const Plan& plan, size_t max_chars = 65000);

// A name for a terminal or a log: control characters (C0, DEL, C1, the ESC of ANSI sequences, \r, \n,
// \t), bytes that are not UTF-8, and the invisible characters that reorder or split lines (bidi
// controls, U+2028/U+2029) become visible escapes ("\x1b", "\n", "\u202e"); everything else is kept.
std::string escape_text(std::string_view s);

// A name for markdown: a code span of escape_text(s) with a fence longer than any run of backticks in
// it, so nothing inside is markdown or HTML (no comment, tag, link, image, emphasis or @mention). In a
// table cell (in_table) "|" is escaped as "\|" too (GFM splits cells before it reads code spans). An
// empty name gives "".
std::string markdown_code(std::string_view s, bool in_table = false);

}  // namespace mirror::planner

// Renderings of one Plan value: JSON for machines (also the saved-plan format), text for people,
// markdown for pull-request comments. All are deterministic: the same plan gives the same bytes.
#pragma once

#include <string>

#include "common/result.h"
#include "planner/plan.h"

namespace mirror::planner {

std::string render_json(const Plan& plan);                      // design.md section 4, docs/plan-format.md
Result<Plan, std::string> parse_json(const std::string& text);  // the inverse, for `show` and `apply`

struct TextStyle {
  bool color = false;
};
std::string render_text(const Plan& plan, TextStyle style = {});

// Kept under max_chars (GitHub's comment limit is 65,536); what was cut is said at the end.
std::string render_markdown(const Plan& plan, size_t max_chars = 65000);

}  // namespace mirror::planner

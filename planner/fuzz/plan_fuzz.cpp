// libFuzzer target for the saved-plan decoder: any bytes must give a Plan or an error, never a crash, a
// hang or a sanitizer report. A plan it accepts must render in every format, and render_json of it must
// parse back to the same bytes (render_json∘parse_json is a fixed point). The escaping helpers must leave
// no control character in what they return. Built only with -DMIRROR_FUZZ=ON (clang); run by scripts/fuzz.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "planner/render.h"

namespace {

[[noreturn]] void broken(const char* what, const std::string& detail) {
  std::fprintf(stderr, "plan_fuzz: %s\n%s\n", what, detail.c_str());
  std::abort();
}

void check_no_controls(const std::string& s, const char* what) {
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f) broken(what, s);
    if (c == 0xc2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) < 0xa0) broken(what, s);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace mirror::planner;
  const std::string text(reinterpret_cast<const char*>(data), size);

  check_no_controls(escape_text(text), "escape_text left a control character");
  check_no_controls(markdown_code(text, true), "markdown_code left a control character");

  auto plan = parse_json(text);
  if (!plan) {
    check_no_controls(plan.error(), "a parse error message has a control character");
    return 0;
  }
  (void)render_text(*plan);
  (void)render_text(*plan, {.color = true});
  (void)render_markdown(*plan);
  (void)render_markdown(*plan, 2000);
  (void)plan_fingerprint(*plan);
  const std::string json = render_json(*plan);
  auto again = parse_json(json);
  if (!again) broken("render_json wrote a plan that parse_json refuses", again.error() + "\n" + json);
  const std::string twice = render_json(*again);
  if (twice != json)
    broken("render_json(parse_json(render_json(p))) differs from render_json(p)", json + "\n" + twice);
  return 0;
}

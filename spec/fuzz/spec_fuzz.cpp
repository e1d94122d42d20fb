// libFuzzer target for the spec loader: any bytes must give a Spec or diagnostics, never a crash, a
// hang or a sanitizer report. Built only with -DMIRROR_FUZZ=ON (clang); run by scripts/fuzz-spec.
#include <cstddef>
#include <cstdint>
#include <string>

#include "spec/load.h"
#include "spec/value.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace mirror::spec;
  std::string text(reinterpret_cast<const char*>(data), size);
  LoadResult r = parse_files({{"fuzz.yaml", text}}, Origin{"fuzz.yaml"});
  for (const auto& d : r.diagnostics.sorted()) (void)format_text(d);
  if (r.spec) {
    // Exercise what later stages call on a valid spec.
    for (const auto& f : r.spec->flows) {
      (void)f.replicates_topic(text.substr(0, 64));
      (void)f.replicates_group(text.substr(0, 64));
      (void)f.target_topic("orders");
      (void)f.configs.excluded("retention.ms");
    }
    for (const auto& [alias, c] : r.spec->clusters) {
      Resolver none;
      (void)resolve(c.bootstrap, none);
    }
  }
  (void)parse_references(text);
  return 0;
}

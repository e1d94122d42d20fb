// libFuzzer target for the decoders of mirror's own topics (state/, the offset map and checkpoints):
// any key/value bytes must decode or be refused with a reason, never crash, hang or trip a sanitizer
// (fuzz_one.h). Built only with -DMIRROR_FUZZ=ON (clang); run by scripts/fuzz-state.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "state/fuzz/fuzz_one.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  mirror::state::fuzz::fuzz_one(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}

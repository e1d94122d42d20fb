// Inputs the fuzzer once crashed the spec loader with (testdata/fuzz/spec-regressions): each must now
// load to a Spec or to diagnostics, under the sanitizers too.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "spec/load.h"

namespace mirror::spec {
namespace {

TEST(FuzzRegressions, EveryKeptInputLoadsWithoutCrashing) {
  namespace fs = std::filesystem;
  size_t n = 0;
  for (const auto& e : fs::directory_iterator(MIRROR_FUZZ_REGRESSIONS_DIR)) {
    if (!e.is_regular_file() || e.path().filename() == "README.md") continue;
    std::ifstream in(e.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    LoadResult r = parse_files({{e.path().filename().string(), ss.str()}}, Origin{"regression"});
    EXPECT_TRUE(r.spec.has_value() || !r.diagnostics.empty()) << e.path();
    ++n;
  }
  EXPECT_GT(n, 0u) << "no regression inputs found in " << MIRROR_FUZZ_REGRESSIONS_DIR;
}

}  // namespace
}  // namespace mirror::spec

// Golden-file checks for tests: compare output with a file under testdata/, or rewrite the file when
// MIRROR_UPDATE_GOLDEN=1 (then review the diff in git). Test support only; gtest must be available.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

namespace mirror::test_support {

inline bool update_golden() {
  const char* v = std::getenv("MIRROR_UPDATE_GOLDEN");
  return v && std::string(v) == "1";
}

inline std::optional<std::string> read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Checks `actual` against the golden file (or rewrites it). `what` names the output in failures.
inline void expect_golden(const std::filesystem::path& golden, const std::string& actual,
                          const std::string& what) {
  if (update_golden()) {
    std::ofstream out(golden, std::ios::binary | std::ios::trunc);
    out << actual;
    ASSERT_TRUE(out.good()) << "cannot write " << golden;
    return;
  }
  auto expected = read_file(golden);
  ASSERT_TRUE(expected.has_value()) << "missing golden file " << golden
                                    << " (run with MIRROR_UPDATE_GOLDEN=1 to create it)";
  EXPECT_EQ(*expected, actual)
      << what << " differs from " << golden
      << " (if the change is intended, run with MIRROR_UPDATE_GOLDEN=1 and review the diff)";
}

}  // namespace mirror::test_support

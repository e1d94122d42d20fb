// The built-in policy rules, one by one (pass, fail, and what they cannot know), their parameters, and
// judge() with overrides. Plans come from the real planner over hand-built cluster states, or are built
// by hand where the planner cannot produce the case; no broker.
#include "policies/policies.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "common/testing/golden.h"
#include "planner/render.h"
#include "planner/tests/builders.h"
#include "spec/defaults.h"

namespace mirror::policies {
namespace {

namespace fs = std::filesystem;
using namespace mirror::planner;
using namespace mirror::planner::testing;
using ::testing::HasSubstr;

// A spec: the test clusters, `flows` (YAML list items), then `policies` (YAML list items).
spec::Spec spec_with(const std::string& flows, const std::string& policies) {
  return parse_spec(clusters_yaml() + "flows:\n" + flows + "policies:\n" + policies);
}
const std::string kFlow = "  - {source: A, target: B}\n";

ClusterBuilder target() { return std::move(ClusterBuilder("B").internal_topics()); }

std::string dump(const std::vector<PolicyResult>& rs) {
  std::string s;
  for (const auto& r : rs) {
    s += r.rule + " [" + r.level + "] " + (r.passed ? "passed" : "FAILED") + " " + r.resource + ": " +
         r.message + "\n";
  }
  return s;
}

// Evaluates `spec` over the plan the planner makes from `st`; returns the results.
std::vector<PolicyResult> run(const spec::Spec& spec, const std::map<std::string, ClusterState>& st,
                              PlanOptions options = {}) {
  const Plan p = make_plan(spec, st, options);
  return evaluate(p, spec, st);
}

// One result: the only one evaluate gave. Fails the test when there are more.
PolicyResult only(const std::vector<PolicyResult>& rs) {
  EXPECT_EQ(rs.size(), 1u) << dump(rs);
  return rs.empty() ? PolicyResult{} : rs.front();
}

std::string errors(const std::vector<spec::Diagnostic>& ds) {
  std::string s;
  for (const auto& d : ds) s += spec::format_text(d) + "\n";
  return s;
}

// ---------------------------------------------------------------------------------------------------
// Parameters

TEST(Params, EveryBuiltInRuleIsKnownAndItsDocumentedExampleIsValid) {
  // The corpus spec that lists every rule (testdata/specs/valid/policies.yaml) and the example specs.
  const fs::path root = MIRROR_SOURCE_DIR;
  std::vector<fs::path> specs{root / "testdata/specs/valid/policies.yaml",
                              root / "testdata/specs/valid/full.yaml"};
  for (const auto& e : fs::directory_iterator(root / "examples/specs")) specs.push_back(e.path());
  std::set<std::string> seen;
  for (const auto& path : specs) {
    spec::LoadResult r = spec::load_path(path);
    ASSERT_TRUE(r.spec.has_value()) << path;
    EXPECT_EQ(errors(check(*r.spec)), "") << path;
    for (const auto& p : r.spec->policies) seen.insert(p.rule);
  }
  for (auto rule : spec::defaults::kPolicyRules) EXPECT_TRUE(seen.count(std::string(rule))) << rule;
}

// The `policies:` example at the top of docs/policies.md uses every rule and must stay valid.
TEST(Params, TheDocumentedExampleIsValid) {
  auto text = mirror::test_support::read_file(fs::path(MIRROR_SOURCE_DIR) / "docs/policies.md");
  ASSERT_TRUE(text.has_value());
  const size_t open = text->find("```yaml\npolicies:\n");
  ASSERT_NE(open, std::string::npos);
  const size_t start = open + std::string("```yaml\n").size();
  const std::string block = text->substr(start, text->find("```", start) - start);
  const auto s = parse_spec(clusters_yaml() + "flows:\n" + kFlow + block);
  EXPECT_EQ(errors(check(s)), "") << block;
  std::set<std::string> rules;
  for (const auto& p : s.policies) rules.insert(p.rule);
  EXPECT_EQ(rules.size(), spec::defaults::kPolicyRules.size()) << block;
}

TEST(Params, MissingRequiredParameterPointsAtTheRule) {
  const auto s = spec_with(kFlow, "  - rule: max-partitions\n    level: advisory\n");
  const auto ds = check(s);
  ASSERT_EQ(ds.size(), 1u) << errors(ds);
  EXPECT_EQ(ds[0].where.line, 9);
  EXPECT_THAT(ds[0].message, HasSubstr("policy max-partitions needs parameter max"));
  EXPECT_THAT(ds[0].hint, HasSubstr("max: 64"));
}

TEST(Params, UnknownKeyIsAnErrorThatListsTheRulesKeys) {
  const auto s = spec_with(kFlow, "  - rule: max-partitions\n    maximum: 12\n");
  const auto ds = check(s);
  ASSERT_EQ(ds.size(), 2u) << errors(ds);  // maximum is unknown, and max is missing
  const auto& d = ds[0];
  EXPECT_EQ(d.where.line, 10);
  EXPECT_EQ(d.where.column, 5);  // the key
  EXPECT_THAT(d.message, HasSubstr("unknown parameter \"maximum\""));
  EXPECT_THAT(d.hint, HasSubstr("did you mean \"max\"?"));
  EXPECT_THAT(d.hint, HasSubstr("max-partitions takes max ("));
  EXPECT_THAT(ds[1].message, HasSubstr("needs parameter max"));
}

TEST(Params, RulesWithoutParametersRejectAny) {
  const auto ds = check(spec_with(kFlow, "  - rule: no-topic-deletion\n    topics: [orders]\n"));
  ASSERT_EQ(ds.size(), 1u) << errors(ds);
  EXPECT_THAT(ds[0].hint, HasSubstr("no-topic-deletion takes no parameters"));
}

TEST(Params, NumbersMustBeWholeAndInRange) {
  for (const char* bad : {"sixty", "0", "-3", "1.5", "12abc", "[1, 2]"}) {
    const auto ds = check(spec_with(kFlow, std::string("  - rule: max-partitions\n    max: ") + bad + "\n"));
    ASSERT_EQ(ds.size(), 1u) << bad << "\n" << errors(ds);
    EXPECT_THAT(ds[0].message, HasSubstr("max must be a whole number of at least 1")) << bad;
    EXPECT_EQ(ds[0].where.line, 10) << bad;
  }
  // max-actions: 0 is a freeze (no change at all may be applied).
  EXPECT_EQ(errors(check(spec_with(kFlow, "  - rule: max-actions\n    max: 0\n"))), "");
  EXPECT_NE(errors(check(spec_with(kFlow, "  - rule: max-actions\n    max: -1\n"))), "");
}

TEST(Params, RegexesAreCheckedWithTheirPosition) {
  const auto ds =
      check(spec_with(kFlow, "  - rule: protected-topics\n    topics: [\"ok\", \"pay(ments\"]\n"));
  ASSERT_EQ(ds.size(), 1u) << errors(ds);
  EXPECT_THAT(ds[0].message, HasSubstr("topics entry \"pay(ments\" is not a valid regex"));
  EXPECT_EQ(ds[0].where.line, 10);

  const auto empty = check(spec_with(kFlow, "  - rule: protected-topics\n    topics: []\n"));
  ASSERT_EQ(empty.size(), 1u) << errors(empty);
  EXPECT_THAT(empty[0].message, HasSubstr("topics is empty"));

  const auto list =
      check(spec_with(kFlow, "  - rule: target-topic-naming\n    pattern: [\"a.*\", \"b.*\"]\n"));
  ASSERT_EQ(list.size(), 1u) << errors(list);
  EXPECT_THAT(list[0].message, HasSubstr("pattern is one regex, not a list"));
}

TEST(Params, PrincipalsMustBeTypeColonName) {
  const auto ds = check(
      spec_with(kFlow, "  - rule: no-foreign-write-acl\n    principals: [\"User:mirror\", \"mirror\"]\n"));
  ASSERT_EQ(ds.size(), 1u) << errors(ds);
  EXPECT_THAT(ds[0].message, HasSubstr("principals entry \"mirror\" is not a Kafka principal"));
  EXPECT_THAT(ds[0].hint, HasSubstr("User:mirror"));
}

TEST(Params, DiagnosticsFormatAsFileLineColumn) {
  const auto ds = check(spec_with(kFlow, "  - rule: min-insync-replicas\n    min: two\n"));
  ASSERT_EQ(ds.size(), 1u);
  EXPECT_THAT(spec::format_text(ds[0]),
              HasSubstr("mirror.yaml:10:5: error: policy min-insync-replicas: min must be"));
}

TEST(Params, InvalidParametersFailTheRuleInsteadOfSkippingIt) {
  const auto s = spec_with(kFlow, "  - rule: max-partitions\n    level: advisory\n    max: lots\n");
  const auto r = only(run(s, states({ClusterBuilder("A").topic("orders", 1), target()})));
  EXPECT_FALSE(r.passed);
  EXPECT_EQ(r.level, "advisory");
  EXPECT_THAT(r.message, HasSubstr("cannot be evaluated"));
  EXPECT_THAT(r.message, HasSubstr("(mirror.yaml:11:5)"));
}

// ---------------------------------------------------------------------------------------------------
// no-topic-deletion, no-acl-deletion

// B holds a topic and an ACL mirror created whose source topic is gone: orphans.
std::map<std::string, ClusterState> orphans() {
  const Acl stale = acl("A.legacy", "User:reporting", "READ");
  return states({ClusterBuilder("A").topic("orders", 1), target()
                                                             .topic("A.orders", 1)
                                                             .topic("A.legacy", 2)
                                                             .managed_topic("A.legacy")
                                                             .acl(stale)
                                                             .managed_acl(stale)});
}

TEST(NoTopicDeletion, FailsOnEachDeletedTopicAndPassesWithoutDeletes) {
  const auto s = spec_with(kFlow, "  - rule: no-topic-deletion\n");
  const auto fail = only(run(s, orphans(), {.allow_delete = true}));
  EXPECT_FALSE(fail.passed);
  EXPECT_EQ(fail.resource, "B:A.legacy");
  EXPECT_EQ(fail.level, "hard-mandatory");
  EXPECT_THAT(fail.message, HasSubstr("deletes topic A.legacy on B"));
  EXPECT_THAT(fail.message, HasSubstr("without --allow-delete"));

  const auto pass = only(run(s, orphans()));
  EXPECT_TRUE(pass.passed) << pass.message;
  EXPECT_EQ(pass.resource, "");
  EXPECT_EQ(pass.message, "no topic is deleted");
}

TEST(NoAclDeletion, FailsOnEachDeletedAclAndPassesWithoutDeletes) {
  const auto s = spec_with(kFlow, "  - rule: no-acl-deletion\n    level: soft-mandatory\n");
  const auto fail = only(run(s, orphans(), {.allow_delete = true}));
  EXPECT_FALSE(fail.passed);
  EXPECT_EQ(fail.resource, "B:ALLOW User:reporting READ on TOPIC A.legacy (LITERAL, host *)");
  EXPECT_THAT(fail.message, HasSubstr("deletes the ACL"));
  EXPECT_TRUE(only(run(s, orphans())).passed);
}

// ---------------------------------------------------------------------------------------------------
// no-group-offset-deletion

offsets::PartitionOffsetMap lockstep(int64_t up, int64_t down, int64_t count) {
  offsets::PartitionOffsetMap m;
  EXPECT_TRUE(m.begin(up, down).ok());
  for (int64_t i = 0; i < count; ++i) EXPECT_TRUE(m.record(up + i, down + i).ok());
  return m;
}

// Two groups written on B: "billing" moves forward, "replay" was rewound on A since the last checkpoint,
// so the planner moves it back on B too (1080 -> 1042).
std::map<std::string, ClusterState> groups_state(const spec::Spec& s, bool rewind) {
  ClusterState a = ClusterBuilder("A").topic("orders", 1).build();
  ClusterState b = target().topic("A.orders", 1).applied("A-to-B", flow_revision(s.flows[0])).build();
  b.offset_maps["A-to-B"][{"orders", 0}] = lockstep(0, 1000, 100);
  a.groups["billing"] = GroupState{"billing", "Stable", 1, {{{"orders", 0}, 42}}};
  b.groups["billing"] = GroupState{"billing", "Empty", 0, {{{"A.orders", 0}, 1010}}};
  if (rewind) {
    a.groups["replay"] = GroupState{"replay", "Stable", 1, {{{"orders", 0}, 42}}};
    b.groups["replay"] = GroupState{"replay", "Empty", 0, {{{"A.orders", 0}, 1080}}};
    b.checkpoints[{"A", "replay", "A.orders", 0}] = CheckpointState{80, 1080};
  }
  return {{"A", a}, {"B", b}};
}

TEST(NoGroupOffsetDeletion, ARewoundGroupMovedBackwardsFails) {
  const auto s = spec_with(kFlow, "  - rule: no-group-offset-deletion\n    level: soft-mandatory\n");
  const Plan p = make_plan(s, groups_state(s, true));
  ASSERT_NE(find_action(p, ActionKind::sync_group_offsets, "replay"), nullptr) << render_text(p);
  const auto r = only(evaluate(p, s, groups_state(s, true)));
  EXPECT_FALSE(r.passed);
  EXPECT_EQ(r.resource, "B:replay");
  EXPECT_THAT(r.message, HasSubstr("moves group replay on B backwards (A.orders[0]: 1080 -> 1042)"));
}

TEST(NoGroupOffsetDeletion, ForwardWritesPass) {
  const auto s = spec_with(kFlow, "  - rule: no-group-offset-deletion\n");
  const Plan p = make_plan(s, groups_state(s, false));
  ASSERT_NE(find_action(p, ActionKind::sync_group_offsets, "billing"), nullptr) << render_text(p);
  const auto r = only(evaluate(p, s, groups_state(s, false)));
  EXPECT_TRUE(r.passed) << r.message;
  EXPECT_EQ(r.message, "no group offset moves backwards (1 group written)");
}

TEST(NoGroupOffsetDeletion, RemovedOffsetsFail) {
  // No planner produces these today; a hand-edited or future plan must not slip through.
  const auto s = spec_with(kFlow, "  - rule: no-group-offset-deletion\n");
  Plan p;
  p.actions.push_back({ActionKind::sync_group_offsets, "A-to-B", "B", "billing",
                       Json{{"state", "Empty"}, {"members", 0}, {"offsets", Json::array()}}, nullptr, ""});
  p.actions.push_back({ActionKind::sync_group_offsets, "A-to-B", "B", "fraud", nullptr,
                       Json{{"offsets", {{{"topic", "A.orders"}, {"partition", 0}, {"offset", -1}}}}}, ""});
  const auto rs = evaluate(p, s, {});
  ASSERT_EQ(rs.size(), 2u) << dump(rs);
  EXPECT_EQ(rs[0].resource, "B:billing");
  EXPECT_THAT(rs[0].message, HasSubstr("removes the committed offsets of group billing on B"));
  EXPECT_EQ(rs[1].resource, "B:fraud");
  EXPECT_THAT(rs[1].message, HasSubstr("A.orders[0]: removed"));
}

// ---------------------------------------------------------------------------------------------------
// protected-topics

TEST(ProtectedTopics, AnyChangeToAMatchingTopicOrItsAclsFails) {
  const auto s = spec_with(kFlow, "  - rule: protected-topics\n    topics: [\"A\\\\.pay.*\", \"nothing\"]\n");
  const auto st = states({ClusterBuilder("A")
                              .topic("payments", 3, {{"retention.ms", "1000"}})
                              .topic("orders", 1)
                              .acl(acl("payments", "User:billing", "READ")),
                          target().topic("A.payments", 2)});
  const auto rs = run(s, st);
  ASSERT_EQ(rs.size(), 3u) << dump(rs);
  EXPECT_EQ(rs[0].resource, "B:A.payments");
  EXPECT_THAT(rs[0].message, HasSubstr("alter_topic_configs of protected topic A.payments on B"));
  EXPECT_THAT(rs[0].message, HasSubstr("matches \"A\\.pay.*\""));
  EXPECT_EQ(rs[1].resource, "B:A.payments");
  EXPECT_THAT(rs[1].message, HasSubstr("create_partitions of protected topic A.payments on B"));
  EXPECT_EQ(rs[2].resource, "B:ALLOW User:billing READ on TOPIC A.payments (LITERAL, host *)");
  EXPECT_THAT(rs[2].message, HasSubstr("create_acl on protected topic A.payments"));
  for (const auto& r : rs) EXPECT_FALSE(r.passed);
}

// A protecting pattern that gives up on a name (PCRE2's limits) protects it: an unknown answer must not
// let a change through.
TEST(ProtectedTopics, APatternThatHitsTheRegexLimitProtects) {
  const std::string hostile = std::string(30, 'a') + "!";
  const auto s = spec_with(kFlow, "  - rule: protected-topics\n    topics: [\"A\\\\.(a+)+$\"]\n");
  const auto rs = run(s, states({ClusterBuilder("A").topic(hostile, 1), target()}));
  ASSERT_EQ(rs.size(), 1u) << dump(rs);
  EXPECT_FALSE(rs[0].passed);
  EXPECT_EQ(rs[0].resource, "B:A." + hostile);
}

TEST(ProtectedTopics, PassesWhenNoMatchingTopicChanges) {
  const auto s = spec_with(kFlow, "  - rule: protected-topics\n    topics: [\"A\\\\.payments\"]\n");
  const auto r = only(run(s, states({ClusterBuilder("A").topic("orders", 1), target()})));
  EXPECT_TRUE(r.passed);
  EXPECT_EQ(r.message, "no action changes a topic matching \"A\\.payments\"");
}

// ---------------------------------------------------------------------------------------------------
// max-partitions

TEST(MaxPartitions, CreatedAndGrownTopicsAboveTheMaxFail) {
  const auto s = spec_with(kFlow, "  - rule: max-partitions\n    max: 8\n");
  const auto st = states({ClusterBuilder("A").topic("big", 12).topic("grown", 16).topic("small", 8),
                          target().topic("A.grown", 4)});
  const auto rs = run(s, st);
  ASSERT_EQ(rs.size(), 2u) << dump(rs);
  EXPECT_EQ(rs[0].resource, "B:A.big");
  EXPECT_THAT(rs[0].message,
              HasSubstr("would have 12 partitions (as its source topic big has), more than max 8"));
  EXPECT_EQ(rs[1].resource, "B:A.grown");
  EXPECT_THAT(rs[1].message, HasSubstr("16 partitions"));
}

TEST(MaxPartitions, AtTheMaxPasses) {
  const auto s = spec_with(kFlow, "  - rule: max-partitions\n    max: 8\n");
  const auto r = only(run(s, states({ClusterBuilder("A").topic("small", 8), target()})));
  EXPECT_TRUE(r.passed) << r.message;
}

// ---------------------------------------------------------------------------------------------------
// min-replication-factor

TEST(MinReplicationFactor, BrokerDefaultCannotBeVerifiedAndSaysWhatToSet) {
  const auto s = spec_with(kFlow, "  - rule: min-replication-factor\n    min: 3\n");
  const auto st = states({ClusterBuilder("A").topic("orders", 1).topic("payments", 1), target()});
  const auto r = only(run(s, st));
  EXPECT_FALSE(r.passed);
  EXPECT_EQ(r.resource, "flow A-to-B");
  EXPECT_THAT(r.message,
              HasSubstr("cannot verify the replication factor of 2 topics (B:A.orders, B:A.payments)"));
  EXPECT_THAT(r.message, HasSubstr("default.replication.factor, which mirror could not read"));
  EXPECT_THAT(r.message, HasSubstr("set replication_factor: 3 (or more) on flow A-to-B (mirror.yaml:7:5)"));
}

TEST(MinReplicationFactor, MinusOneIsTheTargetsDefaultReplicationFactorWhenReadable) {
  const auto s = spec_with(kFlow, "  - rule: min-replication-factor\n    min: 3\n");
  auto st = states({ClusterBuilder("A").topic("orders", 1), target()});
  st["B"].broker_configs["default.replication.factor"] = {"3", ConfigSource::static_broker};
  EXPECT_TRUE(only(run(s, st)).passed) << only(run(s, st)).message;
  st["B"].broker_configs["default.replication.factor"] = {"1", ConfigSource::default_config};
  const auto r = only(run(s, st));
  EXPECT_FALSE(r.passed);
  EXPECT_THAT(r.message, HasSubstr("creates 1 topic (B:A.orders) with replication factor 1, below min 3"));
}

TEST(MinReplicationFactor, TooLowFailsPerFlowAndInternalTopicsToo) {
  const auto s = spec_with("  - {source: A, target: B, replication_factor: 2}\n",
                           "  - rule: min-replication-factor\n    min: 3\n");
  const auto rs = run(s, states({ClusterBuilder("A").topic("orders", 1), ClusterBuilder("B")}));
  ASSERT_EQ(rs.size(), 3u) << dump(rs);
  EXPECT_EQ(rs[0].resource, "B:A.checkpoints.internal");
  EXPECT_THAT(
      rs[0].message,
      HasSubstr("internal topic B:A.checkpoints.internal would be created with replication factor 2"));
  EXPECT_EQ(rs[1].resource, "B:mirror.state.internal");
  EXPECT_EQ(rs[2].resource, "flow A-to-B");
  EXPECT_THAT(rs[2].message,
              HasSubstr("creates 1 topic (B:A.orders) with replication factor 2, below min 3"));
}

TEST(MinReplicationFactor, EnoughPasses) {
  const auto s = spec_with("  - {source: A, target: B, replication_factor: 3}\n",
                           "  - rule: min-replication-factor\n    min: 3\n");
  const auto r = only(run(s, states({ClusterBuilder("A").topic("orders", 1), ClusterBuilder("B")})));
  EXPECT_TRUE(r.passed) << r.message;
}

// ---------------------------------------------------------------------------------------------------
// min-insync-replicas

TEST(MinInsyncReplicas, TheTargetsObservedDefaultIsJudged) {
  // B's existing mirrored topic reports Kafka's built-in default, 1: every created topic takes it.
  const auto s = spec_with(kFlow, "  - rule: min-insync-replicas\n    min: 2\n");
  const auto st =
      states({ClusterBuilder("A").topic("orders", 1).topic("payments", 1), target().topic("A.orders", 1)});
  const auto r = only(run(s, st));
  EXPECT_FALSE(r.passed);
  EXPECT_EQ(r.resource, "B");
  EXPECT_THAT(r.message, HasSubstr("1 topic (A.payments) takes B's default min.insync.replicas=1"));
  EXPECT_THAT(r.message, HasSubstr("(reported for B:A.checkpoints.internal, source default)"));
  EXPECT_THAT(r.message, HasSubstr("below min 2"));
  EXPECT_THAT(r.message, HasSubstr("kafka-configs --alter --entity-type brokers --entity-default"));
}

TEST(MinInsyncReplicas, ABrokerSettingThatIsHighEnoughPasses) {
  const auto s = spec_with(kFlow, "  - rule: min-insync-replicas\n    min: 2\n");
  auto b = target().topic("A.orders", 1);
  for (const char* t : {"A.orders", "mirror.state.internal", "A.checkpoints.internal"})
    b.config(t, "min.insync.replicas", "2", ConfigSource::static_broker);
  const auto r = only(run(s, states({ClusterBuilder("A").topic("orders", 1).topic("payments", 1), b})));
  EXPECT_TRUE(r.passed) << r.message;
}

TEST(MinInsyncReplicas, AnUnobservedDefaultCannotBeVerified) {
  // A fresh target: no topic whose configs mirror read, so B's default is unknown.
  const auto s = spec_with(kFlow, "  - rule: min-insync-replicas\n    min: 2\n");
  const auto r = only(run(s, states({ClusterBuilder("A").topic("orders", 1), ClusterBuilder("B")})));
  EXPECT_FALSE(r.passed);
  EXPECT_EQ(r.resource, "B");
  EXPECT_THAT(r.message, HasSubstr("cannot verify min.insync.replicas of 3 topics (A.checkpoints.internal, "
                                   "A.orders, mirror.state.internal) on B"));
  EXPECT_THAT(r.message, HasSubstr("none reports it yet"));
}

TEST(MinInsyncReplicas, TheBrokersSettingIsTheDefaultOnAFreshTarget) {
  const auto s = spec_with(kFlow, "  - rule: min-insync-replicas\n    min: 2\n");
  auto st = states({ClusterBuilder("A").topic("orders", 1), ClusterBuilder("B")});
  st["B"].broker_configs["min.insync.replicas"] = {"2", ConfigSource::static_broker};
  EXPECT_TRUE(only(run(s, st)).passed) << only(run(s, st)).message;
  st["B"].broker_configs["min.insync.replicas"] = {"1", ConfigSource::default_config};
  const auto r = only(run(s, st));
  EXPECT_FALSE(r.passed);
  EXPECT_THAT(r.message, HasSubstr("take B's default min.insync.replicas=1 (reported for B's broker setting "
                                   "min.insync.replicas)"));
}

TEST(MinInsyncReplicas, AnExplicitValueIsJudgedPerTopic) {
  const auto s = spec_with(kFlow, "  - rule: min-insync-replicas\n    min: 2\n");
  Plan p;
  p.actions.push_back({ActionKind::alter_topic_configs, "A-to-B", "B", "A.orders",
                       Json{{"min.insync.replicas", "2"}},
                       Json{{"set", {{"min.insync.replicas", "1"}}}, {"reset", Json::array()}}, ""});
  const auto r = only(evaluate(p, s, {}));
  EXPECT_FALSE(r.passed);
  EXPECT_EQ(r.resource, "B:A.orders");
  EXPECT_THAT(r.message, HasSubstr("B:A.orders gets min.insync.replicas=1 (set by the plan): below min 2"));
}

// ---------------------------------------------------------------------------------------------------
// target-topic-naming

TEST(TargetTopicNaming, CreatedTopicsMustMatch) {
  const auto s = spec_with("  - {source: A, target: B, naming: identity}\n",
                           "  - rule: target-topic-naming\n    pattern: \"A\\\\..*\"\n");
  const auto r = only(run(s, states({ClusterBuilder("A").topic("orders", 1), ClusterBuilder("B")})));
  EXPECT_FALSE(r.passed);
  EXPECT_EQ(r.resource, "B:orders");
  EXPECT_THAT(r.message,
              HasSubstr("would create topic orders on B for flow A-to-B (mirror.yaml:7:5); the name "
                        "does not match \"A\\..*\""));
}

TEST(TargetTopicNaming, MatchingNamesAndInternalTopicsPass) {
  const auto s = spec_with(kFlow, "  - rule: target-topic-naming\n    pattern: \"A\\\\..*\"\n");
  const auto r = only(run(s, states({ClusterBuilder("A").topic("orders", 1), ClusterBuilder("B")})));
  EXPECT_TRUE(r.passed) << r.message;
}

// ---------------------------------------------------------------------------------------------------
// max-retention

TEST(MaxRetention, ForeverAndTooLongFailPerTopic) {
  const auto s = spec_with(kFlow, "  - rule: max-retention\n    max_ms: 604800000\n");
  const auto st = states({ClusterBuilder("A")
                              .topic("audit", 1, {{"retention.ms", "-1"}})
                              .topic("orders", 1, {{"retention.ms", "86400000"}})
                              .topic("history", 1, {{"retention.ms", "2592000000"}}),
                          target().topic("A.orders", 1, {{"retention.ms", "3600000"}})});
  const auto rs = run(s, st);
  ASSERT_EQ(rs.size(), 2u) << dump(rs);
  EXPECT_EQ(rs[0].resource, "B:A.audit");
  EXPECT_THAT(rs[0].message, HasSubstr("gets retention.ms=-1 (created with it): keeps records forever"));
  EXPECT_EQ(rs[1].resource, "B:A.history");
  EXPECT_THAT(rs[1].message, HasSubstr("more than max_ms 604800000"));
}

TEST(MaxRetention, TheTargetsDefaultCountsForTopicsThatDoNotSetIt) {
  const auto s = spec_with(kFlow, "  - rule: max-retention\n    max_ms: 86400000\n");
  const auto rs = run(s, states({ClusterBuilder("A").topic("orders", 1), target()}));
  const auto r = only(rs);
  EXPECT_FALSE(r.passed);
  EXPECT_EQ(r.resource, "B");
  EXPECT_THAT(r.message, HasSubstr("1 topic (A.orders) takes B's default retention.ms=604800000"));
}

TEST(MaxRetention, TheBrokersRetentionHoursCountWhenMsIsNotSet) {
  const auto s = spec_with(kFlow, "  - rule: max-retention\n    max_ms: 86400000\n");
  auto st = states({ClusterBuilder("A").topic("orders", 1), ClusterBuilder("B")});
  st["B"].broker_configs["log.retention.ms"] = {std::nullopt, ConfigSource::default_config};
  st["B"].broker_configs["log.retention.hours"] = {"168", ConfigSource::default_config};
  const auto r = only(run(s, st));
  EXPECT_FALSE(r.passed);
  EXPECT_THAT(r.message, HasSubstr("takes B's default retention.ms=604800000 (reported for B's broker "
                                   "setting log.retention.hours=168)"));
}

TEST(MaxRetention, WithinTheMaxPasses) {
  const auto s = spec_with(kFlow, "  - rule: max-retention\n    max_ms: 604800000\n");
  const auto r = only(run(s, states({ClusterBuilder("A").topic("orders", 1, {{"retention.ms", "86400000"}}),
                                     target().topic("A.x", 1)})));
  EXPECT_TRUE(r.passed) << r.message;
}

// ---------------------------------------------------------------------------------------------------
// require-exactly-once

TEST(RequireExactlyOnce, EveryFlowByDefault) {
  const auto s = spec_with("  - {source: A, target: B, exactly_once: true}\n  - {source: C, target: B}\n",
                           "  - rule: require-exactly-once\n");
  const auto r = only(evaluate(Plan{}, s, {}));
  EXPECT_FALSE(r.passed);
  EXPECT_EQ(r.resource, "flow C-to-B");
  EXPECT_THAT(r.message, HasSubstr("flow C-to-B copies at least once"));
  EXPECT_THAT(r.message, HasSubstr("set exactly_once: true on flow C-to-B (mirror.yaml:8:5)"));
}

TEST(RequireExactlyOnce, OnlyTheSelectedFlows) {
  const auto s = spec_with("  - {source: A, target: B, exactly_once: true}\n  - {source: C, target: B}\n",
                           "  - rule: require-exactly-once\n    flows: [\"A-.*\"]\n");
  const auto r = only(evaluate(Plan{}, s, {}));
  EXPECT_TRUE(r.passed);
  EXPECT_EQ(r.message, "1 flow copies exactly once (A-to-B)");

  const auto none = spec_with(kFlow, "  - rule: require-exactly-once\n    flows: [\"payments-.*\"]\n");
  EXPECT_EQ(only(evaluate(Plan{}, none, {})).message, "no flow matches \"payments-.*\"");
}

// ---------------------------------------------------------------------------------------------------
// max-actions

TEST(MaxActions, MoreActionsThanTheMaxFailOnceForThePlan) {
  const auto s = spec_with(kFlow, "  - rule: max-actions\n    max: 3\n");
  const auto r =
      only(run(s, states({ClusterBuilder("A").topic("a", 1).topic("b", 1).topic("c", 1), target()})));
  EXPECT_FALSE(r.passed);
  EXPECT_EQ(r.resource, "");
  EXPECT_THAT(r.message, HasSubstr("the plan has 4 actions (3 create_topic, 1 start_flow), more than max 3"));
}

TEST(MaxActions, AtTheMaxPasses) {
  const auto s = spec_with(kFlow, "  - rule: max-actions\n    max: 4\n");
  const auto r =
      only(run(s, states({ClusterBuilder("A").topic("a", 1).topic("b", 1).topic("c", 1), target()})));
  EXPECT_TRUE(r.passed);
  EXPECT_EQ(r.message, "4 actions, max 4");
}

// ---------------------------------------------------------------------------------------------------
// no-foreign-write-acl

std::string sasl_clusters() {
  return "version: 1\n"
         "clusters:\n"
         "  A: {bootstrap: \"127.0.0.1:19092\"}\n"
         "  B:\n"
         "    bootstrap: 127.0.0.1:29094\n"
         "    client: {security.protocol: SASL_PLAINTEXT, sasl.mechanism: SCRAM-SHA-512,\n"
         "             sasl.username: admin, sasl.password: \"${env:B_PASSWORD}\"}\n"
         "flows:\n" +
         kFlow + "policies:\n";
}

TEST(NoForeignWriteAcl, AWriteGrantOnAMirroredTopicToSomeoneElseFails) {
  const auto s = parse_spec(sasl_clusters() + "  - rule: no-foreign-write-acl\n");
  const auto st = states({ClusterBuilder("A").topic("orders", 1).topic("payments", 1),
                          target()
                              .topic("A.orders", 1)
                              .topic("local", 1)
                              .acl(acl("A.orders", "User:admin", "WRITE"))  // mirror itself
                              .acl(acl("A.orders", "User:bob", "WRITE"))
                              .acl(acl("A.", "User:carol", "ALL", "ALLOW", "PREFIXED"))
                              .acl(acl("A.orders", "User:dave", "WRITE", "DENY"))  // a denial is fine
                              .acl(acl("local", "User:erin", "WRITE"))});          // not mirrored
  const auto rs = run(s, st);
  ASSERT_EQ(rs.size(), 2u) << dump(rs);
  EXPECT_EQ(rs[0].resource, "B:ALLOW User:bob WRITE on TOPIC A.orders (LITERAL, host *)");
  EXPECT_THAT(rs[0].message,
              HasSubstr("grants WRITE on 1 mirrored topic (A.orders) to User:bob, who is not mirror"));
  EXPECT_THAT(rs[0].message, HasSubstr("only mirror (User:admin) may write"));
  EXPECT_EQ(rs[1].resource, "B:ALLOW User:carol ALL on TOPIC A. (PREFIXED, host *)");
  // A.payments is created by this plan: it counts as mirrored.
  EXPECT_THAT(rs[1].message,
              HasSubstr("grants ALL on 2 mirrored topics (A.orders, A.payments) to User:carol"));
}

TEST(NoForeignWriteAcl, ListedPrincipalsAndAclsThePlanDeletesPass) {
  const auto s =
      parse_spec(sasl_clusters() + "  - rule: no-foreign-write-acl\n    principals: [\"User:mirror-2\"]\n");
  const auto r =
      only(run(s, states({ClusterBuilder("A").topic("orders", 1),
                          target().topic("A.orders", 1).acl(acl("A.orders", "User:mirror-2", "WRITE"))})));
  EXPECT_TRUE(r.passed) << r.message;
  EXPECT_EQ(r.message, "only mirror may write the mirrored topics on B (mirror: User:admin, User:mirror-2)");

  // A grant the plan removes does not count.
  Plan p;
  const Acl bob = acl("A.orders", "User:bob", "WRITE");
  p.actions.push_back({ActionKind::delete_acl, "A-to-B", "B", bob.str(), acl_json(bob), nullptr, ""});
  const auto st = states({ClusterBuilder("A").topic("orders", 1), target().topic("A.orders", 1).acl(bob)});
  EXPECT_TRUE(only(evaluate(p, s, st)).passed);
}

TEST(NoForeignWriteAcl, PlaintextMirrorIsAnonymous) {
  const auto s = spec_with(kFlow, "  - rule: no-foreign-write-acl\n");
  const auto r =
      only(run(s, states({ClusterBuilder("A").topic("orders", 1),
                          target().topic("A.orders", 1).acl(acl("A.orders", "User:ANONYMOUS", "WRITE"))})));
  EXPECT_TRUE(r.passed) << r.message;
}

TEST(NoForeignWriteAcl, AnUnknownMirrorPrincipalIsSaid) {
  const auto s =
      parse_spec(clusters_yaml().substr(0, clusters_yaml().find("  B:")) +
                 "  B:\n    bootstrap: 127.0.0.1:29094\n"
                 "    client: {security.protocol: SASL_SSL, sasl.mechanism: SCRAM-SHA-512,\n"
                 "             sasl.username: \"${env:B_USER}\", sasl.password: \"${env:B_PASSWORD}\"}\n"
                 "flows:\n" +
                 kFlow + "policies:\n  - rule: no-foreign-write-acl\n");
  const auto r =
      only(run(s, states({ClusterBuilder("A").topic("orders", 1),
                          target().topic("A.orders", 1).acl(acl("A.orders", "User:svc", "WRITE"))})));
  EXPECT_FALSE(r.passed);
  EXPECT_THAT(r.message,
              HasSubstr("mirror's own principal on B is not known (its sasl.username is read from "
                        "${env:B_USER} at run time): if User:svc is mirror, list it in principals:"));
}

TEST(NoForeignWriteAcl, UnobservedAclsCannotBeVerified) {
  const auto s = spec_with(kFlow, "  - rule: no-foreign-write-acl\n");
  const auto r = only(run(
      s, states({ClusterBuilder("A").topic("orders", 1), target().topic("A.orders", 1).no_authorizer()})));
  EXPECT_FALSE(r.passed);
  EXPECT_EQ(r.resource, "B");
  EXPECT_THAT(r.message, HasSubstr("cannot verify who may write the 1 mirrored topic on B"));
}

// ---------------------------------------------------------------------------------------------------
// Order and determinism

TEST(Evaluate, ResultsFollowTheSpecsRuleOrderThenResource) {
  const auto s = spec_with(kFlow,
                           "  - rule: max-partitions\n    level: advisory\n    max: 1\n"
                           "  - rule: no-topic-deletion\n"
                           "  - rule: max-actions\n    level: soft-mandatory\n    max: 1\n");
  const auto st = states({ClusterBuilder("A").topic("z", 2).topic("a", 2).topic("m", 2), target()});
  const auto rs = run(s, st);
  std::vector<std::string> got;
  for (const auto& r : rs) got.push_back(r.rule + " " + r.resource);
  EXPECT_EQ(got, (std::vector<std::string>{"max-partitions B:A.a", "max-partitions B:A.m",
                                           "max-partitions B:A.z", "no-topic-deletion ", "max-actions "}));
  EXPECT_EQ(rs[0].level, "advisory");
  EXPECT_EQ(rs[3].level, "hard-mandatory");  // the spec's default level
  EXPECT_EQ(rs[4].level, "soft-mandatory");
}

TEST(Evaluate, SameInputsGiveTheSameResults) {
  const auto s =
      parse_spec(clusters_yaml() + "flows:\n" + kFlow + "policies:\n" +
                 "  - {rule: no-topic-deletion}\n  - {rule: no-acl-deletion}\n"
                 "  - {rule: max-partitions, max: 1}\n  - {rule: min-replication-factor, min: 3}\n"
                 "  - {rule: min-insync-replicas, min: 2}\n  - {rule: max-retention, max_ms: 1000}\n"
                 "  - {rule: require-exactly-once}\n  - {rule: max-actions, max: 1}\n"
                 "  - {rule: no-foreign-write-acl}\n  - {rule: no-group-offset-deletion}\n");
  const auto st = orphans();
  const Plan p = make_plan(s, st, {.allow_delete = true});
  auto render = [&] {
    Plan q = p;
    q.policy_results = evaluate(p, s, st);
    return render_json(q);
  };
  const std::string first = render();
  for (int i = 0; i < 5; ++i) EXPECT_EQ(render(), first);
  EXPECT_GT(evaluate(p, s, st).size(), 9u);
}

TEST(Evaluate, NoPoliciesNoResults) {
  const auto s = parse_spec(clusters_yaml() + "flows:\n" + kFlow);
  EXPECT_TRUE(evaluate(Plan{}, s, {}).empty());
}

// ---------------------------------------------------------------------------------------------------
// judge

std::vector<PolicyResult> mixed() {
  return {
      {"no-topic-deletion", "hard-mandatory", "B:A.legacy", "deletes topic A.legacy on B", false},
      {"max-actions", "soft-mandatory", "", "the plan has 412 actions", false},
      {"max-partitions", "advisory", "B:A.big", "would have 128 partitions", false},
      {"min-replication-factor", "soft-mandatory", "", "ok", true},
      {"protected-topics", "hard-mandatory", "", "ok", true},
  };
}

TEST(Judge, HardAndSoftBlockAdvisoryIsReported) {
  auto v = judge(mixed(), {});
  ASSERT_TRUE(v.ok()) << v.error();
  EXPECT_TRUE(v->blocked());
  ASSERT_EQ(v->blocking.size(), 2u);
  EXPECT_EQ(v->blocking[0].rule, "no-topic-deletion");
  EXPECT_EQ(v->blocking[1].rule, "max-actions");
  ASSERT_EQ(v->advisories.size(), 1u);
  EXPECT_EQ(v->advisories[0].rule, "max-partitions");
  EXPECT_TRUE(v->overridden.empty());
  EXPECT_EQ(v->results.size(), mixed().size());
}

TEST(Judge, SoftMandatoryIsOverriddenWithItsReason) {
  auto results = mixed();
  results.erase(results.begin());  // no hard failure left
  auto v = judge(results, {{"max-actions", "CHG-1234: initial migration"}});
  ASSERT_TRUE(v.ok()) << v.error();
  EXPECT_FALSE(v->blocked());
  ASSERT_EQ(v->overridden.size(), 1u);
  EXPECT_EQ(v->overridden[0].rule, "max-actions");
  EXPECT_TRUE(v->overridden[0].overridden);
  EXPECT_EQ(v->overridden[0].override_reason, "CHG-1234: initial migration");
  // The marked results, for the plan's renderings.
  ASSERT_EQ(v->results.size(), results.size());
  EXPECT_TRUE(v->results[0].overridden);
  EXPECT_EQ(v->results[0].override_reason, "CHG-1234: initial migration");
  EXPECT_FALSE(v->results[1].overridden);  // advisory: never overridden
  EXPECT_EQ(v->advisories.size(), 1u);
}

TEST(Judge, HardMandatoryCannotBeOverridden) {
  auto v = judge(mixed(), {{"no-topic-deletion", "please"}});
  ASSERT_FALSE(v.ok());
  EXPECT_THAT(v.error(),
              HasSubstr("--override-policy no-topic-deletion: no-topic-deletion is hard-mandatory and "
                        "cannot be overridden"));
}

TEST(Judge, OverridingARuleThatDidNotFailIsAnError) {
  auto v = judge(mixed(), {{"min-replication-factor", "just in case"}});
  ASSERT_FALSE(v.ok());
  EXPECT_THAT(v.error(),
              HasSubstr("min-replication-factor passed on this plan, so there is nothing to override"));
}

TEST(Judge, OverridingARuleTheSpecDoesNotListIsAnError) {
  auto v = judge(mixed(), {{"no-acl-deletion", "x"}});
  ASSERT_FALSE(v.ok());
  EXPECT_THAT(v.error(), HasSubstr("the spec's policies: do not list no-acl-deletion"));
  EXPECT_THAT(v.error(), HasSubstr("the spec's rules: no-topic-deletion, max-actions, max-partitions"));

  auto typo = judge(mixed(), {{"max-action", "x"}});
  ASSERT_FALSE(typo.ok());
  EXPECT_THAT(typo.error(), HasSubstr("max-action is not a policy rule"));
}

TEST(Judge, OverridingAnAdvisoryIsAnError) {
  auto v = judge(mixed(), {{"max-partitions", "x"}});
  ASSERT_FALSE(v.ok());
  EXPECT_THAT(v.error(), HasSubstr("failed only as advisory, which never blocks"));
}

TEST(Judge, AnOverrideNeedsAReason) {
  auto v = judge(mixed(), {{"max-actions", "  "}});
  ASSERT_FALSE(v.ok());
  EXPECT_THAT(v.error(), HasSubstr("needs --reason TEXT"));
}

TEST(Judge, ARuleListedTwiceKeepsItsHardFailuresBlocking) {
  const std::vector<PolicyResult> rs{
      {"protected-topics", "soft-mandatory", "B:A.x", "soft", false},
      {"protected-topics", "hard-mandatory", "B:A.y", "hard", false},
  };
  auto v = judge(rs, {{"protected-topics", "CHG-1"}});
  ASSERT_TRUE(v.ok()) << v.error();
  ASSERT_EQ(v->overridden.size(), 1u);
  EXPECT_EQ(v->overridden[0].resource, "B:A.x");
  ASSERT_EQ(v->blocking.size(), 1u);
  EXPECT_EQ(v->blocking[0].resource, "B:A.y");
}

TEST(Judge, NoResultsNoOverridesNothingBlocks) {
  auto v = judge({}, {});
  ASSERT_TRUE(v.ok());
  EXPECT_FALSE(v->blocked());
}

// ---------------------------------------------------------------------------------------------------
// The sample plans examples/policies/ tests its Rego policy against: real renderings, from evaluate() and
// judge() with an override, so the example always reads the JSON mirror writes. MIRROR_UPDATE_GOLDEN=1
// rewrites them; examples/policies/run-tests.sh (ctest examples.policies.opa) then checks the policy.

Plan example_plan(bool failing) {
  const auto s = parse_spec(clusters_yaml() +
                                "flows:\n"
                                "  - {name: a-to-b, source: A, target: B, replication_factor: 3}\n"
                                "policies:\n"
                                "  - {rule: no-topic-deletion, level: hard-mandatory}\n"
                                "  - {rule: max-actions, level: soft-mandatory, max: 0}  # a change freeze\n",
                            spec::Origin{"git@github.com:acme/kafka-specs.git",
                                         "5b1e0c9d2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c", "main", "prod"});
  ClusterState a = ClusterBuilder("A").topic("orders", 1).topic("payments", 1).build();
  ClusterState b = target().topic("A.orders", 1).applied("a-to-b", flow_revision(s.flows[0])).build();
  b.offset_maps["a-to-b"][{"orders", 0}] = lockstep(0, 1000, 100);
  auto group = [&](const std::string& id) {
    a.groups[id] = GroupState{id, "Stable", 2, {{{"orders", 0}, 42}}};
    b.groups[id] = GroupState{id, "Empty", 0, {{{"A.orders", 0}, 1010}}};
  };
  group("billing");
  if (failing) group("payments-settlement");
  const std::map<std::string, ClusterState> st{{"A", a}, {"B", b}};
  Plan p = make_plan(s, st);
  auto verdict = judge(evaluate(p, s, st),
                       {{"max-actions", failing ? "urgent, will explain later"
                                                : "CHG-1234: payments topic approved for the freeze"}});
  EXPECT_TRUE(verdict.ok()) << verdict.error();
  if (verdict.ok()) p.policy_results = verdict->results;
  return p;
}

TEST(ExamplePlans, AreRealRenderings) {
  const fs::path dir = fs::path(MIRROR_SOURCE_DIR) / "examples/policies/testdata";
  const Plan pass = example_plan(false);
  const Plan fail = example_plan(true);
  // What the policy is tested on: an overridden result, and (failing) a payments group written.
  ASSERT_EQ(pass.policy_results.size(), 2u) << render_text(pass);
  EXPECT_TRUE(pass.policy_results[1].overridden) << render_text(pass);
  EXPECT_NE(find_action(fail, ActionKind::sync_group_offsets, "payments-settlement"), nullptr)
      << render_text(fail);
  mirror::test_support::expect_golden(dir / "pass.json", render_json(pass), "example plan");
  mirror::test_support::expect_golden(dir / "fail.json", render_json(fail), "example plan");
}

}  // namespace
}  // namespace mirror::policies

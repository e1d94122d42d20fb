// make_plan, rule by rule (the `mirror plan` issue): topics, configs, ACLs, internal topics, flows,
// orphans, ordering and the fingerprint. Every test builds the observed clusters by hand; no broker.
#include <gtest/gtest.h>

#include <functional>

#include "planner/plan.h"
#include "planner/render.h"
#include "planner/tests/builders.h"

namespace mirror::planner {
namespace {

using namespace mirror::planner::testing;

// A target that already has mirror's internal topics, so tests see only what they are about.
ClusterBuilder target() { return std::move(ClusterBuilder("B").internal_topics()); }

// ---------------------------------------------------------------------------------------------------
// Topics

TEST(Topics, MissingTargetTopicIsCreatedWithSourcePartitionsFlowRfAndSyncedConfigs) {
  const auto spec = one_flow("    replication_factor: 3\n");
  const auto p = make_plan(
      spec, states({ClusterBuilder("A").topic("orders", 6, {{"retention.ms", "86400000"}}), target()}));
  const Action* a = find_action(p, ActionKind::create_topic, "A.orders");
  ASSERT_NE(a, nullptr) << render_text(p);
  EXPECT_EQ(a->cluster, "B");
  EXPECT_EQ(a->flow, "A-to-B");
  EXPECT_TRUE(a->before.is_null());
  EXPECT_EQ(a->after["partitions"], 6);
  EXPECT_EQ(a->after["replication_factor"], 3);
  EXPECT_EQ(a->after["configs"], Json({{"retention.ms", "86400000"}}));
  EXPECT_EQ(a->after["source_topic"], "orders");
}

TEST(Topics, ReplicationFactorDefaultsToTheBrokersDefault) {
  const auto p = make_plan(one_flow(), states({ClusterBuilder("A").topic("orders", 1), target()}));
  const Action* a = find_action(p, ActionKind::create_topic, "A.orders");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->after["replication_factor"], -1);
  EXPECT_NE(render_text(p).find("replication_factor: broker default"), std::string::npos) << render_text(p);
}

TEST(Topics, PrefixNamingUsesSourceAliasAndSeparator) {
  const auto p =
      make_plan(one_flow(), states({ClusterBuilder("A").topic("orders", 1).topic("payments", 1), target()}));
  EXPECT_NE(find_action(p, ActionKind::create_topic, "A.orders"), nullptr);
  EXPECT_NE(find_action(p, ActionKind::create_topic, "A.payments"), nullptr);
  EXPECT_EQ(find_action(p, ActionKind::create_topic, "orders"), nullptr);
}

TEST(Topics, IdentityNamingKeepsTheSourceName) {
  const auto p = make_plan(one_flow("    naming: identity\n"),
                           states({ClusterBuilder("A").topic("orders", 2), target()}));
  const Action* a = find_action(p, ActionKind::create_topic, "orders");
  ASSERT_NE(a, nullptr) << render_text(p);
  EXPECT_EQ(a->after["source_topic"], "orders");
  EXPECT_EQ(find_action(p, ActionKind::create_topic, "A.orders"), nullptr);
}

TEST(Topics, IdentityNamingExistingTopicIsCompared) {
  const auto p = make_plan(one_flow("    naming: identity\n"),
                           states({ClusterBuilder("A").topic("orders", 4), target().topic("orders", 2)}));
  EXPECT_EQ(of_kind(p, ActionKind::create_topic).size(), 0u);
  const Action* a = find_action(p, ActionKind::create_partitions, "orders");
  ASSERT_NE(a, nullptr) << render_text(p);
}

TEST(Topics, OnlyTopicsSelectedByTheFlowAreMirrored) {
  const auto spec = one_flow(
      "    topics:\n"
      "      include: [\"orders\\\\..*\", \"payments\"]\n"
      "      exclude: [\"orders\\\\.test\"]\n");
  const auto p = make_plan(spec, states({ClusterBuilder("A")
                                             .topic("orders.eu", 1)
                                             .topic("orders.test", 1)
                                             .topic("payments", 1)
                                             .topic("payments.v2", 1)
                                             .topic("audit", 1),
                                         target()}));
  std::vector<std::string> created;
  for (const auto& a : of_kind(p, ActionKind::create_topic)) created.push_back(a.resource);
  EXPECT_EQ(created, (std::vector<std::string>{"A.orders.eu", "A.payments"}));
}

TEST(Topics, InternalTopicsAreNeverMirrored) {
  const auto p = make_plan(one_flow(), states({ClusterBuilder("A")
                                                   .topic("__consumer_offsets", 50)
                                                   .topic("__transaction_state", 50)
                                                   .topic("connect-offsets-internal", 1)
                                                   .topic("mm2-offsets.B.internal", 1)
                                                   .topic("C.checkpoints.internal", 1)
                                                   .topic("mirror.state.internal", 1)
                                                   .topic("orders.replica", 1)
                                                   .topic("orders", 1),
                                               target()}));
  std::vector<std::string> created;
  for (const auto& a : of_kind(p, ActionKind::create_topic)) created.push_back(a.resource);
  EXPECT_EQ(created, (std::vector<std::string>{"A.orders"})) << render_text(p);
}

TEST(Topics, TopicsThatCameFromTheTargetAreNeverCopiedBack) {
  // A -> B with prefix naming: "B.orders" on A came from B (a B -> A flow); "C.B.orders" came from B via C.
  const auto p = make_plan(one_flow(), states({ClusterBuilder("A")
                                                   .topic("B.orders", 1)
                                                   .topic("C.B.orders", 1)
                                                   .topic("C.orders", 1)
                                                   .topic("orders", 1),
                                               target()}));
  std::vector<std::string> created;
  for (const auto& a : of_kind(p, ActionKind::create_topic)) created.push_back(a.resource);
  EXPECT_EQ(created, (std::vector<std::string>{"A.C.orders", "A.orders"})) << render_text(p);
}

TEST(Topics, BidirectionalFlowsDoNotLoop) {
  const auto spec =
      parse_spec(clusters_yaml() + "flows:\n  - {source: A, target: B}\n  - {source: B, target: A}\n");
  // Steady state after both flows ran once: A has orders and B.invoices, B has invoices and A.orders.
  const auto p = make_plan(
      spec, states({ClusterBuilder("A").internal_topics("B").topic("orders", 1).topic("B.invoices", 1),
                    target().topic("invoices", 1).topic("A.orders", 1)}));
  EXPECT_EQ(of_kind(p, ActionKind::create_topic).size(), 0u) << render_text(p);
}

TEST(Topics, FewerTargetPartitionsAreIncreasedToTheSourceCount) {
  const auto p =
      make_plan(one_flow(), states({ClusterBuilder("A").topic("orders", 12), target().topic("A.orders", 4)}));
  const Action* a = find_action(p, ActionKind::create_partitions, "A.orders");
  ASSERT_NE(a, nullptr) << render_text(p);
  EXPECT_EQ(a->before, Json({{"partitions", 4}}));
  EXPECT_EQ(a->after, Json({{"partitions", 12}}));
  EXPECT_EQ(p.summary.update, 1);
  EXPECT_NE(render_text(p).find("partitions: 4 -> 12"), std::string::npos) << render_text(p);
}

TEST(Topics, MoreTargetPartitionsIsAWarningNeverAnAction) {
  const auto spec = one_flow();
  const auto p = make_plan(
      spec, states({ClusterBuilder("A").topic("orders", 3),
                    target().topic("A.orders", 8).applied("A-to-B", flow_revision(spec.flows[0]))}));
  EXPECT_FALSE(p.has_changes()) << render_text(p);
  ASSERT_EQ(p.diagnostics.size(), 1u) << notes_text(p);
  EXPECT_EQ(p.diagnostics[0].severity, Severity::warning);
  EXPECT_EQ(p.diagnostics[0].resource, "A.orders");
  EXPECT_NE(p.diagnostics[0].message.find("8 partitions"), std::string::npos);
  EXPECT_NE(p.diagnostics[0].message.find("cannot remove partitions"), std::string::npos);
}

TEST(Topics, MatchingTopicIsCountedAsUnchanged) {
  const auto p =
      make_plan(one_flow(), states({ClusterBuilder("A").topic("orders", 3, {{"retention.ms", "1000"}}),
                                    target()
                                        .topic("A.orders", 3, {{"retention.ms", "1000"}})
                                        .applied("A-to-B", flow_revision(one_flow().flows[0]))}));
  EXPECT_FALSE(p.has_changes()) << render_text(p);
  // The topic, mirror's two internal topics and the flow itself.
  EXPECT_EQ(p.summary.no_op, 4);
}

// ---------------------------------------------------------------------------------------------------
// Configs

TEST(Configs, CopiesNonDefaultNonSensitiveNonReadOnlyConfigsExceptExcludedOnes) {
  const auto spec = one_flow("    configs:\n      exclude: [\"compression\\\\..*\"]\n");
  auto a = ClusterBuilder("A").topic("orders", 1, {{"retention.ms", "1000"}, {"compression.type", "zstd"}});
  a.config("orders", "segment.bytes", "1048576", ConfigSource::dynamic_broker)
      .config("orders", "max.message.bytes", "2000000", ConfigSource::dynamic_default_broker)
      .config("orders", "cleanup.policy", "compact", ConfigSource::static_broker)  // server.properties
      .config("orders", "message.format.version", "3.0", ConfigSource::dynamic_topic, /*read_only=*/true)
      .config("orders", "sasl.secret.thing", "hunter2", ConfigSource::dynamic_topic, false,
              /*sensitive=*/true)
      .config("orders", "min.insync.replicas", "2", ConfigSource::dynamic_topic)  // MM2 default exclusion
      .config("orders", "message.timestamp.type", "LogAppendTime", ConfigSource::dynamic_topic);  // ditto
  const auto p = make_plan(spec, states({a, target()}));
  const Action* c = find_action(p, ActionKind::create_topic, "A.orders");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->after["configs"],
            Json({{"max.message.bytes", "2000000"}, {"retention.ms", "1000"}, {"segment.bytes", "1048576"}}))
      << c->after.dump(2);
}

TEST(Configs, ChangedConfigShowsOldAndNewValue) {
  const auto p =
      make_plan(one_flow(), states({ClusterBuilder("A").topic("orders", 1, {{"retention.ms", "1000"}}),
                                    target().topic("A.orders", 1, {{"retention.ms", "5000"}})}));
  const Action* a = find_action(p, ActionKind::alter_topic_configs, "A.orders");
  ASSERT_NE(a, nullptr) << render_text(p);
  EXPECT_EQ(a->before, Json({{"retention.ms", "5000"}}));
  EXPECT_EQ(a->after["set"], Json({{"retention.ms", "1000"}}));
  EXPECT_TRUE(a->after["reset"].empty());
  EXPECT_NE(render_text(p).find("retention.ms: \"5000\" -> \"1000\""), std::string::npos) << render_text(p);
}

TEST(Configs, TargetValueFromKafkasDefaultIsShownAsTheOldValue) {
  const auto p =
      make_plan(one_flow(), states({ClusterBuilder("A").topic("orders", 1, {{"retention.ms", "1000"}}),
                                    target().topic("A.orders", 1)}));
  const Action* a = find_action(p, ActionKind::alter_topic_configs, "A.orders");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->before, Json({{"retention.ms", "604800000"}}));
  EXPECT_NE(render_text(p).find("retention.ms: \"604800000\" -> \"1000\""), std::string::npos)
      << render_text(p);
}

TEST(Configs, ConfigThatIsDefaultOnTheSourceIsResetOnTheTarget) {
  const auto p = make_plan(one_flow(), states({ClusterBuilder("A").topic("orders", 1),
                                               target().topic("A.orders", 1, {{"retention.ms", "5000"}})}));
  const Action* a = find_action(p, ActionKind::alter_topic_configs, "A.orders");
  ASSERT_NE(a, nullptr) << render_text(p);
  EXPECT_TRUE(a->after["set"].empty());
  EXPECT_EQ(a->after["reset"], Json::array({"retention.ms"}));
  EXPECT_EQ(a->before, Json({{"retention.ms", "5000"}}));
  EXPECT_NE(render_text(p).find("retention.ms: \"5000\" -> (target default)"), std::string::npos)
      << render_text(p);
}

TEST(Configs, ExcludedConfigsOnTheTargetAreLeftAlone) {
  const auto spec = one_flow("    configs:\n      exclude: [\"retention\\\\.bytes\"]\n");
  // min.insync.replicas is one of MM2's default exclusions; retention.bytes is the user's own.
  const auto p = make_plan(
      spec,
      states({ClusterBuilder("A").topic("orders", 1, {{"retention.bytes", "10"}}),
              target().topic("A.orders", 1, {{"min.insync.replicas", "2"}, {"retention.bytes", "99"}})}));
  EXPECT_TRUE(of_kind(p, ActionKind::alter_topic_configs).empty()) << render_text(p);
}

TEST(Configs, BrokerDefaultEqualToTheDesiredValueIsNotDrift) {
  auto b = target().topic("A.orders", 1);
  b.config("A.orders", "retention.ms", "1000", ConfigSource::dynamic_default_broker)
      .config("A.orders", "segment.bytes", "1048576", ConfigSource::static_broker);
  const auto p = make_plan(
      one_flow(), states({ClusterBuilder("A").topic("orders", 1,
                                                    {{"retention.ms", "1000"}, {"segment.bytes", "1048576"}}),
                          b}));
  EXPECT_TRUE(of_kind(p, ActionKind::alter_topic_configs).empty()) << render_text(p);
}

TEST(Configs, BrokerSideTargetValuesAreNeverReset) {
  // Only topic-level overrides on the target are reset; a broker-wide value is not mirror's business.
  auto b = target().topic("A.orders", 1);
  b.config("A.orders", "retention.ms", "5000", ConfigSource::dynamic_broker);
  const auto p = make_plan(one_flow(), states({ClusterBuilder("A").topic("orders", 1), b}));
  EXPECT_TRUE(of_kind(p, ActionKind::alter_topic_configs).empty()) << render_text(p);
}

TEST(Configs, SourceValueFromItsStaticBrokerConfigLeavesTheTargetOverrideAlone) {
  auto a = ClusterBuilder("A").topic("orders", 1);
  a.config("orders", "retention.ms", "1000", ConfigSource::static_broker);
  const auto p =
      make_plan(one_flow(), states({a, target().topic("A.orders", 1, {{"retention.ms", "5000"}})}));
  EXPECT_TRUE(of_kind(p, ActionKind::alter_topic_configs).empty()) << render_text(p);
}

TEST(Configs, SetAndResetInOneAction) {
  const auto p = make_plan(
      one_flow(),
      states({ClusterBuilder("A").topic("orders", 1, {{"retention.ms", "1000"}}),
              target().topic("A.orders", 1, {{"retention.ms", "5000"}, {"cleanup.policy", "compact"}})}));
  const auto alters = of_kind(p, ActionKind::alter_topic_configs);
  ASSERT_EQ(alters.size(), 1u);
  EXPECT_EQ(alters[0].after["set"], Json({{"retention.ms", "1000"}}));
  EXPECT_EQ(alters[0].after["reset"], Json::array({"cleanup.policy"}));
  EXPECT_EQ(p.summary.update, 1);
}

TEST(Configs, SyncOffCopiesAndResetsNothing) {
  const auto spec = one_flow("    configs:\n      sync: false\n");
  const auto p = make_plan(spec, states({ClusterBuilder("A")
                                             .topic("orders", 1, {{"retention.ms", "1000"}})
                                             .topic("new", 1, {{"retention.ms", "1"}}),
                                         target().topic("A.orders", 1, {{"cleanup.policy", "compact"}})}));
  EXPECT_TRUE(of_kind(p, ActionKind::alter_topic_configs).empty()) << render_text(p);
  const Action* c = find_action(p, ActionKind::create_topic, "A.new");
  ASSERT_NE(c, nullptr);
  EXPECT_TRUE(c->after["configs"].empty());
}

TEST(Configs, SensitiveSourceValuesNeverReachThePlan) {
  auto a = ClusterBuilder("A").topic("orders", 1).topic("payments", 1);
  a.config("orders", "some.secret", "s3cr3t-value", ConfigSource::dynamic_topic, false, true)
      .config("payments", "some.secret", "s3cr3t-value", ConfigSource::dynamic_topic, false, true);
  const auto p = make_plan(one_flow(), states({a, target().topic("A.payments", 1)}));
  EXPECT_EQ(render_json(p).find("s3cr3t"), std::string::npos) << render_json(p);
}

// The observer leaves a topic's configs empty when it could not read them: nothing is reset or set blind.
TEST(Configs, UnreadableConfigsAreNeverResetOrGuessed) {
  auto a = ClusterBuilder("A").topic("orders", 1).topic("payments", 1, {{"retention.ms", "1000"}});
  auto b = target().topic("A.orders", 1, {{"retention.ms", "5000"}}).topic("A.payments", 1);
  ClusterState sa = a.build(), sb = b.build();
  sa.topics["orders"].configs.clear();      // source side unreadable
  sb.topics["A.payments"].configs.clear();  // target side unreadable
  const auto p = make_plan(one_flow(), {{"A", sa}, {"B", sb}});
  EXPECT_TRUE(of_kind(p, ActionKind::alter_topic_configs).empty()) << render_text(p);
  EXPECT_TRUE(has_note(p, "orders", "could not be read")) << notes_text(p);
}

// ---------------------------------------------------------------------------------------------------
// ACLs

std::vector<Acl> created_acls(const Plan& p) {
  std::vector<Acl> out;
  for (const auto& a : of_kind(p, ActionKind::create_acl)) {
    const Json& j = a.after;
    out.push_back(Acl{j["resource_type"], j["resource_name"], j["pattern_type"], j["principal"], j["host"],
                      j["operation"], j["permission"]});
  }
  return out;
}

TEST(Acls, MirrorMaker2Transformations) {
  auto a = ClusterBuilder("A").topic("orders", 1);
  a.acl(acl("orders", "User:reader", "READ"))                             // copied, renamed
      .acl(acl("orders", "User:writer", "WRITE"))                         // ALLOW WRITE dropped
      .acl(acl("orders", "User:owner", "ALL"))                            // ALLOW ALL -> ALLOW READ
      .acl(acl("orders", "User:mallory", "WRITE", "DENY"))                // DENY copied
      .acl(acl("orders", "User:eve", "ALL", "DENY"))                      // DENY ALL copied as is
      .acl(acl("orders", "User:p", "READ", "ALLOW", "PREFIXED"))          // only LITERAL
      .acl(acl("orders", "User:g", "READ", "ALLOW", "LITERAL", "GROUP"))  // only TOPIC
      .acl(acl("*", "User:any", "READ"))                                  // wildcard: not a topic name
      .acl(acl("audit.internal", "User:x", "READ"))                       // not replicated
      .acl(acl("B.orders", "User:x", "READ"));                            // cycle: not replicated
  const auto p = make_plan(one_flow(), states({a, target()}));
  const std::vector<Acl> want{
      acl("A.orders", "User:eve", "ALL", "DENY"),
      acl("A.orders", "User:mallory", "WRITE", "DENY"),
      acl("A.orders", "User:owner", "READ"),
      acl("A.orders", "User:reader", "READ"),
  };
  auto got = created_acls(p);
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, want) << render_text(p);
  for (const auto& c : of_kind(p, ActionKind::create_acl)) EXPECT_EQ(c.cluster, "B");
}

TEST(Acls, IdentityNamingKeepsTheTopicName) {
  auto a = ClusterBuilder("A").topic("orders", 1);
  a.acl(acl("orders", "User:reader", "READ"));
  const auto p = make_plan(one_flow("    naming: identity\n"), states({a, target()}));
  EXPECT_EQ(created_acls(p), std::vector<Acl>{acl("orders", "User:reader", "READ")});
}

TEST(Acls, AclAlreadyOnTheTargetIsUnchanged) {
  auto a = ClusterBuilder("A").topic("orders", 1);
  a.acl(acl("orders", "User:reader", "READ")).acl(acl("orders", "User:owner", "ALL"));
  auto b = target().topic("A.orders", 1);
  b.acl(acl("A.orders", "User:reader", "READ")).acl(acl("A.orders", "User:owner", "READ"));
  const auto p = make_plan(one_flow(), states({a, b}));
  EXPECT_TRUE(created_acls(p).empty()) << render_text(p);
}

TEST(Acls, SyncOffCreatesNothing) {
  auto a = ClusterBuilder("A").topic("orders", 1);
  a.acl(acl("orders", "User:reader", "READ"));
  const auto p = make_plan(one_flow("    acls:\n      sync: false\n"), states({a, target()}));
  EXPECT_TRUE(created_acls(p).empty());
}

TEST(Acls, AclsMirrorDidNotCreateAreNeverTouched) {
  auto a = ClusterBuilder("A").topic("orders", 1);
  auto b = target().topic("A.orders", 1);
  b.acl(acl("A.orders", "User:local-admin", "WRITE")).acl(acl("A.orders", "User:ops", "ALL"));
  for (bool allow_delete : {false, true}) {
    const auto p = make_plan(one_flow(), states({a, b}), {.allow_delete = allow_delete});
    EXPECT_TRUE(of_kind(p, ActionKind::delete_acl).empty()) << render_text(p);
    EXPECT_TRUE(p.diagnostics.empty()) << notes_text(p);
  }
}

TEST(Acls, NoAuthorizerOnTheSourceSkipsAclSyncWithAWarning) {
  auto a = ClusterBuilder("A").topic("orders", 1);
  a.acl(acl("orders", "User:reader", "READ")).no_authorizer();
  const auto p = make_plan(one_flow(), states({a, target()}));
  EXPECT_TRUE(created_acls(p).empty());
  ASSERT_EQ(p.diagnostics.size(), 1u) << notes_text(p);
  EXPECT_EQ(p.diagnostics[0].severity, Severity::warning);
  EXPECT_EQ(p.diagnostics[0].cluster, "A");
  EXPECT_NE(p.diagnostics[0].message.find("no authorizer"), std::string::npos);
  EXPECT_NE(p.diagnostics[0].message.find("skipped"), std::string::npos);
}

TEST(Acls, NoAuthorizerOnTheTargetSkipsAclSyncWithAWarning) {
  auto a = ClusterBuilder("A").topic("orders", 1);
  a.acl(acl("orders", "User:reader", "READ"));
  const auto p = make_plan(one_flow(), states({a, target().no_authorizer()}));
  EXPECT_TRUE(created_acls(p).empty());
  ASSERT_EQ(p.diagnostics.size(), 1u) << notes_text(p);
  EXPECT_EQ(p.diagnostics[0].cluster, "B");
  EXPECT_NE(p.diagnostics[0].message.find("no authorizer"), std::string::npos);
}

TEST(Acls, AclMirrorCreatedThatIsNoLongerWantedIsDriftThenDeletedWithAllowDelete) {
  auto a = ClusterBuilder("A").topic("orders", 1);
  a.acl(acl("orders", "User:reader", "READ"));
  const Acl stale = acl("A.orders", "User:gone", "READ");
  auto b = target().topic("A.orders", 1);
  b.acl(acl("A.orders", "User:reader", "READ"))
      .acl(stale)
      .managed_acl(stale)
      .managed_acl(acl("A.orders", "User:reader", "READ"));

  const auto drift = make_plan(one_flow(), states({a, b}));
  EXPECT_TRUE(of_kind(drift, ActionKind::delete_acl).empty());
  EXPECT_TRUE(has_note(drift, stale.str(), "--allow-delete")) << notes_text(drift);

  const auto del = make_plan(one_flow(), states({a, b}), {.allow_delete = true});
  const auto deletes = of_kind(del, ActionKind::delete_acl);
  ASSERT_EQ(deletes.size(), 1u) << render_text(del);
  EXPECT_EQ(deletes[0].resource, stale.str());
  EXPECT_TRUE(deletes[0].after.is_null());
  EXPECT_EQ(del.summary.remove, 1);
}

TEST(Acls, ManagedAclAlreadyGoneFromTheTargetIsNotDrift) {
  auto b = target();
  b.managed_acl(acl("A.orders", "User:gone", "READ"));
  const auto p =
      make_plan(one_flow(), states({ClusterBuilder("A").topic("orders", 1), b}), {.allow_delete = true});
  EXPECT_TRUE(of_kind(p, ActionKind::delete_acl).empty());
  EXPECT_TRUE(p.diagnostics.empty()) << notes_text(p);
}

TEST(Acls, IdentityNamingOrphanAclIsDrift) {
  const Acl stale = acl("orders", "User:gone", "READ");
  auto b = target().topic("orders", 1);
  b.acl(stale).managed_acl(stale).managed_topic("orders");
  const auto p = make_plan(one_flow("    naming: identity\n"),
                           states({ClusterBuilder("A").topic("orders", 1), b}), {.allow_delete = true});
  const auto deletes = of_kind(p, ActionKind::delete_acl);
  ASSERT_EQ(deletes.size(), 1u) << render_text(p);
  EXPECT_EQ(deletes[0].resource, stale.str());
}

// Two flows between the same clusters with disjoint filters (the spec allows it): neither flow's ACLs are
// the other's orphans.
TEST(Acls, SiblingFlowsDoNotDeleteEachOthersAcls) {
  const auto spec = parse_spec(clusters_yaml() +
                               "flows:\n"
                               "  - {name: orders, source: A, target: B, topics: {include: [orders]}}\n"
                               "  - {name: payments, source: A, target: B, topics: {include: [payments]}}\n");
  auto a = ClusterBuilder("A").topic("orders", 1).topic("payments", 1);
  a.acl(acl("orders", "User:o", "READ")).acl(acl("payments", "User:p", "READ"));
  auto b = target().topic("A.orders", 1).topic("A.payments", 1);
  for (const auto& x : {acl("A.orders", "User:o", "READ"), acl("A.payments", "User:p", "READ")}) {
    b.acl(x).managed_acl(x);
  }
  const auto p = make_plan(spec, states({a, b}), {.allow_delete = true});
  EXPECT_TRUE(of_kind(p, ActionKind::delete_acl).empty()) << render_text(p);
  EXPECT_TRUE(p.diagnostics.empty()) << notes_text(p);
}

// ---------------------------------------------------------------------------------------------------
// mirror's internal topics

TEST(InternalTopics, StateAndCheckpointsTopicsAreCreatedTheFirstTime) {
  const auto p =
      make_plan(one_flow("    replication_factor: 3\n"), states({ClusterBuilder("A"), ClusterBuilder("B")}));
  const auto internal = of_kind(p, ActionKind::create_internal_topic);
  ASSERT_EQ(internal.size(), 2u) << render_text(p);
  EXPECT_EQ(internal[0].resource, "A.checkpoints.internal");
  EXPECT_EQ(internal[1].resource, "mirror.state.internal");
  for (const auto& a : internal) {
    EXPECT_EQ(a.cluster, "B");
    EXPECT_EQ(a.after["partitions"], 1);
    EXPECT_EQ(a.after["replication_factor"], 3);
    EXPECT_EQ(a.after["configs"]["cleanup.policy"], "compact");
  }
  // Internal topics come first: everything else depends on the state topic.
  EXPECT_EQ(p.actions[0].kind, ActionKind::create_internal_topic);
}

TEST(InternalTopics, ExistingInternalTopicsAreNotRecreated) {
  const auto p = make_plan(one_flow(), states({ClusterBuilder("A"), target()}));
  EXPECT_TRUE(of_kind(p, ActionKind::create_internal_topic).empty()) << render_text(p);
}

TEST(InternalTopics, OneStateTopicPerTargetAndOneCheckpointsTopicPerSource) {
  const auto spec = parse_spec(clusters_yaml() +
                               "flows:\n  - {source: A, target: B}\n  - {source: C, target: B}\n"
                               "  - {source: B, target: C}\n");
  const auto p = make_plan(spec, states({ClusterBuilder("A"), ClusterBuilder("B"), ClusterBuilder("C")}));
  std::vector<std::string> got;
  for (const auto& a : of_kind(p, ActionKind::create_internal_topic))
    got.push_back(a.cluster + ":" + a.resource);
  EXPECT_EQ(got, (std::vector<std::string>{"B:A.checkpoints.internal", "B:C.checkpoints.internal",
                                           "B:mirror.state.internal", "C:B.checkpoints.internal",
                                           "C:mirror.state.internal"}));
}

// ---------------------------------------------------------------------------------------------------
// Flows

TEST(Flows, NeverAppliedFlowIsStarted) {
  const auto p = make_plan(one_flow(), states({ClusterBuilder("A"), target()}));
  const Action* a = find_action(p, ActionKind::start_flow, "A-to-B");
  ASSERT_NE(a, nullptr) << render_text(p);
  EXPECT_EQ(a->cluster, "B");
  EXPECT_TRUE(a->before.is_null());
  EXPECT_EQ(a->after["revision"], flow_revision(one_flow().flows[0]));
  EXPECT_TRUE(a->after["spec_commit"].is_null());
}

TEST(Flows, ChangedFlowPicksUpTheNewRevision) {
  const auto old_spec = one_flow();
  const auto new_spec = one_flow("    topics:\n      include: [\"orders\"]\n");
  const std::string old_rev = flow_revision(old_spec.flows[0]);
  ASSERT_NE(old_rev, flow_revision(new_spec.flows[0]));
  const auto p =
      make_plan(new_spec, states({ClusterBuilder("A"), target().applied("A-to-B", old_rev, "abc")}));
  const Action* a = find_action(p, ActionKind::update_flow, "A-to-B");
  ASSERT_NE(a, nullptr) << render_text(p);
  EXPECT_EQ(a->before["revision"], old_rev);
  EXPECT_EQ(a->after["revision"], flow_revision(new_spec.flows[0]));
  EXPECT_NE(render_text(p).find("revision: " + old_rev + " -> " + flow_revision(new_spec.flows[0])),
            std::string::npos)
      << render_text(p);
}

TEST(Flows, FlowAtThisRevisionIsUnchanged) {
  const auto spec = one_flow();
  const auto p = make_plan(
      spec, states({ClusterBuilder("A"), target().applied("A-to-B", flow_revision(spec.flows[0]))}));
  EXPECT_FALSE(p.has_changes()) << render_text(p);
  EXPECT_EQ(render_text(p).find("start_flow"), std::string::npos);
}

TEST(Flows, RevisionIsStableAndCoversWhatChangesHowTheFlowRuns) {
  EXPECT_EQ(flow_revision(one_flow().flows[0]), flow_revision(one_flow().flows[0]));
  const std::string base = flow_revision(one_flow().flows[0]);
  for (const char* extra : {"    naming: identity\n", "    replication_factor: 3\n",
                            "    exactly_once: true\n", "    start: latest\n", "    acls: {sync: false}\n",
                            "    configs: {sync: false}\n", "    groups: {sync_offsets: false}\n"}) {
    EXPECT_NE(flow_revision(one_flow(extra).flows[0]), base) << extra;
  }
}

// ---------------------------------------------------------------------------------------------------
// Orphans

TEST(Orphans, ManagedTopicWhoseSourceIsGoneIsDriftWithoutAllowDelete) {
  const auto p = make_plan(
      one_flow(), states({ClusterBuilder("A").topic("orders", 1),
                          target().topic("A.orders", 1).topic("A.legacy", 3).managed_topic("A.legacy")}));
  EXPECT_TRUE(of_kind(p, ActionKind::delete_topic).empty());
  EXPECT_TRUE(has_note(p, "A.legacy", "source topic A:legacy no longer exists")) << notes_text(p);
  EXPECT_TRUE(has_note(p, "A.legacy", "--allow-delete")) << notes_text(p);
}

TEST(Orphans, ManagedTopicWhoseSourceIsGoneIsDeletedWithAllowDelete) {
  const auto p =
      make_plan(one_flow(),
                states({ClusterBuilder("A").topic("orders", 1),
                        target().topic("A.orders", 1).topic("A.legacy", 3).managed_topic("A.legacy")}),
                {.allow_delete = true});
  const auto deletes = of_kind(p, ActionKind::delete_topic);
  ASSERT_EQ(deletes.size(), 1u) << render_text(p);
  EXPECT_EQ(deletes[0].resource, "A.legacy");
  EXPECT_EQ(deletes[0].cluster, "B");
  EXPECT_EQ(deletes[0].before["partitions"], 3);
  EXPECT_TRUE(deletes[0].after.is_null());
  EXPECT_EQ(p.summary.remove, 1);
  EXPECT_FALSE(has_note(p, "A.legacy", "drift")) << notes_text(p);
}

TEST(Orphans, TopicMirrorDidNotCreateIsNeverDeleted) {
  for (bool allow_delete : {false, true}) {
    const auto p = make_plan(one_flow(), states({ClusterBuilder("A"), target().topic("A.legacy", 1)}),
                             {.allow_delete = allow_delete});
    EXPECT_TRUE(of_kind(p, ActionKind::delete_topic).empty()) << render_text(p);
    EXPECT_TRUE(has_note(p, "A.legacy", "never deleted")) << notes_text(p);
  }
}

TEST(Orphans, TopicTheFlowNoLongerSelectsIsAnOrphanToo) {
  const auto spec = one_flow("    topics:\n      include: [\"orders\"]\n");
  const auto p = make_plan(
      spec, states({ClusterBuilder("A").topic("orders", 1).topic("payments", 1),
                    target().topic("A.orders", 1).topic("A.payments", 1).managed_topic("A.payments")}));
  EXPECT_TRUE(has_note(p, "A.payments", "no longer selects A:payments")) << notes_text(p);
}

TEST(Orphans, OtherTopicsOnTheTargetAreNotOrphans) {
  // Local topics, topics from another source, and mirror's own internal topics.
  const auto p = make_plan(one_flow(),
                           states({ClusterBuilder("A"), target()
                                                            .topic("local", 1)
                                                            .topic("C.orders", 1)
                                                            .managed_topic("C.orders")
                                                            .managed_topic(kStateTopic)
                                                            .managed_topic("A.checkpoints.internal")}),
                           {.allow_delete = true});
  EXPECT_TRUE(of_kind(p, ActionKind::delete_topic).empty()) << render_text(p);
  EXPECT_TRUE(p.diagnostics.empty()) << notes_text(p);
}

TEST(Orphans, IdentityNamingOnlyConsidersTopicsMirrorCreated) {
  const auto p = make_plan(
      one_flow("    naming: identity\n"),
      states({ClusterBuilder("A").topic("orders", 1), target()
                                                          .topic("orders", 1)
                                                          .topic("legacy", 1)
                                                          .topic("local", 1)
                                                          .managed_topic("orders")
                                                          .managed_topic("legacy")
                                                          .managed_topic(kStateTopic)
                                                          .managed_topic("A.checkpoints.internal")}),
      {.allow_delete = true});
  std::vector<std::string> deleted;
  for (const auto& a : of_kind(p, ActionKind::delete_topic)) deleted.push_back(a.resource);
  // Never mirror's own state or checkpoints, never a topic mirror did not create.
  EXPECT_EQ(deleted, std::vector<std::string>{"legacy"}) << render_text(p);
}

TEST(Orphans, SiblingFlowsDoNotOrphanEachOthersTopics) {
  const auto spec = parse_spec(clusters_yaml() +
                               "flows:\n"
                               "  - {name: orders, source: A, target: B, topics: {include: [orders]}}\n"
                               "  - {name: payments, source: A, target: B, topics: {include: [payments]}}\n");
  const auto p =
      make_plan(spec,
                states({ClusterBuilder("A").topic("orders", 1).topic("payments", 1).topic("legacy", 1),
                        target()
                            .topic("A.orders", 1)
                            .topic("A.payments", 1)
                            .topic("A.legacy", 1)
                            .managed_topic("A.orders")
                            .managed_topic("A.payments")
                            .managed_topic("A.legacy")}),
                {.allow_delete = true});
  std::vector<std::string> deleted;
  for (const auto& a : of_kind(p, ActionKind::delete_topic)) deleted.push_back(a.resource);
  // A.legacy is an orphan of both flows but is deleted once.
  EXPECT_EQ(deleted, std::vector<std::string>{"A.legacy"}) << render_text(p);
}

TEST(Orphans, TwoIdentityFlowsIntoOneTargetReportAnOrphanOnce) {
  const auto spec =
      parse_spec(clusters_yaml() +
                 "flows:\n"
                 "  - {source: A, target: B, naming: identity, topics: {include: [orders]}}\n"
                 "  - {source: C, target: B, naming: identity, topics: {include: [payments]}}\n");
  const auto p = make_plan(
      spec, states({ClusterBuilder("A").topic("orders", 1), ClusterBuilder("C").topic("payments", 1),
                    target()
                        .internal_topics("C")
                        .topic("orders", 1)
                        .topic("payments", 1)
                        .topic("legacy", 1)
                        .managed_topic("orders")
                        .managed_topic("payments")
                        .managed_topic("legacy")}));
  EXPECT_TRUE(of_kind(p, ActionKind::delete_topic).empty());
  size_t legacy_notes = 0;
  for (const auto& n : p.diagnostics) legacy_notes += n.resource == "legacy";
  EXPECT_EQ(legacy_notes, 1u) << notes_text(p);
  EXPECT_FALSE(has_note(p, "orders", "orphan")) << notes_text(p);
  EXPECT_FALSE(has_note(p, "payments", "orphan")) << notes_text(p);
}

// ---------------------------------------------------------------------------------------------------
// The plan as a whole

TEST(Plan, ActionsAreInApplyOrderAndSummaryCountsThem) {
  auto a = ClusterBuilder("A").topic("orders", 4, {{"retention.ms", "1"}}).topic("new", 1);
  a.acl(acl("orders", "User:r", "READ"));
  const auto p = make_plan(
      one_flow(),
      states({a, ClusterBuilder("B").topic("A.orders", 2).topic("A.old", 1).managed_topic("A.old")}),
      {.allow_delete = true});
  std::vector<ActionKind> kinds;
  for (const auto& x : p.actions) kinds.push_back(x.kind);
  EXPECT_EQ(kinds,
            (std::vector<ActionKind>{ActionKind::create_internal_topic, ActionKind::create_internal_topic,
                                     ActionKind::create_topic, ActionKind::create_partitions,
                                     ActionKind::alter_topic_configs, ActionKind::create_acl,
                                     ActionKind::delete_topic, ActionKind::start_flow}))
      << render_text(p);
  EXPECT_EQ(p.summary.create, 5);
  EXPECT_EQ(p.summary.update, 2);
  EXPECT_EQ(p.summary.remove, 1);
  EXPECT_TRUE(std::is_sorted(kinds.begin(), kinds.end()));
}

TEST(Plan, RecordsTheSpecItWasBuiltFrom) {
  const auto spec = parse_spec(clusters_yaml() + "flows:\n  - {source: A, target: B}\n",
                               spec::Origin{"/repos/specs", std::string(40, 'a'), "main", "prod"});
  const auto p = make_plan(spec, states({ClusterBuilder("A"), target()}));
  EXPECT_EQ(p.spec.source, "/repos/specs");
  EXPECT_EQ(p.spec.commit, std::string(40, 'a'));
  EXPECT_EQ(p.spec.path, "prod");
  EXPECT_EQ(p.spec.content_hash, spec.content_hash);
  EXPECT_EQ(p.fingerprint.size(), 64u);
}

TEST(Plan, CredentialsInAGitUrlNeverReachThePlan) {
  auto source_of = [](const std::string& repo) {
    const auto spec = parse_spec(clusters_yaml() + "flows:\n  - {source: A, target: B}\n",
                                 spec::Origin{repo, std::string(40, 'a'), "main", ""});
    return make_plan(spec, states({ClusterBuilder("A"), target()})).spec.source;
  };
  EXPECT_EQ(source_of("https://bot:ghp_SuperSecret@github.com/acme/specs.git"),
            "https://bot:***@github.com/acme/specs.git");
  EXPECT_EQ(source_of("https://ghp_SuperSecret@github.com:443/acme/specs.git"),
            "https://***@github.com:443/acme/specs.git");
  // Not secrets: an ssh user name, scp-like addresses, local paths, an "@" in the path.
  for (const char* same : {"ssh://git@github.com/acme/specs.git", "git@github.com:acme/specs.git",
                           "/srv/specs", "https://example.com/specs@v2"}) {
    EXPECT_EQ(source_of(same), same);
  }
}

TEST(Plan, FingerprintChangesWithWhatWasObserved) {
  const auto spec = one_flow();
  const auto p1 = make_plan(spec, states({ClusterBuilder("A").topic("o", 8), target().topic("A.o", 2)}));
  const auto p2 = make_plan(spec, states({ClusterBuilder("A").topic("o", 8), target().topic("A.o", 3)}));
  const auto p3 = make_plan(spec, states({ClusterBuilder("A").topic("o", 8), target().topic("A.o", 2)}));
  EXPECT_NE(p1.fingerprint, p2.fingerprint);
  EXPECT_EQ(p1.fingerprint, p3.fingerprint);
}

TEST(Plan, FingerprintCoversWholeActionsButNotReasons) {
  const auto spec = one_flow();
  const auto p8 = make_plan(spec, states({ClusterBuilder("A").topic("o", 8), target().topic("A.o", 2)}));
  const auto p12 = make_plan(spec, states({ClusterBuilder("A").topic("o", 12), target().topic("A.o", 2)}));
  // The same observed target ("before"), another desired value ("after"): another fingerprint.
  EXPECT_NE(p8.fingerprint, p12.fingerprint);
  EXPECT_EQ(plan_fingerprint(p8), p8.fingerprint);
  size_t i = 0;
  while (i < p8.actions.size() && p8.actions[i].kind != ActionKind::create_partitions) ++i;
  ASSERT_LT(i, p8.actions.size());
  auto edited = [&](const std::function<void(Action&)>& edit) {
    Plan p = p8;
    edit(p.actions[i]);
    return plan_fingerprint(p);
  };
  EXPECT_EQ(edited([](Action& a) { a.reason = "for people only"; }), p8.fingerprint);
  EXPECT_NE(edited([](Action& a) { a.after["partitions"] = 80; }), p8.fingerprint);
  EXPECT_NE(edited([](Action& a) { a.before["partitions"] = 1; }), p8.fingerprint);
  EXPECT_NE(edited([](Action& a) { a.flow = "other"; }), p8.fingerprint);
  EXPECT_NE(edited([](Action& a) { a.cluster = "C"; }), p8.fingerprint);
  EXPECT_NE(edited([](Action& a) { a.resource = "A.p"; }), p8.fingerprint);
  EXPECT_NE(edited([](Action& a) { a.kind = ActionKind::delete_topic; }), p8.fingerprint);
  Plan fewer = p8;
  fewer.actions.erase(fewer.actions.begin() + static_cast<long>(i));
  EXPECT_NE(plan_fingerprint(fewer), p8.fingerprint);
  Plan other_commit = p8;
  other_commit.spec.commit = "abc";
  EXPECT_NE(plan_fingerprint(other_commit), p8.fingerprint);
}

TEST(Plan, UnobservedClusterIsAnError) {
  const auto p = make_plan(one_flow(), states({ClusterBuilder("A")}));
  ASSERT_FALSE(p.diagnostics.empty());
  EXPECT_EQ(p.diagnostics[0].severity, Severity::error);
  EXPECT_NE(p.diagnostics[0].message.find("cluster B was not observed"), std::string::npos);
  EXPECT_FALSE(p.has_changes());
}

TEST(Plan, UnobservedSourceDoesNotMakeTheTargetsTopicsLookOrphaned) {
  const auto spec =
      parse_spec(clusters_yaml() + "flows:\n  - {source: A, target: B}\n  - {source: C, target: B}\n");
  const auto p =
      make_plan(spec, states({ClusterBuilder("A"), target().topic("C.orders", 1).managed_topic("C.orders")}),
                {.allow_delete = true});
  EXPECT_TRUE(of_kind(p, ActionKind::delete_topic).empty()) << render_text(p);
}

// A pattern that hits PCRE2's limits on a name fails closed: an exclude excludes, and the plan says why.
TEST(Topics, ExcludeThatHitsTheRegexLimitExcludesAndThePlanSaysWhy) {
  const auto spec = one_flow("    topics: {exclude: [\"(a+)+$\"]}\n");
  const std::string hostile = std::string(40, 'a') + "!";  // every split of the a's is tried
  const auto p =
      make_plan(spec, states({ClusterBuilder("A").topic(hostile, 1).topic("orders", 1), target()}));
  EXPECT_EQ(find_action(p, ActionKind::create_topic, "A." + hostile), nullptr) << render_text(p);
  EXPECT_NE(find_action(p, ActionKind::create_topic, "A.orders"), nullptr) << render_text(p);
  const Note* why = nullptr;
  for (const auto& n : p.diagnostics) {
    if (n.resource == hostile) why = &n;
  }
  ASSERT_NE(why, nullptr) << render_text(p);
  EXPECT_EQ(why->severity, Severity::warning);
  EXPECT_EQ(why->cluster, "A");
  EXPECT_NE(why->message.find("not replicated: the exclude pattern \"(a+)+$\" (mirror.yaml:"),
            std::string::npos)
      << why->message;
  EXPECT_NE(why->message.find("left out to be safe"), std::string::npos);
}

// ---- record sizes and paused partitions (issue #16) ----

const Note* warning_about(const Plan& p, const std::string& resource, const std::string& text) {
  for (const auto& d : p.diagnostics) {
    if (d.resource == resource && d.message.find(text) != std::string::npos) return &d;
  }
  return nullptr;
}

TEST(RecordSizes, TargetThatAcceptsSmallerRecordsThanItsSourceIsWarnedBeforeARecordIsRefused) {
  auto a = ClusterBuilder("A").topic("orders", 1, {{"max.message.bytes", "5242880"}});
  // configs.sync off: the target keeps Kafka's default, 1048588.
  auto p = make_plan(one_flow("    configs: {sync: false}\n"), states({a, target().topic("A.orders", 1)}));
  const Note* d =
      warning_about(p, "A.orders", "accepts records of up to 1048588 bytes, fewer than the 5242880");
  ASSERT_NE(d, nullptr) << render_text(p);
  EXPECT_EQ(d->severity, Severity::warning);
  EXPECT_EQ(d->cluster, "B");
  EXPECT_NE(d->message.find("would pause this partition"), std::string::npos);
  // With configs.sync the plan sets the source's value: nothing to warn about.
  p = make_plan(one_flow(), states({a, target().topic("A.orders", 1)}));
  EXPECT_EQ(warning_about(p, "A.orders", "accepts records of up to"), nullptr) << render_text(p);
  // A target broker whose default is lower than the source topic's (Kafka's) default, for a new topic.
  auto states_ = states({ClusterBuilder("A").topic("orders", 1), target()});
  states_["B"].broker_configs["message.max.bytes"] = ConfigValue{"500000", ConfigSource::static_broker};
  p = make_plan(one_flow(), states_);
  EXPECT_NE(warning_about(p, "A.orders", "accepts records of up to 500000 bytes, fewer than the 1048588"),
            nullptr)
      << render_text(p);
  // Equal or larger: no warning.
  states_["B"].broker_configs["message.max.bytes"] = ConfigValue{"1048588", ConfigSource::static_broker};
  EXPECT_EQ(warning_about(make_plan(one_flow(), states_), "A.orders", "accepts records"), nullptr);
}

TEST(PausedPartitions, TheEnginesPausedPartitionsAreWarnedAboutInThePlan) {
  auto st = states({ClusterBuilder("A").topic("orders", 3), target().topic("A.orders", 3)});
  const auto spec = one_flow();
  const std::string flow = spec.flows[0].name;
  st["B"].paused_partitions[flow] = {{"orders", 2, "invalid",
                                      "deliver record on cluster B failed: Message size too large",
                                      "2026-12-07T22:00:00Z"}};
  const Plan p = make_plan(spec, st);
  const Note* d =
      warning_about(p, "orders", "partition 2 is paused by the engine since 2026-12-07T22:00:00Z");
  ASSERT_NE(d, nullptr) << render_text(p);
  EXPECT_EQ(d->flow, flow);
  EXPECT_NE(d->message.find("Message size too large"), std::string::npos);
  EXPECT_NE(render_markdown(p).find("partition 2 is paused by the engine"), std::string::npos);
}

}  // namespace
}  // namespace mirror::planner

// The renderings of a plan. Golden scenarios under testdata/plans (each as text, JSON and markdown;
// MIRROR_UPDATE_GOLDEN=1 rewrites them), then the properties every rendering must have: JSON round trip,
// determinism, clear errors for bad saved plans, no secrets, and markdown that fits a GitHub comment.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <tuple>

#include "common/testing/golden.h"
#include "planner/render.h"
#include "planner/tests/builders.h"

#ifndef MIRROR_PLANS_DIR
#error "MIRROR_PLANS_DIR must be defined (the testdata/plans folder)"
#endif

namespace mirror::planner {
namespace {

using namespace mirror::planner::testing;
namespace fs = std::filesystem;

const fs::path kPlans = MIRROR_PLANS_DIR;

// ---------------------------------------------------------------------------------------------------
// Scenarios

constexpr const char* kCommit = "3f9c2a7d51e04b6a8c1d2e3f4a5b6c7d8e9f0a1b";

// Two flows into B: a-to-b (prefix naming, three topic patterns) and c-to-b (identity naming). Clusters
// authenticate with SASL; the password comes from the environment, as the spec linter asks.
std::string drift_yaml() {
  return R"(version: 1
clusters:
  A:
    bootstrap: 127.0.0.1:19094
    client:
      security.protocol: SASL_PLAINTEXT
      sasl.mechanism: SCRAM-SHA-512
      sasl.username: admin
      sasl.password: ${env:A_PASSWORD}
  B:
    bootstrap: 127.0.0.1:29094
    client:
      security.protocol: SASL_PLAINTEXT
      sasl.mechanism: SCRAM-SHA-512
      sasl.username: admin
      sasl.password: ${env:B_PASSWORD}
  C: {bootstrap: "127.0.0.1:39092"}
flows:
  - name: a-to-b
    source: A
    target: B
    topics:
      include: ["orders\\..*", "payments", "audit"]
    replication_factor: 3
  - name: c-to-b
    source: C
    target: B
    naming: identity
    topics:
      include: ["inventory\\..*"]
)";
}

spec::Spec drift_spec() {
  return parse_spec(drift_yaml(),
                    spec::Origin{"git@github.com:acme/kafka-specs.git", kCommit, "main", "prod"});
}

// The source clusters of the drift scenarios.
ClusterBuilder drift_a() {
  ClusterBuilder a("A");
  a.topic("orders.eu", 12, {{"retention.ms", "86400000"}, {"cleanup.policy", "delete"}})
      .topic("orders.us", 3, {{"retention.ms", "86400000"}})
      .topic("payments", 6, {{"cleanup.policy", "compact"}})
      .topic("audit", 1, {{"retention.ms", "-1"}, {"max.message.bytes", "4194304"}})
      .topic("scratch", 1)
      .topic("__consumer_offsets", 50)
      .acl(acl("orders.eu", "User:analytics", "READ"))
      .acl(acl("orders.eu", "User:orders-svc", "WRITE"))
      .acl(acl("payments", "User:billing", "ALL"))
      .acl(acl("payments", "User:intern", "READ", "DENY"))
      .acl(acl("scratch", "User:anyone", "READ"));
  return a;
}

ClusterBuilder drift_c() {
  ClusterBuilder c("C");
  c.topic("inventory.stock", 3).no_authorizer();
  return c;
}

// B after an earlier apply of an older a-to-b; people and time have changed things since.
ClusterBuilder drift_b(const spec::Spec& s) {
  const Acl stale = acl("A.orders.legacy", "User:old-reporting", "READ");
  const Acl analytics = acl("A.orders.eu", "User:analytics", "READ");
  ClusterBuilder b("B");
  b.internal_topics("A")
      .internal_topics("C")
      .topic("A.orders.eu", 6, {{"retention.ms", "604800000"}, {"cleanup.policy", "delete"}})  // drifted
      .topic("A.orders.us", 6, {{"retention.ms", "86400000"}})  // more partitions than its source
      .topic("A.payments", 6, {{"cleanup.policy", "compact"}, {"retention.ms", "3600000"}})  // extra override
      .topic("A.orders.legacy", 4)                                                           // source deleted
      .topic("A.tmp", 1)            // looks mirrored, but mirror never created it
      .topic("inventory.stock", 3)  // c-to-b, in sync
      .topic("local.events", 2)     // B's own topic
      .acl(analytics)
      .acl(stale)
      .acl(acl("A.orders.eu", "User:ops", "ALL"))  // someone's manual grant: not mirror's
      .managed_topic("A.orders.eu")
      .managed_topic("A.orders.us")
      .managed_topic("A.payments")
      .managed_topic("A.orders.legacy")
      .managed_topic("inventory.stock")
      .managed_acl(analytics)
      .managed_acl(stale)
      .applied("a-to-b", "0123456789abcdef", "9d8c7b6a5f4e3d2c1b0a9d8c7b6a5f4e3d2c1b0a")
      .applied("c-to-b", flow_revision(*s.flow("c-to-b")), kCommit);
  return b;
}

Plan drift_plan(bool allow_delete) {
  const auto s = drift_spec();
  Plan p = make_plan(s, states({drift_a(), drift_b(s), drift_c()}), {.allow_delete = allow_delete});
  // Policy results come from policies/, which runs after the planner; a plan carries them. The drift plan
  // shows a passed rule, an advisory failure and an overridden soft-mandatory one; allow-delete adds a
  // hard-mandatory failure that blocks.
  p.policy_results = {
      {"no-topic-deletion", "hard-mandatory", "", "no topic is deleted", true},
      {"max-partitions", "advisory", "B:A.orders.eu",
       "B:A.orders.eu would have 12 partitions, more than max 8; exclude the topic from the flow, or raise "
       "max "
       "in review",
       false},
      {"max-actions", "soft-mandatory", "", "the plan has 7 actions, more than max 5", false, true,
       "CHG-2041: catch up after the freeze"},
  };
  if (allow_delete) {
    p.policy_results[0] = {"no-topic-deletion", "hard-mandatory", "B:A.orders.legacy",
                           "deletes topic A.orders.legacy on B", false};
  }
  return p;
}

// Everything already matches: topics, configs, ACLs, internal topics and the applied revision.
Plan no_changes_plan() {
  const auto s = one_flow();
  auto a = ClusterBuilder("A").topic("orders", 3, {{"retention.ms", "86400000"}}).topic("payments", 1);
  a.acl(acl("orders", "User:analytics", "READ"));
  auto b = ClusterBuilder("B")
               .internal_topics("A")
               .topic("A.orders", 3, {{"retention.ms", "86400000"}})
               .topic("A.payments", 1)
               .acl(acl("A.orders", "User:analytics", "READ"))
               .applied("A-to-B", flow_revision(s.flows[0]));
  return make_plan(s, states({a, b}));
}

// mirror has never touched B: everything is created.
Plan first_plan() {
  const auto s = parse_spec(clusters_yaml() + R"(flows:
  - source: A
    target: B
    replication_factor: 3
    topics:
      include: ["orders\\..*", "payments"]
)");
  auto a = ClusterBuilder("A")
               .topic("orders.eu", 12, {{"retention.ms", "86400000"}, {"compression.type", "zstd"}})
               .topic("orders.us", 6, {{"retention.ms", "86400000"}})
               .topic("payments", 3, {{"cleanup.policy", "compact"}, {"min.insync.replicas", "2"}})
               .topic("B.orders.eu", 12)  // came from B: never copied back
               .topic("__consumer_offsets", 50);
  a.acl(acl("orders.eu", "User:analytics", "READ")).acl(acl("payments", "User:billing", "ALL"));
  return make_plan(s, states({a, ClusterBuilder("B").topic("local.events", 2)}));
}

// A first plan for 400 topics: too long for one GitHub comment.
Plan large_plan() {
  const auto s = one_flow("    topics:\n      include: [\"tenant-.*\"]\n");
  ClusterBuilder a("A");
  char name[64];
  for (int i = 0; i < 400; ++i) {
    std::snprintf(name, sizeof name, "tenant-%04d.customer-events.v2", i);
    a.topic(name, 1 + i % 12, {{"retention.ms", std::to_string(86400000 * (1 + i % 7))}});
  }
  return make_plan(s, states({a, ClusterBuilder("B")}));
}

// Consumer groups of one flow A -> B whose topics are already in sync: only group offsets change. Every
// decision and status appears once: billing is written (one partition behind, one absent, one not yet
// mirrored), fraud is in use on B and left alone, reporting is in sync (with a partition from before
// mirroring began), analytics is ahead on B (kept) and replay rewound on A (followed back).
offsets::PartitionOffsetMap lockstep(int64_t up, int64_t down, int64_t count) {
  offsets::PartitionOffsetMap m;
  EXPECT_TRUE(m.begin(up, down).ok());
  for (int64_t i = 0; i < count; ++i) EXPECT_TRUE(m.record(up + i, down + i).ok());
  return m;
}

Plan consumer_groups_plan() {
  const auto s = one_flow();
  ClusterState a = ClusterBuilder("A").topic("orders", 2).topic("payments", 1).build();
  ClusterState b = ClusterBuilder("B")
                       .internal_topics("A")
                       .topic("A.orders", 2)
                       .topic("A.payments", 1)
                       .applied("A-to-B", flow_revision(s.flows[0]))
                       .build();
  b.offset_maps["A-to-B"][{"orders", 0}] = lockstep(0, 1000, 100);    // 0..99 -> 1000..1099
  b.offset_maps["A-to-B"][{"orders", 1}] = lockstep(500, 2000, 100);  // began at 500
  b.offset_maps["A-to-B"][{"payments", 0}] = lockstep(0, 300, 200);   // 0..199 -> 300..499
  auto group = [](ClusterState& c, const std::string& id, std::string state, int members,
                  std::map<std::pair<std::string, int32_t>, int64_t> offs) {
    c.groups[id] = GroupState{id, std::move(state), members, std::move(offs)};
  };
  group(a, "billing", "Stable", 3, {{{"orders", 0}, 42}, {{"orders", 1}, 550}, {{"payments", 0}, 250}});
  group(b, "billing", "Empty", 0, {{{"A.orders", 0}, 1010}});
  group(a, "fraud", "Stable", 1, {{{"orders", 0}, 60}});
  group(b, "fraud", "Stable", 2, {{{"A.orders", 0}, 1010}});
  group(a, "reporting", "Empty", 0, {{{"orders", 0}, 99}, {{"orders", 1}, 10}});
  group(b, "reporting", "Empty", 0, {{{"A.orders", 0}, 1099}});
  group(a, "analytics", "Stable", 1, {{{"payments", 0}, 50}});
  group(b, "analytics", "Empty", 0, {{{"A.payments", 0}, 380}});
  group(a, "replay", "Stable", 1, {{{"orders", 0}, 42}});
  group(b, "replay", "Empty", 0, {{{"A.orders", 0}, 1080}});
  b.checkpoints[{"A", "replay", "A.orders", 0}] = CheckpointState{80, 1080};
  return make_plan(s, {{"A", a}, {"B", b}});
}

// Two specs share B: this one ("payments") plans with --allow-delete next to flows it does not manage
// (spec ads's, and one recorded without an owner), and retires a flow of its own that it no longer
// declares.
Plan shared_target_plan() {
  const auto s = parse_spec(clusters_yaml() + R"(name: payments
flows:
  - name: payments-to-b
    source: A
    target: B
    topics: {include: ["payments"]}
retire:
  - {flow: refunds-to-b}
)");
  auto a =
      ClusterBuilder("A").topic("payments", 3).topic("ads.clicks", 6).topic("legacy", 1).topic("refunds", 1);
  auto b = ClusterBuilder("B")
               .internal_topics("A")
               .topic("A.payments", 3)
               .topic("A.ads.clicks", 6)
               .topic("A.legacy", 1)
               .topic("A.refunds", 1)
               .acl(acl("A.ads.clicks", "User:ads", "READ"))
               .recorded("payments-to-b", "payments", flow_revision(s.flows[0]), {"A.payments"})
               .recorded("ads-to-b", "ads", "feedc0ffee123456", {"A.ads.clicks"},
                         {acl("A.ads.clicks", "User:ads", "READ")})
               .recorded("legacy-to-b", "", "0123456789abcdef", {"A.legacy"})
               .recorded("refunds-to-b", "payments", "fedcba9876543210", {"A.refunds"});
  return make_plan(s, states({a, b}), {.allow_delete = true});
}

struct Scenario {
  std::string name;
  std::function<Plan()> build;
};

std::vector<Scenario> scenarios() {
  return {
      {"no-changes", no_changes_plan},
      {"first-plan", first_plan},
      {"drift", [] { return drift_plan(false); }},
      {"allow-delete", [] { return drift_plan(true); }},
      {"large", large_plan},
      {"consumer-groups", consumer_groups_plan},
      {"shared-target", shared_target_plan},
  };
}

// ---------------------------------------------------------------------------------------------------
// Golden files

using mirror::test_support::update_golden;

void check_golden(const std::string& file, const std::string& actual) {
  mirror::test_support::expect_golden(kPlans / file, actual, "rendering");
}

void PrintTo(const Scenario& s, std::ostream* os) { *os << s.name; }

class Golden : public ::testing::TestWithParam<Scenario> {};

TEST_P(Golden, Text) { check_golden(GetParam().name + ".txt", render_text(GetParam().build())); }
TEST_P(Golden, Json) { check_golden(GetParam().name + ".json", render_json(GetParam().build())); }
TEST_P(Golden, Markdown) { check_golden(GetParam().name + ".md", render_markdown(GetParam().build())); }

TEST_P(Golden, JsonRoundTripRendersByteIdentically) {
  const Plan p = GetParam().build();
  const std::string json = render_json(p);
  auto back = parse_json(json);
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_EQ(render_json(*back), json);
  EXPECT_EQ(render_text(*back), render_text(p));
  EXPECT_EQ(render_markdown(*back), render_markdown(p));
}

TEST_P(Golden, SameInputsGiveIdenticalBytes) {
  EXPECT_EQ(render_json(GetParam().build()), render_json(GetParam().build()));
  EXPECT_EQ(render_text(GetParam().build()), render_text(GetParam().build()));
  EXPECT_EQ(render_markdown(GetParam().build()), render_markdown(GetParam().build()));
}

TEST_P(Golden, MarkdownFitsInAGitHubComment) {
  EXPECT_LE(render_markdown(GetParam().build()).size(), 65000u);
}

INSTANTIATE_TEST_SUITE_P(Plans, Golden, ::testing::ValuesIn(scenarios()),
                         [](const ::testing::TestParamInfo<Scenario>& i) {
                           std::string n = i.param.name;
                           std::replace(n.begin(), n.end(), '-', '_');
                           return n;
                         });

// A renamed scenario must not leave its old golden files behind.
TEST(GoldenLayout, EveryGoldenFileBelongsToAScenario) {
  std::set<std::string> expected{"README.md"};
  for (const auto& s : scenarios()) {
    for (const char* ext : {".txt", ".json", ".md"}) expected.insert(s.name + ext);
  }
  std::set<std::string> found;
  for (const auto& e : fs::directory_iterator(kPlans)) found.insert(e.path().filename().string());
  if (update_golden()) return;
  EXPECT_EQ(found, expected) << "in " << kPlans;
}

// What the goldens are meant to show, checked directly so that a careless golden update cannot hide it.
TEST(Scenarios, ShowWhatTheyAreAbout) {
  EXPECT_FALSE(no_changes_plan().has_changes()) << render_text(no_changes_plan());
  EXPECT_TRUE(no_changes_plan().diagnostics.empty()) << render_text(no_changes_plan());

  const Plan first = first_plan();
  EXPECT_EQ(first.summary.update + first.summary.remove, 0) << render_text(first);

  const Plan drift = drift_plan(false);
  EXPECT_EQ(drift.summary.remove, 0);
  for (auto k : {ActionKind::create_topic, ActionKind::create_partitions, ActionKind::alter_topic_configs,
                 ActionKind::create_acl, ActionKind::update_flow}) {
    EXPECT_FALSE(of_kind(drift, k).empty()) << action_kind_name(k) << "\n" << render_text(drift);
  }
  const Plan del = drift_plan(true);
  EXPECT_EQ(of_kind(del, ActionKind::delete_topic).size(), 1u) << render_text(del);
  EXPECT_EQ(of_kind(del, ActionKind::delete_acl).size(), 1u) << render_text(del);

  EXPECT_NE(render_markdown(large_plan()).find("_Cut to stay under"), std::string::npos);

  // Only the retired flow's topic goes; the other specs' flows are listed once as not managed.
  const Plan shared = shared_target_plan();
  ASSERT_EQ(of_kind(shared, ActionKind::delete_topic).size(), 1u) << render_text(shared);
  EXPECT_EQ(of_kind(shared, ActionKind::delete_topic)[0].resource, "A.refunds");
  EXPECT_EQ(of_kind(shared, ActionKind::retire_flow).size(), 1u) << render_text(shared);
  EXPECT_TRUE(of_kind(shared, ActionKind::delete_acl).empty()) << render_text(shared);
  EXPECT_EQ(shared.not_managed.size(), 2u);
  for (const auto& text : {render_text(shared), render_markdown(shared)}) {
    EXPECT_NE(text.find("Not managed by this spec"), std::string::npos) << text;
    EXPECT_NE(text.find("ads-to-b"), std::string::npos) << text;
  }

  const Plan groups = consumer_groups_plan();
  std::set<std::string> decisions, statuses;
  for (const auto& r : groups.groups) {
    statuses.insert(group_status_name(r.status));
    for (const auto& gp : r.partitions) decisions.insert(group_decision_name(gp.decision));
  }
  EXPECT_EQ(statuses, (std::set<std::string>{"sync", "in_sync", "skipped_active"})) << render_text(groups);
  EXPECT_EQ(decisions,
            (std::set<std::string>{"write", "in_sync", "keep_ahead", "rewound", "not_yet", "before_start"}))
      << render_text(groups);
  for (const auto& a : groups.actions) {
    EXPECT_EQ(a.kind, ActionKind::sync_group_offsets) << render_text(groups);
  }
}

// ---------------------------------------------------------------------------------------------------
// Text

TEST(Text, NoChangesClosingLine) {
  const std::string t = render_text(no_changes_plan());
  EXPECT_TRUE(t.ends_with("No changes. Both clusters match the spec.\n")) << t;
}

TEST(Text, PlanClosingLineCountsAddChangeDestroy) {
  const std::string t = render_text(drift_plan(true));
  const Plan p = drift_plan(true);
  const std::string want = "Plan: " + std::to_string(p.summary.create) + " to add, " +
                           std::to_string(p.summary.update) + " to change, " +
                           std::to_string(p.summary.remove) + " to destroy.\n";
  EXPECT_TRUE(t.ends_with(want)) << t;
}

TEST(Text, LegendListsOnlyTheSymbolsPresent) {
  const std::string first = render_text(first_plan());
  EXPECT_NE(first.find("+ create"), std::string::npos) << first;
  EXPECT_EQ(first.find("~ update"), std::string::npos) << first;
  EXPECT_EQ(first.find("- destroy"), std::string::npos) << first;
  const std::string del = render_text(drift_plan(true));
  for (const char* s : {"+ create", "~ update", "- destroy"}) EXPECT_NE(del.find(s), std::string::npos) << s;
}

TEST(Text, ColourOnlyWhenAsked) {
  const Plan p = drift_plan(true);
  EXPECT_EQ(render_text(p).find('\033'), std::string::npos);
  const std::string c = render_text(p, {.color = true});
  EXPECT_NE(c.find("\033[32m"), std::string::npos);
  EXPECT_NE(c.find("\033[33m"), std::string::npos);
  EXPECT_NE(c.find("\033[31m"), std::string::npos);
}

TEST(Text, UnchangedResourcesAreCountedNotListed) {
  const Plan p = drift_plan(false);
  const std::string t = render_text(p);
  EXPECT_NE(t.find(std::to_string(p.summary.no_op) + " resource"), std::string::npos) << t;
  EXPECT_EQ(t.find("inventory.stock"), std::string::npos) << t;  // c-to-b is in sync
}

// A multi-line value (rare in topic configs, common in what sync_group_offsets and future kinds carry) is
// shown as a line diff rather than two long strings.
TEST(Text, MultiLineValuesAreShownAsALineDiff) {
  Plan p;
  p.spec.source = "mirror.yaml";
  p.actions.push_back(
      {ActionKind::alter_topic_configs, "A-to-B", "B", "A.orders",
       Json{{"x.description", "line one\nline two\nline three"}},
       Json{{"set", {{"x.description", "line one\nline 2\nline three"}}}, {"reset", Json::array()}},
       "configs differ"});
  p.summary.update = 1;
  const std::string t = render_text(p);
  EXPECT_NE(t.find("x.description:\n"), std::string::npos) << t;
  EXPECT_NE(t.find("    line one\n"), std::string::npos) << t;
  EXPECT_NE(t.find("  - line two\n"), std::string::npos) << t;
  EXPECT_NE(t.find("  + line 2\n"), std::string::npos) << t;
  EXPECT_NE(t.find("    line three\n"), std::string::npos) << t;
}

// Policy checks: failed ones one by one (blocking, overridden with the reason, advisory), passed rules by
// name, and a closing line when something blocks.
TEST(Text, PolicyChecksListFailuresWithLevelAndResourceAndCountPassed) {
  const std::string t = render_text(drift_plan(true));
  const size_t at = t.find("Policy checks: 3 failed (1 blocking, 1 overridden, 1 advisory), 0 passed\n");
  ASSERT_NE(at, std::string::npos) << t;
  EXPECT_NE(t.find("  FAIL      no-topic-deletion (hard-mandatory) B:A.orders.legacy\n"
                   "              deletes topic A.orders.legacy on B\n",
                   at),
            std::string::npos)
      << t;
  EXPECT_NE(t.find("  OVERRIDE  max-actions (soft-mandatory)\n"
                   "              the plan has 7 actions, more than max 5\n"
                   "              overridden: CHG-2041: catch up after the freeze\n",
                   at),
            std::string::npos)
      << t;
  EXPECT_NE(t.find("  WARN      max-partitions (advisory) B:A.orders.eu\n", at), std::string::npos) << t;
  EXPECT_NE(t.find("Denied by policy: 1 failed check(s) block this plan", at), std::string::npos) << t;
  // Before the closing summary, which stays the last line.
  EXPECT_LT(at, t.find("Plan: "));

  const std::string drift = render_text(drift_plan(false));
  EXPECT_NE(drift.find("Policy checks: 2 failed (1 overridden, 1 advisory), 1 passed\n"), std::string::npos)
      << drift;
  EXPECT_NE(drift.find("  passed: no-topic-deletion\n"), std::string::npos) << drift;
  EXPECT_EQ(drift.find("Denied by policy"), std::string::npos) << drift;  // nothing blocks
}

TEST(Text, NoPolicyChecksNoSection) {
  EXPECT_EQ(render_text(first_plan()).find("Policy checks"), std::string::npos);
}

TEST(Text, PolicyColours) {
  const std::string c = render_text(drift_plan(true), {.color = true});
  EXPECT_NE(c.find("\033[31mFAIL    \033[0m"), std::string::npos) << c;
  EXPECT_NE(c.find("\033[1;33mOVERRIDE\033[0m"), std::string::npos) << c;
}

// ---------------------------------------------------------------------------------------------------
// JSON

TEST(Json, TopLevelShapeFollowsTheDesign) {
  const Json j = Json::parse(render_json(drift_plan(true)));
  std::vector<std::string> keys;
  for (const auto& [k, v] : j.items()) keys.push_back(k);
  EXPECT_EQ(keys,
            (std::vector<std::string>{"format_version", "spec", "fingerprint", "actions", "summary",
                                      "policy_results", "diagnostics", "group_offsets", "not_managed"}));
  EXPECT_EQ(j["group_offsets"], Json::array());
  EXPECT_EQ(j["not_managed"], Json::array());
  EXPECT_EQ(j["format_version"], "1");
  EXPECT_EQ(j["spec"]["commit"], kCommit);
  EXPECT_TRUE(Json::parse(render_json(first_plan()))["spec"]["commit"].is_null());
  for (const auto& a : j["actions"]) {
    for (const char* k : {"kind", "cluster", "resource", "before", "after", "reason"}) {
      EXPECT_TRUE(a.contains(k)) << k << " missing in " << a.dump();
    }
  }
  for (const char* k : {"create", "update", "delete", "no_op"}) EXPECT_TRUE(j["summary"].contains(k)) << k;
}

// The "|" that split a GFM table row into cells (not those escaped as "\|").
int unescaped_pipes(const std::string& row) {
  int n = 0;
  for (size_t i = 0; i < row.size(); ++i) n += row[i] == '|' && (i == 0 || row[i - 1] != '\\');
  return n;
}

std::string parse_error(const std::string& text) {
  auto r = parse_json(text);
  if (r.ok()) return "(parsed)";
  return r.error();
}

TEST(Json, ParseRejectsGarbage) {
  for (const char* bad : {"", "not json", "{\"format_version\": ", "[1, 2]", "\"1\"", "null"}) {
    EXPECT_NE(parse_error(bad).find("not a JSON plan"), std::string::npos) << bad << ": " << parse_error(bad);
  }
}

TEST(Json, ParseRejectsUnknownFormatVersions) {
  EXPECT_EQ(parse_error(R"({"format_version": "2"})"),
            "unsupported plan format_version \"2\" (this mirror reads \"1\")");
  EXPECT_EQ(parse_error(R"({"format_version": 1})"),
            "unsupported plan format_version 1 (this mirror reads \"1\")");
  EXPECT_EQ(parse_error(R"({"format_version": null})"),
            "unsupported plan format_version null (this mirror reads \"1\")");
  EXPECT_EQ(parse_error(R"({"actions": []})"), "not a mirror plan (it has no format_version)");
}

TEST(Json, ParseRejectsUnknownKindsNamingThem) {
  Json j = Json::parse(render_json(drift_plan(false)));
  j["actions"][0]["kind"] = "drop_cluster";
  EXPECT_EQ(parse_error(j.dump()), "unknown action kind \"drop_cluster\"");
  Json k = Json::parse(render_json(drift_plan(false)));
  k["diagnostics"][0]["severity"] = "fatal";
  EXPECT_EQ(parse_error(k.dump()), "unknown diagnostic severity \"fatal\"");
}

TEST(Json, ParseRejectsMissingOrMistypedFields) {
  const Json good = Json::parse(render_json(drift_plan(false)));
  auto without = [&](const std::function<void(Json&)>& edit) {
    Json j = good;
    edit(j);
    return parse_error(j.dump());
  };
  EXPECT_NE(without([](Json& j) { j.erase("actions"); }).find("malformed plan"), std::string::npos);
  EXPECT_NE(without([](Json& j) { j.erase("fingerprint"); }).find("malformed plan"), std::string::npos);
  EXPECT_NE(without([](Json& j) { j["actions"][0].erase("cluster"); }).find("malformed plan"),
            std::string::npos);
  EXPECT_NE(without([](Json& j) { j["actions"][0]["kind"] = 7; }).find("malformed plan"), std::string::npos);
  EXPECT_NE(without([](Json& j) { j["summary"]["create"] = "many"; }).find("malformed plan"),
            std::string::npos);
  EXPECT_NE(without([](Json& j) { j["actions"] = "none"; }).find("malformed plan"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------------
// Consumer groups, from a hand-made plan (independent of how the planner judges groups)

GroupPartition gpart(std::string topic, int32_t partition, int64_t source, std::optional<int64_t> translated,
                     std::optional<int64_t> target, GroupDecision d, std::string detail = "") {
  std::string target_topic = "A." + topic;
  return {std::move(topic),        partition, source, translated,
          std::move(target_topic), target,    d,      std::move(detail)};
}

// One group per status and every decision: billing is written, fraud is in use on B, reporting is in sync.
Plan hand_groups_plan() {
  Plan p;
  p.spec.source = "mirror.yaml";
  p.fingerprint = "0123456789abcdef0123456789abcdef";
  GroupReport billing{"A-to-B",
                      "billing",
                      "A",
                      "B",
                      "Empty",
                      0,
                      GroupStatus::sync,
                      "the group is behind on B and has no members",
                      {}};
  billing.partitions = {
      gpart("orders", 0, 42, 1042, 1010, GroupDecision::write),
      gpart("orders", 1, 7, 2007, std::nullopt, GroupDecision::write),
      gpart("orders", 2, 42, 1042, 1080, GroupDecision::rewound,
            "the source group moved back from offset 80 to 42"),
      gpart("payments", 0, 250, std::nullopt, 380, GroupDecision::not_yet,
            "mirrored up to source offset 200 so far"),
  };
  GroupReport fraud{"A-to-B",
                    "fraud",
                    "A",
                    "B",
                    "Stable",
                    2,
                    GroupStatus::skipped_active,
                    "the group is in use on B (state Stable, 2 member(s)): mirror never writes offsets of a "
                    "group with members; stop its consumers there or let them be",
                    {gpart("orders", 0, 60, 1060, 1010, GroupDecision::write)}};
  GroupReport reporting{"A-to-B",           "reporting", "A", "B", "absent", 0, GroupStatus::in_sync,
                        "nothing to write", {}};
  reporting.partitions = {
      gpart("orders", 0, 99, 1099, 1099, GroupDecision::in_sync),
      gpart("orders", 1, 10, std::nullopt, std::nullopt, GroupDecision::before_start,
            "mirroring of this partition starts at source offset 500"),
      gpart("payments", 0, 50, 350, 380, GroupDecision::keep_ahead,
            "the target group is at 380, ahead of 350: offsets are never moved backwards"),
  };
  p.groups = {billing, fraud, reporting};
  p.actions.push_back(
      {ActionKind::sync_group_offsets, "A-to-B", "B", "billing",
       Json{{"state", "Empty"},
            {"members", 0},
            {"offsets", Json::array({Json{{"topic", "A.orders"}, {"partition", 0}, {"offset", 1010}},
                                     Json{{"topic", "A.orders"}, {"partition", 2}, {"offset", 1080}}})}},
       Json{{"offsets", Json::array({Json{{"topic", "A.orders"},
                                          {"partition", 0},
                                          {"offset", 1042},
                                          {"source_topic", "orders"},
                                          {"source_offset", 42}},
                                     Json{{"topic", "A.orders"},
                                          {"partition", 1},
                                          {"offset", 2007},
                                          {"source_topic", "orders"},
                                          {"source_offset", 7}},
                                     Json{{"topic", "A.orders"},
                                          {"partition", 2},
                                          {"offset", 1042},
                                          {"source_topic", "orders"},
                                          {"source_offset", 42}}})}},
       "the group is behind on B and has no members"});
  p.summary.update = 1;
  p.summary.no_op = 2;
  return p;
}

TEST(Groups, JsonRoundTripKeepsEveryFieldAndRendersByteIdentically) {
  const Plan p = hand_groups_plan();
  const std::string json = render_json(p);
  auto back = parse_json(json);
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_EQ(render_json(*back), json);
  EXPECT_EQ(render_text(*back), render_text(p));
  EXPECT_EQ(render_text(*back, {.color = true}), render_text(p, {.color = true}));
  EXPECT_EQ(render_markdown(*back), render_markdown(p));
  ASSERT_EQ(back->groups.size(), p.groups.size());
  for (size_t i = 0; i < p.groups.size(); ++i) {
    const GroupReport &x = p.groups[i], &y = back->groups[i];
    EXPECT_EQ(
        std::tie(x.flow, x.group, x.source, x.target, x.target_state, x.target_members, x.status, x.reason),
        std::tie(y.flow, y.group, y.source, y.target, y.target_state, y.target_members, y.status, y.reason));
    ASSERT_EQ(x.partitions.size(), y.partitions.size());
    for (size_t k = 0; k < x.partitions.size(); ++k) {
      const GroupPartition &a = x.partitions[k], &b = y.partitions[k];
      EXPECT_EQ(std::tie(a.topic, a.partition, a.source_offset, a.translated, a.target_topic, a.target_offset,
                         a.decision, a.detail),
                std::tie(b.topic, b.partition, b.source_offset, b.translated, b.target_topic, b.target_offset,
                         b.decision, b.detail));
    }
  }
}

TEST(Groups, JsonShapeHasNullsForMissingOffsets) {
  const Json j = Json::parse(render_json(hand_groups_plan()));
  ASSERT_EQ(j["group_offsets"].size(), 3u);
  const Json& g = j["group_offsets"][0];
  std::vector<std::string> keys;
  for (const auto& [k, v] : g.items()) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"flow", "group", "source", "target", "target_state",
                                            "target_members", "status", "reason", "partitions"}));
  EXPECT_EQ(g["status"], "sync");
  EXPECT_EQ(g["partitions"][0], Json({{"topic", "orders"},
                                      {"partition", 0},
                                      {"source_offset", 42},
                                      {"translated", 1042},
                                      {"target_topic", "A.orders"},
                                      {"target_offset", 1010},
                                      {"decision", "write"},
                                      {"detail", ""}}));
  EXPECT_TRUE(g["partitions"][1]["target_offset"].is_null());
  EXPECT_TRUE(g["partitions"][3]["translated"].is_null());
  EXPECT_EQ(g["partitions"][3]["decision"], "not_yet");
}

TEST(Groups, APlanWithoutGroupOffsetsIsRefused) {
  Json j = Json::parse(render_json(drift_plan(false)));
  j.erase("group_offsets");
  EXPECT_EQ(parse_error(j.dump()), "malformed plan: plan.group_offsets is missing");
}

TEST(Json, PolicyResultsCarryTheOverrideAndOlderPlansStillParse) {
  const Json j = Json::parse(render_json(drift_plan(false)));
  const Json& r = j["policy_results"][2];
  std::vector<std::string> keys;
  for (const auto& [k, v] : r.items()) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"rule", "level", "resource", "message", "passed", "overridden",
                                            "override_reason"}));
  EXPECT_EQ(r["overridden"], true);
  EXPECT_EQ(r["override_reason"], "CHG-2041: catch up after the freeze");
  EXPECT_EQ(j["policy_results"][0]["overridden"], false);

  // Every field is required: a plan without them is refused, not read with defaults.
  Json old = j;
  for (auto& e : old["policy_results"]) {
    e.erase("overridden");
    e.erase("override_reason");
  }
  EXPECT_EQ(parse_error(old.dump()), "malformed plan: policy_results[0].overridden is missing");
}

TEST(Groups, ParseRejectsUnknownNamesAndMalformedGroups) {
  const Json good = Json::parse(render_json(hand_groups_plan()));
  auto edited = [&](const std::function<void(Json&)>& edit) {
    Json j = good;
    edit(j);
    return parse_error(j.dump());
  };
  EXPECT_EQ(edited([](Json& j) { j["group_offsets"][0]["partitions"][1]["decision"] = "guess"; }),
            "unknown group decision \"guess\" (group billing, orders[1])");
  EXPECT_EQ(edited([](Json& j) { j["group_offsets"][1]["status"] = "forced"; }),
            "unknown group status \"forced\" (group fraud)");
  EXPECT_EQ(edited([](Json& j) { j["group_offsets"] = "none"; }),
            "malformed plan: plan.group_offsets must be an array, not a string");
  EXPECT_EQ(edited([](Json& j) { j["group_offsets"][0]["partitions"] = 3; }),
            "malformed plan: group_offsets[0].partitions must be an array, not an integer");
  for (const char* k : {"topic", "partition", "source_offset", "target_topic", "decision"}) {
    EXPECT_NE(
        edited([&](Json& j) { j["group_offsets"][0]["partitions"][0].erase(k); }).find("malformed plan"),
        std::string::npos)
        << k;
  }
  EXPECT_NE(edited([](Json& j) { j["group_offsets"][0].erase("group"); }).find("malformed plan"),
            std::string::npos);
  EXPECT_NE(edited([](Json& j) {
              j["group_offsets"][0]["partitions"][0]["translated"] = "soon";
            }).find("malformed plan"),
            std::string::npos);
  EXPECT_NE(edited([](Json& j) { j["group_offsets"][0]["target_members"] = "two"; }).find("malformed plan"),
            std::string::npos);
}

TEST(Groups, SyncActionDetailsListEachPartitionWritten) {
  const std::string t = render_text(hand_groups_plan());
  EXPECT_NE(t.find("  ~ sync_group_offsets B:billing\n"
                   "      # the group is behind on B and has no members\n"
                   "      A.orders[0]: 1010 -> 1042  (source orders[0] at 42)\n"
                   "      A.orders[1]: (none) -> 2007  (source orders[1] at 7)\n"
                   "      A.orders[2]: 1080 -> 1042  (source orders[2] at 42)\n"),
            std::string::npos)
      << t;
  const std::string md = render_markdown(hand_groups_plan());
  EXPECT_NE(md.find("!     A.orders[1]: (none) -> 2007  (source orders[1] at 7)\n"), std::string::npos) << md;
}

TEST(Groups, SyncActionDetailsSurviveAHandEditedSavedPlan) {
  Plan p = hand_groups_plan();
  p.actions[0].before = nullptr;
  p.actions[0].after = Json{{"offsets", Json::array({Json{{"topic", "A.orders"}}, Json(7)})}};
  const std::string t = render_text(p);
  EXPECT_NE(t.find("A.orders[?]: (none) -> ?  (source ?[?] at ?)"), std::string::npos) << t;
}

TEST(Groups, TextListsEachGroupWithItsStatusAndEachPartitionWithItsDecision) {
  const std::string t = render_text(hand_groups_plan());
  const size_t section = t.find("Consumer groups (3):\n");
  ASSERT_NE(section, std::string::npos) << t;
  EXPECT_LT(t.find("sync_group_offsets"), section);  // after the actions
  EXPECT_LT(section, t.find("Plan: 0 to add, 1 to change, 0 to destroy."));
  EXPECT_NE(
      t.find("  billing    A-to-B  sync            target Empty, 0 member(s)\n"
             "    # the group is behind on B and has no members\n"
             "    orders[0]    source 42   ->  target 1042 (now 1010)  write\n"
             "    orders[1]    source 7    ->  target 2007 (now none)  write\n"
             "    orders[2]    source 42   ->  target 1042 (now 1080)  rewound: the source group moved "
             "back from offset 80 to 42\n"
             "    payments[0]  source 250  ->  target - (now 380)      not_yet: mirrored up to source offset "
             "200 so far\n"),
      std::string::npos)
      << t;
  // A group in use is listed with its reason, and its partitions say they are not written.
  EXPECT_NE(t.find("  fraud      A-to-B  skipped_active  target Stable, 2 member(s)\n"
                   "    # the group is in use on B (state Stable, 2 member(s)): mirror never writes"),
            std::string::npos)
      << t;
  EXPECT_NE(t.find("    orders[0]    source 60   ->  target 1060 (now 1010)  write (not written)\n"),
            std::string::npos)
      << t;
  // "nothing to write" only repeats in_sync.
  EXPECT_NE(
      t.find("  reporting  A-to-B  in_sync         target absent\n"
             "    orders[0]    source 99   ->  target 1099 (now 1099)  in_sync\n"
             "    orders[1]    source 10   ->  target - (now none)     before_start: mirroring of this "
             "partition starts at source offset 500\n"
             "    payments[0]  source 50   ->  target 350 (now 380)    keep_ahead: the target group is at "
             "380, ahead of 350: offsets are never moved backwards\n"),
      std::string::npos)
      << t;
  EXPECT_EQ(t.find("nothing to write"), std::string::npos) << t;
}

TEST(Groups, TextHasNoGroupSectionWithoutGroups) {
  EXPECT_EQ(render_text(drift_plan(false)).find("Consumer groups"), std::string::npos);
  EXPECT_EQ(render_markdown(drift_plan(false)).find("Consumer groups"), std::string::npos);
}

TEST(Groups, TextColoursAGroupInUseAsAWarning) {
  const std::string c = render_text(hand_groups_plan(), {.color = true});
  EXPECT_NE(c.find("\033[1;33mskipped_active\033[0m"), std::string::npos) << c;
  EXPECT_NE(c.find("\033[33msync          \033[0m"), std::string::npos) << c;
  EXPECT_NE(c.find("\033[33mwrite\033[0m"), std::string::npos) << c;
  EXPECT_NE(c.find("\033[1;33mbefore_start: "), std::string::npos) << c;
  EXPECT_NE(c.find("  write (not written)\n"), std::string::npos) << c;  // not coloured as a change
}

// Syncing groups is an update of the groups, not a new kind of change: the closing line is unchanged.
TEST(Groups, SummaryLineCountsTheSyncAsAChange) {
  const std::string t = render_text(hand_groups_plan());
  EXPECT_TRUE(
      t.ends_with("2 resource(s) already match the spec.\nPlan: 0 to add, 1 to change, 0 to destroy.\n"))
      << t;
}

TEST(Groups, MarkdownTableHasOneRowPerPartition) {
  const std::string md = render_markdown(hand_groups_plan());
  const size_t table = md.find(
      "| group | flow | status | partition | source offset | target now | target after | note |\n"
      "|---|---|---|---|---|---|---|---|\n");
  ASSERT_NE(table, std::string::npos) << md;
  EXPECT_NE(md.find("<details><summary>Consumer groups: 3 (1 to sync, 1 in sync, 1 skipped: in use on the "
                    "target)</summary>"),
            std::string::npos)
      << md;
  EXPECT_LT(md.find("```diff"), table);
  EXPECT_NE(
      md.find("| `billing` | `A-to-B` | sync<br>target `Empty`, 0 member(s) | `orders[0]` | 42 | 1010 | "
              "**1042** | `the group is behind on B and has no members`<br>write |\n"
              "| | | | `orders[1]` | 7 | - | **2007** | write |\n"),
      std::string::npos)
      << md;
  EXPECT_NE(md.find("| | | | `payments[0]` | 250 | 380 | 380 | not_yet: `mirrored up to source offset 200 so "
                    "far` |\n"),
            std::string::npos)
      << md;
  // A group in use: its reason, and what would have been written.
  EXPECT_NE(
      md.find("| `fraud` | `A-to-B` | **skipped_active**<br>target `Stable`, 2 member(s) | `orders[0]` | "
              "60 | 1010 | 1010 | `the group is in use on B"),
      std::string::npos)
      << md;
  EXPECT_NE(md.find("<br>write (not written); translates to 1060 |\n"), std::string::npos) << md;
  EXPECT_NE(md.find("| | | | `orders[1]` | 10 | - | - | before_start: "), std::string::npos) << md;
  // Every row has the table's 8 cells.
  for (size_t at = md.find("| `billing` |"); at != std::string::npos && md.compare(at, 1, "|") == 0;
       at = md.find('\n', at) + 1) {
    const std::string row = md.substr(at, md.find('\n', at) - at);
    EXPECT_EQ(unescaped_pipes(row), 9) << row;
  }
}

TEST(Groups, AGroupWithoutPartitionsStillGetsARow) {
  Plan p = hand_groups_plan();
  p.groups[1].partitions.clear();
  const std::string md = render_markdown(p);
  EXPECT_NE(
      md.find("| `fraud` | `A-to-B` | **skipped_active**<br>target `Stable`, 2 member(s) | | | | | `the "
              "group is in use"),
      std::string::npos)
      << md;
  EXPECT_NE(render_text(p).find("  fraud      A-to-B  skipped_active"), std::string::npos) << render_text(p);
}

TEST(Markdown, ManyGroupsAreCutLikeActionsAndCounted) {
  Plan p = hand_groups_plan();
  const GroupReport model = p.groups[2];
  for (int i = 0; i < 400; ++i) {
    GroupReport r = model;
    r.group = "tenant-" + std::to_string(1000 + i) + "-consumer-group";
    p.groups.push_back(r);
  }
  for (size_t limit : {5000u, 20000u, 65000u}) {
    const std::string md = render_markdown(p, limit);
    EXPECT_LE(md.size(), limit);
    EXPECT_NE(md.find(" of 403 consumer groups are not shown"), std::string::npos)
        << md.substr(md.size() - 600);
    EXPECT_NE(md.find("| `billing` |"), std::string::npos);  // groups are kept in order, whole
    EXPECT_NE(md.find("```diff"), std::string::npos);        // the actions come first
  }
  EXPECT_EQ(render_markdown(hand_groups_plan()).find("_Cut to stay under"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------------
// Secrets

TEST(Secrets, NoRenderingShowsAClustersPassword) {
  const std::string yaml = R"(version: 1
clusters:
  A:
    bootstrap: 127.0.0.1:19094
    client:
      security.protocol: SASL_PLAINTEXT
      sasl.mechanism: SCRAM-SHA-512
      sasl.username: admin
      sasl.password: hunter2-admin-secret
  B:
    bootstrap: 127.0.0.1:29094
    client:
      ssl.key.password: keystore-secret-pw
flows:
  - source: A
    target: B
)";
  const auto s = parse_spec(yaml);
  auto a = ClusterBuilder("A").topic("orders", 3, {{"retention.ms", "1000"}});
  a.acl(acl("orders", "User:admin", "READ"));
  const Plan p = make_plan(s, states({a, ClusterBuilder("B").topic("A.gone", 1).managed_topic("A.gone")}),
                           {.allow_delete = true});
  ASSERT_TRUE(p.has_changes());
  for (const std::string& out :
       {render_text(p), render_text(p, {.color = true}), render_json(p), render_markdown(p)}) {
    for (const char* secret : {"hunter2", "keystore-secret-pw"}) {
      EXPECT_EQ(out.find(secret), std::string::npos) << secret << " appears in:\n" << out;
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// Markdown

TEST(Markdown, SummaryVisibleDetailsCollapsedInADiffBlock) {
  const std::string md = render_markdown(drift_plan(true));
  const Plan p = drift_plan(true);
  const size_t summary = md.find("### mirror plan: " + std::to_string(p.summary.create) + " to add");
  const size_t details = md.find("<details>");
  ASSERT_NE(summary, std::string::npos) << md;
  ASSERT_NE(details, std::string::npos) << md;
  EXPECT_LT(summary, details);
  EXPECT_NE(md.find("```diff\n", details), std::string::npos) << md;
  EXPECT_NE(md.find("| policy | level | resource | result |"), std::string::npos) << md;
  EXPECT_NE(md.find("**Policy checks:** 3 failed (1 blocking, 1 overridden, 1 advisory), 0 passed\n"),
            std::string::npos)
      << md;
  EXPECT_NE(
      md.find("| `no-topic-deletion` | `hard-mandatory` | `B:A.orders.legacy` | **failed:** `deletes topic"),
      std::string::npos)
      << md;
  EXPECT_NE(
      md.find("| `max-actions` | `soft-mandatory` |  | **overridden:** `the plan has 7 actions, more than "
              "max 5`<br>reason: `CHG-2041: catch up after the freeze` |"),
      std::string::npos)
      << md;
  EXPECT_NE(md.find("| `max-partitions` | `advisory` | `B:A.orders.eu` | failed (advisory): "),
            std::string::npos)
      << md;
}

TEST(Markdown, NoChangesHasNoDetailsBlock) {
  const std::string md = render_markdown(no_changes_plan());
  EXPECT_NE(md.find("No changes. Both clusters match the spec."), std::string::npos) << md;
  EXPECT_EQ(md.find("<details>"), std::string::npos) << md;
}

TEST(Markdown, LargePlanIsCutWithANoteOnWhatWasCut) {
  const Plan p = large_plan();
  const std::string md = render_markdown(p);
  EXPECT_LE(md.size(), 65000u);
  EXPECT_GT(md.size(), 60000u);  // the limit is used, not wasted
  EXPECT_NE(md.find("_Cut to stay under"), std::string::npos) << md.substr(md.size() - 500);
  // The code block is closed before the note, so the note renders as text.
  EXPECT_LT(md.rfind("```\n"), md.find("_Cut to stay under"));
  // The summary is never cut.
  EXPECT_TRUE(md.starts_with("### mirror plan: " + std::to_string(p.summary.create) + " to add, 0 to change"))
      << md.substr(0, 200);
  EXPECT_EQ(p.summary.create, 403);
}

TEST(Markdown, StaysUnderTheLimitWhenNotesAloneAreLarge) {
  // 1500 topics on B that look mirrored but that mirror did not create: one note each.
  ClusterBuilder b("B");
  b.internal_topics("A");
  char name[80];
  for (int i = 0; i < 1500; ++i) {
    std::snprintf(name, sizeof name, "A.handmade-topic-with-a-fairly-long-name-%04d", i);
    b.topic(name, 1);
  }
  const Plan p = make_plan(one_flow(), states({ClusterBuilder("A").topic("orders", 1), b}));
  ASSERT_EQ(p.diagnostics.size(), 1500u);
  const std::string md = render_markdown(p);
  EXPECT_LE(md.size(), 65000u);
  EXPECT_NE(md.find("_Cut to stay under"), std::string::npos) << md.substr(md.size() - 1000);
  EXPECT_NE(md.find("fingerprint"), std::string::npos);
}

TEST(Markdown, HonoursASmallLimit) {
  for (size_t limit : {2000u, 5000u, 20000u}) {
    const std::string md = render_markdown(drift_plan(true), limit);
    EXPECT_LE(md.size(), limit) << md;
    EXPECT_NE(md.find("### mirror plan: "), std::string::npos);
  }
}

TEST(Markdown, PolicyTableCellsCannotBreakTheTable) {
  Plan p = drift_plan(false);
  p.policy_results = {{"max-actions", "advisory", "", "too many | actions\nsplit it", false}};
  const std::string md = render_markdown(p);
  const size_t row = md.find("| `max-actions` |");
  ASSERT_NE(row, std::string::npos) << md;
  const std::string line = md.substr(row, md.find('\n', row) - row);
  EXPECT_EQ(unescaped_pipes(line), 5) << line;
}

}  // namespace
}  // namespace mirror::planner

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
  // Policy results come from policies/, which runs after the planner; a plan carries them.
  p.policy_results = {
      {"no-topic-deletion", "hard-mandatory", "", "", true},
      {"max-partitions", "advisory", "B:A.orders.eu", "", true},
      {"min-replication-factor", "soft-mandatory", "B:A.audit", "", true},
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

// ---------------------------------------------------------------------------------------------------
// JSON

TEST(Json, TopLevelShapeFollowsTheDesign) {
  const Json j = Json::parse(render_json(drift_plan(true)));
  std::vector<std::string> keys;
  for (const auto& [k, v] : j.items()) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"format_version", "spec", "fingerprint", "actions", "summary",
                                            "policy_results", "diagnostics"}));
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
      sasl.jaas.config: org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="jaas-secret-pw";
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
    for (const char* secret : {"hunter2", "jaas-secret-pw", "keystore-secret-pw"}) {
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
  const size_t row = md.find("| max-actions |");
  ASSERT_NE(row, std::string::npos) << md;
  const std::string line = md.substr(row, md.find('\n', row) - row);
  EXPECT_EQ(std::count(line.begin(), line.end(), '|') - std::count(line.begin(), line.end(), '\\'), 5)
      << line;
}

}  // namespace
}  // namespace mirror::planner

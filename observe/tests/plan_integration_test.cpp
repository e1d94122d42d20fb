// mirror plan's observation and planning against the two real local clusters: real topics, configs,
// ACLs and groups, set up through the adapter, then observed and planned.
#include <gtest/gtest.h>

#include <unistd.h>
#include <algorithm>
#include <chrono>
#include <thread>

#include "kafka/admin.h"
#include "kafka/consumer.h"
#include "kafka/producer.h"
#include "observe/observe.h"
#include "planner/plan.h"
#include "planner/render.h"
#include "spec/load.h"

namespace mirror {
namespace {

using namespace std::chrono_literals;

std::string run_id() {
  static const std::string id =
      std::to_string(::getpid()) +
      std::to_string(std::chrono::system_clock::now().time_since_epoch().count() % 100000);
  return id;
}

kafka::Admin admin(const std::string& alias) {
  auto a = kafka::Admin::connect(
      {.alias = alias, .bootstrap = alias == "A" ? "127.0.0.1:19092" : "127.0.0.1:29092"});
  if (!a) throw std::runtime_error(a.error().describe());
  return std::move(a).value();
}

void create(kafka::Admin& a, const kafka::NewTopic& t) {
  auto r = a.create_topics({t});
  ASSERT_TRUE(r.ok()) << r.error().describe();
  ASSERT_TRUE((*r)[0].ok()) << (*r)[0].error->describe();
}

// Waits until a topic is visible in metadata (the controller acknowledges before brokers know).
void visible(kafka::Admin& a, const std::string& name) {
  for (int i = 0; i < 100; ++i) {
    auto t = a.list_topics();
    if (t && std::any_of(t->begin(), t->end(), [&](auto& x) { return x.name == name; })) return;
    std::this_thread::sleep_for(100ms);
  }
  FAIL() << name << " not visible";
}

spec::Spec spec_for(const std::string& prefix, const std::string& extra_client = "") {
  std::string yaml = "version: 1\nclusters:\n  A:\n    bootstrap: 127.0.0.1:19092\n" + extra_client +
                     "  B: {bootstrap: \"127.0.0.1:29092\"}\nflows:\n  - source: A\n    target: B\n"
                     "    replication_factor: 1\n    topics: {include: [\"" +
                     prefix + "\\\\..*\"]}\n";
  auto r = spec::parse_files({{"mirror.yaml", yaml}}, spec::Origin{"mirror.yaml"});
  if (!r.spec) throw std::runtime_error("bad test spec");
  return *r.spec;
}

const planner::Action* find(const planner::Plan& p, planner::ActionKind k, const std::string& resource) {
  for (const auto& a : p.actions) {
    if (a.kind == k && a.resource == resource) return &a;
  }
  return nullptr;
}

TEST(PlanIntegration, ObservesRealClustersAndPlansTheDifference) {
  const std::string prefix = "plan" + run_id();
  auto a = admin("A");
  auto b = admin("B");
  // Source: a new topic, one that exists on the target with fewer partitions and other configs, ACLs.
  create(a, {.name = prefix + ".new",
             .partitions = 3,
             .replication_factor = 1,
             .configs = {{"retention.ms", "3600000"}}});
  create(a, {.name = prefix + ".grow",
             .partitions = 4,
             .replication_factor = 1,
             .configs = {{"retention.ms", "7200000"}, {"min.insync.replicas", "1"}}});
  create(b, {.name = "A." + prefix + ".grow",
             .partitions = 2,
             .replication_factor = 1,
             .configs = {{"retention.ms", "1000"}, {"segment.ms", "600000"}, {"min.insync.replicas", "1"}}});
  create(a, {.name = prefix + ".ignored-internal", .partitions = 1, .replication_factor = 1});
  auto acls = a.create_acls({{kafka::AclResourceType::topic, prefix + ".new", kafka::AclPatternType::literal,
                              "User:alice", "*", kafka::AclOperation::all, kafka::AclPermission::allow},
                             {kafka::AclResourceType::topic, prefix + ".new", kafka::AclPatternType::literal,
                              "User:bob", "*", kafka::AclOperation::write, kafka::AclPermission::allow},
                             {kafka::AclResourceType::topic, prefix + ".new", kafka::AclPatternType::literal,
                              "User:eve", "*", kafka::AclOperation::read, kafka::AclPermission::deny}});
  ASSERT_TRUE(acls.ok()) << acls.error().describe();
  visible(a, prefix + ".new");
  visible(a, prefix + ".grow");
  visible(b, "A." + prefix + ".grow");

  // Two records and a consumer group with a committed offset on the source.
  {
    auto prod = kafka::Producer::create({.alias = "A", .bootstrap = "127.0.0.1:19092"}, {}, nullptr);
    ASSERT_TRUE(prod.ok());
    ASSERT_TRUE(prod->send({.topic = prefix + ".new", .partition = 1, .value = "r1"}).ok());
    ASSERT_TRUE(prod->send({.topic = prefix + ".new", .partition = 1, .value = "r2"}).ok());
    ASSERT_TRUE(prod->flush().ok());
    auto c = kafka::Consumer::create({.alias = "A", .bootstrap = "127.0.0.1:19092"},
                                     {.group_id = prefix + "-billing"});
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE(c->commit({{prefix + ".new", 1, 1}}).ok());
    c->close();
  }

  std::vector<std::string> log;
  observe::Options opts;
  opts.log = [&](const std::string& l) { log.push_back(l); };
  spec::Spec s = spec_for(prefix);
  auto states = observe::observe_spec(s, spec::Resolver::system(), opts);
  ASSERT_TRUE(states.ok()) << states.error();
  planner::Plan p = planner::make_plan(s, *states);

  // Observed: watermarks of replicated partitions, and the selected group with its offsets.
  const auto& new_topic = states->at("A").topics.at(prefix + ".new");
  ASSERT_EQ(new_topic.watermarks.size(), 3u);
  EXPECT_EQ(new_topic.watermarks.at(1), (std::pair<int64_t, int64_t>{0, 2}));
  ASSERT_TRUE(states->at("A").groups.count(prefix + "-billing"));
  const auto& g = states->at("A").groups.at(prefix + "-billing");
  EXPECT_EQ(g.state, "Empty");
  EXPECT_EQ(g.offsets.at({prefix + ".new", 1}), 1);

  using K = planner::ActionKind;
  const auto* create_new = find(p, K::create_topic, "A." + prefix + ".new");
  ASSERT_NE(create_new, nullptr) << planner::render_text(p);
  EXPECT_EQ(create_new->after["partitions"], 3);
  EXPECT_EQ(create_new->after["configs"]["retention.ms"], "3600000");

  const auto* grow = find(p, K::create_partitions, "A." + prefix + ".grow");
  ASSERT_NE(grow, nullptr) << planner::render_text(p);
  EXPECT_EQ(grow->before["partitions"], 2);
  EXPECT_EQ(grow->after["partitions"], 4);

  const auto* cfg = find(p, K::alter_topic_configs, "A." + prefix + ".grow");
  ASSERT_NE(cfg, nullptr) << planner::render_text(p);
  EXPECT_EQ(cfg->after["set"]["retention.ms"], "7200000");
  EXPECT_EQ(cfg->before["retention.ms"], "1000");
  EXPECT_EQ(cfg->after["reset"], planner::Json::array({"segment.ms"}));  // default on the source
  EXPECT_FALSE(cfg->after["set"].contains("min.insync.replicas"));       // excluded (MM2 default)

  EXPECT_NE(find(p, K::create_acl, "ALLOW User:alice READ on TOPIC A." + prefix + ".new (LITERAL, host *)"),
            nullptr)
      << planner::render_text(p);  // ALL -> READ
  EXPECT_NE(find(p, K::create_acl, "DENY User:eve READ on TOPIC A." + prefix + ".new (LITERAL, host *)"),
            nullptr);
  for (const auto& act : p.actions) {
    EXPECT_EQ(act.resource.find("User:bob"), std::string::npos) << "ALLOW WRITE must not be copied";
  }
  EXPECT_NE(find(p, K::start_flow, "A-to-B"), nullptr);

  // Round trips: metadata + configs + ACLs + groups per cluster, whatever the topic count.
  EXPECT_FALSE(log.empty());
  for (const auto& l : log) EXPECT_EQ(l.find("password"), std::string::npos);

  (void)a.delete_topics({prefix + ".new", prefix + ".grow", prefix + ".ignored-internal"});
  (void)b.delete_topics({"A." + prefix + ".grow"});
  (void)a.delete_acls({{.resource_type = kafka::AclResourceType::topic, .resource_name = prefix + ".new"}});
}

TEST(PlanIntegration, UnreachableClusterAndBadCredentialsNameTheCluster) {
  spec::Spec s = spec_for("x");
  s.clusters.at("B").bootstrap.raw = "127.0.0.1:1";
  observe::Options opts;
  opts.timeout = 3s;
  auto r = observe::observe_spec(s, spec::Resolver::system(), opts);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("cluster B (127.0.0.1:1)"), std::string::npos) << r.error();
  EXPECT_NE(r.error().find("Connection refused"), std::string::npos) << r.error();

  const std::string secret = "Recognisable-Pa55word";
  ::setenv("MIRROR_TEST_WRONG_PASSWORD", secret.c_str(), 1);
  spec::Spec bad =
      spec_for("x",
               "    client:\n      security.protocol: SASL_PLAINTEXT\n      sasl.mechanism: SCRAM-SHA-512\n"
               "      sasl.username: alice\n      sasl.password: ${env:MIRROR_TEST_WRONG_PASSWORD}\n");
  bad.clusters.at("A").bootstrap.raw = "127.0.0.1:19094";
  auto denied = observe::observe_spec(bad, spec::Resolver::system(), opts);
  ASSERT_FALSE(denied.ok());
  EXPECT_NE(denied.error().find("cluster A (127.0.0.1:19094)"), std::string::npos) << denied.error();
  EXPECT_NE(denied.error().find("Authentication failed"), std::string::npos) << denied.error();
  EXPECT_EQ(denied.error().find(secret), std::string::npos);

  ::unsetenv("MIRROR_TEST_MISSING");
  spec::Spec missing = spec_for("x", "    client:\n      sasl.password: ${env:MIRROR_TEST_MISSING}\n");
  auto unresolved = observe::observe_spec(missing, spec::Resolver::system(), opts);
  ASSERT_FALSE(unresolved.ok());
  EXPECT_NE(unresolved.error().find("MIRROR_TEST_MISSING is not set"), std::string::npos)
      << unresolved.error();
}

}  // namespace
}  // namespace mirror

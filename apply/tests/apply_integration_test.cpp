// plan -> apply -> plan against the real local clusters, through the mirror binary, as a deploy
// pipeline runs it: convergence, exit codes, stale plans, drift, and settings mirror does not own.
#include <gtest/gtest.h>

#include <functional>

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>
#include <thread>
#include <tuple>

#include "kafka/admin.h"
#include "planner/render.h"
#include "state/lease.h"
#include "state/state.h"

namespace mirror {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

struct CliRun {
  int code = -1;
  std::string out;  // stdout and stderr
};

CliRun run(const std::string& args, const std::string& env = "") {
  CliRun r;
  // Apply only: the engine it would start next has its own tests (engine/tests).
  const std::string detach = args.rfind("apply ", 0) == 0 ? " --detach" : "";
  std::string cmd = env + " " + std::string(MIRROR_BINARY) + " " + args + detach + " 2>&1 </dev/null";
  FILE* p = popen(cmd.c_str(), "r");
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, p)) r.out.append(buf, n);
  int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

kafka::Admin admin(const std::string& alias) {
  auto a = kafka::Admin::connect(
      {.alias = alias, .bootstrap = alias == "A" ? "127.0.0.1:19092" : "127.0.0.1:29092"});
  if (!a) throw std::runtime_error(a.error().describe());
  return std::move(a).value();
}

class ApplyE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    prefix_ =
        "e2e" + std::to_string(::getpid()) + ::testing::UnitTest::GetInstance()->current_test_info()->name();
    for (auto& c : prefix_) c = std::isalnum(static_cast<unsigned char>(c)) ? c : '-';
    dir_ = fs::temp_directory_path() / prefix_;
    fs::create_directories(dir_);
    spec_ = (dir_ / "mirror.yaml").string();
    std::ofstream(spec_) << "version: 1\nclusters:\n  A: {bootstrap: \"127.0.0.1:19092\"}\n"
                            "  B: {bootstrap: \"127.0.0.1:29092\"}\nflows:\n  - name: "
                         << prefix_
                         << "\n    source: A\n    target: B\n    replication_factor: 1\n"
                            "    topics: {include: [\""
                         << prefix_ << "\\\\..*\"]}\n";
    auto a = admin("A");
    auto r = a.create_topics({{.name = prefix_ + ".orders",
                               .partitions = 3,
                               .replication_factor = 1,
                               .configs = {{"retention.ms", "3600000"}}},
                              {.name = prefix_ + ".payments", .partitions = 1, .replication_factor = 1}});
    ASSERT_TRUE(r.ok()) << r.error().describe();
    for (const auto& t : *r) ASSERT_TRUE(t.ok()) << t.error->describe();
    wait_visible(a, {prefix_ + ".orders", prefix_ + ".payments"});
  }
  void TearDown() override { fs::remove_all(dir_); }

  static void wait_visible(kafka::Admin& a, const std::vector<std::string>& names) {
    for (int i = 0; i < 100; ++i) {
      auto t = a.list_topics();
      size_t found = 0;
      for (const auto& n : names) {
        found += t && std::any_of(t->begin(), t->end(), [&](auto& x) { return x.name == n; });
      }
      if (found == names.size()) return;
      std::this_thread::sleep_for(100ms);
    }
    FAIL() << "topics not visible";
  }

  std::string spec() const { return "-c " + spec_; }
  std::string plan_file() const { return (dir_ / "plan.json").string(); }

  std::string prefix_;
  fs::path dir_;
  std::string spec_;
};

TEST_F(ApplyE2E, SavedPlanAppliesAndConverges) {
  CliRun plan = run("plan " + spec() + " --out " + plan_file() + " --detailed-exitcode");
  ASSERT_EQ(plan.code, 2) << plan.out;
  EXPECT_NE(plan.out.find("+ create_topic B:A." + prefix_ + ".orders"), std::string::npos) << plan.out;

  CliRun apply = run("apply " + spec() + " " + plan_file());
  ASSERT_EQ(apply.code, 0) << apply.out;
  EXPECT_NE(apply.out.find("Apply complete"), std::string::npos) << apply.out;
  EXPECT_NE(apply.out.find("\"event\":\"mirror.apply.action\""), std::string::npos) << "audit lines missing";

  // The unchanged setup: nothing to do, exit 0 with --detailed-exitcode.
  CliRun again = run("plan " + spec() + " --detailed-exitcode");
  EXPECT_EQ(again.code, 0) << again.out;
  EXPECT_NE(again.out.find("No changes. Both clusters match the spec."), std::string::npos) << again.out;

  auto b = admin("B");
  auto cfgs = b.describe_topic_configs({"A." + prefix_ + ".orders"});
  ASSERT_TRUE(cfgs.ok());
  auto it = std::find_if((*cfgs)[0].entries.begin(), (*cfgs)[0].entries.end(),
                         [](auto& e) { return e.name == "retention.ms"; });
  ASSERT_NE(it, (*cfgs)[0].entries.end());
  EXPECT_EQ(it->value, "3600000");

  // mirror status names the applied revision, who applied it, and what is still to be copied.
  CliRun status = run("status " + spec() + " --format json");
  ASSERT_EQ(status.code, 0) << status.out;
  EXPECT_NE(status.out.find("\"flow\": \"" + prefix_ + "\""), std::string::npos) << status.out;
  EXPECT_NE(status.out.find("\"current\": true"), std::string::npos) << status.out;
  EXPECT_NE(status.out.find("\"target\": \"A." + prefix_ + ".orders\""), std::string::npos) << status.out;
  CliRun text = run("status " + spec());
  EXPECT_NE(text.out.find("(matches the spec)"), std::string::npos) << text.out;

  // Applying the applied spec again changes nothing and says so.
  CliRun noop = run("apply " + spec() + " --auto-approve");
  EXPECT_EQ(noop.code, 0) << noop.out;
  EXPECT_NE(noop.out.find("nothing to apply"), std::string::npos) << noop.out;
}

// Ownership of state (issue #22): two specs whose flows write to the same target. Each records itself
// as its flow's owner; each plan, even with --allow-delete, proposes nothing of the other's and lists it
// once as not managed. Before ownership, the orders spec's plan deleted the payments spec's A.<p>.payments
// (it looks like an orphan of the orders flow: same source prefix, not selected, created by mirror).
TEST_F(ApplyE2E, TwoSpecsSharingATargetLeaveEachOthersFlowsAlone) {
  auto write_spec = [&](const std::string& role) {
    const std::string path = (dir_ / (role + ".yaml")).string();
    std::ofstream(path) << "version: 1\nname: " << prefix_ << "-" << role
                        << "\nclusters:\n  A: {bootstrap: \"127.0.0.1:19092\"}\n"
                           "  B: {bootstrap: \"127.0.0.1:29092\"}\nflows:\n  - name: "
                        << prefix_ << "-" << role
                        << "\n    source: A\n    target: B\n    replication_factor: 1\n"
                        << "    topics: {include: [\"" << prefix_ << "\\\\." << role << "\"]}\n";
    return "-c " + path;
  };
  const std::string orders = write_spec("orders"), payments = write_spec("payments");
  for (const auto& s : {orders, payments}) {
    // Others may apply to the shared clusters meanwhile: wait for the lock rather than fail.
    CliRun apply = run("apply " + s + " --auto-approve --lock-timeout 120");
    ASSERT_EQ(apply.code, 0) << apply.out;
  }
  auto applied = state::read_applied({.alias = "B", .bootstrap = "127.0.0.1:29092"});
  ASSERT_TRUE(applied.ok()) << applied.error().describe();
  EXPECT_EQ(applied->at(prefix_ + "-orders").owner, prefix_ + "-orders");
  EXPECT_EQ(applied->at(prefix_ + "-payments").owner, prefix_ + "-payments");
  EXPECT_EQ(applied->at(prefix_ + "-payments").managed_topics,
            std::vector<std::string>{"A." + prefix_ + ".payments"});

  for (const auto& [s, mine, other] :
       {std::tuple{orders, std::string("orders"), std::string("payments")},
        std::tuple{payments, std::string("payments"), std::string("orders")}}) {
    for (const std::string flags : {"", " --allow-delete"}) {
      SCOPED_TRACE(mine + flags);
      CliRun plan = run("plan " + s + flags + " --out " + plan_file() + " --detailed-exitcode");
      ASSERT_EQ(plan.code, 0) << plan.out;  // nothing to do: in particular nothing of the other's
      std::stringstream saved;
      saved << std::ifstream(plan_file()).rdbuf();
      auto parsed = planner::parse_json(saved.str());
      ASSERT_TRUE(parsed.ok()) << parsed.error() << "\n" << plan.out;
      EXPECT_TRUE(parsed->actions.empty()) << plan.out;
      const std::string theirs = prefix_ + "-" + other;
      auto it = std::find_if(parsed->not_managed.begin(), parsed->not_managed.end(),
                             [&](const planner::UnmanagedFlow& u) { return u.flow == theirs; });
      ASSERT_NE(it, parsed->not_managed.end()) << plan.out;
      EXPECT_EQ(it->owner, theirs);
      EXPECT_EQ(it->cluster, "B");
      EXPECT_EQ(it->topics, 1);
      CliRun text = run("plan " + s + flags);
      EXPECT_NE(text.out.find("Not managed by this spec"), std::string::npos) << text.out;
      EXPECT_NE(text.out.find(theirs + " (spec " + theirs + ")"), std::string::npos) << text.out;
    }
  }
  // mirror status names the spec that applied each flow.
  CliRun status = run("status " + orders);
  EXPECT_EQ(status.code, 0) << status.out;
  EXPECT_NE(status.out.find(", by spec " + prefix_ + "-orders"), std::string::npos) << status.out;
  CliRun json = run("status " + orders + " --format json");
  EXPECT_NE(json.out.find("\"owner\": \"" + prefix_ + "-orders\""), std::string::npos) << json.out;
  // Both topics are still there.
  auto t = admin("B").list_topics();
  ASSERT_TRUE(t.ok());
  for (const auto& role : {"orders", "payments"}) {
    const std::string name = "A." + prefix_ + "." + role;
    EXPECT_TRUE(std::any_of(t->begin(), t->end(), [&](auto& x) { return x.name == name; })) << name;
  }
}

// A named spec drops a flow and retires it (docs/spec.md, "Ownership"): with --allow-delete the plan
// retires the flow and deletes the topic it created; apply forgets its record and deletes the topic; the
// other flow of the spec stays.
TEST_F(ApplyE2E, RetiredFlowIsForgottenAndItsTopicDeleted) {
  const std::string name = prefix_ + "-spec";
  const std::string head = "version: 1\nname: " + name +
                           "\nclusters:\n  A: {bootstrap: \"127.0.0.1:19092\"}\n"
                           "  B: {bootstrap: \"127.0.0.1:29092\"}\nflows:\n";
  auto flow = [&](const std::string& role) {
    return "  - name: " + prefix_ + "-" + role +
           "\n    source: A\n    target: B\n    replication_factor: 1\n" + "    topics: {include: [\"" +
           prefix_ + "\\\\." + role + "\"]}\n";
  };
  const std::string both = (dir_ / "both.yaml").string(), retired = (dir_ / "retired.yaml").string();
  std::ofstream(both) << head << flow("orders") << flow("payments");
  std::ofstream(retired) << head << flow("orders") << "retire:\n  - {flow: " << prefix_ << "-payments}\n";
  CliRun first = run("apply -c " + both + " --auto-approve --lock-timeout 120");
  ASSERT_EQ(first.code, 0) << first.out;
  const kafka::ClientConfig b{.alias = "B", .bootstrap = "127.0.0.1:29092"};
  auto applied = state::read_applied(b);
  ASSERT_TRUE(applied.ok()) << applied.error().describe();
  ASSERT_TRUE(applied->count(prefix_ + "-payments"));

  CliRun keep = run("plan -c " + retired);
  EXPECT_NE(keep.out.find("retire_flow"), std::string::npos) << keep.out;
  CliRun plan = run("plan -c " + retired + " --allow-delete --out " + plan_file());
  ASSERT_EQ(plan.code, 0) << plan.out;
  EXPECT_NE(plan.out.find("A." + prefix_ + ".payments"), std::string::npos) << plan.out;
  CliRun apply = run("apply -c " + retired + " " + plan_file() + " --lock-timeout 120");
  ASSERT_EQ(apply.code, 0) << apply.out;

  applied = state::read_applied(b);
  ASSERT_TRUE(applied.ok()) << applied.error().describe();
  EXPECT_FALSE(applied->count(prefix_ + "-payments")) << "the retired flow's record is forgotten";
  EXPECT_TRUE(applied->count(prefix_ + "-orders"));
  auto t = admin("B").list_topics();
  ASSERT_TRUE(t.ok());
  auto has = [&](const std::string& n) {
    return std::any_of(t->begin(), t->end(), [&](auto& x) { return x.name == n; });
  };
  EXPECT_FALSE(has("A." + prefix_ + ".payments")) << apply.out;
  EXPECT_TRUE(has("A." + prefix_ + ".orders"));
  CliRun after = run("plan -c " + retired + " --allow-delete --detailed-exitcode");
  EXPECT_EQ(after.code, 0) << after.out;  // converged: nothing left to retire or delete
}

// The spec's policies judge plan and apply alike: a soft-mandatory failure blocks (exit 3) until
// overridden with a reason, which is recorded with the applied revision and in the audit trail; a
// hard-mandatory one can't be overridden. docs/policies.md.
TEST_F(ApplyE2E, PoliciesBlockAndOverridesAreRecorded) {
  {
    std::ofstream f(spec_, std::ios::app);
    f << "policies:\n"
         "  - {rule: max-actions, level: soft-mandatory, max: 1}\n"
         "  - {rule: no-topic-deletion, level: hard-mandatory}\n"
         "  - {rule: max-partitions, level: advisory, max: 2}\n";
  }
  CliRun plan = run("plan " + spec() + " --detailed-exitcode");
  EXPECT_EQ(plan.code, 3) << plan.out;
  EXPECT_NE(plan.out.find("denied by policy"), std::string::npos) << plan.out;
  EXPECT_NE(plan.out.find("--override-policy max-actions"), std::string::npos) << plan.out;
  CliRun json = run("plan " + spec() + " --format json");
  EXPECT_EQ(json.code, 3) << json.out;
  EXPECT_NE(json.out.find("\"policy_results\""), std::string::npos) << json.out;
  EXPECT_NE(json.out.find("\"rule\": \"max-partitions\""), std::string::npos) << json.out;

  CliRun denied = run("apply " + spec() + " --auto-approve");
  EXPECT_EQ(denied.code, 3) << denied.out;
  EXPECT_NE(denied.out.find("nothing was changed"), std::string::npos) << denied.out;
  auto b = admin("B");
  auto topics = b.list_topics();
  ASSERT_TRUE(topics.ok());
  for (const auto& t : *topics)
    EXPECT_EQ(t.name.find(prefix_), std::string::npos) << t.name << " was created";

  // Overrides that make no sense are usage errors; nothing is changed either.
  EXPECT_EQ(run("apply " + spec() + " --auto-approve --override-policy max-actions").code, 64);
  CliRun passed = run("apply " + spec() + " --auto-approve --override-policy no-topic-deletion --reason x");
  EXPECT_EQ(passed.code, 64) << passed.out;
  EXPECT_NE(passed.out.find("nothing to override"), std::string::npos) << passed.out;

  CliRun ok = run("apply " + spec() +
                  " --auto-approve --override-policy max-actions --reason \"CHG-42: first sync\"");
  ASSERT_EQ(ok.code, 0) << ok.out;
  EXPECT_NE(ok.out.find("\"event\":\"mirror.apply.policy_override\""), std::string::npos) << ok.out;
  EXPECT_NE(ok.out.find("CHG-42: first sync"), std::string::npos) << ok.out;
  auto records = state::read_applied({.alias = "B", .bootstrap = "127.0.0.1:29092"});
  ASSERT_TRUE(records.ok()) << records.error().describe();
  ASSERT_TRUE(records->count(prefix_)) << "no applied revision for the flow";
  const auto& overrides = records->at(prefix_).policy_overrides;
  ASSERT_EQ(overrides.size(), 1u);
  EXPECT_EQ(overrides[0].rule, "max-actions");
  EXPECT_EQ(overrides[0].reason, "CHG-42: first sync");
  CliRun status = run("status " + spec());
  EXPECT_NE(status.out.find("policy override: max-actions (reason: CHG-42: first sync)"), std::string::npos)
      << status.out;

  // hard-mandatory: no override lets it through (exit 3, not a usage error).
  {
    std::ofstream f(spec_, std::ios::app);
    f << "  - {rule: max-actions, level: hard-mandatory, max: 0}\n";
  }
  auto a = admin("A");
  ASSERT_TRUE(a.create_partitions({{.topic = prefix_ + ".payments", .total_count = 2}}).ok());
  CliRun hard = run("apply " + spec() + " --auto-approve --override-policy max-actions --reason y");
  EXPECT_EQ(hard.code, 3) << hard.out;
}

TEST_F(ApplyE2E, StalePlanIsRefusedAndNamesWhatChanged) {
  ASSERT_EQ(run("apply " + spec() + " --auto-approve").code, 0);
  // A source config changes, so a plan wants to change the target...
  auto a = admin("A");
  ASSERT_TRUE(
      a.alter_topic_configs({{prefix_ + ".orders", {{kafka::ConfigOp::set, "retention.ms", "7200000"}}}})
          .ok());
  std::this_thread::sleep_for(1s);
  CliRun plan = run("plan " + spec() + " --out " + plan_file() + " --detailed-exitcode");
  ASSERT_EQ(plan.code, 2) << plan.out;
  // ...then someone changes that target topic by hand before the plan is applied.
  auto b = admin("B");
  ASSERT_TRUE(
      b.alter_topic_configs({{"A." + prefix_ + ".orders", {{kafka::ConfigOp::set, "retention.ms", "5000"}}}})
          .ok());
  std::this_thread::sleep_for(1s);
  CliRun apply = run("apply " + spec() + " " + plan_file());
  EXPECT_EQ(apply.code, 4) << apply.out;
  EXPECT_NE(apply.out.find("the plan is stale"), std::string::npos) << apply.out;
  EXPECT_NE(apply.out.find("alter_topic_configs B:A." + prefix_ + ".orders"), std::string::npos) << apply.out;
  EXPECT_NE(apply.out.find("5000"), std::string::npos) << apply.out;  // what it is now
}

// A saved plan is evidence of what was reviewed, never instructions: a file edited after it was made
// (more partitions, an extra ACL granting ALL on the CLUSTER, an action left out) is refused with exit 4
// naming the difference, and nothing changes, whether or not the editor recomputed the fingerprint. The
// unedited file still applies. The file itself is private (0600).
TEST_F(ApplyE2E, EditedPlanFileIsRefusedAndNothingChanges) {
  ASSERT_EQ(run("apply " + spec() + " --auto-approve").code, 0);
  auto a = admin("A");
  ASSERT_TRUE(a.create_partitions({{.topic = prefix_ + ".orders", .total_count = 6}}).ok());
  std::this_thread::sleep_for(1s);
  CliRun plan = run("plan " + spec() + " --out " + plan_file() + " --detailed-exitcode");
  ASSERT_EQ(plan.code, 2) << plan.out;
  EXPECT_EQ(fs::status(plan_file()).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);

  std::stringstream text;
  text << std::ifstream(plan_file(), std::ios::binary).rdbuf();
  auto parsed = planner::parse_json(text.str());
  ASSERT_TRUE(parsed.ok()) << parsed.error();
  const planner::Plan saved = *parsed;
  const std::string target = "A." + prefix_ + ".orders";
  auto partitions_action = std::find_if(saved.actions.begin(), saved.actions.end(), [&](const auto& x) {
    return x.kind == planner::ActionKind::create_partitions && x.resource == target;
  });
  ASSERT_NE(partitions_action, saved.actions.end()) << plan.out;
  const size_t at = static_cast<size_t>(partitions_action - saved.actions.begin());

  const std::string edited_file = (dir_ / "edited.json").string();
  auto apply_edited = [&](const std::function<void(planner::Plan&)>& edit, bool refingerprint) {
    planner::Plan p = saved;
    edit(p);
    if (refingerprint) p.fingerprint = planner::plan_fingerprint(p);
    std::ofstream(edited_file, std::ios::binary | std::ios::trunc) << planner::render_json(p);
    return run("apply " + spec() + " " + edited_file);
  };
  auto more_partitions = [&](planner::Plan& p) { p.actions[at].after["partitions"] = 12; };

  // Edited, fingerprint left as it was: refused before the clusters are even read.
  CliRun stale = apply_edited(more_partitions, false);
  EXPECT_EQ(stale.code, 4) << stale.out;
  EXPECT_NE(stale.out.find("the plan file was edited after it was made"), std::string::npos) << stale.out;

  // Edited with a recomputed fingerprint: the fresh plan disagrees, action by action.
  CliRun more = apply_edited(more_partitions, true);
  EXPECT_EQ(more.code, 4) << more.out;
  EXPECT_NE(more.out.find("create_partitions B:" + target + ": saved after {\"partitions\":12}, now " +
                          "{\"partitions\":6}"),
            std::string::npos)
      << more.out;

  CliRun acl = apply_edited(
      [&](planner::Plan& p) {
        const planner::Acl grant{"CLUSTER", "kafka-cluster", "LITERAL", "User:mallory", "*", "ALL", "ALLOW"};
        p.actions.push_back({planner::ActionKind::create_acl, prefix_, "B", grant.str(), nullptr,
                             planner::acl_json(grant), ""});
        ++p.summary.create;
      },
      true);
  EXPECT_EQ(acl.code, 4) << acl.out;
  EXPECT_NE(acl.out.find("create_acl B:ALLOW User:mallory ALL on CLUSTER kafka-cluster (LITERAL, host *): in "
                         "the saved plan but not needed now"),
            std::string::npos)
      << acl.out;

  CliRun fewer = apply_edited(
      [&](planner::Plan& p) {
        p.actions.erase(p.actions.begin() + static_cast<long>(at));
        --p.summary.update;
      },
      true);
  EXPECT_EQ(fewer.code, 4) << fewer.out;
  EXPECT_NE(fewer.out.find("create_partitions B:" + target + ": needed now but not in the saved plan"),
            std::string::npos)
      << fewer.out;

  for (const CliRun* r : {&stale, &more, &acl, &fewer}) {
    EXPECT_NE(r->out.find("nothing was changed"), std::string::npos) << r->out;
    EXPECT_EQ(r->out.find("\"event\":\"mirror.apply.action\""), std::string::npos) << r->out;
  }
  auto b = admin("B");
  auto partitions_on_b = [&]() -> size_t {
    auto topics = b.list_topics();
    if (!topics) return 0;
    for (const auto& t : *topics) {
      if (t.name == target) return t.partitions.size();
    }
    return 0;
  };
  EXPECT_EQ(partitions_on_b(), 3u);
  if (auto grants = b.describe_acls({.principal = "User:mallory"}); grants.ok()) {
    EXPECT_TRUE(grants->empty());
  }

  // The file as mirror wrote it applies, and does what it showed.
  CliRun good = run("apply " + spec() + " " + plan_file());
  EXPECT_EQ(good.code, 0) << good.out;
  EXPECT_EQ(partitions_on_b(), 6u);
}

TEST_F(ApplyE2E, DriftIsDetectedAndUnownedSettingsSurvive) {
  ASSERT_EQ(run("apply " + spec() + " --auto-approve").code, 0);
  auto b = admin("B");
  const std::string target = "A." + prefix_ + ".orders";
  // A rebalancer's throttle list mirror does not own, and a hand edit of a mirrored config.
  ASSERT_TRUE(b.alter_topic_configs({{target,
                                      {{kafka::ConfigOp::set, "leader.replication.throttled.replicas", "0:1"},
                                       {kafka::ConfigOp::set, "retention.ms", "1000"}}}})
                  .ok());
  std::this_thread::sleep_for(1s);
  CliRun drift = run("plan " + spec() + " --detailed-exitcode --format json");
  ASSERT_EQ(drift.code, 2) << drift.out;
  EXPECT_NE(drift.out.find("\"resource\": \"" + target + "\""), std::string::npos) << drift.out;

  ASSERT_EQ(run("apply " + spec() + " --auto-approve").code, 0);
  auto cfgs = b.describe_topic_configs({target});
  ASSERT_TRUE(cfgs.ok());
  std::map<std::string, std::string> values;
  for (const auto& e : (*cfgs)[0].entries) values[e.name] = e.value.value_or("");
  EXPECT_EQ(values["retention.ms"], "3600000");                       // drift repaired
  EXPECT_EQ(values["leader.replication.throttled.replicas"], "0:1");  // not mirror's: untouched
  EXPECT_EQ(run("plan " + spec() + " --detailed-exitcode").code, 0);
}

TEST_F(ApplyE2E, OneApplyAtATimeAndForceUnlock) {
  // Another apply (simulated in-process) holds B's lock: a second apply refuses and names the holder.
  kafka::ClientConfig b{.alias = "B", .bootstrap = "127.0.0.1:29092"};
  auto held = state::Lease::acquire(b, {.owner = "someone@elsewhere", .purpose = "apply plan 0123456789ab"});
  ASSERT_TRUE(held.ok()) << held.error().describe();
  const std::string id = (*held)->holder().id;
  CliRun blocked = run("apply " + spec() + " --auto-approve");
  EXPECT_EQ(blocked.code, 1) << blocked.out;
  EXPECT_NE(blocked.out.find("another mirror apply holds the lock: someone@elsewhere since "),
            std::string::npos)
      << blocked.out;
  EXPECT_NE(blocked.out.find("(lease " + id + ", apply plan 0123456789ab"), std::string::npos) << blocked.out;
  EXPECT_NE(blocked.out.find("mirror force-unlock LEASE_ID"), std::string::npos) << blocked.out;
  EXPECT_EQ(blocked.out.find("create_topic"), std::string::npos) << "nothing may be applied: " << blocked.out;

  CliRun wrong = run("force-unlock 00000000deadbeef " + spec());
  EXPECT_EQ(wrong.code, 1) << wrong.out;
  EXPECT_NE(wrong.out.find("does not hold the apply lock on B: it is held by someone@elsewhere"),
            std::string::npos)
      << wrong.out;
  CliRun unlock = run("force-unlock " + id + " " + spec());
  EXPECT_EQ(unlock.code, 0) << unlock.out;
  EXPECT_NE(unlock.out.find("Removed the apply lock on B: someone@elsewhere"), std::string::npos)
      << unlock.out;

  // The holder, should it still run, finds out before its next change.
  auto lost = (*held)->confirm();
  ASSERT_FALSE(lost.ok());
  EXPECT_EQ(lost.error().code, kafka::Errc::fenced);
  EXPECT_NE(lost.error().message.find("force-unlocked by"), std::string::npos) << lost.error().message;
  (*held)->abandon();

  CliRun apply = run("apply " + spec() + " --auto-approve");
  EXPECT_EQ(apply.code, 0) << apply.out;
}

TEST_F(ApplyE2E, LeaseOfADeadHolderExpiresAndWaitersGetIt) {
  kafka::ClientConfig b{.alias = "B", .bootstrap = "127.0.0.1:29092"};
  auto dead = state::Lease::acquire(b, {.owner = "crashed@runner-1", .ttl = 4s});
  ASSERT_TRUE(dead.ok()) << dead.error().describe();
  (*dead)->abandon();  // the process died: no renewal, no release
  CliRun now = run("apply " + spec() + " --auto-approve");
  EXPECT_EQ(now.code, 1) << now.out;
  EXPECT_NE(now.out.find("crashed@runner-1"), std::string::npos) << now.out;
  CliRun waited = run("apply " + spec() + " --auto-approve --lock-timeout 30");
  EXPECT_EQ(waited.code, 0) << waited.out;
  EXPECT_NE(waited.out.find("Apply complete"), std::string::npos) << waited.out;
}

TEST_F(ApplyE2E, HolderPausedPastItsTtlIsFenced) {
  kafka::ClientConfig b{.alias = "B", .bootstrap = "127.0.0.1:29092"};
  auto paused = state::Lease::acquire(b, {.owner = "paused@runner-1", .ttl = 2s});
  ASSERT_TRUE(paused.ok()) << paused.error().describe();
  (*paused)->abandon();  // stands for a process stopped (GC, SIGSTOP, VM migration) past its ttl
  std::this_thread::sleep_for(2500ms);
  auto next = state::Lease::acquire(b, {.owner = "next@runner-2"});
  ASSERT_TRUE(next.ok()) << next.error().describe();
  auto resumed = (*paused)->confirm();  // what the paused apply does before its next change
  ASSERT_FALSE(resumed.ok());
  EXPECT_EQ(resumed.error().code, kafka::Errc::fenced);
  EXPECT_NE(resumed.error().message.find("it expired"), std::string::npos) << resumed.error().message;
  EXPECT_NE(resumed.error().message.find("next@runner-2"), std::string::npos) << resumed.error().message;
  EXPECT_TRUE((*next)->confirm().ok());  // and the paused one did not take it back
}

TEST_F(ApplyE2E, TwoConcurrentAppliesExactlyOneProceeds) {
  auto first = std::async(std::launch::async, [&] { return run("apply " + spec() + " --auto-approve"); });
  auto second = std::async(std::launch::async, [&] { return run("apply " + spec() + " --auto-approve"); });
  CliRun x = first.get(), y = second.get();
  const bool x_won = x.code == 0;
  const CliRun& won = x_won ? x : y;
  const CliRun& lost = x_won ? y : x;
  ASSERT_EQ(won.code, 0) << x.out << "\n----\n" << y.out;
  EXPECT_NE(won.out.find("Apply complete"), std::string::npos) << won.out;
  // The other one either met the lock, or (on a loaded machine) started after the first had finished
  // and found nothing left to do. Never do both change the cluster.
  const bool refused =
      lost.code == 1 && lost.out.find("another mirror apply holds the lock") != std::string::npos;
  const bool came_after = lost.code == 0 && lost.out.find("nothing to apply") != std::string::npos;
  EXPECT_TRUE(refused || came_after) << lost.out;
  EXPECT_EQ(lost.out.find("\"event\":\"mirror.apply.action\""), std::string::npos) << lost.out;
}

// bob may create topics and change configs on B but not create ACLs: the ACL actions fail, exactly those
// are reported, and an apply by a principal that may converges.
TEST_F(ApplyE2E, PartialFailureIsReportedAndARerunConverges) {
  using kafka::AclOperation;
  using kafka::AclResourceType;
  const std::string bob = "User:bob";
  // bob's grants go when the test ends, whatever its outcome: other tests expect bob to be refused.
  struct Revoke {
    std::function<void()> f;
    ~Revoke() { f(); }
  } revoke{[&] {
    for (const char* alias : {"A", "B"}) {
      (void)admin(alias).delete_acls({kafka::AclFilter{.principal = bob}});
    }
  }};
  for (const char* alias : {"A", "B"}) {
    auto c = admin(alias);
    std::vector<kafka::AclBinding> grants;
    for (auto op : {AclOperation::describe, AclOperation::create, AclOperation::describe_configs,
                    AclOperation::idempotent_write}) {
      grants.push_back(
          {AclResourceType::cluster, "kafka-cluster", kafka::AclPatternType::literal, bob, "*", op});
    }
    grants.push_back(
        {AclResourceType::topic, "*", kafka::AclPatternType::literal, bob, "*", AclOperation::all});
    grants.push_back(
        {AclResourceType::group, "*", kafka::AclPatternType::literal, bob, "*", AclOperation::all});
    auto r = c.create_acls(grants);
    ASSERT_TRUE(r.ok()) << r.error().describe();
  }
  // A source ACL that the flow copies to the target.
  auto a = admin("A");
  ASSERT_TRUE(a.create_acls({{AclResourceType::topic, prefix_ + ".orders", kafka::AclPatternType::literal,
                              "User:alice", "*", AclOperation::read}})
                  .ok());
  std::this_thread::sleep_for(2s);  // ACLs propagate to every broker's authorizer

  const std::string bob_spec = (dir_ / "bob.yaml").string();
  std::ofstream(bob_spec) << "version: 1\nclusters:\n"
                             "  A:\n    bootstrap: \"127.0.0.1:19094\"\n    client:\n"
                             "      security.protocol: SASL_PLAINTEXT\n      sasl.mechanism: SCRAM-SHA-512\n"
                             "      sasl.username: bob\n      sasl.password: \"${env:MIRROR_TEST_BOB}\"\n"
                             "  B:\n    bootstrap: \"127.0.0.1:29094\"\n    client:\n"
                             "      security.protocol: SASL_PLAINTEXT\n      sasl.mechanism: SCRAM-SHA-512\n"
                             "      sasl.username: bob\n      sasl.password: \"${env:MIRROR_TEST_BOB}\"\n"
                             "flows:\n  - name: "
                          << prefix_
                          << "\n    source: A\n    target: B\n    replication_factor: 1\n"
                             "    topics: {include: [\""
                          << prefix_ << "\\\\..*\"]}\n";
  CliRun partial = run("apply -c " + bob_spec + " --auto-approve",
                       "MIRROR_TEST_BOB=bob-secret MIRROR_ALLOW_ENV=MIRROR_TEST_BOB");
  EXPECT_EQ(partial.code, 1) << partial.out;
  EXPECT_NE(partial.out.find("ok      create_topic B:A." + prefix_ + ".orders"), std::string::npos)
      << partial.out;
  EXPECT_NE(partial.out.find("FAILED  create_acl B:"), std::string::npos) << partial.out;
  EXPECT_NE(partial.out.find("not authorized: the principal lacks ALTER permission on the CLUSTER resource"),
            std::string::npos)
      << partial.out;
  EXPECT_NE(partial.out.find("Apply incomplete: "), std::string::npos) << partial.out;
  EXPECT_EQ(partial.out.find("FAILED  create_topic"), std::string::npos) << partial.out;
  EXPECT_EQ(partial.out.find("bob-secret"), std::string::npos) << "a secret was printed";

  // What is left is exactly the ACL (and the flow's revision, kept back by the failure).
  CliRun rest = run("plan " + spec() + " --detailed-exitcode");
  EXPECT_EQ(rest.code, 2) << rest.out;
  EXPECT_NE(rest.out.find("create_acl B:"), std::string::npos) << rest.out;
  EXPECT_EQ(rest.out.find("create_topic"), std::string::npos) << rest.out;

  CliRun fixed = run("apply " + spec() + " --auto-approve");
  EXPECT_EQ(fixed.code, 0) << fixed.out;
  EXPECT_EQ(run("plan " + spec() + " --detailed-exitcode").code, 0);
  auto acls = admin("B").describe_acls({.resource_name = "A." + prefix_ + ".orders"});
  ASSERT_TRUE(acls.ok());
  EXPECT_EQ(acls->size(), 1u);
}

TEST_F(ApplyE2E, UnreviewedApplyNeedsAutoApproveOffATerminal) {
  CliRun r = run("apply " + spec());
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("refusing to apply without confirmation"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("--auto-approve"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace mirror

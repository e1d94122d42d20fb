// plan -> apply -> plan against the real local clusters, through the mirror binary, as a deploy
// pipeline runs it: convergence, exit codes, stale plans, drift, and settings mirror does not own.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "kafka/admin.h"
#include "state/state.h"

namespace mirror {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

struct CliRun {
  int code = -1;
  std::string out;  // stdout and stderr
};

CliRun run(const std::string& args) {
  CliRun r;
  std::string cmd = std::string(MIRROR_BINARY) + " " + args + " 2>&1 </dev/null";
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
  // Another apply (simulated) holds B's lock: a second apply refuses and names the holder.
  kafka::ClientConfig b{.alias = "B", .bootstrap = "127.0.0.1:29092"};
  auto held = state::acquire_lock(b, {"someone@elsewhere", "2026-11-25T10:00:00Z", "0123456789abcdef"});
  ASSERT_TRUE(held.ok()) << held.error().describe();
  CliRun blocked = run("apply " + spec() + " --auto-approve");
  EXPECT_EQ(blocked.code, 1) << blocked.out;
  EXPECT_NE(
      blocked.out.find("another mirror apply holds the lock since 2026-11-25T10:00:00Z (someone@elsewhere"),
      std::string::npos)
      << blocked.out;
  EXPECT_NE(blocked.out.find("--force-unlock"), std::string::npos) << blocked.out;
  EXPECT_EQ(blocked.out.find("create_topic"), std::string::npos) << "nothing may be applied: " << blocked.out;

  CliRun unlock = run("apply " + spec() + " --force-unlock");
  EXPECT_EQ(unlock.code, 0) << unlock.out;
  CliRun apply = run("apply " + spec() + " --auto-approve");
  EXPECT_EQ(apply.code, 0) << apply.out;
}

TEST_F(ApplyE2E, UnreviewedApplyNeedsAutoApproveOffATerminal) {
  CliRun r = run("apply " + spec());
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("refusing to apply without confirmation"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("--auto-approve"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace mirror

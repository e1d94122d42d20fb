#include "policies/trusted.h"

#include <gtest/gtest.h>

namespace mirror::policies {
namespace {

spec::PolicyRule rule(std::string name, std::string level, std::map<std::string, std::string> params = {}) {
  spec::PolicyRule r;
  r.rule = std::move(name);
  r.level = std::move(level);
  r.params = std::move(params);
  return r;
}

TEST(TrustedPolicies, IdenticalProposalChangesNothing) {
  const std::vector<spec::PolicyRule> t = {rule("no-topic-deletion", "hard-mandatory"),
                                           rule("max-partitions", "soft-mandatory", {{"max", "64"}})};
  auto m = merge_trusted(t, t, "origin/main");
  EXPECT_TRUE(m.changes.empty());
  ASSERT_EQ(m.effective.size(), 2u);
  EXPECT_EQ(m.effective[0].rule, "no-topic-deletion");
}

TEST(TrustedPolicies, RemovedRuleIsStillEnforcedAndShown) {
  auto m = merge_trusted({rule("no-topic-deletion", "hard-mandatory")}, {}, "origin/main:mirror");
  ASSERT_EQ(m.effective.size(), 1u);
  EXPECT_EQ(m.effective[0].level, "hard-mandatory");
  ASSERT_EQ(m.changes.size(), 1u);
  EXPECT_EQ(m.changes[0].kind, PolicyChange::Kind::removed);
  EXPECT_EQ(m.changes[0].message,
            "policy no-topic-deletion is removed by this spec; the trusted rule (hard-mandatory, no "
            "parameters) from origin/main:mirror is enforced");
}

TEST(TrustedPolicies, LoweredLevelIsWeakenedAndOnlyTheTrustedVersionCounts) {
  auto m = merge_trusted({rule("protected-topics", "hard-mandatory", {{"topics", "payments"}})},
                         {rule("protected-topics", "advisory", {{"topics", "payments"}})}, "base");
  ASSERT_EQ(m.effective.size(), 1u);
  EXPECT_EQ(m.effective[0].level, "hard-mandatory");
  ASSERT_EQ(m.changes.size(), 1u);
  EXPECT_EQ(m.changes[0].kind, PolicyChange::Kind::weakened);
  EXPECT_NE(m.changes[0].message.find("level hard-mandatory -> advisory"), std::string::npos);
}

TEST(TrustedPolicies, ChangedParametersJudgeBothVersions) {
  auto m = merge_trusted({rule("max-partitions", "hard-mandatory", {{"max", "64"}})},
                         {rule("max-partitions", "hard-mandatory", {{"max", "100000"}})}, "base");
  ASSERT_EQ(m.effective.size(), 2u);
  EXPECT_EQ(m.effective[0].params.at("max"), "64");
  ASSERT_EQ(m.changes.size(), 1u);
  EXPECT_EQ(m.changes[0].kind, PolicyChange::Kind::changed);
  EXPECT_NE(m.changes[0].message.find("parameters max=64 -> max=100000"), std::string::npos);
}

TEST(TrustedPolicies, AddedRulesAreJudgedToo) {
  auto m = merge_trusted({}, {rule("max-actions", "advisory", {{"max", "5"}})}, "base");
  ASSERT_EQ(m.effective.size(), 1u);
  ASSERT_EQ(m.changes.size(), 1u);
  EXPECT_EQ(m.changes[0].kind, PolicyChange::Kind::added);
}

TEST(TrustedPolicies, TwoInstancesOfOneRulePairUp) {
  const auto a = rule("protected-topics", "hard-mandatory", {{"topics", "a"}});
  const auto b = rule("protected-topics", "hard-mandatory", {{"topics", "b"}});
  auto m = merge_trusted({a, b}, {b}, "base");
  ASSERT_EQ(m.changes.size(), 1u);
  EXPECT_EQ(m.changes[0].kind, PolicyChange::Kind::removed);
  EXPECT_NE(m.changes[0].message.find("topics=a"), std::string::npos);
  EXPECT_EQ(m.effective.size(), 2u);
}

TEST(TrustedPolicies, LevelStrength) {
  EXPECT_LT(level_strength("advisory"), level_strength("soft-mandatory"));
  EXPECT_LT(level_strength("soft-mandatory"), level_strength("hard-mandatory"));
  EXPECT_EQ(level_strength("nonsense"), 2);
}

}  // namespace
}  // namespace mirror::policies

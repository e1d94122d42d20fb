// Consumer-group offset sync, rule by rule (the offsets issue): exact translation through the offset
// map, never guessing, never moving backwards unless the source rewound, never touching a group in use.
// No broker: the observed clusters and offset maps are built by hand.
#include <gtest/gtest.h>

#include "planner/group_sync.h"
#include "planner/plan.h"
#include "planner/render.h"
#include "planner/tests/builders.h"

namespace mirror::planner {
namespace {

using namespace mirror::planner::testing;

// Source offsets 0..99 mirrored one to one to target offsets 1000..1099, then a compaction gap (source
// 100..149 absent), then 150..199 -> 1100..1149.
offsets::PartitionOffsetMap gapped_map() {
  offsets::PartitionOffsetMap m;
  EXPECT_TRUE(m.begin(0, 1000));
  for (int64_t i = 0; i < 100; ++i) EXPECT_TRUE(m.record(i, 1000 + i));
  for (int64_t i = 150; i < 200; ++i) EXPECT_TRUE(m.record(i, 1100 + (i - 150)));
  return m;
}

struct World {
  spec::Spec spec = one_flow("    name: f\n");
  ClusterState src = ClusterBuilder("A").topic("orders", 2).build();
  ClusterState dst = ClusterBuilder("B").internal_topics().topic("A.orders", 2).build();

  World() { dst.offset_maps["f"][{"orders", 0}] = gapped_map(); }
  void source_group(const std::string& id, std::map<std::pair<std::string, int32_t>, int64_t> offs) {
    src.groups[id] = GroupState{id, "Empty", 0, std::move(offs)};
  }
  void target_group(const std::string& id, std::string state, int members,
                    std::map<std::pair<std::string, int32_t>, int64_t> offs) {
    dst.groups[id] = GroupState{id, std::move(state), members, std::move(offs)};
  }
  std::vector<GroupReport> reports() const { return group_reports(spec.flows.at(0), src, dst); }
  Plan plan() const { return make_plan(spec, {{"A", src}, {"B", dst}}); }
};

const GroupPartition& only(const std::vector<GroupReport>& r) {
  EXPECT_EQ(r.size(), 1u);
  EXPECT_EQ(r.at(0).partitions.size(), 1u);
  return r.at(0).partitions.at(0);
}

TEST(GroupSync, AbsentTargetGroupGetsTheExactTranslation) {
  World w;
  w.source_group("billing", {{{"orders", 0}, 42}});
  const auto r = w.reports();
  const GroupPartition& p = only(r);
  EXPECT_EQ(p.decision, GroupDecision::write);
  EXPECT_EQ(p.translated, 1042);
  EXPECT_EQ(p.target_topic, "A.orders");
  EXPECT_FALSE(p.target_offset);
  EXPECT_EQ(r[0].status, GroupStatus::sync);
  EXPECT_EQ(r[0].target_state, "absent");
}

TEST(GroupSync, OffsetInsideACompactionGapTranslatesToTheNextMirroredRecord) {
  World w;
  w.source_group("billing", {{{"orders", 0}, 120}});  // 100..149 never existed: next record is 150
  EXPECT_EQ(only(w.reports()).translated, 1100);
}

TEST(GroupSync, CaughtUpGroupTranslatesToTheTargetsNextOffset) {
  World w;
  w.source_group("billing", {{{"orders", 0}, 200}});
  EXPECT_EQ(only(w.reports()).translated, 1150);
}

TEST(GroupSync, OffsetBeyondWhatWasMirroredIsNotYetNeverAGuess) {
  World w;
  w.source_group("billing", {{{"orders", 0}, 201}});
  const auto r = w.reports();
  EXPECT_EQ(only(r).decision, GroupDecision::not_yet);
  EXPECT_FALSE(only(r).translated);
  EXPECT_NE(only(r).detail.find("mirrored up to source offset 200"), std::string::npos) << only(r).detail;
  EXPECT_EQ(r[0].status, GroupStatus::in_sync);
}

TEST(GroupSync, OffsetBeforeMirroringBeganSaysSo) {
  World w;
  w.dst.offset_maps["f"][{"orders", 0}].trim_below(50);
  w.source_group("billing", {{{"orders", 0}, 10}});
  EXPECT_EQ(only(w.reports()).decision, GroupDecision::before_start);
}

TEST(GroupSync, PartitionNeverMirroredWaits) {
  World w;
  w.source_group("billing", {{{"orders", 1}, 10}});
  EXPECT_EQ(only(w.reports()).decision, GroupDecision::not_yet);
}

TEST(GroupSync, EmptyTargetGroupBehindIsMovedForward) {
  World w;
  w.source_group("billing", {{{"orders", 0}, 42}});
  w.target_group("billing", "Empty", 0, {{{"A.orders", 0}, 1010}});
  const auto r = w.reports();
  EXPECT_EQ(only(r).decision, GroupDecision::write);
  EXPECT_EQ(only(r).target_offset, 1010);
  EXPECT_EQ(r[0].status, GroupStatus::sync);
}

TEST(GroupSync, TargetGroupAheadIsNeverMovedBackwards) {
  World w;
  w.source_group("billing", {{{"orders", 0}, 42}});
  w.target_group("billing", "Empty", 0, {{{"A.orders", 0}, 1050}});
  const auto r = w.reports();
  EXPECT_EQ(only(r).decision, GroupDecision::keep_ahead);
  EXPECT_EQ(r[0].status, GroupStatus::in_sync);
  EXPECT_EQ(find_action(w.plan(), ActionKind::sync_group_offsets, "billing"), nullptr);
}

TEST(GroupSync, SourceGroupThatRewoundIsFollowedBackwardsAndThePlanSaysSo) {
  World w;
  w.source_group("billing", {{{"orders", 0}, 42}});
  w.target_group("billing", "Empty", 0, {{{"A.orders", 0}, 1080}});
  w.dst.checkpoints[{"A", "billing", "A.orders", 0}] = CheckpointState{80, 1080};  // it was at 80
  const auto r = w.reports();
  EXPECT_EQ(only(r).decision, GroupDecision::rewound);
  EXPECT_NE(only(r).detail.find("moved back from offset 80 to 42"), std::string::npos);
  EXPECT_EQ(r[0].status, GroupStatus::sync);
  const Plan p = w.plan();
  const Action* a = find_action(p, ActionKind::sync_group_offsets, "billing");
  ASSERT_NE(a, nullptr) << render_text(p);
  EXPECT_NE(a->reason.find("moved back"), std::string::npos) << a->reason;
}

TEST(GroupSync, GroupWithMembersOnTheTargetIsSkippedWithTheReason) {
  World w;
  w.source_group("billing", {{{"orders", 0}, 42}});
  w.target_group("billing", "Stable", 2, {{{"A.orders", 0}, 1010}});
  const auto r = w.reports();
  EXPECT_EQ(r.at(0).status, GroupStatus::skipped_active);
  EXPECT_NE(r[0].reason.find("2 member(s)"), std::string::npos) << r[0].reason;
  const Plan p = w.plan();
  EXPECT_EQ(find_action(p, ActionKind::sync_group_offsets, "billing"), nullptr);
  EXPECT_NE(render_text(p).find("billing"), std::string::npos) << render_text(p);
}

TEST(GroupSync, GroupsTheFlowExcludesAreNotShown) {
  World w;
  w.spec = one_flow("    name: f\n    groups: {exclude: [\"test-.*\"]}\n");
  w.source_group("test-1", {{{"orders", 0}, 42}});
  w.source_group("console-consumer-7", {{{"orders", 0}, 42}});  // MM2's default exclusion
  EXPECT_TRUE(w.reports().empty());
}

TEST(GroupSync, OffsetsOnTopicsTheFlowDoesNotMirrorAreIgnored) {
  World w;
  w.spec = one_flow("    name: f\n    topics: {include: [orders]}\n");
  w.src.topics["audit"] = TopicState{"audit", 1};
  w.source_group("billing", {{{"audit", 0}, 5}, {{"gone", 0}, 7}});
  EXPECT_TRUE(w.reports().empty());
}

TEST(GroupSync, SyncOffsetsOffShowsButNeverWrites) {
  World w;
  w.spec = one_flow("    name: f\n    groups: {sync_offsets: false}\n");
  w.source_group("billing", {{{"orders", 0}, 42}});
  const auto r = w.reports();
  EXPECT_EQ(r.at(0).status, GroupStatus::in_sync);
  EXPECT_EQ(find_action(w.plan(), ActionKind::sync_group_offsets, "billing"), nullptr);
}

TEST(GroupSync, ThePlanCarriesOneActionPerGroupWithTheOffsetsToWrite) {
  World w;
  w.dst.offset_maps["f"][{"orders", 1}] = gapped_map();
  w.source_group("billing", {{{"orders", 0}, 42}, {{"orders", 1}, 150}});
  w.target_group("billing", "Empty", 0, {{{"A.orders", 0}, 1000}});
  const Plan p = w.plan();
  const Action* a = find_action(p, ActionKind::sync_group_offsets, "billing");
  ASSERT_NE(a, nullptr) << render_text(p);
  EXPECT_EQ(a->cluster, "B");
  EXPECT_EQ(a->flow, "f");
  ASSERT_EQ(a->after["offsets"].size(), 2u) << a->after.dump();
  EXPECT_EQ(a->after["offsets"][0], Json({{"topic", "A.orders"},
                                          {"partition", 0},
                                          {"offset", 1042},
                                          {"source_topic", "orders"},
                                          {"source_offset", 42}}));
  EXPECT_EQ(a->after["offsets"][1]["offset"], 1100);
  EXPECT_EQ(a->before["offsets"].size(), 1u);
  EXPECT_EQ(a->before["state"], "Empty");
  // Every selected group is listed with its partitions, written or not.
  ASSERT_EQ(p.groups.size(), 1u);
  EXPECT_EQ(p.groups[0].partitions.size(), 2u);
  const std::string json = render_json(p);
  EXPECT_NE(json.find("\"group_offsets\""), std::string::npos);
  EXPECT_NE(render_markdown(p).find("billing"), std::string::npos);
}

// ---- failback: target offsets back to source offsets ----

TEST(GroupSyncBack, TargetPositionTranslatesBackExactly) {
  World w;
  w.target_group("app", "Empty", 0, {{{"A.orders", 0}, 1100}});  // the first record after the gap
  const auto r = group_reports_back(w.spec.flows.at(0), w.src, w.dst);
  ASSERT_EQ(r.size(), 1u);
  ASSERT_EQ(r[0].partitions.size(), 1u);
  EXPECT_EQ(r[0].partitions[0].translated, 150);
  EXPECT_EQ(r[0].partitions[0].target_topic, "orders");
  EXPECT_EQ(r[0].partitions[0].decision, GroupDecision::write);
  EXPECT_EQ(r[0].status, GroupStatus::sync);
  EXPECT_EQ(r[0].target, "A");
}

TEST(GroupSyncBack, SourceGroupAheadIsKeptAndPositionsBeyondTheMirrorWait) {
  World w;
  w.dst.offset_maps["f"][{"orders", 1}] = gapped_map();
  w.target_group("app", "Empty", 0, {{{"A.orders", 0}, 1010}, {{"A.orders", 1}, 1151}});
  w.source_group("app", {{{"orders", 0}, 60}});
  const auto r = group_reports_back(w.spec.flows.at(0), w.src, w.dst);
  ASSERT_EQ(r.size(), 1u);
  ASSERT_EQ(r[0].partitions.size(), 2u);
  EXPECT_EQ(r[0].partitions[0].decision, GroupDecision::keep_ahead);  // 1010 -> 10, but A is at 60
  EXPECT_EQ(r[0].partitions[1].decision, GroupDecision::not_yet);     // past the mirrored end (1150)
  EXPECT_EQ(r[0].status, GroupStatus::in_sync);
}

TEST(GroupSyncBack, GroupInUseOnTheSourceIsSkipped) {
  World w;
  w.target_group("app", "Empty", 0, {{{"A.orders", 0}, 1050}});
  w.src.groups["app"] = GroupState{"app", "Stable", 1, {}};
  const auto r = group_reports_back(w.spec.flows.at(0), w.src, w.dst);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].status, GroupStatus::skipped_active);
}

TEST(GroupSync, AFailedOverFlowIsResumedByApplyAndThePlanSaysSo) {
  World w;
  w.dst.applied["f"] = AppliedFlow{flow_revision(w.spec.flows.at(0)), "", "2026-11-26T02:00:00Z", "sre@host"};
  const Plan p = w.plan();
  const Action* a = find_action(p, ActionKind::update_flow, "f");
  ASSERT_NE(a, nullptr) << render_text(p);
  EXPECT_NE(a->reason.find("failed over by sre@host"), std::string::npos) << a->reason;
}

}  // namespace
}  // namespace mirror::planner

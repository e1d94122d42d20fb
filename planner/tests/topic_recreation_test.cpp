// Recreated topics are new topics (issue #16): the planner compares the topic ids the engine stored
// with its progress with the topics' ids now, and says what the engine does about a changed one.
#include "planner/topic_recreation.h"

#include <gtest/gtest.h>

#include "planner/plan.h"
#include "planner/render.h"
#include "planner/tests/builders.h"

namespace mirror::planner {
namespace {

using namespace mirror::planner::testing;

const std::string kOldSource = "Lz3Jt8mTQ1yWk2bq0vN9Xg";
const std::string kNewSource = "p4Hc-Rk_S0GdJ7aZ2eYt1w";
const std::string kTarget = "c9Vb3nM1QxKu5oE8iT0rAQ";
const std::string kNewTarget = "Y6fG2hJ4KlZx_Cv-Bn7MqA";

// Source offsets 0..n-1 copied to target offsets down..down+n-1.
offsets::PartitionOffsetMap copied(int64_t down, int64_t n) {
  offsets::PartitionOffsetMap m;
  EXPECT_TRUE(m.begin(0, down));
  for (int64_t i = 0; i < n; ++i) EXPECT_TRUE(m.record(i, down + i));
  return m;
}

// A -> B with orders (A) mirrored to A.orders (B), the engine's progress stored for `partitions`
// partitions with the given ids, each partition having copied `records` records from target offset 0.
struct World {
  spec::Spec spec = one_flow();
  std::map<std::string, ClusterState> clusters;
  World(int partitions, const std::string& source_now, const std::string& target_now,
        const std::string& stored_source, const std::string& stored_target, int64_t records = 120) {
    clusters = states({ClusterBuilder("A").topic("orders", partitions),
                       ClusterBuilder("B")
                           .internal_topics()
                           .topic("A.orders", partitions)
                           .applied("A-to-B", flow_revision(spec.flows[0]))});
    clusters["A"].topics["orders"].id = source_now;
    clusters["B"].topics["A.orders"].id = target_now;
    for (int32_t p = 0; p < partitions; ++p) {
      clusters["B"].offset_maps["A-to-B"][{"orders", p}] = copied(0, records - p);
      clusters["B"].stored_topic_ids["A-to-B"][{"orders", p}] = {"A.orders", stored_source, stored_target};
    }
  }
  const spec::Flow& flow() const { return spec.flows[0]; }
  std::vector<TopicRecreation> recreations() const {
    return topic_recreations(flow(), clusters.at("A"), clusters.at("B"));
  }
  Plan plan() const { return make_plan(spec, clusters); }
};

TEST(TopicRecreation, AnIdChangesOnlyWhenBothAreKnownAndDiffer) {
  EXPECT_TRUE(topic_id_changed(kOldSource, kNewSource));
  EXPECT_FALSE(topic_id_changed(kOldSource, kOldSource));
  EXPECT_FALSE(topic_id_changed("", kNewSource));  // progress of an older engine
  EXPECT_FALSE(topic_id_changed(kOldSource, ""));  // not observed
  EXPECT_FALSE(topic_id_changed("", ""));
}

TEST(TopicRecreation, RecreatedSourceIsAWarningSayingWhatTheTargetKeeps) {
  const World w(1, kNewSource, kTarget, kOldSource, kTarget);
  const auto r = w.recreations();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].side, TopicRecreation::Side::source);
  EXPECT_EQ(r[0].cluster, "A");
  EXPECT_EQ(r[0].topic, "orders");
  EXPECT_EQ(r[0].old_id, kOldSource);
  EXPECT_EQ(r[0].new_id, kNewSource);
  EXPECT_EQ(r[0].partitions, std::vector<int32_t>{0});
  EXPECT_EQ(r[0].reason, "source topic A:orders was recreated (id " + kOldSource + " -> " + kNewSource +
                             "): the engine copies the new topic from its start; the target copy B:A.orders "
                             "keeps the 120 records of the old topic (offsets 0..119) and the new topic's "
                             "records follow them");

  const Plan p = w.plan();
  EXPECT_FALSE(p.has_changes()) << render_text(p);  // a note, never an action
  ASSERT_EQ(p.diagnostics.size(), 1u) << notes_text(p);
  EXPECT_EQ(p.diagnostics[0].severity, Severity::warning);
  EXPECT_EQ(p.diagnostics[0].flow, "A-to-B");
  EXPECT_EQ(p.diagnostics[0].cluster, "A");
  EXPECT_EQ(p.diagnostics[0].resource, "orders");
  EXPECT_EQ(p.diagnostics[0].message, r[0].reason);
  EXPECT_NE(render_text(p).find("warning: A:orders (flow A-to-B): source topic A:orders was recreated (id " +
                                kOldSource + " -> " + kNewSource + ")"),
            std::string::npos)
      << render_text(p);
  EXPECT_NE(render_json(p).find("\"message\": \"source topic A:orders was recreated"), std::string::npos);
  EXPECT_NE(render_markdown(p).find("source topic A:orders was recreated"), std::string::npos);
}

TEST(TopicRecreation, RecreatedTargetIsAWarningThatTheSourceIsCopiedAgain) {
  const World w(2, kOldSource, kNewTarget, kOldSource, kTarget);
  const auto r = w.recreations();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].side, TopicRecreation::Side::target);
  EXPECT_EQ(r[0].cluster, "B");
  EXPECT_EQ(r[0].topic, "A.orders");
  EXPECT_EQ(r[0].partitions, (std::vector<int32_t>{0, 1}));
  EXPECT_EQ(r[0].reason, "target topic B:A.orders was deleted and recreated (id " + kTarget + " -> " +
                             kNewTarget +
                             ") outside mirror: the engine copies the source again from its start "
                             "into it");
  const Plan p = w.plan();
  EXPECT_TRUE(has_note(p, "A.orders", "was deleted and recreated")) << notes_text(p);
  EXPECT_EQ(p.diagnostics.size(), 1u) << notes_text(p);
}

TEST(TopicRecreation, BothRecreatedGiveTwoNotesSourceFirst) {
  const World w(1, kNewSource, kNewTarget, kOldSource, kTarget);
  const auto r = w.recreations();
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].side, TopicRecreation::Side::source);
  EXPECT_EQ(r[1].side, TopicRecreation::Side::target);
  EXPECT_EQ(w.plan().diagnostics.size(), 2u) << notes_text(w.plan());
}

TEST(TopicRecreation, NothingToSayWhenIdsMatchOrAreUnknown) {
  EXPECT_TRUE(World(1, kOldSource, kTarget, kOldSource, kTarget).recreations().empty());
  EXPECT_TRUE(World(1, kNewSource, kNewTarget, "", "").recreations().empty());  // an older engine's progress
  EXPECT_TRUE(World(1, "", "", kOldSource, kTarget).recreations().empty());     // ids not observed
  EXPECT_TRUE(World(1, kOldSource, kTarget, kOldSource, kTarget).plan().diagnostics.empty());

  World gone(1, kNewSource, kTarget, kOldSource, kTarget);  // deleted, not (yet) created again
  gone.clusters["A"].topics.erase("orders");
  EXPECT_TRUE(gone.recreations().empty());

  World other_flow(1, kNewSource, kTarget, kOldSource, kTarget);  // progress of another flow's name
  auto ids = other_flow.clusters["B"].stored_topic_ids["A-to-B"];
  other_flow.clusters["B"].stored_topic_ids.clear();
  other_flow.clusters["B"].stored_topic_ids["renamed"] = ids;
  EXPECT_TRUE(other_flow.recreations().empty());
}

TEST(TopicRecreation, SeveralPartitionsListTheirOffsetsUpToThree) {
  const World w(5, kNewSource, kTarget, kOldSource, kTarget, 10);  // partition p copied 10 - p records
  const auto r = w.recreations();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_NE(r[0].reason.find("keeps the 40 records of the old topic (partition 0: offsets 0..9, partition 1: "
                             "offsets 0..8, partition 2: offsets 0..7, and 2 more partitions) and the new "
                             "topic's records follow them"),
            std::string::npos)
      << r[0].reason;
}

TEST(TopicRecreation, OnlyThePartitionsWhoseProgressNamesTheOldId) {
  // The engine already moved partition 0 to the new topic; partition 1's progress is still the old one's.
  World w(2, kNewSource, kTarget, kOldSource, kTarget);
  w.clusters["B"].stored_topic_ids["A-to-B"][{"orders", 0}].source_topic_id = kNewSource;
  const auto r = w.recreations();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].partitions, std::vector<int32_t>{1});
  EXPECT_NE(r[0].reason.find("keeps the 119 records of the old topic (partition 1: offsets 0..118)"),
            std::string::npos)
      << r[0].reason;
}

TEST(TopicRecreation, NothingCopiedYet) {
  const spec::Spec spec = one_flow();
  const std::map<int32_t, offsets::PartitionOffsetMap> maps{{0, copied(0, 0)}};
  EXPECT_EQ(source_recreated_reason(spec.flows[0], "orders", "A.orders", kOldSource, kNewSource, maps),
            "source topic A:orders was recreated (id " + kOldSource + " -> " + kNewSource +
                "): the engine copies the new topic from its start; the target copy B:A.orders holds no "
                "record of the old topic");
  EXPECT_NE(source_recreated_reason(spec.flows[0], "orders", "A.orders", kOldSource, kNewSource,
                                    {{0, copied(7, 1)}})
                .find("keeps the 1 record of the old topic (offsets 7..7)"),
            std::string::npos);
}

TEST(TopicRecreation, HostileNamesAreEscapedWhenRendered) {
  World w(1, kNewSource, kTarget, kOldSource, kTarget);
  // A source topic name with a terminal escape sequence, as a cluster could report it.
  const std::string evil = "ord\x1b[2Jers";
  auto& a = w.clusters["A"];
  a.topics[evil] = a.topics["orders"];
  a.topics[evil].name = evil;
  w.clusters["B"].stored_topic_ids["A-to-B"][{evil, 0}] = {"A." + evil, kOldSource, ""};
  const Plan p = w.plan();
  EXPECT_TRUE(has_note(p, evil, "was recreated")) << notes_text(p);
  EXPECT_EQ(render_text(p).find('\x1b'), std::string::npos);
}

}  // namespace
}  // namespace mirror::planner

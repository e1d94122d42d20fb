// Ownership of state (issue #22): two specs share a target, and neither's plan touches what the other's
// flows recorded, with or without --allow-delete, unless a spec adopts or retires a flow explicitly.
#include <gtest/gtest.h>

#include "planner/plan.h"
#include "planner/render.h"
#include "planner/tests/builders.h"

namespace mirror::planner {
namespace {

using namespace testing;

// Spec "orders" mirrors A's orders.* to B; spec "ads" mirrors A's ads.* to B. Same clusters, same
// naming (A.<topic>), so each spec's flow would see the other's topics as its own orphans by name.
spec::Spec orders_spec(const std::string& extra = "") {
  return parse_spec(clusters_yaml() +
                    "name: orders\nflows:\n  - name: orders-to-b\n    source: A\n"
                    "    target: B\n    topics: {include: [\"orders\\\\..*\"]}\n" +
                    extra);
}
spec::Spec ads_spec(const std::string& extra = "") {
  return parse_spec(clusters_yaml() +
                    "name: ads\nflows:\n  - name: ads-to-b\n    source: A\n"
                    "    target: B\n    topics: {include: [\"ads\\\\..*\"]}\n" +
                    extra);
}

ClusterBuilder source() {
  ClusterBuilder a("A");
  a.topic("orders.eu", 3).topic("orders.us", 1).topic("ads.clicks", 2).topic("ads.views", 1);
  a.acl(acl("orders.eu", "User:billing", "READ")).acl(acl("ads.clicks", "User:ads", "READ"));
  return a;
}

// B after both specs were applied: each flow's record names its spec and what it created.
ClusterBuilder shared_b(const std::string& orders_owner = "orders", const std::string& ads_owner = "ads") {
  ClusterBuilder b("B");
  b.internal_topics("A")
      .topic("A.orders.eu", 3)
      .topic("A.orders.us", 1)
      .topic("A.ads.clicks", 2)
      .topic("A.ads.views", 1)
      .acl(acl("A.orders.eu", "User:billing", "READ"))
      .acl(acl("A.ads.clicks", "User:ads", "READ"))
      .recorded("orders-to-b", orders_owner, flow_revision(orders_spec().flows[0]),
                {"A.orders.eu", "A.orders.us"}, {acl("A.orders.eu", "User:billing", "READ")})
      .recorded("ads-to-b", ads_owner, flow_revision(ads_spec().flows[0]), {"A.ads.clicks", "A.ads.views"},
                {acl("A.ads.clicks", "User:ads", "READ")});
  return b;
}

bool touches(const Plan& p, const std::string& flow, const std::vector<std::string>& resources) {
  for (const auto& a : p.actions) {
    if (a.flow == flow) return true;
    for (const auto& r : resources) {
      if (a.resource.find(r) != std::string::npos) return true;
    }
  }
  return false;
}

TEST(Ownership, TwoSpecsSharingATargetNeverTouchEachOthersResources) {
  for (bool allow_delete : {false, true}) {
    SCOPED_TRACE(allow_delete ? "--allow-delete" : "without --allow-delete");
    const Plan o = make_plan(orders_spec(), states({source(), shared_b()}), {.allow_delete = allow_delete});
    EXPECT_FALSE(o.has_changes()) << render_text(o);
    EXPECT_FALSE(touches(o, "ads-to-b", {"A.ads."})) << render_text(o);
    ASSERT_EQ(o.not_managed.size(), 1u) << render_text(o);
    EXPECT_EQ(o.not_managed[0], (UnmanagedFlow{"B", "ads-to-b", "ads", 2, 1}));
    // Shown once, summarised, and not as per-topic drift notes.
    EXPECT_FALSE(has_note(o, "A.ads.clicks", "orphan")) << notes_text(o);
    EXPECT_FALSE(has_note(o, "A.ads.views", "orphan")) << notes_text(o);

    const Plan a = make_plan(ads_spec(), states({source(), shared_b()}), {.allow_delete = allow_delete});
    EXPECT_FALSE(a.has_changes()) << render_text(a);
    EXPECT_FALSE(touches(a, "orders-to-b", {"A.orders."})) << render_text(a);
    ASSERT_EQ(a.not_managed.size(), 1u);
    EXPECT_EQ(a.not_managed[0], (UnmanagedFlow{"B", "orders-to-b", "orders", 2, 1}));
  }
}

// The reported case: with the same state, what the planner proposed before ownership existed.
TEST(Ownership, ARecordWithoutThePerFlowListStillDeletesOnlyItsOwnOrphans) {
  // orders.us left the source: its copy is this spec's orphan; ads' topics stay.
  auto a = source();
  ClusterState src = a.build();
  src.topics.erase("orders.us");
  const Plan p = make_plan(orders_spec(), {{"A", src}, {"B", shared_b().build()}}, {.allow_delete = true});
  const auto deletes = of_kind(p, ActionKind::delete_topic);
  ASSERT_EQ(deletes.size(), 1u) << render_text(p);
  EXPECT_EQ(deletes[0].resource, "A.orders.us");
  EXPECT_EQ(deletes[0].flow, "orders-to-b");
}

TEST(Ownership, AResourceBothFlowsRecordedIsProtected) {
  // orders-to-b no longer selects orders.us, but ads-to-b recorded A.orders.us too (it once mirrored it).
  auto b = shared_b();
  b.recorded("ads-to-b", "ads", flow_revision(ads_spec().flows[0]),
             {"A.ads.clicks", "A.ads.views", "A.orders.us"});
  const auto narrower = parse_spec(clusters_yaml() +
                                   "name: orders\nflows:\n  - name: orders-to-b\n    source: A\n"
                                   "    target: B\n    topics: {include: [\"orders\\\\.eu\"]}\n");
  const Plan p = make_plan(narrower, states({source(), b}), {.allow_delete = true});
  EXPECT_EQ(find_action(p, ActionKind::delete_topic, "A.orders.us"), nullptr) << render_text(p);
}

TEST(Ownership, UnnamedSpecsProtectFlowsTheyDoNotDeclare) {
  // Two unnamed specs (records without an owner, as older mirrors wrote them): each still leaves the
  // other's flow alone, because a spec manages only the flows it declares.
  const auto unnamed = parse_spec(clusters_yaml() +
                                  "flows:\n  - name: orders-to-b\n    source: A\n"
                                  "    target: B\n    topics: {include: [\"orders\\\\..*\"]}\n");
  const Plan p = make_plan(unnamed, states({source(), shared_b("", "")}), {.allow_delete = true});
  EXPECT_FALSE(p.has_changes()) << render_text(p);
  ASSERT_EQ(p.not_managed.size(), 1u);
  EXPECT_EQ(p.not_managed[0].owner, "");
  EXPECT_NE(render_text(p).find("ads-to-b (no owner recorded)"), std::string::npos) << render_text(p);
}

TEST(Ownership, AnOwnerlessRecordOfADeclaredFlowIsClaimedAndItsOwnerRecorded) {
  const auto s = orders_spec();
  const Plan p = make_plan(s, states({source(), shared_b("", "ads")}));
  const auto updates = of_kind(p, ActionKind::update_flow);
  ASSERT_EQ(updates.size(), 1u) << render_text(p);
  EXPECT_EQ(updates[0].resource, "orders-to-b");
  EXPECT_TRUE(updates[0].before["owner"].is_null());
  EXPECT_EQ(updates[0].after["owner"], "orders");
  EXPECT_EQ(updates[0].after["revision"], updates[0].before["revision"]);
  EXPECT_NE(render_text(p).find("owner: (none) -> orders"), std::string::npos) << render_text(p);

  // An unnamed spec records no owner: the same state is no change for it (older mirrors' behaviour).
  const auto unnamed = parse_spec(clusters_yaml() +
                                  "flows:\n  - name: orders-to-b\n    source: A\n"
                                  "    target: B\n    topics: {include: [\"orders\\\\..*\"]}\n");
  const Plan q = make_plan(unnamed, states({source(), shared_b("", "ads")}));
  EXPECT_FALSE(q.has_changes()) << render_text(q);
  EXPECT_FALSE(of_kind(make_plan(unnamed, states({source(), ClusterBuilder("B")})), ActionKind::start_flow)
                   .at(0)
                   .after.contains("owner"));
}

TEST(Ownership, DeclaringAFlowAnotherSpecOwnsIsAnErrorAndPlansNothingForIt) {
  // The ads spec also declares orders-to-b (say, a copy-paste): it must not take it over silently.
  const auto s = ads_spec(
      "  - name: orders-to-b\n    source: A\n    target: B\n    topics: {include: [\"orders\\\\.eu\"]}\n");
  for (bool allow_delete : {false, true}) {
    const Plan p = make_plan(s, states({source(), shared_b()}), {.allow_delete = allow_delete});
    EXPECT_FALSE(touches(p, "orders-to-b", {"A.orders."})) << render_text(p);
    EXPECT_TRUE(has_note(p, "orders-to-b", "records it as spec orders's")) << notes_text(p);
    EXPECT_TRUE(has_note(p, "orders-to-b", "adopt: [{flow: orders-to-b, spec: orders}]")) << notes_text(p);
    EXPECT_EQ(p.summary.remove, 0) << render_text(p);
  }
}

TEST(Ownership, AdoptTakesAFlowOverWithItsResources) {
  // The orders spec is being folded into ads: ads declares orders-to-b and adopts it from spec orders.
  const auto s = ads_spec(
      "  - name: orders-to-b\n    source: A\n    target: B\n    topics: {include: [\"orders\\\\.eu\"]}\n"
      "adopt:\n  - {flow: orders-to-b, spec: orders}\n");
  const Plan p = make_plan(s, states({source(), shared_b()}), {.allow_delete = true});
  const Action* u = find_action(p, ActionKind::update_flow, "orders-to-b");
  ASSERT_NE(u, nullptr) << render_text(p);
  EXPECT_EQ(u->before["owner"], "orders");
  EXPECT_EQ(u->after["owner"], "ads");
  EXPECT_NE(u->reason.find("takes the flow over from spec orders"), std::string::npos) << u->reason;
  // Adopted, its orphan (orders.us is no longer selected) is this spec's to delete.
  EXPECT_NE(find_action(p, ActionKind::delete_topic, "A.orders.us"), nullptr) << render_text(p);
  EXPECT_TRUE(p.not_managed.empty());

  // Adopting from a spec that does not own it adopts nothing.
  const auto wrong = ads_spec(
      "  - name: orders-to-b\n    source: A\n    target: B\n    topics: {include: [\"orders\\\\.eu\"]}\n"
      "adopt:\n  - {flow: orders-to-b, spec: billing}\n");
  const Plan w = make_plan(wrong, states({source(), shared_b()}), {.allow_delete = true});
  EXPECT_FALSE(touches(w, "orders-to-b", {"A.orders."})) << render_text(w);
  EXPECT_TRUE(has_note(w, "orders-to-b", "the adopt: entry names spec billing")) << notes_text(w);
}

TEST(Ownership, RetireForgetsAnotherSpecsFlowAndDeletesItsResourcesOnlyWithAllowDelete) {
  const auto s = orders_spec("retire:\n  - {flow: ads-to-b, spec: ads}\n");
  const Plan keep = make_plan(s, states({source(), shared_b()}));
  const auto retired = of_kind(keep, ActionKind::retire_flow);
  ASSERT_EQ(retired.size(), 1u) << render_text(keep);
  EXPECT_EQ(retired[0].resource, "ads-to-b");
  EXPECT_EQ(retired[0].before["owner"], "ads");
  EXPECT_TRUE(retired[0].after.is_null());
  EXPECT_NE(retired[0].reason.find("the 2 topic(s) and 1 ACL(s) it created stay"), std::string::npos)
      << retired[0].reason;
  EXPECT_TRUE(of_kind(keep, ActionKind::delete_topic).empty()) << render_text(keep);
  EXPECT_TRUE(keep.not_managed.empty());

  const Plan del = make_plan(s, states({source(), shared_b()}), {.allow_delete = true});
  const auto topics = of_kind(del, ActionKind::delete_topic);
  ASSERT_EQ(topics.size(), 2u) << render_text(del);
  EXPECT_EQ(topics[0].resource, "A.ads.clicks");
  EXPECT_EQ(topics[0].flow, "ads-to-b");
  EXPECT_EQ(of_kind(del, ActionKind::delete_acl).size(), 1u) << render_text(del);
  EXPECT_EQ(of_kind(del, ActionKind::retire_flow).size(), 1u);
  // Deletions come before the record is forgotten (apply order).
  EXPECT_EQ(del.actions.back().kind, ActionKind::retire_flow);
  EXPECT_EQ(del.summary.remove, 4);
}

TEST(Ownership, RetireMatchesOnlyTheNamedOwner) {
  // Without spec:, retire names this spec's own flows (and flows recorded without an owner).
  const Plan p = make_plan(orders_spec("retire:\n  - {flow: ads-to-b}\n"), states({source(), shared_b()}),
                           {.allow_delete = true});
  EXPECT_TRUE(of_kind(p, ActionKind::retire_flow).empty()) << render_text(p);
  EXPECT_TRUE(of_kind(p, ActionKind::delete_topic).empty()) << render_text(p);
  EXPECT_TRUE(has_note(p, "ads-to-b", "nothing to retire")) << notes_text(p);
  EXPECT_TRUE(has_note(p, "ads-to-b", "B records it with spec ads")) << notes_text(p);

  // An ownerless record (an older mirror) is retired by a spec's own entry.
  const Plan q = make_plan(orders_spec("retire:\n  - {flow: ads-to-b}\n"),
                           states({source(), shared_b("orders", "")}), {.allow_delete = true});
  EXPECT_EQ(of_kind(q, ActionKind::retire_flow).size(), 1u) << render_text(q);
}

TEST(Ownership, ARetiredResourceAnotherFlowStillRecordsIsKept) {
  auto b = shared_b();
  b.recorded("old-ads-to-b", "orders", "0000000000000000", {"A.ads.clicks", "A.old"});
  b.topic("A.old", 1);
  const Plan p = make_plan(orders_spec("retire:\n  - {flow: old-ads-to-b}\n"), states({source(), b}),
                           {.allow_delete = true});
  EXPECT_EQ(find_action(p, ActionKind::delete_topic, "A.ads.clicks"), nullptr) << render_text(p);
  EXPECT_NE(find_action(p, ActionKind::delete_topic, "A.old"), nullptr) << render_text(p);
}

TEST(Ownership, NotManagedSurvivesTheSavedPlanRoundTrip) {
  const Plan p = make_plan(orders_spec(), states({source(), shared_b()}));
  const auto back = parse_json(render_json(p));
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_EQ(back->not_managed, p.not_managed);
  // A plan saved before ownership existed has no not_managed: it reads as none.
  auto j = Json::parse(render_json(p));
  j.erase("not_managed");
  const auto old = parse_json(j.dump());
  ASSERT_TRUE(old.ok()) << old.error();
  EXPECT_TRUE(old->not_managed.empty());
}

}  // namespace
}  // namespace mirror::planner

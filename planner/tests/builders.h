// Test helpers shared by the planner's unit and golden tests: a spec from YAML, and a small builder for
// the observed state of a cluster (what the observer would report from a live broker).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "planner/cluster_state.h"
#include "planner/plan.h"
#include "spec/load.h"

namespace mirror::planner::testing {

inline spec::Spec parse_spec(const std::string& yaml, spec::Origin origin = spec::Origin{"mirror.yaml"}) {
  spec::LoadResult r = spec::parse_files({{"mirror.yaml", yaml}}, std::move(origin));
  std::string all;
  for (const auto& d : r.diagnostics.sorted()) all += spec::format_text(d) + "\n";
  EXPECT_TRUE(r.spec.has_value()) << all;
  return r.spec ? *r.spec : spec::Spec{};
}

// The two clusters every test uses, followed by whatever flows the test writes.
inline std::string clusters_yaml() {
  return "version: 1\n"
         "clusters:\n"
         "  A: {bootstrap: \"127.0.0.1:19092\"}\n"
         "  B: {bootstrap: \"127.0.0.1:29092\"}\n"
         "  C: {bootstrap: \"127.0.0.1:39092\"}\n";
}

// A spec with one flow A -> B; `extra` is appended to the flow (indented by 4 spaces).
inline spec::Spec one_flow(const std::string& extra = "") {
  return parse_spec(clusters_yaml() + "flows:\n  - source: A\n    target: B\n" + extra);
}

inline Acl acl(std::string topic, std::string principal, std::string operation,
               std::string permission = "ALLOW", std::string pattern = "LITERAL",
               std::string type = "TOPIC") {
  return Acl{std::move(type),      std::move(topic),     std::move(pattern), std::move(principal), "*",
             std::move(operation), std::move(permission)};
}

// What DescribeConfigs reports for a topic nobody configured: Kafka's built-in defaults.
inline std::map<std::string, ConfigValue> kafka_defaults() {
  auto d = [](std::string v) { return ConfigValue{std::move(v), ConfigSource::default_config}; };
  return {
      {"cleanup.policy", d("delete")},
      {"compression.type", d("producer")},
      {"max.message.bytes", d("1048588")},
      {"message.timestamp.type", d("CreateTime")},
      {"min.insync.replicas", d("1")},
      {"retention.bytes", d("-1")},
      {"retention.ms", d("604800000")},
      {"segment.bytes", d("1073741824")},
      {"unclean.leader.election.enable", d("false")},
  };
}

class ClusterBuilder {
 public:
  explicit ClusterBuilder(std::string alias) {
    s_.alias = alias;
    s_.cluster_id = alias + "-cluster-id";
    s_.acls_observed = true;  // both local clusters run StandardAuthorizer
  }

  // A topic with Kafka's defaults, and `overrides` set on the topic (source dynamic_topic).
  ClusterBuilder& topic(const std::string& name, int partitions,
                        const std::map<std::string, std::string>& overrides = {}, int rf = 1) {
    TopicState t{name, partitions, rf, kafka_defaults()};
    for (const auto& [k, v] : overrides) t.configs[k] = ConfigValue{v, ConfigSource::dynamic_topic};
    s_.topics[name] = std::move(t);
    return *this;
  }
  // Sets one config entry of an existing topic with full control of its metadata.
  ClusterBuilder& config(const std::string& topic, const std::string& key, std::optional<std::string> value,
                         ConfigSource source, bool read_only = false, bool sensitive = false) {
    s_.topics.at(topic).configs[key] = ConfigValue{std::move(value), source, read_only, sensitive};
    return *this;
  }
  ClusterBuilder& acl(Acl a) {
    s_.acls.push_back(std::move(a));
    return *this;
  }
  ClusterBuilder& no_authorizer() {
    s_.acls_observed = false;
    s_.acls.clear();
    return *this;
  }
  ClusterBuilder& applied(const std::string& flow, std::string revision, std::string commit = "") {
    s_.applied[flow] = AppliedFlow{std::move(revision), std::move(commit)};
    return *this;
  }
  // A flow recorded in mirror's state as state::merge_into reads it: the spec that recorded it ("" for
  // none), and the resources it created (also in the union of managed resources).
  ClusterBuilder& recorded(const std::string& flow, std::string owner, std::string revision,
                           std::vector<std::string> topics, std::vector<Acl> acls = {}) {
    AppliedFlow a{std::move(revision), ""};
    a.owner = std::move(owner);
    std::sort(topics.begin(), topics.end());
    std::sort(acls.begin(), acls.end());
    for (const auto& t : topics) s_.managed_topics.push_back(t);
    for (const auto& x : acls) s_.managed_acls.push_back(x);
    a.managed_topics = std::move(topics);
    a.managed_acls = std::move(acls);
    s_.applied[flow] = std::move(a);
    return *this;
  }
  ClusterBuilder& managed_topic(std::string name) {
    s_.managed_topics.push_back(std::move(name));
    return *this;
  }
  ClusterBuilder& managed_acl(Acl a) {
    s_.managed_acls.push_back(std::move(a));
    return *this;
  }
  // mirror's internal topics on a target it has already been applied to.
  ClusterBuilder& internal_topics(const std::string& source = "A") {
    topic(kStateTopic, 1, {{"cleanup.policy", "compact"}});
    topic(source + ".checkpoints.internal", 1, {{"cleanup.policy", "compact"}});
    return *this;
  }

  ClusterState build() const {
    ClusterState s = s_;
    std::sort(s.acls.begin(), s.acls.end());
    return s;
  }

 private:
  ClusterState s_;
};

inline std::map<std::string, ClusterState> states(std::initializer_list<ClusterBuilder> builders) {
  std::map<std::string, ClusterState> out;
  for (const auto& b : builders) {
    ClusterState s = b.build();
    out[s.alias] = std::move(s);
  }
  return out;
}

// The actions of one kind, in plan order.
inline std::vector<Action> of_kind(const Plan& p, ActionKind k) {
  std::vector<Action> out;
  for (const auto& a : p.actions) {
    if (a.kind == k) out.push_back(a);
  }
  return out;
}

inline const Action* find_action(const Plan& p, ActionKind k, const std::string& resource) {
  for (const auto& a : p.actions) {
    if (a.kind == k && a.resource == resource) return &a;
  }
  return nullptr;
}

inline bool has_note(const Plan& p, const std::string& resource, const std::string& fragment) {
  return std::any_of(p.diagnostics.begin(), p.diagnostics.end(), [&](const Note& n) {
    return n.resource == resource && n.message.find(fragment) != std::string::npos;
  });
}

inline std::string notes_text(const Plan& p) {
  std::string out;
  for (const auto& n : p.diagnostics) out += n.cluster + ":" + n.resource + ": " + n.message + "\n";
  return out;
}

}  // namespace mirror::planner::testing

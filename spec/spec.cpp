#include "spec/spec.h"

#include <algorithm>

namespace mirror::spec {

FilterDecision Filter::decide(std::string_view name) const {
  FilterDecision d;
  const Pattern* include_limit = nullptr;
  bool included = false;
  for (const auto& p : include) {
    const Match m = p.match(name);
    if (m == Match::yes) {
      included = true;
      break;
    }
    if (m == Match::limit && !include_limit) include_limit = &p;
  }
  if (!included) {
    if (include_limit) d.limit = PatternLimit{include_limit->source(), include_limit->where(), false};
    return d;
  }
  const Pattern* exclude_limit = nullptr;
  for (const auto& p : exclude) {
    const Match m = p.match(name);
    if (m == Match::yes) return d;  // excluded, whatever another exclude says
    if (m == Match::limit && !exclude_limit) exclude_limit = &p;
  }
  if (exclude_limit) {
    d.limit = PatternLimit{exclude_limit->source(), exclude_limit->where(), true};
    return d;
  }
  d.selected = true;
  return d;
}

bool ConfigSync::excluded(std::string_view config_name) const {
  return std::any_of(exclude.begin(), exclude.end(),
                     [&](const Pattern& p) { return p.match(config_name) != Match::no; });
}

std::string Flow::target_topic(std::string_view source_topic) const {
  if (naming == Naming::identity) return std::string(source_topic);
  return source + separator + std::string(source_topic);
}

namespace {

// MM2's ReplicationPolicy.isInternalTopic: Kafka's own topics ("__", "."), MM2's ("mm2*.internal",
// checkpoints). Connect's and mirror's ("-internal", ".internal") are also never replicated: the design's
// default excludes (MM2 3.x's) already drop them, and users can only add excludes.
bool is_internal_topic(std::string_view t) {
  return t.starts_with("__") || t.starts_with(".") || t.ends_with(".internal") || t.ends_with("-internal");
}

bool is_heartbeats_topic(std::string_view t, std::string_view separator) {
  return t == "heartbeats" || (t.ends_with(std::string(separator) + "heartbeats"));
}

}  // namespace

bool Flow::replicates_topic(std::string_view t) const {
  if (is_internal_topic(t)) return false;
  // Heartbeats: always (MM2's rule), by exactly one flow of the cluster pair.
  if (is_heartbeats_topic(t, separator) && !mirrors_heartbeats) return false;
  if (!topics.matches(t) && !is_heartbeats_topic(t, separator)) return false;
  // Cycle rule (MM2's MirrorSourceConnector.isCycle, prefix naming only): follow the chain of
  // prefixes ("B.A.orders" came from B, which came from A); a topic that came from our target would be
  // copied back to where it came from.
  if (naming == Naming::prefix) {
    std::string_view rest = t;
    for (;;) {
      size_t sep = rest.find(separator);
      // Like Java's String.split, a trailing separator does not make a source ("B." has none).
      if (sep == std::string_view::npos || sep + separator.size() == rest.size()) break;
      if (rest.substr(0, sep) == target) return false;
      rest = rest.substr(sep + separator.size());
    }
  }
  return true;
}

const Cluster* Spec::cluster(std::string_view alias) const {
  auto it = clusters.find(std::string(alias));
  return it == clusters.end() ? nullptr : &it->second;
}

const Flow* Spec::flow(std::string_view flow_name) const {
  auto it = std::find_if(flows.begin(), flows.end(), [&](const Flow& f) { return f.name == flow_name; });
  return it == flows.end() ? nullptr : &*it;
}

const FlowClaim* Spec::adopted(std::string_view flow_name) const {
  auto it = std::find_if(adopt.begin(), adopt.end(), [&](const FlowClaim& c) { return c.flow == flow_name; });
  return it == adopt.end() ? nullptr : &*it;
}

bool Spec::retires(std::string_view flow_name, std::string_view owner) const {
  return std::any_of(retire.begin(), retire.end(), [&](const FlowClaim& c) {
    const std::string_view by = c.spec.empty() ? std::string_view(name) : std::string_view(c.spec);
    return c.flow == flow_name && (owner == by || (owner.empty() && by == name));
  });
}

}  // namespace mirror::spec

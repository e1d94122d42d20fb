// The desired state: a checked, typed replication spec (design.md section 2).
//
// A Spec is a plain value. Strings that may hold ${env:NAME} / ${file:PATH} references stay
// unresolved here (`Value`); they are resolved only when a client connects, so secrets never enter a
// plan, a log or the applied state.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "spec/diagnostics.h"
#include "spec/pattern.h"

namespace mirror::spec {

// A string from the spec, possibly containing ${env:NAME} or ${file:PATH} references.
struct Value {
  std::string raw;
  Location where;
  bool has_references() const;
  auto operator<=>(const Value&) const = default;
};

struct Cluster {
  std::string alias;
  Value bootstrap;                      // "host:port[,host:port...]"
  std::map<std::string, Value> client;  // librdkafka properties
  Location where;
};

enum class Naming { prefix, identity };

// The pattern that made a filter give up on a name (Match::limit), for the plan to say why.
struct PatternLimit {
  std::string pattern;  // its source text as written
  Location where;       // where it was written (built-in defaults: "<built-in default>")
  bool in_exclude = false;
};

// What Filter::decide says about one name.
struct FilterDecision {
  bool selected = false;
  // Set when a pattern hit PCRE2's limits and the name was left out because of it: a limit on an exclude
  // pattern (the name is excluded), or on an include pattern when no other include matched (the name is
  // not included). Unset when the limit did not change the outcome.
  std::optional<PatternLimit> limit;
};

// Include/exclude regex lists. A name is selected when it fully matches an include pattern and no
// exclude pattern (excludes win), exactly as MM2's DefaultTopicFilter/DefaultGroupFilter.
// Fails closed: a pattern that hits the match limits (Match::limit) counts as matching when it is an
// exclude and as not matching when it is an include, so an unanswerable name is never selected.
struct Filter {
  std::vector<Pattern> include;
  std::vector<Pattern> exclude;  // the user's own plus the defaults
  bool matches(std::string_view name) const { return decide(name).selected; }
  // Whether the name is selected and, when a limit decided it, which pattern (for a plan note).
  FilterDecision decide(std::string_view name) const;
};

enum class StartKind { earliest, latest, timestamp };
struct Start {
  StartKind kind = StartKind::earliest;
  int64_t timestamp_ms = 0;  // for StartKind::timestamp
};

struct ConfigSync {
  bool sync = true;
  std::vector<Pattern> exclude;  // the user's own plus MM2's default exclusions
  // True when an exclude pattern matches, or hits the match limits (fails closed: not synced).
  bool excluded(std::string_view config_name) const;
};

struct GroupSync {
  Filter filter;
  bool sync_offsets = true;
};

struct Flow {
  std::string name;
  std::string source;  // cluster alias
  std::string target;  // cluster alias
  Filter topics;
  Naming naming = Naming::prefix;
  std::string separator = ".";
  int replication_factor = -1;  // -1: the target broker's default
  ConfigSync configs;
  bool acls_sync = true;
  GroupSync groups;
  Start start;
  bool exactly_once = false;
  // MM2 replicates `heartbeats` once per cluster pair. Of several flows between the same two clusters,
  // only the first in the spec mirrors (and emits) heartbeats, so the target gets one copy of each.
  bool mirrors_heartbeats = true;
  Location where;

  // The name a selected source topic gets on the target ("A.orders" with prefix naming).
  std::string target_topic(std::string_view source_topic) const;
  // True when the flow replicates this source topic: selected by the filter, not internal to Kafka or
  // MM2/mirror, and not a cycle (a topic that came from this flow's target in the first place).
  bool replicates_topic(std::string_view source_topic) const;
  bool replicates_group(std::string_view group) const { return groups.filter.matches(group); }
};

// A policy rule from the spec's `policies:` list, kept as written; rules are evaluated elsewhere.
struct PolicyRule {
  std::string rule;
  std::string level;
  std::map<std::string, std::string> params;    // other keys; a list's items are joined with "\n"
  std::map<std::string, Location> param_where;  // where each parameter's key was written
  Location where;
};

// Where the spec came from: a file, a folder, or a path inside a git commit.
struct Origin {
  std::string source;                 // path of the file/folder, or the git repository
  std::optional<std::string> commit;  // full SHA when read from git
  std::optional<std::string> ref;     // the ref as given (e.g. "main", "HEAD~1")
  std::string path;                   // path inside the commit (git), or "" for files
};

// A flow recorded in a target's state by another spec (or by an older mirror), named by this spec's
// `adopt:` (take it over: this spec declares a flow of the same name) or `retire:` (forget it and, with
// --allow-delete, delete what it created) lists. docs/spec.md, "Ownership".
struct FlowClaim {
  std::string flow;
  // The spec that recorded the flow (its `name:`). For `retire:` an entry without `spec:` names this
  // spec itself; a flow recorded without an owner matches this spec too (nobody else owns it).
  std::string spec;
  Location where;
};

struct Spec {
  int version = 1;
  // The spec's identity (`name:`), recorded as the owner of every flow it applies. "" when not given:
  // the flows it applies are recorded without an owner (as by mirror before owners existed).
  std::string name;
  Location name_where;
  std::vector<FlowClaim> adopt;
  std::vector<FlowClaim> retire;
  std::map<std::string, Cluster> clusters;
  std::vector<Flow> flows;
  std::vector<PolicyRule> policies;
  Origin origin;
  std::string content_hash;  // sha256 over the files read, in order (hex)

  const Cluster* cluster(std::string_view alias) const;
  const Flow* flow(std::string_view name) const;
  // The adopt: entry naming this flow, or nullptr.
  const FlowClaim* adopted(std::string_view flow) const;
  // Whether the spec's retire: list names this flow as recorded by `owner` (see FlowClaim::spec).
  bool retires(std::string_view flow, std::string_view owner) const;
};

}  // namespace mirror::spec

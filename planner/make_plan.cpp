#include <algorithm>
#include <charconv>
#include <set>
#include <tuple>

#include "common/hash.h"
#include "common/secrets.h"
#include "planner/plan.h"
#include "planner/topic_recreation.h"

namespace mirror::planner {

const char* config_source_name(ConfigSource s) {
  switch (s) {
    case ConfigSource::dynamic_topic: return "dynamic_topic";
    case ConfigSource::dynamic_broker: return "dynamic_broker";
    case ConfigSource::dynamic_default_broker: return "dynamic_default_broker";
    case ConfigSource::static_broker: return "static_broker";
    case ConfigSource::default_config: return "default";
    case ConfigSource::other: return "other";
  }
  return "other";
}

Json acl_json(const Acl& a) {
  return Json{{"resource_type", a.resource_type},
              {"resource_name", a.resource_name},
              {"pattern_type", a.pattern_type},
              {"principal", a.principal},
              {"host", a.host},
              {"operation", a.operation},
              {"permission", a.permission}};
}

std::optional<Acl> acl_from_json(const Json& j) {
  if (!j.is_object()) return std::nullopt;
  Acl a;
  for (auto [field, key] : {std::pair{&a.resource_type, "resource_type"},
                            {&a.resource_name, "resource_name"},
                            {&a.pattern_type, "pattern_type"},
                            {&a.principal, "principal"},
                            {&a.host, "host"},
                            {&a.operation, "operation"},
                            {&a.permission, "permission"}}) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_string()) return std::nullopt;
    *field = it->get<std::string>();
  }
  return a;
}

std::string Acl::str() const {
  return permission + " " + principal + " " + operation + " on " + resource_type + " " + resource_name +
         " (" + pattern_type + ", host " + host + ")";
}

namespace {

struct KindName {
  ActionKind kind;
  const char* name;
};
constexpr KindName kKinds[] = {
    {ActionKind::create_internal_topic, "create_internal_topic"},
    {ActionKind::create_topic, "create_topic"},
    {ActionKind::create_partitions, "create_partitions"},
    {ActionKind::alter_topic_configs, "alter_topic_configs"},
    {ActionKind::create_acl, "create_acl"},
    {ActionKind::delete_acl, "delete_acl"},
    {ActionKind::delete_topic, "delete_topic"},
    {ActionKind::sync_group_offsets, "sync_group_offsets"},
    {ActionKind::start_flow, "start_flow"},
    {ActionKind::update_flow, "update_flow"},
    {ActionKind::retire_flow, "retire_flow"},
};

}  // namespace

const char* action_kind_name(ActionKind k) {
  for (const auto& row : kKinds) {
    if (row.kind == k) return row.name;
  }
  return "unknown";
}

std::optional<ActionKind> action_kind_from_name(std::string_view name) {
  for (const auto& row : kKinds) {
    if (name == row.name) return row.kind;
  }
  return std::nullopt;
}

Change change_of(ActionKind k) {
  switch (k) {
    case ActionKind::create_internal_topic:
    case ActionKind::create_topic:
    case ActionKind::create_acl:
    case ActionKind::start_flow: return Change::create;
    case ActionKind::delete_acl:
    case ActionKind::delete_topic:
    case ActionKind::retire_flow: return Change::remove;
    case ActionKind::create_partitions:
    case ActionKind::alter_topic_configs:
    case ActionKind::sync_group_offsets:
    case ActionKind::update_flow: return Change::update;
  }
  return Change::update;
}

char change_symbol(Change c) {
  switch (c) {
    case Change::create: return '+';
    case Change::update: return '~';
    case Change::remove: return '-';
  }
  return '~';
}

std::string checkpoints_topic(const spec::Flow& flow) { return flow.source + ".checkpoints.internal"; }

std::string flow_revision(const spec::Flow& f) {
  Json j;
  j["name"] = f.name;
  j["source"] = f.source;
  j["target"] = f.target;
  auto sources = [](const std::vector<spec::Pattern>& ps) {
    Json a = Json::array();
    for (const auto& p : ps) a.push_back(p.source());
    return a;
  };
  j["topics"] = {{"include", sources(f.topics.include)}, {"exclude", sources(f.topics.exclude)}};
  j["naming"] = f.naming == spec::Naming::prefix ? "prefix" : "identity";
  j["separator"] = f.separator;
  j["replication_factor"] = f.replication_factor;
  j["configs"] = {{"sync", f.configs.sync}, {"exclude", sources(f.configs.exclude)}};
  j["acls"] = {{"sync", f.acls_sync}};
  j["groups"] = {{"include", sources(f.groups.filter.include)},
                 {"exclude", sources(f.groups.filter.exclude)},
                 {"sync_offsets", f.groups.sync_offsets}};
  j["start"] = f.start.kind == spec::StartKind::earliest ? "earliest"
               : f.start.kind == spec::StartKind::latest
                   ? "latest"
                   : "timestamp:" + std::to_string(f.start.timestamp_ms);
  j["exactly_once"] = f.exactly_once;
  return sha256_hex(j.dump()).substr(0, 16);
}

namespace {

// MM2's rule for which source topic configs are copied (MirrorSourceConnector.targetConfig): values set
// on the topic or dynamically on the brokers, not Kafka's built-in or server.properties defaults, not
// read-only or sensitive entries, and not excluded by the flow.
std::map<std::string, std::string> desired_configs(const spec::Flow& flow, const TopicState& source) {
  std::map<std::string, std::string> out;
  if (!flow.configs.sync) return out;
  for (const auto& [name, c] : source.configs) {
    if (!c.value || c.read_only || c.sensitive) continue;
    if (c.source == ConfigSource::default_config || c.source == ConfigSource::static_broker) continue;
    if (flow.configs.excluded(name)) continue;
    out[name] = *c.value;
  }
  return out;
}

// MM2's ACL sync (MirrorSourceConnector.shouldReplicateAcl/targetAclBinding): LITERAL TOPIC ACLs of
// replicated topics, renamed; ALLOW WRITE dropped (only mirror writes mirrored topics); ALLOW ALL
// becomes ALLOW READ; DENY copied. The literal wildcard "*" is not copied: on the target it would name a
// topic called "<source>.*", which grants nothing useful.
std::optional<Acl> target_acl(const spec::Flow& flow, const Acl& a) {
  if (a.resource_type != "TOPIC" || a.pattern_type != "LITERAL" || a.resource_name == "*")
    return std::nullopt;
  if (!flow.replicates_topic(a.resource_name)) return std::nullopt;
  if (a.permission == "ALLOW" && a.operation == "WRITE") return std::nullopt;
  Acl t = a;
  t.resource_name = flow.target_topic(a.resource_name);
  if (a.permission == "ALLOW" && a.operation == "ALL") t.operation = "READ";
  return t;
}

// Kafka's and MM2's/mirror's own topics (the spec's internal-topic rule): never anybody's orphan.
bool looks_internal(const std::string& t) {
  return t.starts_with("__") || t.starts_with(".") || t.ends_with(".internal") || t.ends_with("-internal") ||
         t == "heartbeats";
}

// What all flows into one target cluster want there.
struct Wants {
  std::set<std::string> topics;
  std::set<Acl> acls;
  bool complete = true;  // false when a flow into this target could not be planned (cluster not observed)
};

// Which of the flows recorded in one target's state this spec manages (docs/state.md, "Ownership").
struct Ownership {
  // Recorded by a flow this spec does not manage (another spec's, an undeclared one, or one whose
  // name this spec declares without owning it): never changed or deleted by this plan.
  std::set<std::string> protected_topics;
  std::set<Acl> protected_acls;
  // Recorded by a flow this spec retires: deleted (with --allow-delete) by retire(), not as orphans.
  std::set<std::string> retired_topics;
  std::set<Acl> retired_acls;
  std::vector<std::string> retired;   // flows this spec retires here
  std::set<std::string> conflicting;  // flows this spec declares that another spec owns
  std::set<std::string> adopting;     // flows this spec declares and adopts from another spec now
};

std::string owner_label(const std::string& owner) {
  return owner.empty() ? "no owner recorded" : "spec " + owner;
}

class Planner {
 public:
  Planner(const spec::Spec& spec, const std::map<std::string, ClusterState>& states,
          const PlanOptions& options)
      : spec_(spec), states_(states), options_(options) {}

  Plan run() {
    plan_.spec = {redact_url_credentials(spec_.origin.source), spec_.origin.commit, spec_.origin.path,
                  spec_.content_hash};
    std::set<std::pair<std::string, std::string>> internal_done;  // (cluster, topic) already planned
    classify();
    for (const auto& flow : spec_.flows) {
      const ClusterState* src = state(flow.source);
      const ClusterState* dst = state(flow.target);
      if (!src || !dst) {
        wants_[flow.target].complete = false;  // what this flow wants there is unknown
        continue;
      }
      if (ownership_[flow.target].conflicting.count(flow.name)) {
        // Another spec's flow of the same name: nothing of it is planned, and since what this flow would
        // want is unknown, nothing on the target is deleted either.
        wants_[flow.target].complete = false;
        continue;
      }
      wants_.try_emplace(dst->alias);
      internal_topic(flow, *dst, kStateTopic,
                     "mirror's state: applied revisions, engine progress, offset map", internal_done);
      internal_topic(flow, *dst, checkpoints_topic(flow),
                     "consumer-group checkpoints in MM2's format, for RemoteClusterUtils.translateOffsets",
                     internal_done);
      topics(flow, *src, *dst);
      recreated_topics(flow, *src, *dst);
      paused_partitions(flow, *dst);
      acls(flow, *src, *dst);
      groups(flow, *src, *dst);
      flow_state(flow, *dst);
    }
    // Orphans only once every flow has said what it wants: a topic one flow no longer selects may be
    // another flow's (two flows between the same clusters with disjoint filters).
    for (const auto& [alias, wants] : wants_) {
      auto it = states_.find(alias);
      if (it == states_.end()) continue;
      if (!wants.complete) {
        for (const auto& flow : ownership_[alias].retired) {
          note(Severity::warning, flow, alias, flow,
               "not retired in this plan: a flow of this spec into " + alias +
                   " could not be planned, so what the target still needs is unknown");
        }
        continue;
      }
      orphan_topics(it->second, wants);
      orphan_acls(it->second, wants);
      retire(it->second, wants);
    }
    unmatched_retires();
    finish();
    return std::move(plan_);
  }

 private:
  const ClusterState* find_state(const std::string& alias) const {
    auto it = states_.find(alias);
    return it == states_.end() ? nullptr : &it->second;
  }
  const ClusterState* state(const std::string& alias) {
    auto it = states_.find(alias);
    if (it != states_.end()) return &it->second;
    note(Severity::error, "", alias, "", "cluster " + alias + " was not observed");
    return nullptr;
  }

  void add(Action a) { plan_.actions.push_back(std::move(a)); }
  void note(Severity s, std::string flow, std::string cluster, std::string resource, std::string message) {
    plan_.diagnostics.push_back(
        {s, std::move(flow), std::move(cluster), std::move(resource), std::move(message)});
  }

  void internal_topic(const spec::Flow& flow, const ClusterState& dst, const std::string& name,
                      const std::string& why, std::set<std::pair<std::string, std::string>>& done) {
    if (!done.insert({dst.alias, name}).second) return;
    if (dst.topics.count(name)) {
      ++plan_.summary.no_op;
      return;
    }
    add({ActionKind::create_internal_topic, "", dst.alias, name, nullptr,
         Json{{"partitions", 1},
              {"replication_factor", flow.replication_factor},
              {"configs", {{"cleanup.policy", "compact"}}}},
         why});
  }

  void topics(const spec::Flow& flow, const ClusterState& src, const ClusterState& dst) {
    for (const auto& [name, st] : src.topics) {
      if (!flow.replicates_topic(name)) {
        // A pattern that gave up on this name (PCRE2's limits) left it out: fail closed, and say so.
        if (auto limit = flow.topics.decide(name).limit) {
          note(Severity::warning, flow.name, flow.source, name,
               "not replicated: the " + std::string(limit->in_exclude ? "exclude" : "include") +
                   " pattern \"" + limit->pattern + "\" (" + limit->where.str() +
                   ") hit the regular-expression engine's limits on this name, so it is left out to be "
                   "safe; simplify the pattern (nested quantifiers such as (a+)+ backtrack without end)");
        }
        continue;
      }
      const std::string target = flow.target_topic(name);
      wants_[dst.alias].topics.insert(target);
      const auto desired = desired_configs(flow, st);
      // Kafka always reports a topic's configs; none means they could not be read (DescribeConfigs denied).
      if (flow.configs.sync && st.configs.empty()) {
        note(Severity::warning, flow.name, flow.source, name,
             "its configs could not be read, so they are not synced to " + dst.alias + ":" + target);
      }
      auto it = dst.topics.find(target);
      record_sizes(flow, name, st, src, dst, target, it == dst.topics.end() ? nullptr : &it->second, desired);
      if (it == dst.topics.end()) {
        add({ActionKind::create_topic, flow.name, dst.alias, target, nullptr,
             Json{{"partitions", st.partitions},
                  {"replication_factor", flow.replication_factor},
                  {"configs", desired},
                  {"source_topic", name}},
             "mirrors " + flow.source + ":" + name});
        continue;
      }
      const TopicState& t = it->second;
      bool changed = false;
      if (t.partitions < st.partitions) {
        add({ActionKind::create_partitions, flow.name, dst.alias, target, Json{{"partitions", t.partitions}},
             Json{{"partitions", st.partitions}},
             "source topic " + flow.source + ":" + name + " has " + std::to_string(st.partitions) +
                 " partitions"});
        changed = true;
      } else if (t.partitions > st.partitions) {
        note(Severity::warning, flow.name, dst.alias, target,
             "has " + std::to_string(t.partitions) + " partitions, more than its source " + flow.source +
                 ":" + name + " (" + std::to_string(st.partitions) +
                 "); Kafka cannot remove partitions, so records keep their "
                 "partition numbers and the extra partitions stay empty");
      }
      if (flow.configs.sync) changed |= configs(flow, name, st, dst.alias, t, desired);
      if (!changed) ++plan_.summary.no_op;
    }
  }

  // Topics deleted and created again since the engine stored its progress (planner/topic_recreation.h):
  // what the engine does about them is no action of the plan's, but a reviewer should know.
  void recreated_topics(const spec::Flow& flow, const ClusterState& src, const ClusterState& dst) {
    for (auto& r : topic_recreations(flow, src, dst)) {
      note(Severity::warning, flow.name, r.cluster, r.topic, std::move(r.reason));
    }
  }

  // Partitions the engine paused by their own errors (the flow's others go on): a reviewer should know.
  void paused_partitions(const spec::Flow& flow, const ClusterState& dst) {
    auto it = dst.paused_partitions.find(flow.name);
    if (it == dst.paused_partitions.end()) return;
    for (const auto& p : it->second) {
      note(Severity::warning, flow.name, flow.source, p.topic,
           "partition " + std::to_string(p.partition) + " is paused by the engine since " + p.since + " (" +
               p.reason + "): " + p.error +
               "; the flow's other partitions continue, and this one resumes by itself once the cause is "
               "fixed (mirror status shows it)");
    }
  }

  // The largest record batch a topic accepts: its max.message.bytes (`planned` when the plan sets it),
  // else the cluster's message.max.bytes; nullopt when neither is known.
  static std::optional<int64_t> record_limit(const TopicState* t, const ClusterState& c,
                                             const std::map<std::string, std::string>* planned) {
    auto parse = [](const std::string& v) -> std::optional<int64_t> {
      int64_t n = 0;
      auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
      if (ec != std::errc() || p != v.data() + v.size()) return std::nullopt;
      return n;
    };
    if (planned) {
      if (auto p = planned->find("max.message.bytes"); p != planned->end()) return parse(p->second);
    }
    if (t) {
      if (auto v = t->configs.find("max.message.bytes"); v != t->configs.end() && v->second.value) {
        return parse(*v->second.value);
      }
    }
    if (auto b = c.broker_configs.find("message.max.bytes"); b != c.broker_configs.end() && b->second.value) {
      return parse(*b->second.value);
    }
    return std::nullopt;
  }

  // A target that accepts smaller records than its source would refuse (and pause on) a record the
  // source took: warn before it happens.
  void record_sizes(const spec::Flow& flow, const std::string& name, const TopicState& st,
                    const ClusterState& src, const ClusterState& dst, const std::string& target,
                    const TopicState* t, const std::map<std::string, std::string>& desired) {
    const auto source_limit = record_limit(&st, src, nullptr);
    const auto target_limit = record_limit(t, dst, flow.configs.sync ? &desired : nullptr);
    if (!source_limit || !target_limit || *target_limit >= *source_limit) return;
    note(Severity::warning, flow.name, dst.alias, target,
         "accepts records of up to " + std::to_string(*target_limit) + " bytes, fewer than the " +
             std::to_string(*source_limit) + " its source " + flow.source + ":" + name +
             " accepts: a larger record would pause this partition until the limit is raised; set "
             "max.message.bytes on " +
             dst.alias + ":" + target + " (or on " + dst.alias +
             "'s brokers: message.max.bytes) to at least the source's");
  }

  bool configs(const spec::Flow& flow, const std::string& source_name, const TopicState& src,
               const std::string& cluster, const TopicState& t,
               const std::map<std::string, std::string>& desired) {
    // Unknown configs on either side: resetting or setting blind could undo a whole topic's settings.
    if (src.configs.empty() || t.configs.empty()) return false;
    Json set = Json::object(), reset = Json::array(), before = Json::object();
    for (const auto& [k, v] : desired) {
      auto c = t.configs.find(k);
      std::optional<std::string> current = c == t.configs.end() ? std::nullopt : c->second.value;
      // A value that already matches (even a broker default that happens to be equal) is not drift.
      if (current == v) continue;
      set[k] = v;
      before[k] = current ? Json(*current) : Json(nullptr);
    }
    for (const auto& [k, c] : t.configs) {
      if (c.source != ConfigSource::dynamic_topic || desired.count(k) || flow.configs.excluded(k)) continue;
      // Reset only what is a default on the source; a value the source takes from its own brokers'
      // static config is not copied, and the target's override is left alone (as MM2 does).
      auto s = src.configs.find(k);
      if (s != src.configs.end() && s->second.source != ConfigSource::default_config) continue;
      reset.push_back(k);
      before[k] = c.value ? Json(*c.value) : Json(nullptr);
    }
    if (set.empty() && reset.empty()) return false;
    add({ActionKind::alter_topic_configs, flow.name, cluster, t.name, before,
         Json{{"set", set}, {"reset", reset}},
         "source topic " + flow.source + ":" + source_name + " configs differ"});
    return true;
  }

  // Sorts every flow recorded in the spec's targets into: this spec's (declared, and recorded by it, by
  // no one, or adopted now), conflicting (declared here, owned by another spec), retired (named by
  // retire:), or not managed (everything else). Only this spec's and retired flows' resources can ever
  // be deleted by this plan.
  void classify() {
    std::set<std::string> targets;
    for (const auto& f : spec_.flows) targets.insert(f.target);
    for (const auto& alias : targets) {
      const ClusterState* dst = find_state(alias);
      if (!dst) continue;
      Ownership& own = ownership_[alias];
      auto protect = [&](const AppliedFlow& r) {
        own.protected_topics.insert(r.managed_topics.begin(), r.managed_topics.end());
        own.protected_acls.insert(r.managed_acls.begin(), r.managed_acls.end());
      };
      for (const auto& [name, r] : dst->applied) {
        const spec::Flow* f = spec_.flow(name);
        if (f && f->target == alias) {
          if (r.owner.empty() || r.owner == spec_.name) continue;  // this spec's
          const spec::FlowClaim* adopt = spec_.adopted(name);
          if (adopt && adopt->spec == r.owner) {
            own.adopting.insert(name);
            continue;
          }
          own.conflicting.insert(name);
          protect(r);
          note(Severity::error, name, alias, name,
               "this spec declares flow " + name + ", but " + alias + "'s state records it as spec " +
                   r.owner + "'s, not " +
                   (spec_.name.empty() ? "this unnamed spec's" : "spec " + spec_.name + "'s") +
                   ": nothing of it is planned and nothing on " + alias +
                   " is deleted. Rename this spec's flow, or take it over with adopt: [{flow: " + name +
                   ", spec: " + r.owner + "}]" +
                   (adopt ? " (the adopt: entry names spec " + adopt->spec + ")" : ""));
        } else if (spec_.retires(name, r.owner)) {
          own.retired.push_back(name);
          own.retired_topics.insert(r.managed_topics.begin(), r.managed_topics.end());
          own.retired_acls.insert(r.managed_acls.begin(), r.managed_acls.end());
        } else {
          protect(r);
          plan_.not_managed.push_back({alias, name, r.owner, static_cast<int>(r.managed_topics.size()),
                                       static_cast<int>(r.managed_acls.size())});
        }
      }
    }
  }

  // A retired flow: its record is forgotten (retire_flow) and, with --allow-delete, the topics and ACLs
  // it created are deleted, unless this spec wants them or a flow it does not manage recorded them too.
  void retire(const ClusterState& dst, const Wants& wants) {
    const Ownership& own = ownership_[dst.alias];
    const std::set<Acl> present(dst.acls.begin(), dst.acls.end());
    for (const auto& name : own.retired) {
      const AppliedFlow& r = dst.applied.at(name);
      int kept_topics = 0, kept_acls = 0, deleted = 0;
      for (const auto& t : r.managed_topics) {
        auto it = dst.topics.find(t);
        if (it == dst.topics.end() || wants.topics.count(t) || own.protected_topics.count(t)) continue;
        if (!options_.allow_delete) {
          ++kept_topics;
          continue;
        }
        add({ActionKind::delete_topic, name, dst.alias, t, Json{{"partitions", it->second.partitions}},
             nullptr, "created by flow " + name + ", which this spec retires"});
        ++deleted;
      }
      for (const auto& a : r.managed_acls) {
        if (!present.count(a) || wants.acls.count(a) || own.protected_acls.count(a)) continue;
        if (!options_.allow_delete) {
          ++kept_acls;
          continue;
        }
        add({ActionKind::delete_acl, name, dst.alias, a.str(), acl_json(a), nullptr,
             "created by flow " + name + ", which this spec retires"});
        ++deleted;
      }
      std::string why = "retire: in the spec (" + owner_label(r.owner) + "): mirror forgets the flow";
      if (deleted > 0) why += " after deleting the " + std::to_string(deleted) + " resource(s) it created";
      if (kept_topics + kept_acls > 0) {
        why += "; the " + std::to_string(kept_topics) + " topic(s) and " + std::to_string(kept_acls) +
               " ACL(s) it created stay, and mirror no longer deletes them (plan with --allow-delete to "
               "delete them with it)";
      }
      add({ActionKind::retire_flow, name, dst.alias, name,
           Json{{"revision", r.revision},
                {"spec_commit", r.spec_commit},
                {"owner", r.owner.empty() ? Json(nullptr) : Json(r.owner)}},
           nullptr, why});
    }
  }

  // retire: entries that named no flow recorded in any target: the reviewer should know nothing happens.
  void unmatched_retires() {
    for (const auto& c : spec_.retire) {
      bool found = false;
      std::string elsewhere;
      for (const auto& [alias, own] : ownership_) {
        found |= std::find(own.retired.begin(), own.retired.end(), c.flow) != own.retired.end();
        const ClusterState* dst = find_state(alias);
        if (!dst) continue;
        if (auto it = dst->applied.find(c.flow); it != dst->applied.end())
          elsewhere = alias + " records it with " + owner_label(it->second.owner);
      }
      if (found) continue;
      note(Severity::warning, c.flow, "", c.flow,
           "retire: nothing to retire: no target of this spec records flow " + c.flow + " as " +
               (c.spec.empty() ? (spec_.name.empty() ? std::string("unowned") : "spec " + spec_.name + "'s")
                               : "spec " + c.spec + "'s") +
               (elsewhere.empty() ? "" : " (" + elsewhere + ")"));
    }
  }

  // The flows into `target` that may have created a topic (or its ACLs) of this name: the prefix flows
  // whose "<source><separator>" starts it, else the identity flows. Empty: not mirror's business.
  std::vector<const spec::Flow*> owners(const std::string& target, const std::string& name) const {
    std::vector<const spec::Flow*> prefixed, identity;
    for (const auto& f : spec_.flows) {
      if (f.target != target) continue;
      const std::string p = f.source + f.separator;
      if (f.naming == spec::Naming::identity) {
        identity.push_back(&f);
      } else if (name.size() > p.size() && name.starts_with(p)) {
        prefixed.push_back(&f);
      }
    }
    return prefixed.empty() ? identity : prefixed;
  }

  // Target topics that look like they came from a flow's source but that no flow wants any more.
  void orphan_topics(const ClusterState& dst, const Wants& wants) {
    const Ownership& own = ownership_[dst.alias];
    for (const auto& [name, t] : dst.topics) {
      if (wants.topics.count(name) || looks_internal(name)) continue;
      // Another spec's (or a flow this spec does not manage): summarised once in not_managed.
      if (own.protected_topics.count(name) || own.retired_topics.count(name)) continue;
      const auto flows = owners(dst.alias, name);
      if (flows.empty()) continue;
      const spec::Flow& flow = *flows.front();
      const bool managed =
          std::find(dst.managed_topics.begin(), dst.managed_topics.end(), name) != dst.managed_topics.end();
      // With identity naming only the applied record says a topic came from the source.
      if (flow.naming == spec::Naming::identity && !managed) continue;
      const std::string upstream = flow.naming == spec::Naming::prefix
                                       ? name.substr(flow.source.size() + flow.separator.size())
                                       : name;
      const ClusterState* src = find_state(flow.source);
      const bool gone = src && !src->topics.count(upstream);
      const std::string why = gone ? "its source topic " + flow.source + ":" + upstream + " no longer exists"
                                   : "the flow no longer selects " + flow.source + ":" + upstream;
      if (options_.allow_delete && managed) {
        add({ActionKind::delete_topic, flow.name, dst.alias, name, Json{{"partitions", t.partitions}},
             nullptr, "orphan: " + why});
      } else {
        note(Severity::warning, flow.name, dst.alias, name,
             "drift: orphaned mirrored topic (" + why + ")" +
                 (managed
                      ? "; plan with --allow-delete to delete it"
                      : "; mirror did not create it (no applied record), so it is never deleted by mirror"));
      }
    }
  }

  // ACLs mirror created (recorded in the applied state) that no flow wants any more; only these are ever
  // removed. Skipped when a flow that may own the ACL did not sync ACLs (its wants are unknown).
  void orphan_acls(const ClusterState& dst, const Wants& wants) {
    const std::set<Acl> present(dst.acls.begin(), dst.acls.end());
    const Ownership& own = ownership_[dst.alias];
    for (const auto& a : dst.managed_acls) {
      if (a.resource_type != "TOPIC" || wants.acls.count(a) || !present.count(a)) continue;
      if (own.protected_acls.count(a) || own.retired_acls.count(a)) continue;
      const auto flows = owners(dst.alias, a.resource_name);
      if (flows.empty() || std::any_of(flows.begin(), flows.end(),
                                       [&](const spec::Flow* f) { return !acls_synced_.count(f->name); })) {
        continue;
      }
      const spec::Flow& flow = *flows.front();
      if (options_.allow_delete) {
        add({ActionKind::delete_acl, flow.name, dst.alias, a.str(), acl_json(a), nullptr,
             "no longer on the source"});
      } else {
        note(Severity::warning, flow.name, dst.alias, a.str(),
             "drift: ACL mirror created is no longer on the source; plan with --allow-delete to delete it");
      }
    }
  }

  void acls(const spec::Flow& flow, const ClusterState& src, const ClusterState& dst) {
    if (!flow.acls_sync) return;
    if (!src.acls_observed || !dst.acls_observed) {
      const ClusterState& missing = !src.acls_observed ? src : dst;
      note(Severity::warning, flow.name, missing.alias, "",
           "cluster " + missing.alias +
               " has no authorizer (or its ACLs could not be read): ACL sync is skipped for this flow");
      return;
    }
    acls_synced_.insert(flow.name);
    std::map<Acl, Acl> desired;  // target ACL -> the (first) source ACL it comes from
    for (const auto& a : src.acls) {
      if (auto t = target_acl(flow, a)) desired.emplace(*t, a);
    }
    const std::set<Acl> present(dst.acls.begin(), dst.acls.end());
    for (const auto& [a, from] : desired) {
      wants_[dst.alias].acls.insert(a);
      if (present.count(a)) {
        ++plan_.summary.no_op;
        continue;
      }
      std::string why = "mirrors " + flow.source + ":" + from.resource_name + " " + from.permission + " " +
                        from.principal + " " + from.operation;
      if (from.operation != a.operation) why += " (ALL becomes READ: only mirror writes to mirrored topics)";
      add({ActionKind::create_acl, flow.name, dst.alias, a.str(), nullptr, acl_json(a), why});
    }
  }

  // Consumer groups: every selected group is reported; a group that mirror may and should write gets a
  // sync_group_offsets action with exactly the partitions to write (planner/group_sync.h).
  void groups(const spec::Flow& flow, const ClusterState& src, const ClusterState& dst) {
    for (auto& r : group_reports(flow, src, dst)) {
      if (r.writes()) {
        Json before{{"state", r.target_state}, {"members", r.target_members}, {"offsets", Json::array()}};
        Json after{{"offsets", Json::array()}};
        std::string why = r.reason;
        for (const auto& p : r.partitions) {
          if (p.decision != GroupDecision::write && p.decision != GroupDecision::rewound) continue;
          if (p.target_offset) {
            before["offsets"].push_back(
                {{"topic", p.target_topic}, {"partition", p.partition}, {"offset", *p.target_offset}});
          }
          after["offsets"].push_back({{"topic", p.target_topic},
                                      {"partition", p.partition},
                                      {"offset", *p.translated},
                                      {"source_topic", p.topic},
                                      {"source_offset", p.source_offset}});
          if (p.decision == GroupDecision::rewound) {
            why +=
                "; " + p.target_topic + "[" + std::to_string(p.partition) + "] moves backwards: " + p.detail;
          }
        }
        add({ActionKind::sync_group_offsets, flow.name, dst.alias, r.group, before, after, why});
      } else {
        ++plan_.summary.no_op;
      }
      plan_.groups.push_back(std::move(r));
    }
  }

  void flow_state(const spec::Flow& flow, const ClusterState& dst) {
    const std::string rev = flow_revision(flow);
    // A named spec records itself as the owner (an unnamed one records none, as before owners existed).
    const bool named = !spec_.name.empty();
    Json after{{"revision", rev},
               {"spec_commit", spec_.origin.commit ? Json(*spec_.origin.commit) : Json(nullptr)}};
    if (named) after["owner"] = spec_.name;
    auto it = dst.applied.find(flow.name);
    auto before = [&](Json j) {
      if (named) j["owner"] = it->second.owner.empty() ? Json(nullptr) : Json(it->second.owner);
      return j;
    };
    if (it == dst.applied.end()) {
      add({ActionKind::start_flow, flow.name, dst.alias, flow.name, nullptr, after,
           "the engine has never run this flow"});
    } else if (ownership_[dst.alias].adopting.count(flow.name)) {
      add({ActionKind::update_flow, flow.name, dst.alias, flow.name,
           before(Json{{"revision", it->second.revision}, {"spec_commit", it->second.spec_commit}}), after,
           "adopt: in the spec: spec " + spec_.name + " takes the flow over from spec " + it->second.owner +
               " (and, from now on, the resources it created)"});
    } else if (!it->second.failed_over_at.empty()) {
      add({ActionKind::update_flow, flow.name, dst.alias, flow.name,
           before(Json{{"revision", it->second.revision},
                       {"spec_commit", it->second.spec_commit},
                       {"failed_over_at", it->second.failed_over_at}}),
           after,
           "the flow was failed over by " + it->second.failed_over_by + " at " + it->second.failed_over_at +
               " (mirror failover): applying resumes replication " + flow.source + " -> " + flow.target});
    } else if (it->second.revision != rev) {
      add({ActionKind::update_flow, flow.name, dst.alias, flow.name,
           before(Json{{"revision", it->second.revision}, {"spec_commit", it->second.spec_commit}}), after,
           "the flow's definition changed since it was applied"});
    } else if (named && it->second.owner.empty()) {
      add({ActionKind::update_flow, flow.name, dst.alias, flow.name,
           before(Json{{"revision", it->second.revision}, {"spec_commit", it->second.spec_commit}}), after,
           "records spec " + spec_.name +
               " as the flow's owner: it was applied without one (by an unnamed spec, or a mirror before "
               "owners)"});
    } else {
      ++plan_.summary.no_op;
    }
  }

  void finish() {
    auto order = [](const Action& a) {
      return std::make_tuple(static_cast<int>(a.kind), a.cluster, a.flow, a.resource);
    };
    std::stable_sort(plan_.actions.begin(), plan_.actions.end(),
                     [&](const Action& x, const Action& y) { return order(x) < order(y); });
    for (const auto& a : plan_.actions) {
      switch (change_of(a.kind)) {
        case Change::create: ++plan_.summary.create; break;
        case Change::update: ++plan_.summary.update; break;
        case Change::remove: ++plan_.summary.remove; break;
      }
    }
    std::stable_sort(plan_.diagnostics.begin(), plan_.diagnostics.end(), [](const Note& x, const Note& y) {
      return std::tie(x.cluster, x.flow, x.resource, x.message) <
             std::tie(y.cluster, y.flow, y.resource, y.message);
    });
    std::sort(plan_.not_managed.begin(), plan_.not_managed.end());
    plan_.fingerprint = plan_fingerprint(plan_);
  }

  const spec::Spec& spec_;
  const std::map<std::string, ClusterState>& states_;
  const PlanOptions& options_;
  Plan plan_;
  std::map<std::string, Wants> wants_;  // target alias -> what all flows into it want
  std::set<std::string> acls_synced_;   // flows whose ACLs were compared (sync on, both sides observed)
  std::map<std::string, Ownership> ownership_;  // target alias -> its recorded flows, sorted by classify()
};

}  // namespace

std::string plan_fingerprint(const Plan& plan) {
  Json f{{"spec", plan.spec.content_hash},
         {"commit", plan.spec.commit ? Json(*plan.spec.commit) : Json(nullptr)}};
  Json acts = Json::array();
  for (const auto& a : plan.actions) {
    acts.push_back(Json::array({action_kind_name(a.kind), a.flow, a.cluster, a.resource, a.before, a.after}));
  }
  f["actions"] = std::move(acts);
  // Names read from clusters may be invalid UTF-8: replaced rather than thrown on (the full comparison
  // of actions in apply still tells such names apart).
  return sha256_hex(f.dump(-1, ' ', false, Json::error_handler_t::replace));
}

Plan make_plan(const spec::Spec& spec, const std::map<std::string, ClusterState>& states,
               const PlanOptions& options) {
  return Planner(spec, states, options).run();
}

}  // namespace mirror::planner

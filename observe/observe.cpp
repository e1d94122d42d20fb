#include "observe/observe.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "common/redact.h"
#include "common/secrets.h"
#include "kafka/admin.h"
#include "offsets/mm2_format.h"
#include "state/progress.h"
#include "state/state.h"

namespace mirror::observe {

namespace {

using Clock = std::chrono::steady_clock;

planner::ConfigSource convert(kafka::ConfigSource s) {
  switch (s) {
    case kafka::ConfigSource::dynamic_topic: return planner::ConfigSource::dynamic_topic;
    case kafka::ConfigSource::dynamic_broker: return planner::ConfigSource::dynamic_broker;
    case kafka::ConfigSource::dynamic_default_broker: return planner::ConfigSource::dynamic_default_broker;
    case kafka::ConfigSource::static_broker: return planner::ConfigSource::static_broker;
    case kafka::ConfigSource::default_config: return planner::ConfigSource::default_config;
    default: return planner::ConfigSource::other;
  }
}

planner::Acl convert(const kafka::AclBinding& b) {
  return {kafka::acl_resource_type_name(b.resource_type),
          b.resource_name,
          kafka::acl_pattern_type_name(b.pattern_type),
          b.principal,
          b.host,
          kafka::acl_operation_name(b.operation),
          kafka::acl_permission_name(b.permission)};
}

std::string fmt(const kafka::Error& e) {
  std::string s = e.describe();
  if (auto h = e.hint(); !h.empty()) s += "\n  hint: " + h;
  return s;
}

class Timer {
 public:
  Timer(const Options& o, std::string what) : o_(o), what_(std::move(what)), start_(Clock::now()) {}
  void done(const std::string& detail) {
    if (!o_.log) return;
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start_).count();
    o_.log(what_ + ": " + detail + " (" + std::to_string(ms) + " ms)");
  }

 private:
  const Options& o_;
  std::string what_;
  Clock::time_point start_;
};

// Phase 1: who the cluster is and which topics it has (one metadata request).
Result<planner::ClusterState, std::string> observe_metadata(kafka::Admin& admin, const std::string& alias,
                                                            const Options& options) {
  planner::ClusterState st;
  st.alias = alias;
  {
    Timer t(options, alias + ": describe cluster");
    auto info = admin.describe_cluster();
    if (!info) return fail(fmt(info.error()));
    st.cluster_id = info->cluster_id;
    t.done("cluster id " + st.cluster_id + ", " + std::to_string(info->brokers.size()) + " broker(s)");
    if (!info->brokers.empty()) {
      // The defaults new topics get (policies judge them). Optional: a principal without DESCRIBE_CONFIGS
      // on the cluster still plans; the policies then say what they could not verify.
      Timer b(options, alias + ": describe broker configs");
      int32_t id = info->brokers.front().id;
      for (const auto& br : info->brokers) id = std::min(id, br.id);
      auto cfg = admin.describe_broker_configs(id);
      if (cfg) {
        for (const auto& e : cfg->entries) {
          st.broker_configs[e.name] = {e.value, convert(e.source), e.read_only, e.sensitive};
        }
        b.done(std::to_string(cfg->entries.size()) + " setting(s) of broker " + std::to_string(id));
      } else {
        b.done("not readable (" + cfg.error().message + "); policies on cluster defaults cannot verify them");
      }
    }
  }
  Timer t(options, alias + ": metadata");
  auto topics = admin.list_topics();
  if (!topics) return fail(fmt(topics.error()));
  for (const auto& ti : *topics) {
    st.topics[ti.name] = {ti.name, static_cast<int>(ti.partitions.size()), ti.replication_factor(), {}};
  }
  t.done(std::to_string(topics->size()) + " topic(s)");
  return st;
}

// Phase 2: configs of the topics that matter, ACLs, and the selected consumer groups.
Result<void, std::string> observe_details(kafka::Admin& admin, planner::ClusterState& st, const Scope& scope,
                                          const Options& options) {
  if (scope.configs) {
    std::vector<std::string> names;
    for (const auto& n : scope.config_topics) {
      if (st.topics.count(n)) names.push_back(n);
    }
    Timer t(options, st.alias + ": describe configs");
    auto cfgs = admin.describe_topic_configs(names);
    if (!cfgs) return fail(fmt(cfgs.error()));
    for (const auto& tc : *cfgs) {
      if (tc.error) {
        if (tc.error->code == kafka::Errc::not_found) continue;  // deleted meanwhile
        return fail(fmt(*tc.error));
      }
      auto& topic = st.topics[tc.topic];
      for (const auto& e : tc.entries) {
        topic.configs[e.name] = {e.value, convert(e.source), e.read_only, e.sensitive};
      }
    }
    t.done(std::to_string(names.size()) + " topic(s) in one request");
  }
  if (scope.configs && !scope.config_topics.empty()) {
    // Watermarks of every partition of the topics that matter: one ListOffsets batch (two rounds,
    // earliest and latest), whatever the number of topics.
    std::vector<kafka::OffsetQuery> queries;
    for (const auto& n : scope.config_topics) {
      auto it = st.topics.find(n);
      if (it == st.topics.end()) continue;
      for (int32_t p = 0; p < it->second.partitions; ++p) {
        queries.push_back({{n, p}, kafka::OffsetSpec::earliest});
        queries.push_back({{n, p}, kafka::OffsetSpec::latest});
      }
    }
    Timer t(options, st.alias + ": watermarks");
    auto offsets = admin.list_offsets(queries);
    if (!offsets) return fail(fmt(offsets.error()));
    for (size_t i = 0; i + 1 < offsets->size(); i += 2) {
      const auto& lo = (*offsets)[i];
      const auto& hi = (*offsets)[i + 1];
      if (lo.error || hi.error) continue;  // a partition without a leader right now: no watermarks
      st.topics[lo.tp.topic].watermarks[lo.tp.partition] = {lo.offset, hi.offset};
    }
    t.done(std::to_string(queries.size() / 2) + " partition(s)");
  }
  if (!scope.config_topics.empty()) {
    // The same topics' ids (one DescribeTopics request), so the planner tells a recreated topic from
    // the one the engine's progress is about. Optional like the broker configs: without them no topic
    // is taken for recreated.
    std::vector<std::string> names;
    for (const auto& n : scope.config_topics) {
      if (st.topics.count(n)) names.push_back(n);
    }
    Timer t(options, st.alias + ": topic ids");
    auto ids = admin.topic_ids(names);
    if (ids) {
      for (const auto& [name, id] : *ids) {
        if (auto it = st.topics.find(name); it != st.topics.end()) it->second.id = id;
      }
      t.done(std::to_string(ids->size()) + " topic(s)");
    } else {
      t.done("not readable (" + ids.error().message + "); recreated topics cannot be told apart");
    }
  }
  if (scope.acls) {
    Timer t(options, st.alias + ": describe ACLs");
    auto acls = admin.describe_acls({.resource_type = kafka::AclResourceType::topic});
    if (acls) {
      st.acls_observed = true;
      for (const auto& b : *acls) st.acls.push_back(convert(b));
      std::sort(st.acls.begin(), st.acls.end());
      t.done(std::to_string(st.acls.size()) + " topic ACL(s)");
    } else if (acls.error().code == kafka::Errc::authorization ||
               acls.error().kafka_code == "SECURITY_DISABLED") {
      t.done("not available: " + acls.error().message);  // the planner says ACL sync is skipped
    } else {
      return fail(fmt(acls.error()));
    }
  }
  if (scope.group_selected) {
    Timer t(options, st.alias + ": consumer groups");
    auto groups = observe_groups(admin, scope.group_selected);
    if (!groups) return fail(std::move(groups).error());
    t.done(std::to_string(groups->size()) + " selected");
    st.groups = std::move(*groups);
  }
  return {};
}

}  // namespace

Result<std::map<std::string, planner::GroupState>, std::string> observe_groups(
    kafka::Admin& admin, const std::function<bool(const std::string&)>& selected) {
  std::map<std::string, planner::GroupState> out;
  auto groups = admin.list_groups();
  if (!groups) return fail(fmt(groups.error()));
  std::vector<std::string> ids;
  for (const auto& g : *groups) {
    if (selected(g.group_id)) ids.push_back(g.group_id);
  }
  if (ids.empty()) return out;
  auto desc = admin.describe_groups(ids);
  if (!desc) return fail(fmt(desc.error()));
  for (const auto& d : *desc) {
    planner::GroupState gs{d.group_id, kafka::group_state_name(d.state), d.member_count, {}};
    auto offsets = admin.list_group_offsets(d.group_id);
    if (!offsets) return fail(fmt(offsets.error()));
    for (const auto& o : *offsets) gs.offsets[{o.topic, o.partition}] = o.offset;
    out[d.group_id] = std::move(gs);
  }
  return out;
}

Result<kafka::ClientConfig, std::string> client_config(const spec::Cluster& cluster,
                                                       const spec::Resolver& resolver,
                                                       const Options& options) {
  const spec::OperatorSettings& settings = resolver.settings;
  kafka::ClientConfig c;
  c.alias = cluster.alias;
  // The loader refuses all of this with file:line:col; checked again here, just before connecting, for a
  // Spec that did not come through it.
  if (cluster.bootstrap.has_references()) {
    return fail(cluster.bootstrap.where.str() + ": error: bootstrap of cluster " + cluster.alias +
                " cannot use a reference\n  hint: write the brokers literally");
  }
  c.bootstrap = cluster.bootstrap.raw;
  if (auto refused = spec::refused_bootstrap_entries(c.bootstrap, settings); !refused.empty()) {
    return fail(
        cluster.bootstrap.where.str() + ": error: bootstrap broker " + refused.front() + " of cluster " +
        cluster.alias +
        " is not allowed by this runner's MIRROR_ALLOW_BOOTSTRAP; mirror did not connect\n  hint: use "
        "a broker the operator allows, or have the operator add it to MIRROR_ALLOW_BOOTSTRAP (in "
        "mirror's environment, not in the spec)");
  }
  for (const auto& [k, v] : cluster.client) {
    const std::string at = v.where.str() + ": error: client property " + k + " of cluster " + cluster.alias;
    if (spec::check_client_property(k, settings).verdict != spec::PropertyCheck::Verdict::allowed) {
      return fail(
          at + " is not allowed\n  hint: the operator can allow it with MIRROR_ALLOW_CLIENT_PROPERTIES=" + k);
    }
    const bool referenced = v.has_references();
    if (referenced && !spec::references_allowed_in(k)) {
      return fail(at + " cannot use a reference\n  hint: references are for credentials only");
    }
    auto r = spec::resolve(v, resolver);
    if (!r) return fail(spec::format_text(r.error()));
    // File locations and URLs name where a secret is, not the secret; every other secret property's value
    // (literal or not) and every value read from a reference never appears in mirror's output.
    if (referenced || (is_secret_property(k) && !spec::names_a_place(k))) register_secret(*r);
    if (auto problem = spec::check_property_value(k, *r, settings)) {
      return fail(v.where.str() + ": error: " + *problem + " in cluster " + cluster.alias);
    }
    if (spec::is_file_location_property(k)) {
      if (auto problem = spec::check_location(k, *r)) {
        return fail(v.where.str() + ": error: " + *problem + " in cluster " + cluster.alias);
      }
    }
    c.properties[k] = *r;
  }
  c.timeout = options.timeout;
  c.stop = options.stop;
  // Troubleshooting: MIRROR_KAFKA_DEBUG=protocol,broker,... turns on librdkafka's debug contexts and
  // prints its log lines to stderr, with every registered secret value cut out (common/redact.h).
  if (const char* dbg = std::getenv("MIRROR_KAFKA_DEBUG"); dbg && *dbg) {
    c.properties["debug"] = dbg;
    c.log = [alias = cluster.alias](int level, std::string_view facility, std::string_view message) {
      const std::string line = redact("librdkafka " + alias + " " + std::to_string(level) + " " +
                                      std::string(facility) + ": " + std::string(message) + "\n");
      std::fputs(line.c_str(), stderr);
    };
  }
  return c;
}

Result<std::map<std::string, planner::ClusterState>, std::string> observe_spec(const spec::Spec& spec,
                                                                               const spec::Resolver& resolver,
                                                                               const Options& options) {
  std::map<std::string, kafka::Admin> admins;
  std::map<std::string, planner::ClusterState> out;
  for (const auto& f : spec.flows) {
    for (const std::string& alias : {f.source, f.target}) {
      if (admins.count(alias)) continue;
      const spec::Cluster* c = spec.cluster(alias);
      if (!c) return fail("cluster " + alias + " is not defined in the spec");
      auto cfg = client_config(*c, resolver, options);
      if (!cfg) return fail(std::move(cfg).error());
      auto admin = kafka::Admin::connect(*cfg);
      if (!admin) return fail(fmt(admin.error()));
      auto st = observe_metadata(*admin, alias, options);
      if (!st) return fail(std::move(st).error());
      out[alias] = std::move(*st);
      admins.emplace(alias, std::move(*admin));
    }
  }
  // Now that the topics are known: the configs each cluster must show, and the groups to read.
  std::map<std::string, Scope> scopes;
  for (const auto& f : spec.flows) {
    scopes[f.target];
    auto& src_scope = scopes[f.source];
    for (const auto& [name, t] : out[f.source].topics) {
      if (!f.replicates_topic(name)) continue;
      src_scope.config_topics.insert(name);
      scopes[f.target].config_topics.insert(f.target_topic(name));
    }
  }
  for (auto& [alias, scope] : scopes) {
    // Groups a flow selects, on its source (what they committed) and on its target (where the
    // translated offsets would go: same group ids).
    std::vector<const spec::Flow*> touching;
    for (const auto& f : spec.flows) {
      if (f.source == alias || f.target == alias) touching.push_back(&f);
    }
    if (!touching.empty()) {
      scope.group_selected = [touching](const std::string& g) {
        return std::any_of(touching.begin(), touching.end(),
                           [&](const spec::Flow* f) { return f->replicates_group(g); });
      };
    }
    auto r = observe_details(admins.at(alias), out[alias], scope, options);
    if (!r) return fail(std::move(r).error());
  }
  // What mirror applied before, recorded in each target cluster.
  std::set<std::string> targets;
  for (const auto& f : spec.flows) targets.insert(f.target);
  for (const auto& alias : targets) {
    if (!out[alias].topics.count(state::kTopic)) continue;
    Timer t(options, alias + ": applied state");
    auto cfg = client_config(*spec.cluster(alias), resolver, options);
    if (!cfg) return fail(std::move(cfg).error());
    auto records = state::read_applied_checked(*cfg);
    if (!records) return fail(fmt(records.error()));
    for (const auto& s : records->skipped) {
      if (options.skipped) options.skipped(s);
    }
    state::merge_into(records->records, out[alias]);
    t.done(std::to_string(records->records.size()) + " applied flow(s)");
  }
  // What the engine recorded there: the offset maps (to translate group offsets) and the checkpoints.
  for (const auto& alias : targets) {
    planner::ClusterState& st = out[alias];
    auto cfg = client_config(*spec.cluster(alias), resolver, options);
    if (!cfg) return fail(std::move(cfg).error());
    if (st.topics.count(state::kProgressTopic)) {
      Timer t(options, alias + ": offset maps");
      auto n = read_offset_maps(*cfg, "", st, options.skipped);
      if (!n) return fail(std::move(n).error());
      t.done(std::to_string(*n) + " partition(s)");
    }
    std::set<std::string> sources;
    for (const auto& f : spec.flows) {
      if (f.target == alias) sources.insert(f.source);
    }
    for (const auto& source : sources) {
      if (!st.topics.count(offsets::checkpoints_topic(source))) continue;
      Timer t(options, alias + ": " + offsets::checkpoints_topic(source));
      auto n = read_checkpoints(*cfg, source, st);
      if (!n) return fail(std::move(n).error());
      t.done(std::to_string(*n) + " checkpoint(s)");
    }
  }
  return out;
}

Result<size_t, std::string> read_offset_maps(const kafka::ClientConfig& target, const std::string& flow,
                                             planner::ClusterState& into,
                                             const std::function<void(const state::Skipped&)>& skipped) {
  // An unreadable record leaves the previous readable one of its partition (or none: no offset map, so
  // that partition's group offsets are not translated) in place.
  // Every flow's progress and engine status ("engine/<flow>": the partitions it paused), in one read.
  auto records = state::read_progress(target, flow.empty() ? "" : "progress/" + flow + "/");
  if (!records) return fail(fmt(records.error()));
  for (const auto& s : records->skipped) {
    if (skipped) skipped(s);
  }
  for (auto& [key, p] : records->progress) {
    into.offset_maps[p.flow][{p.source_topic, p.partition}] = std::move(p.map);
    into.stored_topic_ids[p.flow][{p.source_topic, p.partition}] = {
        std::move(p.target_topic), std::move(p.source_topic_id), std::move(p.target_topic_id)};
  }
  for (const auto& [key, s] : records->statuses) {
    for (const auto& p : s.paused) {
      into.paused_partitions[s.flow].push_back({p.topic, p.partition, p.reason, p.error, p.since});
    }
  }
  return records->progress.size();
}

Result<size_t, std::string> read_checkpoints(const kafka::ClientConfig& target, const std::string& source,
                                             planner::ClusterState& into) {
  auto records = state::read_latest_of(target, offsets::checkpoints_topic(source));
  if (!records) return fail(fmt(records.error()));
  size_t n = 0;
  for (const auto& [key, value] : *records) {
    // A record mirror cannot read (MM2 may have written it) is ignored, as MM2's own client ignores it.
    if (auto c = offsets::decode_checkpoint(key, value)) {
      into.checkpoints[{source, c->group, c->topic, c->partition}] = {c->upstream_offset,
                                                                      c->downstream_offset};
      ++n;
    }
  }
  return n;
}

}  // namespace mirror::observe

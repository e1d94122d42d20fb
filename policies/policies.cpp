#include "policies/policies.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <functional>
#include <optional>
#include <set>
#include <string_view>
#include <variant>

#include "spec/defaults.h"
#include "spec/pattern.h"

namespace mirror::policies {

namespace {

using planner::Acl;
using planner::Action;
using planner::ActionKind;
using planner::ClusterState;
using planner::ConfigSource;
using planner::Json;
using planner::PolicyResult;

// ---------------------------------------------------------------------------------------------------
// Parameters: what each rule takes, and checking what the spec wrote.

enum class ParamKind {
  count,       // a whole number >= `least`
  pattern,     // one regular expression (full match)
  patterns,    // a list of regular expressions (full match)
  principals,  // a list of Kafka principals, TYPE:NAME
};

struct ParamDef {
  std::string_view name;
  ParamKind kind;
  bool required;
  int64_t least;             // for count
  std::string_view example;  // how to write it, for hints
  std::string_view meaning;
};

struct RuleDef {
  std::string_view name;
  std::vector<ParamDef> params;
};

const std::vector<RuleDef>& rule_defs() {
  static const std::vector<RuleDef> defs{
      {"no-topic-deletion", {}},
      {"no-acl-deletion", {}},
      {"no-group-offset-deletion", {}},
      {"protected-topics",
       {{"topics", ParamKind::patterns, true, 0, "topics: [\"payments\\\\..*\"]",
         "regexes of topic names mirror must never change"}}},
      {"max-partitions",
       {{"max", ParamKind::count, true, 1, "max: 64",
         "the most partitions a topic mirror creates or grows may have"}}},
      {"min-replication-factor",
       {{"min", ParamKind::count, true, 1, "min: 3",
         "the least replication factor of a topic mirror creates"}}},
      {"min-insync-replicas",
       {{"min", ParamKind::count, true, 1, "min: 2",
         "the least min.insync.replicas of a topic mirror creates"}}},
      {"target-topic-naming",
       {{"pattern", ParamKind::pattern, true, 0, "pattern: \"[a-z0-9-]+\\\\.[a-z0-9.-]+\"",
         "a regex every topic mirror creates on a target must match"}}},
      {"max-retention",
       {{"max_ms", ParamKind::count, true, 1, "max_ms: 604800000",
         "the longest retention.ms (in milliseconds) a topic may get; -1 (forever) always exceeds it"}}},
      {"require-exactly-once",
       {{"flows", ParamKind::patterns, false, 0, "flows: [\"payments-.*\"]",
         "regexes of flow names that must set exactly_once: true (default: every flow)"}}},
      {"max-actions",
       {{"max", ParamKind::count, true, 0, "max: 200", "the most actions one plan may have (blast radius)"}}},
      {"no-foreign-write-acl",
       {{"principals", ParamKind::principals, false, 0, "principals: [\"User:mirror\"]",
         "mirror's own principals on the targets, besides the one its client settings show"}}},
  };
  return defs;
}

const RuleDef* rule_def(std::string_view name) {
  for (const auto& d : rule_defs()) {
    if (d.name == name) return &d;
  }
  return nullptr;
}

// Parameters as checked values.
struct Params {
  std::map<std::string, int64_t, std::less<>> counts;
  std::map<std::string, std::vector<spec::Pattern>, std::less<>> patterns;  // pattern and patterns
  std::map<std::string, std::vector<std::string>, std::less<>> principals;

  int64_t count(std::string_view name) const { return counts.find(name)->second; }
  const std::vector<spec::Pattern>& regexes(std::string_view name) const {
    static const std::vector<spec::Pattern> none;
    auto it = patterns.find(name);
    return it == patterns.end() ? none : it->second;
  }
  std::vector<std::string> names(std::string_view name) const {
    auto it = principals.find(name);
    return it == principals.end() ? std::vector<std::string>{} : it->second;
  }
};

std::optional<int64_t> parse_int(std::string_view s) {
  int64_t v = 0;
  const char* end = s.data() + s.size();
  auto [ptr, ec] = std::from_chars(s.data(), end, v);
  if (s.empty() || ec != std::errc() || ptr != end) return std::nullopt;
  return v;
}

std::vector<std::string> split_items(const std::string& joined) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= joined.size()) {
    const size_t nl = joined.find('\n', start);
    const size_t end = nl == std::string::npos ? joined.size() : nl;
    out.push_back(joined.substr(start, end - start));
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  return out;
}

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

std::string describe_params(const RuleDef& def) {
  if (def.params.empty()) return std::string(def.name) + " takes no parameters";
  std::string s = std::string(def.name) + " takes ";
  for (size_t i = 0; i < def.params.size(); ++i) {
    const auto& p = def.params[i];
    s += (i ? "; " : "") + std::string(p.name) + " (" + std::string(p.meaning) +
         (p.required ? "" : ", optional") + ", e.g. " + std::string(p.example) + ")";
  }
  return s;
}

std::string quoted(const std::string& s) { return "\"" + s + "\""; }

// Checks and converts the parameters of a rule; problems go to `diags`.
Params parse_params(const spec::PolicyRule& rule, std::vector<spec::Diagnostic>& diags) {
  Params out;
  const RuleDef* def = rule_def(rule.rule);
  const std::string who = "policy " + rule.rule;
  auto where = [&](const std::string& key) {
    auto it = rule.param_where.find(key);
    return it == rule.param_where.end() ? rule.where : it->second;
  };
  auto error = [&](spec::Location at, std::string message, std::string hint) {
    diags.push_back({spec::Severity::error, std::move(at), std::move(message), std::move(hint), {}});
  };
  if (!def) {
    error(
        rule.where, "unknown policy rule " + quoted(rule.rule), "built-in rules: " + [] {
          std::string s;
          for (const auto& d : rule_defs()) s += (s.empty() ? "" : ", ") + std::string(d.name);
          return s;
        }());
    return out;
  }
  for (const auto& [key, value] : rule.params) {
    const auto p = std::find_if(def->params.begin(), def->params.end(),
                                [&](const ParamDef& d) { return d.name == key; });
    if (p != def->params.end()) continue;
    std::string hint;
    for (const auto& d : def->params) {
      if (edit_distance(key, d.name) <= 2 || key.starts_with(d.name) || d.name.starts_with(key))
        hint = "did you mean " + quoted(std::string(d.name)) + "? ";
    }
    error(where(key), who + ": unknown parameter " + quoted(key), hint + describe_params(*def));
  }
  for (const auto& p : def->params) {
    const std::string name(p.name);
    auto it = rule.params.find(name);
    if (it == rule.params.end()) {
      if (p.required) {
        error(rule.where, who + " needs parameter " + name + " (" + std::string(p.meaning) + ")",
              "add it to the rule, e.g. " + std::string(p.example));
      }
      continue;
    }
    const std::string& value = it->second;
    const spec::Location at = where(name);
    const std::string example = "e.g. " + std::string(p.example);
    switch (p.kind) {
      case ParamKind::count: {
        auto v = parse_int(value);
        if (!v || *v < p.least) {
          error(at,
                who + ": " + name + " must be a whole number of at least " + std::to_string(p.least) +
                    ", not " + quoted(value),
                example);
        } else {
          out.counts[name] = *v;
        }
        break;
      }
      case ParamKind::pattern:
      case ParamKind::patterns: {
        const auto items = split_items(value);
        if (p.kind == ParamKind::pattern && items.size() > 1) {
          error(at, who + ": " + name + " is one regex, not a list", example);
          break;
        }
        if (value.empty()) {
          error(at, who + ": " + name + " is empty, so the rule could never match anything",
                "give at least one regex, " + example);
          break;
        }
        auto& list = out.patterns[name];
        for (const auto& item : items) {
          auto compiled = spec::Pattern::compile(item, at);
          if (auto* e = std::get_if<spec::PatternError>(&compiled)) {
            error(
                at,
                who + ": " + name + " entry " + quoted(item) + " is not a valid regex: " + e->message +
                    " (at character " + std::to_string(e->offset + 1) + ")",
                "regexes match whole names (Java/PCRE syntax); in YAML double quotes a backslash is doubled, "
                "e.g. " +
                    std::string(p.example));
          } else {
            list.push_back(std::get<spec::Pattern>(std::move(compiled)));
          }
        }
        break;
      }
      case ParamKind::principals: {
        auto& list = out.principals[name];
        if (value.empty()) break;  // [] : no principal besides the one mirror's client settings show
        for (const auto& item : split_items(value)) {
          const size_t colon = item.find(':');
          if (colon == std::string::npos || colon == 0 || colon + 1 == item.size()) {
            error(at, who + ": " + name + " entry " + quoted(item) + " is not a Kafka principal",
                  "write TYPE:NAME as Kafka's ACLs name principals, e.g. User:mirror");
          } else {
            list.push_back(item);
          }
        }
        break;
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Evaluation.

struct Finding {
  std::string resource;
  std::string message;
  auto operator<=>(const Finding&) const = default;
};

struct Outcome {
  std::vector<Finding> failures;
  std::string passed;  // the message of the passed result: what was checked
};

struct Context {
  const planner::Plan& plan;
  const spec::Spec& spec;
  const std::map<std::string, ClusterState>& states;

  const ClusterState* state(const std::string& alias) const {
    auto it = states.find(alias);
    return it == states.end() ? nullptr : &it->second;
  }
};

std::string subject(const Action& a) { return a.cluster + ":" + a.resource; }

// "a, b, c and 4 more": names in messages stay readable however many there are.
std::string some(const std::vector<std::string>& names, size_t shown = 5) {
  std::string s;
  for (size_t i = 0; i < names.size() && i < shown; ++i) s += (i ? ", " : "") + names[i];
  if (names.size() > shown) s += " and " + std::to_string(names.size() - shown) + " more";
  return s;
}

std::optional<int64_t> as_int(const Json& v) {
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_string()) return parse_int(v.get<std::string>());
  return std::nullopt;
}

std::string plural(size_t n, const std::string& one, const std::string& many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

bool creates_topic(const Action& a) {
  return a.kind == ActionKind::create_topic || a.kind == ActionKind::create_internal_topic;
}

// The flow's place in the spec, for messages that tell people what to edit.
std::string flow_place(const Context& c, const std::string& flow) {
  const spec::Flow* f = c.spec.flow(flow);
  if (!f || f->where.file.empty()) return "flow " + flow;
  return "flow " + flow + " (" + f->where.str() + ")";
}

// What a topic on `cluster` gets for a config it does not set: Kafka reports, for every topic without
// its own override, the effective value with its source (a broker's dynamic or static setting, or the
// built-in default). Topics whose configs were read show it; the worst value seen is used, as `worse`
// orders them (brokers may differ).
struct Default {
  std::string value;
  std::string seen_on;  // "B:A.orders, source static_broker"
};
// A broker setting as the cluster's default for new topics, when the observer could read it.
std::optional<std::string> broker_setting(const ClusterState& st, const std::string& name) {
  auto it = st.broker_configs.find(name);
  if (it == st.broker_configs.end() || !it->second.value || it->second.value->empty()) return std::nullopt;
  return it->second.value;
}

// The broker default behind a topic config: retention.ms comes from log.retention.ms, else .minutes, else
// .hours (Kafka's order); the others have the same name on the broker.
std::optional<Default> broker_default(const ClusterState& st, const std::string& cluster,
                                      const std::string& key) {
  if (key == "retention.ms") {
    for (const auto& [name, factor] : {std::pair<std::string, int64_t>{"log.retention.ms", 1},
                                       {"log.retention.minutes", 60'000},
                                       {"log.retention.hours", 3'600'000}}) {
      auto v = broker_setting(st, name);
      if (!v) continue;
      auto n = parse_int(*v);
      if (!n) continue;
      const int64_t ms = *n < 0 ? -1 : *n * factor;
      return Default{std::to_string(ms), cluster + "'s broker setting " + name + "=" + *v};
    }
    return std::nullopt;
  }
  auto v = broker_setting(st, key);
  if (!v) return std::nullopt;
  return Default{*v, cluster + "'s broker setting " + key};
}

std::optional<Default> cluster_default(const Context& c, const std::string& cluster, const std::string& key,
                                       const std::function<bool(int64_t, int64_t)>& worse) {
  const ClusterState* st = c.state(cluster);
  if (!st) return std::nullopt;
  if (auto d = broker_default(*st, cluster, key)) return d;
  std::optional<Default> best;
  std::optional<int64_t> best_value;
  for (const auto& [name, t] : st->topics) {
    auto it = t.configs.find(key);
    if (it == t.configs.end() || !it->second.value) continue;
    const ConfigSource s = it->second.source;
    if (s == ConfigSource::dynamic_topic || s == ConfigSource::other) continue;
    auto v = parse_int(*it->second.value);
    if (!v) continue;
    if (!best_value || worse(*v, *best_value)) {
      best_value = v;
      best = Default{*it->second.value, cluster + ":" + name + ", source " + planner::config_source_name(s)};
    }
  }
  return best;
}

// The value of `key` a created or altered topic ends up with: explicit (set by the action), or the
// cluster's default (not set, or reset). nullopt: the action does not touch the key.
struct ConfigOutcome {
  bool from_default = false;
  std::optional<std::string> value;  // explicit value
};
std::optional<ConfigOutcome> config_after(const Action& a, const std::string& key) {
  if (creates_topic(a)) {
    const Json configs = a.after.is_object() ? a.after.value("configs", Json::object()) : Json::object();
    if (configs.is_object() && configs.contains(key)) {
      const Json& v = configs[key];
      return ConfigOutcome{false, v.is_string() ? v.get<std::string>() : v.dump()};
    }
    return ConfigOutcome{true, std::nullopt};
  }
  if (a.kind == ActionKind::alter_topic_configs && a.after.is_object()) {
    const Json set = a.after.value("set", Json::object());
    if (set.is_object() && set.contains(key)) {
      const Json& v = set[key];
      return ConfigOutcome{false, v.is_string() ? v.get<std::string>() : v.dump()};
    }
    const Json reset = a.after.value("reset", Json::array());
    if (reset.is_array() && std::find(reset.begin(), reset.end(), Json(key)) != reset.end())
      return ConfigOutcome{true, std::nullopt};
  }
  return std::nullopt;
}

// A config rule over created/altered topics: explicit values judged per topic, defaults per cluster
// (every topic that takes the default shares one finding).
struct ConfigRule {
  std::string key;
  bool include_internal = false;                           // judge mirror's internal topics too
  std::function<bool(int64_t, int64_t)> worse;             // orders default values seen on several topics
  std::function<std::string(const std::string&)> problem;  // what is wrong with a value, "" when fine
  std::string fix_explicit;                                // what to do about a value the plan sets
  std::string fix_default;                                 // what to do about the cluster's default
};

void config_rule(const Context& c, const ConfigRule& rule, Outcome& out, size_t& checked) {
  std::map<std::string, std::vector<std::string>> by_default;  // cluster -> topics taking its default
  for (const auto& a : c.plan.actions) {
    if (a.kind == ActionKind::create_internal_topic && !rule.include_internal) continue;
    auto o = config_after(a, rule.key);
    if (!o) continue;
    ++checked;
    if (o->from_default) {
      by_default[a.cluster].push_back(a.resource);
      continue;
    }
    const std::string problem = rule.problem(*o->value);
    if (!problem.empty()) {
      out.failures.push_back({subject(a), subject(a) + " gets " + rule.key + "=" + *o->value + " (" +
                                              (creates_topic(a) ? std::string("created with it")
                                                                : std::string("set by the plan")) +
                                              "): " + problem + "; " + rule.fix_explicit});
    }
  }
  for (auto& [cluster, topics] : by_default) {
    std::sort(topics.begin(), topics.end());
    const std::string which = plural(topics.size(), "topic", "topics") + " (" + some(topics) + ")";
    const std::string take = topics.size() == 1 ? " takes " : " take ";
    auto d = cluster_default(c, cluster, rule.key, rule.worse);
    if (!d) {
      out.failures.push_back(
          {cluster,
           "cannot verify " + rule.key + " of " + which + " on " + cluster + ": without a value of " +
               "their own they get " + cluster +
               "'s broker default, which mirror reads from the broker's configs (not readable: it needs " +
               "DESCRIBE_CONFIGS on the cluster) or from topics it already mirrors there, and " +
               (c.state(cluster) ? "none reports it yet" : cluster + " was not observed") +
               ". Check the brokers' setting by hand; " + rule.fix_default});
      continue;
    }
    const std::string problem = rule.problem(d->value);
    if (!problem.empty()) {
      out.failures.push_back({cluster, which + take + cluster + "'s default " + rule.key + "=" + d->value +
                                           " (reported for " + d->seen_on + "): " + problem + "; " +
                                           rule.fix_default});
    }
  }
}

// --- the rules -------------------------------------------------------------------------------------

Outcome no_topic_deletion(const Context& c, const Params&) {
  Outcome out;
  for (const auto& a : c.plan.actions) {
    if (a.kind != ActionKind::delete_topic) continue;
    out.failures.push_back(
        {subject(a), "deletes topic " + a.resource + " on " + a.cluster + " (" + a.reason +
                         "); plan without --allow-delete to keep it, or delete it by hand after review"});
  }
  out.passed = "no topic is deleted";
  return out;
}

Outcome no_acl_deletion(const Context& c, const Params&) {
  Outcome out;
  for (const auto& a : c.plan.actions) {
    if (a.kind != ActionKind::delete_acl) continue;
    out.failures.push_back({subject(a), "deletes the ACL " + a.resource + " on " + a.cluster + " (" +
                                            a.reason +
                                            "); plan without --allow-delete to keep it, or remove it by hand "
                                            "after review"});
  }
  out.passed = "no ACL is deleted";
  return out;
}

// Group offsets are "deleted" when a write removes a committed offset or moves it backwards: consumers
// of the group then re-read records they had already processed. sync_group_offsets only ever writes
// the partitions in `after`, so each is compared with the group's offset now (`before`).
Outcome no_group_offset_deletion(const Context& c, const Params&) {
  Outcome out;
  size_t checked = 0;
  for (const auto& a : c.plan.actions) {
    if (a.kind != ActionKind::sync_group_offsets) continue;
    ++checked;
    const std::string group = "group " + a.resource + " on " + a.cluster;
    if (!a.after.is_object() || !a.after.contains("offsets") || !a.after["offsets"].is_array()) {
      out.failures.push_back({subject(a), "removes the committed offsets of " + group});
      continue;
    }
    const Json none = Json::array();
    const Json& before = a.before.is_object() && a.before.contains("offsets") ? a.before["offsets"] : none;
    std::vector<std::string> back;
    for (const auto& o : a.after["offsets"]) {
      if (!o.is_object()) continue;
      const std::string topic = o.value("topic", std::string());
      const Json partition = o.value("partition", Json(nullptr));
      const auto to = as_int(o.value("offset", Json(nullptr)));
      const std::string where = topic + "[" + (partition.is_null() ? "?" : partition.dump()) + "]";
      if (!to || *to < 0) {
        back.push_back(where + ": removed");
        continue;
      }
      for (const auto& b : before) {
        if (!b.is_object() || b.value("topic", std::string()) != topic ||
            b.value("partition", Json(nullptr)) != partition)
          continue;
        const auto from = as_int(b.value("offset", Json(nullptr)));
        if (from && *to < *from)
          back.push_back(where + ": " + std::to_string(*from) + " -> " + std::to_string(*to));
      }
    }
    if (!back.empty()) {
      out.failures.push_back(
          {subject(a),
           "moves " + group + " backwards (" + some(back, 8) +
               "): its consumers there would re-read records they already processed. mirror does "
               "this only because the source group was itself rewound; leave the group alone with "
               "the flow's groups.exclude, or, if following the rewind is intended, override a "
               "soft-mandatory rule"});
    }
  }
  out.passed = checked
                   ? "no group offset moves backwards (" + plural(checked, "group", "groups") + " written)"
                   : "no group offset is written";
  return out;
}

// The topic names an action changes: the topic itself, or the topic an ACL names.
std::optional<std::string> changed_topic(const Action& a) {
  switch (a.kind) {
    case ActionKind::create_internal_topic:
    case ActionKind::create_topic:
    case ActionKind::create_partitions:
    case ActionKind::alter_topic_configs:
    case ActionKind::delete_topic: return a.resource;
    case ActionKind::create_acl:
    case ActionKind::delete_acl: {
      auto acl = planner::acl_from_json(a.kind == ActionKind::create_acl ? a.after : a.before);
      if (acl && acl->resource_type == "TOPIC") return acl->resource_name;
      return std::nullopt;
    }
    default: return std::nullopt;
  }
}

// The first pattern that matches the name. A pattern that gives up on the name (PCRE2's limits) counts
// as matching: these lists say what a rule protects or requires, so an unknown answer must not let a
// resource escape the rule (fail closed).
const spec::Pattern* first_match(const std::vector<spec::Pattern>& patterns, const std::string& name) {
  for (const auto& p : patterns) {
    if (p.match(name) != spec::Match::no) return &p;
  }
  return nullptr;
}

Outcome protected_topics(const Context& c, const Params& p) {
  Outcome out;
  const auto& patterns = p.regexes("topics");
  for (const auto& a : c.plan.actions) {
    auto topic = changed_topic(a);
    if (!topic) continue;
    const spec::Pattern* m = first_match(patterns, *topic);
    if (!m) continue;
    const bool acl = a.kind == ActionKind::create_acl || a.kind == ActionKind::delete_acl;
    const bool remove = planner::change_of(a.kind) == planner::Change::remove;
    const std::string fix =
        a.kind == ActionKind::create_internal_topic
            ? "mirror cannot run without this topic, so change the policy's topics in review"
            : (remove ? "plan without --allow-delete" : "exclude it from the flow (topics.exclude)") +
                  std::string(", or change the policy in review");
    out.failures.push_back({subject(a), std::string(planner::action_kind_name(a.kind)) +
                                            (acl ? " on protected topic " : " of protected topic ") + *topic +
                                            " on " + a.cluster + " (matches " + quoted(m->source()) +
                                            "): mirror must never change it; " + fix});
  }
  std::vector<std::string> srcs;
  for (const auto& pat : patterns) srcs.push_back(quoted(pat.source()));
  out.passed = "no action changes a topic matching " + some(srcs);
  return out;
}

Outcome max_partitions(const Context& c, const Params& p) {
  Outcome out;
  const int64_t max = p.count("max");
  for (const auto& a : c.plan.actions) {
    if (!creates_topic(a) && a.kind != ActionKind::create_partitions) continue;
    auto n = a.after.is_object() ? as_int(a.after.value("partitions", Json(nullptr))) : std::nullopt;
    if (!n || *n <= max) continue;
    std::string from;
    if (a.kind == ActionKind::create_topic && a.after.contains("source_topic") &&
        a.after["source_topic"].is_string())
      from = " (as its source topic " + a.after["source_topic"].get<std::string>() + " has)";
    out.failures.push_back({subject(a), subject(a) + " would have " + std::to_string(*n) + " partitions" +
                                            from + ", more than max " + std::to_string(max) +
                                            "; exclude the topic from the flow, or raise max in review"});
  }
  out.passed = "no topic gets more than " + std::to_string(max) + " partitions";
  return out;
}

Outcome min_replication_factor(const Context& c, const Params& p) {
  Outcome out;
  const int64_t min = p.count("min");
  // The replication factor is a flow setting: one finding per flow (and per internal topic, whose factor
  // comes from the first flow into its cluster), listing the topics.
  std::map<std::pair<std::string, int64_t>, std::vector<std::string>> by_flow;  // (flow, rf) -> topics
  size_t checked = 0;
  for (const auto& a : c.plan.actions) {
    if (!creates_topic(a)) continue;
    ++checked;
    const auto rf =
        a.after.is_object() ? as_int(a.after.value("replication_factor", Json(-1))) : std::nullopt;
    int64_t v = rf.value_or(-1);
    if (v == -1) {
      // -1: the target's default.replication.factor, when the observer could read it.
      if (const ClusterState* st = c.state(a.cluster)) {
        if (auto d = broker_setting(*st, "default.replication.factor")) v = parse_int(*d).value_or(-1);
      }
    }
    if (v != -1 && v >= min) continue;
    if (a.kind == ActionKind::create_internal_topic || a.flow.empty()) {
      out.failures.push_back(
          {subject(a), v == -1 ? "cannot verify the replication factor of mirror's internal topic " +
                                     subject(a) + ": it is created with -1, " + a.cluster +
                                     "'s default.replication.factor, which mirror could not read "
                                     "(DESCRIBE_CONFIGS on the cluster); set "
                                     "replication_factor: " +
                                     std::to_string(min) + " (or more) on the flows into " + a.cluster
                               : "mirror's internal topic " + subject(a) +
                                     " would be created with replication factor " + std::to_string(v) +
                                     ", below min " + std::to_string(min) + "; set replication_factor: " +
                                     std::to_string(min) + " (or more) on the flows into " + a.cluster});
      continue;
    }
    by_flow[{a.flow, v}].push_back(subject(a));
  }
  for (const auto& [key, topics] : by_flow) {
    const auto& [flow, rf] = key;
    const std::string which = plural(topics.size(), "topic", "topics") + " (" + some(topics) + ")";
    const std::string fix =
        "set replication_factor: " + std::to_string(min) + " (or more) on " + flow_place(c, flow);
    if (rf == -1) {
      out.failures.push_back(
          {"flow " + flow,
           "cannot verify the replication factor of " + which +
               " it creates: replication_factor is -1, the target's "
               "default.replication.factor, which mirror could not read (it needs DESCRIBE_CONFIGS "
               "on the target cluster); " +
               fix});
    } else {
      out.failures.push_back({"flow " + flow, "creates " + which + " with replication factor " +
                                                  std::to_string(rf) + ", below min " + std::to_string(min) +
                                                  "; " + fix});
    }
  }
  out.passed = checked
                   ? "every topic mirror creates has replication factor " + std::to_string(min) + " or more"
                   : "no topic is created";
  return out;
}

Outcome min_insync_replicas(const Context& c, const Params& p) {
  Outcome out;
  const int64_t min = p.count("min");
  size_t checked = 0;
  const std::string at_least = std::to_string(min);
  config_rule(
      c,
      {.key = "min.insync.replicas",
       .include_internal = true,
       .worse = [](int64_t x, int64_t y) { return x < y; },
       .problem = [&](const std::string& v) -> std::string {
         auto n = parse_int(v);
         if (!n) return "not a number";
         return *n < min ? "below min " + at_least : "";
       },
       .fix_explicit = "raise it to " + at_least + " or more",
       .fix_default = "mirror never copies min.insync.replicas (MM2's rule), so set it on the "
                      "target's brokers (kafka-configs --alter --entity-type brokers --entity-default "
                      "--add-config min.insync.replicas=" +
                      at_least + ")"},
      out, checked);
  out.passed = checked ? "every topic mirror creates or changes has min.insync.replicas " +
                             std::to_string(min) + " or more"
                       : "no topic is created and no min.insync.replicas changes";
  return out;
}

Outcome target_topic_naming(const Context& c, const Params& p) {
  Outcome out;
  const spec::Pattern& pattern = p.regexes("pattern").front();
  size_t checked = 0;
  for (const auto& a : c.plan.actions) {
    if (a.kind != ActionKind::create_topic) continue;  // mirror's internal topics have fixed names
    ++checked;
    if (pattern.matches(a.resource)) continue;
    std::string from = a.flow.empty() ? "" : " for " + flow_place(c, a.flow);
    out.failures.push_back({subject(a), "would create topic " + a.resource + " on " + a.cluster + from +
                                            "; the name does not match " + quoted(pattern.source()) +
                                            ": change the flow's naming, separator or topics filter"});
  }
  out.passed =
      checked ? "every topic mirror creates matches " + quoted(pattern.source()) : "no topic is created";
  return out;
}

Outcome max_retention(const Context& c, const Params& p) {
  Outcome out;
  const int64_t max = p.count("max_ms");
  auto longer = [](int64_t x, int64_t y) {  // a negative retention (-1) keeps records forever
    if (x < 0 || y < 0) return x < 0 && y >= 0;
    return x > y;
  };
  size_t checked = 0;
  const std::string limit = "max_ms " + std::to_string(max);
  config_rule(
      c,
      {.key = "retention.ms",
       .include_internal = false,  // mirror's own topics are compacted: retention.ms does not apply
       .worse = longer,
       .problem = [&](const std::string& v) -> std::string {
         auto n = parse_int(v);
         if (!n) return "not a number";
         if (*n < 0) return "keeps records forever (more than " + limit + ")";
         return *n > max ? "more than " + limit : "";
       },
       .fix_explicit = "mirror copies it from the source topic: shorten it there, or add "
                       "\"retention\\\\.ms\" to the flow's configs.exclude so the target's default applies",
       .fix_default = "set retention.ms on the source topics (mirror copies it), or lower the target "
                      "brokers' log.retention.ms"},
      out, checked);
  out.passed =
      checked ? "no topic mirror creates or changes keeps records longer than " + std::to_string(max) + " ms"
              : "no topic is created and no retention.ms changes";
  return out;
}

Outcome require_exactly_once(const Context& c, const Params& p) {
  Outcome out;
  const auto& patterns = p.regexes("flows");
  std::vector<std::string> judged;
  for (const auto& f : c.spec.flows) {
    if (!patterns.empty() && !first_match(patterns, f.name)) continue;
    judged.push_back(f.name);
    if (f.exactly_once) continue;
    out.failures.push_back({"flow " + f.name, "flow " + f.name +
                                                  " copies at least once (exactly_once is off), so "
                                                  "a crash may write records twice to " +
                                                  f.target + "; set exactly_once: true on " +
                                                  flow_place(c, f.name)});
  }
  if (judged.empty()) {
    std::vector<std::string> srcs;
    for (const auto& pat : patterns) srcs.push_back(quoted(pat.source()));
    out.passed = patterns.empty() ? "the spec has no flow" : "no flow matches " + some(srcs);
  } else {
    out.passed = plural(judged.size(), "flow copies", "flows copy") + " exactly once (" + some(judged) + ")";
  }
  return out;
}

Outcome max_actions(const Context& c, const Params& p) {
  Outcome out;
  const int64_t max = p.count("max");
  const size_t n = c.plan.actions.size();
  if (static_cast<int64_t>(n) > max) {
    std::map<std::string, size_t> kinds;
    for (const auto& a : c.plan.actions) ++kinds[planner::action_kind_name(a.kind)];
    std::vector<std::string> parts;
    for (const auto& [k, count] : kinds) parts.push_back(std::to_string(count) + " " + k);
    const std::string what = "the plan has " + plural(n, "action", "actions") + " (" + some(parts, 10) + ")";
    out.failures.push_back(
        {"", max == 0 ? what + ", and max is 0: no change may be applied now (a change freeze)"
                      : what + ", more than max " + std::to_string(max) +
                            "; apply it in smaller steps (--flow NAME, or a narrower topics.include first)"});
  }
  out.passed = plural(n, "action", "actions") + ", max " + std::to_string(max);
  return out;
}

// mirror's own principal on a cluster, from how its client logs in: User:<sasl.username> with SASL
// PLAIN/SCRAM, User:ANONYMOUS on a PLAINTEXT listener. nullopt with the reason when it cannot be known
// offline (a certificate's name, Kerberos, OAuth, a username from ${env:...}).
struct Identity {
  std::optional<std::string> principal;
  std::string unknown_because;
};
Identity mirror_identity(const spec::Spec& s, const std::string& alias) {
  const spec::Cluster* c = s.cluster(alias);
  if (!c) return {std::nullopt, "cluster " + alias + " is not in the spec"};
  auto prop = [&](const std::string& k) -> const spec::Value* {
    auto it = c->client.find(k);
    return it == c->client.end() ? nullptr : &it->second;
  };
  std::string protocol = "PLAINTEXT";
  if (const auto* v = prop("security.protocol")) {
    if (v->has_references()) return {std::nullopt, "its security.protocol comes from a reference"};
    protocol = v->raw;
    std::transform(protocol.begin(), protocol.end(), protocol.begin(),
                   [](unsigned char ch) { return std::toupper(ch); });
  }
  if (protocol == "PLAINTEXT") return {"User:ANONYMOUS", ""};
  if (protocol == "SSL")
    return {std::nullopt, "it logs in with a TLS certificate, whose name mirror does not read"};
  std::string mechanism = "GSSAPI";  // librdkafka's default
  if (const auto* v = prop("sasl.mechanism")) mechanism = v->raw;
  if (mechanism != "PLAIN" && mechanism != "SCRAM-SHA-256" && mechanism != "SCRAM-SHA-512")
    return {std::nullopt, "it logs in with SASL " + mechanism + ", whose principal mirror cannot derive"};
  const auto* user = prop("sasl.username");
  if (!user) return {std::nullopt, "its client has no sasl.username"};
  if (user->has_references())
    return {std::nullopt, "its sasl.username is read from " + user->raw + " at run time"};
  return {"User:" + user->raw, ""};
}

bool grants_write(const Acl& a) {
  return a.resource_type == "TOPIC" && a.permission == "ALLOW" &&
         (a.operation == "WRITE" || a.operation == "ALL");
}

bool acl_covers(const Acl& a, const std::string& topic) {
  if (a.pattern_type == "LITERAL") return a.resource_name == topic || a.resource_name == "*";
  if (a.pattern_type == "PREFIXED") return topic.starts_with(a.resource_name);
  return false;
}

Outcome no_foreign_write_acl(const Context& c, const Params& p) {
  Outcome out;
  // Mirrored topics per target: those the plan creates, and those that exist and a flow replicates.
  std::map<std::string, std::set<std::string>> mirrored;
  for (const auto& a : c.plan.actions) {
    if (a.kind == ActionKind::create_topic) mirrored[a.cluster].insert(a.resource);
  }
  for (const auto& f : c.spec.flows) {
    const ClusterState* src = c.state(f.source);
    const ClusterState* dst = c.state(f.target);
    if (!src || !dst) continue;
    for (const auto& [name, t] : src->topics) {
      if (!f.replicates_topic(name)) continue;
      const std::string target = f.target_topic(name);
      if (dst->topics.count(target)) mirrored[f.target].insert(target);
    }
  }
  std::vector<std::string> listed = p.names("principals");
  std::vector<std::string> clean_targets;
  for (const auto& [cluster, topics] : mirrored) {
    if (topics.empty()) continue;
    const Identity me = mirror_identity(c.spec, cluster);
    std::set<std::string> ours(listed.begin(), listed.end());
    if (me.principal) ours.insert(*me.principal);
    std::string ours_text;
    for (const auto& o : ours) ours_text += (ours_text.empty() ? "" : ", ") + o;
    const ClusterState* st = c.state(cluster);
    if (!st || !st->acls_observed) {
      out.failures.push_back(
          {cluster, "cannot verify who may write the " +
                        plural(topics.size(), "mirrored topic", "mirrored topics") + " on " + cluster +
                        ": its ACLs were not observed (no authorizer, or mirror may not "
                        "describe ACLs there); without an authorizer every client can write them. Enable an "
                        "authorizer on " +
                        cluster + " and let mirror DESCRIBE its ACLs"});
      continue;
    }
    // The ACLs after apply: what is there, minus what the plan deletes, plus what it creates.
    std::set<Acl> acls(st->acls.begin(), st->acls.end());
    for (const auto& a : c.plan.actions) {
      if (a.cluster != cluster) continue;
      if (a.kind == ActionKind::delete_acl) {
        if (auto acl = planner::acl_from_json(a.before)) acls.erase(*acl);
      } else if (a.kind == ActionKind::create_acl) {
        if (auto acl = planner::acl_from_json(a.after)) acls.insert(*acl);
      }
    }
    bool found = false;
    for (const auto& acl : acls) {
      if (!grants_write(acl) || ours.count(acl.principal)) continue;
      std::vector<std::string> covered;
      for (const auto& t : topics) {
        if (acl_covers(acl, t)) covered.push_back(t);
      }
      if (covered.empty()) continue;
      found = true;
      std::string advice;
      if (ours.empty()) {
        advice = "mirror's own principal on " + cluster + " is not known (" + me.unknown_because + "): if " +
                 acl.principal + " is mirror, list it in principals:, else remove the ACL";
      } else {
        advice = "only mirror (" + ours_text +
                 ") may write mirrored topics, or the copies stop matching their source: remove the ACL, or "
                 "list " +
                 acl.principal + " in principals: if it is mirror's";
        if (!me.principal)
          advice += " (mirror's principal is not known from its client settings: " + me.unknown_because + ")";
      }
      out.failures.push_back(
          {cluster + ":" + acl.str(),
           "grants " + acl.operation + " on " + plural(covered.size(), "mirrored topic", "mirrored topics") +
               " (" + some(covered) + ") to " + acl.principal + ", who is not mirror; " + advice});
    }
    if (!found) clean_targets.push_back(cluster + (ours_text.empty() ? "" : " (mirror: " + ours_text + ")"));
  }
  out.passed = clean_targets.empty() ? "no mirrored topic on any target"
                                     : "only mirror may write the mirrored topics on " + some(clean_targets);
  return out;
}

using RuleFn = Outcome (*)(const Context&, const Params&);

RuleFn rule_fn(std::string_view name) {
  static const std::map<std::string_view, RuleFn> fns{
      {"no-topic-deletion", no_topic_deletion},
      {"no-acl-deletion", no_acl_deletion},
      {"no-group-offset-deletion", no_group_offset_deletion},
      {"protected-topics", protected_topics},
      {"max-partitions", max_partitions},
      {"min-replication-factor", min_replication_factor},
      {"min-insync-replicas", min_insync_replicas},
      {"target-topic-naming", target_topic_naming},
      {"max-retention", max_retention},
      {"require-exactly-once", require_exactly_once},
      {"max-actions", max_actions},
      {"no-foreign-write-acl", no_foreign_write_acl},
  };
  auto it = fns.find(name);
  return it == fns.end() ? nullptr : it->second;
}

bool blank(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](unsigned char ch) { return std::isspace(ch); });
}

}  // namespace

std::vector<spec::Diagnostic> check_params(const spec::PolicyRule& rule) {
  std::vector<spec::Diagnostic> diags;
  parse_params(rule, diags);
  return diags;
}

std::vector<spec::Diagnostic> check(const spec::Spec& spec) {
  std::vector<spec::Diagnostic> out;
  for (const auto& r : spec.policies) {
    for (auto& d : check_params(r)) out.push_back(std::move(d));
  }
  return out;
}

std::vector<PolicyResult> evaluate(const planner::Plan& plan, const spec::Spec& spec,
                                   const std::map<std::string, ClusterState>& states) {
  const Context ctx{plan, spec, states};
  std::vector<PolicyResult> results;
  for (const auto& rule : spec.policies) {
    std::vector<spec::Diagnostic> diags;
    const Params params = parse_params(rule, diags);
    const RuleFn fn = rule_fn(rule.rule);
    if (!diags.empty() || !fn) {
      const std::string why = diags.empty() ? "unknown rule" : diags.front().message;
      const spec::Location at = diags.empty() ? rule.where : diags.front().where;
      results.push_back({rule.rule, rule.level, "",
                         "cannot be evaluated: " + why + " (" + at.str() +
                             "); fix the spec (mirror validate lists every problem)",
                         false});
      continue;
    }
    Outcome o = fn(ctx, params);
    std::sort(o.failures.begin(), o.failures.end());
    o.failures.erase(std::unique(o.failures.begin(), o.failures.end()), o.failures.end());
    if (o.failures.empty()) {
      results.push_back({rule.rule, rule.level, "", o.passed, true});
      continue;
    }
    for (auto& f : o.failures)
      results.push_back({rule.rule, rule.level, std::move(f.resource), std::move(f.message), false});
  }
  return results;
}

Result<Verdict, std::string> judge(const std::vector<PolicyResult>& results,
                                   const std::vector<Override>& overrides) {
  // Per rule: which levels failed.
  struct Failed {
    size_t soft = 0, hard = 0, advisory = 0;
  };
  std::map<std::string, Failed> failed;
  std::vector<std::string> listed;
  for (const auto& r : results) {
    if (std::find(listed.begin(), listed.end(), r.rule) == listed.end()) listed.push_back(r.rule);
    Failed& f = failed[r.rule];
    if (r.passed) continue;
    if (r.level == "soft-mandatory")
      ++f.soft;
    else if (r.level == "advisory")
      ++f.advisory;
    else
      ++f.hard;
  }
  std::map<std::string, std::string> reasons;  // rule -> reason
  for (const auto& o : overrides) {
    const std::string flag = "--override-policy " + o.rule;
    if (blank(o.reason)) {
      return fail(flag +
                  " needs --reason TEXT saying why (it is recorded in the applied revision and the audit "
                  "log)");
    }
    auto it = failed.find(o.rule);
    if (it == failed.end()) {
      const bool builtin = std::find(spec::defaults::kPolicyRules.begin(), spec::defaults::kPolicyRules.end(),
                                     o.rule) != spec::defaults::kPolicyRules.end();
      std::string rules;
      for (const auto& l : listed) rules += (rules.empty() ? "" : ", ") + l;
      return fail(
          flag + ": " +
          (builtin ? "the spec's policies: do not list " + o.rule : o.rule + " is not a policy rule") + " (" +
          (rules.empty() ? "the spec lists no policy" : "the spec's rules: " + rules) +
          "); remove the flag or fix its spelling");
    }
    const Failed& f = it->second;
    if (f.soft + f.hard + f.advisory == 0) {
      return fail(flag + ": " + o.rule +
                  " passed on this plan, so there is nothing to override; remove the flag");
    }
    if (f.soft == 0 && f.hard > 0) {
      return fail(flag + ": " + o.rule +
                  " is hard-mandatory and cannot be overridden; change the spec so the check passes (or the "
                  "rule's level, in review)");
    }
    if (f.soft == 0) {
      return fail(flag + ": " + o.rule + " failed only as advisory, which never blocks; remove the flag");
    }
    reasons.emplace(o.rule, o.reason);
  }
  Verdict v;
  for (const auto& r : results) {
    PolicyResult marked = r;
    if (!r.passed) {
      auto reason = reasons.find(r.rule);
      if (r.level == "advisory") {
        v.advisories.push_back(r);
      } else if (r.level == "soft-mandatory" && reason != reasons.end()) {
        marked.overridden = true;
        marked.override_reason = reason->second;
        v.overridden.push_back(marked);
      } else {
        v.blocking.push_back(r);
      }
    }
    v.results.push_back(std::move(marked));
  }
  return v;
}

}  // namespace mirror::policies

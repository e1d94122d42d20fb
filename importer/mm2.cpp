#include "importer/mm2.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <optional>
#include <set>
#include <span>

#include "importer/properties.h"
#include "importer/yaml_text.h"
#include "spec/defaults.h"
#include "spec/load.h"
#include "spec/pattern.h"

namespace mirror::importer {

namespace {

using Settings = std::map<std::string, Setting>;  // by key (as found, or with a prefix removed)

constexpr std::string_view kDefaultPolicy = "org.apache.kafka.connect.mirror.DefaultReplicationPolicy";
constexpr std::string_view kIdentityPolicy = "org.apache.kafka.connect.mirror.IdentityReplicationPolicy";
// MM2 4.x's first default topic exclude; mirror's broader ".*[\-\.]internal" covers it.
constexpr std::string_view kMm2v4InternalExclude = "mm2.*\\.internal";
// MM2's default when replication.factor is not set (MirrorSourceConfig, Kafka 3.x and 4.x).
constexpr int kMm2ReplicationFactor = 2;

std::string trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string join(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) out += (i ? std::string(sep) : "") + items[i];
  return out;
}

std::string in_quotes(std::string_view s) { return "\"" + std::string(s) + "\""; }

// In line order, each once (a top-level setting is read for every pair).
std::vector<Problem> sorted(std::vector<Problem> v) {
  std::stable_sort(v.begin(), v.end(), [](const Problem& x, const Problem& y) { return x.line < y.line; });
  v.erase(std::unique(
              v.begin(), v.end(),
              [](const Problem& x, const Problem& y) { return x.line == y.line && x.message == y.message; }),
          v.end());
  return v;
}

// ConfigDef's LIST: trimmed, split at commas (with the whitespace around them).
std::vector<std::string> split_list(std::string_view value) {
  std::vector<std::string> out;
  const std::string t = trim(value);
  if (t.empty()) return out;
  size_t start = 0;
  for (;;) {
    const size_t comma = t.find(',', start);
    out.push_back(trim(
        std::string_view(t).substr(start, comma == std::string::npos ? std::string::npos : comma - start)));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

bool is_alias_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_'; }

// Everything the importer learns, in the order it will be written.
struct Field {
  std::string value;  // YAML text; empty: not written
  std::string comment;
};

struct ClusterOut {
  std::string alias;
  Field bootstrap;
  std::string bootstrap_raw;  // the spec string (the model keeps it)
  ClientTranslation client;
  std::vector<std::string> notes;  // cluster settings without an equivalent
};

struct FlowOut {
  Mm2Pair pair;
  std::string lead;  // the comment above the flow
  Field topics_include, topics_exclude, naming, separator, replication_factor, configs_sync, configs_exclude,
      acls_sync, groups_include, groups_exclude, sync_offsets, start, exactly_once;
  std::vector<std::string> notes;
};

// The MM2 line named by "(line N)" in the comment of line `yaml_line` of the generated spec; 0 if none.
int mm2_line_of(std::string_view yaml, int yaml_line) {
  if (yaml_line <= 0) return 0;
  size_t start = 0;
  for (int i = 1; i < yaml_line && start != std::string_view::npos; ++i) {
    start = yaml.find('\n', start);
    if (start != std::string_view::npos) ++start;
  }
  if (start == std::string_view::npos) return 0;
  const std::string_view line = yaml.substr(start, yaml.find('\n', start) - start);
  const size_t hash = line.find('#');
  const size_t at = hash == std::string_view::npos ? hash : line.find("(line ", hash);
  if (at == std::string_view::npos) return 0;
  int n = 0;
  const char* first = line.data() + at + 6;
  std::from_chars(first, line.data() + line.size(), n);
  return n;
}

class Importer {
 public:
  explicit Importer(std::string_view file) : file_(file) {}

  Result<ImportResult, std::vector<Problem>> run(std::string_view text);

 private:
  void error(int line, std::string message, std::string hint) {
    errors_.push_back({file_, line, std::move(message), std::move(hint)});
  }
  void warn(int line, std::string message, std::string hint = "") {
    notes_.push_back({file_, line, std::move(message), std::move(hint)});
  }

  std::optional<bool> boolean(const Setting& s);
  std::optional<long long> integer(const Setting& s);
  std::vector<std::string> patterns(const Setting& s, std::string_view what);

  void classify(const std::vector<Property>& props);
  void read_providers();
  ClusterOut cluster(const std::string& alias);
  std::optional<FlowOut> flow(const std::string& source, const std::string& target);
  std::optional<std::string> explain(std::string_view key, const Setting& s) const;
  std::string render(const std::vector<ClusterOut>& clusters, const std::vector<FlowOut>& flows);

  // A pair setting, else the top-level default (MirrorMakerConfig.connectorBaseConfig's precedence).
  std::optional<Setting> pair_or_global(const Settings& pair, const std::string& key) const {
    if (auto it = pair.find(key); it != pair.end()) return it->second;
    if (auto it = global_.find(key); it != global_.end()) return it->second;
    return std::nullopt;
  }

  std::string file_;
  std::string base_name_;
  std::vector<Problem> errors_, notes_;
  std::vector<std::string> aliases_;
  int clusters_line_ = 0;
  Settings global_;
  std::map<std::string, Settings> cluster_;                       // alias → key without "alias."
  std::map<std::pair<std::string, std::string>, Settings> pair_;  // (source, target) → key
  std::vector<Setting> stray_;                                    // pair keys of unknown clusters
  std::map<std::string, Setting> start_by_source_;                // <alias>.consumer.auto.offset.reset
  Providers providers_;
  EnvNamer namer_;
  std::vector<EnvVar> env_;
  // Top-level settings without an equivalent, by line: about everything, and about replication.
  std::vector<std::pair<int, std::string>> header_notes_, flows_notes_;
};

std::optional<bool> Importer::boolean(const Setting& s) {
  const std::string v = lower(trim(s.value));
  if (v == "true") return true;
  if (v == "false") return false;
  error(s.line, s.key + " must be true or false, not " + quoted_value(s),
        "MM2 refuses any other value at startup; write " + s.key + " = true or " + s.key + " = false");
  return std::nullopt;
}

std::optional<long long> Importer::integer(const Setting& s) {
  const std::string v = trim(s.value);
  long long n = 0;
  auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (v.empty() || ec != std::errc() || ptr != v.data() + v.size()) {
    error(s.line, s.key + " must be a whole number, not " + quoted_value(s),
          "MM2 refuses this value at startup; write a number, e.g. " + s.key + " = 3");
    return std::nullopt;
  }
  return n;
}

// An MM2 regex list (topics, groups, ...), each entry checked the way mirror will compile it.
std::vector<std::string> Importer::patterns(const Setting& s, std::string_view what) {
  std::vector<std::string> out;
  const std::vector<std::string> items = split_list(s.value);
  bool empty_entry = false;
  for (const auto& p : items) {
    if (p.empty()) {
      empty_entry = true;
      continue;
    }
    if (p.find("${") != std::string::npos) {
      error(s.line,
            std::string(what) + " entry " +
                (withheld(s) ? std::string("(withheld: may be a secret)") : in_quotes(p)) + " of " + s.key +
                " contains ${, which a mirror spec reads as a ${env:}/${file:} reference",
            "patterns cannot hold references; to match a literal ${ write \\$\\{ in the regex");
      continue;
    }
    auto compiled = spec::Pattern::compile(p);
    if (auto* e = std::get_if<spec::PatternError>(&compiled)) {
      error(s.line,
            std::string(what) + " entry " +
                (withheld(s) ? std::string("(withheld: may be a secret)") : in_quotes(p)) + " of " + s.key +
                " is not a valid regular expression: " + e->message,
            "MM2 splits this list at every comma, so a pattern with a comma (a{1,3}) is cut in two; rewrite "
            "it without one (e.g. a|aa|aaa), or fix the pattern");
      continue;
    }
    out.push_back(p);
  }
  if (empty_entry)
    warn(s.line, s.key + " has an empty entry (a stray comma?); it selects nothing and was left out");
  if (s.dropped_backslash) {
    warn(s.line,
         s.key + ": in a .properties file a backslash before an ordinary character is dropped, so MM2 saw " +
             quoted_value(s) + "; the spec keeps what MM2 saw",
         "to mean a literal dot in MM2 you would have written \\\\. ; check the patterns in the spec");
  }
  return out;
}

void Importer::classify(const std::vector<Property>& props) {
  std::map<std::string, Setting> last;
  for (const auto& p : props) {
    if (auto it = last.find(p.key); it != last.end()) {
      warn(p.line,
           p.key + " is set again (first on line " + std::to_string(it->second.line) + "); MM2 uses this one",
           "remove one of the two lines");
    }
    last[p.key] = Setting{p.key, p.value, p.line, p.dropped_backslash};
  }
  auto longest_alias = [&](std::string_view key) -> std::string {
    std::string best;
    for (const auto& a : aliases_) {
      if (key.size() > a.size() + 1 && key.starts_with(a) && key[a.size()] == '.' && a.size() > best.size())
        best = a;
    }
    return best;
  };
  for (auto& [key, s] : last) {
    if (key == "clusters") continue;
    if (const size_t arrow = key.find("->"); arrow != std::string::npos) {
      const std::string source = key.substr(0, arrow);
      const std::string rest = key.substr(arrow + 2);
      const std::string target = longest_alias(rest);
      const bool known_source = std::find(aliases_.begin(), aliases_.end(), source) != aliases_.end();
      if (!known_source || target.empty()) {
        stray_.push_back(s);
        continue;
      }
      pair_[{source, target}][rest.substr(target.size() + 1)] = s;
      continue;
    }
    if (const std::string alias = longest_alias(key); !alias.empty()) {
      cluster_[alias][key.substr(alias.size() + 1)] = s;
      continue;
    }
    global_[key] = s;
  }
}

void Importer::read_providers() {
  auto it = global_.find("config.providers");
  if (it == global_.end()) return;
  for (const auto& name : split_list(it->second.value)) {
    if (name.empty()) continue;
    const auto cls = global_.find("config.providers." + name + ".class");
    const std::string c = cls == global_.end() ? "" : cls->second.value;
    ProviderKind kind = ProviderKind::other;
    if (c.ends_with("EnvVarConfigProvider"))
      kind = ProviderKind::env;
    else if (c.ends_with("DirectoryConfigProvider"))
      kind = ProviderKind::directory;
    else if (c.ends_with("FileConfigProvider"))
      kind = ProviderKind::file;
    providers_[name] = kind;
  }
}

// Why an MM2 setting has no place in the spec, and what mirror does instead; nullopt for keys the
// importer does not know.
std::optional<std::string> Importer::explain(std::string_view key, const Setting& s) const {
  // A value that looks secret is never repeated, not even in advice.
  const std::string v = withheld(s) ? std::string("N") : trim(s.value);
  const bool off = lower(v) == "false";
  auto any = [&](std::initializer_list<std::string_view> keys) {
    return std::find(keys.begin(), keys.end(), key) != keys.end();
  };
  if (key == "tasks.max")
    return "mirror has no tasks: one `mirror run` copies every partition of its flows (a second one waits as "
           "a "
           "standby and takes over when the first stops)";
  if (key == "refresh.topics.interval.seconds")
    return "use `mirror run --discovery-interval " + v +
           "` (default 10): how often mirror looks for new topics and partitions";
  if (key == "refresh.topics.enabled")
    return off ? "mirror always looks for new topics and partitions (every --discovery-interval seconds); "
                 "the topics filter decides what is copied"
               : "mirror always looks for new topics and partitions (MM2's default too)";
  if (any({"refresh.groups.interval.seconds", "refresh.groups.enabled"}))
    return "mirror reads consumer groups at every group sync (`mirror run --group-sync-interval`)";
  if (key == "sync.group.offsets.interval.seconds")
    return "use `mirror run --group-sync-interval " + v + "` (default 5)";
  if (key == "emit.checkpoints.interval.seconds")
    return "mirror writes checkpoints when it syncs groups: `mirror run --group-sync-interval " + v + "`";
  if (key == "emit.heartbeats.enabled")
    return off ? "use `mirror run --heartbeat-interval 0` to turn mirror's heartbeats off"
               : "mirror emits heartbeats by default (`mirror run --heartbeat-interval 1`)";
  if (key == "emit.heartbeats.interval.seconds")
    return "use `mirror run --heartbeat-interval " + v + "` (default 1)";
  if (any({"sync.topic.configs.interval.seconds", "sync.topic.acls.interval.seconds"}))
    return "mirror changes target topic configs and ACLs when `mirror apply` runs (`mirror plan` shows "
           "drift), not on a timer: schedule plan and apply to keep them in sync";
  if (any({"offset-syncs.topic.location", "offset-syncs.topic.replication.factor",
           "emit.offset-syncs.enabled", "offset.lag.max"}))
    return "mirror writes no offset-syncs topic: it keeps an exact offset map with its progress in the "
           "target cluster (docs/offsets.md)";
  if (any({"checkpoints.topic.replication.factor", "heartbeats.topic.replication.factor"}))
    return "mirror creates its internal topics with the flow's replication_factor";
  if (any({"consumer.poll.timeout.ms", "admin.timeout.ms"}))
    return "`mirror run --timeout S` bounds every cluster request";
  if (key == "topic.filter.class")
    return v.ends_with("DefaultTopicFilter")
               ? "MM2's default filter: the flows' topics include/exclude"
               : "mirror selects topics with regex lists only: check that the flows' topics include/exclude "
                 "select what " +
                     v + " did";
  if (key == "group.filter.class")
    return v.ends_with("DefaultGroupFilter")
               ? "MM2's default filter: the flows' groups include/exclude"
               : "mirror selects groups with regex lists only: check that the flows' groups include/exclude "
                 "select what " +
                     v + " did";
  if (key == "config.property.filter.class")
    return v.ends_with("DefaultConfigPropertyFilter")
               ? "MM2's default filter: the flows' configs.exclude"
               : "mirror filters topic configs with configs.exclude only: check it excludes what " + v +
                     " did";
  if (key == "forwarding.admin.class")
    return "mirror creates and changes target topics itself (`mirror plan` / `mirror apply`); a "
           "ForwardingAdmin "
           "has no equivalent";
  if (key == "use.incremental.alter.configs")
    return "mirror always changes topic configs with IncrementalAlterConfigs";
  if (key == "add.source.alias.to.metrics")
    return "mirror's metrics are labelled with the flow, which names source and target (docs/metrics.md)";
  if (any({"source.cluster.alias", "target.cluster.alias", "name", "connector.class"}))
    return "set by MM2 itself in dedicated mode; nothing to translate";
  if (key == "metric.reporters" || key.starts_with("metrics."))
    return "mirror serves Prometheus metrics (`mirror run --metrics-addr`, docs/metrics.md)";
  if (key.starts_with("errors."))
    return "mirror stops a flow on an error and retries it; it never skips records";
  if (key.starts_with("key.converter") || key.starts_with("value.converter") ||
      key.starts_with("header.converter"))
    return "mirror copies keys, values and headers byte for byte (what MM2 does with ByteArrayConverter)";
  if (key == "transaction.boundary")
    return "with exactly_once, mirror commits records and its progress in one transaction";
  if (key == "offset.flush.interval.ms")
    return "use `mirror run --commit-interval-ms " + v +
           "` (default 1000): how often mirror stores its progress";
  if (key == "offset.flush.timeout.ms") return "no equivalent: mirror's commits are bounded by --timeout";
  if (key.starts_with("offset.storage.") || key.starts_with("config.storage.") ||
      key.starts_with("status.storage."))
    return "MM2's Kafka Connect internal topics; mirror keeps its state in mirror.*.internal topics on the "
           "target cluster (docs/state.md)";
  if (key == "group.id")
    return "the Kafka Connect worker group; mirror engines coordinate through a lease in the target cluster";
  if (any({"dedicated.mode.enable.internal.rest", "listeners", "admin.listeners"}) ||
      key.starts_with("rest."))
    return "mirror has no REST API; a second engine waits as a standby instead (docs/engine.md)";
  if (key == "config.providers" || key.starts_with("config.providers."))
    return "mirror reads ${env:NAME} and ${file:PATH} itself; references were translated where the spec can "
           "express them";
  if (key.starts_with("worker.") || key.starts_with("task.") ||
      any({"scheduled.rebalance.max.delay.ms", "connector.client.config.override.policy", "plugin.path",
           "plugin.discovery"}))
    return "a Kafka Connect worker setting; mirror has no Connect worker";
  if (key == "exactly.once.support")
    return "per-connector exactly-once request; mirror's flows say exactly_once themselves (see above)";
  return std::nullopt;
}

// Pair settings that select and shape what a flow copies: connector settings the flows also translate.
constexpr std::array<std::string_view, 14> kFlowKeys{
    "enabled",
    "topics",
    "topics.exclude",
    "topics.blacklist",
    "groups",
    "groups.exclude",
    "groups.blacklist",
    "config.properties.exclude",
    "config.properties.blacklist",
    "replication.factor",
    "sync.topic.configs.enabled",
    "sync.topic.acls.enabled",
    "sync.group.offsets.enabled",
    "emit.checkpoints.enabled",
};

bool is_flow_key(std::string_view k) {
  return std::find(kFlowKeys.begin(), kFlowKeys.end(), k) != kFlowKeys.end();
}

// Keys that configure replication (MM2's connector settings): global or per pair, never per cluster.
bool is_connector_key(std::string_view k) {
  static const std::set<std::string, std::less<>> kOthers{
      "exactly.once.support",
      "tasks.max",
      "refresh.topics.interval.seconds",
      "refresh.topics.enabled",
      "refresh.groups.interval.seconds",
      "refresh.groups.enabled",
      "sync.group.offsets.interval.seconds",
      "emit.checkpoints.interval.seconds",
      "emit.heartbeats.enabled",
      "emit.heartbeats.interval.seconds",
      "sync.topic.configs.interval.seconds",
      "sync.topic.acls.interval.seconds",
      "offset-syncs.topic.location",
      "offset-syncs.topic.replication.factor",
      "emit.offset-syncs.enabled",
      "offset.lag.max",
      "checkpoints.topic.replication.factor",
      "heartbeats.topic.replication.factor",
      "topic.filter.class",
      "group.filter.class",
      "config.property.filter.class",
  };
  return is_flow_key(k) || kOthers.count(k) > 0;
}

// Keys the flows translate (read with pair_or_global), so not to be listed as unknown.
bool is_translated_flow_key(std::string_view k) {
  static const std::set<std::string, std::less<>> kOthers{
      "replication.policy.class",
      "replication.policy.separator",
      "replication.policy.internal.topic.separator.enabled",
      "consumer.auto.offset.reset",
      "source.consumer.auto.offset.reset",
  };
  return is_flow_key(k) || kOthers.count(k) > 0;
}

// Cluster settings librdkafka has under the same name (MM2 gives them to its Connect worker only).
bool librdkafka_has(std::string_view k) {
  static const std::set<std::string, std::less<>> kKeys{
      "client.dns.lookup",        "client.rack",
      "metadata.max.age.ms",      "socket.connection.setup.timeout.ms",
      "connections.max.idle.ms",  "reconnect.backoff.ms",
      "reconnect.backoff.max.ms", "retry.backoff.ms",
      "retry.backoff.max.ms",     "client.id",
  };
  return kKeys.count(k) > 0;
}

ClusterOut Importer::cluster(const std::string& alias) {
  ClusterOut out;
  out.alias = alias;
  Settings& own = cluster_[alias];

  // bootstrap.servers: the cluster's own, else a top-level one (MM2 uses it as every cluster's default).
  std::optional<Setting> bs;
  if (auto it = own.find("bootstrap.servers"); it != own.end())
    bs = it->second;
  else if (auto g = global_.find("bootstrap.servers"); g != global_.end())
    bs = g->second;
  own.erase("bootstrap.servers");
  if (!bs || trim(bs->value).empty()) {
    error(bs ? bs->line : clusters_line_, "cluster " + alias + " has no bootstrap servers",
          "add " + alias + ".bootstrap.servers = host:port[,host:port...]");
  } else if (value_looks_secret(bs->value)) {
    error(bs->line, bs->key + " holds what looks like credentials (value withheld)",
          "write the brokers as host:port[,host:port...]; credentials go in sasl.jaas.config, passed as "
          "${env:...}");
  } else {
    std::vector<std::string> hosts = split_list(bs->value);
    hosts.erase(std::remove(hosts.begin(), hosts.end(), std::string()), hosts.end());
    for (const auto& h : hosts) {
      if (std::any_of(h.begin(), h.end(), [](unsigned char c) { return std::isspace(c); })) {
        error(bs->line, bs->key + " entry " + in_quotes(h) + " contains a space",
              "MM2 (and mirror) separate brokers with commas: host1:9092,host2:9092");
      }
    }
    SpecValue v =
        spec_value(alias, "bootstrap", *bs, join(hosts, ","), false, bs->where(), providers_, namer_);
    if (!v.note.empty()) {
      // A spec names its brokers literally (where mirror connects and sends credentials is reviewed in
      // the spec, not decided by the environment): a config provider reference cannot carry over.
      error(bs->line, bs->key + " reads the brokers from a config provider (" + v.note + ")",
            "a mirror spec names its brokers literally: replace the reference with host:port[,host:port...] "
            "and import again");
    } else {
      out.bootstrap = {yaml::scalar(v.raw), bs->where()};
      out.bootstrap_raw = v.raw;
    }
  }

  // Client security: top-level defaults, then the cluster's own (MirrorMakerConfig.clusterProps).
  Settings java;
  for (const auto& [k, s] : global_) {
    if (is_java_security_setting(k)) java[k] = s;
  }
  for (const auto& [k, s] : own) {
    if (is_java_security_setting(k)) java[k] = s;
  }

  // Per-role client settings (A.consumer.*, A.producer.*, A.admin.*).
  std::vector<std::string> role_keys;
  for (const auto& [k, s] : own) {
    std::string role, name;
    for (std::string_view r : {"consumer.", "producer.", "admin."}) {
      if (k.starts_with(r)) {
        role = std::string(r.substr(0, r.size() - 1));
        name = k.substr(r.size());
      }
    }
    if (role.empty()) continue;
    role_keys.push_back(k);
    if (role == "consumer" && name == "auto.offset.reset") {
      start_by_source_[alias] = s;
      continue;
    }
    if (is_java_security_setting(name)) {
      auto it = java.find(name);
      if (it == java.end()) {
        java[name] = s;
        out.notes.push_back(s.where() + ": mirror uses one set of client properties for all its clients of " +
                            alias + ", so this " + role + " setting now applies to all of them");
      } else if (it->second.value != s.value) {
        out.notes.push_back(s.where() + ": mirror uses one set of client properties for all its clients of " +
                            alias + "; this " + role + " setting differs from " + it->second.key +
                            ", which was kept");
      }
      continue;
    }
    out.notes.push_back(shown(s) + ": a setting for MM2's " + role +
                        " only; mirror tunes its own clients (docs/engine.md). If " + alias +
                        " needs it, add the librdkafka equivalent under client");
  }
  for (const auto& k : role_keys) own.erase(k);

  out.client = translate_client(alias, java, providers_, namer_);
  env_.insert(env_.end(), out.client.env.begin(), out.client.env.end());

  // Everything else set on the cluster.
  for (const auto& [k, s] : own) {
    if (is_java_security_setting(k)) continue;
    if (k == "exactly.once.source.support") {  // read by the flows into this cluster
      out.notes.push_back(shown(s) + ": MM2's exactly-once for writes to " + alias +
                          "; it sets exactly_once of the flows into " + alias);
      continue;
    }
    if (k == "offset.storage.topic" || k == "status.storage.topic" || k == "config.storage.topic") {
      out.notes.push_back(shown(s) + ": " + *explain(k, s));  // also read for the model of the flows into it
      continue;
    }
    if (is_connector_key(k) || k.starts_with("replication.policy.")) {
      const auto other = std::find_if(aliases_.begin(), aliases_.end(), [&](auto& a) { return a != alias; });
      out.notes.push_back(s.where() + ": MM2 ignores " + k +
                          " on a cluster (cluster settings configure clients): replication settings are "
                          "top-level or per pair, e.g. " +
                          alias + "->" + (other == aliases_.end() ? "B" : *other) + "." + k);
      continue;
    }
    if (auto why = explain(k, s)) {
      out.notes.push_back(shown(s) + ": " + *why);
      continue;
    }
    if (librdkafka_has(k)) {
      out.notes.push_back(shown(s) +
                          ": MM2 gives this to its Connect worker only; librdkafka has the same "
                          "property if you want it under client");
      continue;
    }
    out.notes.push_back(shown(s) + ": not a setting the importer knows; check it by hand");
  }
  return out;
}

std::optional<FlowOut> Importer::flow(const std::string& source, const std::string& target) {
  Settings& pair = pair_[{source, target}];
  const std::optional<Setting> enabled = pair_or_global(pair, "enabled");
  if (!enabled) return std::nullopt;
  const std::optional<bool> on = boolean(*enabled);
  if (!on || !*on) return std::nullopt;

  FlowOut f;
  Mm2Pair& p = f.pair;
  p.source = source;
  p.target = target;
  p.flow = source + "-to-" + target;
  p.line = enabled->line;
  f.lead = shown(*enabled) + (enabled->key == "enabled" ? ": top-level, so every pair" : "");

  // Topics. MM2's own excludes replace its defaults; mirror always adds them.
  auto pattern_list = [&](const std::string& key, const std::string& legacy, std::string_view what,
                          std::optional<Setting>& used) -> std::optional<std::vector<std::string>> {
    used = pair_or_global(pair, key);
    const std::optional<Setting> old = legacy.empty() ? std::nullopt : pair_or_global(pair, legacy);
    if (used && old) {
      warn(old->line, old->key + " is ignored because " + used->key + " is set (MM2 does the same)",
           "remove " + old->key);
    }
    if (!used) used = old;
    if (!used) return std::nullopt;
    return patterns(*used, what);
  };

  std::optional<Setting> topics_at;
  const auto topics = pattern_list("topics", "", "topics", topics_at);
  if (topics && !(topics->size() == 1 && (*topics)[0] == ".*")) {
    f.topics_include = {yaml::string_list(*topics), topics_at->where()};
  } else {
    f.topics_include = {"", ""};
  }
  auto excludes = [&](const std::optional<std::vector<std::string>>& given, const std::optional<Setting>& at,
                      std::span<const std::string_view> defaults,
                      std::initializer_list<std::string_view> same, std::string_view what) -> Field {
    if (!given) return {"[]", "+ mirror's built-in excludes (MM2's defaults)"};
    std::vector<std::string> own, missing;
    for (const auto& p2 : *given) {
      const bool is_default = std::find(defaults.begin(), defaults.end(), p2) != defaults.end() ||
                              std::find(same.begin(), same.end(), p2) != same.end();
      if (!is_default) own.push_back(p2);
    }
    for (auto d : defaults) {
      const bool listed = std::find(given->begin(), given->end(), std::string(d)) != given->end() ||
                          // Other spellings of the first default count, MM2 4.x's narrower one does not.
                          (d == defaults.front() && std::any_of(same.begin(), same.end(), [&](auto s2) {
                             return s2 != kMm2v4InternalExclude &&
                                    std::find(given->begin(), given->end(), std::string(s2)) != given->end();
                           }));
      if (!listed) missing.push_back(std::string(d));
    }
    if (!missing.empty()) {
      f.notes.push_back(at->where() + " replaced MM2's default " + std::string(what) +
                        " excludes; mirror always keeps them, so " + std::string(what) + "s matching " +
                        join(missing, ", ") + " stay excluded (MM2 would have copied them)");
    }
    return {yaml::string_list(own), at->where() + " + mirror's built-in excludes"};
  };
  std::optional<Setting> texcl_at;
  const auto texcl = pattern_list("topics.exclude", "topics.blacklist", "topics.exclude", texcl_at);
  f.topics_exclude = excludes(
      texcl, texcl_at, spec::defaults::kTopicExcludes,
      {".*[-.]internal", ".*[\\-.]internal", ".*[-\\.]internal", ".*[.-]internal", kMm2v4InternalExclude},
      "topic");
  if (!texcl) {
    f.notes.push_back(
        "topics.exclude not set: MM2 4.x's default names only mm2.*\\.internal, while mirror never "
        "copies any *.internal or *-internal topic");
  }

  // Naming.
  const std::optional<Setting> policy = pair_or_global(pair, "replication.policy.class");
  const std::string policy_class = policy ? trim(policy->value) : std::string(kDefaultPolicy);
  if (policy_class == kDefaultPolicy || policy_class == "DefaultReplicationPolicy") {
    p.naming = spec::Naming::prefix;
  } else if (policy_class == kIdentityPolicy || policy_class == "IdentityReplicationPolicy") {
    p.naming = spec::Naming::identity;
  } else {
    error(policy->line,
          "replication policy " + policy_class + " (" + policy->key + ") has no mirror equivalent",
          "mirror names target topics with prefix naming (DefaultReplicationPolicy: A.orders) or identity "
          "naming (IdentityReplicationPolicy: orders); if your policy behaves like one of them, set that "
          "class in a copy of the file and import it again");
  }
  const std::optional<Setting> sep = pair_or_global(pair, "replication.policy.separator");
  if (sep) {
    p.separator = trim(sep->value);
    if (p.separator.find("${") != std::string::npos) {
      error(sep->line, sep->key + " contains ${, which a mirror spec reads as a reference",
            "topic names cannot contain $ { }: use the separator your target topics really have");
      p.separator = ".";
    } else if (p.separator.empty()) {
      error(sep->line, sep->key + " is empty",
            "remove it to use MM2's default \".\", or set the separator your target topics use");
      p.separator = ".";
    }
  }
  if (auto internal = pair_or_global(pair, "replication.policy.internal.topic.separator.enabled")) {
    if (auto b = boolean(*internal)) p.internal_topic_separator = *b;
  }
  const std::string isep = p.internal_topic_separator ? p.separator : ".";
  p.checkpoints_topic = source + isep + "checkpoints" + isep + "internal";
  std::string location = "source";
  if (auto loc = pair_or_global(pair, "offset-syncs.topic.location")) location = lower(trim(loc->value));
  p.offset_syncs_cluster = location == "target" ? target : source;
  p.offset_syncs_topic =
      "mm2-offset-syncs" + isep + (location == "target" ? source : target) + isep + "internal";
  auto connect_topic = [&](const std::string& key, const std::string& kind) {
    if (auto g = global_.find(key); g != global_.end()) return trim(g->second.value);
    if (auto c = cluster_[target].find(key); c != cluster_[target].end()) return trim(c->second.value);
    return "mm2-" + kind + "." + source + ".internal";
  };
  p.offsets_topic = connect_topic("offset.storage.topic", "offsets");
  p.status_topic = connect_topic("status.storage.topic", "status");
  p.configs_topic = connect_topic("config.storage.topic", "configs");

  const std::string policy_origin = policy ? policy->where() : "MM2's default DefaultReplicationPolicy";
  if (p.naming == spec::Naming::prefix) {
    f.naming = {"prefix", policy_origin + ": " + source + p.separator + "orders on " + target};
    if (p.separator != ".") f.separator = {yaml::scalar(p.separator), sep->where()};
  } else {
    f.naming = {"identity", policy_origin + ": orders stays orders on " + target};
    if (sep) {
      f.notes.push_back(sep->where() + ": identity naming does not use a separator for topic names");
    }
  }
  if (p.checkpoints_topic != source + ".checkpoints.internal") {
    f.notes.push_back("checkpoints: MM2 kept them in " + p.checkpoints_topic + "; mirror writes them to " +
                      source +
                      ".checkpoints.internal. Java clients that translate offsets with RemoteClusterUtils "
                      "and replication.policy.separator = " +
                      p.separator +
                      " must also set replication.policy.internal.topic.separator.enabled = false to read "
                      "mirror's");
  }

  // Replication factor.
  if (auto rf = pair_or_global(pair, "replication.factor")) {
    if (auto n = integer(*rf)) {
      if (*n == 0 || *n < -1 || *n > 32767) {
        error(rf->line, rf->key + " must be -1 (the broker's default) or 1 to 32767, not " + rf->value,
              "set the number of copies the target topics should have, e.g. 3");
      } else {
        f.replication_factor = {std::to_string(*n), rf->where()};
      }
    }
  } else {
    f.replication_factor = {std::to_string(kMm2ReplicationFactor),
                            "MM2's default replication.factor (-1: the target broker's default)"};
  }

  // Topic configs and ACLs.
  auto flag = [&](const std::string& key, bool mm2_default) -> std::pair<bool, std::string> {
    const std::optional<Setting> s = pair_or_global(pair, key);
    if (!s) return {mm2_default, "MM2's default " + key};
    const std::optional<bool> b = boolean(*s);
    return {b.value_or(mm2_default), s->where()};
  };
  const auto [configs_sync, configs_origin] = flag("sync.topic.configs.enabled", true);
  f.configs_sync = {configs_sync ? "true" : "false", configs_origin};
  std::optional<Setting> cexcl_at;
  const auto cexcl = pattern_list("config.properties.exclude", "config.properties.blacklist",
                                  "config.properties.exclude", cexcl_at);
  if (!cexcl) {
    f.configs_exclude = {"[]", "+ mirror's built-in excludes (MM2's defaults)"};
  } else {
    auto unescaped = [](std::string_view s) {
      std::string out;
      for (char c : s) {
        if (c != '\\') out += c;
      }
      return out;
    };
    std::vector<std::string> own, missing;
    for (const auto& c : *cexcl) {
      const bool is_default =
          std::any_of(spec::defaults::kConfigExcludes.begin(), spec::defaults::kConfigExcludes.end(),
                      [&](auto d) { return unescaped(d) == unescaped(c); });
      if (!is_default) own.push_back(c);
    }
    for (auto d : spec::defaults::kConfigExcludes) {
      if (std::none_of(cexcl->begin(), cexcl->end(),
                       [&](const auto& c) { return unescaped(d) == unescaped(c); }))
        missing.push_back(unescaped(d));
    }
    if (!missing.empty()) {
      f.notes.push_back(cexcl_at->where() + " replaced MM2's default config excludes; mirror never copies " +
                        join(missing, ", ") + " (MM2 would have)");
    }
    f.configs_exclude = {yaml::string_list(own), cexcl_at->where() + " + mirror's built-in excludes"};
  }
  const auto [acls_sync, acls_origin] = flag("sync.topic.acls.enabled", true);
  f.acls_sync = {acls_sync ? "true" : "false", acls_origin};

  // Groups.
  std::optional<Setting> groups_at;
  const auto groups = pattern_list("groups", "", "groups", groups_at);
  if (groups && !(groups->size() == 1 && (*groups)[0] == ".*")) {
    f.groups_include = {yaml::string_list(*groups), groups_at->where()};
  } else {
    f.groups_include = {"", ""};
  }
  std::optional<Setting> gexcl_at;
  const auto gexcl = pattern_list("groups.exclude", "groups.blacklist", "groups.exclude", gexcl_at);
  f.groups_exclude = excludes(gexcl, gexcl_at, spec::defaults::kGroupExcludes, {}, "group");
  const auto [sync_groups, sync_origin] = flag("sync.group.offsets.enabled", false);
  const auto [checkpoints, checkpoints_origin] = flag("emit.checkpoints.enabled", true);
  f.sync_offsets = {sync_groups ? "true" : "false", sync_origin};
  if (!sync_groups) {
    f.notes.push_back(checkpoints
                          ? "checkpoints only: MM2 left the groups on " + target +
                                " alone (sync.group.offsets.enabled is false). mirror writes checkpoints "
                                "only while it syncs "
                                "groups: with groups.sync_offsets: true it moves target groups that are "
                                "empty or absent and "
                                "writes MM2-format checkpoints (docs/offsets.md)"
                          : "no group offsets: MM2 neither synced nor checkpointed consumer groups (" +
                                checkpoints_origin + "); groups.sync_offsets: false keeps it that way");
  } else if (!checkpoints) {
    f.notes.push_back(
        checkpoints_origin +
        ": mirror always writes MM2-format checkpoints when it syncs groups, so that Java clients "
        "using RemoteClusterUtils keep working");
  }

  // Where new partitions start: MM2's source consumer uses auto.offset.reset (default earliest).
  std::optional<Setting> reset = pair_or_global(pair, "source.consumer.auto.offset.reset");
  if (!reset) reset = pair_or_global(pair, "consumer.auto.offset.reset");
  std::string start = "earliest";
  std::string start_origin = "MM2 reads new partitions from the earliest offset";
  if (reset) {
    start = lower(trim(reset->value));
    start_origin = reset->where();
  } else if (auto it = start_by_source_.find(source); it != start_by_source_.end()) {
    start = lower(trim(it->second.value));
    start_origin = it->second.where();
  }
  if (start != "earliest" && start != "latest") {
    f.notes.push_back(start_origin +
                      ": auto.offset.reset = " + (reset && withheld(*reset) ? "(withheld)" : start) +
                      " has no equivalent; mirror starts new partitions at earliest or latest");
    start = "earliest";
  }
  f.start = {start, start_origin};

  // Exactly once: MM2's worker setting for the target cluster.
  bool eos = false;
  std::string eos_origin = "MM2 copies at least once (no " + target + ".exactly.once.source.support)";
  if (auto it = cluster_[target].find("exactly.once.source.support"); it != cluster_[target].end()) {
    const std::string v = lower(trim(it->second.value));
    eos_origin = it->second.where();
    if (v == "enabled") {
      eos = true;
    } else if (v == "preparing") {
      f.notes.push_back(
          it->second.where() +
          ": \"preparing\" is the first step of MM2's exactly-once upgrade; mirror copies at least "
          "once until you set exactly_once: true");
    } else if (v != "disabled") {
      error(it->second.line,
            it->second.key + " must be enabled, preparing or disabled, not " + quoted_value(it->second),
            "MM2 refuses any other value");
    }
  }
  if (auto req = pair_or_global(pair, "exactly.once.support")) {
    const std::string v = lower(trim(req->value));
    if (v == "required" && !eos) {
      f.notes.push_back(req->where() + ": required, but " + target +
                        ".exactly.once.source.support is not enabled, so MM2 would not start this pair; the "
                        "spec asks for exactly_once: false");
    }
  }
  f.exactly_once = {eos ? "true" : "false", eos_origin};

  // The pair's other settings.
  for (const auto& [k, s] : pair) {
    if (is_translated_flow_key(k) || k == "exactly.once.support") continue;
    if (auto why = explain(k, s)) {
      f.notes.push_back(shown(s) + ": " + *why);
      continue;
    }
    bool role = false;
    for (std::string_view r : {"consumer.", "producer.", "admin.", "source.", "target."})
      role |= k.starts_with(r);
    if (role) {
      f.notes.push_back(shown(s) +
                        ": a client setting for one of MM2's connectors; mirror tunes its own clients "
                        "(docs/engine.md). Put what " +
                        source + " or " + target + " needs under their client");
      continue;
    }
    f.notes.push_back(shown(s) + ": not a setting the importer knows; check it by hand");
  }
  return f;
}

std::string Importer::render(const std::vector<ClusterOut>& clusters, const std::vector<FlowOut>& flows) {
  yaml::Writer w;
  w.comment(0, "Imported from " + base_name_ + " (MirrorMaker 2) by `mirror import mm2`.");
  w.comment(
      0,
      "Comments name the MM2 setting behind each value; \"MM2:\" comments are settings the spec expresses "
      "differently or not at all. Read them before `mirror plan`. No secret was copied.");
  if (!env_.empty()) {
    w.comment(0, "Export these before running mirror:");
    for (const auto& e : env_) w.comment(0, "  " + e.name + ": " + e.description);
  }
  std::sort(header_notes_.begin(), header_notes_.end());
  std::sort(flows_notes_.begin(), flows_notes_.end());
  for (const auto& [line, n] : header_notes_) w.comment(0, "MM2: " + n);
  w.raw("version: 1");
  w.open(0, "clusters",
         "MM2's clusters = " + join(aliases_, ", ") + " (line " + std::to_string(clusters_line_) + ")");
  for (const auto& c : clusters) {
    w.open(2, yaml::scalar(c.alias));
    w.entry(4, "bootstrap", c.bootstrap.value, c.bootstrap.comment);
    // The usual order: protocol, mechanism, credentials, then the rest by name.
    std::vector<const ClientProperty*> props;
    for (std::string_view first : {"security.protocol", "sasl.mechanism", "sasl.username", "sasl.password"}) {
      if (auto it = c.client.properties.find(std::string(first)); it != c.client.properties.end())
        props.push_back(&it->second);
    }
    for (const auto& [name, prop] : c.client.properties) {
      if (std::find(props.begin(), props.end(), &prop) == props.end()) props.push_back(&prop);
    }
    if (!props.empty()) {
      w.open(4, "client");
      for (const auto* prop : props)
        w.entry(6, yaml::scalar(prop->name), yaml::scalar(prop->raw), prop->comment);
    }
    for (const auto& n : c.client.notes) w.comment(props.empty() ? 4 : 6, "MM2: " + n);
    for (const auto& n : c.notes) w.comment(4, "MM2: " + n);
  }
  if (flows.empty()) {
    w.raw("flows: []");
    w.comment(0, "MM2: no <source>-><target>.enabled = true, so MM2 replicated nothing; add flows by hand.");
  } else {
    w.open(0, "flows");
  }
  for (const auto& [line, n] : flows_notes_) w.comment(2, "MM2: " + n);
  for (const auto& f : flows) {
    w.comment(2, f.lead);
    w.entry(2, "- name", yaml::scalar(f.pair.flow));
    w.entry(4, "source", yaml::scalar(f.pair.source));
    w.entry(4, "target", yaml::scalar(f.pair.target));
    w.open(4, "topics");
    if (!f.topics_include.value.empty())
      w.entry(6, "include", f.topics_include.value, f.topics_include.comment);
    w.entry(6, "exclude", f.topics_exclude.value, f.topics_exclude.comment);
    w.entry(4, "naming", f.naming.value, f.naming.comment);
    if (!f.separator.value.empty()) w.entry(4, "separator", f.separator.value, f.separator.comment);
    if (!f.replication_factor.value.empty())
      w.entry(4, "replication_factor", f.replication_factor.value, f.replication_factor.comment);
    w.open(4, "configs");
    w.entry(6, "sync", f.configs_sync.value, f.configs_sync.comment);
    w.entry(6, "exclude", f.configs_exclude.value, f.configs_exclude.comment);
    w.open(4, "acls");
    w.entry(6, "sync", f.acls_sync.value, f.acls_sync.comment);
    w.open(4, "groups");
    if (!f.groups_include.value.empty())
      w.entry(6, "include", f.groups_include.value, f.groups_include.comment);
    w.entry(6, "exclude", f.groups_exclude.value, f.groups_exclude.comment);
    w.entry(6, "sync_offsets", f.sync_offsets.value, f.sync_offsets.comment);
    w.entry(4, "start", f.start.value, f.start.comment);
    w.entry(4, "exactly_once", f.exactly_once.value, f.exactly_once.comment);
    for (const auto& n : f.notes) w.comment(4, "MM2: " + n);
  }
  if (!stray_.empty() || std::any_of(pair_.begin(), pair_.end(), [&](const auto& kv) {
        return !kv.second.empty() && std::none_of(flows.begin(), flows.end(), [&](const FlowOut& f) {
          return f.pair.source == kv.first.first && f.pair.target == kv.first.second;
        });
      })) {
    w.comment(0, "MM2: settings of pairs that are not enabled, which MM2 ignored:");
    for (const auto& [st, settings] : pair_) {
      const bool enabled = std::any_of(flows.begin(), flows.end(), [&](const FlowOut& f) {
        return f.pair.source == st.first && f.pair.target == st.second;
      });
      if (enabled) continue;
      for (const auto& [k, s] : settings) w.comment(0, "MM2:   " + shown(s));
    }
    for (const auto& s : stray_) {
      w.comment(0, "MM2:   " + shown(s) + ": names a cluster that is not in clusters");
    }
  }
  return w.text();
}

Result<ImportResult, std::vector<Problem>> Importer::run(std::string_view text) {
  base_name_ = file_.substr(file_.find_last_of('/') == std::string::npos ? 0 : file_.find_last_of('/') + 1);
  auto props = parse_properties(text, file_);
  if (!props) return fail(std::vector<Problem>{props.error()});
  // `clusters` first: every other key is read relative to the aliases.
  std::optional<Setting> clusters;
  for (const auto& p : *props) {
    if (p.key == "clusters") clusters = Setting{p.key, p.value, p.line, p.dropped_backslash};
  }
  if (!clusters) {
    error(0, "no `clusters` setting: this is not a MirrorMaker 2 dedicated-mode configuration",
          "an MM2 file starts with the cluster aliases, e.g. clusters = A, B, then A.bootstrap.servers = "
          "host:port, B.bootstrap.servers = host:port and A->B.enabled = true");
    return fail(errors_);
  }
  clusters_line_ = clusters->line;
  for (const auto& a : split_list(clusters->value)) {
    if (a.empty()) continue;
    if (std::find(aliases_.begin(), aliases_.end(), a) != aliases_.end()) {
      warn(clusters->line, "cluster " + a + " is listed twice in clusters");
      continue;
    }
    if (!std::all_of(a.begin(), a.end(), is_alias_char)) {
      error(
          clusters->line, "cluster alias " + in_quotes(a) + " cannot be a mirror cluster alias",
          "mirror aliases use letters, digits, - and _ only (the alias prefixes mirrored topics, A.orders); "
          "rename it in the MM2 file (its <alias>. and ->) and import again, knowing that prefixed target "
          "topic names change with it");
    }
    aliases_.push_back(a);
  }
  if (aliases_.empty()) {
    error(clusters->line, "clusters is empty", "list the cluster aliases, e.g. clusters = A, B");
    return fail(errors_);
  }
  classify(*props);
  read_providers();

  for (const auto& s : stray_) {
    const std::string key = s.key;
    if (!key.ends_with(".enabled")) continue;
    const std::string lhs = key.substr(0, key.find("->"));
    const std::string rhs = key.substr(key.find("->") + 2, key.size() - key.find("->") - 2 - 8);
    if (lower(trim(s.value)) != "true") continue;
    const std::string missing =
        std::find(aliases_.begin(), aliases_.end(), lhs) == aliases_.end() ? lhs : rhs;
    error(s.line,
          key + " replicates with cluster " + in_quotes(missing) + ", which is not in clusters = " +
              join(aliases_, ", ") + " (line " + std::to_string(clusters_line_) + ")",
          "add " + missing + " to clusters and set " + missing + ".bootstrap.servers, or remove the line");
  }

  // Top-level settings that are not about one flow.
  for (const auto& [k, s] : global_) {
    if (is_java_security_setting(k) || k == "bootstrap.servers") continue;  // every cluster's default
    if (is_translated_flow_key(k) || k.starts_with("config.providers")) continue;
    if (k == "exactly.once.source.support") {
      header_notes_.emplace_back(
          s.line, shown(s) +
                      ": MM2 reads this per target cluster (e.g. B.exactly.once.source.support), not at "
                      "the top level, so MM2 copied at least once; set exactly_once: true on the flows "
                      "if you want it");
      continue;
    }
    if (k.starts_with("consumer.") || k.starts_with("producer.") || k.starts_with("admin.")) {
      header_notes_.emplace_back(s.line, shown(s) +
                                             ": MM2 ignores top-level client settings other than "
                                             "security ones; mirror tunes its own clients");
      continue;
    }
    if (k == "client.id") {
      header_notes_.emplace_back(s.line, shown(s) + ": mirror names its clients mirror-<alias>-<role>");
      continue;
    }
    if (auto why = explain(k, s)) {
      (is_connector_key(k) ? flows_notes_ : header_notes_).emplace_back(s.line, shown(s) + ": " + *why);
      continue;
    }
    header_notes_.emplace_back(s.line, shown(s) + ": not a setting the importer knows; check it by hand");
  }
  if (auto cp = global_.find("config.providers"); cp != global_.end()) {
    header_notes_.emplace_back(cp->second.line, shown(cp->second) + " and its config.providers.* settings: " +
                                                    *explain(cp->first, cp->second));
  }

  std::vector<ClusterOut> clusters_out;
  for (const auto& a : aliases_) clusters_out.push_back(cluster(a));
  std::vector<FlowOut> flows;
  for (const auto& s : aliases_) {
    for (const auto& t : aliases_) {
      if (s == t) {
        if (auto it = pair_.find({s, t}); it != pair_.end()) {
          if (auto en = it->second.find("enabled");
              en != it->second.end() && lower(trim(en->second.value)) == "true")
            error(en->second.line, en->second.key + ": a cluster cannot replicate to itself",
                  "remove the line; MM2 ignores it");
          pair_.erase(it);
        }
        continue;
      }
      if (auto f = flow(s, t)) flows.push_back(std::move(*f));
    }
  }
  // Identity naming both ways copies every record back and forth forever.
  for (const auto& a : flows) {
    for (const auto& b : flows) {
      if (a.pair.source == b.pair.target && a.pair.target == b.pair.source && a.pair.source < b.pair.source &&
          a.pair.naming == spec::Naming::identity && b.pair.naming == spec::Naming::identity) {
        error(b.pair.line,
              a.pair.source + "->" + a.pair.target + " and " + b.pair.source + "->" + b.pair.target +
                  " both use IdentityReplicationPolicy: every record would be copied back and forth forever",
              "use DefaultReplicationPolicy (prefix naming) for at least one direction, e.g. " +
                  b.pair.source + "->" + b.pair.target +
                  ".replication.policy.class = " + std::string(kDefaultPolicy));
      }
    }
  }

  if (!errors_.empty()) return fail(sorted(errors_));

  std::sort(env_.begin(), env_.end());
  env_.erase(std::unique(env_.begin(), env_.end()), env_.end());
  ImportResult result;
  result.yaml = render(clusters_out, flows);
  for (const auto& c : clusters_out) {
    result.mm2.bootstrap[c.alias] = c.bootstrap_raw;
  }
  result.mm2.clusters = aliases_;
  for (const auto& f : flows) result.mm2.pairs.push_back(f.pair);
  result.env = env_;

  // The spec must load as mirror will load it; anything else is a bug in this importer.
  spec::Origin origin{base_name_ + " (imported)", std::nullopt, std::nullopt, ""};
  const spec::LoadResult loaded = spec::parse_files({{base_name_ + " (imported)", result.yaml}}, origin);
  for (const auto& d : loaded.diagnostics.sorted()) {
    // The generated line's comment names the MM2 line its value came from: report it there.
    Problem p{file_, mm2_line_of(result.yaml, d.where.line), d.message, d.hint};
    if (p.line == 0) p.message = "the generated spec: " + p.message;
    if (d.severity == spec::Severity::error) {
      errors_.push_back(p);
    } else {
      notes_.push_back(p);
    }
  }
  if (!errors_.empty()) return fail(sorted(errors_));
  result.notes = sorted(notes_);
  return result;
}

}  // namespace

Result<ImportResult, std::vector<Problem>> import_mm2(std::string_view text, std::string_view file) {
  Importer importer(file);
  return importer.run(text);
}

}  // namespace mirror::importer

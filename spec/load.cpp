#include "spec/load.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>
#include <dtl/dtl.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <fstream>
#include <set>
#include <span>
#include <sstream>

#include "common/hash.h"
#include "common/secrets.h"
#include "spec/defaults.h"
#include "spec/trust.h"
#include "spec/value.h"

namespace mirror::spec {

namespace {

// ---------------------------------------------------------------------------------------------------
// Helpers shared by every section of the parser.

size_t edit_distance(std::string_view a, std::string_view b) {
  dtl::Diff<char, std::string_view> d(a, b);
  d.onOnlyEditDistance();
  d.compose();
  return static_cast<size_t>(d.getEditDistance());
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// The allowed key closest to `key`, if it is close enough to be a likely typo.
std::optional<std::string_view> nearest(std::string_view key, std::span<const std::string_view> allowed) {
  for (auto a : allowed) {
    if (iequals(key, a)) return a;  // "b" for "B": a case slip beats any other near miss
  }
  std::optional<std::string_view> best;
  size_t best_d = std::max<size_t>(3, key.size() / 3) + 1;
  for (auto a : allowed) {
    size_t d = edit_distance(key, a);
    // The distance counts insertions and deletions, so the two share (|key| + |a| - d) / 2 characters;
    // suggest only words that keep at least half of the longer one ("C" is no typo of "A").
    const size_t common = (key.size() + a.size() - d) / 2;
    if (2 * common < std::max(key.size(), a.size())) continue;
    if (d < best_d) {
      best_d = d;
      best = a;
    }
  }
  return best;
}

std::string join(std::span<const std::string_view> items) {
  std::string s;
  for (auto i : items) s += (s.empty() ? "" : ", ") + std::string(i);
  return s;
}

std::string type_name(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map: return "a mapping";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Scalar: return "a scalar";
    case YAML::NodeType::Null: return "nothing (null)";
    default: return "an undefined value";
  }
}

class Parser {
 public:
  // `content` is the text yaml-cpp's marks count positions in (without a byte order mark).
  Parser(const std::string& file, std::string_view content, Diagnostics& diags,
         const OperatorSettings& settings)
      : file_(file), content_(content), diags_(diags), settings_(settings) {}

  Location at(const YAML::Node& n) const {
    if (n.IsNull()) {
      // yaml-cpp marks a missing value ("bootstrap:" and nothing) at the next token, often on the next
      // line; point at its key instead.
      for (const auto& [node, where] : null_values_) {
        if (node.is(n)) return where;
      }
    }
    const YAML::Mark m = n.Mark();
    if (m.is_null()) return Location{file_, 0, 0};
    return Location{file_, m.line + 1, m.column + 1};
  }

  // The place of the character at `offset` in the scalar's value, counting escapes in quoted scalars
  // ("orders\\..*" is one character shorter than written). Falls back to the scalar's start when the
  // value spans lines or is a block scalar.
  Location at_offset(const YAML::Node& n, size_t offset) const {
    Location l = at(n);
    const YAML::Mark m = n.Mark();
    if (m.is_null() || m.pos < 0 || static_cast<size_t>(m.pos) >= content_.size()) return l;
    const size_t start = static_cast<size_t>(m.pos);
    const char quote = content_[start];
    if (quote == '|' || quote == '>') return l;
    size_t i = start;
    if (quote == '"' || quote == '\'') {
      ++i;
      for (size_t decoded = 0; decoded < offset && i < content_.size(); ++decoded) {
        if (content_[i] == '\n') return l;
        if (quote == '"' && content_[i] == '\\' && i + 1 < content_.size()) {
          const char e = content_[i + 1];
          i += e == 'x' ? 4 : e == 'u' ? 6 : e == 'U' ? 10 : 2;
        } else if (quote == '\'' && content_[i] == '\'') {
          i += 2;  // '' stands for one '
        } else {
          ++i;
        }
      }
    } else {
      if (content_.find('\n', start) < start + offset) return l;
      i = start + offset;
    }
    l.column += static_cast<int>(i - start);
    return l;
  }

  void error(const YAML::Node& n, std::string msg, std::string hint = "") {
    diags_.error(at(n), std::move(msg), std::move(hint));
  }
  void warning(const YAML::Node& n, std::string msg, std::string hint = "") {
    diags_.warning(at(n), std::move(msg), std::move(hint));
  }
  Diagnostics& diags() { return diags_; }
  const std::string& file() const { return file_; }
  const OperatorSettings& settings() const { return settings_; }

  bool is_map(const YAML::Node& n, std::string_view what) {
    if (n.IsMap()) return true;
    error(n, std::string(what) + " must be a mapping (key: value lines), not " + type_name(n),
          "write key: value lines indented under it, or {key: value, ...} on one line");
    return false;
  }

  // Checks that every key is allowed and appears once; returns the key -> (key node, value) pairs.
  std::vector<std::pair<YAML::Node, YAML::Node>> entries(const YAML::Node& map,
                                                         std::span<const std::string_view> allowed,
                                                         std::string_view context) {
    std::vector<std::pair<YAML::Node, YAML::Node>> out;
    std::map<std::string, Location> seen;
    for (auto it = map.begin(); it != map.end(); ++it) {
      // Copies: the iterator yields temporaries, so references to its members would dangle.
      const YAML::Node k = it->first;
      if (!k.IsScalar()) {
        error(k, "keys in " + std::string(context) + " must be plain names, not " + type_name(k));
        continue;
      }
      const std::string key = k.Scalar();
      if (it->second.IsNull()) null_values_.emplace_back(it->second, at(k));
      if (auto [pos, fresh] = seen.emplace(key, at(k)); !fresh) {
        diags_.error(at(k), "duplicate key \"" + key + "\" in " + std::string(context),
                     "remove one of them: YAML keeps only one value per key", {pos->second});
        continue;
      }
      if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
        std::string hint = "valid keys here: " + join(allowed);
        if (auto n = nearest(key, allowed)) hint = "did you mean \"" + std::string(*n) + "\"? (" + hint + ")";
        error(k, "unknown key \"" + key + "\" in " + std::string(context), hint);
        continue;
      }
      out.emplace_back(k, YAML::Node(it->second));
    }
    return out;
  }

  std::optional<std::string> string(const YAML::Node& n, std::string_view what) {
    if (n.IsScalar()) return n.Scalar();
    error(n, std::string(what) + " must be a string, not " + type_name(n),
          n.IsNull() ? "write a value after the colon"
                     : "write a single value; quote it if it contains any of : , [ ] { } #");
    return std::nullopt;
  }

  // Scalars only; rejects references where they would not be resolved.
  std::optional<std::string> plain_string(const YAML::Node& n, std::string_view what) {
    auto s = string(n, what);
    if (s && s->find("${") != std::string::npos) {
      auto refs = parse_references(*s);
      if (!std::holds_alternative<std::vector<Reference>>(refs) ||
          !std::get<std::vector<Reference>>(refs).empty()) {
        error(n, std::string(what) + " cannot use ${...} references",
              "references are allowed only in a cluster's credentials (sasl.username, sasl.password, "
              "ssl.key.password, ...)");
        return std::nullopt;
      }
    }
    return s;
  }

  std::optional<bool> boolean(const YAML::Node& n, std::string_view what) {
    if (n.IsScalar()) {
      const std::string& s = n.Scalar();
      if (s == "true") return true;
      if (s == "false") return false;
    }
    error(n, std::string(what) + " must be true or false, not " + describe_value(n),
          "write true or false (yes, no, on and off are not booleans in YAML 1.2)");
    return std::nullopt;
  }

  std::optional<int64_t> integer(const YAML::Node& n, std::string_view what) {
    if (n.IsScalar()) {
      const std::string& s = n.Scalar();
      int64_t v = 0;
      auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
      if (ec == std::errc() && p == s.data() + s.size()) return v;
    }
    error(n, std::string(what) + " must be a whole number, not " + describe_value(n),
          "write digits only (and a leading - if negative), without quotes, units or a decimal point");
    return std::nullopt;
  }

  std::string describe_value(const YAML::Node& n) {
    if (n.IsScalar()) return "\"" + n.Scalar() + "\"";
    return type_name(n);
  }

  // A value that may hold references (cluster fields): checks their syntax now.
  std::optional<Value> value(const YAML::Node& n, std::string_view what) {
    auto s = string(n, what);
    if (!s) return std::nullopt;
    Value v{*s, at(n)};
    auto refs = parse_references(*s);
    if (auto* err = std::get_if<ReferenceError>(&refs)) {
      diags_.error(at_offset(n, err->offset), err->message,
                   "write ${env:NAME} or ${file:PATH}; $$ stands for a literal $");
      return std::nullopt;
    }
    return v;
  }

  // "*" or "*.orders" is a shell glob: a "*" with nothing before it to repeat.
  static bool looks_like_glob(const std::string& s, size_t offset) {
    return offset < s.size() && s[offset] == '*' &&
           (offset == 0 || s[offset - 1] == '|' || s[offset - 1] == '(');
  }
  static constexpr const char* kGlobHint =
      "this looks like a glob: in a regular expression \"anything\" is .* (e.g. \"orders\\\\..*\")";
  static constexpr const char* kRegexHint =
      "patterns use Java/PCRE syntax and must match the whole name; escape a literal dot as \\\\. inside "
      "double quotes, or \\. inside single quotes";

  // A list of regexes, each compiled; a syntax error points into the pattern.
  std::vector<Pattern> patterns(const YAML::Node& n, std::string_view what) {
    std::vector<Pattern> out;
    if (!n.IsSequence()) {
      error(n, std::string(what) + " must be a list of regular expressions, not " + describe_value(n),
            "write it as a YAML list, e.g. [\"orders\\\\..*\", \"payments\"]");
      return out;
    }
    for (const auto& item : n) {
      auto s = plain_string(item, std::string(what) + " entries");
      if (!s) continue;
      auto compiled = Pattern::compile(*s, at(item));
      if (auto* err = std::get_if<PatternError>(&compiled)) {
        diags_.error(at_offset(item, err->offset),
                     "invalid regular expression \"" + *s + "\": " + err->message + " at offset " +
                         std::to_string(err->offset),
                     looks_like_glob(*s, err->offset) ? kGlobHint : kRegexHint);
        continue;
      }
      out.push_back(std::get<Pattern>(std::move(compiled)));
    }
    return out;
  }

 private:
  std::string file_;
  std::string_view content_;
  Diagnostics& diags_;
  const OperatorSettings& settings_;
  std::vector<std::pair<YAML::Node, Location>> null_values_;  // null values and their keys' places
};

// ---------------------------------------------------------------------------------------------------
// Sections.

constexpr std::string_view kTopKeys[] = {"version", "name",   "clusters", "flows",
                                         "adopt",   "retire", "policies"};
constexpr std::string_view kClaimKeys[] = {"flow", "spec"};
constexpr std::string_view kClusterKeys[] = {"bootstrap", "client"};
constexpr std::string_view kFlowKeys[] = {
    "name",    "source", "target", "topics", "naming",      "separator", "replication_factor",
    "configs", "acls",   "groups", "start",  "exactly_once"};
constexpr std::string_view kTopicKeys[] = {"include", "exclude"};
constexpr std::string_view kConfigKeys[] = {"sync", "exclude"};
constexpr std::string_view kAclKeys[] = {"sync"};
constexpr std::string_view kGroupKeys[] = {"include", "exclude", "sync_offsets"};
constexpr std::string_view kNamings[] = {"prefix", "identity"};
constexpr std::string_view kPolicyKeys[] = {"rule", "level"};

// Where a flow's pieces were written, for checks that need to point at them.
struct FlowSource {
  Location source_at, target_at, naming_at, rf_at;
  bool include_given = false;
  bool name_given = false;  // false: the name is the default <source>-to-<target>
};

struct Partial {  // what the files add up to, before cross-checks
  // Some file has a version: key (even one with a wrong value).
  bool version_key = false;
  // Some file could not be parsed as a mapping, so whether it has a version is unknown.
  bool unreadable = false;
  std::optional<int64_t> version;
  std::optional<Location> version_at;
  std::map<std::string, Cluster> clusters;
  std::vector<Flow> flows;
  std::vector<FlowSource> flow_sources;
  std::vector<PolicyRule> policies;
  std::optional<std::string> name;  // the spec's name: (one file of a folder sets it)
  Location name_at;
  std::vector<FlowClaim> adopt, retire;
};

// A pattern with no regex metacharacters (after unescaping "\."), i.e. a literal topic name.
std::optional<std::string> literal_of(const Pattern& pat) {
  std::string out;
  const std::string& s = pat.source();
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '\\' && i + 1 < s.size() && (s[i + 1] == '.' || s[i + 1] == '-')) {
      out += s[++i];
      continue;
    }
    if (std::string_view(".[](){}*+?|^$\\").find(c) != std::string_view::npos) return std::nullopt;
    out += c;
  }
  return out;
}

// A name the pattern matches, for simple patterns: literal characters, escaped punctuation, ".", "[...]"
// classes and the quantifiers * + ? (each atom taken once: "orders\\..*" gives "orders.x"). nullopt for
// anything fancier. Callers test the sample against the full filters, so it is only used when it is a
// real name that both select.
std::optional<std::string> sample_of(const Pattern& pat) {
  std::string out;
  const std::string& s = pat.source();
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '\\') {
      if (i + 1 >= s.size() || std::isalnum(static_cast<unsigned char>(s[i + 1]))) return std::nullopt;
      out += s[++i];
    } else if (c == '.') {
      out += 'x';
    } else if (c == '[') {
      const size_t close = s.find(']', i + 2);
      if (close == std::string::npos || s[i + 1] == '^' || s[i + 1] == '\\') return std::nullopt;
      out += s[i + 1];
      i = close;
    } else if (c == '*' || c == '+' || c == '?') {
      if (i + 1 < s.size() && (s[i + 1] == '?' || s[i + 1] == '+')) ++i;  // lazy or possessive
    } else if (std::string_view("(){}|^$").find(c) != std::string_view::npos) {
      return std::nullopt;
    } else {
      out += c;
    }
  }
  return out;
}

void parse_bootstrap(Parser& p, const YAML::Node& n, Cluster& c) {
  if (n.IsSequence()) {
    p.error(n, "bootstrap of cluster " + c.alias + " must be one string, not a list",
            "write the brokers on one line separated by commas, e.g. kafka-1:9092,kafka-2:9092");
    return;
  }
  auto v = p.value(n, "bootstrap");
  if (!v) return;
  c.bootstrap = *v;
  // A reference would let the environment (or a file) choose the brokers mirror sends its credentials to.
  if (auto refs = parse_references(v->raw); !std::get<std::vector<Reference>>(refs).empty()) {
    const Reference& r = std::get<std::vector<Reference>>(refs).front();
    p.diags().error(p.at_offset(n, r.offset),
                    "bootstrap of cluster " + c.alias + " cannot use a reference (" + r.text + ")",
                    "write the brokers literally, e.g. kafka-1:9092,kafka-2:9092: the spec decides where "
                    "mirror connects (and sends its credentials), not the environment");
    return;
  }
  if (v->raw.empty()) {
    p.error(n, "bootstrap of cluster " + c.alias + " is empty",
            "list at least one broker as host:port, e.g. 10.0.0.1:9092");
    return;
  }
  const std::string& raw = v->raw;
  for (size_t begin = 0; begin <= raw.size();) {
    size_t end = std::min(raw.find(',', begin), raw.size());
    size_t first = raw.find_first_not_of(" \t", begin);
    const Location where = p.at_offset(n, first < end ? first : std::min(begin, raw.size() - 1));
    std::string item = raw.substr(begin, end - begin);
    begin = end + 1;
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    if (item.empty()) {
      p.diags().error(where, "bootstrap of cluster " + c.alias + " has an empty entry",
                      "remove the extra comma: write host:port,host:port");
      continue;
    }
    if (item.find_first_of(" \t") != std::string::npos) {
      p.diags().error(where, "bootstrap entry \"" + item + "\" of cluster " + c.alias + " contains a space",
                      "separate brokers with commas, e.g. kafka-1:9092,kafka-2:9092");
      continue;
    }
    // Accept an optional scheme prefix (PLAINTEXT://host:port), as Kafka tools do.
    std::string hostport = item.substr(item.find("://") == std::string::npos ? 0 : item.find("://") + 3);
    size_t colon = hostport.rfind(':');
    if (colon == std::string::npos || colon == 0) {
      p.diags().error(where, "bootstrap entry \"" + item + "\" of cluster " + c.alias + " is not host:port",
                      "write brokers as host:port separated by commas, e.g. kafka-1:9092,kafka-2:9092");
      continue;
    }
    int port = 0;
    auto [ptr, ec] = std::from_chars(hostport.data() + colon + 1, hostport.data() + hostport.size(), port);
    if (colon + 1 == hostport.size() || ec != std::errc() || ptr != hostport.data() + hostport.size() ||
        port <= 0 || port >= 65536) {
      p.diags().error(where,
                      "bootstrap entry \"" + item + "\" of cluster " + c.alias + " has an invalid port \"" +
                          hostport.substr(colon + 1) + "\"",
                      "a port is a number from 1 to 65535, e.g. kafka-1:9092");
    }
  }
}

// A client property the allowlist (spec/trust.h) accepts; otherwise an error at its key.
bool check_property_name(Parser& p, const YAML::Node& key, const std::string& prop,
                         const std::string& alias) {
  const PropertyCheck check = check_client_property(prop, p.settings());
  const std::string operator_allows =
      "if this runner really needs it, its operator can allow it outside the spec: "
      "MIRROR_ALLOW_CLIENT_PROPERTIES=" +
      prop + " in mirror's environment";
  switch (check.verdict) {
    case PropertyCheck::Verdict::allowed: return true;
    case PropertyCheck::Verdict::dangerous:
      p.error(key,
              "client property " + prop + " of cluster " + alias + " is not allowed in a spec: it " +
                  check.reason,
              "remove it; " + operator_allows);
      return false;
    case PropertyCheck::Verdict::debug:
      p.error(
          key, "client property debug of cluster " + alias + " is not allowed in a spec",
          "remove it: to see librdkafka's debug log, run mirror with MIRROR_KAFKA_DEBUG=broker,protocol,... "
          "(secrets are cut out of it)");
      return false;
    case PropertyCheck::Verdict::unknown: break;
  }
  if (prop == "metadata.broker.list") {
    p.error(key, "metadata.broker.list belongs in the cluster's bootstrap key, not in client",
            "move it to clusters." + alias + ".bootstrap");
    return false;
  }
  std::string hint;
  if (auto near = nearest(prop, allowed_client_properties())) {
    hint = "did you mean \"" + std::string(*near) + "\"?";
  } else {
    hint =
        "a spec may set the librdkafka properties a replication job needs (security.protocol, sasl.*, "
        "ssl.*, timeouts, batching and fetch sizes); " +
        operator_allows;
  }
  p.error(key, "client property " + prop + " of cluster " + alias + " is not one mirror accepts in a spec",
          hint);
  return false;
}

// Where a client property's value may point and what it may reference.
bool check_property_value(Parser& p, const YAML::Node& n, const std::string& prop, const Value& val,
                          const std::string& alias) {
  const auto refs = std::get<std::vector<Reference>>(parse_references(val.raw));
  if (!refs.empty() && !references_allowed_in(prop)) {
    p.diags().error(p.at_offset(n, refs.front().offset),
                    "client property " + prop + " of cluster " + alias + " cannot use a reference (" +
                        refs.front().text + ")",
                    "references are for credentials only (sasl.username, sasl.password, ssl.key.password, "
                    "sasl.oauthbearer.client.secret, ...): write this value literally");
    return false;
  }
  if (refs.empty()) {
    if (auto problem = check_property_value(prop, val.raw, p.settings())) {
      p.error(n, *problem + " in cluster " + alias,
              "remove it, or have the operator allow it in mirror's environment (docs/security.md)");
      return false;
    }
  }
  if (refs.empty() && is_file_location_property(prop)) {
    if (auto problem = check_location(prop, val.raw, /*follow_links=*/false)) {
      p.error(n, *problem + " in cluster " + alias,
              "point it at the certificate or key file itself, e.g. /etc/mirror/tls/ca.pem");
      return false;
    }
  }
  return true;
}

void parse_cluster(Parser& p, const YAML::Node& key, const YAML::Node& n, Partial& out) {
  Cluster c;
  c.alias = key.Scalar();
  c.where = p.at(key);
  // The alias is a prefix of topic names, which Kafka limits to [a-zA-Z0-9._-]; "." is the separator.
  if (c.alias.empty() || c.alias.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                   "0123456789_-") != std::string::npos) {
    p.error(key, "cluster alias \"" + c.alias + "\" must be a name made of letters, digits, - and _",
            "the alias becomes the prefix of mirrored topics (A.orders), so keep it short, e.g. us-east");
  }
  // A cluster that is not a mapping still defines its alias, so flows naming it get no second error.
  const bool is_map = p.is_map(n, "cluster " + c.alias);
  bool has_bootstrap = !is_map;
  for (auto& [k, v] : is_map ? p.entries(n, kClusterKeys, "cluster " + c.alias)
                             : std::vector<std::pair<YAML::Node, YAML::Node>>{}) {
    const std::string key_name = k.Scalar();
    if (key_name == "bootstrap") {
      has_bootstrap = true;
      parse_bootstrap(p, v, c);
    } else if (key_name == "client") {
      if (!p.is_map(v, "client properties of cluster " + c.alias)) continue;
      for (auto& [pk, pv] : p.entries(v, {}, "client properties of cluster " + c.alias)) {
        const std::string prop = pk.Scalar();
        if (prop == "bootstrap.servers") {
          p.error(pk, "bootstrap.servers belongs in the cluster's bootstrap key, not in client",
                  "move it to clusters." + c.alias + ".bootstrap");
          continue;
        }
        if (!check_property_name(p, pk, prop, c.alias)) continue;
        auto val = p.value(pv, "client property " + prop);
        if (!val) continue;
        if (!check_property_value(p, pv, prop, *val, c.alias)) continue;
        // File locations and URLs (ssl.key.location, sasl.kerberos.keytab, ...token.endpoint.url) name
        // where a secret is, not the secret.
        if (is_secret_property(prop) && !names_a_place(prop) && !val->raw.empty() && !val->has_references()) {
          p.warning(
              pv, "client property " + prop + " of cluster " + c.alias + " is a secret written into the spec",
              "use ${env:NAME} or ${file:PATH} so the secret stays out of git");
        }
        c.client.emplace(prop, std::move(*val));
      }
    }
  }
  if (!has_bootstrap) {
    p.error(key, "cluster " + c.alias + " has no bootstrap", "add bootstrap: host:port[,host:port...]");
  }
  if (auto it = out.clusters.find(c.alias); it != out.clusters.end()) {
    p.diags().error(c.where, "cluster " + c.alias + " is defined twice",
                    "keep one definition (files in a folder are merged)", {it->second.where});
    return;
  }
  out.clusters.emplace(c.alias, std::move(c));
}

void add_defaults(std::vector<Pattern>& patterns, std::span<const std::string_view> defaults) {
  for (auto d : defaults) patterns.push_back(builtin_pattern(std::string(d)));
}

void parse_filter(Parser& p, const YAML::Node& n, Filter& f, std::string_view what, bool& include_given,
                  std::span<const std::string_view> allowed) {
  if (!p.is_map(n, what)) return;
  for (auto& [k, v] : p.entries(n, allowed, what)) {
    const std::string key = k.Scalar();
    if (key == "include") {
      include_given = true;
      f.include = p.patterns(v, std::string(what) + ".include");
      if (v.IsSequence() && v.size() == 0) {
        p.warning(v, std::string(what) + ".include is empty, so it selects nothing",
                  "remove the key to select everything (the default is [\".*\"])");
      }
    } else if (key == "exclude") {
      auto ex = p.patterns(v, std::string(what) + ".exclude");
      f.exclude.insert(f.exclude.end(), ex.begin(), ex.end());
    }
  }
}

void parse_start(Parser& p, const YAML::Node& n, Flow& f) {
  auto s = p.plain_string(n, "start");
  if (!s) return;
  if (*s == "earliest") {
    f.start = {StartKind::earliest, 0};
  } else if (*s == "latest") {
    f.start = {StartKind::latest, 0};
  } else if (s->starts_with("timestamp:")) {
    std::string_view ms = std::string_view(*s).substr(10);
    int64_t v = 0;
    auto [ptr, ec] = std::from_chars(ms.data(), ms.data() + ms.size(), v);
    if (ms.empty() || ec != std::errc() || ptr != ms.data() + ms.size() || v < 0) {
      p.error(n, "start \"" + *s + "\" has an invalid timestamp",
              "write timestamp:<milliseconds since the epoch>, e.g. timestamp:1735689600000");
      return;
    }
    f.start = {StartKind::timestamp, v};
  } else {
    p.error(n, "start must be earliest, latest or timestamp:<ms>, not \"" + *s + "\"",
            "earliest copies the whole retained log, latest only new records");
  }
}

void parse_flow(Parser& p, const YAML::Node& n, Partial& out) {
  Flow f;
  FlowSource src;
  f.where = p.at(n);
  add_defaults(f.topics.exclude, defaults::kTopicExcludes);
  add_defaults(f.groups.filter.exclude, defaults::kGroupExcludes);
  add_defaults(f.configs.exclude, defaults::kConfigExcludes);
  f.topics.include = {builtin_pattern(".*")};
  f.groups.filter.include = {builtin_pattern(".*")};
  if (!p.is_map(n, "a flow")) return;
  bool has_name = false, has_source = false, has_target = false;
  for (auto& [k, v] : p.entries(n, kFlowKeys, "flow")) {
    const std::string key = k.Scalar();
    if (key == "name") {
      if (auto s = p.plain_string(v, "flow name")) {
        has_name = true;
        f.name = *s;
        if (f.name.empty())
          p.error(v, "flow name is empty", "remove it to get the default <source>-to-<target>");
      }
    } else if (key == "source" || key == "target") {
      // Present even if its value is wrong: that value gets its own error, not also "has no source".
      (key == "source" ? has_source : has_target) = true;
      if (auto s = p.plain_string(v, key)) {
        if (s->empty()) {
          p.error(v, key + " is empty", "write the alias of a cluster defined under clusters:");
        } else {
          (key == "source" ? f.source : f.target) = *s;
          (key == "source" ? src.source_at : src.target_at) = p.at(v);
        }
      }
    } else if (key == "topics") {
      Filter topics;
      topics.include = {builtin_pattern(".*")};
      bool given = false;
      parse_filter(p, v, topics, "topics", given, kTopicKeys);
      if (given) f.topics.include = topics.include;
      src.include_given = given;
      f.topics.exclude.insert(f.topics.exclude.end(), topics.exclude.begin(), topics.exclude.end());
    } else if (key == "naming") {
      src.naming_at = p.at(v);
      if (auto s = p.plain_string(v, "naming")) {
        if (*s == "prefix")
          f.naming = Naming::prefix;
        else if (*s == "identity")
          f.naming = Naming::identity;
        else {
          std::string hint =
              "prefix names target topics <source>.<topic> (MM2's default); identity keeps the name";
          if (auto near = nearest(*s, kNamings))
            hint = "did you mean \"" + std::string(*near) + "\"? " + hint;
          p.error(v, "naming must be prefix or identity, not \"" + *s + "\"", hint);
        }
      }
    } else if (key == "separator") {
      if (auto s = p.plain_string(v, "separator")) {
        if (s->empty())
          p.error(v, "separator is empty", "use \".\" (MM2's default) or another short string");
        else
          f.separator = *s;
      }
    } else if (key == "replication_factor") {
      src.rf_at = p.at(v);
      if (auto i = p.integer(v, "replication_factor")) {
        if (*i == 0 || *i < -1 || *i > 32767) {
          p.error(v,
                  "replication_factor must be -1 (the broker default) or a number from 1 to 32767, not " +
                      std::to_string(*i),
                  "use -1 to let the target broker decide, or the number of copies, e.g. 3");
        } else {
          f.replication_factor = static_cast<int>(*i);
          if (*i == 1) {
            p.warning(v, "replication_factor 1 keeps a single copy of every mirrored record on the target",
                      "fine for tests; production targets usually use 3 (or -1 for the broker default)");
          }
        }
      }
    } else if (key == "configs") {
      if (!p.is_map(v, "configs")) continue;
      for (auto& [ck, cv] : p.entries(v, kConfigKeys, "configs")) {
        if (ck.Scalar() == "sync") {
          if (auto b = p.boolean(cv, "configs.sync")) f.configs.sync = *b;
        } else {
          auto ex = p.patterns(cv, "configs.exclude");
          f.configs.exclude.insert(f.configs.exclude.end(), ex.begin(), ex.end());
        }
      }
    } else if (key == "acls") {
      if (!p.is_map(v, "acls")) continue;
      for (auto& [ak, av] : p.entries(v, kAclKeys, "acls")) {
        if (auto b = p.boolean(av, "acls.sync")) f.acls_sync = *b;
        (void)ak;
      }
    } else if (key == "groups") {
      Filter groups;
      groups.include = {builtin_pattern(".*")};
      bool given = false;
      if (v.IsMap()) {
        for (auto& [gk, gv] : p.entries(v, kGroupKeys, "groups")) {
          const std::string gkey = gk.Scalar();
          if (gkey == "sync_offsets") {
            if (auto b = p.boolean(gv, "groups.sync_offsets")) f.groups.sync_offsets = *b;
          } else if (gkey == "include") {
            given = true;
            groups.include = p.patterns(gv, "groups.include");
          } else {
            auto ex = p.patterns(gv, "groups.exclude");
            groups.exclude.insert(groups.exclude.end(), ex.begin(), ex.end());
          }
        }
      } else {
        p.is_map(v, "groups");
      }
      if (given) f.groups.filter.include = groups.include;
      f.groups.filter.exclude.insert(f.groups.filter.exclude.end(), groups.exclude.begin(),
                                     groups.exclude.end());
    } else if (key == "start") {
      parse_start(p, v, f);
    } else if (key == "exactly_once") {
      if (auto b = p.boolean(v, "exactly_once")) f.exactly_once = *b;
    }
  }
  if (!has_source) p.error(n, "flow has no source", "add source: <cluster alias>");
  if (!has_target) p.error(n, "flow has no target", "add target: <cluster alias>");
  if (!has_name && !f.source.empty() && !f.target.empty()) f.name = f.source + "-to-" + f.target;
  // A literal include that an exclude always drops selects nothing; without a word the flow silently
  // copies less than its author thinks.
  for (const auto& inc : f.topics.include) {
    const auto lit = literal_of(inc);
    if (!lit) continue;
    const auto ex = std::find_if(f.topics.exclude.begin(), f.topics.exclude.end(),
                                 [&](const Pattern& e) { return e.matches(*lit); });
    if (ex == f.topics.exclude.end()) continue;
    const bool builtin = ex->where().line == 0;
    p.diags().warning(
        inc.where(),
        "topics.include entry \"" + inc.source() + "\" selects nothing: " +
            (builtin ? "the default exclude \"" : "the exclude \"") + ex->source() + "\" drops it",
        builtin ? "internal topics of Kafka, Connect and MirrorMaker are never mirrored; remove "
                  "the entry"
                : "excludes win over includes: remove the entry or narrow the exclude");
  }
  src.name_given = has_name;
  out.flows.push_back(std::move(f));
  out.flow_sources.push_back(src);
}

void parse_policy(Parser& p, const YAML::Node& n, Partial& out) {
  if (!p.is_map(n, "a policy")) return;
  PolicyRule r;
  r.where = p.at(n);
  for (auto& [k, v] : p.entries(n, {}, "policy")) {
    const std::string key = k.Scalar();
    if (key == "rule") {
      if (auto s = p.plain_string(v, "rule")) {
        r.rule = *s;
        if (std::find(defaults::kPolicyRules.begin(), defaults::kPolicyRules.end(), *s) ==
            defaults::kPolicyRules.end()) {
          std::string hint = "built-in rules: " + join(defaults::kPolicyRules);
          if (auto near = nearest(*s, defaults::kPolicyRules))
            hint = "did you mean \"" + std::string(*near) + "\"? " + hint;
          p.error(v, "unknown policy rule \"" + *s + "\"", hint);
        }
      }
    } else if (key == "level") {
      if (auto s = p.plain_string(v, "level")) {
        for (auto [alias, level] : defaults::kPolicyLevelAliases) {
          if (*s == alias) *s = std::string(level);
        }
        r.level = *s;
        if (std::find(defaults::kPolicyLevels.begin(), defaults::kPolicyLevels.end(), *s) ==
            defaults::kPolicyLevels.end()) {
          p.error(
              v, "policy level must be advisory, soft-mandatory or hard-mandatory, not \"" + *s + "\"",
              "advisory (or warn) reports, soft-mandatory blocks unless overridden, hard-mandatory (or deny) "
              "always blocks");
        }
      }
    } else if (auto near = nearest(key, kPolicyKeys)) {
      // Other keys are the rule's parameters, so a misspelt level would silently become one.
      p.error(k, "unknown key \"" + key + "\" in policy",
              "did you mean \"" + std::string(*near) +
                  "\"? (a policy has rule, level and the rule's parameters)");
    } else {
      r.param_where[key] = p.at(k);  // policies/ checks the values and reports problems here
      if (v.IsScalar()) {
        if (auto s = p.plain_string(v, "policy parameter " + key)) r.params[key] = *s;
      } else if (v.IsSequence()) {
        std::string joined;
        for (const auto& item : v) {
          if (auto s = p.plain_string(item, "policy parameter " + key))
            joined += (joined.empty() ? "" : "\n") + *s;
        }
        r.params[key] = joined;
      } else {
        p.error(v, "policy parameter " + key + " must be a value or a list of values, not " + type_name(v),
                "write key: value or key: [value, ...]");
      }
    }
  }
  if (r.rule.empty()) p.error(n, "policy has no rule", "add rule: <name>, e.g. rule: no-topic-deletion");
  if (r.level.empty()) r.level = "hard-mandatory";
  out.policies.push_back(std::move(r));
}

// A spec's name or the spec: of an adopt/retire entry: recorded in the target's state as a flow's owner.
bool valid_spec_name(const std::string& s) {
  if (s.empty() || s.size() > 128 || !std::isalnum(static_cast<unsigned char>(s[0]))) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == '/';
  });
}
constexpr const char* kSpecNameHint =
    "1 to 128 letters, digits, '-', '_', '.' or '/', starting with a letter or digit (e.g. payments or "
    "acme/specs/payments)";

// `adopt:` / `retire:`: lists of {flow: NAME, spec: OWNER}.
void parse_claims(Parser& p, const YAML::Node& n, std::string_view what, std::vector<FlowClaim>& out) {
  if (n.IsNull()) return;
  if (!n.IsSequence()) {
    p.error(n, std::string(what) + " must be a list of {flow: NAME, spec: OWNER}, not " + type_name(n),
            "write each entry as an item, e.g. - {flow: ads-to-b, spec: ads}");
    return;
  }
  for (const auto& item : n) {
    if (!p.is_map(item, std::string("an ") + std::string(what) + " entry")) continue;
    FlowClaim c;
    c.where = p.at(item);
    bool has_flow = false, has_spec = false;
    for (auto& [k, v] : p.entries(item, kClaimKeys, std::string(what) + " entry")) {
      const std::string key = k.Scalar();
      auto s = p.plain_string(v, std::string(what) + " " + key);
      if (!s) {
        (key == "flow" ? has_flow : has_spec) = true;  // its own error was reported
        continue;
      }
      if (key == "flow") {
        has_flow = true;
        c.flow = *s;
        if (c.flow.empty()) p.error(v, std::string(what) + " flow is empty", "name the flow as recorded");
      } else {
        has_spec = true;
        c.spec = *s;
        if (!valid_spec_name(c.spec)) {
          p.error(v, "invalid spec name \"" + c.spec + "\" in " + std::string(what), kSpecNameHint);
        }
      }
    }
    if (!has_flow) p.error(item, std::string(what) + " entry has no flow", "add flow: <the flow's name>");
    if (what == "adopt" && !has_spec) {
      p.error(item, "adopt entry has no spec",
              "add spec: <the name of the spec that recorded the flow> (mirror plan names it)");
    }
    out.push_back(std::move(c));
  }
}

// Tabs in indentation are a YAML error that yaml-cpp reports obscurely; say it plainly.
bool check_tabs(const SourceFile& f, Diagnostics& d) {
  int line = 1;
  bool at_indent = true;
  int col = 1;
  for (char c : f.content) {
    if (c == '\n') {
      ++line, col = 1, at_indent = true;
      continue;
    }
    if (at_indent && c == '\t') {
      d.error(Location{f.name, line, col}, "tab character in indentation",
              "YAML indents with spaces only: replace the tab with spaces");
      return false;
    }
    if (c != ' ') at_indent = false;
    ++col;
  }
  return true;
}

// yaml-cpp 0.7 accepts a quoted scalar that runs to the end of the file (a missing closing quote) and
// reads the rest of the file into it; find such a scalar so it is reported where it starts.
std::optional<YAML::Mark> unterminated_quote(const YAML::Node& n, std::string_view text) {
  if (n.IsScalar()) {
    const YAML::Mark m = n.Mark();
    if (m.is_null() || m.pos < 0 || static_cast<size_t>(m.pos) >= text.size()) return std::nullopt;
    const char q = text[static_cast<size_t>(m.pos)];
    if (q != '"' && q != '\'') return std::nullopt;
    for (size_t i = static_cast<size_t>(m.pos) + 1; i < text.size(); ++i) {
      if (q == '"' && text[i] == '\\') {
        ++i;  // an escape, e.g. \"
      } else if (text[i] == q) {
        if (q == '\'' && i + 1 < text.size() && text[i + 1] == '\'') {
          ++i;  // '' inside single quotes
          continue;
        }
        return std::nullopt;
      }
    }
    return m;
  }
  if (n.IsSequence()) {
    for (const auto& item : n) {
      if (auto m = unterminated_quote(item, text)) return m;
    }
  } else if (n.IsMap()) {
    for (auto it = n.begin(); it != n.end(); ++it) {
      if (auto m = unterminated_quote(it->first, text)) return m;
      if (auto m = unterminated_quote(it->second, text)) return m;
    }
  }
  return std::nullopt;
}

// yaml-cpp's messages name the parser state, not the mistake; say what usually causes each.
std::string syntax_hint(const std::string& msg) {
  if (msg.starts_with(YAML::ErrorMsg::INVALID_ESCAPE))
    return "inside double quotes a backslash starts an escape: write \\\\ for a regex backslash "
           "(\"orders\\\\..*\") or use single quotes ('orders\\..*')";
  if (msg == YAML::ErrorMsg::END_OF_SEQ_FLOW) return "a [ list is not closed: add the missing ]";
  if (msg == YAML::ErrorMsg::END_OF_MAP_FLOW) return "a { mapping is not closed: add the missing }";
  if (msg == YAML::ErrorMsg::END_OF_MAP || msg == YAML::ErrorMsg::END_OF_SEQ)
    return "this line is indented differently from the lines above it: keys of one mapping (and items of "
           "one list) must start in the same column";
  if (msg == YAML::ErrorMsg::MAP_VALUE)
    return "a value contains \": \": put it in quotes, or start the key on its own line";
  return "check indentation, colons and matching brackets/quotes around this place";
}

// Hostile YAML: "billion laughs" (aliases of aliases of aliases, each doubling the document) makes a
// 600-byte file expand to billions of nodes, and deep nesting exhausts the stack. Before building nodes,
// one pass over yaml-cpp's event stream counts every node as it would be expanded (an alias counts the
// whole node it stands for) and the nesting depth, and stops at the first place over a limit.
constexpr size_t kMaxSpecBytes = kMaxReferencedFileBytes;
constexpr uint64_t kMaxExpandedNodes = 100'000;
constexpr size_t kMaxDepth = 64;

struct TooComplex {
  YAML::Mark mark;
  std::string message;
  std::string hint;
};

class ComplexityGuard : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& m, YAML::anchor_t anchor) override { leaf(m, anchor); }
  void OnScalar(const YAML::Mark& m, const std::string&, YAML::anchor_t anchor, const std::string&) override {
    leaf(m, anchor);
  }
  void OnAlias(const YAML::Mark& m, YAML::anchor_t anchor) override {
    auto it = sizes_.find(anchor);
    if (it == sizes_.end()) {
      throw TooComplex{m, "YAML alias refers to a node that contains it (the value would be infinite)",
                       "write the value out instead of using an alias inside its own anchor"};
    }
    add(m, it->second, true);
  }
  void OnSequenceStart(const YAML::Mark& m, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    open(m, anchor);
  }
  void OnSequenceEnd() override { close(); }
  void OnMapStart(const YAML::Mark& m, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    open(m, anchor);
  }
  void OnMapEnd() override { close(); }

 private:
  struct Open {
    YAML::anchor_t anchor;
    uint64_t size;  // this node and its children so far, expanded
  };

  void leaf(const YAML::Mark& m, YAML::anchor_t anchor) {
    if (anchor) sizes_[anchor] = 1;
    add(m, 1, false);
  }
  void open(const YAML::Mark& m, YAML::anchor_t anchor) {
    if (stack_.size() >= kMaxDepth) {
      throw TooComplex{m, "YAML nesting deeper than " + std::to_string(kMaxDepth) + " levels",
                       "a spec needs a handful of levels: flatten this structure"};
    }
    add(m, 1, false);
    stack_.push_back({anchor, 1});
  }
  void close() {
    if (stack_.empty()) return;
    const Open done = stack_.back();
    stack_.pop_back();
    if (done.anchor) sizes_[done.anchor] = done.size;
    if (!stack_.empty()) stack_.back().size += done.size - 1;  // the 1 was added when it opened
  }
  void add(const YAML::Mark& m, uint64_t n, bool alias) {
    total_ += n;
    if (!stack_.empty()) stack_.back().size += n;
    if (total_ > kMaxExpandedNodes) {
      throw TooComplex{m,
                       alias ? "YAML aliases expand this document to more than " +
                                   std::to_string(kMaxExpandedNodes) + " nodes"
                             : "YAML document has more than " + std::to_string(kMaxExpandedNodes) + " nodes",
                       alias ? "write the values out instead of nesting aliases of aliases (a spec never "
                               "needs this many)"
                             : "split the spec into several files of a folder"};
    }
  }

  std::vector<Open> stack_;
  std::map<YAML::anchor_t, uint64_t> sizes_;
  uint64_t total_ = 0;
};

// Runs the guard over every document of the file; false (with an error) when it is too complex.
// Syntax errors are left for YAML::Load to report.
bool check_complexity(const SourceFile& f, Diagnostics& diags) {
  if (f.content.size() > kMaxSpecBytes) {
    diags.error(Location{f.name, 0, 0}, "spec file is larger than 1 MiB",
                "a spec is a few kilobytes: split it into several files of a folder");
    return false;
  }
  std::istringstream in(f.content);
  try {
    YAML::Parser parser(in);
    ComplexityGuard guard;
    while (parser.HandleNextDocument(guard)) {
    }
  } catch (const TooComplex& e) {
    diags.error(Location{f.name, e.mark.line + 1, e.mark.column + 1}, e.message, e.hint);
    return false;
  } catch (const YAML::Exception&) {
    // A syntax error: YAML::Load reports it with a better message.
  }
  return true;
}

// Returns false when the file could not be read as a mapping (so nothing is known about its keys).
bool parse_file(const SourceFile& f, Partial& out, Diagnostics& diags, const OperatorSettings& settings) {
  if (!check_complexity(f, diags)) return false;
  if (!check_tabs(f, diags)) return false;
  YAML::Node root;
  try {
    root = YAML::Load(f.content);
  } catch (const YAML::ParserException& e) {
    diags.error(Location{f.name, e.mark.line + 1, e.mark.column + 1}, "YAML syntax error: " + e.msg,
                syntax_hint(e.msg));
    return false;
  } catch (const YAML::Exception& e) {
    diags.error(Location{f.name, 0, 0}, std::string("cannot read YAML: ") + e.what(),
                "check that the file is a YAML text file");
    return false;
  }
  // yaml-cpp's Mark::pos does not count a UTF-8 byte order mark.
  std::string_view text = f.content;
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
  if (auto m = unterminated_quote(root, text)) {
    diags.error(
        Location{f.name, m->line + 1, m->column + 1}, "YAML syntax error: this quoted string is never closed",
        "add the closing quote: everything up to the end of the file was read as part of this string");
    return false;
  }
  Parser p(f.name, text, diags, settings);
  if (root.IsNull()) {
    diags.warning(Location{f.name, 0, 0}, "file is empty", "remove it or add spec content");
    return true;
  }
  if (!root.IsMap()) {
    p.error(
        root,
        "a spec file must be a mapping with version, clusters, flows and policies, not " + type_name(root),
        "write the top-level keys at the start of the line, without \"- \", e.g. version: 1");
    return false;
  }
  for (auto& [k, v] : p.entries(root, kTopKeys, "the spec")) {
    const std::string key = k.Scalar();
    if (key == "version") {
      out.version_key = true;
      if (auto i = p.integer(v, "version")) {
        // Every version but 1 is an error where it is written, so files cannot disagree unnoticed.
        if (*i != 1) {
          p.error(v, "unsupported spec version " + std::to_string(*i), "this mirror reads version: 1");
        }
        out.version = *i;
        out.version_at = p.at(v);
      }
    } else if (key == "name") {
      if (auto n = p.plain_string(v, "spec name")) {
        if (!valid_spec_name(*n)) {
          p.error(v, "invalid spec name \"" + *n + "\"", kSpecNameHint);
        } else if (out.name) {
          diags.error(p.at(v), "the spec's name is set twice", "set name: in one file of the folder only",
                      {out.name_at});
        } else {
          out.name = *n;
          out.name_at = p.at(v);
        }
      }
    } else if (key == "adopt" || key == "retire") {
      parse_claims(p, v, key, key == "adopt" ? out.adopt : out.retire);
    } else if (key == "clusters") {
      if (v.IsNull()) continue;
      if (!p.is_map(v, "clusters")) continue;
      for (auto& [ck, cv] : p.entries(v, {}, "clusters")) parse_cluster(p, ck, cv, out);
    } else if (key == "flows") {
      if (v.IsNull()) continue;
      if (!v.IsSequence()) {
        p.error(v, "flows must be a list (each flow starts with \"- \"), not " + type_name(v),
                "write each flow as an item: \"- source: A\" with its other keys indented under it");
        continue;
      }
      for (const auto& fl : v) parse_flow(p, fl, out);
    } else if (key == "policies") {
      if (v.IsNull()) continue;
      if (!v.IsSequence()) {
        p.error(v, "policies must be a list (each rule starts with \"- \"), not " + type_name(v),
                "write each policy as an item: \"- rule: no-topic-deletion\" with level: indented under it");
        continue;
      }
      for (const auto& pol : v) parse_policy(p, pol, out);
    }
  }
  return true;
}

// ---------------------------------------------------------------------------------------------------
// Cross-checks over the merged spec.

void check_flows(const Partial& in, Diagnostics& d) {
  std::map<std::string, size_t> names;  // flow name -> index of the first flow with it
  for (size_t i = 0; i < in.flows.size(); ++i) {
    const Flow& f = in.flows[i];
    const FlowSource& src = in.flow_sources[i];
    if (!f.name.empty()) {
      if (auto [it, fresh] = names.emplace(f.name, i); !fresh) {
        const bool defaulted = !src.name_given || !in.flow_sources[it->second].name_given;
        d.error(f.where, "flow name \"" + f.name + "\" is used twice",
                defaulted
                    ? "add a unique name: to each flow (a flow without one is called <source>-to-<target>)"
                    : "give each flow a unique name",
                {in.flows[it->second].where});
      }
    }
    auto known = [&](const std::string& alias, const Location& where, std::string_view role) {
      if (alias.empty() || in.clusters.count(alias)) return;
      std::vector<std::string_view> aliases;
      for (auto& [a, c] : in.clusters) aliases.push_back(a);
      std::string hint = aliases.empty() ? "define it under clusters:" : "defined clusters: " + join(aliases);
      if (auto near = nearest(alias, aliases))
        hint = "did you mean \"" + std::string(*near) + "\"? (" + hint + ")";
      d.error(where,
              "flow " + f.name + ": " + std::string(role) + " cluster \"" + alias + "\" is not defined",
              hint);
    };
    known(f.source, src.source_at, "source");
    known(f.target, src.target_at, "target");
    if (!f.source.empty() && f.source == f.target) {
      d.error(src.target_at, "flow " + f.name + " has the same source and target (" + f.source + ")",
              "a flow copies from one cluster to another: change source or target");
    }
  }
  // Loops and overlapping writes between pairs of flows.
  for (size_t i = 0; i < in.flows.size(); ++i) {
    for (size_t j = i + 1; j < in.flows.size(); ++j) {
      const Flow& a = in.flows[i];
      const Flow& b = in.flows[j];
      if (a.naming == Naming::identity && b.naming == Naming::identity && a.source == b.target &&
          a.target == b.source && !a.source.empty() && !a.target.empty()) {
        d.error(in.flow_sources[j].naming_at.line ? in.flow_sources[j].naming_at : b.where,
                "flows " + a.name + " and " + b.name + " both use identity naming between " + a.source +
                    " and " + a.target + ": every record would be copied back and forth forever",
                "use naming: prefix in at least one direction (A.orders on B cannot be confused with orders)",
                {in.flow_sources[i].naming_at.line ? in.flow_sources[i].naming_at : a.where});
      }
      if (a.target.empty() || a.target != b.target) continue;
      // Same target: can both flows produce the same target topic name?
      bool same_namespace = (a.naming == Naming::identity && b.naming == Naming::identity) ||
                            (a.naming == Naming::prefix && b.naming == Naming::prefix &&
                             a.source == b.source && a.separator == b.separator);
      if (!same_namespace) continue;
      // Look for a real topic name that both flows select (a literal include if possible, else a sample
      // of a simple pattern); failing that, the same pattern written in both.
      std::optional<std::string> witness;
      for (bool want_literal : {true, false}) {
        for (const auto* inc_list : {&a.topics.include, &b.topics.include}) {
          for (const auto& inc : *inc_list) {
            const auto lit = literal_of(inc);
            const auto name = want_literal ? lit : sample_of(inc);
            if (witness || !name || !a.topics.matches(*name) || !b.topics.matches(*name)) continue;
            witness = (lit ? "topic " : "topics such as ") + a.target_topic(*name);
          }
        }
      }
      for (const auto& inc : a.topics.include) {
        if (!witness && std::any_of(b.topics.include.begin(), b.topics.include.end(),
                                    [&](auto& x) { return x == inc; })) {
          witness = "topics matching \"" + inc.source() + "\"";
        }
      }
      if (witness) {
        d.error(b.where,
                "flows " + a.name + " and " + b.name + " would both write " + *witness + " on cluster " +
                    b.target,
                "make their topic filters disjoint (add an exclude to one of them) or merge the two flows",
                {a.where});
      }
    }
  }
}

// adopt: names flows this spec declares, retire: flows it does not; each flow at most once.
void check_claims(const Partial& in, Diagnostics& d) {
  const std::string own = in.name.value_or("");
  auto declared = [&](const std::string& flow) {
    return std::any_of(in.flows.begin(), in.flows.end(), [&](const Flow& f) { return f.name == flow; });
  };
  std::map<std::string, Location> seen;  // flow -> first adopt/retire entry naming it
  for (const auto* list : {&in.adopt, &in.retire}) {
    const bool adopt = list == &in.adopt;
    const std::string what = adopt ? "adopt" : "retire";
    for (const auto& c : *list) {
      if (c.flow.empty()) continue;
      if (auto [it, fresh] = seen.emplace(c.flow, c.where); !fresh) {
        d.error(c.where, "flow " + c.flow + " is named twice in adopt:/retire:",
                "a flow is either adopted (declared here) or retired (not declared here), once",
                {it->second});
        continue;
      }
      if (adopt && !declared(c.flow)) {
        d.error(c.where, "adopt names flow " + c.flow + ", which this spec does not declare",
                "adopting takes over a flow another spec recorded: declare a flow named " + c.flow +
                    " under flows:, or retire it instead");
      } else if (!adopt && declared(c.flow)) {
        d.error(c.where, "retire names flow " + c.flow + ", which this spec declares",
                "retiring forgets a flow no spec declares any more: remove it from flows: or from retire:");
      }
      if (adopt && own.empty()) {
        d.error(c.where, "adopt needs the spec to have a name",
                "add name: <this spec's name> at the top: an adopted flow is recorded as owned by it");
      } else if (adopt && c.spec == own) {
        d.error(c.where, "adopt names this spec itself (" + own + ")",
                "a flow this spec recorded is already its own: remove the entry");
      }
    }
  }
}

std::string content_hash(const std::vector<SourceFile>& files) {
  // Name and length delimit each file, so moving text between files changes the hash.
  std::string all;
  for (const auto& f : files) all += f.name + "\n" + std::to_string(f.content.size()) + "\n" + f.content;
  return sha256_hex(all);
}

}  // namespace

LoadResult parse_files(const std::vector<SourceFile>& files, Origin origin) {
  return parse_files(files, std::move(origin), OperatorSettings::from_environment());
}

LoadResult parse_files(const std::vector<SourceFile>& files, Origin origin,
                       const OperatorSettings& settings) {
  LoadResult r;
  Partial partial;
  for (const auto& f : files) {
    if (!parse_file(f, partial, r.diagnostics, settings)) partial.unreadable = true;
  }
  if (files.empty()) {
    r.diagnostics.error(Location{origin.source, 0, 0}, "no spec files found",
                        "a spec is a .yaml file or a folder of .yaml files");
  } else if (!partial.version_key && !partial.unreadable) {
    r.diagnostics.error(Location{files.front().name, 1, 1}, "the spec has no version",
                        "add version: 1 at the top");
  }
  check_flows(partial, r.diagnostics);
  check_claims(partial, r.diagnostics);
  if (r.diagnostics.has_errors()) return r;
  Spec s;
  s.version = static_cast<int>(partial.version.value_or(1));
  s.clusters = std::move(partial.clusters);
  s.flows = std::move(partial.flows);
  for (size_t i = 0; i < s.flows.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (s.flows[j].source == s.flows[i].source && s.flows[j].target == s.flows[i].target)
        s.flows[i].mirrors_heartbeats = false;
    }
  }
  s.policies = std::move(partial.policies);
  s.name = partial.name.value_or("");
  s.name_where = partial.name_at;
  s.adopt = std::move(partial.adopt);
  s.retire = std::move(partial.retire);
  s.origin = std::move(origin);
  s.content_hash = content_hash(files);
  r.spec = std::move(s);
  return r;
}

LoadResult load_path(const std::filesystem::path& path) {
  namespace fs = std::filesystem;
  LoadResult r;
  std::error_code ec;
  const std::string shown = path.string();
  if (!fs::exists(path, ec)) {
    r.diagnostics.error(Location{shown, 0, 0}, "spec not found: " + shown,
                        "pass the spec file or folder with -c PATH (default ./mirror.yaml)");
    return r;
  }
  std::vector<fs::path> paths;
  if (fs::is_directory(path, ec)) {
    for (const auto& e : fs::directory_iterator(path, ec)) {
      if (e.is_regular_file() && (e.path().extension() == ".yaml" || e.path().extension() == ".yml")) {
        paths.push_back(e.path());
      }
    }
    std::sort(paths.begin(), paths.end());
  } else {
    paths.push_back(path);
  }
  std::vector<SourceFile> files;
  for (const auto& p : paths) {
    std::ifstream in(p, std::ios::binary);
    if (!in) {
      r.diagnostics.error(Location{p.string(), 0, 0}, "cannot read " + p.string(),
                          "check the file's permissions");
      continue;
    }
    // At most one byte over the limit, so that a huge file (or a device) is refused, not read whole.
    std::string content(kMaxSpecBytes + 1, '\0');
    in.read(content.data(), static_cast<std::streamsize>(content.size()));
    content.resize(static_cast<size_t>(in.gcount()));
    files.push_back({p.string(), std::move(content)});
  }
  if (r.diagnostics.has_errors()) return r;
  LoadResult parsed = parse_files(files, Origin{shown, std::nullopt, std::nullopt, ""});
  return parsed;
}

}  // namespace mirror::spec

#include "planner/render.h"

#include <dtl/dtl.hpp>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdio>
#include <set>
#include <sstream>

namespace mirror::planner {

// ---------------------------------------------------------------------------------------------------
// Escaping names

namespace {

void append_hex(std::string& out, unsigned char c) {
  static constexpr char kDigits[] = "0123456789abcdef";
  out += "\\x";
  out += kDigits[c >> 4];
  out += kDigits[c & 15];
}

// The length (2 to 4) of the well-formed UTF-8 sequence at s[i] and its code point; 0 when there is none
// (a stray continuation byte, an overlong form, a surrogate, a truncated sequence, a byte above 0xf4).
size_t utf8_sequence(std::string_view s, size_t i, uint32_t& cp) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const unsigned char c = byte(0);
  size_t n = 0;
  unsigned char lo = 0x80, hi = 0xbf;  // the range of the second byte
  if (c >= 0xc2 && c <= 0xdf) {
    n = 2, cp = c & 0x1f;
  } else if (c >= 0xe0 && c <= 0xef) {
    n = 3, cp = c & 0x0f;
    if (c == 0xe0) lo = 0xa0;
    if (c == 0xed) hi = 0x9f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 4, cp = c & 0x07;
    if (c == 0xf0) lo = 0x90;
    if (c == 0xf4) hi = 0x8f;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    const unsigned char x = byte(k);
    if (x < (k == 1 ? lo : 0x80) || x > (k == 1 ? hi : 0xbf)) return 0;
    cp = (cp << 6) | (x & 0x3f);
  }
  return n;
}

// Code points a terminal or a browser does not show as themselves: C1 controls (U+009B is a CSI on some
// terminals), the bidi controls that reorder what follows, the line and paragraph separators.
bool hidden_code_point(uint32_t cp) {
  return (cp >= 0x80 && cp <= 0x9f) || cp == 0x061c || cp == 0x200e || cp == 0x200f ||
         (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0x2028 || cp == 0x2029;
}

}  // namespace

std::string escape_text(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if (c == '\n') {
        out += "\\n";
      } else if (c == '\r') {
        out += "\\r";
      } else if (c == '\t') {
        out += "\\t";
      } else if (c < 0x20 || c == 0x7f) {
        append_hex(out, c);
      } else {
        out += static_cast<char>(c);
      }
      ++i;
      continue;
    }
    uint32_t cp = 0;
    const size_t n = utf8_sequence(s, i, cp);
    if (n == 0) {
      append_hex(out, c);
      ++i;
    } else {
      if (hidden_code_point(cp)) {
        char buf[16];
        std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(cp));
        out += buf;
      } else {
        out.append(s.substr(i, n));
      }
      i += n;
    }
  }
  return out;
}

std::string markdown_code(std::string_view s, bool in_table) {
  if (s.empty()) return "";
  std::string body;
  for (char c : escape_text(s)) {
    if (in_table && c == '|') body += '\\';
    body += c;
  }
  size_t longest = 0, run = 0;
  for (char c : body) {
    run = c == '`' ? run + 1 : 0;
    longest = std::max(longest, run);
  }
  const std::string fence(longest + 1, '`');
  // CommonMark strips one space from each end of a code span that starts and ends with one (so that a
  // span may start or end with a backtick): pad in those cases, so exactly the name is shown.
  const bool all_spaces = body.find_first_not_of(' ') == std::string::npos;
  const bool pad =
      body.front() == '`' || body.back() == '`' || (body.front() == ' ' && body.back() == ' ' && !all_spaces);
  const std::string sp = pad ? " " : "";
  return fence + sp + body + sp + fence;
}

namespace {

const char* severity_name(Severity s) {
  switch (s) {
    case Severity::info: return "info";
    case Severity::warning: return "warning";
    case Severity::error: return "error";
  }
  return "warning";
}

std::optional<Severity> severity_from(const std::string& s) {
  if (s == "info") return Severity::info;
  if (s == "warning") return Severity::warning;
  if (s == "error") return Severity::error;
  return std::nullopt;
}

// JSON for people and for fingerprints: a name read from a cluster may not be UTF-8, which must not make
// rendering throw (the bad bytes become U+FFFD).
std::string dump(const Json& v, int indent = -1) {
  return v.dump(indent, ' ', false, Json::error_handler_t::replace);
}

std::string scalar(const Json& v) {
  if (v.is_null()) return "(default)";
  if (v.is_string()) return "\"" + v.get<std::string>() + "\"";
  return dump(v);
}

std::optional<GroupDecision> group_decision_from(const std::string& s) {
  for (auto d : {GroupDecision::write, GroupDecision::in_sync, GroupDecision::keep_ahead,
                 GroupDecision::rewound, GroupDecision::not_yet, GroupDecision::before_start}) {
    if (s == group_decision_name(d)) return d;
  }
  return std::nullopt;
}

std::optional<GroupStatus> group_status_from(const std::string& s) {
  for (auto st : {GroupStatus::sync, GroupStatus::in_sync, GroupStatus::skipped_active}) {
    if (s == group_status_name(st)) return st;
  }
  return std::nullopt;
}

Json optional_json(const std::optional<int64_t>& v) { return v ? Json(*v) : Json(nullptr); }

// A member of a JSON object, or nullptr (also when `o` is no object). Saved plans are read back for
// `mirror show`: before and after values are any JSON, so rendering never assumes their shape.
const Json* member(const Json& o, const std::string& key) {
  if (!o.is_object()) return nullptr;
  auto it = o.find(key);
  return it == o.end() ? nullptr : &*it;
}

// A field of a JSON object for people: strings as they are, anything else as JSON, "?" when missing.
std::string field(const Json& o, const std::string& key) {
  const Json* v = member(o, key);
  if (!v) return "?";
  return v->is_string() ? v->get<std::string>() : dump(*v);
}

std::vector<std::string> split_lines(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string line; std::getline(ss, line);) out.push_back(line);
  return out;
}

// A multi-line value change as a line diff (dtl); single-line values as "old -> new".
std::vector<std::string> value_change(const std::string& key, const Json& before, const Json& after) {
  auto lines = [](const Json& v) {
    return v.is_string() && v.get<std::string>().find('\n') != std::string::npos;
  };
  // A line diff only between text values (absent counts as empty); anything else is shown whole.
  const bool text = (before.is_string() || before.is_null()) && (after.is_string() || after.is_null());
  const bool multi = text && (lines(before) || lines(after));
  if (!multi) return {key + ": " + scalar(before) + " -> " + scalar(after)};
  std::vector<std::string> out{key + ":"};
  auto a = split_lines(before.is_string() ? before.get<std::string>() : "");
  auto b = split_lines(after.is_string() ? after.get<std::string>() : "");
  dtl::Diff<std::string> d(a, b);
  d.compose();
  for (const auto& [line, info] : d.getSes().getSequence()) {
    const char sym = info.type == dtl::SES_ADD ? '+' : info.type == dtl::SES_DELETE ? '-' : ' ';
    out.push_back(std::string("  ") + sym + " " + line);
  }
  return out;
}

// The detail lines under an action, shared by the text and markdown renderings (each escaped there):
// everything apply does for the action, from its after (and before) value.
std::vector<std::string> details(const Action& a) {
  std::vector<std::string> out;
  if (!a.reason.empty()) out.push_back("# " + a.reason);
  const Json none = Json::array();
  auto list = [&](const Json& o, const char* key) -> const Json& {
    const Json* v = member(o, key);
    return v && v->is_array() ? *v : none;
  };
  switch (a.kind) {
    case ActionKind::create_internal_topic:
    case ActionKind::create_topic: {
      out.push_back("partitions: " + field(a.after, "partitions"));
      const Json* rf = member(a.after, "replication_factor");
      out.push_back("replication_factor: " +
                    (rf && *rf == -1 ? std::string("broker default") : field(a.after, "replication_factor")));
      if (const Json* configs = member(a.after, "configs")) {
        if (!configs->is_object()) {
          out.push_back("configs: " + dump(*configs));
        } else {
          for (const auto& [k, v] : configs->items()) out.push_back("config " + k + " = " + scalar(v));
        }
      }
      break;
    }
    case ActionKind::create_partitions:
      out.push_back("partitions: " + field(a.before, "partitions") + " -> " + field(a.after, "partitions"));
      break;
    case ActionKind::alter_topic_configs: {
      auto before = [&](const std::string& k) {
        const Json* b = member(a.before, k);
        return b ? *b : Json(nullptr);
      };
      if (const Json* set = member(a.after, "set")) {
        if (!set->is_object()) {
          out.push_back("set: " + dump(*set));
        } else {
          for (const auto& [k, v] : set->items()) {
            for (auto& l : value_change(k, before(k), v)) out.push_back(l);
          }
        }
      }
      if (const Json* reset = member(a.after, "reset")) {
        if (!reset->is_array()) {
          out.push_back("reset: " + dump(*reset));
        } else {
          for (const auto& k : *reset) {
            const std::string key = k.is_string() ? k.get<std::string>() : dump(k);
            out.push_back(key + ": " + scalar(before(key)) + " -> (target default)");
          }
        }
      }
      break;
    }
    case ActionKind::create_acl:
    case ActionKind::delete_acl: {
      // The binding in full: a title alone could hide a host, a pattern type or a resource type.
      const Json& acl = a.kind == ActionKind::create_acl ? a.after : a.before;
      for (const char* k : {"principal", "host", "operation", "permission", "resource_type", "resource_name",
                            "pattern_type"}) {
        out.push_back(std::string(k) + ": " + field(acl, k));
      }
      break;
    }
    case ActionKind::delete_topic:
      if (member(a.before, "partitions")) out.push_back("partitions: " + field(a.before, "partitions"));
      break;
    case ActionKind::sync_group_offsets: {
      // One line per partition written: "A.orders[0]: 1010 -> 1042  (source orders[0] at 42)".
      const Json& before = list(a.before, "offsets");
      for (const auto& o : list(a.after, "offsets")) {
        const std::string topic = field(o, "topic"), partition = field(o, "partition");
        std::string now = "(none)";
        for (const auto& b : before) {
          if (field(b, "topic") == topic && field(b, "partition") == partition) now = field(b, "offset");
        }
        out.push_back(topic + "[" + partition + "]: " + now + " -> " + field(o, "offset") + "  (source " +
                      field(o, "source_topic") + "[" + partition + "] at " + field(o, "source_offset") + ")");
      }
      break;
    }
    case ActionKind::start_flow:
    case ActionKind::update_flow: {
      out.push_back(
          "revision: " + (a.before.is_null() ? std::string("(none)") : field(a.before, "revision")) + " -> " +
          field(a.after, "revision"));
      // A named spec records itself as the owner; shown when it is set or changes.
      const Json* was = member(a.before, "owner");
      const Json* now = member(a.after, "owner");
      if (now && (!was || *was != *now)) {
        out.push_back(
            "owner: " + (was && was->is_string() ? was->get<std::string>() : std::string("(none)")) + " -> " +
            (now->is_string() ? now->get<std::string>() : std::string("(none)")));
      }
      break;
    }
    case ActionKind::retire_flow: {
      const Json* owner = member(a.before, "owner");
      out.push_back("revision: " + field(a.before, "revision") + " -> (forgotten)");
      out.push_back("owner: " + (owner && owner->is_string() ? "spec " + owner->get<std::string>()
                                                             : std::string("(none)")));
      break;
    }
  }
  return out;
}

std::string summary_line(const Plan& p) {
  if (!p.has_changes()) return "No changes. Both clusters match the spec.";
  return "Plan: " + std::to_string(p.summary.create) + " to add, " + std::to_string(p.summary.update) +
         " to change, " + std::to_string(p.summary.remove) + " to destroy.";
}

// Actions grouped by flow (flow "" = cluster-wide resources first), in plan order.
std::vector<std::pair<std::string, std::vector<const Action*>>> sections(const Plan& p) {
  std::vector<std::pair<std::string, std::vector<const Action*>>> out;
  auto section = [&](const std::string& flow) -> std::vector<const Action*>& {
    for (auto& s : out) {
      if (s.first == flow) return s.second;
    }
    out.emplace_back(flow, std::vector<const Action*>{});
    return out.back().second;
  };
  for (const auto& a : p.actions) {
    if (a.flow.empty()) section("");
  }
  for (const auto& a : p.actions) section(a.flow).push_back(&a);
  return out;
}

// "B:A.orders (flow a-to-b)": where a note applies.
std::string note_subject(const Note& n) {
  std::string s = n.cluster;
  if (!n.resource.empty()) s += (s.empty() ? "" : ":") + n.resource;
  if (!n.flow.empty()) s += (s.empty() ? "" : " ") + std::string("(flow ") + n.flow + ")";
  return s;
}

// Consumer groups, shared by the text and markdown renderings.

bool partition_writes(const GroupPartition& gp) {
  return gp.decision == GroupDecision::write || gp.decision == GroupDecision::rewound;
}

// "orders[0]": a source partition.
std::string partition_label(const GroupPartition& gp) {
  return gp.topic + "[" + std::to_string(gp.partition) + "]";
}

std::string offset_or(const std::optional<int64_t>& v, const char* none) {
  return v ? std::to_string(*v) : std::string(none);
}

// The decision with what people need to read it: "write", "write (not written)" in a group mirror leaves
// alone, "not_yet: mirrored up to source offset 1200 so far".
// Names in text: escape_text.
std::string esc(const std::string& s) { return escape_text(s); }

// `name` escapes the detail for the rendering.
std::string decision_note(const GroupReport& r, const GroupPartition& gp,
                          std::string (*name)(const std::string&)) {
  std::string s = group_decision_name(gp.decision);
  if (partition_writes(gp) && !r.writes()) s += " (not written)";
  if (!gp.detail.empty()) s += ": " + name(gp.detail);
  return s;
}

// The group's reason, unless it only repeats the status ("nothing to write" of a group in sync).
bool reason_worth_showing(const GroupReport& r) {
  if (r.reason.empty()) return false;
  if (r.status != GroupStatus::in_sync) return true;
  return std::any_of(r.partitions.begin(), r.partitions.end(), partition_writes);
}

std::string members_text(const GroupReport& r, std::string (*name)(const std::string&)) {
  if (r.target_state == "absent" && r.target_members == 0) return "target absent";
  return "target " + name(r.target_state) + ", " + std::to_string(r.target_members) + " member(s)";
}

// Policy results, shared by the text and markdown renderings. A failed result blocks unless it is
// advisory or overridden (policies::judge decides the same way).
enum class PolicyOutcome { passed, blocks, overridden, advisory };
PolicyOutcome outcome(const PolicyResult& r) {
  if (r.passed) return PolicyOutcome::passed;
  if (r.overridden) return PolicyOutcome::overridden;
  return r.level == "advisory" ? PolicyOutcome::advisory : PolicyOutcome::blocks;
}

// "3 failed (1 blocking, 1 overridden, 1 advisory), 9 passed": one line over all results.
std::string policy_counts(const Plan& p) {
  size_t passed = 0, blocks = 0, overridden = 0, advisory = 0;
  for (const auto& r : p.policy_results) {
    switch (outcome(r)) {
      case PolicyOutcome::passed: ++passed; break;
      case PolicyOutcome::blocks: ++blocks; break;
      case PolicyOutcome::overridden: ++overridden; break;
      case PolicyOutcome::advisory: ++advisory; break;
    }
  }
  const size_t failed = blocks + overridden + advisory;
  std::string s = std::to_string(failed) + " failed";
  std::string parts;
  for (const auto& [n, what] : {std::pair{blocks, "blocking"}, std::pair{overridden, "overridden"},
                                std::pair{advisory, "advisory"}}) {
    if (n > 0) parts += (parts.empty() ? "" : ", ") + std::to_string(n) + " " + what;
  }
  if (failed > 0) s += " (" + parts + ")";
  return s + ", " + std::to_string(passed) + " passed";
}

// "B: ads-to-b (spec ads): 12 topic(s), 3 ACL(s)": one flow this spec does not manage.
std::string unmanaged_line(const UnmanagedFlow& u, std::string (*name)(const std::string&)) {
  return name(u.cluster) + ": " + name(u.flow) + " (" +
         (u.owner.empty() ? std::string("no owner recorded") : "spec " + name(u.owner)) +
         "): " + std::to_string(u.topics) + " topic(s), " + std::to_string(u.acls) + " ACL(s)";
}
constexpr const char* kUnmanagedHint =
    "recorded in the target by other specs, or by none this spec knows of: nothing they created is changed "
    "or deleted by this plan; adopt: or retire: in the spec takes one over (docs/spec.md, Ownership)";

std::string action_title(const Action& a) {
  return std::string(1, change_symbol(change_of(a.kind))) + " " + action_kind_name(a.kind) + " " + a.cluster +
         ":" + a.resource;
}

}  // namespace

// ---------------------------------------------------------------------------------------------------
std::string render_json(const Plan& p) {
  Json actions = Json::array();
  for (const auto& a : p.actions) {
    actions.push_back({{"kind", action_kind_name(a.kind)},
                       {"flow", a.flow},
                       {"cluster", a.cluster},
                       {"resource", a.resource},
                       {"before", a.before},
                       {"after", a.after},
                       {"reason", a.reason}});
  }
  Json policies = Json::array();
  for (const auto& r : p.policy_results) {
    policies.push_back({{"rule", r.rule},
                        {"level", r.level},
                        {"resource", r.resource},
                        {"message", r.message},
                        {"passed", r.passed},
                        {"overridden", r.overridden},
                        {"override_reason", r.override_reason}});
  }
  Json diags = Json::array();
  for (const auto& n : p.diagnostics) {
    diags.push_back({{"severity", severity_name(n.severity)},
                     {"flow", n.flow},
                     {"cluster", n.cluster},
                     {"resource", n.resource},
                     {"message", n.message}});
  }
  Json groups = Json::array();
  for (const auto& r : p.groups) {
    Json parts = Json::array();
    for (const auto& gp : r.partitions) {
      parts.push_back({{"topic", gp.topic},
                       {"partition", gp.partition},
                       {"source_offset", gp.source_offset},
                       {"translated", optional_json(gp.translated)},
                       {"target_topic", gp.target_topic},
                       {"target_offset", optional_json(gp.target_offset)},
                       {"decision", group_decision_name(gp.decision)},
                       {"detail", gp.detail}});
    }
    groups.push_back({{"flow", r.flow},
                      {"group", r.group},
                      {"source", r.source},
                      {"target", r.target},
                      {"target_state", r.target_state},
                      {"target_members", r.target_members},
                      {"status", group_status_name(r.status)},
                      {"reason", r.reason},
                      {"partitions", parts}});
  }
  Json not_managed = Json::array();
  for (const auto& u : p.not_managed) {
    not_managed.push_back({{"cluster", u.cluster},
                           {"flow", u.flow},
                           {"owner", u.owner.empty() ? Json(nullptr) : Json(u.owner)},
                           {"topics", u.topics},
                           {"acls", u.acls}});
  }
  Json j{{"format_version", p.format_version},
         {"spec",
          {{"source", p.spec.source},
           {"commit", p.spec.commit ? Json(*p.spec.commit) : Json(nullptr)},
           {"path", p.spec.path},
           {"content_hash", p.spec.content_hash}}},
         {"fingerprint", p.fingerprint},
         {"actions", actions},
         {"summary",
          {{"create", p.summary.create},
           {"update", p.summary.update},
           {"delete", p.summary.remove},
           {"no_op", p.summary.no_op}}},
         {"policy_results", policies},
         {"diagnostics", diags},
         {"group_offsets", groups},
         {"not_managed", not_managed}};
  return dump(j, 2) + "\n";
}

namespace {

// Why a saved plan is refused; thrown while it is read, returned by parse_json.
struct Refused {
  std::string message;
};

[[noreturn]] void malformed(const std::string& what) { throw Refused{"malformed plan: " + what}; }

std::string type_of(const Json& v) {
  switch (v.type()) {
    case Json::value_t::null: return "null";
    case Json::value_t::boolean: return "a boolean";
    case Json::value_t::string: return "a string";
    case Json::value_t::array: return "an array";
    case Json::value_t::object: return "an object";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned: return "an integer";
    case Json::value_t::number_float: return "a fractional number";
    default: return "something else";
  }
}

int64_t checked_integer(const Json& v, const std::string& path, int64_t lo, int64_t hi) {
  if (v.is_number_unsigned()) {
    const uint64_t u = v.get<uint64_t>();
    if (u <= static_cast<uint64_t>(hi) && static_cast<int64_t>(u) >= lo) return static_cast<int64_t>(u);
  } else if (v.is_number_integer()) {
    const int64_t i = v.get<int64_t>();
    if (i >= lo && i <= hi) return i;
  } else {
    malformed(path + " must be an integer, not " + type_of(v));
  }
  malformed(path + " is out of range: " + dump(v) + " (" + std::to_string(lo) + " to " + std::to_string(hi) +
            ")");
}

// One JSON object of a saved plan: every field it has must be known, and every field is read with its
// type checked; nothing is defaulted.
class Fields {
 public:
  Fields(const Json& o, std::string path, std::initializer_list<const char*> known)
      : o_(o), path_(std::move(path)) {
    if (!o.is_object()) malformed(path_ + " must be an object, not " + type_of(o));
    for (auto it = o.begin(); it != o.end(); ++it) {
      const std::string& k = it.key();
      if (std::none_of(known.begin(), known.end(), [&](const char* n) { return k == n; })) {
        malformed(path_ + " has an unknown field \"" + escape_text(k) + "\"");
      }
    }
  }

  std::string path(const char* key) const { return path_ + "." + key; }

  const Json& any(const char* key) const {
    auto it = o_.find(key);
    if (it == o_.end()) malformed(path(key) + " is missing");
    return *it;
  }
  std::string str(const char* key) const { return str_of(any(key), path(key)); }
  std::optional<std::string> str_or_null(const char* key) const {
    const Json& v = any(key);
    if (v.is_null()) return std::nullopt;
    return str_of(v, path(key));
  }
  bool boolean(const char* key) const {
    const Json& v = any(key);
    if (!v.is_boolean()) malformed(path(key) + " must be a boolean, not " + type_of(v));
    return v.get<bool>();
  }
  int64_t integer(const char* key, int64_t lo, int64_t hi) const {
    return checked_integer(any(key), path(key), lo, hi);
  }
  std::optional<int64_t> integer_or_null(const char* key, int64_t lo, int64_t hi) const {
    const Json& v = any(key);
    if (v.is_null()) return std::nullopt;
    return checked_integer(v, path(key), lo, hi);
  }
  const Json& array(const char* key) const {
    const Json& v = any(key);
    if (!v.is_array()) malformed(path(key) + " must be an array, not " + type_of(v));
    return v;
  }

 private:
  static std::string str_of(const Json& v, const std::string& path) {
    if (!v.is_string()) malformed(path + " must be a string, not " + type_of(v));
    return v.get<std::string>();
  }

  const Json& o_;
  std::string path_;
};

std::string item(const std::string& path, size_t i) { return path + "[" + std::to_string(i) + "]"; }

constexpr int64_t kMaxInt = INT_MAX;
constexpr int64_t kMaxInt32 = INT32_MAX;
constexpr int64_t kMaxInt64 = INT64_MAX;

// The syntax-level guard, called by the parser for every event: nesting deeper than kMaxPlanDepth (a
// deep enough document exhausts the stack of anything that walks it), the same key twice in one object
// (readers disagree on which one counts), and numbers that are not finite (1e999).
class Guard {
 public:
  bool operator()(int depth, Json::parse_event_t event, Json& parsed) {
    using E = Json::parse_event_t;
    switch (event) {
      case E::object_start:
      case E::array_start:
        if (depth >= kMaxPlanDepth) {
          throw Refused{"the plan nests arrays and objects deeper than " + std::to_string(kMaxPlanDepth) +
                        " levels; mirror never writes such a plan"};
        }
        open_.emplace_back(event == E::object_start, std::set<std::string>{});
        break;
      case E::object_end:
      case E::array_end:
        if (!open_.empty()) open_.pop_back();
        break;
      case E::key:
        if (!open_.empty() && open_.back().first && parsed.is_string() &&
            !open_.back().second.insert(parsed.get<std::string>()).second) {
          throw Refused{"the plan has the key \"" + escape_text(parsed.get<std::string>()) +
                        "\" twice in one object"};
        }
        break;
      case E::value:
        if (parsed.is_number_float() && !std::isfinite(parsed.get<double>())) {
          throw Refused{"the plan has a number too large to represent"};
        }
        break;
    }
    return true;
  }

 private:
  std::vector<std::pair<bool, std::set<std::string>>> open_;  // (is an object, its keys so far)
};

Plan read_plan(const Json& j) {
  Plan p;
  const Fields top(j, "plan",
                   {"format_version", "spec", "fingerprint", "actions", "summary", "policy_results",
                    "diagnostics", "group_offsets", "not_managed"});
  p.format_version = top.str("format_version");
  const Fields spec(top.any("spec"), "spec", {"source", "commit", "path", "content_hash"});
  p.spec.source = spec.str("source");
  p.spec.commit = spec.str_or_null("commit");
  p.spec.path = spec.str("path");
  p.spec.content_hash = spec.str("content_hash");
  p.fingerprint = top.str("fingerprint");

  const Json& actions = top.array("actions");
  for (size_t i = 0; i < actions.size(); ++i) {
    const Fields a(actions[i], item("actions", i),
                   {"kind", "flow", "cluster", "resource", "before", "after", "reason"});
    const std::string name = a.str("kind");
    auto kind = action_kind_from_name(name);
    if (!kind) throw Refused{"unknown action kind \"" + escape_text(name) + "\""};
    p.actions.push_back({*kind, a.str("flow"), a.str("cluster"), a.str("resource"), a.any("before"),
                         a.any("after"), a.str("reason")});
  }

  const Fields sum(top.any("summary"), "summary", {"create", "update", "delete", "no_op"});
  p.summary = {static_cast<int>(sum.integer("create", 0, kMaxInt)),
               static_cast<int>(sum.integer("update", 0, kMaxInt)),
               static_cast<int>(sum.integer("delete", 0, kMaxInt)),
               static_cast<int>(sum.integer("no_op", 0, kMaxInt))};
  // The summary is what a reviewer reads first: it must say what the actions do.
  Summary counted;
  for (const auto& a : p.actions) {
    switch (change_of(a.kind)) {
      case Change::create: ++counted.create; break;
      case Change::update: ++counted.update; break;
      case Change::remove: ++counted.remove; break;
    }
  }
  if (counted.create != p.summary.create || counted.update != p.summary.update ||
      counted.remove != p.summary.remove) {
    malformed("summary says " + std::to_string(p.summary.create) + " to add, " +
              std::to_string(p.summary.update) + " to change, " + std::to_string(p.summary.remove) +
              " to destroy, but the actions are " + std::to_string(counted.create) + ", " +
              std::to_string(counted.update) + " and " + std::to_string(counted.remove));
  }

  const Json& policies = top.array("policy_results");
  for (size_t i = 0; i < policies.size(); ++i) {
    const Fields r(policies[i], item("policy_results", i),
                   {"rule", "level", "resource", "message", "passed", "overridden", "override_reason"});
    PolicyResult pr{r.str("rule"),       r.str("level"),          r.str("resource"),       r.str("message"),
                    r.boolean("passed"), r.boolean("overridden"), r.str("override_reason")};
    if (pr.level != "advisory" && pr.level != "soft-mandatory" && pr.level != "hard-mandatory") {
      malformed(r.path("level") + " must be advisory, soft-mandatory or hard-mandatory, not \"" +
                escape_text(pr.level) + "\"");
    }
    p.policy_results.push_back(std::move(pr));
  }

  const Json& diagnostics = top.array("diagnostics");
  for (size_t i = 0; i < diagnostics.size(); ++i) {
    const Fields n(diagnostics[i], item("diagnostics", i),
                   {"severity", "flow", "cluster", "resource", "message"});
    const std::string severity = n.str("severity");
    auto sev = severity_from(severity);
    if (!sev) throw Refused{"unknown diagnostic severity \"" + escape_text(severity) + "\""};
    p.diagnostics.push_back({*sev, n.str("flow"), n.str("cluster"), n.str("resource"), n.str("message")});
  }

  const Json& groups = top.array("group_offsets");
  for (size_t i = 0; i < groups.size(); ++i) {
    const Fields g(groups[i], item("group_offsets", i),
                   {"flow", "group", "source", "target", "target_state", "target_members", "status", "reason",
                    "partitions"});
    GroupReport r;
    r.flow = g.str("flow");
    r.group = g.str("group");
    r.source = g.str("source");
    r.target = g.str("target");
    r.target_state = g.str("target_state");
    r.target_members = static_cast<int>(g.integer("target_members", 0, kMaxInt));
    const std::string status = g.str("status");
    auto st = group_status_from(status);
    if (!st)
      throw Refused{"unknown group status \"" + escape_text(status) + "\" (group " + escape_text(r.group) +
                    ")"};
    r.status = *st;
    r.reason = g.str("reason");
    const std::string path = item("group_offsets", i) + ".partitions";
    const Json& parts = g.array("partitions");
    for (size_t k = 0; k < parts.size(); ++k) {
      const Fields q(parts[k], item(path, k),
                     {"topic", "partition", "source_offset", "translated", "target_topic", "target_offset",
                      "decision", "detail"});
      GroupPartition gp;
      gp.topic = q.str("topic");
      gp.partition = static_cast<int32_t>(q.integer("partition", 0, kMaxInt32));
      gp.source_offset = q.integer("source_offset", -1, kMaxInt64);
      gp.translated = q.integer_or_null("translated", -1, kMaxInt64);
      gp.target_topic = q.str("target_topic");
      gp.target_offset = q.integer_or_null("target_offset", -1, kMaxInt64);
      const std::string decision = q.str("decision");
      auto d = group_decision_from(decision);
      if (!d) {
        throw Refused{"unknown group decision \"" + escape_text(decision) + "\" (group " +
                      escape_text(r.group) + ", " + escape_text(partition_label(gp)) + ")"};
      }
      gp.decision = *d;
      gp.detail = q.str("detail");
      r.partitions.push_back(std::move(gp));
    }
    p.groups.push_back(std::move(r));
  }

  // Optional: a plan saved before ownership existed has none.
  if (j.is_object() && j.contains("not_managed")) {
    const Json& unmanaged = top.array("not_managed");
    for (size_t i = 0; i < unmanaged.size(); ++i) {
      const Fields u(unmanaged[i], item("not_managed", i), {"cluster", "flow", "owner", "topics", "acls"});
      p.not_managed.push_back({u.str("cluster"), u.str("flow"), u.str_or_null("owner").value_or(""),
                               static_cast<int>(u.integer("topics", 0, kMaxInt)),
                               static_cast<int>(u.integer("acls", 0, kMaxInt))});
    }
  }
  return p;
}

}  // namespace

Result<Plan, std::string> parse_json(const std::string& text) {
  if (text.size() > kMaxPlanBytes) {
    return fail("the plan is " + std::to_string(text.size()) + " bytes, more than a saved plan may have (" +
                std::to_string(kMaxPlanBytes) + ")");
  }
  try {
    Guard guard;
    Json j = Json::parse(
        text, [&guard](int depth, Json::parse_event_t e, Json& parsed) { return guard(depth, e, parsed); },
        /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object())
      return fail(std::string("not a JSON plan (it does not parse as a JSON object)"));
    auto v = j.find("format_version");
    if (v == j.end()) return fail(std::string("not a mirror plan (it has no format_version)"));
    if (!v->is_string() || v->get<std::string>() != "1") {
      return fail("unsupported plan format_version " + escape_text(dump(*v)) + " (this mirror reads \"1\")");
    }
    return read_plan(j);
  } catch (const Refused& r) {
    return fail(r.message);
  } catch (const std::exception& e) {  // not expected: every read above is checked
    return fail(std::string("malformed plan: ") + e.what());
  }
}

// ---------------------------------------------------------------------------------------------------
std::string render_text(const Plan& p, TextStyle st) {
  auto color = [&](Change c, const std::string& s) {
    if (!st.color) return s;
    const char* code = c == Change::create ? "32" : c == Change::update ? "33" : "31";
    return std::string("\033[") + code + "m" + s + "\033[0m";
  };
  // A warning (a group mirror must leave alone, an offset with no equivalent): bold yellow, so it stands
  // apart from an update's plain yellow.
  auto warn = [&](const std::string& s) { return st.color ? "\033[1;33m" + s + "\033[0m" : s; };
  // Every name comes from a cluster, the spec or a saved plan: through esc(), so that none can reach
  // the terminal as a control sequence.
  std::ostringstream out;
  out << "Spec: " << esc(p.spec.source);
  if (p.spec.commit) out << " at " << esc(p.spec.commit->substr(0, 12));
  if (!p.spec.path.empty()) out << " (" << esc(p.spec.path) << ")";
  out << "\n\n";
  if (p.has_changes()) {
    bool c = false, u = false, r = false;
    for (const auto& a : p.actions) {
      Change ch = change_of(a.kind);
      c |= ch == Change::create, u |= ch == Change::update, r |= ch == Change::remove;
    }
    out << "mirror will perform the following actions (";
    std::string legend;
    if (c) legend += color(Change::create, "+") + " create";
    if (u) legend += std::string(legend.empty() ? "" : ", ") + color(Change::update, "~") + " update";
    if (r) legend += std::string(legend.empty() ? "" : ", ") + color(Change::remove, "-") + " destroy";
    out << legend << "):\n";
    for (const auto& [flow, actions] : sections(p)) {
      out << "\n"
          << (flow.empty() ? std::string("# mirror's internal topics") : "# flow " + esc(flow)) << "\n";
      for (const Action* a : actions) {
        out << "  " << color(change_of(a->kind), esc(action_title(*a))) << "\n";
        for (const auto& line : details(*a)) out << "      " << esc(line) << "\n";
      }
    }
    out << "\n";
  }
  if (!p.groups.empty()) {
    // Columns aligned over the whole section; padding is computed on the plain text, then coloured.
    auto pad = [](const std::string& s, size_t w) {
      return s + std::string(w > s.size() ? w - s.size() : 0, ' ');
    };
    size_t wg = 0, wf = 0, ws = 0, wp = 0, wsrc = 0, wt = 0;
    auto source_col = [](const GroupPartition& gp) { return "source " + std::to_string(gp.source_offset); };
    auto label = [&](const GroupPartition& gp) { return esc(partition_label(gp)); };
    auto target_col = [](const GroupPartition& gp) {
      return "target " + offset_or(gp.translated, "-") + " (now " + offset_or(gp.target_offset, "none") + ")";
    };
    for (const auto& r : p.groups) {
      wg = std::max(wg, esc(r.group).size());
      wf = std::max(wf, esc(r.flow).size());
      ws = std::max(ws, std::string(group_status_name(r.status)).size());
      for (const auto& gp : r.partitions) {
        wp = std::max(wp, label(gp).size());
        wsrc = std::max(wsrc, source_col(gp).size());
        wt = std::max(wt, target_col(gp).size());
      }
    }
    out << "Consumer groups (" << p.groups.size() << "):\n";
    for (const auto& r : p.groups) {
      const std::string status = pad(group_status_name(r.status), ws);
      out << "  " << pad(esc(r.group), wg) << "  " << pad(esc(r.flow), wf) << "  "
          << (r.status == GroupStatus::skipped_active ? warn(status)
              : r.status == GroupStatus::sync         ? color(Change::update, status)
                                                      : status)
          << "  " << members_text(r, esc) << "\n";
      if (reason_worth_showing(r)) out << "    # " << esc(r.reason) << "\n";
      for (const auto& gp : r.partitions) {
        const std::string note = decision_note(r, gp, esc);
        out << "    " << pad(label(gp), wp) << "  " << pad(source_col(gp), wsrc) << "  ->  "
            << pad(target_col(gp), wt) << "  "
            << (partition_writes(gp) && r.writes()           ? color(Change::update, note)
                : gp.decision == GroupDecision::before_start ? warn(note)
                                                             : note)
            << "\n";
      }
    }
    out << "\n";
  }
  if (!p.diagnostics.empty()) {
    out << "Notes:\n";
    for (const auto& n : p.diagnostics) {
      const std::string subject = esc(note_subject(n));
      out << "  " << severity_name(n.severity) << ": " << subject << (subject.empty() ? "" : ": ")
          << esc(n.message) << "\n";
    }
    out << "\n";
  }
  if (!p.not_managed.empty()) {
    out << "Not managed by this spec (" << p.not_managed.size() << " flow(s)):\n";
    for (const auto& u : p.not_managed) out << "  " << unmanaged_line(u, esc) << "\n";
    out << "  # " << kUnmanagedHint << "\n\n";
  }
  if (!p.policy_results.empty()) {
    // Failed checks one by one with what to do; passed rules by name only.
    auto red = [&](const std::string& s) { return st.color ? "\033[31m" + s + "\033[0m" : s; };
    out << "Policy checks: " << policy_counts(p) << "\n";
    std::vector<std::string> passed;
    size_t blocking = 0;
    for (const auto& r : p.policy_results) {
      const PolicyOutcome o = outcome(r);
      if (o == PolicyOutcome::passed) {
        if (std::find(passed.begin(), passed.end(), esc(r.rule)) == passed.end())
          passed.push_back(esc(r.rule));
        continue;
      }
      const std::string tag = o == PolicyOutcome::blocks       ? red("FAIL    ")
                              : o == PolicyOutcome::overridden ? warn("OVERRIDE")
                                                               : color(Change::update, "WARN    ");
      blocking += o == PolicyOutcome::blocks;
      out << "  " << tag << "  " << esc(r.rule) << " (" << esc(r.level) << ")"
          << (r.resource.empty() ? "" : " " + esc(r.resource)) << "\n";
      if (!r.message.empty()) out << "              " << esc(r.message) << "\n";
      if (o == PolicyOutcome::overridden)
        out << "              overridden: " << esc(r.override_reason) << "\n";
    }
    if (!passed.empty()) {
      std::string names;
      for (const auto& n : passed) names += (names.empty() ? "" : ", ") + n;
      out << "  passed: " << names << "\n";
    }
    if (blocking > 0) {
      out << red("Denied by policy: " + std::to_string(blocking) + " failed check(s) block this plan") +
                 " (hard-mandatory, or soft-mandatory without --override-policy RULE --reason TEXT).\n";
    }
    out << "\n";
  }
  if (p.summary.no_op > 0) out << p.summary.no_op << " resource(s) already match the spec.\n";
  out << summary_line(p) << "\n";
  return out.str();
}

// ---------------------------------------------------------------------------------------------------
namespace {

// Names in markdown: code spans (markdown_code), with "|" escaped in table cells.
std::string md(const std::string& s) { return markdown_code(s, false); }
std::string cell(const std::string& s) { return markdown_code(s, true); }

// GitHub colours "+" and "-" lines of a diff block, and "!" lines as changed; "~" it leaves plain.
char markdown_symbol(Change c) { return c == Change::update ? '!' : change_symbol(c); }

}  // namespace

std::string render_markdown(const Plan& p, size_t max_chars) {
  std::ostringstream head;
  std::string title = summary_line(p);  // "Plan: 1 to add, ..." or "No changes. ..."
  if (title.starts_with("Plan: ")) title = title.substr(6, title.size() - 7);
  head << "### mirror plan: " << title << "\n\n";
  head << "Spec " << md(p.spec.source);
  if (p.spec.commit) head << " at " << md(p.spec.commit->substr(0, 12));
  if (!p.spec.path.empty()) head << ", path " << md(p.spec.path);
  head << "; " << p.summary.no_op << " resource(s) already match.\n";

  // The parts that may be cut, each a list of items (a table row, a whole action with its details, a
  // note); filled in priority order (policy results, actions, notes) while they fit.
  std::vector<std::string> policies, actions, notes;
  for (const auto& r : p.policy_results) {
    std::string result;
    switch (outcome(r)) {
      case PolicyOutcome::passed: result = "passed"; break;
      case PolicyOutcome::blocks: result = "**failed:** " + cell(r.message); break;
      case PolicyOutcome::advisory: result = "failed (advisory): " + cell(r.message); break;
      case PolicyOutcome::overridden:
        result = "**overridden:** " + cell(r.message) + "<br>reason: " + cell(r.override_reason);
        break;
    }
    policies.push_back("| " + cell(r.rule) + " | " + cell(r.level) + " | " + cell(r.resource) + " | " +
                       result + " |\n");
  }
  std::string legend;
  if (p.has_changes()) {
    bool c = false, u = false, r = false;
    for (const auto& a : p.actions) {
      const Change ch = change_of(a.kind);
      c |= ch == Change::create, u |= ch == Change::update, r |= ch == Change::remove;
    }
    if (c) legend += "+ create";
    if (u) legend += std::string(legend.empty() ? "" : ", ") + "! update";
    if (r) legend += std::string(legend.empty() ? "" : ", ") + "- destroy";
    for (const auto& [flow, list] : sections(p)) {
      std::string section =
          "\n" + (flow.empty() ? std::string("# mirror's internal topics") : "# flow " + escape_text(flow)) +
          "\n";
      for (const Action* a : list) {
        // Inside the diff block nothing is markdown or HTML; only a line starting with ``` would end it,
        // and escape_text leaves no line break in a name. Detail lines keep the action's symbol so
        // GitHub colours them with it.
        const char sym = markdown_symbol(change_of(a->kind));
        std::string item = section + sym + escape_text(action_title(*a).substr(1)) + "\n";
        for (const auto& d : details(*a)) item += std::string(1, sym) + "     " + escape_text(d) + "\n";
        actions.push_back(std::move(item));
        section.clear();
      }
    }
  }
  // Consumer groups: one item per group (all its partition rows), so a group is never cut in half.
  std::vector<std::string> groups;
  int to_sync = 0, in_sync = 0, skipped = 0;
  for (const auto& r : p.groups) {
    to_sync += r.status == GroupStatus::sync, in_sync += r.status == GroupStatus::in_sync;
    skipped += r.status == GroupStatus::skipped_active;
    std::string item;
    const std::string status = group_status_name(r.status);
    std::string first = "| " + cell(r.group) + " | " + cell(r.flow) + " | " +
                        (r.status == GroupStatus::skipped_active ? "**" + status + "**" : status) + "<br>" +
                        members_text(r, cell) + " | ";
    for (size_t i = 0; i < r.partitions.size(); ++i) {
      const GroupPartition& gp = r.partitions[i];
      const bool written = partition_writes(gp) && r.writes();
      std::string note = decision_note(r, gp, cell);
      if (partition_writes(gp) && !r.writes() && gp.translated)
        note += "; translates to " + std::to_string(*gp.translated);
      if (i == 0 && reason_worth_showing(r)) note = cell(r.reason) + "<br>" + note;
      item += (i == 0 ? first : std::string("| | | | ")) + cell(partition_label(gp)) + " | " +
              std::to_string(gp.source_offset) + " | " + offset_or(gp.target_offset, "-") + " | " +
              (written && gp.translated ? "**" + std::to_string(*gp.translated) + "**"
                                        : offset_or(gp.target_offset, "-")) +
              " | " + note + " |\n";
    }
    if (r.partitions.empty())
      item = first + "| | | | " + cell(r.reason) + " |\n";  // only from a hand-edited plan
    groups.push_back(std::move(item));
  }
  for (const auto& n : p.diagnostics) {
    std::string where = n.cluster;
    if (!n.resource.empty()) where += (where.empty() ? "" : ":") + n.resource;
    std::string subject = md(where);
    if (!n.flow.empty()) subject += (subject.empty() ? "" : " ") + std::string("(flow ") + md(n.flow) + ")";
    notes.push_back("- " + std::string(severity_name(n.severity)) + ": " + subject +
                    (subject.empty() ? "" : ": ") + md(n.message) + "\n");
  }

  const std::string open = "\n<details><summary>Show the " + std::to_string(p.actions.size()) +
                           " action(s)</summary>\n\n```diff\n# " + legend + "\n";
  const std::string close = "```\n</details>\n";
  const std::string policy_head = "\n**Policy checks:** " + policy_counts(p) +
                                  "\n\n| policy | level | resource | result |\n|---|---|---|---|\n";
  std::string group_counts;
  for (const auto& [n, what] : {std::pair{to_sync, "to sync"}, std::pair{in_sync, "in sync"},
                                std::pair{skipped, "skipped: in use on the target"}}) {
    if (n > 0) group_counts += (group_counts.empty() ? "" : ", ") + std::to_string(n) + " " + what;
  }
  const std::string groups_open =
      "\n<details><summary>Consumer groups: " + std::to_string(p.groups.size()) + " (" + group_counts +
      ")</summary>\n\n| group | flow | status | partition | source offset | target now | target after | note "
      "|\n|---|---|---|---|---|---|---|---|\n";
  const std::string groups_close = "\n</details>\n";
  const std::string notes_head = "\n**Notes**\n\n";
  // Flows this spec does not manage: one summary line, never cut (at most kUnmanagedShown named).
  std::string unmanaged;
  if (!p.not_managed.empty()) {
    constexpr size_t kUnmanagedShown = 10;
    unmanaged = "\n**Not managed by this spec:** " + std::to_string(p.not_managed.size()) + " flow(s), " +
                kUnmanagedHint + ".\n\n";
    for (size_t i = 0; i < p.not_managed.size() && i < kUnmanagedShown; ++i)
      unmanaged += "- " + unmanaged_line(p.not_managed[i], md) + "\n";
    if (p.not_managed.size() > kUnmanagedShown)
      unmanaged +=
          "- and " + std::to_string(p.not_managed.size() - kUnmanagedShown) + " more (the JSON has all)\n";
  }
  const std::string foot = "\n<sub>fingerprint " + md(p.fingerprint.substr(0, 16)) + "</sub>\n";
  const size_t kCutNote = 400;  // room kept for the note saying what was cut
  size_t fixed = head.str().size() + foot.size() + kCutNote + unmanaged.size();
  if (!policies.empty()) fixed += policy_head.size();
  if (!actions.empty()) fixed += open.size() + close.size();
  if (!notes.empty()) fixed += notes_head.size();
  if (!groups.empty()) fixed += groups_open.size() + groups_close.size();
  size_t budget = max_chars > fixed ? max_chars - fixed : 0;
  auto fit = [&](const std::vector<std::string>& items) {
    size_t n = 0;
    while (n < items.size() && items[n].size() <= budget) budget -= items[n++].size();
    return n;
  };
  const size_t policies_shown = fit(policies);
  const size_t actions_shown = fit(actions);
  const size_t notes_shown = fit(notes);
  const size_t groups_shown = fit(groups);  // last: the writes themselves are actions
  auto join = [](const std::vector<std::string>& v, size_t n) {
    std::string out;
    for (size_t i = 0; i < n; ++i) out += v[i];
    return out;
  };

  std::string out = head.str();
  // Policy results first: a denied plan must be seen without opening anything.
  if (!policies.empty()) out += policy_head + join(policies, policies_shown);
  if (!actions.empty()) out += open + join(actions, actions_shown) + close;
  if (!groups.empty()) out += groups_open + join(groups, groups_shown) + groups_close;
  std::vector<std::string> cut;
  auto count_cut = [&](size_t shown, size_t all, const std::string& what) {
    if (shown < all) cut.push_back(std::to_string(all - shown) + " of " + std::to_string(all) + " " + what);
  };
  count_cut(policies_shown, policies.size(), "policy results");
  count_cut(actions_shown, actions.size(), "actions");
  count_cut(notes_shown, notes.size(), "notes");
  count_cut(groups_shown, groups.size(), "consumer groups");
  if (!cut.empty()) {
    std::string what;
    for (size_t i = 0; i < cut.size(); ++i) what += (i ? ", " : "") + cut[i];
    out += "\n_Cut to stay under GitHub's comment size: " + what +
           " are not shown. See the full plan in the job's artifact (`mirror show plan.json`)._\n";
  }
  if (!notes.empty()) out += notes_head + join(notes, notes_shown);
  return out + unmanaged + foot;
}

}  // namespace mirror::planner

#include "planner/render.h"

#include <dtl/dtl.hpp>

#include <algorithm>
#include <sstream>

namespace mirror::planner {

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

std::string scalar(const Json& v) {
  if (v.is_null()) return "(default)";
  if (v.is_string()) return "\"" + v.get<std::string>() + "\"";
  return v.dump();
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

// A field of a JSON object for people: strings as they are, anything else as JSON, "?" when missing.
// Saved plans are read back for `mirror show`, so a hand-edited value must not make rendering throw.
std::string field(const Json& o, const char* key) {
  if (!o.is_object() || !o.contains(key)) return "?";
  const Json& v = o.at(key);
  return v.is_string() ? v.get<std::string>() : v.dump();
}

std::vector<std::string> split_lines(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string line; std::getline(ss, line);) out.push_back(line);
  return out;
}

// A multi-line value change as a line diff (dtl); single-line values as "old -> new".
std::vector<std::string> value_change(const std::string& key, const Json& before, const Json& after) {
  const bool multi = (before.is_string() && before.get<std::string>().find('\n') != std::string::npos) ||
                     (after.is_string() && after.get<std::string>().find('\n') != std::string::npos);
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

// The detail lines under an action, shared by the text and markdown renderings.
std::vector<std::string> details(const Action& a) {
  std::vector<std::string> out;
  if (!a.reason.empty()) out.push_back("# " + a.reason);
  switch (a.kind) {
    case ActionKind::create_internal_topic:
    case ActionKind::create_topic: {
      out.push_back("partitions: " + a.after.value("partitions", Json(0)).dump());
      const int rf = a.after.value("replication_factor", -1);
      out.push_back("replication_factor: " + (rf == -1 ? std::string("broker default") : std::to_string(rf)));
      if (a.after.contains("configs")) {
        for (const auto& [k, v] : a.after["configs"].items())
          out.push_back("config " + k + " = " + scalar(v));
      }
      break;
    }
    case ActionKind::create_partitions:
      out.push_back("partitions: " + a.before.value("partitions", Json(0)).dump() + " -> " +
                    a.after.value("partitions", Json(0)).dump());
      break;
    case ActionKind::alter_topic_configs: {
      // Named locals: items() of a temporary would dangle in the range-for (before C++23).
      const Json set = a.after.value("set", Json::object());
      const Json reset = a.after.value("reset", Json::array());
      for (const auto& [k, v] : set.items()) {
        for (auto& l : value_change(k, a.before.value(k, Json(nullptr)), v)) out.push_back(l);
      }
      for (const auto& k : reset) {
        const std::string key = k.get<std::string>();
        out.push_back(key + ": " + scalar(a.before.value(key, Json(nullptr))) + " -> (target default)");
      }
      break;
    }
    case ActionKind::delete_topic:
      if (a.before.contains("partitions")) out.push_back("partitions: " + a.before["partitions"].dump());
      break;
    case ActionKind::sync_group_offsets: {
      // One line per partition written: "A.orders[0]: 1010 -> 1042  (source orders[0] at 42)".
      const Json none = Json::array();
      const Json& before = a.before.is_object() && a.before.contains("offsets") ? a.before["offsets"] : none;
      const Json& after = a.after.is_object() && a.after.contains("offsets") ? a.after["offsets"] : none;
      for (const auto& o : after) {
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
    case ActionKind::update_flow:
      out.push_back("revision: " +
                    (a.before.is_null() ? std::string("(none)") : a.before.value("revision", std::string())) +
                    " -> " + a.after.value("revision", std::string()));
      break;
    default: break;
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
std::string decision_note(const GroupReport& r, const GroupPartition& gp) {
  std::string s = group_decision_name(gp.decision);
  if (partition_writes(gp) && !r.writes()) s += " (not written)";
  if (!gp.detail.empty()) s += ": " + gp.detail;
  return s;
}

// The group's reason, unless it only repeats the status ("nothing to write" of a group in sync).
bool reason_worth_showing(const GroupReport& r) {
  if (r.reason.empty()) return false;
  if (r.status != GroupStatus::in_sync) return true;
  return std::any_of(r.partitions.begin(), r.partitions.end(), partition_writes);
}

std::string members_text(const GroupReport& r) {
  if (r.target_state == "absent" && r.target_members == 0) return "target absent";
  return "target " + r.target_state + ", " + std::to_string(r.target_members) + " member(s)";
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
         {"group_offsets", groups}};
  return j.dump(2) + "\n";
}

Result<Plan, std::string> parse_json(const std::string& text) {
  Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object())
    return fail(std::string("not a JSON plan (it does not parse as a JSON object)"));
  if (!j.contains("format_version")) return fail(std::string("not a mirror plan (it has no format_version)"));
  if (const Json& v = j["format_version"]; !v.is_string() || v.get<std::string>() != "1") {
    return fail("unsupported plan format_version " + v.dump() + " (this mirror reads \"1\")");
  }
  try {
    Plan p;
    const Json& s = j.at("spec");
    p.spec.source = s.at("source").get<std::string>();
    if (!s.at("commit").is_null()) p.spec.commit = s.at("commit").get<std::string>();
    p.spec.path = s.value("path", std::string());
    p.spec.content_hash = s.value("content_hash", std::string());
    p.fingerprint = j.at("fingerprint").get<std::string>();
    for (const auto& a : j.at("actions")) {
      auto kind = action_kind_from_name(a.at("kind").get<std::string>());
      if (!kind) return fail("unknown action kind \"" + a.at("kind").get<std::string>() + "\"");
      p.actions.push_back({*kind, a.value("flow", std::string()), a.at("cluster").get<std::string>(),
                           a.at("resource").get<std::string>(), a.at("before"), a.at("after"),
                           a.value("reason", std::string())});
    }
    const Json& sum = j.at("summary");
    p.summary = {sum.at("create").get<int>(), sum.at("update").get<int>(), sum.at("delete").get<int>(),
                 sum.at("no_op").get<int>()};
    for (const auto& r : j.value("policy_results", Json::array())) {
      // overridden / override_reason: absent in plans saved before overrides were rendered.
      p.policy_results.push_back({r.at("rule").get<std::string>(), r.at("level").get<std::string>(),
                                  r.value("resource", std::string()), r.value("message", std::string()),
                                  r.value("passed", true), r.value("overridden", false),
                                  r.value("override_reason", std::string())});
    }
    for (const auto& n : j.value("diagnostics", Json::array())) {
      auto sev = severity_from(n.value("severity", std::string("warning")));
      if (!sev) return fail("unknown diagnostic severity \"" + n.value("severity", std::string()) + "\"");
      p.diagnostics.push_back({*sev, n.value("flow", std::string()), n.value("cluster", std::string()),
                               n.value("resource", std::string()), n.value("message", std::string())});
    }
    // Plans saved before consumer-group sync have no group_offsets: no groups.
    if (j.contains("group_offsets")) {
      const Json& groups = j.at("group_offsets");
      if (!groups.is_array()) return fail(std::string("malformed plan: group_offsets is not an array"));
      for (const auto& g : groups) {
        GroupReport r;
        r.flow = g.value("flow", std::string());
        r.group = g.at("group").get<std::string>();
        r.source = g.value("source", std::string());
        r.target = g.value("target", std::string());
        r.target_state = g.value("target_state", std::string());
        r.target_members = g.value("target_members", 0);
        const std::string status = g.at("status").get<std::string>();
        auto st = group_status_from(status);
        if (!st) return fail("unknown group status \"" + status + "\" (group " + r.group + ")");
        r.status = *st;
        r.reason = g.value("reason", std::string());
        const Json& parts = g.at("partitions");
        if (!parts.is_array())
          return fail("malformed plan: partitions of group " + r.group + " is not an array");
        for (const auto& q : parts) {
          GroupPartition gp;
          gp.topic = q.at("topic").get<std::string>();
          gp.partition = q.at("partition").get<int32_t>();
          gp.source_offset = q.at("source_offset").get<int64_t>();
          if (q.contains("translated") && !q["translated"].is_null())
            gp.translated = q["translated"].get<int64_t>();
          gp.target_topic = q.at("target_topic").get<std::string>();
          if (q.contains("target_offset") && !q["target_offset"].is_null())
            gp.target_offset = q["target_offset"].get<int64_t>();
          const std::string decision = q.at("decision").get<std::string>();
          auto d = group_decision_from(decision);
          if (!d) {
            return fail("unknown group decision \"" + decision + "\" (group " + r.group + ", " +
                        partition_label(gp) + ")");
          }
          gp.decision = *d;
          gp.detail = q.value("detail", std::string());
          r.partitions.push_back(std::move(gp));
        }
        p.groups.push_back(std::move(r));
      }
    }
    return p;
  } catch (const nlohmann::json::exception& e) {
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
  std::ostringstream out;
  out << "Spec: " << p.spec.source;
  if (p.spec.commit) out << " at " << p.spec.commit->substr(0, 12);
  if (!p.spec.path.empty()) out << " (" << p.spec.path << ")";
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
      out << "\n" << (flow.empty() ? std::string("# mirror's internal topics") : "# flow " + flow) << "\n";
      for (const Action* a : actions) {
        out << "  " << color(change_of(a->kind), action_title(*a)) << "\n";
        for (const auto& line : details(*a)) out << "      " << line << "\n";
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
    auto target_col = [](const GroupPartition& gp) {
      return "target " + offset_or(gp.translated, "-") + " (now " + offset_or(gp.target_offset, "none") + ")";
    };
    for (const auto& r : p.groups) {
      wg = std::max(wg, r.group.size());
      wf = std::max(wf, r.flow.size());
      ws = std::max(ws, std::string(group_status_name(r.status)).size());
      for (const auto& gp : r.partitions) {
        wp = std::max(wp, partition_label(gp).size());
        wsrc = std::max(wsrc, source_col(gp).size());
        wt = std::max(wt, target_col(gp).size());
      }
    }
    out << "Consumer groups (" << p.groups.size() << "):\n";
    for (const auto& r : p.groups) {
      const std::string status = pad(group_status_name(r.status), ws);
      out << "  " << pad(r.group, wg) << "  " << pad(r.flow, wf) << "  "
          << (r.status == GroupStatus::skipped_active ? warn(status)
              : r.status == GroupStatus::sync         ? color(Change::update, status)
                                                      : status)
          << "  " << members_text(r) << "\n";
      if (reason_worth_showing(r)) out << "    # " << r.reason << "\n";
      for (const auto& gp : r.partitions) {
        const std::string note = decision_note(r, gp);
        out << "    " << pad(partition_label(gp), wp) << "  " << pad(source_col(gp), wsrc) << "  ->  "
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
      const std::string subject = note_subject(n);
      out << "  " << severity_name(n.severity) << ": " << subject << (subject.empty() ? "" : ": ")
          << n.message << "\n";
    }
    out << "\n";
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
        if (std::find(passed.begin(), passed.end(), r.rule) == passed.end()) passed.push_back(r.rule);
        continue;
      }
      const std::string tag = o == PolicyOutcome::blocks       ? red("FAIL    ")
                              : o == PolicyOutcome::overridden ? warn("OVERRIDE")
                                                               : color(Change::update, "WARN    ");
      blocking += o == PolicyOutcome::blocks;
      out << "  " << tag << "  " << r.rule << " (" << r.level << ")"
          << (r.resource.empty() ? "" : " " + r.resource) << "\n";
      if (!r.message.empty()) out << "              " << r.message << "\n";
      if (o == PolicyOutcome::overridden) out << "              overridden: " << r.override_reason << "\n";
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

// A table cell: "|" would end the cell and a newline the row.
std::string cell(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '|')
      out += "\\|";
    else if (c == '\n')
      out += "<br>";
    else
      out += c;
  }
  return out;
}

// GitHub colours "+" and "-" lines of a diff block, and "!" lines as changed; "~" it leaves plain.
char markdown_symbol(Change c) { return c == Change::update ? '!' : change_symbol(c); }

}  // namespace

std::string render_markdown(const Plan& p, size_t max_chars) {
  std::ostringstream head;
  std::string title = summary_line(p);  // "Plan: 1 to add, ..." or "No changes. ..."
  if (title.starts_with("Plan: ")) title = title.substr(6, title.size() - 7);
  head << "### mirror plan: " << title << "\n\n";
  head << "Spec `" << p.spec.source << "`";
  if (p.spec.commit) head << " at `" << p.spec.commit->substr(0, 12) << "`";
  if (!p.spec.path.empty()) head << ", path `" << p.spec.path << "`";
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
          "\n" + (flow.empty() ? std::string("# mirror's internal topics") : "# flow " + flow) + "\n";
      for (const Action* a : list) {
        // Detail lines keep the action's symbol so GitHub colours them with it.
        const char sym = markdown_symbol(change_of(a->kind));
        std::string item = section + sym + action_title(*a).substr(1) + "\n";
        for (const auto& d : details(*a)) item += std::string(1, sym) + "     " + d + "\n";
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
                        cell(members_text(r)) + " | ";
    for (size_t i = 0; i < r.partitions.size(); ++i) {
      const GroupPartition& gp = r.partitions[i];
      const bool written = partition_writes(gp) && r.writes();
      std::string note = decision_note(r, gp);
      if (partition_writes(gp) && !r.writes() && gp.translated)
        note += "; translates to " + std::to_string(*gp.translated);
      if (i == 0 && reason_worth_showing(r)) note = r.reason + "\n" + note;
      item += (i == 0 ? first : std::string("| | | | ")) + cell(partition_label(gp)) + " | " +
              std::to_string(gp.source_offset) + " | " + offset_or(gp.target_offset, "-") + " | " +
              (written ? "**" + std::to_string(*gp.translated) + "**" : offset_or(gp.target_offset, "-")) +
              " | " + cell(note) + " |\n";
    }
    if (r.partitions.empty())
      item = first + "| | | | " + cell(r.reason) + " |\n";  // only from a hand-edited plan
    groups.push_back(std::move(item));
  }
  for (const auto& n : p.diagnostics) {
    std::string where = n.cluster;
    if (!n.resource.empty()) where += (where.empty() ? "" : ":") + n.resource;
    std::string subject = where.empty() ? "" : "`" + where + "`";
    if (!n.flow.empty()) subject += (subject.empty() ? "" : " ") + std::string("(flow ") + n.flow + ")";
    notes.push_back("- " + std::string(severity_name(n.severity)) + ": " + subject +
                    (subject.empty() ? "" : ": ") + n.message + "\n");
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
  const std::string foot = "\n<sub>fingerprint `" + p.fingerprint.substr(0, 16) + "`</sub>\n";
  const size_t kCutNote = 400;  // room kept for the note saying what was cut
  size_t fixed = head.str().size() + foot.size() + kCutNote;
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
  return out + foot;
}

}  // namespace mirror::planner

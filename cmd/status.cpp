#include "cmd/status.h"

#include "planner/render.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <iostream>

#include "cmd/exit_codes.h"
#include "observe/observe.h"
#include "planner/group_sync.h"
#include "planner/plan.h"
#include "state/lease.h"
#include "state/progress.h"
#include "state/state.h"

namespace mirror::cmd {

namespace {
using Json = nlohmann::ordered_json;

// A string from the clusters or mirror's state, as text output shows it: control characters escaped.
std::string shown(const Json& j) { return planner::escape_text(j.get<std::string>()); }

// Records on the source not (yet) on the target, per mirrored topic: the sum over partitions of the
// source's high watermark minus the target's. It is exact once the engine copies partition by partition
// from the same start; before the engine runs it is simply what is missing.
int64_t lag(const planner::TopicState& src, const planner::TopicState* dst) {
  int64_t total = 0;
  for (const auto& [p, wm] : src.watermarks) {
    int64_t target_end = 0;
    if (dst) {
      if (auto it = dst->watermarks.find(p); it != dst->watermarks.end()) target_end = it->second.second;
    }
    total += std::max<int64_t>(0, wm.second - target_end);
  }
  return total;
}

// Seconds since an ISO 8601 UTC time ("2026-11-25T23:00:00Z"); -1 when unparsable.
int64_t age_seconds(const std::string& iso) {
  std::tm tm{};
  if (!strptime(iso.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm)) return -1;
  return static_cast<int64_t>(std::time(nullptr) - timegm(&tm));
}
}  // namespace

CLI::App* add_status(CLI::App& app, StatusOptions& o) {
  CLI::App* sub =
      app.add_subcommand("status", "Show what was applied to each flow's target and how far behind it is");
  add_spec_options(*sub, o.spec);
  sub->add_option("--format", o.format, "Output: text or json")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  sub->add_option("--timeout", o.timeout_seconds, "Seconds to wait for each cluster request")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  return sub;
}

int run_status(const StatusOptions& o) {
  spec::LoadResult loaded = load_spec(o.spec);
  if (!loaded.spec) {
    for (const auto& d : loaded.diagnostics.sorted()) std::cerr << spec::format_text(d) << "\n";
    std::cerr << "mirror status: the spec is invalid.\n";
    return kExitError;
  }
  const spec::Spec& spec = *loaded.spec;
  observe::Options opts;
  opts.timeout = std::chrono::seconds(o.timeout_seconds);
  opts.skipped = [](const state::Skipped& s) {
    std::cerr << "mirror status: warning: skipped an unreadable record of mirror's state: "
              << state::describe(s) << "\n";
  };
  auto states = observe::observe_spec(spec, spec::Resolver::system(), opts);
  if (!states) {
    std::cerr << "mirror status: cannot read the clusters:\n  " << states.error() << "\n";
    return kExitError;
  }
  Json flows = Json::array();
  for (const auto& f : spec.flows) {
    const auto& src = states->at(f.source);
    const auto& dst = states->at(f.target);
    Json applied = nullptr;
    std::map<std::string, state::AppliedRecord> records;
    std::map<std::string, std::string> engine_records;  // mirror.progress.internal: key -> value
    auto cfg = observe::client_config(*spec.cluster(f.target), spec::Resolver::system(), opts);
    if (cfg && dst.topics.count(state::kTopic)) {
      auto r = state::read_applied(*cfg);
      if (r) records = std::move(*r);
    }
    if (cfg && dst.topics.count(state::kProgressTopic)) {
      auto r = state::read_latest(*cfg, "");
      if (r) engine_records = std::move(*r);
    }
    if (auto it = records.find(f.name); it != records.end()) {
      const auto& r = it->second;
      applied = {{"revision", r.revision},
                 {"owner", r.owner.empty() ? Json(nullptr) : Json(r.owner)},
                 {"current", r.revision == planner::flow_revision(f)},
                 {"spec_source", r.spec_source},
                 {"spec_commit", r.spec_commit.empty() ? Json(nullptr) : Json(r.spec_commit)},
                 {"applied_at", r.applied_at},
                 {"applied_by", r.applied_by},
                 {"mirror_version", r.mirror_version},
                 {"managed_topics", r.managed_topics.size()},
                 {"managed_acls", r.managed_acls.size()}};
      Json overrides = Json::array();
      for (const auto& ov : r.policy_overrides) {
        overrides.push_back({{"rule", ov.rule}, {"reason", ov.reason}, {"resources", ov.resources}});
      }
      applied["policy_overrides"] = overrides;
    }
    // A switch of the flow's consumers (mirror failover / failback), from the applied record.
    Json failed_over = nullptr, failed_back = nullptr;
    if (auto it = records.find(f.name); it != records.end()) {
      const auto& r = it->second;
      if (!r.failed_over_at.empty())
        failed_over = {{"at", r.failed_over_at}, {"by", r.failed_over_by}, {"groups", r.failed_over_groups}};
      if (!r.failed_back_at.empty())
        failed_back = {{"at", r.failed_back_at}, {"by", r.failed_back_by}, {"groups", r.failed_back_groups}};
    }
    Json topics = Json::array();
    int64_t total = 0, skipped = 0;
    for (const auto& [name, t] : src.topics) {
      if (!f.replicates_topic(name)) continue;
      auto dt = dst.topics.find(f.target_topic(name));
      // With the engine's progress: exactly what is left to read; without: what the target lacks.
      int64_t l = 0;
      bool from_progress = true;
      for (const auto& [p, wm] : t.watermarks) {
        auto pr = engine_records.find(state::progress_key(f.name, name, p));
        std::optional<state::PartitionProgress> progress;
        if (pr != engine_records.end()) progress = state::progress_from_json(pr->second);
        if (progress) {
          l += std::max<int64_t>(0, wm.second - progress->map.scanned_up());
          skipped += progress->skipped;
        } else {
          from_progress = false;
        }
      }
      if (!from_progress) l = lag(t, dt == dst.topics.end() ? nullptr : &dt->second);
      total += l;
      topics.push_back({{"source", name},
                        {"target", f.target_topic(name)},
                        {"exists", dt != dst.topics.end()},
                        {"lag", l}});
    }
    Json eng = nullptr;
    if (auto it = engine_records.find(state::status_key(f.name)); it != engine_records.end()) {
      if (auto es = state::status_from_json(it->second)) {
        const int64_t age = age_seconds(es->updated_at);
        eng = {{"state", es->state},
               {"owner", es->owner},
               {"updated_at", es->updated_at},
               // A running engine reports every 10 s: older news means it may have died.
               {"stale", es->state == "running" && age > 60},
               {"records_copied", es->records},
               {"records_per_second", es->records_per_second},
               {"lag", es->lag},
               {"last_error", es->last_error.empty() ? Json(nullptr) : Json(es->last_error)}};
        Json paused = Json::array();
        for (const auto& p : es->paused) {
          paused.push_back({{"topic", p.topic},
                            {"partition", p.partition},
                            {"reason", p.reason},
                            {"error", p.error},
                            {"since", p.since}});
        }
        eng["paused_partitions"] = std::move(paused);
        eng["recreated_topics"] = es->recreated;
      }
    }
    // Consumer groups: where each selected group stands on the target against its exact translation.
    Json groups = Json::array();
    for (const auto& r : planner::group_reports(f, src, dst)) {
      int64_t behind = 0;
      int to_write = 0, absent = 0, not_yet = 0, before_start = 0;
      Json parts = Json::array();
      for (const auto& gp : r.partitions) {
        const bool writes =
            gp.decision == planner::GroupDecision::write || gp.decision == planner::GroupDecision::rewound;
        to_write += writes;
        not_yet += gp.decision == planner::GroupDecision::not_yet;
        before_start += gp.decision == planner::GroupDecision::before_start;
        if (writes && gp.translated && gp.target_offset)
          behind += std::max<int64_t>(0, *gp.translated - *gp.target_offset);
        if (writes && !gp.target_offset) ++absent;
        parts.push_back({{"topic", gp.topic},
                         {"partition", gp.partition},
                         {"source_offset", gp.source_offset},
                         {"translated", gp.translated ? Json(*gp.translated) : Json(nullptr)},
                         {"target_offset", gp.target_offset ? Json(*gp.target_offset) : Json(nullptr)},
                         {"decision", planner::group_decision_name(gp.decision)}});
      }
      groups.push_back({{"group", r.group},
                        {"status", planner::group_status_name(r.status)},
                        {"target_state", r.target_state},
                        {"target_members", r.target_members},
                        {"partitions_to_sync", to_write},
                        {"records_behind", behind},
                        {"partitions_absent_on_target", absent},
                        {"partitions_not_yet_mirrored", not_yet},
                        {"partitions_before_mirroring", before_start},
                        {"partitions", parts}});
    }
    // Who holds the flow's engine lease, and which engines wait for it (standbys), from the lease log
    // (read only). A standby that has not tried for 30 s is gone.
    Json holder = nullptr, standby = Json::array();
    if (cfg && dst.topics.count(state::kEngineLeaseTopic)) {
      if (auto v = state::read_lease_view(*cfg, "engine/" + f.name, state::kEngineLeaseTopic)) {
        const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count();
        if (v->holder && v->holder->expires_ms > now_ms) {
          holder = {{"owner", v->holder->owner},
                    {"purpose", v->holder->purpose},
                    {"since", state::format_utc(v->holder->since_ms)}};
        }
        for (const auto& w : v->waiting) {
          if (now_ms - w.last_ms < 30'000 && (!v->holder || w.owner != v->holder->owner))
            standby.push_back({{"owner", w.owner}, {"last_tried", state::format_utc(w.last_ms)}});
        }
      }
    }
    // The flow's state in one word: a switch outranks what the engine last reported (an engine killed
    // before a failover never reported it); with no live holder, a waiting engine is a standby.
    std::string flow_state = !failed_back.is_null()                 ? "failed_back"
                             : !failed_over.is_null()               ? "failed_over"
                             : holder.is_null() && !standby.empty() ? "standby"
                             : !eng.is_null()                       ? eng["state"].get<std::string>()
                             : applied.is_null()                    ? "not_applied"
                                                                    : "never_ran";
    flows.push_back({{"flow", f.name},
                     {"source", f.source},
                     {"target", f.target},
                     {"state", flow_state},
                     {"failed_over", failed_over},
                     {"failed_back", failed_back},
                     {"lease_holder", holder},
                     {"standby", standby},
                     {"applied", applied},
                     {"engine", eng},
                     {"lag", total},
                     {"skipped_upstream", skipped},
                     {"topics", topics},
                     {"groups", groups}});
  }
  if (o.format == "json") {
    std::cout << Json{{"format_version", "1"}, {"flows", flows}}.dump(2) << "\n";
    return kExitOk;
  }
  for (const auto& f : flows) {
    std::cout << "flow " << shown(f["flow"]) << " (" << shown(f["source"]) << " -> " << shown(f["target"])
              << ")\n";
    if (f["applied"].is_null()) {
      std::cout << "  applied:  never (run mirror plan, then mirror apply)\n";
    } else {
      const Json& a = f["applied"];
      std::cout << "  applied:  revision " << shown(a["revision"])
                << (a["current"].get<bool>() ? " (matches the spec)"
                                             : " (the spec has changed since: plan and apply)")
                << "\n            " << shown(a["applied_at"]) << " by " << shown(a["applied_by"]) << ", from "
                << shown(a["spec_source"])
                << (a["spec_commit"].is_null() ? std::string()
                                               : " at " + shown(a["spec_commit"]).substr(0, 12))
                << (a["owner"].is_null() ? std::string() : ", by spec " + shown(a["owner"]))
                << "\n            manages " << a["managed_topics"].get<size_t>() << " topic(s), "
                << a["managed_acls"].get<size_t>() << " ACL(s)\n";
      for (const auto& ov : a["policy_overrides"]) {
        std::cout << "            policy override: " << shown(ov["rule"])
                  << " (reason: " << shown(ov["reason"]) << ")\n";
      }
    }
    auto groups_of = [](const Json& sw) {
      std::string out;
      for (const auto& g : sw["groups"]) out += (out.empty() ? "" : ", ") + shown(g);
      return out.empty() ? std::string("none") : out;
    };
    if (!f["failed_over"].is_null()) {
      const Json& fo = f["failed_over"];
      const bool back = !f["failed_back"].is_null();
      if (back) {
        const Json& fb = f["failed_back"];
        std::cout << "  state:    FAILED BACK " << shown(fb["at"]) << " by " << shown(fb["by"])
                  << " (groups ready on " << shown(f["source"]) << ": " << groups_of(fb)
                  << ")\n            after a failover ";
      } else {
        std::cout << "  state:    FAILED OVER ";
      }
      std::cout << shown(fo["at"]) << " by " << shown(fo["by"]) << " (groups ready on " << shown(f["target"])
                << ": " << groups_of(fo) << ")\n            not replicated until mirror apply resumes it\n";
    } else if (!f["failed_back"].is_null()) {
      const Json& fb = f["failed_back"];
      std::cout << "  state:    FAILED BACK " << shown(fb["at"]) << " by " << shown(fb["by"])
                << " (groups ready on " << shown(f["source"]) << ": " << groups_of(fb) << ")\n";
    } else {
      std::cout << "  state:    " << shown(f["state"]) << "\n";
    }
    for (const auto& w : f["standby"]) {
      std::cout << "  standby:  " << shown(w["owner"]) << " (last tried " << shown(w["last_tried"])
                << "): takes the flow over when "
                << (f["lease_holder"].is_null() ? "its lease is free" : "the engine holding it stops")
                << "\n";
    }
    if (f["engine"].is_null()) {
      std::cout << "  engine:   never ran (start it with mirror run, or mirror apply without --detach)\n";
    } else {
      const Json& e = f["engine"];
      char rate[32];
      std::snprintf(rate, sizeof rate, "%.0f", e["records_per_second"].get<double>());
      std::cout << "  engine:   " << shown(e["state"]) << " (" << shown(e["owner"]) << ", last report "
                << shown(e["updated_at"])
                << (e["stale"].get<bool>() ? "; no report for over a minute: is it still alive?" : "")
                << ")\n"
                << "            " << e["records_copied"].get<uint64_t>() << " records copied by it, " << rate
                << " records/s\n";
      if (!e["last_error"].is_null()) std::cout << "  last error: " << shown(e["last_error"]) << "\n";
      for (const auto& p : e["paused_partitions"]) {
        std::cout << "  PAUSED:   " << shown(p["topic"]) << "[" << p["partition"].get<int32_t>() << "] since "
                  << shown(p["since"]) << " (" << shown(p["reason"])
                  << "; the flow's other partitions continue): " << shown(p["error"]) << "\n";
      }
      for (const auto& r : e["recreated_topics"]) std::cout << "  recreated: " << shown(r) << "\n";
    }
    std::cout << "  lag:      " << f["lag"].get<int64_t>() << " record(s) on the source not yet mirrored\n";
    if (f["skipped_upstream"].get<int64_t>() > 0) {
      std::cout << "  DATA LOSS UPSTREAM: " << f["skipped_upstream"].get<int64_t>()
                << " record(s) were deleted on the source before they could be mirrored\n";
    }
    for (const auto& t : f["topics"]) {
      std::cout << "    " << shown(t["source"]) << " -> " << shown(t["target"]) << ": "
                << (t["exists"].get<bool>() ? std::to_string(t["lag"].get<int64_t>()) + " behind"
                                            : std::string("target topic missing"))
                << "\n";
    }
    const Json& gs = f["groups"];
    if (gs.empty()) continue;
    int in_sync = 0, to_sync = 0, in_use = 0;
    for (const auto& g : gs) {
      const std::string st = shown(g["status"]);
      (st == "skipped_active" ? in_use : st == "sync" ? to_sync : in_sync)++;
    }
    std::cout << "  groups:   " << gs.size() << " (" << in_sync << " in sync, " << to_sync << " to sync, "
              << in_use << " in use on " << shown(f["target"]) << ")\n";
    for (const auto& g : gs) {
      const std::string st = shown(g["status"]);
      std::cout << "    " << shown(g["group"]) << ": ";
      if (st == "skipped_active") {
        std::cout << "in use on " << shown(f["target"]) << " (" << g["target_members"].get<int>()
                  << " member(s)): never synced while consumers run there";
      } else if (st == "sync") {
        std::cout << g["records_behind"].get<int64_t>() << " record(s) behind its translation in "
                  << g["partitions_to_sync"].get<int>() << " partition(s)";
        if (g["partitions_absent_on_target"].get<int>() > 0)
          std::cout << " (" << g["partitions_absent_on_target"].get<int>() << " without an offset on "
                    << shown(f["target"]) << " yet)";
        std::cout << "; the engine syncs it every --group-sync-interval, or mirror apply now";
      } else {
        std::cout << "in sync";
      }
      if (g["partitions_not_yet_mirrored"].get<int>() > 0)
        std::cout << "; " << g["partitions_not_yet_mirrored"].get<int>()
                  << " partition(s) committed beyond what is mirrored (waiting, never guessed)";
      if (g["partitions_before_mirroring"].get<int>() > 0)
        std::cout << "; " << g["partitions_before_mirroring"].get<int>()
                  << " partition(s) committed before what is mirrored (no equivalent on the target)";
      std::cout << "\n";
    }
  }
  return kExitOk;
}

}  // namespace mirror::cmd

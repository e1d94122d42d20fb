#include "cmd/failover.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <iostream>

#include "apply/group_offsets.h"
#include "cmd/exit_codes.h"
#include "common/identity.h"
#include "kafka/admin.h"
#include "observe/observe.h"
#include "offsets/mm2_format.h"
#include "planner/group_sync.h"
#include "planner/render.h"
#include "state/lease.h"
#include "state/progress.h"
#include "state/progress_tail.h"
#include "state/state.h"

namespace mirror::cmd {

namespace {

std::string owner() { return user_at_host() + " pid " + std::to_string(getpid()); }

void add_common(CLI::App& sub, FailoverOptions& o) {
  add_spec_options(sub, o.spec);
  sub.add_flag("--dry-run", o.dry_run, "Show what would happen; change nothing (the engine keeps running)");
  sub.add_option("--timeout", o.timeout_seconds, "Seconds to wait for each cluster request")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
}

std::string tp(const std::string& topic, int32_t p) { return topic + "[" + std::to_string(p) + "]"; }
std::string num(const std::optional<int64_t>& v) { return v ? std::to_string(*v) : "-"; }

// Everything the switch needs, read directly (the source may be down: then only the target is read).
struct World {
  planner::ClusterState src, dst;
  bool source_up = false;
  std::string source_error;
  std::map<std::pair<std::string, int32_t>, int64_t> source_end;  // source (topic, partition) -> log end
};

Result<World, std::string> observe_world(const spec::Flow& flow, const kafka::ClientConfig& source,
                                         const kafka::ClientConfig& target) {
  World w;
  w.src.alias = flow.source;
  w.dst.alias = flow.target;
  auto selected = [&](const std::string& g) { return flow.replicates_group(g); };
  auto dst = kafka::Admin::connect(target);
  if (!dst) return fail("cannot reach the target " + target.label() + ": " + dst.error().describe());
  auto dg = observe::observe_groups(*dst, selected);
  if (!dg) return fail("read the consumer groups on " + flow.target + ": " + dg.error());
  w.dst.groups = std::move(*dg);
  if (auto n = observe::read_offset_maps(target, flow.name, w.dst); !n) return fail(std::move(n).error());
  auto topics = dst->list_topics();
  if (!topics) return fail("list the topics of " + flow.target + ": " + topics.error().describe());
  const std::string cp_topic = offsets::checkpoints_topic(flow.source);
  if (std::any_of(topics->begin(), topics->end(), [&](const auto& t) { return t.name == cp_topic; })) {
    if (auto n = observe::read_checkpoints(target, flow.source, w.dst); !n) return fail(std::move(n).error());
  }
  // The source: optional (a disaster may have taken it).
  kafka::ClientConfig quick = source;
  quick.timeout = std::min(source.timeout, std::chrono::milliseconds(10'000));
  auto src = kafka::Admin::connect(quick);
  if (!src) {
    w.source_error = src.error().describe();
    return w;
  }
  auto sg = observe::observe_groups(*src, selected);
  auto st = src->list_topics();
  if (!sg || !st) {
    w.source_error = !sg ? sg.error() : st.error().describe();
    return w;
  }
  w.src.groups = std::move(*sg);
  for (const auto& t : *st) w.src.topics[t.name] = planner::TopicState{t.name};
  std::vector<kafka::OffsetQuery> q;
  for (const auto& [key, map] : w.dst.offset_maps[flow.name])
    q.push_back({{key.first, key.second}, kafka::OffsetSpec::latest});
  if (!q.empty()) {
    auto ends = src->list_offsets(q);
    if (ends) {
      for (const auto& e : *ends) {
        if (!e.error) w.source_end[{e.tp.topic, e.tp.partition}] = e.offset;
      }
    }
  }
  w.source_up = true;
  return w;
}

// Stops the flow's engine for good: marks the flow failed over in the target (engines stop it and do
// not start it again until an apply resumes it), then takes the engine lease itself, so that no engine
// writes progress or offsets while the final offsets are synced. The lease is returned held.
Result<std::unique_ptr<state::Lease>, std::string> stop_engine(const spec::Flow& flow,
                                                               const kafka::ClientConfig& target) {
  auto applied = state::read_applied(target);
  if (!applied) return fail("read mirror's state on " + flow.target + ": " + applied.error().describe());
  auto it = applied->find(flow.name);
  if (it == applied->end())
    return fail("flow " + flow.name + " was never applied to " + flow.target +
                ": there is nothing to fail over");
  state::AppliedRecord r = it->second;
  if (r.failed_over_at.empty()) {
    r.failed_over_at = utc_now();
    r.failed_over_by = user_at_host();
    if (auto w = state::write_applied(target, {r}); !w)
      return fail("mark the flow failed over on " + flow.target + ": " + w.error().describe());
  }
  const std::string lease = "engine/" + flow.name;
  // A running engine: end its holding now (it stops at its next progress commit, about a second).
  if (auto h = state::read_lease(target, lease, state::kEngineLeaseTopic); h && *h) {
    std::cout << "  stopping the engine of " << flow.name << ": " << state::describe(**h) << "\n";
    (void)state::force_release(target, lease, (*h)->id, owner() + " (mirror failover)",
                               state::kEngineLeaseTopic);
  }
  auto l = state::Lease::acquire(target, {.topic = state::kEngineLeaseTopic,
                                          .lease = lease,
                                          .owner = owner(),
                                          .purpose = "mirror failover",
                                          .ttl = std::chrono::seconds(60),
                                          .wait = std::chrono::seconds(60)});
  if (!l) return fail("take the flow's engine lease: " + l.error().describe());
  // The engine confirms its lease before each commit; give it a commit interval to notice and stop.
  std::this_thread::sleep_for(std::chrono::seconds(2));
  return std::move(*l);
}

// Records the engine wrote to the target after its last stored progress (it was stopped by this
// failover, or killed, before storing it) are copies of the next source records: found by comparing
// records, they join the stored progress and offset map, so they count as mirrored and groups translate
// through them. Needs the source; without it they stay uncounted (and the command says so).
Result<int64_t, std::string> recover_unstored_tails(const spec::Flow& flow, const kafka::ClientConfig& source,
                                                    const kafka::ClientConfig& target) {
  auto read = state::read_progress(target, "progress/" + flow.name + "/");
  if (!read) return fail("read the flow's progress on " + flow.target + ": " + read.error().describe());
  auto dst = kafka::Admin::connect(target);
  if (!dst) return fail("cannot reach the target " + target.label() + ": " + dst.error().describe());
  std::vector<kafka::OffsetQuery> q;
  for (const auto& [key, p] : read->progress)
    q.push_back({{p.target_topic, p.partition}, kafka::OffsetSpec::latest});
  if (q.empty()) return int64_t{0};
  auto ends = dst->list_offsets(q);
  if (!ends) return fail("read the end offsets on " + flow.target + ": " + ends.error().describe());
  std::map<std::pair<std::string, int32_t>, int64_t> end;
  for (const auto& e : *ends) {
    if (!e.error) end[{e.tp.topic, e.tp.partition}] = e.offset;
  }
  int64_t recovered = 0;
  state::KeyedRecords records;
  for (auto& [key, p] : read->progress) {
    auto e = end.find({p.target_topic, p.partition});
    if (e == end.end() || e->second <= p.map.next_down()) continue;
    auto t = state::extend_by_tail(source, target,
                                   {.source_topic = p.source_topic,
                                    .target_topic = p.target_topic,
                                    .partition = p.partition,
                                    .target_end = e->second},
                                   p.map);
    if (!t)
      return fail("compare " + flow.target + ":" + p.target_topic + "[" + std::to_string(p.partition) +
                  "] with the source: " + t.error().describe());
    if (t->matched == 0) continue;
    recovered += t->matched;
    p.updated_at = utc_now();
    records.emplace_back(key, state::to_json(p));
  }
  if (!records.empty()) {
    if (auto w = state::write_keyed(target, state::kProgressTopic, records, "store the recovered progress");
        !w)
      return fail(w.error().describe());
  }
  return recovered;
}

// Records in the flow's applied record on the target which groups a failover (or failback) made ready,
// and, for a failback, when and by whom: `mirror status` shows them.
Result<void, std::string> record_switch(const spec::Flow& flow, const kafka::ClientConfig& target, bool back,
                                        const std::vector<std::string>& groups) {
  auto applied = state::read_applied(target);
  if (!applied) return fail(applied.error().describe());
  auto it = applied->find(flow.name);
  if (it == applied->end()) return {};  // never applied: nothing to record it in
  state::AppliedRecord r = it->second;
  if (back) {
    r.failed_back_at = utc_now();
    r.failed_back_by = user_at_host();
    r.failed_back_groups = groups;
  } else {
    r.failed_over_groups = groups;
  }
  if (auto w = state::write_applied(target, {r}); !w) return fail(w.error().describe());
  return {};
}

}  // namespace

CLI::App* add_failover(CLI::App& app, FailoverOptions& o) {
  CLI::App* sub = app.add_subcommand(
      "failover",
      "Disaster-recovery switch: stop the flow's engine, sync every selected consumer group's final offsets "
      "to the target, and show where each will resume");
  add_common(*sub, o);
  sub->footer("Runbook: docs/failover.md. Resume replication afterwards with `mirror apply`.");
  return sub;
}

CLI::App* add_failback(CLI::App& app, FailoverOptions& o) {
  CLI::App* sub = app.add_subcommand(
      "failback",
      "The reverse: translate the groups' progress on the target back to source offsets, so consumers that "
      "return to the source resume where they stopped");
  add_common(*sub, o);
  sub->footer("Runbook: docs/failover.md.");
  return sub;
}

int run_failover(const FailoverOptions& o) {
  const char* cmd = o.back ? "mirror failback" : "mirror failover";
  if (o.spec.flows.size() != 1) {
    std::cerr << cmd << ": name exactly one flow with --flow NAME (a switch moves one flow's consumers).\n";
    return kExitUsage;
  }
  spec::LoadResult loaded = load_spec(o.spec);
  if (!loaded.spec) {
    for (const auto& d : loaded.diagnostics.sorted()) std::cerr << spec::format_text(d) << "\n";
    std::cerr << cmd << ": the spec is invalid; nothing was changed.\n";
    return kExitError;
  }
  const spec::Flow& flow = loaded.spec->flows.at(0);
  observe::Options opts;
  opts.timeout = std::chrono::seconds(o.timeout_seconds);
  auto source = observe::client_config(*loaded.spec->cluster(flow.source), spec::Resolver::system(), opts);
  auto target = observe::client_config(*loaded.spec->cluster(flow.target), spec::Resolver::system(), opts);
  if (!source || !target) {
    std::cerr << cmd << ": " << (!source ? source.error() : target.error()) << "\n";
    return kExitError;
  }
  if (o.dry_run) std::cout << "Dry run: nothing is changed.\n";
  std::cout << (o.back ? "Failback" : "Failover") << " of flow " << flow.name << " (" << flow.source << " -> "
            << flow.target << ")\n";

  std::unique_ptr<state::Lease> lease;
  if (!o.back && !o.dry_run) {
    auto l = stop_engine(flow, *target);
    if (!l) {
      std::cerr << cmd << ": " << l.error()
                << "\nNothing was synced; the consumers' offsets are unchanged.\n";
      return kExitError;
    }
    lease = std::move(*l);
    std::cout << "  engine: stopped; the flow stays stopped until `mirror apply` resumes it\n";
    kafka::ClientConfig quick = *source;
    quick.timeout = std::min(source->timeout, std::chrono::milliseconds(10'000));
    if (auto src = kafka::Admin::connect(quick); !src || !src->list_topics()) {
      std::cout << "  progress: the source cannot be reached, so records the engine wrote after its last "
                   "stored progress (if any) are not counted as mirrored\n";
    } else if (auto n = recover_unstored_tails(flow, *source, *target); !n) {
      std::cerr << cmd << ": " << n.error()
                << "\nNothing was synced; the consumers' offsets are unchanged.\n";
      return kExitError;
    } else if (*n > 0) {
      std::cout << "  progress: " << *n
                << " record(s) the engine wrote after its last stored progress are copies of the next source "
                   "records: stored as mirrored\n";
    }
  }
  auto world = observe_world(flow, *source, *target);
  if (!world) {
    std::cerr << cmd << ": " << world.error() << "\n";
    return kExitError;
  }
  if (!world->source_up && !o.back) {
    // Without the source, its groups' last known positions are the checkpoints mirror wrote.
    for (const auto& [key, map] : world->dst.offset_maps[flow.name])
      world->src.topics[key.first] = {key.first};
    for (const auto& [k, cp] : world->dst.checkpoints) {
      const auto& [src_alias, group, target_topic, partition] = k;
      for (const auto& [key, map] : world->dst.offset_maps[flow.name]) {
        if (flow.target_topic(key.first) == target_topic && key.second == partition) {
          world->src.groups[group].id = group;
          world->src.groups[group].offsets[{key.first, partition}] = cp.upstream;
        }
      }
    }
  }
  if (!world->source_up) {
    std::cout << "  source " << flow.source << ": unreachable (" << world->source_error << ")\n";
    if (o.back) {
      std::cerr << cmd << ": failback writes to " << flow.source
                << ", which cannot be reached; nothing was changed.\n";
      return kExitError;
    }
    std::cout << "  consumers resume on " << flow.target
              << " from the offsets the engine synced last (at most --group-sync-interval old); unmirrored "
                 "records are unknown\n";
  }
  const auto reports = o.back ? planner::group_reports_back(flow, world->src, world->dst)
                              : planner::group_reports(flow, world->src, world->dst);
  const kafka::ClientConfig& write_to = o.back ? *source : *target;
  auto admin = kafka::Admin::connect(write_to);
  int written = 0, ready = 0, skipped = 0, failed = 0;
  // One row per group partition; the group's result on its first row, partition notes beside.
  std::vector<std::array<std::string, 7>> rows;
  rows.push_back({"GROUP", "PARTITION", o.back ? "ON " + flow.target : "ON " + flow.source,
                  "RESUME ON " + (o.back ? flow.source : flow.target), "UNMIRRORED", "RESULT", "NOTE"});
  std::vector<std::string> inexact_groups, ready_groups;
  for (const auto& r : reports) {
    std::string result;
    // Failback: a group goes back to the source only when every partition's position translates
    // exactly; one that does not (beyond what was mirrored, before it, or the source group is ahead)
    // is left alone, named and a failure, never "ready".
    std::string inexact;
    if (o.back) {
      for (const auto& p : r.partitions) {
        const bool exact = p.decision == planner::GroupDecision::write ||
                           p.decision == planner::GroupDecision::in_sync ||
                           p.decision == planner::GroupDecision::rewound;
        if (!exact && r.status != planner::GroupStatus::skipped_active) {
          inexact += (inexact.empty() ? "" : "; ") + planner::escape_text(tp(p.topic, p.partition)) + " " +
                     planner::group_decision_name(p.decision) + ": " + planner::escape_text(p.detail);
        }
      }
    }
    if (!inexact.empty()) {
      result = o.dry_run ? "WOULD NOT WRITE: not exact" : "NOT WRITTEN: not exact";
      inexact_groups.push_back(planner::escape_text(r.group) + " (" + inexact + ")");
      if (!o.dry_run) ++failed;
    } else if (r.writes() && world->source_up) {
      if (o.dry_run) {
        result = "would write";
      } else if (!admin) {
        result = "FAILED: " + admin.error().describe();
        ++failed;
      } else {
        apply::GroupWrite w{r.group, flow.source, {}, !o.back};
        for (const auto& p : r.partitions) {
          if (p.decision == planner::GroupDecision::write || p.decision == planner::GroupDecision::rewound)
            w.offsets.push_back({p.target_topic, p.partition, *p.translated, p.source_offset});
        }
        const auto res = apply::write_group_offsets(*admin, write_to, w);
        result = res.written ? "written" : (res.skipped ? "SKIPPED: " : "FAILED: ") + res.message;
        (res.written ? written : res.skipped ? skipped : failed) += 1;
        if (res.written) ready_groups.push_back(r.group);
      }
    } else if (r.status == planner::GroupStatus::skipped_active) {
      result = "SKIPPED: " + r.reason;
      ++skipped;
    } else {
      result = "ready (already in sync)";
      ++ready;
      ready_groups.push_back(r.group);
    }
    bool first = true;
    for (const auto& p : r.partitions) {
      // Where the group resumes: the translation when there is one, else what the group has there now.
      const std::optional<int64_t> resume = p.translated ? p.translated : p.target_offset;
      std::string unmirrored = "-";
      if (!o.back) {
        unmirrored = "unknown";
        auto m = world->dst.offset_maps[flow.name].find({p.topic, p.partition});
        auto e = world->source_end.find({p.topic, p.partition});
        if (m != world->dst.offset_maps[flow.name].end() && e != world->source_end.end())
          unmirrored = std::to_string(std::max<int64_t>(0, e->second - m->second.scanned_up()));
      }
      const bool plain =
          p.decision == planner::GroupDecision::write || p.decision == planner::GroupDecision::in_sync;
      // Group and topic names (and details quoting them) come from the clusters: escaped for the terminal.
      rows.push_back({first ? planner::escape_text(r.group) : "",
                      planner::escape_text(tp(p.topic, p.partition)), std::to_string(p.source_offset),
                      num(resume), unmirrored, first ? result : "",
                      plain ? ""
                            : std::string(planner::group_decision_name(p.decision)) + ": " +
                                  planner::escape_text(p.detail)});
      first = false;
    }
  }
  std::array<size_t, 7> width{};
  for (const auto& row : rows) {
    for (size_t i = 0; i < 6; ++i) width[i] = std::max(width[i], row[i].size());
  }
  std::cout << "\n";
  for (const auto& row : rows) {
    std::string line = " ";
    for (size_t i = 0; i < 7; ++i) {
      std::string cell = row[i];
      if (i < 6) cell.resize(width[i], ' ');
      line += " " + cell;
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    std::cout << line << "\n";
  }
  if (reports.empty()) std::cout << "  (no consumer group of this flow has offsets on its mirrored topics)\n";
  if (lease) (void)lease->release();
  std::cout << "\n";
  for (const auto& g : inexact_groups) {
    std::cout << "Not translated exactly, " << (o.dry_run ? "would not be written: " : "nothing written: ")
              << g << ". Decide it by hand (docs/failover.md); its consumers must not start on "
              << flow.source << " before.\n";
  }
  if (o.dry_run) {
    std::cout << "Dry run complete: nothing was changed.\n";
    return kExitOk;
  }
  const std::string where = o.back ? flow.source : flow.target;
  std::cout << (o.back ? "Failback" : "Failover") << (failed ? " incomplete: " : " complete: ")
            << written + ready << " group(s) ready on " << where << " (" << written << " written now, "
            << ready << " already in sync), " << skipped << " skipped, " << failed << " failed.";
  if (written + ready > 0) std::cout << " Their consumers can start on " << where << " now.";
  if (failed) std::cout << " Fix the cause and run it again: it is safe to repeat.";
  std::cout << "\n";
  // `mirror status` shows the switch: when, by whom, which groups.
  if (auto r = record_switch(flow, *target, o.back, ready_groups); !r) {
    std::cerr << cmd << ": warning: could not record the " << (o.back ? "failback" : "failover") << " on "
              << flow.target << " for mirror status: " << r.error() << "\n";
  }
  return failed ? kExitError : kExitOk;
}

}  // namespace mirror::cmd

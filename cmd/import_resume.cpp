#include "cmd/import_resume.h"

#include <chrono>
#include <optional>
#include <set>

#include "common/identity.h"
#include "kafka/admin.h"
#include "observe/observe.h"

namespace mirror::cmd {

namespace {

std::optional<kafka::ClientConfig> config_of(const spec::Spec& spec, const std::string& alias, int timeout,
                                             std::ostream& err) {
  observe::Options opts;
  opts.timeout = std::chrono::seconds(timeout);
  auto cfg = observe::client_config(spec.clusters.at(alias), spec::Resolver::system(), opts);
  if (!cfg) {
    err << "mirror import: cluster " << alias << ": " << cfg.error() << "\n";
    return std::nullopt;
  }
  return std::move(*cfg);
}

}  // namespace

std::optional<TakeoverPlan> plan_takeover(const spec::Spec& spec, const Mm2Takeover& t, std::ostream& err) {
  TakeoverPlan plan;
  for (const auto& pair : t.pairs) {
    const spec::Flow* flow = spec.flow(pair.flow);
    if (!flow) {
      err << "mirror import: internal error: no flow " << pair.flow << " in the generated spec\n";
      return std::nullopt;
    }
    auto source = config_of(spec, flow->source, t.timeout_seconds, err);
    auto target = config_of(spec, flow->target, t.timeout_seconds, err);
    if (!source || !target) return std::nullopt;
    state::Mm2Source mm2{.flow = flow->name,
                         .source_alias = flow->source,
                         .offsets_topic = pair.offsets_topic,
                         .status_topic = pair.status_topic,
                         .target_prefix = flow->target_topic("")};
    err << "MirrorMaker 2's progress for " << flow->source << "->" << flow->target << " (flow " << flow->name
        << "), from " << pair.offsets_topic << " on " << flow->target << ":\n";

    // MM2 must be stopped: a running MM2 would keep copying, and both would write the same records.
    auto states = state::read_mm2_states(*target, mm2);
    if (!states) {
      err << "mirror import: cannot read MM2's status topic " << pair.status_topic << " on " << flow->target
          << ": " << states.error().describe() << "\n";
      return std::nullopt;
    }
    std::vector<std::string> running;
    for (const auto& [key, st] : *states) {
      if (st == "RUNNING" || st == "RESTARTING") running.push_back(key.substr(7) + " " + st);
    }
    if (!running.empty() && !t.mm2_stopped) {
      err << "mirror import: MirrorMaker 2 still runs for " << flow->source << "->" << flow->target
          << ", says its status topic " << pair.status_topic << ":\n";
      for (const auto& r : running) err << "  " << r << "\n";
      err << "  Nothing was written. Stop MM2 first (all its processes), then import again: a running MM2\n"
          << "  keeps copying, and mirror would copy the same records again.\n"
          << "  hint: MM2 killed with SIGKILL (or lost with its host) cannot update its status; when you "
             "are\n"
          << "        sure no MM2 process runs, pass --mm2-stopped\n";
      return std::nullopt;
    }
    auto checked = state::read_mm2_positions_checked(*target, mm2);
    if (checked) {
      for (const auto& s : checked->skipped) {
        err << "  warning: skipped a record that is not what MM2 writes: " << state::describe(s)
            << " (the position before it, if any, is used)\n";
      }
    }
    auto positions = checked ? kafka::Result<std::vector<state::Mm2Position>>(std::move(checked->positions))
                             : kafka::Result<std::vector<state::Mm2Position>>(fail(checked.error()));
    if (!positions) {
      err << "mirror import: cannot read MM2's progress: " << positions.error().describe() << "\n";
      if (positions.error().code == kafka::Errc::not_found) {
        err << "  hint: MM2 in dedicated mode keeps it in mm2-offsets.<source>.internal on the target "
               "unless\n"
            << "        offset.storage.topic says otherwise; was this the configuration MM2 ran with?\n";
      }
      return std::nullopt;
    }
    std::vector<state::Mm2Position> wanted;
    // Partitions of the flow's topics that MM2 has no committed position for: it may have copied records
    // there and died before its first offset commit (find_resume_points matches them from the start).
    {
      auto admin = kafka::Admin::connect(*source);
      auto topics =
          admin ? admin->list_topics() : kafka::Result<std::vector<kafka::TopicInfo>>(fail(admin.error()));
      if (!topics) {
        err << "mirror import: cannot list the topics of " << flow->source << ": "
            << topics.error().describe() << "\n";
        return std::nullopt;
      }
      std::set<std::pair<std::string, int32_t>> known;
      for (const auto& p : *positions) known.insert({p.topic, p.partition});
      for (const auto& topic : *topics) {
        if (!flow->replicates_topic(topic.name)) continue;
        for (const auto& p : topic.partitions) {
          if (!known.count({topic.name, p.id})) wanted.push_back({topic.name, p.id, -1});
        }
      }
    }
    for (const auto& p : *positions) {
      if (flow->replicates_topic(p.topic)) {
        wanted.push_back(p);
      } else {
        err << "  " << p.topic << "[" << p.partition << "]: not selected by flow " << flow->name
            << "; MM2's position ignored\n";
      }
    }
    if (positions->empty()) {
      err << "  MM2 committed no position in " << pair.offsets_topic
          << "; target partitions that hold records are matched from their start.\n";
    }
    auto points = state::find_resume_points(*source, *target, mm2, wanted);
    if (!points) {
      err << "mirror import: cannot find where MM2 stopped: " << points.error().describe() << "\n";
      return std::nullopt;
    }
    int64_t kept = 0;
    for (const auto& rp : *points) {
      err << "  " << rp.source_topic << "[" << rp.partition << "]: ";
      if (rp.mm2_last_copied >= 0) {
        err << "MM2 copied up to offset " << rp.mm2_last_copied;
      } else {
        err << "MM2 committed no position";
      }
      if (rp.next_down >= 0) {
        err << "; mirror continues at source offset " << rp.resume_up << " -> " << rp.target_topic
            << " offset " << rp.next_down;
      }
      if (rp.after_commit > 0 && rp.mm2_last_copied < 0) {
        err << "; the " << rp.after_commit
            << " record(s) MM2 copied before it stopped are kept, not copied again";
      } else if (rp.after_commit > 0) {
        err << "; " << rp.after_commit
            << " record(s) MM2 wrote after its last commit are kept, not copied again";
      }
      err << "\n";
      if (!rp.note.empty()) err << "    note: " << rp.note << "\n";
      kept += rp.after_commit;
    }
    if (!points->empty()) {
      err << "  " << points->size() << " partition(s); " << kept
          << " record(s) MM2 wrote beyond its committed position recognised on the target and kept\n";
    }
    plan.flows.push_back({flow->name, std::move(*points)});
  }
  return plan;
}

bool store_takeover(const spec::Spec& spec, const TakeoverPlan& plan, int timeout_seconds,
                    std::ostream& err) {
  bool ok = true;
  for (const auto& f : plan.flows) {
    const spec::Flow* flow = spec.flow(f.flow);
    auto target = config_of(spec, flow->target, timeout_seconds, err);
    if (!target) return false;
    auto r = state::store_resume_points(*target, flow->name, f.points, flow->replication_factor, utc_now());
    if (!r) {
      err << "mirror import: could not store mirror's progress for flow " << flow->name << ": "
          << r.error().describe() << "\n";
      if (r.error().code == kafka::Errc::already_exists) {
        err << "  hint: --resume-from-mm2 is for the first start after MM2; mirror's own progress is kept\n";
      }
      ok = false;
      continue;
    }
    err << "Stored mirror's progress for flow " << flow->name << " in " << flow->target
        << " (mirror.progress.internal): `mirror apply` then `mirror run` continue where MM2 stopped.\n";
  }
  return ok;
}

}  // namespace mirror::cmd

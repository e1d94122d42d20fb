#include "planner/group_sync.h"

#include <algorithm>

namespace mirror::planner {

const char* group_decision_name(GroupDecision d) {
  switch (d) {
    case GroupDecision::write: return "write";
    case GroupDecision::in_sync: return "in_sync";
    case GroupDecision::keep_ahead: return "keep_ahead";
    case GroupDecision::rewound: return "rewound";
    case GroupDecision::not_yet: return "not_yet";
    case GroupDecision::before_start: return "before_start";
  }
  return "unknown";
}

const char* group_status_name(GroupStatus s) {
  switch (s) {
    case GroupStatus::sync: return "sync";
    case GroupStatus::in_sync: return "in_sync";
    case GroupStatus::skipped_active: return "skipped_active";
  }
  return "unknown";
}

bool group_writable(const std::string& state, int members) {
  if (members > 0) return false;
  return state.empty() || state == "absent" || state == "Empty" || state == "Dead";
}

namespace {

GroupPartition judge(const spec::Flow& flow, const std::string& group, const std::string& topic,
                     int32_t partition, int64_t committed, const ClusterState& dst,
                     const GroupState* target) {
  GroupPartition gp;
  gp.topic = topic;
  gp.partition = partition;
  gp.source_offset = committed;
  gp.target_topic = flow.target_topic(topic);
  if (target) {
    auto it = target->offsets.find({gp.target_topic, partition});
    if (it != target->offsets.end()) gp.target_offset = it->second;
  }
  const offsets::PartitionOffsetMap* map = nullptr;
  if (auto f = dst.offset_maps.find(flow.name); f != dst.offset_maps.end()) {
    if (auto m = f->second.find({topic, partition}); m != f->second.end()) map = &m->second;
  }
  if (!map) {
    gp.decision = GroupDecision::not_yet;
    gp.detail = "the engine has not mirrored this partition yet";
    return gp;
  }
  const offsets::Translation t = map->translate(committed);
  if (t.kind == offsets::Translation::Kind::not_yet) {
    gp.decision = GroupDecision::not_yet;
    gp.detail = "mirrored up to source offset " + std::to_string(map->scanned_up()) + " so far";
    return gp;
  }
  if (t.kind == offsets::Translation::Kind::older_than_mirrored) {
    gp.decision = GroupDecision::before_start;
    gp.detail = "mirroring of this partition starts at source offset " + std::to_string(map->start_up());
    return gp;
  }
  gp.translated = t.offset;
  if (!gp.target_offset || *gp.target_offset < t.offset) {
    gp.decision = GroupDecision::write;
    return gp;
  }
  if (*gp.target_offset == t.offset) {
    gp.decision = GroupDecision::in_sync;
    return gp;
  }
  // The target group is ahead of the translation. Only when the source group itself went back (it
  // committed a lower offset than the last checkpoint mirror wrote for it) does the target follow.
  auto cp = dst.checkpoints.find({flow.source, group, gp.target_topic, partition});
  if (cp != dst.checkpoints.end() && committed < cp->second.upstream) {
    gp.decision = GroupDecision::rewound;
    gp.detail = "the source group moved back from offset " + std::to_string(cp->second.upstream) + " to " +
                std::to_string(committed);
    return gp;
  }
  gp.decision = GroupDecision::keep_ahead;
  gp.detail = "the target group is at " + std::to_string(*gp.target_offset) + ", ahead of " +
              std::to_string(t.offset) + ": offsets are never moved backwards";
  return gp;
}

}  // namespace

std::vector<GroupReport> group_reports(const spec::Flow& flow, const ClusterState& src,
                                       const ClusterState& dst) {
  std::vector<GroupReport> out;
  for (const auto& [id, g] : src.groups) {
    if (!flow.replicates_group(id)) continue;
    GroupReport r;
    r.flow = flow.name;
    r.group = id;
    r.source = flow.source;
    r.target = flow.target;
    const GroupState* target = nullptr;
    if (auto it = dst.groups.find(id); it != dst.groups.end()) target = &it->second;
    r.target_state = target ? (target->state.empty() ? "unknown" : target->state) : "absent";
    r.target_members = target ? target->members : 0;
    for (const auto& [tp, committed] : g.offsets) {
      // Offsets on topics gone from the source, or not mirrored by this flow, have no equivalent.
      if (committed < 0 || !flow.replicates_topic(tp.first) || !src.topics.count(tp.first)) continue;
      r.partitions.push_back(judge(flow, id, tp.first, tp.second, committed, dst, target));
    }
    if (r.partitions.empty()) continue;  // the group reads nothing this flow mirrors
    const bool any_write = std::any_of(r.partitions.begin(), r.partitions.end(), [](const GroupPartition& p) {
      return p.decision == GroupDecision::write || p.decision == GroupDecision::rewound;
    });
    const auto count = [&](GroupDecision d) {
      return std::count_if(r.partitions.begin(), r.partitions.end(),
                           [d](const GroupPartition& p) { return p.decision == d; });
    };
    if (!any_write) {
      r.status = GroupStatus::in_sync;
      r.reason = "nothing to write";
      if (const auto n = count(GroupDecision::not_yet)) {
        r.reason += "; " + std::to_string(n) + " partition(s) not mirrored that far yet";
      }
      if (const auto n = count(GroupDecision::before_start)) {
        r.reason += "; " + std::to_string(n) +
                    " partition(s) committed before mirroring began: consumers there start from the "
                    "target's earliest offset";
      }
    } else if (!group_writable(target ? target->state : "absent", r.target_members)) {
      r.status = GroupStatus::skipped_active;
      r.reason = "the group is in use on " + flow.target + " (state " + r.target_state + ", " +
                 std::to_string(r.target_members) +
                 " member(s)): mirror never writes offsets of a group with members; stop its consumers "
                 "there or let them be";
    } else if (!flow.groups.sync_offsets) {
      r.status = GroupStatus::in_sync;
      r.reason = "groups.sync_offsets is off for this flow: shown, never written";
    } else {
      r.status = GroupStatus::sync;
      r.reason =
          r.target_state == "absent" ? "the group does not exist on " + flow.target + " yet"
          : count(GroupDecision::rewound) && !count(GroupDecision::write)
              ? "the source group moved back; the group on " + flow.target + " has no members and follows it"
              : "the group is behind on " + flow.target + " and has no members";
    }
    out.push_back(std::move(r));
  }
  return out;
}

std::vector<GroupReport> group_reports_back(const spec::Flow& flow, const ClusterState& src,
                                            const ClusterState& dst) {
  std::vector<GroupReport> out;
  const auto maps = dst.offset_maps.find(flow.name);
  if (maps == dst.offset_maps.end()) return out;
  for (const auto& [id, g] : dst.groups) {
    if (!flow.replicates_group(id)) continue;
    GroupReport r;
    r.flow = flow.name;
    r.group = id;
    r.source = flow.target;  // reads from here
    r.target = flow.source;  // writes there
    const GroupState* back = nullptr;
    if (auto it = src.groups.find(id); it != src.groups.end()) back = &it->second;
    r.target_state = back ? (back->state.empty() ? "unknown" : back->state) : "absent";
    r.target_members = back ? back->members : 0;
    for (const auto& [key, map] : maps->second) {
      const auto& [topic, partition] = key;
      auto c = g.offsets.find({flow.target_topic(topic), partition});
      if (c == g.offsets.end() || c->second < 0) continue;
      GroupPartition gp;
      gp.topic = c->first.first;  // the topic the group read: on the target
      gp.partition = partition;
      gp.source_offset = c->second;
      gp.target_topic = topic;  // where it goes back to: the source topic
      if (back) {
        if (auto it = back->offsets.find({topic, partition}); it != back->offsets.end())
          gp.target_offset = it->second;
      }
      const offsets::Translation t = map.translate_back(c->second);
      if (t.kind == offsets::Translation::Kind::not_yet) {
        gp.decision = GroupDecision::not_yet;
        gp.detail = "beyond what was mirrored (target offset " + std::to_string(map.next_down()) + ")";
      } else if (t.kind == offsets::Translation::Kind::older_than_mirrored) {
        gp.decision = GroupDecision::before_start;
        gp.detail =
            "before the first mirrored record (target offset " + std::to_string(map.start_down()) + ")";
      } else {
        gp.translated = t.offset;
        if (!gp.target_offset || *gp.target_offset < t.offset) {
          gp.decision = GroupDecision::write;
        } else if (*gp.target_offset == t.offset) {
          gp.decision = GroupDecision::in_sync;
        } else {
          gp.decision = GroupDecision::keep_ahead;
          gp.detail = "the group on " + flow.source + " is at " + std::to_string(*gp.target_offset) +
                      ", ahead of " + std::to_string(t.offset) + ": offsets are never moved backwards";
        }
      }
      r.partitions.push_back(std::move(gp));
    }
    if (r.partitions.empty()) continue;
    const bool any_write = std::any_of(r.partitions.begin(), r.partitions.end(), [](const GroupPartition& p) {
      return p.decision == GroupDecision::write;
    });
    if (!any_write) {
      r.status = GroupStatus::in_sync;
      r.reason = "nothing to write";
    } else if (!group_writable(back ? back->state : "absent", r.target_members)) {
      r.status = GroupStatus::skipped_active;
      r.reason = "the group is in use on " + flow.source + " (state " + r.target_state + ", " +
                 std::to_string(r.target_members) +
                 " member(s)): mirror never writes offsets of a group with members";
    } else {
      r.status = GroupStatus::sync;
      r.reason =
          "its consumers moved to " + flow.target + "; they resume on " + flow.source + " where they stopped";
    }
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace mirror::planner

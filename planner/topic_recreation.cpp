#include "planner/topic_recreation.h"

#include <tuple>

namespace mirror::planner {

namespace {

std::string records(int64_t n) { return std::to_string(n) + (n == 1 ? " record" : " records"); }

// What the target keeps of the old topic, from its stored maps: "keeps the 120 records of the old topic
// (offsets 0..119)".
std::string kept(const std::map<int32_t, offsets::PartitionOffsetMap>& maps) {
  constexpr size_t kListed = 3;
  int64_t total = 0;
  std::vector<std::tuple<int32_t, int64_t, int64_t>> ranges;  // partition, first, last target offset
  for (const auto& [partition, map] : maps) {
    if (map.runs().empty()) continue;
    for (const auto& r : map.runs()) total += r.length;
    const auto& last = map.runs().back();
    ranges.emplace_back(partition, map.runs().front().down, last.down + last.length - 1);
  }
  if (total == 0) return "holds no record of the old topic";
  std::string out = "keeps the " + records(total) + " of the old topic (";
  if (maps.size() == 1 && maps.begin()->first == 0) {  // a topic of one partition
    const auto& [p, first, last] = ranges.front();
    return out + "offsets " + std::to_string(first) + ".." + std::to_string(last) + ")";
  }
  for (size_t i = 0; i < ranges.size() && i < kListed; ++i) {
    const auto& [p, first, last] = ranges[i];
    out += (i ? ", " : "") + std::string("partition ") + std::to_string(p) + ": offsets " +
           std::to_string(first) + ".." + std::to_string(last);
  }
  if (ranges.size() > kListed) {
    const size_t more = ranges.size() - kListed;
    out += ", and " + std::to_string(more) + " more partition" + (more == 1 ? "" : "s");
  }
  return out + ")";
}

}  // namespace

bool topic_id_changed(std::string_view stored, std::string_view current) {
  return !stored.empty() && !current.empty() && stored != current;
}

std::string source_recreated_reason(const spec::Flow& flow, std::string_view source_topic,
                                    std::string_view target_topic, std::string_view old_id,
                                    std::string_view new_id,
                                    const std::map<int32_t, offsets::PartitionOffsetMap>& old_maps) {
  const std::string target = flow.target + ":" + std::string(target_topic);
  const std::string what = kept(old_maps);
  return "source topic " + flow.source + ":" + std::string(source_topic) + " was recreated (id " +
         std::string(old_id) + " -> " + std::string(new_id) +
         "): the engine copies the new topic from its start; the target copy " + target + " " + what +
         (what.starts_with("keeps") ? " and the new topic's records follow them" : "");
}

std::string target_recreated_reason(const spec::Flow& flow, std::string_view target_topic,
                                    std::string_view old_id, std::string_view new_id) {
  return "target topic " + flow.target + ":" + std::string(target_topic) + " was deleted and recreated (id " +
         std::string(old_id) + " -> " + std::string(new_id) +
         ") outside mirror: the engine copies the source again from its start into it";
}

std::vector<TopicRecreation> topic_recreations(const spec::Flow& flow, const ClusterState& src,
                                               const ClusterState& dst) {
  std::vector<TopicRecreation> out;
  const auto stored = dst.stored_topic_ids.find(flow.name);
  if (stored == dst.stored_topic_ids.end()) return out;
  const auto maps = dst.offset_maps.find(flow.name);
  auto current = [](const ClusterState& c, const std::string& topic) -> std::string {
    auto it = c.topics.find(topic);
    return it == c.topics.end() ? "" : it->second.id;
  };
  // (topic, old id) -> the partitions whose progress names it; and the target topic of each source.
  std::map<std::pair<std::string, std::string>, std::vector<int32_t>> sources, targets;
  std::map<std::pair<std::string, std::string>, std::string> target_of;
  for (const auto& [key, ids] : stored->second) {
    const auto& [topic, partition] = key;
    if (topic_id_changed(ids.source_topic_id, current(src, topic))) {
      sources[{topic, ids.source_topic_id}].push_back(partition);
      target_of.try_emplace({topic, ids.source_topic_id}, ids.target_topic);
    }
    if (topic_id_changed(ids.target_topic_id, current(dst, ids.target_topic))) {
      targets[{ids.target_topic, ids.target_topic_id}].push_back(partition);
    }
  }
  for (const auto& [key, partitions] : sources) {
    const auto& [topic, old_id] = key;
    std::map<int32_t, offsets::PartitionOffsetMap> old_maps;
    for (int32_t p : partitions) {
      if (maps == dst.offset_maps.end()) break;
      if (auto m = maps->second.find({topic, p}); m != maps->second.end()) old_maps[p] = m->second;
    }
    const std::string new_id = current(src, topic);
    out.push_back({TopicRecreation::Side::source, flow.source, topic, old_id, new_id, partitions,
                   source_recreated_reason(flow, topic, target_of.at(key), old_id, new_id, old_maps)});
  }
  for (const auto& [key, partitions] : targets) {
    const auto& [topic, old_id] = key;
    const std::string new_id = current(dst, topic);
    out.push_back({TopicRecreation::Side::target, flow.target, topic, old_id, new_id, partitions,
                   target_recreated_reason(flow, topic, old_id, new_id)});
  }
  return out;
}

}  // namespace mirror::planner

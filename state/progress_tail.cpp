#include "state/progress_tail.h"

#include "state/record_read.h"

namespace mirror::state {

TailMatch match_tail(const std::vector<RecordPrint>& target_after,
                     const std::vector<RecordPrint>& source_after) {
  TailMatch t;
  size_t k = 0;
  while (k < target_after.size() && k < source_after.size() && target_after[k].hash == source_after[k].hash) {
    t.pairs.emplace_back(source_after[k].offset, target_after[k].offset);
    ++k;
  }
  t.matched = static_cast<int64_t>(k);
  t.unexplained = static_cast<int64_t>(target_after.size() - k);
  return t;
}

kafka::Result<TailMatch> extend_by_tail(const kafka::ClientConfig& source, const kafka::ClientConfig& target,
                                        const TailRequest& request, offsets::PartitionOffsetMap& map) {
  const int64_t from_down = map.next_down(), from_up = map.scanned_up();
  if (request.target_end <= from_down) return TailMatch{};
  if (request.target_end - from_down > request.limit) {
    return TailMatch{.matched = 0, .unexplained = request.target_end - from_down, .pairs = {}};
  }
  std::vector<RecordPrint> down, up;
  if (auto r = read_to_end(target, request.target_topic, {{request.partition, from_down}}, request.limit,
                           [&](const kafka::Message& m) {
                             down.push_back({m.offset(), print_of(m)});
                           });
      !r)
    return fail(std::move(r).error());
  if (down.empty()) return TailMatch{};
  if (auto r = read_to_end(source, request.source_topic, {{request.partition, from_up}},
                           static_cast<int64_t>(down.size()),
                           [&](const kafka::Message& m) {
                             up.push_back({m.offset(), print_of(m)});
                           });
      !r)
    return fail(std::move(r).error());
  TailMatch t = match_tail(down, up);
  for (const auto& [u, d] : t.pairs) {
    if (auto r = map.record(u, d); !r) {
      kafka::Error e;
      e.code = kafka::Errc::invalid;
      e.operation =
          "extend the offset map of " + request.source_topic + "[" + std::to_string(request.partition) + "]";
      e.cluster = target.label();
      e.message = r.error();
      return fail(std::move(e));
    }
  }
  return t;
}

}  // namespace mirror::state

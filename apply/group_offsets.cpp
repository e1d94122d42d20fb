#include "apply/group_offsets.h"

#include <optional>

#include "kafka/producer.h"
#include "offsets/mm2_format.h"
#include "planner/group_sync.h"

namespace mirror::apply {

Result<GroupWrite, std::string> group_write_from_action(const planner::Action& action,
                                                        const std::string& source) {
  GroupWrite w;
  w.group = action.resource;
  w.source = source;
  const auto& offs = action.after.contains("offsets") ? action.after["offsets"] : planner::Json();
  if (!offs.is_array() || offs.empty()) return fail(std::string("the action names no offsets to write"));
  for (const auto& o : offs) {
    if (!o.is_object() || !o.contains("topic") || !o.contains("partition") || !o.contains("offset") ||
        !o.contains("source_offset") || !o["topic"].is_string() || !o["partition"].is_number_integer() ||
        !o["offset"].is_number_integer() || !o["source_offset"].is_number_integer()) {
      return fail("malformed offsets entry " + o.dump());
    }
    GroupOffset g{o["topic"].get<std::string>(), o["partition"].get<int32_t>(), o["offset"].get<int64_t>(),
                  o["source_offset"].get<int64_t>()};
    if (g.offset < 0 || g.source_offset < 0 || g.partition < 0) return fail("negative offset in " + o.dump());
    w.offsets.push_back(std::move(g));
  }
  return w;
}

namespace {

std::string where(const kafka::ClientConfig& target, const GroupWrite& w) {
  return "group " + w.group + " on " + target.label();
}

// Writes the checkpoints; errors are returned, not thrown: the offsets are already committed.
std::optional<std::string> write_checkpoints(const kafka::ClientConfig& target, const GroupWrite& w) {
  std::optional<kafka::Error> failed;
  auto producer = kafka::Producer::create(target, {.idempotent = true}, [&](const kafka::Delivery& d) {
    if (d.error && !failed) failed = d.error;
  });
  if (!producer) return "create the checkpoint producer: " + producer.error().describe();
  const std::string topic = offsets::checkpoints_topic(w.source);
  for (const auto& o : w.offsets) {
    offsets::Checkpoint c{w.group, o.topic, o.partition, o.source_offset, o.offset, ""};
    if (auto ok = offsets::check_checkpoint(c); !ok) return "checkpoint not written: " + ok.error();
    const std::string key = offsets::checkpoint_key(c), value = offsets::checkpoint_value(c);
    if (auto r = producer->send({.topic = topic, .partition = 0, .key = key, .value = value}); !r) {
      return "write the checkpoint to " + topic + ": " + r.error().describe();
    }
  }
  if (auto r = producer->flush(); !r)
    return "write the checkpoints to " + topic + ": " + r.error().describe();
  producer->poll(std::chrono::milliseconds(0));
  if (failed) return "write the checkpoints to " + topic + ": " + failed->describe();
  return std::nullopt;
}

}  // namespace

GroupWriteResult write_group_offsets(kafka::Admin& admin, const kafka::ClientConfig& target,
                                     const GroupWrite& w) {
  GroupWriteResult out;
  // Immediately before the write: the group must have no members on the target.
  auto desc = admin.describe_groups({w.group});
  if (!desc) {
    out.message = "describe " + where(target, w) + ": " + desc.error().describe();
    return out;
  }
  for (const auto& d : *desc) {
    if (d.group_id != w.group) continue;
    if (d.error) {
      out.message = "describe " + where(target, w) + ": " + d.error->describe();
      return out;
    }
    const std::string state = kafka::group_state_name(d.state);
    if (!planner::group_writable(state, d.member_count)) {
      out.skipped = true;
      out.message = where(target, w) + " is in use now (state " + state + ", " +
                    std::to_string(d.member_count) +
                    " member(s)): nothing was written; mirror never moves the offsets of a group with "
                    "members. Plan again once its consumers have stopped, or leave it to them.";
      return out;
    }
  }
  std::vector<kafka::TopicPartitionOffset> offs;
  for (const auto& o : w.offsets) offs.push_back({o.topic, o.partition, o.offset, ""});
  auto r = admin.alter_group_offsets(w.group, offs);
  if (!r) {
    if (r.error().code == kafka::Errc::group_not_empty) {
      out.skipped = true;
      out.message = where(target, w) +
                    " got a member between the check and the write: Kafka refused the commit, nothing "
                    "was written. Plan again once its consumers have stopped.";
    } else {
      out.message = "commit the offsets of " + where(target, w) + ": " + r.error().describe();
    }
    return out;
  }
  for (const auto& p : *r) {
    if (p.error) {
      out.skipped = p.error->code == kafka::Errc::group_not_empty;
      out.message = "commit " + p.tp.topic + "[" + std::to_string(p.tp.partition) + "] of " +
                    where(target, w) + ": " +
                    (out.skipped ? std::string("the group got a member; Kafka refused the commit")
                                 : p.error->describe());
      return out;
    }
  }
  out.written = true;
  if (!w.checkpoints) return out;
  if (auto e = write_checkpoints(target, w)) out.message = "offsets written; " + *e;
  return out;
}

}  // namespace mirror::apply

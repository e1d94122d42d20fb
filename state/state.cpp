#include "state/state.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <thread>

#include "kafka/admin.h"
#include "kafka/consumer.h"
#include "kafka/producer.h"
#include "planner/plan.h"
#include "state/json_record.h"
#include "state/progress.h"

namespace mirror::state {

namespace {
using Json = nlohmann::ordered_json;
constexpr std::string_view kFlowPrefix = "flow/";

}  // namespace

std::string to_json(const AppliedRecord& r) {
  Json acls = Json::array();
  for (const auto& a : r.managed_acls) acls.push_back(planner::acl_json(a));
  Json j{{"format", 1}, {"flow", r.flow}};
  if (!r.owner.empty()) j["owner"] = r.owner;  // optional: absent when no owner is recorded
  j.update(
      Json{{"revision", r.revision},
           {"spec", {{"source", r.spec_source}, {"commit", r.spec_commit}, {"content_hash", r.content_hash}}},
           {"applied_at", r.applied_at},
           {"applied_by", r.applied_by},
           {"mirror_version", r.mirror_version},
           {"managed", {{"topics", r.managed_topics}, {"acls", acls}}}});
  if (!r.failed_over_at.empty()) {
    j["failed_over"] = {{"at", r.failed_over_at}, {"by", r.failed_over_by}, {"groups", r.failed_over_groups}};
  }
  if (!r.failed_back_at.empty()) {
    j["failed_back"] = {{"at", r.failed_back_at}, {"by", r.failed_back_by}, {"groups", r.failed_back_groups}};
  }
  if (!r.policy_overrides.empty()) {
    Json overrides = Json::array();
    for (const auto& o : r.policy_overrides) {
      overrides.push_back({{"rule", o.rule}, {"reason", o.reason}, {"resources", o.resources}});
    }
    j["policy_overrides"] = overrides;
  }
  return j.dump();
}

std::optional<AppliedRecord> from_json(std::string_view text, std::string* why) {
  std::string reason;
  auto bad = [&]() -> std::optional<AppliedRecord> {
    if (why) *why = std::move(reason);
    return std::nullopt;
  };
  auto j = record::parse_object(text, reason);
  if (!j || !record::format_is(*j, 1, reason)) return bad();
  AppliedRecord r;
  using record::get;
  if (!get(*j, "flow", r.flow, reason) || !get(*j, "revision", r.revision, reason)) return bad();
  if (r.flow.empty()) {
    reason = "field flow is empty";
    return bad();
  }
  // Optional (records of mirror before owners, and of unnamed specs, have none); present: not empty.
  if (j->contains("owner")) {
    if (!get(*j, "owner", r.owner, reason)) return bad();
    if (r.owner.empty()) {
      reason = "field owner is empty";
      return bad();
    }
  }
  const auto* s = record::object(*j, "spec", reason);
  if (!s || !get(*s, "source", r.spec_source, reason) || !get(*s, "commit", r.spec_commit, reason) ||
      !get(*s, "content_hash", r.content_hash, reason)) {
    if (s) reason = "spec: " + reason;
    return bad();
  }
  if (!get(*j, "applied_at", r.applied_at, reason) || !get(*j, "applied_by", r.applied_by, reason) ||
      !get(*j, "mirror_version", r.mirror_version, reason)) {
    return bad();
  }
  const auto* m = record::object(*j, "managed", reason);
  if (!m || !get(*m, "topics", r.managed_topics, reason)) {
    if (m) reason = "managed: " + reason;
    return bad();
  }
  const auto* acls = record::array(*m, "acls", reason);
  if (!acls) {
    reason = "managed: " + reason;
    return bad();
  }
  for (const auto& a : *acls) {
    planner::Acl acl;
    if (!a.is_object() || !get(a, "resource_type", acl.resource_type, reason) ||
        !get(a, "resource_name", acl.resource_name, reason) ||
        !get(a, "pattern_type", acl.pattern_type, reason) || !get(a, "principal", acl.principal, reason) ||
        !get(a, "host", acl.host, reason) || !get(a, "operation", acl.operation, reason) ||
        !get(a, "permission", acl.permission, reason)) {
      reason = "managed.acls: " + (a.is_object() ? reason : std::string("an ACL is not an object"));
      return bad();
    }
    r.managed_acls.push_back(std::move(acl));
  }
  // Optional by the format (docs/state.md): absent when not failed over, or without overrides.
  // A switch: {"at", "by", "groups" (optional: absent in records of mirror before issue #22)}.
  auto read_switch = [&](const char* key, std::string& at, std::string& by,
                         std::vector<std::string>& groups) {
    if (!j->contains(key)) return true;
    const auto* f = record::object(*j, key, reason);
    if (!f || !get(*f, "at", at, reason) || !get(*f, "by", by, reason) ||
        (f->contains("groups") && !get(*f, "groups", groups, reason))) {
      if (f) reason = std::string(key) + ": " + reason;
      return false;
    }
    return true;
  };
  if (!read_switch("failed_over", r.failed_over_at, r.failed_over_by, r.failed_over_groups) ||
      !read_switch("failed_back", r.failed_back_at, r.failed_back_by, r.failed_back_groups))
    return bad();
  if (j->contains("policy_overrides")) {
    const auto* overrides = record::array(*j, "policy_overrides", reason);
    if (!overrides) return bad();
    for (const auto& o : *overrides) {
      PolicyOverride po;
      if (!o.is_object() || !get(o, "rule", po.rule, reason) || !get(o, "reason", po.reason, reason) ||
          !get(o, "resources", po.resources, reason)) {
        reason = "policy_overrides: " + (o.is_object() ? reason : std::string("an entry is not an object"));
        return bad();
      }
      r.policy_overrides.push_back(std::move(po));
    }
  }
  return r;
}

std::optional<std::string> applied_flow_of_key(std::string_view key) {
  if (!key.starts_with(kFlowPrefix) || key.size() == kFlowPrefix.size()) return std::nullopt;
  return std::string(key.substr(kFlowPrefix.size()));
}

AppliedFold::Outcome AppliedFold::add(std::optional<std::string_view> key,
                                      std::optional<std::string_view> value, int32_t partition,
                                      int64_t offset) {
  // Only keys "flow/<name>" are records of this format; other keys are someone else's (ignored).
  if (!key || !key->starts_with(kFlowPrefix)) return Outcome::ignored;
  auto skip = [&](std::string reason) {
    pending_[std::string(*key)] = Skipped{kTopic, partition, offset, printable_key(key), std::move(reason)};
    return Outcome::skipped;
  };
  auto flow = applied_flow_of_key(*key);
  if (!flow) return skip("the key names no flow");
  if (!value) {
    // A tombstone forgets the flow, and any unreadable record before it.
    records_.erase(*flow);
    pending_.erase(std::string(*key));
    return Outcome::read;
  }
  std::string why;
  auto rec = from_json(*value, &why);
  if (!rec) return skip(why);
  if (rec->flow != *flow) return skip("field flow names another flow than the key");
  // A readable record supersedes an unreadable one before it; an unreadable one leaves the previous
  // readable record of the flow in place (the latest record mirror can trust).
  pending_.erase(std::string(*key));
  records_[*flow] = std::move(*rec);
  return Outcome::read;
}

AppliedRead AppliedFold::result() const {
  AppliedRead out{records_, {}};
  for (const auto& [key, s] : pending_) out.skipped.push_back(s);
  std::sort(out.skipped.begin(), out.skipped.end(),
            [](const Skipped& a, const Skipped& b) { return a.offset < b.offset; });
  return out;
}

kafka::Result<AppliedRead> read_applied_checked(const kafka::ClientConfig& target) {
  AppliedFold fold;
  auto admin = kafka::Admin::connect(target);
  if (!admin) return fail(std::move(admin).error());
  auto topics = admin->list_topics();
  if (!topics) return fail(std::move(topics).error());
  if (std::none_of(topics->begin(), topics->end(),
                   [](const kafka::TopicInfo& t) { return t.name == kTopic; })) {
    return fold.result();  // never applied here
  }
  // A state topic created moments ago may not have a leader yet: retry until the timeout.
  const auto settle = std::chrono::steady_clock::now() + target.timeout;
  kafka::Result<std::vector<kafka::ListedOffset>> end = std::vector<kafka::ListedOffset>{};
  for (;;) {
    end = admin->list_offsets({{{kTopic, 0}, kafka::OffsetSpec::latest}});
    const bool transient = !end ? (end.error().code == kafka::Errc::not_found || end.error().retriable)
                                : ((*end)[0].error && ((*end)[0].error->code == kafka::Errc::not_found ||
                                                       (*end)[0].error->retriable));
    if (!transient || std::chrono::steady_clock::now() > settle) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  if (!end) return fail(std::move(end).error());
  if ((*end)[0].error) return fail(*(*end)[0].error);
  const int64_t last = (*end)[0].offset;
  if (last <= 0) return fold.result();
  auto consumer =
      kafka::Consumer::create(target, {.isolation = kafka::Isolation::read_uncommitted, .report_eof = true});
  if (!consumer) return fail(std::move(consumer).error());
  if (auto r = consumer->assign({{kTopic, 0, -2}}); !r) return fail(r.error());
  const auto deadline = std::chrono::steady_clock::now() + target.timeout;
  int64_t next = 0;
  while (next < last) {
    if (std::chrono::steady_clock::now() > deadline) {
      kafka::Error e;
      e.code = kafka::Errc::timed_out;
      e.operation = "read mirror's state";
      e.cluster = target.label();
      e.message = "read " + std::to_string(next) + " of " + std::to_string(last) + " records of " + kTopic;
      return fail(std::move(e));
    }
    auto m = consumer->poll(std::chrono::milliseconds(200));
    if (!m) return fail(std::move(m).error());
    if (!*m) continue;
    if ((*m)->eof()) {
      next = std::max(next, (*m)->offset());
      continue;
    }
    next = (*m)->offset() + 1;
    fold.add((*m)->key(), (*m)->value(), (*m)->partition(), (*m)->offset());
  }
  consumer->close();
  return fold.result();
}

kafka::Result<std::map<std::string, AppliedRecord>> read_applied(const kafka::ClientConfig& target) {
  auto r = read_applied_checked(target);
  if (!r) return fail(std::move(r).error());
  return std::move(r->records);
}

kafka::Result<void> write_applied(const kafka::ClientConfig& target,
                                  const std::vector<AppliedRecord>& records) {
  KeyedRecords keyed;
  for (const auto& r : records) keyed.emplace_back(std::string(kFlowPrefix) + r.flow, to_json(r));
  return write_keyed(target, kTopic, keyed, "record the applied revision");
}

kafka::Result<void> forget_applied(const kafka::ClientConfig& target, const std::vector<std::string>& flows) {
  KeyedRecords tombstones;
  for (const auto& flow : flows) tombstones.emplace_back(std::string(kFlowPrefix) + flow, std::nullopt);
  return write_keyed(target, kTopic, tombstones, "forget a retired flow");
}

void merge_into(const std::map<std::string, AppliedRecord>& records, planner::ClusterState& st) {
  for (const auto& [flow, r] : records) {
    planner::AppliedFlow applied{r.revision, r.spec_commit, r.failed_over_at, r.failed_over_by};
    applied.owner = r.owner;
    applied.managed_topics = r.managed_topics;
    applied.managed_acls = r.managed_acls;
    std::sort(applied.managed_topics.begin(), applied.managed_topics.end());
    std::sort(applied.managed_acls.begin(), applied.managed_acls.end());
    st.applied[flow] = std::move(applied);
    for (const auto& t : r.managed_topics) {
      if (std::find(st.managed_topics.begin(), st.managed_topics.end(), t) == st.managed_topics.end()) {
        st.managed_topics.push_back(t);
      }
    }
    for (const auto& a : r.managed_acls) {
      if (std::find(st.managed_acls.begin(), st.managed_acls.end(), a) == st.managed_acls.end()) {
        st.managed_acls.push_back(a);
      }
    }
  }
  std::sort(st.managed_topics.begin(), st.managed_topics.end());
  std::sort(st.managed_acls.begin(), st.managed_acls.end());
}

}  // namespace mirror::state

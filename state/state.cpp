#include "state/state.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <thread>

#include "kafka/admin.h"
#include "kafka/consumer.h"
#include "kafka/producer.h"
#include "planner/plan.h"
#include "state/progress.h"

namespace mirror::state {

namespace {
using Json = nlohmann::ordered_json;
constexpr std::string_view kFlowPrefix = "flow/";

}  // namespace

std::string to_json(const AppliedRecord& r) {
  Json acls = Json::array();
  for (const auto& a : r.managed_acls) acls.push_back(planner::acl_json(a));
  Json j{{"format", 1},
         {"flow", r.flow},
         {"revision", r.revision},
         {"spec", {{"source", r.spec_source}, {"commit", r.spec_commit}, {"content_hash", r.content_hash}}},
         {"applied_at", r.applied_at},
         {"applied_by", r.applied_by},
         {"mirror_version", r.mirror_version},
         {"managed", {{"topics", r.managed_topics}, {"acls", acls}}}};
  if (!r.failed_over_at.empty()) j["failed_over"] = {{"at", r.failed_over_at}, {"by", r.failed_over_by}};
  if (!r.policy_overrides.empty()) {
    Json overrides = Json::array();
    for (const auto& o : r.policy_overrides) {
      overrides.push_back({{"rule", o.rule}, {"reason", o.reason}, {"resources", o.resources}});
    }
    j["policy_overrides"] = overrides;
  }
  return j.dump();
}

std::optional<AppliedRecord> from_json(const std::string& text) {
  Json j = Json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || j.value("format", 0) != 1) return std::nullopt;
  try {
    AppliedRecord r;
    r.flow = j.at("flow").get<std::string>();
    r.revision = j.at("revision").get<std::string>();
    const Json& s = j.at("spec");
    r.spec_source = s.value("source", std::string());
    r.spec_commit = s.value("commit", std::string());
    r.content_hash = s.value("content_hash", std::string());
    r.applied_at = j.value("applied_at", std::string());
    r.applied_by = j.value("applied_by", std::string());
    r.mirror_version = j.value("mirror_version", std::string());
    const Json& m = j.at("managed");
    r.managed_topics = m.value("topics", std::vector<std::string>{});
    for (const auto& a : m.value("acls", Json::array())) {
      r.managed_acls.push_back({a.at("resource_type"), a.at("resource_name"), a.at("pattern_type"),
                                a.at("principal"), a.at("host"), a.at("operation"), a.at("permission")});
    }
    if (j.contains("failed_over")) {
      r.failed_over_at = j["failed_over"].value("at", std::string());
      r.failed_over_by = j["failed_over"].value("by", std::string());
    }
    for (const auto& o : j.value("policy_overrides", Json::array())) {
      r.policy_overrides.push_back({o.at("rule").get<std::string>(), o.value("reason", std::string()),
                                    o.value("resources", std::vector<std::string>{})});
    }
    return r;
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

kafka::Result<std::map<std::string, AppliedRecord>> read_applied(const kafka::ClientConfig& target) {
  std::map<std::string, AppliedRecord> out;
  auto admin = kafka::Admin::connect(target);
  if (!admin) return fail(std::move(admin).error());
  auto topics = admin->list_topics();
  if (!topics) return fail(std::move(topics).error());
  if (std::none_of(topics->begin(), topics->end(),
                   [](const kafka::TopicInfo& t) { return t.name == kTopic; })) {
    return out;  // never applied here
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
  if (last <= 0) return out;
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
    auto key = (*m)->key();
    if (!key || !key->starts_with(kFlowPrefix)) continue;
    const std::string flow(key->substr(kFlowPrefix.size()));
    auto value = (*m)->value();
    if (!value) {
      out.erase(flow);  // tombstone
      continue;
    }
    if (auto rec = from_json(std::string(*value))) out[flow] = std::move(*rec);
  }
  consumer->close();
  return out;
}

kafka::Result<void> write_applied(const kafka::ClientConfig& target,
                                  const std::vector<AppliedRecord>& records) {
  std::vector<std::pair<std::string, std::string>> keyed;
  for (const auto& r : records) keyed.emplace_back(std::string(kFlowPrefix) + r.flow, to_json(r));
  return write_keyed(target, kTopic, keyed, "record the applied revision");
}

void merge_into(const std::map<std::string, AppliedRecord>& records, planner::ClusterState& st) {
  for (const auto& [flow, r] : records) {
    st.applied[flow] = {r.revision, r.spec_commit, r.failed_over_at, r.failed_over_by};
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

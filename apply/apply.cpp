#include "apply/apply.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <set>
#include <thread>

#include "apply/group_offsets.h"
#include "common/version.h"
#include "kafka/admin.h"
#include "state/state.h"

namespace mirror::apply {

bool Report::ok() const {
  return state_errors.empty() &&
         std::all_of(outcomes.begin(), outcomes.end(), [](const Outcome& o) { return o.ok; });
}

namespace {

using planner::Action;
using planner::ActionKind;
using planner::Json;

template <class E, class NameOf>
std::optional<E> enum_from(const std::string& name, std::initializer_list<E> values, NameOf name_of) {
  for (E v : values) {
    if (name == name_of(v)) return v;
  }
  return std::nullopt;
}

std::optional<kafka::AclBinding> acl_from(const Json& j) {
  using namespace kafka;
  auto rt = enum_from<AclResourceType>(j.value("resource_type", ""),
                                       {AclResourceType::topic, AclResourceType::group,
                                        AclResourceType::cluster, AclResourceType::transactional_id},
                                       acl_resource_type_name);
  auto pt =
      enum_from<AclPatternType>(j.value("pattern_type", ""),
                                {AclPatternType::literal, AclPatternType::prefixed}, acl_pattern_type_name);
  auto op = enum_from<AclOperation>(
      j.value("operation", ""),
      {AclOperation::all, AclOperation::read, AclOperation::write, AclOperation::create, AclOperation::remove,
       AclOperation::alter, AclOperation::describe, AclOperation::cluster_action,
       AclOperation::describe_configs, AclOperation::alter_configs, AclOperation::idempotent_write},
      acl_operation_name);
  auto perm = enum_from<AclPermission>(j.value("permission", ""), {AclPermission::allow, AclPermission::deny},
                                       acl_permission_name);
  if (!rt || !pt || !op || !perm) return std::nullopt;
  return AclBinding{
      *rt, j.value("resource_name", ""), *pt, j.value("principal", ""), j.value("host", "*"), *op, *perm};
}

class Executor {
 public:
  Executor(const planner::Plan& plan, const std::map<std::string, kafka::ClientConfig>& clusters,
           const Options& o)
      : plan_(plan), clusters_(clusters), options_(o) {
    for (const auto& a : plan.actions) report_.outcomes.push_back({&a, false, "not attempted"});
  }

  Report run(const spec::Spec& spec) {
    spec_ = &spec;
    if (options_.audit) {
      for (const auto& o : options_.overrides) {
        options_.audit(Json{
            {"event", "mirror.apply.policy_override"},
            {"time", options_.now_utc},
            {"by", options_.user_host},
            {"plan_fingerprint", plan_.fingerprint},
            {"spec_commit", plan_.spec.commit ? Json(*plan_.spec.commit) : Json(nullptr)},
            {"rule", o.rule},
            {"reason", o.reason},
            {"resources",
             o.resources}}.dump());
      }
    }
    // Consecutive actions of one kind on one cluster form one batch (the plan is sorted that way).
    size_t i = 0;
    while (i < plan_.actions.size()) {
      size_t j = i;
      while (j < plan_.actions.size() && plan_.actions[j].kind == plan_.actions[i].kind &&
             plan_.actions[j].cluster == plan_.actions[i].cluster) {
        ++j;
      }
      if (fenced()) return std::move(report_);
      batch(i, j);
      settle(i, j);
      i = j;
    }
    if (fenced()) return std::move(report_);
    record(spec);
    return std::move(report_);
  }

 private:
  kafka::Admin* admin(const std::string& alias, std::string& error) {
    if (auto it = admins_.find(alias); it != admins_.end()) return &it->second;
    auto cfg = clusters_.find(alias);
    if (cfg == clusters_.end()) {
      error = "cluster " + alias + " is not in the spec";
      return nullptr;
    }
    auto a = kafka::Admin::connect(cfg->second);
    if (!a) {
      error = a.error().describe();
      return nullptr;
    }
    return &admins_.emplace(alias, std::move(*a)).first->second;
  }

  // True when the fence says stop: every action not yet attempted fails with its reason.
  bool fenced() {
    if (!options_.fence) return false;
    auto why = options_.fence();
    if (!why) return false;
    for (size_t k = 0; k < report_.outcomes.size(); ++k) {
      if (report_.outcomes[k].error == "not attempted") set(k, false, "not attempted: " + *why);
    }
    report_.state_errors.push_back("the applied revision was not recorded: " + *why);
    return true;
  }

  void set(size_t index, bool ok, std::string error = "") {
    report_.outcomes[index].ok = ok;
    report_.outcomes[index].error = std::move(error);
    if (options_.audit) {
      const Action& a = plan_.actions[index];
      Json line{{"event", "mirror.apply.action"},
                {"time", options_.now_utc},
                {"by", options_.user_host},
                {"plan_fingerprint", plan_.fingerprint},
                {"spec_commit", plan_.spec.commit ? Json(*plan_.spec.commit) : Json(nullptr)},
                {"kind", planner::action_kind_name(a.kind)},
                {"flow", a.flow},
                {"cluster", a.cluster},
                {"resource", a.resource},
                {"outcome", ok ? "ok" : "failed"}};
      if (!ok) line["error"] = report_.outcomes[index].error;
      options_.audit(line.dump());
    }
  }

  // Applies results by resource name to the actions in [from, to).
  void by_name(size_t from, size_t to, const kafka::Result<std::vector<kafka::ResourceResult>>& r) {
    for (size_t k = from; k < to; ++k) {
      if (!r) {
        set(k, false, r.error().describe());
        continue;
      }
      auto it =
          std::find_if(r->begin(), r->end(), [&](auto& x) { return x.name == plan_.actions[k].resource; });
      if (it == r->end())
        set(k, false, "no result from the broker for this resource");
      else if (it->error)
        set(k, false, it->error->describe());
      else
        set(k, true);
    }
  }

  void batch(size_t from, size_t to) {
    const Action& first = plan_.actions[from];
    if (first.kind == ActionKind::start_flow || first.kind == ActionKind::update_flow ||
        first.kind == ActionKind::retire_flow)
      return;  // record()
    std::string error;
    kafka::Admin* a = admin(first.cluster, error);
    if (!a) {
      for (size_t k = from; k < to; ++k) set(k, false, error);
      return;
    }
    switch (first.kind) {
      case ActionKind::create_internal_topic:
      case ActionKind::create_topic: {
        std::vector<kafka::NewTopic> topics;
        for (size_t k = from; k < to; ++k) {
          const Action& x = plan_.actions[k];
          kafka::NewTopic t{
              x.resource, x.after.value("partitions", 1), x.after.value("replication_factor", -1), {}};
          const Json configs =
              x.after.value("configs", Json::object());  // a named copy: items() refers into it
          for (const auto& [key, v] : configs.items()) t.configs[key] = v.get<std::string>();
          topics.push_back(std::move(t));
        }
        by_name(from, to, a->create_topics(topics));
        break;
      }
      case ActionKind::create_partitions: {
        std::vector<kafka::NewPartitions> reqs;
        for (size_t k = from; k < to; ++k) {
          reqs.push_back({plan_.actions[k].resource, plan_.actions[k].after.value("partitions", 0)});
        }
        by_name(from, to, a->create_partitions(reqs));
        break;
      }
      case ActionKind::alter_topic_configs: {
        // IncrementalAlterConfigs: only these keys change; overrides mirror does not own stay.
        std::vector<kafka::TopicConfigAlteration> alts;
        for (size_t k = from; k < to; ++k) {
          const Action& x = plan_.actions[k];
          kafka::TopicConfigAlteration alt{x.resource, {}};
          const Json set_values = x.after.value("set", Json::object());  // named: items() refers into it
          const Json reset_keys = x.after.value("reset", Json::array());
          for (const auto& [key, v] : set_values.items()) {
            alt.changes.push_back({kafka::ConfigOp::set, key, v.get<std::string>()});
          }
          for (const auto& key : reset_keys) {
            alt.changes.push_back({kafka::ConfigOp::remove, key.get<std::string>(), ""});
          }
          alts.push_back(std::move(alt));
        }
        by_name(from, to, a->alter_topic_configs(alts));
        break;
      }
      case ActionKind::delete_topic: {
        std::vector<std::string> names;
        for (size_t k = from; k < to; ++k) names.push_back(plan_.actions[k].resource);
        by_name(from, to, a->delete_topics(names));
        break;
      }
      case ActionKind::create_acl: {
        std::vector<kafka::AclBinding> acls;
        std::vector<size_t> idx;
        for (size_t k = from; k < to; ++k) {
          auto b = acl_from(plan_.actions[k].after);
          if (!b) {
            set(k, false, "the plan's ACL is not understood (edited by hand?)");
            continue;
          }
          acls.push_back(*b);
          idx.push_back(k);
        }
        auto r = a->create_acls(acls);
        for (size_t n = 0; n < idx.size(); ++n) {
          if (!r)
            set(idx[n], false, r.error().describe());
          else if (n >= r->size())
            set(idx[n], false, "no result from the broker for this ACL");
          else if ((*r)[n].error)
            set(idx[n], false, (*r)[n].error->describe());
          else
            set(idx[n], true);
        }
        break;
      }
      case ActionKind::delete_acl: {
        for (size_t k = from; k < to; ++k) {
          auto b = acl_from(plan_.actions[k].before);
          if (!b) {
            set(k, false, "the plan's ACL is not understood (edited by hand?)");
            continue;
          }
          kafka::AclFilter f{b->resource_type, b->resource_name, b->pattern_type, b->principal,
                             b->host,          b->operation,     b->permission};
          auto r = a->delete_acls({f});
          set(k, r.ok(), r.ok() ? "" : r.error().describe());
        }
        break;
      }
      case ActionKind::sync_group_offsets: {
        for (size_t k = from; k < to; ++k) {
          const Action& act = plan_.actions[k];
          const spec::Flow* flow = spec_ ? spec_->flow(act.flow) : nullptr;
          if (!flow) {
            set(k, false, "flow " + act.flow + " is not in the spec");
            continue;
          }
          auto w = group_write_from_action(act, flow->source);
          if (!w) {
            set(k, false, "the plan's offsets are not understood (edited by hand?): " + w.error());
            continue;
          }
          const GroupWriteResult r = write_group_offsets(*a, clusters_.at(act.cluster), *w);
          // Offsets written but a checkpoint not: the consumers are where they should be; say so.
          set(k, r.written, r.written ? "" : r.message);
          if (r.written && !r.message.empty())
            report_.state_errors.push_back(act.resource + ": " + r.message);
        }
        break;
      }
      default:
        for (size_t k = from; k < to; ++k)
          set(k, false, "this version of mirror cannot apply this action yet");
    }
  }

  // Read-after-write: the controller acknowledges a change before every broker serves it. Wait (up to
  // the client timeout) until the successful changes of a batch are visible, so a plan run right after
  // apply sees them.
  void settle(size_t from, size_t to) {
    const Action& first = plan_.actions[from];
    std::string error;
    kafka::Admin* a = admin(first.cluster, error);
    if (!a) return;
    auto visible = [&]() -> bool {
      switch (first.kind) {
        case ActionKind::create_internal_topic:
        case ActionKind::create_topic:
        case ActionKind::create_partitions: {
          auto topics = a->list_topics();
          if (!topics) return false;
          for (size_t k = from; k < to; ++k) {
            if (!report_.outcomes[k].ok) continue;
            const Action& x = plan_.actions[k];
            auto it =
                std::find_if(topics->begin(), topics->end(), [&](auto& t) { return t.name == x.resource; });
            if (it == topics->end() ||
                static_cast<int>(it->partitions.size()) < x.after.value("partitions", 1))
              return false;
          }
          return true;
        }
        case ActionKind::alter_topic_configs: {
          std::vector<std::string> names;
          for (size_t k = from; k < to; ++k) {
            if (report_.outcomes[k].ok) names.push_back(plan_.actions[k].resource);
          }
          auto cfgs = a->describe_topic_configs(names);
          if (!cfgs) return false;
          for (size_t k = from; k < to; ++k) {
            if (!report_.outcomes[k].ok) continue;
            const Action& x = plan_.actions[k];
            auto tc =
                std::find_if(cfgs->begin(), cfgs->end(), [&](auto& c) { return c.topic == x.resource; });
            if (tc == cfgs->end()) return false;
            auto entry = [&](const std::string& name) -> const kafka::ConfigEntry* {
              auto e = std::find_if(tc->entries.begin(), tc->entries.end(),
                                    [&](auto& c) { return c.name == name; });
              return e == tc->entries.end() ? nullptr : &*e;
            };
            const Json set_values = x.after.value("set", Json::object());
            const Json reset_keys = x.after.value("reset", Json::array());
            for (const auto& [key, v] : set_values.items()) {
              const kafka::ConfigEntry* e = entry(key);
              if (!e || e->value != v.get<std::string>()) return false;
            }
            for (const auto& key : reset_keys) {
              const kafka::ConfigEntry* e = entry(key.get<std::string>());
              if (e && e->source == kafka::ConfigSource::dynamic_topic) return false;
            }
          }
          return true;
        }
        case ActionKind::create_acl: {
          auto acls = a->describe_acls({.resource_type = kafka::AclResourceType::topic});
          if (!acls) return false;
          for (size_t k = from; k < to; ++k) {
            if (!report_.outcomes[k].ok) continue;
            auto b = acl_from(plan_.actions[k].after);
            if (b && std::find(acls->begin(), acls->end(), *b) == acls->end()) return false;
          }
          return true;
        }
        default: return true;
      }
    };
    const auto cfg = clusters_.find(first.cluster);
    const auto deadline = std::chrono::steady_clock::now() + cfg->second.timeout;
    while (!visible() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }

  // Records each flow's applied revision and the resources it created, in its target cluster. A flow
  // whose actions did not all succeed keeps its old revision, so the next plan shows it again.
  void record(const spec::Spec& spec) {
    std::map<std::string, std::vector<const spec::Flow*>> by_target;
    for (const auto& f : spec.flows) by_target[f.target].push_back(&f);
    for (const auto& [target, flows] : by_target) {
      auto cfg = clusters_.find(target);
      if (cfg == clusters_.end()) continue;
      auto previous = state::read_applied(cfg->second);
      if (!previous) {
        report_.state_errors.push_back("cannot read mirror's state in " + target + ": " +
                                       previous.error().describe());
        mark_flow_actions(target, false, report_.state_errors.back());
        continue;
      }
      std::vector<state::AppliedRecord> records;
      for (const spec::Flow* f : flows) {
        state::AppliedRecord r;
        const auto it = previous->find(f->name);
        const bool fresh = it == previous->end();
        if (!fresh) r = it->second;
        bool all_ok = true, touched = false;
        std::set<std::string> topics(r.managed_topics.begin(), r.managed_topics.end());
        std::set<planner::Acl> acls(r.managed_acls.begin(), r.managed_acls.end());
        for (const auto& o : report_.outcomes) {
          const Action& a = *o.action;
          if (a.flow != f->name || a.cluster != target) continue;
          touched = true;
          if (a.kind == ActionKind::start_flow || a.kind == ActionKind::update_flow) continue;
          all_ok &= o.ok;
          if (!o.ok) continue;
          if (a.kind == ActionKind::create_topic) topics.insert(a.resource);
          if (a.kind == ActionKind::delete_topic) topics.erase(a.resource);
          if (a.kind == ActionKind::create_acl || a.kind == ActionKind::delete_acl) {
            auto acl = planner::acl_from_json(a.kind == ActionKind::create_acl ? a.after : a.before);
            if (acl && a.kind == ActionKind::create_acl) acls.insert(*acl);
            if (acl && a.kind == ActionKind::delete_acl) acls.erase(*acl);
          }
        }
        if (!touched) continue;
        r.flow = f->name;
        if (all_ok && !options_.keep_revision) {
          r.failed_over_at.clear();  // an apply resumes a failed-over flow (the plan said so)
          r.failed_over_by.clear();
          r.revision = planner::flow_revision(*f);
          r.spec_source = plan_.spec.source;
          r.spec_commit = plan_.spec.commit.value_or("");
          r.content_hash = plan_.spec.content_hash;
          r.policy_overrides = options_.overrides;
          r.owner = spec.name;  // the plan said so: start, update, adopt or an owner recorded at last
        } else if (fresh) {
          r.owner = spec.name;  // a new record is this spec's, even when its revision is not recorded yet
        }
        if (!options_.keep_revision || r.applied_at.empty()) {
          r.applied_at = options_.now_utc;
          r.applied_by = options_.user_host;
          r.mirror_version = kVersion;
        }
        r.managed_topics.assign(topics.begin(), topics.end());
        r.managed_acls.assign(acls.begin(), acls.end());
        records.push_back(std::move(r));
        flow_ok_[f->name] = all_ok;
      }
      std::vector<std::string> forget = retired(target, *previous, records);
      if (records.empty() && forget.empty()) continue;
      auto w = records.empty() ? kafka::Result<void>{} : state::write_applied(cfg->second, records);
      if (w && !forget.empty()) w = state::forget_applied(cfg->second, forget);
      if (!w) {
        report_.state_errors.push_back("cannot record the applied revision in " + target + ": " +
                                       w.error().describe());
        mark_flow_actions(target, false, report_.state_errors.back());
        continue;
      }
      for (size_t k = 0; k < plan_.actions.size(); ++k) {
        const Action& a = plan_.actions[k];
        if ((a.kind == ActionKind::start_flow || a.kind == ActionKind::update_flow) && a.cluster == target) {
          const bool ok = flow_ok_[a.flow];
          set(k, ok, ok ? "" : "some of this flow's actions failed; its revision was not advanced");
        } else if (a.kind == ActionKind::retire_flow && a.cluster == target) {
          const bool ok = flow_ok_[a.flow];
          set(k, ok,
              ok ? "" : "some of the deletions of this retired flow failed; it is kept with what is left");
        }
      }
    }
  }

  // The flows the plan retires on `target`: forgotten (returned, for tombstones) when every deletion of
  // theirs succeeded; otherwise their record is kept without what was deleted (added to `records`), so
  // the next plan retires them again and deletes the rest.
  std::vector<std::string> retired(const std::string& target,
                                   const std::map<std::string, state::AppliedRecord>& previous,
                                   std::vector<state::AppliedRecord>& records) {
    std::vector<std::string> forget;
    for (const auto& ra : plan_.actions) {
      if (ra.kind != ActionKind::retire_flow || ra.cluster != target) continue;
      bool all_ok = true;
      auto it = previous.find(ra.flow);
      std::optional<state::AppliedRecord> kept;
      if (it != previous.end()) kept = it->second;
      for (const auto& o : report_.outcomes) {
        const Action& a = *o.action;
        if (a.flow != ra.flow || a.cluster != target || a.kind == ActionKind::retire_flow) continue;
        all_ok &= o.ok;
        if (!o.ok || !kept) continue;
        if (a.kind == ActionKind::delete_topic) std::erase(kept->managed_topics, a.resource);
        if (a.kind == ActionKind::delete_acl) {
          if (auto acl = planner::acl_from_json(a.before)) std::erase(kept->managed_acls, *acl);
        }
      }
      flow_ok_[ra.flow] = all_ok;
      if (all_ok) {
        forget.push_back(ra.flow);
      } else if (kept) {
        records.push_back(std::move(*kept));
      }
    }
    return forget;
  }

  void mark_flow_actions(const std::string& target, bool ok, const std::string& error) {
    for (size_t k = 0; k < plan_.actions.size(); ++k) {
      const Action& a = plan_.actions[k];
      if ((a.kind == ActionKind::start_flow || a.kind == ActionKind::update_flow ||
           a.kind == ActionKind::retire_flow) &&
          a.cluster == target)
        set(k, ok, error);
    }
  }

  const spec::Spec* spec_ = nullptr;
  const planner::Plan& plan_;
  const std::map<std::string, kafka::ClientConfig>& clusters_;
  const Options& options_;
  std::map<std::string, kafka::Admin> admins_;
  std::map<std::string, bool> flow_ok_;
  Report report_;
};

}  // namespace

Report execute(const planner::Plan& plan, const spec::Spec& spec,
               const std::map<std::string, kafka::ClientConfig>& clusters, const Options& options) {
  return Executor(plan, clusters, options).run(spec);
}

}  // namespace mirror::apply

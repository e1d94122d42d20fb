#include "policies/trusted.h"

#include <algorithm>

namespace mirror::policies {

namespace {

bool same_rule(const spec::PolicyRule& a, const spec::PolicyRule& b) {
  return a.rule == b.rule && a.level == b.level && a.params == b.params;
}

std::string describe_params(const spec::PolicyRule& r) {
  if (r.params.empty()) return "no parameters";
  std::string s;
  for (const auto& [k, v] : r.params) {
    std::string shown = v;
    std::replace(shown.begin(), shown.end(), '\n', ',');
    s += (s.empty() ? "" : "; ") + k + "=" + shown;
  }
  return s;
}

}  // namespace

const char* policy_change_name(PolicyChange::Kind k) {
  switch (k) {
    case PolicyChange::Kind::removed: return "removed";
    case PolicyChange::Kind::weakened: return "weakened";
    case PolicyChange::Kind::changed: return "changed";
    case PolicyChange::Kind::added: return "added";
  }
  return "changed";
}

int level_strength(const std::string& level) {
  if (level == "advisory") return 0;
  if (level == "soft-mandatory") return 1;
  return 2;
}

TrustedMerge merge_trusted(const std::vector<spec::PolicyRule>& trusted,
                           const std::vector<spec::PolicyRule>& proposed, const std::string& trusted_from) {
  TrustedMerge m;
  m.effective = trusted;
  std::vector<bool> proposed_used(proposed.size(), false);
  // Identical rules first, so that two instances of one rule pair up with their own counterparts.
  std::vector<bool> trusted_matched(trusted.size(), false);
  for (size_t t = 0; t < trusted.size(); ++t) {
    for (size_t p = 0; p < proposed.size(); ++p) {
      if (!proposed_used[p] && same_rule(trusted[t], proposed[p])) {
        proposed_used[p] = trusted_matched[t] = true;
        break;
      }
    }
  }
  for (size_t t = 0; t < trusted.size(); ++t) {
    if (trusted_matched[t]) continue;
    const spec::PolicyRule& tr = trusted[t];
    // The proposal's version of this rule, if it kept the rule but edited it.
    const spec::PolicyRule* edited = nullptr;
    for (size_t p = 0; p < proposed.size(); ++p) {
      if (!proposed_used[p] && proposed[p].rule == tr.rule) {
        edited = &proposed[p];
        proposed_used[p] = true;
        break;
      }
    }
    const std::string enforced = "; the trusted rule (" + tr.level + ", " + describe_params(tr) + ") from " +
                                 trusted_from + " is enforced";
    if (!edited) {
      m.changes.push_back({PolicyChange::Kind::removed, tr.rule,
                           "policy " + tr.rule + " is removed by this spec" + enforced});
      continue;
    }
    std::string what;
    if (edited->level != tr.level) what = "level " + tr.level + " -> " + edited->level;
    if (edited->params != tr.params) {
      what += (what.empty() ? "" : ", ") + std::string("parameters ") + describe_params(tr) + " -> " +
              describe_params(*edited);
    }
    const bool weaker = level_strength(edited->level) < level_strength(tr.level);
    m.changes.push_back({weaker ? PolicyChange::Kind::weakened : PolicyChange::Kind::changed, tr.rule,
                         "policy " + tr.rule + " is " + (weaker ? "weakened" : "changed") +
                             " by this spec (" + what + ")" + enforced +
                             (weaker ? "" : ", and the spec's version as well")});
    // A stronger or different version only adds checks: it is judged too (the trusted one still is).
    if (!weaker) m.effective.push_back(*edited);
  }
  for (size_t p = 0; p < proposed.size(); ++p) {
    if (proposed_used[p]) continue;
    m.effective.push_back(proposed[p]);
    m.changes.push_back({PolicyChange::Kind::added, proposed[p].rule,
                         "policy " + proposed[p].rule + " (" + proposed[p].level +
                             ") is added by this spec; it is judged in addition to the trusted policies"});
  }
  return m;
}

}  // namespace mirror::policies

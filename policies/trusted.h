// Policies from a trusted place (docs/security.md): a pull request may edit the spec, so the policies
// that judge its plan can come from somewhere it cannot change (a file on the runner, or the base
// branch). Pure: merges the trusted rules with the proposed spec's own and says what the proposal
// removed or weakened.
#pragma once

#include <string>
#include <vector>

#include "spec/spec.h"

namespace mirror::policies {

struct PolicyChange {
  enum class Kind { removed, weakened, changed, added };
  Kind kind = Kind::removed;
  std::string rule;
  std::string message;  // for people: what the proposal did and what is enforced instead
};
const char* policy_change_name(PolicyChange::Kind k);

struct TrustedMerge {
  // What is enforced: every trusted rule as the trusted source wrote it, then each proposed rule that
  // is not identical to a trusted one (policies only ever block, so an extra rule cannot weaken).
  std::vector<spec::PolicyRule> effective;
  std::vector<PolicyChange> changes;  // in trusted order, then the added ones
};

// `trusted_from` names the trusted source in messages ("origin/main:mirror", "/etc/mirror/policies.yaml").
TrustedMerge merge_trusted(const std::vector<spec::PolicyRule>& trusted,
                           const std::vector<spec::PolicyRule>& proposed, const std::string& trusted_from);

// advisory 0, soft-mandatory 1, hard-mandatory 2 (unknown: 2, the safe side).
int level_strength(const std::string& level);

}  // namespace mirror::policies

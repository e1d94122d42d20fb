// Exit codes are a contract with CI pipelines and cron jobs (design.md section 3). Never renumber.
#pragma once

namespace mirror::cmd {
inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;
inline constexpr int kExitChanges = 2;  // plan --detailed-exitcode found changes
inline constexpr int kExitPolicy = 3;   // denied by a policy
inline constexpr int kExitStale = 4;    // a saved plan no longer matches the clusters
inline constexpr int kExitUsage = 64;   // bad command line (EX_USAGE)
}  // namespace mirror::cmd

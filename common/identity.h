// Who and when, as mirror records them: "user@host" and ISO 8601 UTC times. Header-only.
#pragma once

#include <pwd.h>
#include <unistd.h>

#include <cstdlib>
#include <ctime>
#include <string>

namespace mirror {

// "2026-11-25T21:14:43Z"
inline std::string utc_now() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// "deploy@runner-7": $USER, or the account of the effective uid (CI runners and containers often have
// no $USER), and the host name.
inline std::string user_at_host() {
  const char* user = std::getenv("USER");
  if (!user || !*user) {
    const passwd* pw = getpwuid(geteuid());
    user = pw ? pw->pw_name : nullptr;
  }
  char host[256] = "unknown";
  gethostname(host, sizeof host - 1);
  return std::string(user && *user ? user : "unknown") + "@" + host;
}

}  // namespace mirror

// Which configuration values are secrets. One definition for the whole code base: the spec printer,
// error messages and logs all ask this before showing a value.
#pragma once

#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>

namespace mirror {

// True for property names that contain password, secret, token, key or jaas (any case), e.g.
// sasl.password, ssl.key.pem, sasl.jaas.config, sasl.oauthbearer.client.secret.
inline bool is_secret_property(std::string_view name) {
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (std::string_view word : {"password", "secret", "token", "key", "jaas"}) {
    if (lower.find(word) != std::string::npos) return true;
  }
  return false;
}

// A URL without the credentials it may carry: "https://bot:TOKEN@host/repo" -> "https://bot:***@host/repo",
// "https://TOKEN@host/repo" -> "https://***@host/repo". ssh user names ("ssh://git@host") are kept.
inline std::string redact_url_credentials(std::string s) {
  const size_t scheme = s.find("://");
  if (scheme == std::string::npos) return s;
  const size_t start = scheme + 3;
  const size_t end = std::min(s.find_first_of("/?#", start), s.size());
  const size_t at = s.rfind('@', end);
  if (at == std::string::npos || at < start) return s;
  const size_t colon = s.find(':', start);
  if (colon < at) return s.replace(colon + 1, at - colon - 1, "***");     // user:password@
  if (s.starts_with("http")) return s.replace(start, at - start, "***");  // token@ (GitHub accepts it)
  return s;                                                               // ssh://git@host: not a secret
}

}  // namespace mirror

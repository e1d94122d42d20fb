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

}  // namespace mirror

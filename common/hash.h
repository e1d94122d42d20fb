// SHA-256 as lowercase hex: content hashes of specs, flow revisions and plan fingerprints.
#pragma once

#include <string>
#include <string_view>

namespace mirror {

std::string sha256_hex(std::string_view data);

}  // namespace mirror

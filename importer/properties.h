// Java .properties files, read exactly as java.util.Properties.load reads them, so that the importer
// sees what MirrorMaker 2 saw: `=`, `:` or whitespace between key and value; `#` and `!` comment
// lines; a line ending in an odd number of backslashes continues on the next line (whose leading
// whitespace is skipped); escapes \t \n \r \f \uXXXX, and "\x" meaning x for any other character (so
// the regex `\.` written in a properties file reaches Java as `.`: a classic MM2 pitfall).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "importer/problem.h"

namespace mirror::importer {

struct Property {
  std::string key;    // unescaped
  std::string value;  // unescaped; leading whitespace removed, trailing whitespace kept (as Java does)
  int line = 0;       // 1-based line where the entry starts
  // The value had a backslash before a character that does not need one (e.g. `\.` or `\d`): Java
  // dropped the backslash, which in a regex usually changes its meaning.
  bool dropped_backslash = false;
};

// Pure: parses the text of a .properties file (UTF-8 is passed through; \uXXXX escapes become UTF-8).
// Entries come back in file order; a key may appear more than once (Java keeps the last value).
// The only malformed input Java rejects is a bad \uXXXX escape: that is the error, with file:line.
Result<std::vector<Property>, Problem> parse_properties(std::string_view text, std::string_view file);

}  // namespace mirror::importer

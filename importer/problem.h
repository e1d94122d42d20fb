// What the importer reports about its input: a place in the file being imported (file:line) and a
// message written for the person fixing it, with a hint. Errors stop an import; notes do not.
#pragma once

#include <string>

namespace mirror::importer {

struct Problem {
  std::string file;     // as the caller named the input
  int line = 0;         // 1-based; 0 means the whole file
  std::string message;  // what is wrong, never quoting a secret value
  std::string hint;     // what to do about it (may be empty)

  // "file:line: message\n  hint: ..." (or "file: message" for the whole file).
  std::string str() const {
    std::string s = line > 0 ? file + ":" + std::to_string(line) + ": " + message : file + ": " + message;
    if (!hint.empty()) s += "\n  hint: " + hint;
    return s;
  }
};

}  // namespace mirror::importer

// Colour only on a terminal, and never when NO_COLOR is set (design.md section 3, no-color.org).
#pragma once

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace mirror::cmd {

struct Style {
  bool color = false;
  static Style for_stream(FILE* f) {
    const char* no = std::getenv("NO_COLOR");
    return Style{isatty(fileno(f)) != 0 && !(no && *no)};
  }
  std::string wrap(const std::string& s, const char* code) const {
    return color ? std::string("\033[") + code + "m" + s + "\033[0m" : s;
  }
  std::string red(const std::string& s) const { return wrap(s, "31"); }
  std::string green(const std::string& s) const { return wrap(s, "32"); }
  std::string yellow(const std::string& s) const { return wrap(s, "33"); }
  std::string bold(const std::string& s) const { return wrap(s, "1"); }
};

}  // namespace mirror::cmd

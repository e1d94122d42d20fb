// User diagnostics: problems in what the user wrote, collected (not thrown) so that one run reports
// all of them, each with the place it was found and a one-line fix hint.
#pragma once

#include <string>
#include <vector>

namespace mirror::spec {

// A place in a spec file. line and column are 1-based; 0 means "the whole file".
struct Location {
  std::string file;  // as shown to the user: a path, or "<commit>:<path>" for specs read from git
  int line = 0;
  int column = 0;
  auto operator<=>(const Location&) const = default;
  std::string str() const;  // "file:line:col" (or "file" when line is 0)
};

enum class Severity { error, warning };

struct Diagnostic {
  Severity severity = Severity::error;
  Location where;
  std::string message;  // what is wrong
  std::string hint;     // what to do about it (may be empty)
  // Other places involved (e.g. the first definition of a duplicate name).
  std::vector<Location> related;
  auto operator<=>(const Diagnostic&) const = default;
};

class Diagnostics {
 public:
  void error(Location where, std::string message, std::string hint = "", std::vector<Location> related = {});
  void warning(Location where, std::string message, std::string hint = "",
               std::vector<Location> related = {});
  void add(Diagnostic d) { items_.push_back(std::move(d)); }
  void append(const Diagnostics& other);

  bool has_errors() const;
  size_t error_count() const;
  size_t warning_count() const;
  bool empty() const { return items_.empty(); }
  // Sorted by file, line, column, then message: the order users read them in.
  std::vector<Diagnostic> sorted() const;
  const std::vector<Diagnostic>& items() const { return items_; }

 private:
  std::vector<Diagnostic> items_;
};

// "file:line:col: error: message\n  hint: ...", one diagnostic per call.
std::string format_text(const Diagnostic& d);

}  // namespace mirror::spec

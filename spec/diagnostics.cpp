#include "spec/diagnostics.h"

#include <algorithm>
#include <tuple>

namespace mirror::spec {

std::string Location::str() const {
  if (line <= 0) return file;
  return file + ":" + std::to_string(line) + ":" + std::to_string(column);
}

void Diagnostics::error(Location where, std::string message, std::string hint,
                        std::vector<Location> related) {
  items_.push_back(
      {Severity::error, std::move(where), std::move(message), std::move(hint), std::move(related)});
}

void Diagnostics::warning(Location where, std::string message, std::string hint,
                          std::vector<Location> related) {
  items_.push_back(
      {Severity::warning, std::move(where), std::move(message), std::move(hint), std::move(related)});
}

void Diagnostics::append(const Diagnostics& other) {
  items_.insert(items_.end(), other.items_.begin(), other.items_.end());
}

bool Diagnostics::has_errors() const { return error_count() > 0; }

size_t Diagnostics::error_count() const {
  return static_cast<size_t>(
      std::count_if(items_.begin(), items_.end(), [](auto& d) { return d.severity == Severity::error; }));
}

size_t Diagnostics::warning_count() const { return items_.size() - error_count(); }

std::vector<Diagnostic> Diagnostics::sorted() const {
  std::vector<Diagnostic> out = items_;
  std::stable_sort(out.begin(), out.end(), [](const Diagnostic& a, const Diagnostic& b) {
    return std::tie(a.where, a.message) < std::tie(b.where, b.message);
  });
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::string format_text(const Diagnostic& d) {
  std::string s =
      d.where.str() + ": " + (d.severity == Severity::error ? "error" : "warning") + ": " + d.message;
  for (const auto& r : d.related) s += "\n  " + r.str() + ": see also";
  if (!d.hint.empty()) s += "\n  hint: " + d.hint;
  return s;
}

}  // namespace mirror::spec

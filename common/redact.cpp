#include "common/redact.h"

#include <algorithm>
#include <iostream>
#include <mutex>
#include <set>
#include <streambuf>
#include <vector>

namespace mirror {

namespace {

constexpr size_t kMinSecret = 4;

struct Registry {
  std::mutex mu;
  // Longest first, so a secret that contains another is replaced whole.
  std::vector<std::string> secrets;
};

Registry& registry() {
  static Registry* r = new Registry;  // never destroyed: loggers may run during static destruction
  return *r;
}

void add_locked(Registry& r, std::string_view v) {
  if (v.size() < kMinSecret) return;
  if (std::find(r.secrets.begin(), r.secrets.end(), v) != r.secrets.end()) return;
  r.secrets.emplace_back(v);
  std::stable_sort(r.secrets.begin(), r.secrets.end(),
                   [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
}

// A streambuf that holds output until a newline (or a flush) and writes it through redact().
class RedactingBuf : public std::streambuf {
 public:
  explicit RedactingBuf(std::streambuf* sink) : sink_(sink) {}

 protected:
  int_type overflow(int_type ch) override {
    if (traits_type::eq_int_type(ch, traits_type::eof())) return traits_type::not_eof(ch);
    std::lock_guard lock(mu_);
    pending_ += traits_type::to_char_type(ch);
    if (ch == '\n') emit_locked();
    return ch;
  }
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    std::lock_guard lock(mu_);
    pending_.append(s, static_cast<size_t>(n));
    if (pending_.find('\n') != std::string::npos) {
      // Everything up to the last newline is complete; the rest waits for its line's end.
      const size_t last = pending_.rfind('\n');
      std::string rest = pending_.substr(last + 1);
      pending_.resize(last + 1);
      emit_locked();
      pending_ = std::move(rest);
    }
    return n;
  }
  int sync() override {
    std::lock_guard lock(mu_);
    emit_locked();
    return sink_->pubsync();
  }

 private:
  void emit_locked() {
    if (pending_.empty()) return;
    const std::string out = redact(pending_);
    sink_->sputn(out.data(), static_cast<std::streamsize>(out.size()));
    pending_.clear();
  }
  std::streambuf* sink_;
  std::mutex mu_;
  std::string pending_;
};

}  // namespace

void register_secret(std::string_view value) {
  Registry& r = registry();
  std::lock_guard lock(r.mu);
  add_locked(r, value);
  if (value.find('\n') != std::string_view::npos) {
    size_t start = 0;
    while (start < value.size()) {
      size_t end = std::min(value.find('\n', start), value.size());
      std::string_view line = value.substr(start, end - start);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      // PEM armour lines ("-----BEGIN PRIVATE KEY-----") are no secret; the base64 lines are.
      if (!line.starts_with("-----")) add_locked(r, line);
      start = end + 1;
    }
  }
}

std::string redact(std::string_view text) {
  Registry& r = registry();
  std::lock_guard lock(r.mu);
  std::string out(text);
  for (const auto& s : r.secrets) {
    for (size_t pos = out.find(s); pos != std::string::npos; pos = out.find(s, pos + kRedacted.size())) {
      out.replace(pos, s.size(), kRedacted);
    }
  }
  return out;
}

bool contains_secret(std::string_view text) {
  Registry& r = registry();
  std::lock_guard lock(r.mu);
  return std::any_of(r.secrets.begin(), r.secrets.end(),
                     [&](const std::string& s) { return text.find(s) != std::string_view::npos; });
}

void install_redacting_streams() {
  static bool installed = false;
  if (installed) return;
  installed = true;
  // Leaked on purpose: the streams outlive main().
  static auto* out = new RedactingBuf(std::cout.rdbuf());
  static auto* err = new RedactingBuf(std::cerr.rdbuf());
  std::cout.rdbuf(out);
  std::cerr.rdbuf(err);
  std::cerr.setf(std::ios::unitbuf);  // stderr stays unbuffered: each write is flushed (redacted) at once
}

void clear_secrets_for_testing() {
  Registry& r = registry();
  std::lock_guard lock(r.mu);
  r.secrets.clear();
}

}  // namespace mirror

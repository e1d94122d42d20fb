#include "spec/value.h"

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "common/redact.h"

namespace mirror::spec {

namespace {
bool valid_env_name(std::string_view n) {
  if (n.empty() || std::isdigit(static_cast<unsigned char>(n[0]))) return false;
  for (char c : n) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}
}  // namespace

std::variant<std::vector<Reference>, ReferenceError> parse_references(std::string_view raw) {
  std::vector<Reference> refs;
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '$') continue;
    if (i + 1 < raw.size() && raw[i + 1] == '$') {  // "$$" is a literal "$"
      ++i;
      continue;
    }
    if (i + 1 >= raw.size() || raw[i + 1] != '{') continue;  // a lone "$" is just a character
    size_t close = raw.find('}', i);
    if (close == std::string_view::npos) {
      return ReferenceError{"unterminated reference: \"${\" without a closing \"}\"", i};
    }
    std::string_view body = raw.substr(i + 2, close - i - 2);
    Reference r;
    r.offset = i;
    r.text = std::string(raw.substr(i, close - i + 1));
    if (body.starts_with("env:")) {
      r.kind = Reference::Kind::env;
      r.name = std::string(body.substr(4));
      if (!valid_env_name(r.name)) {
        return ReferenceError{"invalid environment variable name in " + r.text +
                                  " (use letters, digits and _, not starting with a digit)",
                              i};
      }
    } else if (body.starts_with("file:")) {
      r.kind = Reference::Kind::file;
      r.name = std::string(body.substr(5));
      if (r.name.empty()) return ReferenceError{"empty file path in " + r.text, i};
    } else {
      return ReferenceError{
          "unknown reference " + r.text + ": use ${env:NAME} or ${file:PATH} (write $$ for a literal $)", i};
    }
    refs.push_back(std::move(r));
    i = close;
  }
  return refs;
}

bool Value::has_references() const {
  auto r = parse_references(raw);
  auto* refs = std::get_if<std::vector<Reference>>(&r);
  return !refs || !refs->empty();
}

Resolver Resolver::system() {
  Resolver r;
  r.env = [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (!v) return std::nullopt;
    return std::string(v);
  };
  r.read_file = [](const std::string& path) -> std::optional<std::string> {
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    // At most the limit (plus one byte to notice a file that grew past it since it was checked).
    std::string out(kMaxReferencedFileBytes + 1, '\0');
    in.read(out.data(), static_cast<std::streamsize>(out.size()));
    if (in.bad()) return std::nullopt;
    out.resize(static_cast<size_t>(in.gcount()));
    if (out.size() > kMaxReferencedFileBytes) return std::nullopt;
    return out;
  };
  r.settings = OperatorSettings::from_environment();
  return r;
}

Result<std::string, Diagnostic> resolve(const Value& value, const Resolver& resolver) {
  auto parsed = parse_references(value.raw);
  if (auto* err = std::get_if<ReferenceError>(&parsed)) {
    return fail(Diagnostic{Severity::error, value.where, err->message, "", {}});
  }
  std::string out;
  size_t pos = 0;
  const std::string& raw = value.raw;
  for (const Reference& r : std::get<std::vector<Reference>>(parsed)) {
    // Copy the literal text before the reference, turning "$$" into "$".
    for (size_t i = pos; i < r.offset; ++i) {
      out += raw[i];
      if (raw[i] == '$' && i + 1 < r.offset && raw[i + 1] == '$') ++i;
    }
    std::optional<std::string> v;
    if (r.kind == Reference::Kind::env) {
      if (!env_allowed(r.name, resolver.settings)) {
        return fail(Diagnostic{
            Severity::error,
            value.where,
            "environment variable " + r.name + " (" + r.text + ") is not allowed by this runner's operator",
            "set MIRROR_ALLOW_ENV=" + r.name +
                " (or a prefix such as MIRROR_SECRET_*) in mirror's environment, not in "
                "the spec",
            {}});
      }
      v = resolver.env ? resolver.env(r.name) : std::nullopt;
      if (!v) {
        return fail(Diagnostic{Severity::error,
                               value.where,
                               "environment variable " + r.name + " is not set (" + r.text + ")",
                               "export " + r.name + " before running mirror, or change the spec",
                               {}});
      }
    } else {
      auto checked = check_file_reference(r.name, resolver.settings);
      if (!checked) {
        return fail(
            Diagnostic{Severity::error, value.where, checked.error().message, checked.error().hint, {}});
      }
      v = resolver.read_file ? resolver.read_file(checked->string()) : std::nullopt;
      if (!v) {
        return fail(Diagnostic{Severity::error,
                               value.where,
                               "cannot read file " + r.name + " (" + r.text + ")",
                               "check that the file exists and is readable by the user running mirror",
                               {}});
      }
      if (!v->empty() && v->back() == '\n') v->pop_back();
      if (!v->empty() && v->back() == '\r') v->pop_back();
    }
    register_secret(*v);
    out += *v;
    pos = r.offset + r.text.size();
  }
  for (size_t i = pos; i < raw.size(); ++i) {
    out += raw[i];
    if (raw[i] == '$' && i + 1 < raw.size() && raw[i + 1] == '$') ++i;
  }
  if (pos > 0) register_secret(out);  // the whole value too, when it came (partly) from a reference
  return out;
}

}  // namespace mirror::spec

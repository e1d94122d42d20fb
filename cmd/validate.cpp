#include "cmd/validate.h"

#include <nlohmann/json.hpp>

#include <iostream>

#include "cmd/exit_codes.h"
#include "cmd/terminal.h"
#include "common/secrets.h"

namespace mirror::cmd {

namespace {

using nlohmann::ordered_json;

ordered_json location_json(const spec::Location& l) {
  return ordered_json{{"file", l.file}, {"line", l.line}, {"column", l.column}};
}

// What the spec amounts to, with every secret value redacted (references are shown: they are names).
ordered_json spec_summary(const spec::Spec& s) {
  ordered_json clusters = ordered_json::array();
  for (const auto& [alias, c] : s.clusters) {
    ordered_json client = ordered_json::object();
    for (const auto& [k, v] : c.client) {
      client[k] = is_secret_property(k) && !v.has_references() ? "<redacted>" : v.raw;
    }
    clusters.push_back({{"alias", alias}, {"bootstrap", c.bootstrap.raw}, {"client", client}});
  }
  ordered_json flows = ordered_json::array();
  for (const auto& f : s.flows) {
    flows.push_back({{"name", f.name},
                     {"source", f.source},
                     {"target", f.target},
                     {"naming", f.naming == spec::Naming::prefix ? "prefix" : "identity"},
                     {"exactly_once", f.exactly_once}});
  }
  return ordered_json{{"source", s.origin.source},
                      {"commit", s.origin.commit ? ordered_json(*s.origin.commit) : ordered_json(nullptr)},
                      {"ref", s.origin.ref ? ordered_json(*s.origin.ref) : ordered_json(nullptr)},
                      {"path", s.origin.path},
                      {"content_hash", s.content_hash},
                      {"clusters", clusters},
                      {"flows", flows}};
}

// GitHub workflow commands: data is %-escaped, properties also escape ':' and ','.
std::string gh_escape(const std::string& s, bool property) {
  std::string out;
  for (char c : s) {
    if (c == '%')
      out += "%25";
    else if (c == '\r')
      out += "%0D";
    else if (c == '\n')
      out += "%0A";
    else if (property && c == ':')
      out += "%3A";
    else if (property && c == ',')
      out += "%2C";
    else
      out += c;
  }
  return out;
}

}  // namespace

CLI::App* add_validate(CLI::App& app, ValidateOptions& o) {
  CLI::App* sub =
      app.add_subcommand("validate", "Parse and check the spec offline (no cluster is contacted)");
  add_spec_options(*sub, o.spec);
  sub->add_option("--format", o.format, "Output: text, json, or github (workflow annotations)")
      ->check(CLI::IsMember({"text", "json", "github"}))
      ->capture_default_str();
  sub->footer("Exit codes: 0 valid (warnings are printed), 1 invalid, 64 usage error.");
  return sub;
}

int run_validate(const ValidateOptions& o) {
  spec::LoadResult r = load_spec(o.spec);
  const auto diags = r.diagnostics.sorted();
  const bool valid = r.spec.has_value() && !r.diagnostics.has_errors();

  if (o.format == "json") {
    ordered_json items = ordered_json::array();
    for (const auto& d : diags) {
      ordered_json related = ordered_json::array();
      for (const auto& l : d.related) related.push_back(location_json(l));
      items.push_back({{"severity", d.severity == spec::Severity::error ? "error" : "warning"},
                       {"file", d.where.file},
                       {"line", d.where.line},
                       {"column", d.where.column},
                       {"message", d.message},
                       {"hint", d.hint},
                       {"related", related}});
    }
    ordered_json out{{"format_version", "1"},
                     {"valid", valid},
                     {"errors", r.diagnostics.error_count()},
                     {"warnings", r.diagnostics.warning_count()},
                     {"diagnostics", items},
                     {"spec", valid ? spec_summary(*r.spec) : ordered_json(nullptr)}};
    std::cout << out.dump(2) << "\n";
  } else if (o.format == "github") {
    for (const auto& d : diags) {
      std::string cmd = d.severity == spec::Severity::error ? "::error" : "::warning";
      std::string props = " file=" + gh_escape(d.where.file, true);
      if (d.where.line > 0)
        props += ",line=" + std::to_string(d.where.line) + ",col=" + std::to_string(d.where.column);
      std::string msg = d.message + (d.hint.empty() ? "" : " (hint: " + d.hint + ")");
      std::cout << cmd << props << "::" << gh_escape(msg, false) << "\n";
    }
    std::cout << (valid ? "mirror: spec is valid" : "mirror: spec is invalid") << "\n";
  } else {
    const Style st = Style::for_stream(stderr);
    for (const auto& d : diags) {
      std::string text = spec::format_text(d);
      const std::string tag = d.severity == spec::Severity::error ? ": error: " : ": warning: ";
      if (auto pos = text.find(tag); pos != std::string::npos) {
        const std::string colored =
            d.severity == spec::Severity::error ? st.red(tag.substr(2, 5)) : st.yellow(tag.substr(2, 7));
        text = st.bold(text.substr(0, pos)) + ": " + colored + text.substr(pos + tag.size() - 2);
      }
      std::cerr << text << "\n";
    }
    if (valid) {
      const spec::Spec& s = *r.spec;
      std::string from = s.origin.commit ? s.origin.source + " at " + *s.origin.ref + " (" +
                                               s.origin.commit->substr(0, 12) + ")"
                                         : s.origin.source;
      std::cout << st.green("The spec is valid") << ": " << from << ": " << s.clusters.size()
                << " cluster(s), " << s.flows.size() << " flow(s), " << s.policies.size() << " polic"
                << (s.policies.size() == 1 ? "y" : "ies");
      if (r.diagnostics.warning_count()) std::cout << ", " << r.diagnostics.warning_count() << " warning(s)";
      std::cout << ".\n";
    } else {
      std::cerr << st.red("The spec is invalid") << ": " << r.diagnostics.error_count() << " error(s), "
                << r.diagnostics.warning_count() << " warning(s).\n";
    }
  }
  return valid ? kExitOk : kExitError;
}

}  // namespace mirror::cmd

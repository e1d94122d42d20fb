#include "cmd/spec_options.h"

#include "policies/policies.h"
#include "spec/git.h"
#include "spec/trust.h"

namespace mirror::cmd {

void add_spec_options(CLI::App& app, SpecOptions& o) {
  auto* config = app.add_option("-c,--config", o.config, "Spec file or folder of *.yaml files")
                     ->capture_default_str()
                     ->group("Spec");
  auto* git = app.add_option("--git", o.git, "Read the spec from this git repository (path or URL) instead")
                  ->group("Spec");
  auto* ref = app.add_option("--ref", o.ref, "Commit to read with --git: branch, tag, SHA or e.g. HEAD~1")
                  ->group("Spec");
  app.add_option("--path", o.path, "File or folder inside the commit (default: repository root)")
      ->group("Spec")
      ->needs(git);
  git->needs(ref);
  ref->needs(git);
  git->excludes(config);
  app.add_option("--flow", o.flows, "Limit to this flow (repeatable)")->group("Spec");
}

spec::LoadResult load_spec(const SpecOptions& o) {
  spec::LoadResult r =
      o.git.empty() ? spec::load_path(o.config) : spec::load_git(spec::GitSource{o.git, o.ref, o.path, {}});
  // The policies' parameters are checked by policies/ (spec/ does not know the rules), at their place in
  // the spec: every command refuses a policy it could not evaluate.
  if (r.spec) {
    for (auto& d : policies::check(*r.spec)) r.diagnostics.add(std::move(d));
    // References and brokers the runner's operator does not allow (spec/trust.h), at their place.
    r.diagnostics.append(
        spec::check_operator_allowlists(*r.spec, spec::OperatorSettings::from_environment()));
    if (r.diagnostics.has_errors()) {
      r.spec.reset();
      return r;
    }
  }
  if (!r.spec || o.flows.empty()) return r;
  std::vector<spec::Flow> kept;
  for (const auto& name : o.flows) {
    const spec::Flow* f = r.spec->flow(name);
    if (!f) {
      std::string defined;
      for (const auto& fl : r.spec->flows) defined += (defined.empty() ? "" : ", ") + fl.name;
      r.diagnostics.error(spec::Location{r.spec->origin.source, 0, 0},
                          "--flow " + name + ": no flow of that name",
                          defined.empty() ? "the spec defines no flows" : "defined flows: " + defined);
      continue;
    }
    kept.push_back(*f);
  }
  if (r.diagnostics.has_errors()) {
    r.spec.reset();
    return r;
  }
  r.spec->flows = std::move(kept);
  return r;
}

}  // namespace mirror::cmd

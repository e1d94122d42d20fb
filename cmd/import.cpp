#include "cmd/import.h"
#include "cmd/import_resume.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cmd/exit_codes.h"
#include "spec/load.h"

namespace mirror::cmd {

namespace {

std::optional<std::string> read_all(const std::string& path, std::string& why) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    why = std::strerror(errno);
    return std::nullopt;
  }
  std::ostringstream s;
  s << in.rdbuf();
  if (in.bad()) {
    why = "read error";
    return std::nullopt;
  }
  return s.str();
}

}  // namespace

CLI::App* add_import(CLI::App& app, ImportMm2Options& o) {
  CLI::App* import =
      app.add_subcommand("import", "Turn another tool's replication configuration into a mirror spec");
  import->require_subcommand(1);
  CLI::App* mm2 = import->add_subcommand(
      "mm2", "A MirrorMaker 2 dedicated-mode configuration (connect-mirror-maker.properties) as a spec");
  mm2->add_option("PROPERTIES_FILE", o.properties_file, "MM2's properties file")->required();
  mm2->add_option("--out", o.out, "Write the spec to FILE instead of stdout");
  mm2->add_flag("--force", o.force, "With --out: replace FILE if it exists");
  mm2->add_flag(
      "--resume-from-mm2", o.resume,
      "Also take over MM2's progress: read it on the target clusters (MM2 must be stopped) and store "
      "it as mirror's, so the engine continues exactly where MM2 stopped");
  mm2->add_flag("--mm2-stopped", o.mm2_stopped,
                "With --resume-from-mm2: MM2 is stopped even though its status topic says RUNNING (it was "
                "killed)");
  mm2->add_option("--timeout", o.timeout_seconds, "Seconds to wait for each cluster request")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  mm2->footer(
      "Every MM2 setting becomes a spec value with a comment naming it, or a comment saying what mirror\n"
      "does instead. Secrets are never copied: they become ${env:NAME} references, listed on stderr.\n"
      "--resume-from-mm2 needs those variables exported; it writes nothing unless MM2's progress was read.\n"
      "Guide: docs/migrate-from-mm2.md. Exit codes: 0 written, 1 error (unreadable file, a setting MM2 or\n"
      "mirror would refuse, --out exists, MM2 still running, a cluster unreachable), 64 usage error.");
  return mm2;
}

std::optional<Mm2Translation> translate_mm2_file(const std::string& path, std::ostream& err) {
  std::string why;
  const auto text = read_all(path, why);
  if (!text) {
    err << "mirror import: cannot read " << path << ": " << why << "\n"
        << "  hint: pass the properties file MirrorMaker 2 runs with (connect-mirror-maker.sh FILE)\n";
    return std::nullopt;
  }
  auto r = importer::import_mm2(*text, path);
  if (!r) {
    for (const auto& p : r.error()) err << p.str() << "\n";
    err << "mirror import: nothing was written: " << r.error().size() << " problem(s) in " << path << "\n";
    return std::nullopt;
  }
  for (const auto& n : r->notes) err << "note: " << n.str() << "\n";
  // The importer already loaded the spec once; load it again for the caller (it is small).
  spec::LoadResult loaded = spec::parse_files({{path + " (imported)", r->yaml}}, spec::Origin{path});
  if (!loaded.spec) {
    err << "mirror import: internal error: the generated spec does not load. Please report this with the "
           "MM2 file (secrets removed).\n";
    return std::nullopt;
  }
  return Mm2Translation{std::move(r).value(), std::move(*loaded.spec)};
}

bool write_imported_spec(const Mm2Translation& t, const ImportMm2Options& o, std::ostream& out,
                         std::ostream& err) {
  if (o.out.empty()) {
    out << t.result.yaml;
    out.flush();
  } else {
    // "x": fail instead of replacing, atomically, unless --force.
    std::FILE* f = std::fopen(o.out.c_str(), o.force ? "wb" : "wbx");
    if (!f) {
      const int e = errno;
      err << "mirror import: cannot write " << o.out << ": " << std::strerror(e) << "\n";
      if (e == EEXIST) err << "  hint: pass --force to replace it, or choose another --out\n";
      return false;
    }
    const size_t n = std::fwrite(t.result.yaml.data(), 1, t.result.yaml.size(), f);
    if (std::fclose(f) != 0 || n != t.result.yaml.size()) {
      err << "mirror import: cannot write " << o.out << ": " << std::strerror(errno) << "\n";
      return false;
    }
  }
  err << "mirror import: " << (o.out.empty() ? "printed the spec" : "wrote " + o.out) << ": "
      << t.spec.clusters.size() << " cluster(s), " << t.spec.flows.size() << " flow(s) from "
      << o.properties_file << ". Read its \"MM2:\" comments.\n";
  if (!t.result.env.empty()) {
    err << "The spec reads these environment variables (secrets were not copied); export them before "
           "running mirror:\n";
    for (const auto& e : t.result.env) err << "  " << e.name << "  " << e.description << "\n";
  }
  if (!o.out.empty()) err << "Next: mirror validate -c " << o.out << " && mirror plan -c " << o.out << "\n";
  return true;
}

int run_import_mm2(const ImportMm2Options& o) {
  auto t = translate_mm2_file(o.properties_file, std::cerr);
  if (!t) return kExitError;
  if (!o.resume) {
    if (o.mm2_stopped) {
      std::cerr << "mirror import: --mm2-stopped only matters with --resume-from-mm2\n";
      return kExitUsage;
    }
    return write_imported_spec(*t, o, std::cout, std::cerr) ? kExitOk : kExitError;
  }
  // Read everything first: a refusal (MM2 still running, a cluster unreachable) writes nothing.
  Mm2Takeover takeover;
  takeover.mm2_stopped = o.mm2_stopped;
  takeover.timeout_seconds = o.timeout_seconds;
  for (const auto& p : t->result.mm2.pairs)
    takeover.pairs.push_back({p.flow, p.offsets_topic, p.status_topic});
  auto found = plan_takeover(t->spec, takeover, std::cerr);
  if (!found) return kExitError;
  if (!write_imported_spec(*t, o, std::cout, std::cerr)) return kExitError;
  if (!store_takeover(t->spec, *found, o.timeout_seconds, std::cerr)) {
    std::cerr << "mirror import: the spec was written, but mirror's progress was not stored for every flow "
                 "(see above);\n  do not start mirror for those flows before this succeeds: run the import "
                 "again with --resume-from-mm2\n";
    return kExitError;
  }
  return kExitOk;
}

}  // namespace mirror::cmd

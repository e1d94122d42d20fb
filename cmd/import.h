// `mirror import mm2 PROPERTIES_FILE [--out FILE [--force]]`: a MirrorMaker 2 configuration as a mirror
// spec (importer/). The steps are separate so that later steps can reuse the translation: it carries the
// generated spec and what was understood of MM2 (pairs, flow names, naming, MM2's internal topics).
#pragma once

#include <CLI/CLI.hpp>

#include <optional>
#include <ostream>
#include <string>

#include "importer/mm2.h"
#include "spec/spec.h"

namespace mirror::cmd {

struct ImportMm2Options {
  std::string properties_file;  // MM2's dedicated-mode configuration (connect-mirror-maker.properties)
  std::string out;              // --out FILE: write the spec there instead of stdout
  bool force = false;           // --force: let --out replace an existing file
  bool resume = false;          // --resume-from-mm2: take over MM2's progress (cmd/import_resume.h)
  bool mm2_stopped = false;     // --mm2-stopped: MM2's status may say RUNNING; the operator knows better
  int timeout_seconds = 30;     // --timeout: per cluster request (with --resume-from-mm2)
};

// Registers `import` and its `mm2` subcommand; returns `mm2` (parsed() says whether it was chosen).
CLI::App* add_import(CLI::App& app, ImportMm2Options& o);
int run_import_mm2(const ImportMm2Options& o);

// One import: the importer's result and the spec it generated, loaded exactly as mirror loads specs.
struct Mm2Translation {
  importer::ImportResult result;  // .yaml, .mm2 (MM2's pairs and topics), .env, .notes
  spec::Spec spec;
};

// Reads and translates the file; prints problems (file:line) and notes on `err`. nullopt on any error.
std::optional<Mm2Translation> translate_mm2_file(const std::string& path, std::ostream& err);

// Writes the spec to stdout, or to o.out (refusing to replace an existing file without --force), then
// tells on `err` what to export and what to run next. False (reason on `err`) when it could not write.
bool write_imported_spec(const Mm2Translation& t, const ImportMm2Options& o, std::ostream& out,
                         std::ostream& err);

}  // namespace mirror::cmd

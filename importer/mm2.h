// MirrorMaker 2 (dedicated mode, connect-mirror-maker.sh mm2.properties) → a mirror spec.
//
// import_mm2 reads the properties text the way MM2 does (MirrorMakerConfig: `clusters`, `<alias>.*`
// cluster settings, `<source>-><target>.*` pair settings over top-level defaults) and writes a spec
// with a comment for every MM2 setting the spec expresses differently or not at all. Secrets are never
// copied: they become ${env:...} references, listed in ImportResult::env. Pure: no I/O.
//
// Alongside the YAML it returns what it understood of the MM2 setup (Mm2Config), so that a caller can
// go on from there, e.g. read MM2's replication progress (Connect offsets, checkpoints) on the target
// clusters before mirror takes over.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "importer/client.h"
#include "importer/problem.h"
#include "spec/spec.h"

namespace mirror::importer {

// One enabled MM2 replication (`<source>-><target>.enabled = true`) and the flow it became.
struct Mm2Pair {
  std::string source;  // MM2 cluster alias, also the spec's cluster alias
  std::string target;
  std::string flow;  // the flow's name in the generated spec: "<source>-to-<target>"
  spec::Naming naming = spec::Naming::prefix;  // DefaultReplicationPolicy → prefix, Identity… → identity
  std::string separator = ".";                 // replication.policy.separator
  bool internal_topic_separator = true;        // replication.policy.internal.topic.separator.enabled
  // Where MM2 kept its state for this pair, as its configuration names it:
  // MM2's Kafka Connect topics for this pair, on the target (dedicated mode: one Connect worker per
  // pair; the top-level *.storage.topic wins over <target>.*.storage.topic, as in MirrorMakerConfig).
  std::string offsets_topic;  // MirrorSourceConnector's per-partition progress: mm2-offsets.<source>.internal
  std::string status_topic;   // connector and task states: mm2-status.<source>.internal
  std::string configs_topic;  // connector configs: mm2-configs.<source>.internal
  std::string offset_syncs_topic;    // mm2-offset-syncs.<cluster>.internal
  std::string offset_syncs_cluster;  // alias of the cluster holding it (offset-syncs.topic.location)
  std::string checkpoints_topic;     // <source>.checkpoints.internal, on the target
  int line = 0;                      // line of `<source>-><target>.enabled`
};

struct Mm2Config {
  std::vector<std::string> clusters;             // in the order `clusters` lists them
  std::map<std::string, std::string> bootstrap;  // alias → bootstrap as written in the spec
  std::vector<Mm2Pair> pairs;                    // enabled pairs: by source, then target, in that order
};

struct ImportResult {
  std::string yaml;            // the spec; loads and validates with spec::parse_files
  Mm2Config mm2;               // what the importer understood
  std::vector<EnvVar> env;     // variables the spec reads: the operator must export them
  std::vector<Problem> notes;  // worth saying on stderr (also written as comments in the spec)
};

// `file` names the input in messages (file:line) and, without its directories, in the spec's header.
// Errors (all of them, in line order): no `clusters`, an enabled pair naming a cluster not in
// `clusters`, a cluster without bootstrap.servers, a value MM2 would reject (a boolean that is not
// true/false, a replication factor that is not a number, a malformed \u escape, ...), a setting mirror
// cannot honour without changing what is replicated (a custom replication policy, identity naming in
// both directions), or a pattern that is not a valid regular expression.
Result<ImportResult, std::vector<Problem>> import_mm2(std::string_view text, std::string_view file);

}  // namespace mirror::importer

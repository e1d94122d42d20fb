// `mirror import mm2 --resume-from-mm2`: take over from a stopped MirrorMaker 2 without copying a record
// twice or skipping one (docs/migrate-from-mm2.md). Reads MM2's progress from each target cluster,
// finds where each partition's last copied record is, and stores that as mirror's progress.
#pragma once

#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "spec/spec.h"
#include "state/mm2_progress.h"

namespace mirror::cmd {

struct Mm2Takeover {
  // Per flow: where MM2 kept its state on the flow's target (Connect's offsets and status topics).
  struct Pair {
    std::string flow;
    std::string offsets_topic;
    std::string status_topic;
  };
  std::vector<Pair> pairs;
  bool mm2_stopped = false;  // --mm2-stopped: MM2's status topic may say RUNNING (it was killed)
  int timeout_seconds = 30;
};

// What was found, ready to store. Reads only.
struct TakeoverPlan {
  struct Flow {
    std::string flow;
    std::vector<state::ResumePoint> points;
  };
  std::vector<Flow> flows;
};

// Reads MM2's state for every pair and finds the resume points; refuses (nullopt, reason on `err`) when
// MM2 still runs or its state cannot be read. Prints what it found on `err`.
std::optional<TakeoverPlan> plan_takeover(const spec::Spec& spec, const Mm2Takeover& t, std::ostream& err);

// Stores the resume points as mirror's progress. False (reason on `err`) when any store failed.
bool store_takeover(const spec::Spec& spec, const TakeoverPlan& plan, int timeout_seconds, std::ostream& err);

}  // namespace mirror::cmd

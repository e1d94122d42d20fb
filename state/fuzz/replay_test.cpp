// Replays the fuzz seeds and every input the fuzzer once crashed on (state/fuzz/corpus/) through the
// same checks as the fuzz target, in every normal test run.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "state/fuzz/fuzz_one.h"

namespace {

using namespace mirror::state;

// Well-formed records of every kind, as mirror writes them: the seeds in corpus/ (written there with
// MIRROR_WRITE_STATE_SEEDS=1) start from these.
std::vector<std::pair<std::string, std::string>> samples() {
  AppliedRecord r;
  r.flow = "a-to-b";
  r.revision = "76ebbcf40713c33a";
  r.spec_source = "git@example.com:acme/specs.git";
  r.managed_topics = {"A.orders"};
  r.managed_acls = {{"TOPIC", "A.orders", "LITERAL", "User:alice", "*", "READ", "ALLOW"}};
  r.failed_over_at = "2026-11-26T00:00:00Z";
  r.policy_overrides = {{"max-actions", "CHG-1", {}}};
  PartitionProgress p{"a-to-b", "orders", 3, "A.orders"};
  EXPECT_TRUE(p.map.begin(100, 7));
  EXPECT_TRUE(p.map.record(100, 7));
  EXPECT_TRUE(p.map.record(105, 8));
  EngineStatus st{"a-to-b", "running", "ops@host pid 1", "2026-11-25T23:00:00Z", 10, 2.5, 3, ""};
  LeaseEvent e{.lease = "apply",
               .op = LeaseOp::acquire,
               .id = "0123456789abcdef",
               .owner = "u@h",
               .purpose = "apply plan 0123",
               .ttl_ms = 60'000};
  LeaseEvent rel = e;
  rel.op = LeaseOp::release;
  return {
      {"flow/a-to-b", to_json(r)},
      {progress_key("a-to-b", "orders", 3), to_json(p)},
      {status_key("a-to-b"), to_json(st)},
      {"apply", encode_event(e)},
      {"apply", encode_event(rel)},
      {R"(["MirrorSourceConnector",{"cluster":"A","partition":2,"topic":"orders"}])", R"({"offset":999})"},
      {"status-task-MirrorSourceConnector-0", R"({"state":"RUNNING","trace":null})"}};
}

TEST(StateFuzzCorpus, WellFormedRecordsPassTheChecks) {
  std::string all;
  int i = 0;
  for (const auto& [k, v] : samples()) {
    const std::string one = k + std::string(1, '\0') + v;
    mirror::state::fuzz::fuzz_one(one);
    all += (all.empty() ? "" : std::string(1, '\0')) + one;
    if (std::getenv("MIRROR_WRITE_STATE_SEEDS")) {
      std::ofstream(std::string(MIRROR_STATE_FUZZ_CORPUS) + "/seed-" + std::to_string(i++), std::ios::binary)
          << one;
    }
  }
  mirror::state::fuzz::fuzz_one(all);
  if (std::getenv("MIRROR_WRITE_STATE_SEEDS")) {
    std::ofstream(std::string(MIRROR_STATE_FUZZ_CORPUS) + "/seed-all", std::ios::binary) << all;
  }
}

TEST(StateFuzzCorpus, EveryInputDecodesOrIsRefused) {
  int n = 0;
  for (const auto& f : std::filesystem::directory_iterator(MIRROR_STATE_FUZZ_CORPUS)) {
    std::ifstream in(f.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    SCOPED_TRACE(f.path().string());
    mirror::state::fuzz::fuzz_one(ss.str());
    ++n;
  }
  EXPECT_GT(n, 5);
}

}  // namespace

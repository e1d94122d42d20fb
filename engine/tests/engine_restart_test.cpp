// The target cluster stopped and started in the middle of a copy loses nothing. Restarts cluster B, so
// it runs alone (RUN_SERIAL): every other integration test would see B vanish.
#include <cstdlib>

#include "engine/tests/e2e.h"

namespace mirror::e2e {
namespace {

TEST_F(EngineE2E, TargetClusterRestartedMidCopyLosesNothing) {
  const std::string topic = prefix_ + ".bulk";
  create_topic(topic, 4);
  std::vector<int32_t> parts;
  produce(topic, numbered(400'000, 4, parts), parts);
  const std::string spec = write_spec();
  ASSERT_NO_FATAL_FAILURE(apply(spec));
  auto engine = run(spec, "run");
  const auto deadline = Clock::now() + 120s;
  while (Clock::now() < deadline && end_offsets(kB, "A." + topic, 4) < 40'000)
    std::this_thread::sleep_for(20ms);
  const int64_t at = end_offsets(kB, "A." + topic, 4);
  ASSERT_GT(at, 0) << engine->output();
  ASSERT_EQ(std::system(MIRROR_SOURCE_DIR "/scripts/kafka-local restart B"), 0);
  std::cout << "cluster B restarted with " << at << " of 400000 records copied\n";
  ASSERT_TRUE(wait_caught_up(prefix_, topic, 4, 300s)) << engine->output();
  EXPECT_EQ(engine->stop(SIGTERM, 10s), 0) << engine->output();
  const int64_t dups = check_complete(topic, 4, kafka::Isolation::read_uncommitted);
  std::cout << "after the restart: every record is on B, " << dups << " duplicates\n";
  // Either librdkafka rode the restart out (idempotent retries) or the session restarted from the stored
  // progress; both are fine as long as nothing was lost.
  std::cout << (engine->output().find("restarting from the stored progress") != std::string::npos
                    ? "the engine restarted its session from the stored progress\n"
                    : "the clients rode the restart out without a new session\n");
}

}  // namespace
}  // namespace mirror::e2e

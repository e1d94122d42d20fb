// The fault-injection suite (docs/reliability.md): the engine under real faults against the local
// clusters. Toxiproxy between mirror and each broker (latency, bandwidth, connection resets, black holes),
// a frozen target broker (SIGSTOP/SIGCONT), restarts of either cluster, an ACL revoked and restored on one
// target topic, a target topic deleted. Each test copies two topics ("hit" and "ok", 2 partitions each)
// from a steady producer, injects one fault, ends it, waits until the engine's stored progress covers
// what the source held when the fault ended, and checks every record: 0 lost (hard), duplicates bounded
// (at least once: by what the engine announced; exactly once: 0 read_committed). It prints one line per
// test: FAULTROW {"fault":..,"lost":..,"duplicates":..,"recovery_s":..,"healthy_ratio":..}. Timings are
// printed, never asserted (only hang guards). Freezes and restarts the shared clusters: RUN_SERIAL.
#include "engine/tests/faults.h"

namespace mirror::faults {
namespace {

constexpr int kPartitions = 2;
constexpr int kRate = 1000;  // records/s over the 4 partitions

enum class Target { proxy, sasl_user };

struct Fault {
  std::string name;
  bool exactly_once = false;
  bool partition_scoped = false;  // the fault touches only topic "hit"; "ok" must keep flowing
  Target target = Target::proxy;
  std::function<void()> inject;   // returns when the fault is in place
  std::chrono::seconds hold{15};  // how long the fault lasts (0: inject itself is the whole fault)
  std::function<void()> heal;
  // A fault of one topic: the healthy topic's stored-progress rate during the fault over its rate
  // before, at least. Measured 0.97-1.00 (docs/reliability.md); 0.7 leaves room for a loaded machine.
  double min_healthy_ratio = 0.7;
};

// The healthy rate is measured from 2 s into the fault until its end; a fault with no duration of its
// own (a topic deleted) is watched for the 12 s after it began.
Clock::time_point rate_window_end(Clock::time_point fault_start, Clock::time_point fault_end) {
  return fault_end - fault_start < 3s ? fault_start + 12s : fault_end;
}

class Faults : public EngineE2E {
 protected:
  void SetUp() override {
    EngineE2E::SetUp();
    toxi_ = std::make_unique<Toxiproxy>(dir_);
    ASSERT_TRUE(toxi_->ok()) << toxi_->error();
  }
  void TearDown() override {
    toxi_.reset();
    EngineE2E::TearDown();
  }

  std::string spec(bool exactly_once, bool via_proxy, Target target, const std::string& file) {
    const std::string path = (dir_ / file).string();
    std::ofstream out(path);
    out << "version: 1\nclusters:\n  A: {bootstrap: \"127.0.0.1:" << (via_proxy ? "19199" : "19092")
        << "\"}\n";
    if (target == Target::sasl_user) {
      out << "  B:\n    bootstrap: 127.0.0.1:29094\n    client: {security.protocol: SASL_PLAINTEXT, "
             "sasl.mechanism: SCRAM-SHA-512, sasl.username: mirror-faults, "
             "sasl.password: \"${env:MIRROR_TEST_FAULTS_PASSWORD}\"}\n";
    } else {
      out << "  B: {bootstrap: \"127.0.0.1:" << (via_proxy ? "29199" : "29092") << "\"}\n";
    }
    out << "flows:\n  - name: " << prefix_ << "\n    source: A\n    target: B\n    replication_factor: 1\n"
        << (exactly_once ? "    exactly_once: true\n" : "") << "    topics: {include: [\"" << prefix_
        << "\\\\..*\"]}\n";
    return path;
  }

  // The rights of this suite's own SCRAM user on B for running the flow (docs/engine.md, "Permissions"),
  // removed when the test ends. Its own user, not alice or bob: other tests grant and revoke theirs. Every
  // group: the engine reads the groups on B when it plans new topics (group offset sync).
  std::vector<kafka::AclBinding> user_acls() const {
    using kafka::AclPatternType, kafka::AclResourceType, kafka::AclOperation, kafka::AclPermission;
    const std::string user = "User:mirror-faults";
    return {{AclResourceType::topic, "A." + prefix_, AclPatternType::prefixed, user, "*", AclOperation::all,
             AclPermission::allow},
            {AclResourceType::topic, "mirror.", AclPatternType::prefixed, user, "*", AclOperation::all,
             AclPermission::allow},
            // heartbeats: the flow also mirrors A's heartbeats topic when it exists (docs/engine.md)
            {AclResourceType::topic, "A.heartbeats", AclPatternType::literal, user, "*", AclOperation::all,
             AclPermission::allow},
            {AclResourceType::group, "*", AclPatternType::literal, user, "*", AclOperation::all,
             AclPermission::allow},
            {AclResourceType::transactional_id, "mirror-", AclPatternType::prefixed, user, "*",
             AclOperation::all, AclPermission::allow},
            {AclResourceType::cluster, "kafka-cluster", AclPatternType::literal, user, "*", AclOperation::all,
             AclPermission::allow}};
  }
  static kafka::AclFilter exact(const kafka::AclBinding& b) {
    return {.resource_type = b.resource_type,
            .resource_name = b.resource_name,
            .pattern_type = b.pattern_type,
            .principal = b.principal,
            .host = b.host,
            .operation = b.operation,
            .permission = b.permission};
  }

  // The common course of every test; see the file comment.
  void run_fault(const Fault& f) {
    const std::string hit = prefix_ + ".hit", ok = prefix_ + ".ok";
    const std::vector<std::string> topics{hit, ok};
    create_topic(hit, kPartitions);
    create_topic(ok, kPartitions);
    ASSERT_NO_FATAL_FAILURE(apply(spec(f.exactly_once, false, Target::proxy, "apply.yaml")));
    std::vector<kafka::AclBinding> granted;
    if (f.target == Target::sasl_user) {
      ::setenv("MIRROR_ALLOW_ENV", "MIRROR_TEST_*", 1);
      ::setenv("MIRROR_TEST_FAULTS_PASSWORD", "mirror-faults-secret", 1);
      // The user (SCRAM-SHA-512) on B, with the Java tool as docs/local-clusters.md shows; idempotent.
      const std::string add_user =
          "bash -c 'cd " MIRROR_SOURCE_DIR
          " && eval \"$(scripts/kafka-local env)\" && java -Xmx256m "
          "-Dlog4j2.configurationFile=\"$KAFKA_TOOLS_LOG4J_CONFIG\" -cp \"$KAFKA_LIB/*\" "
          "kafka.admin.ConfigCommand --bootstrap-server 127.0.0.1:29092 --alter --add-config "
          "\"SCRAM-SHA-512=[password=mirror-faults-secret]\" --entity-type users --entity-name "
          "mirror-faults' "
          ">/dev/null";
      ASSERT_EQ(std::system(add_user.c_str()), 0) << add_user;
      granted = user_acls();
      auto r = admin(kB).create_acls(granted);
      ASSERT_TRUE(r.ok()) << r.error().describe();
      std::this_thread::sleep_for(2s);  // ACLs reach the authorizer
    }
    struct Revoke {  // the user's grants go whatever happens
      std::vector<kafka::AclBinding> acls;
      ~Revoke() {
        if (acls.empty()) return;
        std::vector<kafka::AclFilter> filters;
        for (const auto& b : acls) filters.push_back(exact(b));
        (void)admin(kB).delete_acls(filters);
      }
    } revoke{granted};

    SteadyProducer producer(topics, kPartitions, kRate);
    auto engine = run(spec(f.exactly_once, true, f.target, "run.yaml"), "run");
    // Warm-up: the copy is flowing on every partition.
    ASSERT_TRUE(wait_for("A." + ok, kPartitions, 2 * kRate / 4, 120s)) << engine->output();
    ASSERT_TRUE(wait_for("A." + hit, kPartitions, 2 * kRate / 4, 120s)) << engine->output();
    ProgressWatcher progress(prefix_);
    std::this_thread::sleep_for(8s);

    const auto fault_start = Clock::now();
    std::cout << "[" << f.name << "] fault begins\n";
    ASSERT_NO_FATAL_FAILURE(f.inject());
    std::this_thread::sleep_for(f.hold);
    if (f.heal) {
      ASSERT_NO_FATAL_FAILURE(f.heal());
    }
    const auto fault_end = Clock::now();
    const auto ends_at_fault_end = source_ends(topics, kPartitions);
    std::cout << "[" << f.name << "] fault ended after "
              << std::chrono::duration<double>(fault_end - fault_start).count() << " s\n";

    // Recovery: the stored progress covers what the source held when the fault ended (hang guard 180 s).
    const double recovery_s = seconds_until_covered(progress, ends_at_fault_end, fault_end, 180s);
    EXPECT_GE(recovery_s, 0) << "the engine did not catch up within 180 s of the fault's end\n"
                             << engine->output();

    // The producer writes on until 3 s after recovery, and at least until the healthy-rate window below
    // has ended: a stopped producer would read as a slowed engine.
    std::this_thread::sleep_until(std::max(Clock::now() + 3s, rate_window_end(fault_start, fault_end) + 1s));
    producer.stop();
    const auto final_ends = source_ends(topics, kPartitions);
    EXPECT_GE(seconds_until_covered(progress, final_ends, Clock::now(), 90s), 0)
        << "not caught up 90 s after the producer stopped";
    EXPECT_EQ(engine->stop(SIGTERM, 30s), 0) << engine->output();
    const std::string out = engine->output();

    // Throughput of the healthy partitions (topic "ok"; all partitions for connection-wide faults) in
    // stored progress: during the fault (from 2 s in) vs the 6 s before it.
    auto samples = progress.samples();
    // `healthy`: the partitions that must keep flowing ("ok"; every partition for a connection-wide fault);
    // otherwise the faulted ones ("hit"), to show that the fault took effect.
    auto value_at = [&](Clock::time_point t, bool healthy) {
      int64_t sum = 0;
      const ProgressWatcher::Sample* best = nullptr;
      for (const auto& s : samples)
        if (s.at <= t) best = &s;
      if (!best) return sum;
      for (const auto& [k, v] : best->next) {
        const bool is_ok = k.starts_with(ok + "/");
        if (healthy ? (!f.partition_scoped || is_ok) : !is_ok) sum += v;
      }
      return sum;
    };
    auto rate = [&](Clock::time_point a, Clock::time_point b, bool healthy) {
      const double secs = std::chrono::duration<double>(b - a).count();
      return secs > 0 ? static_cast<double>(value_at(b, healthy) - value_at(a, healthy)) / secs : 0.0;
    };
    // During: from 2 s into the fault to its end; a fault with no duration of its own (a topic deleted)
    // is watched for the 10 s after it.
    const auto window_start = fault_start + 2s;
    const auto window_end = rate_window_end(fault_start, fault_end);
    const double before = rate(fault_start - 6s, fault_start, true);
    const double during = rate(window_start, window_end, true);
    const double faulted_during = rate(window_start, window_end, false);
    const double ratio = before > 0 ? during / before : 0;

    const auto iso = f.exactly_once ? kafka::Isolation::read_committed : kafka::Isolation::read_uncommitted;
    const Check c = check_topics(topics, kPartitions, iso,
                                 f.partition_scoped ? std::set<std::string>{ok} : std::set<std::string>{});
    int64_t announced = 0;
    const std::regex re("resuming: up to ([0-9]+) records written after the last stored progress");
    for (std::sregex_iterator it(out.begin(), out.end(), re), end; it != end; ++it)
      announced += std::stoll((*it)[1]);
    {  // the engine's log outlives the test's folder, for docs/reliability.md
      const fs::path keep = fs::temp_directory_path() / "mirror-faults";
      fs::create_directories(keep);
      std::ofstream(keep /
                    (std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) + ".log"))
          << out;
    }
    int errors = 0;
    for (size_t pos = 0; (pos = out.find("error: ", pos)) != std::string::npos; ++pos) ++errors;
    int sessions = 0;
    for (size_t pos = 0; (pos = out.find("restarting from the stored progress", pos)) != std::string::npos;
         ++pos)
      ++sessions;

    std::cout << "FAULTROW {\"fault\":\"" << f.name
              << "\",\"exactly_once\":" << (f.exactly_once ? "true" : "false") << ",\"records\":" << c.source
              << ",\"lost\":" << c.lost << ",\"duplicates\":" << c.duplicates
              << ",\"healthy_duplicates\":" << c.healthy_duplicates << ",\"announced\":" << announced
              << ",\"in_order\":" << (c.in_order ? "true" : "false") << ",\"recovery_s\":" << recovery_s
              << ",\"healthy_rate_before\":" << before << ",\"healthy_rate_during\":" << during
              << ",\"healthy_ratio\":" << ratio << ",\"faulted_topic_rate_during\":" << faulted_during
              << ",\"session_restarts\":" << sessions << ",\"errors_logged\":" << errors << "}" << std::endl;

    EXPECT_EQ(c.lost, 0) << "records lost: " << c.detail << "\n" << out;
    EXPECT_TRUE(c.in_order) << "a partition's records arrived out of order";
    EXPECT_EQ(producer.failed(), 0) << "the test's own producer lost records on A";
    if (f.exactly_once) {
      EXPECT_EQ(c.duplicates, 0) << "exactly once, read_committed";
    } else {
      EXPECT_LE(c.duplicates, announced) << "every duplicate is announced when a session resumes";
    }
    if (f.partition_scoped) {
      // Required: the healthy topic keeps flowing through a fault of another topic, and is not copied twice.
      EXPECT_GT(ratio, f.min_healthy_ratio)
          << "the healthy partitions stalled during a fault of another topic (" << during << " vs " << before
          << " records/s)";
      EXPECT_EQ(c.healthy_duplicates, 0) << "the healthy partitions were copied again";
    }
  }

  // A Toxiproxy fault on the connections to cluster `proxy`, both directions.
  Fault toxic(const std::string& name, const std::string& proxy, const std::string& type,
              const std::string& attributes, std::chrono::seconds hold, bool exactly_once = false) {
    Fault f{.name = name, .exactly_once = exactly_once, .hold = hold};
    f.inject = [=, this] {
      toxi_->add(proxy, "up", type, "upstream", attributes);
      toxi_->add(proxy, "down", type, "downstream", attributes);
    };
    f.heal = [=, this] {
      toxi_->remove(proxy, "up");
      toxi_->remove(proxy, "down");
    };
    return f;
  }

  Fault restart(const std::string& name, const std::string& cluster, bool exactly_once = false) {
    Fault f{.name = name, .exactly_once = exactly_once, .hold = 0s};
    f.inject = [=] {
      const std::string cmd = std::string(MIRROR_SOURCE_DIR "/scripts/kafka-local restart ") + cluster;
      ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    };
    return f;
  }

  std::unique_ptr<Toxiproxy> toxi_;
};

// ---- Toxiproxy between mirror and the target B ----
TEST_F(Faults, LatencyOnTarget) {
  run_fault(toxic("latency 300±100 ms on target", "B", "latency", R"({"latency":300,"jitter":100})", 15s));
}
TEST_F(Faults, BandwidthLimitOnTarget) {
  run_fault(toxic("bandwidth 64 KB/s on target", "B", "bandwidth", R"({"rate":64})", 15s));
}
TEST_F(Faults, ConnectionResetOnTarget) {
  run_fault(toxic("connection resets on target (5 s)", "B", "reset_peer", R"({"timeout":0})", 5s));
}
TEST_F(Faults, ConnectionResetOnTargetExactlyOnce) {
  run_fault(toxic("connection resets on target (5 s)", "B", "reset_peer", R"({"timeout":0})", 5s, true));
}
TEST_F(Faults, BlackHoleOnTarget) {
  run_fault(toxic("black hole on target (20 s)", "B", "timeout", R"({"timeout":0})", 20s));
}

// ---- Toxiproxy between mirror and the source A ----
TEST_F(Faults, LatencyOnSource) {
  run_fault(toxic("latency 300±100 ms on source", "A", "latency", R"({"latency":300,"jitter":100})", 15s));
}
TEST_F(Faults, BandwidthLimitOnSource) {
  run_fault(toxic("bandwidth 64 KB/s on source", "A", "bandwidth", R"({"rate":64})", 15s));
}
TEST_F(Faults, ConnectionResetOnSource) {
  run_fault(toxic("connection resets on source (5 s)", "A", "reset_peer", R"({"timeout":0})", 5s));
}
TEST_F(Faults, BlackHoleOnSource) {
  run_fault(toxic("black hole on source (20 s)", "A", "timeout", R"({"timeout":0})", 20s));
}

// ---- brokers ----
TEST_F(Faults, FrozenTargetBroker) {
  Fault f{.name = "target broker frozen 10 s (SIGSTOP/SIGCONT)", .hold = 10s};
  pid_t pid = 0;
  std::ifstream(kafka_dir() / "B" / "pid") >> pid;
  ASSERT_GT(pid, 0) << "no pid in " << (kafka_dir() / "B" / "pid");
  struct Thaw {  // the broker is thawed whatever happens
    pid_t pid;
    ~Thaw() { ::kill(pid, SIGCONT); }
  } thaw{pid};
  f.inject = [pid] { ASSERT_EQ(::kill(pid, SIGSTOP), 0); };
  f.heal = [pid] { ASSERT_EQ(::kill(pid, SIGCONT), 0); };
  run_fault(f);
}
TEST_F(Faults, TargetClusterRestart) { run_fault(restart("target cluster restarted", "B")); }
TEST_F(Faults, TargetClusterRestartExactlyOnce) { run_fault(restart("target cluster restarted", "B", true)); }
TEST_F(Faults, SourceClusterRestart) { run_fault(restart("source cluster restarted", "A")); }

// ---- partition-scoped: one target topic ----
TEST_F(Faults, AclRevokedOnOneTargetTopic) {
  Fault f{
      .name = "WRITE denied on one target topic 15 s", .partition_scoped = true, .target = Target::sasl_user};
  const kafka::AclBinding deny{kafka::AclResourceType::topic,
                               "A." + prefix_ + ".hit",
                               kafka::AclPatternType::literal,
                               "User:mirror-faults",
                               "*",
                               kafka::AclOperation::write,
                               kafka::AclPermission::deny};
  f.inject = [=] {
    auto r = admin(kB).create_acls({deny});
    ASSERT_TRUE(r.ok()) << r.error().describe();
  };
  f.heal = [=] {
    auto r = admin(kB).delete_acls({exact(deny)});
    ASSERT_TRUE(r.ok()) << r.error().describe();
  };
  run_fault(f);
}
TEST_F(Faults, TargetTopicDeleted) {
  Fault f{.name = "one target topic deleted", .partition_scoped = true, .hold = 0s};
  const std::string victim = "A." + prefix_ + ".hit";
  f.inject = [=] {
    auto r = admin(kB).delete_topics({victim});
    ASSERT_TRUE(r.ok()) << r.error().describe();
  };
  run_fault(f);
}

// ---- a target disk that fills (its own pair of clusters) ----

// The second pair: every port moved by 40 (A 19132-19139, B 29132-29139, advertised proxy ports 19239 and
// 29239): clear of the shared pair's 19092-19099, 29092-29099, 19199, 29199 and of the other offsets the
// tests use (+1000 and +1020 in scripts/tests/kafka-local-errors.sh). B's data dir is a tmpfs of 96 MB.
constexpr int kDiskPortOffset = 40;
constexpr const char* kDiskTmpfs = "96m";
// What the filler leaves free on B's tmpfs: at the steady producer's ~250 KB/s it lasts ~15 s.
constexpr int64_t kDiskHeadroom = 4 << 20;

// The target's only log dir (which also holds its KRaft metadata log) fills up while mirror copies into it;
// then the operator frees space and starts B again. Runs beside the shared clusters on its own pair
// (scripts/kafka-local with KAFKA_LOCAL_B_DATA_TMPFS, KAFKA_LOCAL_PORT_OFFSET and MIRROR_KAFKA_DIR), so
// filling B's disk breaks nothing else. Needs root (it mounts a tmpfs); skipped otherwise.
TEST_F(Faults, TargetDiskFull) {
  if (const std::string why = tmpfs_unavailable(dir_ / "mount-probe"); !why.empty())
    GTEST_SKIP() << "a target disk that fills needs a small filesystem for B's data dir: " << why;
  const std::string name = "target disk full (B's only log dir, a 96 MB tmpfs)";
  KafkaPair pair(dir_, kDiskPortOffset, kDiskTmpfs);  // declared first: torn down last, whatever happens
  ASSERT_EQ(pair.run("up"), 0) << "kafka-local up (second pair):\n" << pair.log();
  const kafka::ClientConfig& src = pair.a;
  const kafka::ClientConfig& dst = pair.b;

  const std::string hit = prefix_ + ".hit", ok = prefix_ + ".ok";
  const std::vector<std::string> topics{hit, ok};
  {
    auto r = admin(src).create_topics({{.name = hit, .partitions = kPartitions, .replication_factor = 1},
                                       {.name = ok, .partitions = kPartitions, .replication_factor = 1}});
    ASSERT_TRUE(r.ok()) << r.error().describe();
    for (const auto& t : *r) ASSERT_TRUE(t.ok()) << t.error->describe();
  }
  const std::string spec_path = (dir_ / "disk.yaml").string();
  std::ofstream(spec_path)
      << "version: 1\nclusters:\n  A: {bootstrap: \"" << src.bootstrap << "\"}\n  B: {bootstrap: \""
      << dst.bootstrap << "\"}\nflows:\n  - name: " << prefix_
      << "\n    source: A\n    target: B\n    replication_factor: 1\n    topics: {include: [\"" << prefix_
      << "\\\\..*\"]}\n";
  ASSERT_NO_FATAL_FAILURE(apply(spec_path));

  SteadyProducer producer(topics, kPartitions, kRate, src);
  auto engine = run(spec_path, "run");
  auto arrived = [&](const std::string& topic, int64_t n) {
    for (const auto deadline = Clock::now() + 120s; Clock::now() < deadline;
         std::this_thread::sleep_for(250ms))
      if (end_offsets(dst, topic, kPartitions) >= n) return true;
    return false;
  };
  ASSERT_TRUE(arrived("A." + ok, 2 * kRate / 4)) << engine->output();
  ASSERT_TRUE(arrived("A." + hit, 2 * kRate / 4)) << engine->output();
  ProgressWatcher progress(prefix_, dst);
  std::this_thread::sleep_for(8s);

  // The fault: a filler file takes all but kDiskHeadroom of B's tmpfs; mirror's writes fill the rest.
  const pid_t broker = pair.b_pid();
  ASSERT_TRUE(process_alive(broker)) << "B's broker (pid " << broker << ") is not running";
  const fs::path filler = pair.b_data() / "filler";
  const int64_t free_before = free_bytes(pair.b_data());
  const auto fault_start = Clock::now();
  const int64_t filled = write_filler(filler, free_before - kDiskHeadroom);
  std::cout << "[" << name << "] fault begins: " << filled / (1 << 20) << " MB filler, "
            << free_bytes(pair.b_data()) / 1024 << " KB left on " << pair.b_data() << "\n";

  // Until the broker exits (Kafka halts when its only log dir fails), hang guard 120 s.
  std::optional<Clock::time_point> halted;
  while (Clock::now() - fault_start < 120s) {
    if (!process_alive(broker)) {
      halted = Clock::now();
      break;
    }
    std::this_thread::sleep_for(100ms);
  }
  const double fill_s = std::chrono::duration<double>(halted.value_or(Clock::now()) - fault_start).count();
  std::cout << "[" << name << "] " << (halted ? "B's broker exited " : "B's broker still runs ") << fill_s
            << " s after the filler; " << free_bytes(pair.b_data()) / 1024 << " KB free\n";
  {
    std::ifstream f(pair.b_server_log());
    std::stringstream ss;
    ss << f.rdbuf();
    for (const auto& l : lines_with(ss.str(),
                                    {"No space left", "LogDirFailureChannel", "Shutdown broker", "Halting",
                                     "has failed", "offline", "KafkaStorageException", "fatal", "FATAL"},
                                    12))
      std::cout << "  B: " << l << "\n";
  }

  // The operator frees space and starts B again (restart if it had not stopped by itself).
  std::this_thread::sleep_for(5s);
  fs::remove(filler);
  const auto back_from = Clock::now();
  const bool started = pair.run(halted ? "start B" : "restart B") == 0;
  const auto fault_end = Clock::now();
  ASSERT_TRUE(started) << "kafka-local " << (halted ? "start B" : "restart B") << " after freeing space:\n"
                       << pair.log();
  const double start_s = std::chrono::duration<double>(fault_end - back_from).count();
  const double outage_s = halted ? std::chrono::duration<double>(fault_end - *halted).count() : 0;
  const auto ends_at_fault_end = source_ends(topics, kPartitions, src);
  std::cout << "[" << name << "] B is back after " << start_s << " s; fault ended after "
            << std::chrono::duration<double>(fault_end - fault_start).count() << " s\n";

  // Recovery: the stored progress covers what the source held when B was back (hang guard 180 s).
  const double recovery_s = seconds_until_covered(progress, ends_at_fault_end, fault_end, 180s);
  EXPECT_GE(recovery_s, 0) << "the engine did not catch up within 180 s of B's return\n" << engine->output();

  std::this_thread::sleep_for(3s);
  producer.stop();
  const auto final_ends = source_ends(topics, kPartitions, src);
  EXPECT_GE(seconds_until_covered(progress, final_ends, Clock::now(), 90s), 0)
      << "not caught up 90 s after the producer stopped";
  EXPECT_EQ(engine->stop(SIGTERM, 30s), 0) << engine->output();
  const std::string out = engine->output();

  // Stored-progress rate of every partition: from 2 s into the fault to its end, over the 6 s before
  // (informative only: the target goes away, a stall is expected).
  const auto samples = progress.samples();
  auto value_at = [&](Clock::time_point t) {
    int64_t sum = 0;
    const ProgressWatcher::Sample* best = nullptr;
    for (const auto& s : samples)
      if (s.at <= t) best = &s;
    if (best)
      for (const auto& [k, v] : best->next) sum += v;
    return sum;
  };
  auto rate = [&](Clock::time_point a, Clock::time_point b) {
    const double secs = std::chrono::duration<double>(b - a).count();
    return secs > 0 ? static_cast<double>(value_at(b) - value_at(a)) / secs : 0.0;
  };
  const double before = rate(fault_start - 6s, fault_start);
  const double during = rate(fault_start + 2s, fault_end);
  const double ratio = before > 0 ? during / before : 0;

  const Check c = check_topics(topics, kPartitions, kafka::Isolation::read_uncommitted, {}, src, dst);
  const int64_t announced = announced_rewrites(out);
  {  // the engine's and B's logs outlive the test's folder, for docs/reliability.md
    const fs::path keep = fs::temp_directory_path() / "mirror-faults";
    fs::create_directories(keep);
    std::ofstream(keep / "TargetDiskFull.log") << out;
    std::error_code ec;
    fs::copy_file(pair.b_server_log(), keep / "TargetDiskFull.B-server.log",
                  fs::copy_options::overwrite_existing, ec);
  }
  for (const auto& l : lines_with(out, {"error: ", "warning: ", "resuming: ", "restarting"}, 20))
    std::cout << "  mirror: " << l << "\n";

  std::cout << "FAULTROW {\"fault\":\"" << name << "\",\"exactly_once\":false,\"records\":" << c.source
            << ",\"lost\":" << c.lost << ",\"duplicates\":" << c.duplicates << ",\"announced\":" << announced
            << ",\"in_order\":" << (c.in_order ? "true" : "false") << ",\"recovery_s\":" << recovery_s
            << ",\"broker_halted\":" << (halted ? "true" : "false") << ",\"fill_s\":" << fill_s
            << ",\"outage_s\":" << outage_s << ",\"b_start_s\":" << start_s
            << ",\"healthy_rate_before\":" << before << ",\"healthy_rate_during\":" << during
            << ",\"healthy_ratio\":" << ratio
            << ",\"session_restarts\":" << occurrences(out, "restarting from the stored progress")
            << ",\"errors_logged\":" << occurrences(out, "error: ") << "}" << std::endl;

  EXPECT_EQ(c.lost, 0) << "records lost: " << c.detail << "\n" << out;
  EXPECT_TRUE(c.in_order) << "a partition's records arrived out of order";
  EXPECT_EQ(producer.failed(), 0) << "the test's own producer lost records on A";
  EXPECT_LE(c.duplicates, announced) << "every duplicate is announced when a session resumes";
}

}  // namespace
}  // namespace mirror::faults

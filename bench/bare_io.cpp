// bench helper: what the clusters can do without any replicator in the way, and the measuring
// instruments of bench/engine-vs-mm2 (watermark polling, end-to-end latency). Not part of the product.
//
//   bench_bare_io consume BOOTSTRAP TOPIC... [--threads N]
//       read every record the topics hold (earliest up to the high watermark seen at start) with the
//       adapter's manual-assignment consumer, no processing; prints records/s and MB/s.
//   bench_bare_io produce BOOTSTRAP TOPIC COUNT SIZE [--threads N] [--compression C]
//       write COUNT records (10-byte key, SIZE random bytes) to an existing topic, idempotent, acks=all;
//       prints records/s and MB/s (from the first send to the last acknowledgement).
//   bench_bare_io wait BOOTSTRAP EXPECTED TOPIC... [--since-ns T] [--timeout S]
//       poll the topics' high watermarks every 100 ms (missing topics count 0) until their sum is
//       >= EXPECTED; prints the seconds since T (wall clock, ns since the epoch; default: now) at which
//       the first record showed up (first_seconds) and at which all had (seconds).
//   bench_bare_io latency BOOTSTRAP TOPIC COUNT [--timeout S] [--idle S]
//       wait for TOPIC, read it from its current end, and for COUNT records compute (arrival wall-clock
//       time - record timestamp); prints p50/p90/p99/p99.9/max in ms. Records keyed "warmup" are
//       skipped. Says "ready" on stderr once it
//       reads, so that producing may start.
//   bench_bare_io count BOOTSTRAP TOPIC...        records held per topic (high - low watermark)
//   bench_bare_io create BOOTSTRAP TOPIC PARTITIONS   create (if missing) and wait until visible
//   bench_bare_io delete BOOTSTRAP TOPIC...       delete and wait until gone; only names containing "bench."
//
// Consumer-group offsets (bench/offsets-vs-mm2). Group ids must start with "benchacc-":
//   bench_bare_io fill BOOTSTRAP TOPIC PER_PARTITION SIZE
//       write PER_PARTITION records (SIZE random value bytes) to each partition of an existing, empty
//       topic, key "p<partition>-<index>" (index zero-padded to 10 digits, from 0), so that a record's
//       key names its source partition and offset; checks that every record landed at offset == index.
//   bench_bare_io commit BOOTSTRAP GROUP TOPIC OFFSET | --fraction F
//       commit (admin AlterConsumerGroupOffsets, no member joins) OFFSET, or low + F * (high - low)
//       rounded down, in every partition; prints "commit group=… p0=… p1=…".
//   bench_bare_io group-offsets BOOTSTRAP TOPIC GROUP...
//       one line per group: "GROUP p0=… p1=…" (its committed offsets in TOPIC by partition; "GROUP none"
//       if none).
//   bench_bare_io resume TARGET_BOOTSTRAP TARGET_TOPIC SOURCE_BOOTSTRAP SOURCE_TOPIC GROUP
//       fail GROUP over: where it committed U on the source, the right place on the target is the copy
//       of the source record at U (its key), or the end if U is the end. Reads the target from the
//       group's committed offset there (a manual-assignment consumer: joins nothing) and counts, per
//       partition, re-read = records before the right one, skipped = source records from U that the
//       group would never read. Prints one "resume partition=…" line per partition and a total line.
//   bench_bare_io delete-groups BOOTSTRAP PREFIX   delete every group whose id starts with PREFIX
//   bench_bare_io topics BOOTSTRAP PREFIX          list the topics whose names start with PREFIX
//
// Throughput lines end with "records=… bytes=… seconds=… records_per_s=… mb_per_s=…" (bytes = key +
// value bytes, MB = 10^6 bytes).
#include <atomic>
#include <cmath>
#include <set>
#include <thread>

#include "bench/bench_util.h"
#include "kafka/admin.h"
#include "kafka/consumer.h"
#include "kafka/producer.h"

using namespace mirror;
using Clock = std::chrono::steady_clock;

namespace {

kafka::Admin admin_for(const std::string& bootstrap) {
  return bench::check(kafka::Admin::connect(bench::client("bench-admin", bootstrap)));
}

// Partitions of the named topics; a topic that does not exist is absent from the map.
std::map<std::string, int> partition_counts(kafka::Admin& admin, const std::vector<std::string>& topics) {
  std::map<std::string, int> out;
  const std::set<std::string> wanted(topics.begin(), topics.end());
  for (const auto& t : bench::check(admin.list_topics())) {
    if (wanted.count(t.name)) out[t.name] = static_cast<int>(t.partitions.size());
  }
  return out;
}

struct Range {
  kafka::TopicPartition tp;
  int64_t low = 0, high = 0;
};

std::vector<Range> ranges(kafka::Admin& admin, const std::map<std::string, int>& topics) {
  std::vector<kafka::OffsetQuery> q;
  for (const auto& [name, n] : topics) {
    for (int p = 0; p < n; ++p) {
      q.push_back({.tp = {name, p}, .spec = kafka::OffsetSpec::earliest});
      q.push_back({.tp = {name, p}, .spec = kafka::OffsetSpec::latest});
    }
  }
  auto listed = bench::check(admin.list_offsets(q));
  std::vector<Range> out;
  for (size_t i = 0; i + 1 < listed.size(); i += 2) {
    for (const auto* l : {&listed[i], &listed[i + 1]}) {
      if (l->error) bench::die(*l->error);
    }
    out.push_back({listed[i].tp, listed[i].offset, listed[i + 1].offset});
  }
  return out;
}

int usage() {
  std::cerr << "usage: bench_bare_io consume|produce|wait|latency|count|create|delete|fill|commit|"
               "group-offsets|resume|delete-groups|topics BOOTSTRAP ...\n"
               "  (see the comment at the top of bench/bare_io.cpp)\n";
  return 64;
}

// ---- consume ----
int consume(const bench::Args& a) {
  if (a.positional.size() < 2) return usage();
  const std::string bootstrap = a.positional[0];
  const std::vector<std::string> topics(a.positional.begin() + 1, a.positional.end());
  const int threads = static_cast<int>(std::max<int64_t>(1, a.num("threads", 1)));
  auto admin = admin_for(bootstrap);
  auto counts = partition_counts(admin, topics);
  for (const auto& t : topics) {
    if (!counts.count(t)) {
      std::cerr << "error: topic " << t << " does not exist on " << bootstrap << "\n";
      return 1;
    }
  }
  auto all = ranges(admin, counts);
  // Partitions are dealt round-robin to the readers; each reads its share from the low watermark.
  std::vector<std::vector<Range>> share(static_cast<size_t>(threads));
  for (size_t i = 0; i < all.size(); ++i) share[i % share.size()].push_back(all[i]);

  std::atomic<bool> go{false};
  std::atomic<int> ready{0};
  struct Out {
    int64_t records = 0, bytes = 0;
    double seconds = 0;
  };
  std::vector<Out> out(share.size());
  std::vector<std::thread> workers;
  Clock::time_point t0;
  for (size_t w = 0; w < share.size(); ++w) {
    workers.emplace_back([&, w] {
      auto consumer =
          bench::check(kafka::Consumer::create(bench::client("bench-r" + std::to_string(w), bootstrap),
                                               {.isolation = kafka::Isolation::read_committed}));
      std::map<kafka::TopicPartition, int64_t> end;  // next offset to reach, per partition
      std::vector<kafka::TopicPartitionOffset> assignment;
      for (const auto& r : share[w]) {
        if (r.high > r.low) {
          end[r.tp] = r.high;
          assignment.push_back({r.tp.topic, r.tp.partition, r.low});
        }
      }
      ready.fetch_add(1);
      while (!go.load()) std::this_thread::yield();
      bench::check(consumer.assign(assignment));
      Out& o = out[w];
      kafka::TopicPartition key;
      while (!end.empty()) {
        auto m = bench::check(consumer.poll(std::chrono::milliseconds(100)));
        if (!m || m->eof()) continue;
        ++o.records;
        o.bytes +=
            static_cast<int64_t>((m->key() ? m->key()->size() : 0) + (m->value() ? m->value()->size() : 0));
        key.topic.assign(m->topic());
        key.partition = m->partition();
        auto it = end.find(key);
        if (it != end.end() && m->offset() + 1 >= it->second) end.erase(it);
      }
      o.seconds = bench::seconds_since(t0);
      consumer.close();
    });
  }
  while (ready.load() < static_cast<int>(share.size()))
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  t0 = Clock::now();
  go.store(true);
  for (auto& t : workers) t.join();
  Out total;
  for (const auto& o : out) {
    total.records += o.records;
    total.bytes += o.bytes;
    total.seconds = std::max(total.seconds, o.seconds);
  }
  std::string what = "consume threads=" + std::to_string(threads);
  bench::print_rate(what, total.records, total.bytes, total.seconds);
  return 0;
}

// ---- produce ----
int produce(const bench::Args& a) {
  if (a.positional.size() != 4) return usage();
  const std::string bootstrap = a.positional[0];
  const std::string topic = a.positional[1];
  const int64_t count = bench::Args::to_num(a.positional[2], "COUNT");
  const int64_t size = bench::Args::to_num(a.positional[3], "SIZE");
  const int threads = static_cast<int>(std::max<int64_t>(1, a.num("threads", 1)));
  const std::string compression = a.get("compression", "none");

  std::atomic<bool> go{false};
  std::atomic<int> ready{0};
  std::vector<double> seconds(static_cast<size_t>(threads));
  std::vector<std::thread> workers;
  Clock::time_point t0;
  for (int w = 0; w < threads; ++w) {
    workers.emplace_back([&, w] {
      const int64_t first = count * w / threads, last = count * (w + 1) / threads;
      int64_t acked = 0;
      std::optional<kafka::Error> failure;
      auto producer = bench::check(kafka::Producer::create(
          bench::client("bench-w" + std::to_string(w), bootstrap, {{"compression.type", compression}}),
          {.idempotent = true}, [&](const kafka::Delivery& d) {
            if (d.error) {
              if (!failure) failure = *d.error;
            } else {
              ++acked;
            }
          }));
      bench::Random rng(0xB0A710ULL + static_cast<uint64_t>(w));
      std::string value(static_cast<size_t>(size), '\0');
      char keybuf[16];
      ready.fetch_add(1);
      while (!go.load()) std::this_thread::yield();
      for (int64_t i = first; i < last; ++i) {
        rng.fill(value);
        bench::check(producer.send(
            {.topic = topic, .key = bench::make_key(keybuf, i), .value = std::string_view(value)}));
        if (i % 1024 == 0) producer.poll(std::chrono::milliseconds(0));
        if (failure) bench::die(*failure);
      }
      bench::check(producer.flush());
      producer.poll(std::chrono::milliseconds(0));
      if (failure) bench::die(*failure);
      if (acked != last - first) {
        std::cerr << "error: " << acked << " of " << last - first << " records acknowledged\n";
        std::exit(1);
      }
      seconds[static_cast<size_t>(w)] = bench::seconds_since(t0);
    });
  }
  while (ready.load() < threads) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  t0 = Clock::now();
  go.store(true);
  for (auto& t : workers) t.join();
  const double s = *std::max_element(seconds.begin(), seconds.end());
  bench::print_rate("produce topic=" + topic + " threads=" + std::to_string(threads), count,
                    count * (size + bench::kKeyBytes), s);
  return 0;
}

// ---- wait ----
int wait_for(const bench::Args& a) {
  if (a.positional.size() < 3) return usage();
  const std::string bootstrap = a.positional[0];
  const int64_t expected = bench::Args::to_num(a.positional[1], "EXPECTED");
  const std::vector<std::string> topics(a.positional.begin() + 2, a.positional.end());
  const int64_t since_ns = a.options.count("since-ns") ? a.num("since-ns", 0) : bench::wall_us() * 1000;
  const double timeout = static_cast<double>(a.num("timeout", 1800));
  auto elapsed = [&] { return static_cast<double>(bench::wall_us() * 1000 - since_ns) / 1e9; };

  auto admin = admin_for(bootstrap);
  std::map<std::string, int> counts;
  std::vector<kafka::OffsetQuery> queries;
  double next_report = 5;
  double first = -1;  // when the first record showed up
  for (;;) {
    if (counts.size() < topics.size()) {  // a topic may appear (or grow partitions) later
      counts = partition_counts(admin, topics);
      queries.clear();
      for (const auto& [name, n] : counts) {
        for (int p = 0; p < n; ++p) queries.push_back({.tp = {name, p}, .spec = kafka::OffsetSpec::latest});
      }
    }
    int64_t sum = 0;
    if (!queries.empty()) {
      auto listed = admin.list_offsets(queries);
      if (!listed) {
        std::cerr << "wait: " << listed.error().describe() << " (retrying)\n";
      } else {
        for (const auto& l : *listed) {
          if (!l.error) sum += l.offset;
        }
      }
    }
    const double e = elapsed();
    if (sum > 0 && first < 0) first = e;
    if (sum >= expected) {
      std::printf("wait reached=%lld expected=%lld first_seconds=%.3f seconds=%.3f\n",
                  static_cast<long long>(sum), static_cast<long long>(expected), first, e);
      return 0;
    }
    if (e >= next_report) {
      std::cerr << "wait: " << sum << " of " << expected << " records after " << static_cast<int>(e)
                << " s\n";
      next_report += 5;
    }
    if (e > timeout) {
      std::cerr << "error: only " << sum << " of " << expected << " records after " << timeout << " s\n";
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

// ---- latency ----
int latency(const bench::Args& a) {
  if (a.positional.size() != 3) return usage();
  const std::string bootstrap = a.positional[0];
  const std::string topic = a.positional[1];
  const int64_t count = bench::Args::to_num(a.positional[2], "COUNT");
  const double timeout = static_cast<double>(a.num("timeout", 300));
  const double idle = static_cast<double>(a.num("idle", 30));
  const auto t0 = Clock::now();

  auto admin = admin_for(bootstrap);
  std::map<std::string, int> counts;
  while ((counts = partition_counts(admin, {topic})).empty()) {
    if (bench::seconds_since(t0) > timeout) {
      std::cerr << "error: topic " << topic << " did not appear on " << bootstrap << "\n";
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  // Start at the current end (explicit offsets, so no record produced after this point is missed).
  std::vector<kafka::TopicPartitionOffset> assignment;
  for (const auto& r : ranges(admin, counts)) assignment.push_back({r.tp.topic, r.tp.partition, r.high});
  auto consumer = bench::check(
      kafka::Consumer::create(bench::client("bench-lat", bootstrap, {{"fetch.wait.max.ms", "100"}}), {}));
  bench::check(consumer.assign(assignment));
  (void)bench::check(consumer.poll(std::chrono::milliseconds(200)));  // fetchers started
  std::cerr << "latency: ready, reading " << topic << " (" << assignment.size() << " partitions)\n";

  std::vector<int64_t> lat_us;
  lat_us.reserve(static_cast<size_t>(count));
  int64_t not_create_time = 0;
  auto last_record = Clock::now();
  bool complete = false;
  while (true) {
    auto m = bench::check(consumer.poll(std::chrono::milliseconds(100)));
    const int64_t now = bench::wall_us();
    if (m && !m->eof()) {
      if (m->key() == std::optional<std::string_view>("warmup")) continue;  // load_records --rate
      lat_us.push_back(now - m->timestamp_ms() * 1000);
      if (m->timestamp_type() != kafka::TimestampType::create_time) ++not_create_time;
      last_record = Clock::now();
      if (static_cast<int64_t>(lat_us.size()) >= count) {
        complete = true;
        break;
      }
      continue;
    }
    const bool started = !lat_us.empty();
    if ((started && bench::seconds_since(last_record) > idle) || bench::seconds_since(t0) > timeout) break;
  }
  consumer.close();
  if (not_create_time)
    std::cerr << "latency: warning: " << not_create_time << " records without a create-time timestamp\n";
  if (lat_us.empty()) {
    std::cerr << "error: no record arrived in " << topic << "\n";
    return 1;
  }
  std::sort(lat_us.begin(), lat_us.end());
  auto pct = [&](double p) {
    size_t i = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(lat_us.size())));
    return static_cast<double>(lat_us[std::min(lat_us.size() - 1, i == 0 ? 0 : i - 1)]) / 1000.0;
  };
  std::printf(
      "latency records=%zu expected=%lld complete=%s p50_ms=%.1f p90_ms=%.1f p99_ms=%.1f p999_ms=%.1f "
      "max_ms=%.1f\n",
      lat_us.size(), static_cast<long long>(count), complete ? "true" : "false", pct(50), pct(90), pct(99),
      pct(99.9), static_cast<double>(lat_us.back()) / 1000.0);
  return complete ? 0 : 1;
}

// ---- count / create / delete ----
int count_records(const bench::Args& a) {
  if (a.positional.size() < 2) return usage();
  auto admin = admin_for(a.positional[0]);
  const std::vector<std::string> topics(a.positional.begin() + 1, a.positional.end());
  auto counts = partition_counts(admin, topics);
  std::map<std::string, int64_t> held;
  for (const auto& r : ranges(admin, counts)) held[r.tp.topic] += r.high - r.low;
  int64_t total = 0;
  for (const auto& t : topics) {
    if (!counts.count(t)) {
      std::printf("%s missing\n", t.c_str());
      continue;
    }
    std::printf("%s partitions=%d records=%lld\n", t.c_str(), counts[t], static_cast<long long>(held[t]));
    total += held[t];
  }
  std::printf("total=%lld\n", static_cast<long long>(total));
  return 0;
}

int create(const bench::Args& a) {
  if (a.positional.size() != 3) return usage();
  auto admin = admin_for(a.positional[0]);
  const std::string topic = a.positional[1];
  const int partitions = static_cast<int>(bench::Args::to_num(a.positional[2], "PARTITIONS"));
  for (const auto& r : bench::check(
           admin.create_topics({{.name = topic, .partitions = partitions, .replication_factor = 1}}))) {
    if (r.error && r.error->code != kafka::Errc::already_exists) bench::die(*r.error);
  }
  // The controller answers before every broker knows the topic: wait until metadata shows it, and
  // until its partitions answer ListOffsets.
  for (int i = 0; i < 600; ++i) {
    auto counts = partition_counts(admin, {topic});
    if (!counts.empty() && counts[topic] > 0) {
      std::vector<kafka::OffsetQuery> q;
      for (int p = 0; p < counts[topic]; ++p) q.push_back({.tp = {topic, p}});
      auto listed = admin.list_offsets(q);
      bool ok = listed.ok();
      if (ok) {
        for (const auto& l : *listed) ok = ok && !l.error;
      }
      if (ok) {
        std::printf("%s partitions=%d\n", topic.c_str(), counts[topic]);
        return 0;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::cerr << "error: topic " << topic << " did not become usable\n";
  return 1;
}

int remove(const bench::Args& a) {
  if (a.positional.size() < 2) return usage();
  const std::vector<std::string> topics(a.positional.begin() + 1, a.positional.end());
  for (const auto& t : topics) {
    if (t.find("bench.") == std::string::npos) {
      std::cerr << "error: refusing to delete " << t
                << ": the benchmark deletes only its own topics (names containing \"bench.\")\n";
      return 64;
    }
  }
  auto admin = admin_for(a.positional[0]);
  auto existing = partition_counts(admin, topics);
  if (existing.empty()) return 0;
  std::vector<std::string> names;
  for (const auto& [name, n] : existing) names.push_back(name);
  for (const auto& r : bench::check(admin.delete_topics(names))) {
    if (r.error && r.error->code != kafka::Errc::not_found) bench::die(*r.error);
  }
  for (int i = 0; i < 600; ++i) {
    if (partition_counts(admin, names).empty()) {
      for (const auto& n : names) std::printf("deleted %s\n", n.c_str());
      return 0;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::cerr << "error: topics still listed 60 s after deletion\n";
  return 1;
}

// ---- consumer-group offsets (bench/offsets-vs-mm2) ----
constexpr std::string_view kGroupPrefix = "benchacc-";

bool own_group(const std::string& group) {
  if (group.starts_with(kGroupPrefix)) return true;
  std::cerr << "error: refusing group " << group
            << ": the benchmark touches only its own groups (ids starting with \"" << kGroupPrefix << "\")\n";
  return false;
}

// "p<partition>-<index>": the index, or -1 when the key is not of that form for this partition.
int64_t key_index(const std::optional<std::string_view>& key, int32_t partition) {
  if (!key) return -1;
  const std::string prefix = "p" + std::to_string(partition) + "-";
  if (!key->starts_with(prefix) || key->size() == prefix.size()) return -1;
  int64_t v = 0;
  for (char c : key->substr(prefix.size())) {
    if (c < '0' || c > '9') return -1;
    v = v * 10 + (c - '0');
  }
  return v;
}

std::map<int32_t, int64_t> committed_offsets(kafka::Admin& admin, const std::string& group,
                                             const std::string& topic) {
  std::map<int32_t, int64_t> out;
  for (const auto& o : bench::check(admin.list_group_offsets(group))) {
    if (o.topic == topic && o.offset >= 0) out[o.partition] = o.offset;
  }
  return out;
}

std::vector<Range> topic_ranges(kafka::Admin& admin, const std::string& topic, const std::string& bootstrap) {
  auto counts = partition_counts(admin, {topic});
  if (!counts.count(topic)) {
    std::cerr << "error: topic " << topic << " does not exist on " << bootstrap << "\n";
    std::exit(1);
  }
  return ranges(admin, counts);
}

int fill(const bench::Args& a) {
  if (a.positional.size() != 4) return usage();
  const std::string bootstrap = a.positional[0];
  const std::string topic = a.positional[1];
  const int64_t per_partition = bench::Args::to_num(a.positional[2], "PER_PARTITION");
  const int64_t size = bench::Args::to_num(a.positional[3], "SIZE");
  auto admin = admin_for(bootstrap);
  const auto parts = topic_ranges(admin, topic, bootstrap);
  for (const auto& r : parts) {
    if (r.high != 0) {
      std::cerr << "error: " << topic << " partition " << r.tp.partition << " is not empty (high watermark "
                << r.high << "): keys would not match offsets; delete and create it first\n";
      return 1;
    }
  }
  int64_t acked = 0, misplaced = 0;
  std::optional<kafka::Error> failure;
  // One partition after the other, in order: the idempotent producer keeps each partition's order, so
  // the record with index i lands at offset i (checked below from the acknowledgements).
  auto producer = bench::check(kafka::Producer::create(bench::client("bench-fill", bootstrap),
                                                       {.idempotent = true}, [&](const kafka::Delivery& d) {
                                                         if (d.error) {
                                                           if (!failure) failure = *d.error;
                                                           return;
                                                         }
                                                         ++acked;
                                                         if (d.offset != static_cast<int64_t>(d.tag))
                                                           ++misplaced;
                                                       }));
  bench::Random rng(0xACC0ULL);
  std::string value(static_cast<size_t>(size), '\0');
  char key[48];
  const auto t0 = Clock::now();
  for (const auto& r : parts) {
    for (int64_t i = 0; i < per_partition; ++i) {
      rng.fill(value);
      const int n = std::snprintf(key, sizeof key, "p%d-%010lld", r.tp.partition, static_cast<long long>(i));
      bench::check(producer.send({.topic = topic,
                                  .partition = r.tp.partition,
                                  .key = std::string_view(key, static_cast<size_t>(n)),
                                  .value = std::string_view(value),
                                  .tag = static_cast<uint64_t>(i)}));
      if (i % 1024 == 0) producer.poll(std::chrono::milliseconds(0));
      if (failure) bench::die(*failure);
    }
  }
  bench::check(producer.flush());
  producer.poll(std::chrono::milliseconds(0));
  if (failure) bench::die(*failure);
  const int64_t total = per_partition * static_cast<int64_t>(parts.size());
  if (acked != total || misplaced != 0) {
    std::cerr << "error: " << acked << " of " << total << " records acknowledged, " << misplaced
              << " not at offset == index\n";
    return 1;
  }
  bench::print_rate("fill topic=" + topic + " partitions=" + std::to_string(parts.size()), total,
                    total * (size + 14), bench::seconds_since(t0));
  return 0;
}

int commit(const bench::Args& a) {
  const bool by_fraction = a.options.count("fraction") > 0;
  if (a.positional.size() != (by_fraction ? 3u : 4u)) return usage();
  const std::string bootstrap = a.positional[0];
  const std::string group = a.positional[1];
  const std::string topic = a.positional[2];
  if (!own_group(group)) return 64;
  double fraction = 0;
  int64_t fixed = 0;
  if (by_fraction) {
    const std::string f = a.get("fraction", "");
    char* end = nullptr;
    fraction = std::strtod(f.c_str(), &end);
    if (f.empty() || *end != '\0' || fraction < 0 || fraction > 1) {
      std::cerr << "--fraction: '" << f << "' is not a number from 0 to 1\n";
      return 64;
    }
  } else {
    fixed = bench::Args::to_num(a.positional[3], "OFFSET");
  }
  auto admin = admin_for(bootstrap);
  std::vector<kafka::TopicPartitionOffset> offsets;
  for (const auto& r : topic_ranges(admin, topic, bootstrap)) {
    const int64_t o =
        by_fraction ? r.low + static_cast<int64_t>(std::floor(fraction * static_cast<double>(r.high - r.low)))
                    : fixed;
    offsets.push_back({topic, r.tp.partition, o, ""});
  }
  for (const auto& r : bench::check(admin.alter_group_offsets(group, offsets))) {
    if (r.error) bench::die(*r.error);
  }
  std::printf("commit group=%s topic=%s", group.c_str(), topic.c_str());
  for (const auto& o : offsets) std::printf(" p%d=%lld", o.partition, static_cast<long long>(o.offset));
  std::printf("\n");
  return 0;
}

int group_offsets(const bench::Args& a) {
  if (a.positional.size() < 3) return usage();
  auto admin = admin_for(a.positional[0]);
  const std::string topic = a.positional[1];
  for (size_t i = 2; i < a.positional.size(); ++i) {
    const std::string& group = a.positional[i];
    auto offsets = admin.list_group_offsets(group);
    if (!offsets) {
      std::printf("%s error=%s\n", group.c_str(), offsets.error().describe().c_str());
      continue;
    }
    std::string line = group;
    std::sort(offsets->begin(), offsets->end());
    for (const auto& o : *offsets) {
      if (o.topic == topic && o.offset >= 0)
        line += " p" + std::to_string(o.partition) + "=" + std::to_string(o.offset);
    }
    std::printf("%s\n", line == group ? (group + " none").c_str() : line.c_str());
  }
  return 0;
}

int resume(const bench::Args& a) {
  if (a.positional.size() != 5) return usage();
  const std::string tb = a.positional[0], tt = a.positional[1], sb = a.positional[2], st = a.positional[3];
  const std::string group = a.positional[4];
  auto sadmin = admin_for(sb);
  auto tadmin = admin_for(tb);
  const auto source = topic_ranges(sadmin, st, sb);
  const auto target = topic_ranges(tadmin, tt, tb);
  const auto up = committed_offsets(sadmin, group, st);
  const auto down = committed_offsets(tadmin, group, tt);
  std::map<int32_t, Range> target_by_p;
  for (const auto& r : target) target_by_p[r.tp.partition] = r;

  auto reader = [](const std::string& bootstrap, const std::string& name) {
    return bench::check(kafka::Consumer::create(
        bench::client(name, bootstrap), {.isolation = kafka::Isolation::read_committed, .report_eof = true}));
  };
  int64_t total_reread = 0, total_skipped = 0, unsynced = 0;
  for (const auto& s : source) {
    const int32_t p = s.tp.partition;
    if (!up.count(p)) continue;  // the group has nothing committed there: nothing to fail over
    const int64_t u = up.at(p);
    // The right key: the source record at u (records are keyed by index, contiguous from 0).
    int64_t right = -1;  // -2: the end
    if (u >= s.high) {
      right = -2;
    } else {
      auto c = reader(sb, "bench-resume-src");
      bench::check(c.assign({{st, p, std::max(u, s.low), ""}}));
      for (auto t0 = Clock::now(); right == -1 && bench::seconds_since(t0) < 60;) {
        auto m = bench::check(c.poll(std::chrono::milliseconds(100)));
        if (!m || m->eof()) continue;
        right = key_index(m->key(), p);
        if (right < 0) {
          std::cerr << "error: source record " << st << "/" << p << "@" << m->offset()
                    << " has no p<partition>-<index> key: was the topic written by `bench_bare_io fill`?\n";
          return 1;
        }
      }
      c.close();
      if (right == -1) {
        std::cerr << "error: could not read the source record " << st << "/" << p << "@" << u << "\n";
        return 1;
      }
    }
    // Records in the source partition, by index: 0 .. end_index - 1 (fill writes index i at offset i),
    // so the source records from the right one up to index k are k - want.
    const int64_t end_index = s.high;
    const int64_t want = right == -2 ? end_index : right;
    if (!down.count(p) || !target_by_p.count(p)) {
      std::printf(
          "resume group=%s partition=%d source_committed=%lld right_index=%lld target_committed=none\n",
          group.c_str(), p, static_cast<long long>(u), static_cast<long long>(want));
      ++unsynced;
      continue;
    }
    const int64_t d = down.at(p);
    const Range& t = target_by_p.at(p);
    int64_t reread = 0, skipped = 0, first_index = -1;
    bool found = false;
    if (d < t.high) {
      auto c = reader(tb, "bench-resume-dst");
      bench::check(c.assign({{tt, p, std::max(d, t.low), ""}}));
      auto last = Clock::now();
      while (!found && bench::seconds_since(last) < 60) {
        auto m = bench::check(c.poll(std::chrono::milliseconds(100)));
        if (!m) continue;
        last = Clock::now();
        if (m->eof()) break;  // read everything the target holds
        const int64_t idx = key_index(m->key(), p);
        if (idx < 0) {
          std::cerr << "error: target record " << tt << "/" << p << "@" << m->offset() << " has no p" << p
                    << "-<index> key\n";
          return 1;
        }
        if (first_index < 0) first_index = idx;
        if (idx < want) {
          ++reread;  // the group read it on the source already
        } else {
          skipped = idx - want;  // source records want .. idx - 1 never come
          found = true;
        }
        if (m->offset() + 1 >= t.high) break;
      }
      c.close();
    }
    if (!found) skipped = end_index - want;  // the target ended before the right record
    total_reread += reread;
    total_skipped += skipped;
    std::printf(
        "resume group=%s partition=%d source_committed=%lld right_index=%lld target_committed=%lld "
        "target_end=%lld first_index=%s reread=%lld skipped=%lld\n",
        group.c_str(), p, static_cast<long long>(u), static_cast<long long>(want), static_cast<long long>(d),
        static_cast<long long>(t.high), first_index < 0 ? "end" : std::to_string(first_index).c_str(),
        static_cast<long long>(reread), static_cast<long long>(skipped));
  }
  std::printf("resume group=%s total reread=%lld skipped=%lld unsynced_partitions=%lld\n", group.c_str(),
              static_cast<long long>(total_reread), static_cast<long long>(total_skipped),
              static_cast<long long>(unsynced));
  return 0;
}

int delete_groups(const bench::Args& a) {
  if (a.positional.size() != 2) return usage();
  const std::string prefix = a.positional[1];
  if (!own_group(prefix)) return 64;
  auto admin = admin_for(a.positional[0]);
  std::vector<std::string> ids;
  for (const auto& g : bench::check(admin.list_groups())) {
    if (g.group_id.starts_with(prefix)) ids.push_back(g.group_id);
  }
  if (ids.empty()) return 0;
  for (const auto& r : bench::check(admin.delete_groups(ids))) {
    if (r.error) {
      std::cerr << "error: deleting group " << r.name << ": " << r.error->describe() << "\n";
      return 1;
    }
    std::printf("deleted group %s\n", r.name.c_str());
  }
  return 0;
}

int topics(const bench::Args& a) {
  if (a.positional.size() != 2) return usage();
  auto admin = admin_for(a.positional[0]);
  for (const auto& t : bench::check(admin.list_topics())) {
    if (t.name.starts_with(a.positional[1])) std::printf("%s\n", t.name.c_str());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage();
  const std::string cmd = argv[1];
  auto args = bench::Args::parse(argc, argv, 2);
  if (cmd == "consume") return consume(args);
  if (cmd == "produce") return produce(args);
  if (cmd == "wait") return wait_for(args);
  if (cmd == "latency") return latency(args);
  if (cmd == "count") return count_records(args);
  if (cmd == "create") return create(args);
  if (cmd == "delete") return remove(args);
  if (cmd == "fill") return fill(args);
  if (cmd == "commit") return commit(args);
  if (cmd == "group-offsets") return group_offsets(args);
  if (cmd == "resume") return resume(args);
  if (cmd == "delete-groups") return delete_groups(args);
  if (cmd == "topics") return topics(args);
  return usage();
}

// bench helper: produces COUNT records of SIZE value bytes into an existing topic, through the
// adapter's producer (idempotent, acks=all), as fast as the broker accepts them or at a steady rate.
// Keys are the record index (10 ASCII digits); values are random bytes (incompressible). Not part of
// the product; used by bench/engine-vs-mm2.
//
//   bench_load_records BOOTSTRAP TOPIC COUNT SIZE [--rate R] [--compression C] [--seed N] [--linger-ms N]
//
// --rate R: send R records per second, evenly spread (for latency measurements); every record's
// timestamp is the wall-clock time (ms) at which it was handed to the producer. One extra record with
// the key "warmup" is sent (and acknowledged) before the timed ones. Without --rate the
// timestamp is left to the client (also the send time) and records are sent as fast as possible.
// Prints one line: "load topic=… records=… bytes=… seconds=… records_per_s=… mb_per_s=…" (bytes =
// key + value bytes, MB = 10^6 bytes).
#include <atomic>
#include <cmath>
#include <thread>

#include "bench/bench_util.h"
#include "kafka/producer.h"

using namespace mirror;

int main(int argc, char** argv) {
  auto args = bench::Args::parse(argc, argv, 1);
  if (args.positional.size() != 4) {
    std::cerr << "usage: bench_load_records BOOTSTRAP TOPIC COUNT SIZE [--rate R] [--compression C] "
                 "[--seed N] [--linger-ms N]\n";
    return 64;
  }
  const std::string bootstrap = args.positional[0];
  const std::string topic = args.positional[1];
  const int64_t count = bench::Args::to_num(args.positional[2], "COUNT");
  const int64_t size = bench::Args::to_num(args.positional[3], "SIZE");
  const int64_t rate = args.num("rate", 0);
  const int64_t seed = args.num("seed", 1);
  // The rate mode measures latency: send each record promptly instead of waiting to fill batches.
  const std::string linger = args.get("linger-ms", rate > 0 ? "1" : "5");

  int64_t delivered = 0;
  std::optional<kafka::Error> failure;
  auto producer = bench::check(kafka::Producer::create(
      bench::client("load", bootstrap,
                    {{"compression.type", args.get("compression", "none")}, {"linger.ms", linger}}),
      {.idempotent = true}, [&](const kafka::Delivery& d) {
        if (d.error) {
          if (!failure) failure = *d.error;
        } else {
          ++delivered;
        }
      }));

  bench::Random rng(static_cast<uint64_t>(seed) * 0x2545F4914F6CDD1DULL + 1);
  std::string value(static_cast<size_t>(size), '\0');
  char keybuf[16];
  auto send = [&](int64_t i, int64_t timestamp_ms) {
    rng.fill(value);
    bench::check(producer.send({.topic = topic,
                                .key = bench::make_key(keybuf, i),
                                .value = std::string_view(value),
                                .timestamp_ms = timestamp_ms,
                                .tag = static_cast<uint64_t>(i)}));
    if (failure) bench::die(*failure);
  };

  if (rate > 0) {
    // Warm up first (metadata, connection, idempotent producer id), so that the first timed records
    // do not wait for it. The warm-up record has the key "warmup"; `bare_io latency` ignores it.
    bench::check(producer.send({.topic = topic, .key = "warmup", .value = std::string_view(value)}));
    bench::check(producer.flush());
    producer.poll(std::chrono::milliseconds(0));
    if (failure) bench::die(*failure);
    delivered = 0;
  }
  const auto t0 = std::chrono::steady_clock::now();
  if (rate <= 0) {
    for (int64_t i = 0; i < count; ++i) {
      send(i, 0);
      if (i % 1024 == 0) producer.poll(std::chrono::milliseconds(0));
    }
  } else {
    int64_t sent = 0;
    while (sent < count) {
      // Everything due by now (the first record at t=0), then wait ~1 ms serving delivery reports.
      const auto due = std::min(
          count, static_cast<int64_t>(std::floor(bench::seconds_since(t0) * static_cast<double>(rate))) + 1);
      for (; sent < due; ++sent) send(sent, bench::wall_us() / 1000);
      producer.poll(std::chrono::milliseconds(1));
    }
  }
  bench::check(producer.flush());
  producer.poll(std::chrono::milliseconds(0));
  if (failure) bench::die(*failure);
  const double seconds = bench::seconds_since(t0);
  if (delivered != count) {
    std::cerr << "error: " << delivered << " of " << count << " records were acknowledged\n";
    return 1;
  }
  bench::print_rate("load topic=" + topic, count, count * (size + bench::kKeyBytes), seconds);
  return 0;
}

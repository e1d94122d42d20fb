// Small helpers shared by the benchmark tools (load_records, bare_io). Not part of the product.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kafka/client_config.h"
#include "kafka/error.h"

namespace mirror::bench {

// Command line: positional arguments plus `--name value` options (and `--flag` without a value when
// the name is listed in `flags`).
struct Args {
  std::vector<std::string> positional;
  std::map<std::string, std::string> options;

  static Args parse(int argc, char** argv, int first, const std::vector<std::string>& flags = {}) {
    Args a;
    for (int i = first; i < argc; ++i) {
      std::string s = argv[i];
      if (s.size() > 2 && s.starts_with("--")) {
        std::string name = s.substr(2);
        if (std::find(flags.begin(), flags.end(), name) != flags.end()) {
          a.options[name] = "true";
        } else if (i + 1 < argc) {
          a.options[name] = argv[++i];
        } else {
          std::cerr << "option " << s << " needs a value\n";
          std::exit(64);
        }
      } else {
        a.positional.push_back(s);
      }
    }
    return a;
  }
  std::string get(const std::string& name, const std::string& fallback) const {
    auto it = options.find(name);
    return it == options.end() ? fallback : it->second;
  }
  int64_t num(const std::string& name, int64_t fallback) const {
    auto it = options.find(name);
    return it == options.end() ? fallback : to_num(it->second, "--" + name);
  }
  static int64_t to_num(const std::string& s, const std::string& what) {
    char* end = nullptr;
    long long v = std::strtoll(s.c_str(), &end, 10);
    if (s.empty() || *end != '\0' || v < 0) {
      std::cerr << what << ": '" << s << "' is not a non-negative integer\n";
      std::exit(64);
    }
    return v;
  }
};

[[noreturn]] inline void die(const kafka::Error& e) {
  std::cerr << "error: " << e.describe() << "\n";
  if (auto h = e.hint(); !h.empty()) std::cerr << "  " << h << "\n";
  std::exit(1);
}

template <class T>
T check(kafka::Result<T> r) {
  if (!r) die(r.error());
  return std::move(r).value();
}
inline void check(kafka::Result<void> r) {
  if (!r) die(r.error());
}

inline kafka::ClientConfig client(const std::string& alias, const std::string& bootstrap,
                                  std::map<std::string, std::string> props = {}) {
  return {.alias = alias,
          .bootstrap = bootstrap,
          .properties = std::move(props),
          .timeout = std::chrono::seconds(120)};
}

// splitmix64: a fast generator for incompressible record values (quality is irrelevant here, only
// that lz4/zstd find nothing to squeeze).
struct Random {
  uint64_t state;
  explicit Random(uint64_t seed) : state(seed) {}
  uint64_t next() {
    uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  void fill(std::string& buf) {
    size_t i = 0;
    for (; i + 8 <= buf.size(); i += 8) {
      uint64_t v = next();
      std::memcpy(buf.data() + i, &v, 8);
    }
    if (i < buf.size()) {
      uint64_t v = next();
      std::memcpy(buf.data() + i, &v, buf.size() - i);
    }
  }
};

// Keys are the record's index, zero-padded to 10 digits: every record has a distinct, present key.
inline std::string_view make_key(char (&buf)[16], int64_t index) {
  int n = std::snprintf(buf, sizeof buf, "%010lld", static_cast<long long>(index));
  return std::string_view(buf, static_cast<size_t>(n));
}
constexpr int64_t kKeyBytes = 10;

inline double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

inline int64_t wall_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// "records=… bytes=… seconds=… records_per_s=… mb_per_s=…" (MB = 10^6 bytes): the last line of every
// throughput tool, parsed by bench/engine-vs-mm2.
inline void print_rate(std::string_view what, int64_t records, int64_t bytes, double seconds) {
  double s = std::max(seconds, 1e-9);
  std::printf("%.*s records=%lld bytes=%lld seconds=%.3f records_per_s=%.0f mb_per_s=%.2f\n",
              static_cast<int>(what.size()), what.data(), static_cast<long long>(records),
              static_cast<long long>(bytes), seconds, static_cast<double>(records) / s,
              static_cast<double>(bytes) / s / 1e6);
  std::fflush(stdout);
}

}  // namespace mirror::bench

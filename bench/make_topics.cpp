// bench helper: creates many topics (and ACLs) on a cluster through the adapter, in batches, so that
// benchmarks can measure mirror on realistic cluster sizes. Not part of the product.
//
//   make_topics BOOTSTRAP PREFIX COUNT [ACLS]
#include <cstdlib>
#include <iostream>
#include <string>
#include <thread>

#include "kafka/admin.h"

int main(int argc, char** argv) {
  using namespace mirror::kafka;
  if (argc < 4) {
    std::cerr << "usage: make_topics BOOTSTRAP PREFIX COUNT [ACLS]\n";
    return 64;
  }
  const std::string prefix = argv[2];
  const int count = std::atoi(argv[3]);
  const int acls = argc > 4 ? std::atoi(argv[4]) : 0;
  auto admin = Admin::connect({.alias = "bench", .bootstrap = argv[1], .timeout = std::chrono::seconds(120)});
  if (!admin) {
    std::cerr << admin.error().describe() << "\n";
    return 1;
  }
  constexpr int kBatch = 500;
  int created = 0, existed = 0;
  for (int start = 0; start < count; start += kBatch) {
    std::vector<NewTopic> batch;
    for (int i = start; i < std::min(count, start + kBatch); ++i) {
      batch.push_back({.name = prefix + "." + std::to_string(i),
                       .partitions = 3,
                       .replication_factor = 1,
                       .configs = {{"retention.ms", std::to_string(3'600'000 + i)},
                                   {"max.message.bytes", "2000000"},
                                   {"cleanup.policy", i % 10 == 0 ? "compact" : "delete"}}});
    }
    auto r = admin->create_topics(batch);
    if (!r) {
      std::cerr << r.error().describe() << "\n";
      return 1;
    }
    for (const auto& t : *r) {
      if (t.ok())
        ++created;
      else if (t.error->code == Errc::already_exists)
        ++existed;
      else {
        std::cerr << t.name << ": " << t.error->describe() << "\n";
        return 1;
      }
    }
  }
  std::vector<AclBinding> bindings;
  for (int i = 0; i < acls; ++i) {
    bindings.push_back({AclResourceType::topic, prefix + "." + std::to_string(i % count),
                        AclPatternType::literal, "User:app" + std::to_string(i), "*",
                        i % 2 ? AclOperation::read : AclOperation::all, AclPermission::allow});
  }
  if (!bindings.empty()) {
    auto r = admin->create_acls(bindings);
    if (!r) {
      std::cerr << r.error().describe() << "\n";
      return 1;
    }
  }
  // The controller acknowledges before the broker has created every partition: wait until all topics
  // are visible, so a benchmark measures a settled cluster.
  for (int i = 0; i < 600; ++i) {
    auto topics = admin->list_topics();
    if (!topics) {
      std::cerr << topics.error().describe() << "\n";
      return 1;
    }
    int visible = 0;
    for (const auto& t : *topics) visible += t.name.rfind(prefix + ".", 0) == 0 ? 1 : 0;
    if (visible >= count) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  for (int i = 0; acls > 0 && i < 600; ++i) {  // ACLs reach the authorizer through the metadata log too
    auto listed = admin->describe_acls({.resource_type = AclResourceType::topic});
    if (listed && static_cast<int>(listed->size()) >= acls) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  std::cout << "created " << created << " topic(s), " << existed << " already existed, " << acls
            << " ACL(s)\n";
  return 0;
}

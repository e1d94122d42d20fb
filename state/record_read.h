// Reading records to compare them: shared by the MM2 takeover (mm2_progress) and the recovery of mirror's
// own unstored tail (progress_tail). Internal to state/.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "kafka/client_config.h"
#include "kafka/consumer.h"
#include "kafka/error.h"

namespace mirror::state {

// A hash of key, value, timestamp and headers: what identifies a copied record (the offset does not).
uint64_t print_of(const kafka::Message& m);

// Reads `topic` (read_committed) on every partition from `from` (per partition, default earliest) until
// each reaches the end it had when reading began, or `limit` records of a partition were seen. Calls
// `visit` per record.
kafka::Result<void> read_to_end(const kafka::ClientConfig& cfg, const std::string& topic,
                                const std::map<int32_t, int64_t>& from, int64_t limit,
                                const std::function<void(const kafka::Message&)>& visit);

}  // namespace mirror::state

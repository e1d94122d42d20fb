// The kafka adapter's error type. Every librdkafka error code is mapped, in one exhaustive place
// (error.cpp), onto a small set of kinds that callers branch on; the broker's own message and the
// librdkafka code name are kept for the operator.
#pragma once

#include <cstdint>
#include <string>

#include "common/result.h"

namespace mirror::kafka {

enum class Errc {
  ok = 0,
  config,          // a client property is unknown or has an invalid value
  transport,       // cannot reach the brokers (refused, DNS, TLS handshake, all brokers down)
  timed_out,       // the operation did not finish within its deadline
  authentication,  // SASL authentication failed
  tls,  // a TLS certificate was refused: the broker's by this client, or this client's by the broker
  authorization,    // the principal lacks an ACL for this operation
  not_found,        // unknown topic, partition, group, ...
  already_exists,   // topic or ACL already exists
  invalid,          // the request was rejected as invalid (bad partition count, config value, ...)
  policy,           // a broker-side policy refused the request
  not_supported,    // the broker does not support this API or version
  group_not_empty,  // the group has active members (offsets cannot be altered)
  fenced,           // a producer was fenced by a newer instance with the same transactional.id
  queue_full,       // the local producer queue is full; poll and retry
  retriable,        // transient broker condition (leader moving, coordinator loading, ...)
  cancelled,        // a stop was requested while waiting
  fatal,            // the client instance is unusable and must be recreated
  other,
};

// Stable lowercase name of an Errc, for logs and JSON.
const char* errc_name(Errc e);

struct Error {
  Errc code = Errc::ok;
  std::string operation;            // what we were doing, e.g. "create topics"
  std::string cluster;              // alias and bootstrap of the cluster, e.g. "B (127.0.0.1:29092)"
  std::string message;              // the broker's or librdkafka's explanation (never contains secrets)
  std::string kafka_code;           // librdkafka's error name, e.g. "TOPIC_ALREADY_EXISTS", or "" for ours
  bool retriable = false;           // trying the same request again may succeed
  bool txn_requires_abort = false;  // transactional producer: abort the transaction, then continue
  std::string topic;                // the partition an error of a fetched partition is about
  int32_t partition = -1;
  std::string advice;  // what to do, when it is more specific than the kind's general hint()

  // One line for an operator: what failed, where, why.
  std::string describe() const;
  // What an operator can do about it; empty when there is nothing useful to say.
  std::string hint() const;
};

template <class T>
using Result = mirror::Result<T, Error>;

}  // namespace mirror::kafka

#include "kafka/error.h"

#include "kafka/internal.h"

namespace mirror::kafka {

const char* errc_name(Errc e) {
  switch (e) {
    case Errc::ok: return "ok";
    case Errc::config: return "config";
    case Errc::transport: return "transport";
    case Errc::timed_out: return "timed_out";
    case Errc::authentication: return "authentication";
    case Errc::tls: return "tls";
    case Errc::authorization: return "authorization";
    case Errc::not_found: return "not_found";
    case Errc::already_exists: return "already_exists";
    case Errc::invalid: return "invalid";
    case Errc::policy: return "policy";
    case Errc::not_supported: return "not_supported";
    case Errc::group_not_empty: return "group_not_empty";
    case Errc::fenced: return "fenced";
    case Errc::queue_full: return "queue_full";
    case Errc::retriable: return "retriable";
    case Errc::cancelled: return "cancelled";
    case Errc::fatal: return "fatal";
    case Errc::other: return "other";
  }
  return "other";
}

std::string Error::describe() const {
  std::string s = operation.empty() ? "Kafka request" : operation;
  if (!cluster.empty()) s += " on cluster " + cluster;
  s += " failed: ";
  s += message.empty() ? std::string(errc_name(code)) : message;
  if (!kafka_code.empty()) s += " [" + kafka_code + "]";
  return s;
}

std::string Error::hint() const {
  if (!advice.empty()) return advice;
  switch (code) {
    case Errc::config:
      return "fix the client properties of this cluster in the spec (see librdkafka's CONFIGURATION.md for "
             "valid names and values)";
    case Errc::transport:
      return "check that the brokers are running and that the cluster's bootstrap address and port are right "
             "and reachable from this host";
    case Errc::timed_out:
      return "the cluster did not answer in time: check that it is up and reachable, or raise --timeout";
    case Errc::authentication:
      return "check the cluster's security.protocol, sasl.mechanism, sasl.username and sasl.password (or TLS "
             "files) in the spec";
    case Errc::tls:
      return "check the brokers' certificates and this cluster's ssl.* settings (ssl.ca.location, "
             "ssl.certificate.location, ssl.key.location) in the spec";
    case Errc::authorization:
      return "grant the principal mirror connects as the ACL this operation needs, or connect as a user that "
             "has it";
    case Errc::not_supported:
      return "the broker does not support this request; mirror needs Apache Kafka 3.x or 4.x (see "
             "docs/compatibility.md)";
    case Errc::group_not_empty:
      return "stop the consumers of this group on the target cluster before its offsets are changed";
    case Errc::fenced:
      return "another mirror instance with the same transactional.id took over; stop one of them";
    case Errc::fatal: return "the client hit an unrecoverable error; mirror must restart it";
    default: return "";
  }
}

namespace detail {

// The one place where librdkafka's error codes become our kinds. Codes not listed are `other`
// (and not retriable) so that an unknown condition is reported, not retried forever.
Errc classify(rd_kafka_resp_err_t err) {
  switch (err) {
    case RD_KAFKA_RESP_ERR_NO_ERROR: return Errc::ok;

    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
    case RD_KAFKA_RESP_ERR__RESOLVE:
    case RD_KAFKA_RESP_ERR__SSL:
    case RD_KAFKA_RESP_ERR__DESTROY_BROKER: return Errc::transport;

    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TIMED_OUT_QUEUE:
    case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
    case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT: return Errc::timed_out;

    case RD_KAFKA_RESP_ERR__AUTHENTICATION:
    case RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED:
    case RD_KAFKA_RESP_ERR_ILLEGAL_SASL_STATE:
    case RD_KAFKA_RESP_ERR_UNSUPPORTED_SASL_MECHANISM: return Errc::authentication;

    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_DELEGATION_TOKEN_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_SECURITY_DISABLED: return Errc::authorization;

    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_ID:
    case RD_KAFKA_RESP_ERR_GROUP_ID_NOT_FOUND:
    case RD_KAFKA_RESP_ERR__UNKNOWN_GROUP:
    case RD_KAFKA_RESP_ERR__NOENT:
    case RD_KAFKA_RESP_ERR_RESOURCE_NOT_FOUND: return Errc::not_found;

    case RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS:
    case RD_KAFKA_RESP_ERR__EXISTING_SUBSCRIPTION: return Errc::already_exists;

    case RD_KAFKA_RESP_ERR__INVALID_ARG:
    case RD_KAFKA_RESP_ERR__BAD_MSG:
    case RD_KAFKA_RESP_ERR_INVALID_PARTITIONS:
    case RD_KAFKA_RESP_ERR_INVALID_REPLICATION_FACTOR:
    case RD_KAFKA_RESP_ERR_INVALID_REPLICA_ASSIGNMENT:
    case RD_KAFKA_RESP_ERR_INVALID_CONFIG:
    case RD_KAFKA_RESP_ERR_INVALID_REQUEST:
    case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
    case RD_KAFKA_RESP_ERR_INVALID_TIMESTAMP:
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE:
    case RD_KAFKA_RESP_ERR__INVALID_TYPE:
    case RD_KAFKA_RESP_ERR_INVALID_RECORD: return Errc::invalid;

    case RD_KAFKA_RESP_ERR_POLICY_VIOLATION: return Errc::policy;

    case RD_KAFKA_RESP_ERR_UNSUPPORTED_VERSION:
    case RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE:
    case RD_KAFKA_RESP_ERR_UNSUPPORTED_FOR_MESSAGE_FORMAT:
    case RD_KAFKA_RESP_ERR_UNSUPPORTED_COMPRESSION_TYPE: return Errc::not_supported;

    case RD_KAFKA_RESP_ERR_NON_EMPTY_GROUP:
    case RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID:
    case RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS: return Errc::group_not_empty;

    case RD_KAFKA_RESP_ERR__FENCED:
    case RD_KAFKA_RESP_ERR_PRODUCER_FENCED:
    case RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH: return Errc::fenced;

    case RD_KAFKA_RESP_ERR__QUEUE_FULL: return Errc::queue_full;

    case RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION:
    case RD_KAFKA_RESP_ERR_NOT_CONTROLLER:
    case RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS:
    case RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NOT_COORDINATOR:
    case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS:
    case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND:
    case RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION:
    case RD_KAFKA_RESP_ERR_FENCED_LEADER_EPOCH:
    case RD_KAFKA_RESP_ERR_UNKNOWN_LEADER_EPOCH:
    case RD_KAFKA_RESP_ERR_OFFSET_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_CONCURRENT_TRANSACTIONS:
    case RD_KAFKA_RESP_ERR_THROTTLING_QUOTA_EXCEEDED:
    case RD_KAFKA_RESP_ERR_KAFKA_STORAGE_ERROR:
    case RD_KAFKA_RESP_ERR__WAIT_COORD:
    case RD_KAFKA_RESP_ERR__IN_PROGRESS:
    case RD_KAFKA_RESP_ERR__RETRY:
    case RD_KAFKA_RESP_ERR__PARTIAL: return Errc::retriable;

    case RD_KAFKA_RESP_ERR__FATAL:
    case RD_KAFKA_RESP_ERR__STATE: return Errc::fatal;

    case RD_KAFKA_RESP_ERR__DESTROY: return Errc::cancelled;

    default: return Errc::other;
  }
}

// Kafka's authorizer explains a denial with the Java toString of the whole request ("Request
// Request(processor=2, connectionId=..., session=...) needs ALTER permission."). Keep what an operator
// needs: which permission on which kind of resource.
std::string authorization_message(rd_kafka_resp_err_t err, const std::string& broker_message) {
  std::string resource = "the resource";
  switch (err) {
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED: resource = "the CLUSTER resource"; break;
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED: resource = "the topic"; break;
    case RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED: resource = "the group"; break;
    case RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED: resource = "the transactional id"; break;
    default: break;
  }
  const std::string marker = " needs ";
  const auto at = broker_message.rfind(marker);
  const auto end = at == std::string::npos ? at : broker_message.find(" permission", at);
  if (broker_message.rfind("Request ", 0) == 0 && end != std::string::npos) {
    const std::string perm = broker_message.substr(at + marker.size(), end - at - marker.size());
    return "not authorized: the principal lacks " + perm + " permission on " + resource;
  }
  return broker_message;
}

Error make_error(rd_kafka_resp_err_t err, std::string message, std::string_view operation,
                 std::string_view cluster) {
  Error e;
  e.code = classify(err);
  e.kafka_code = rd_kafka_err2name(err);
  e.message = message.empty() ? rd_kafka_err2str(err) : std::move(message);
  if (e.code == Errc::authorization) e.message = authorization_message(err, e.message);
  e.operation = operation;
  e.cluster = cluster;
  e.retriable = e.code == Errc::retriable || e.code == Errc::queue_full || e.code == Errc::timed_out ||
                e.code == Errc::transport;
  return e;
}

Error make_error(const rd_kafka_error_t* err, std::string_view operation, std::string_view cluster) {
  Error e = make_error(rd_kafka_error_code(err), rd_kafka_error_string(err), operation, cluster);
  if (rd_kafka_error_is_fatal(err) && e.code != Errc::fenced) e.code = Errc::fatal;
  e.retriable = rd_kafka_error_is_retriable(err);
  e.txn_requires_abort = rd_kafka_error_txn_requires_abort(err);
  return e;
}

}  // namespace detail
}  // namespace mirror::kafka

// Turning TLS failures into an operator's words: which certificate, what is wrong with it, and what to
// change. Private to kafka/ (client.cpp calls it from librdkafka's certificate-verification and error
// callbacks). It never changes a verification result: it only explains the one OpenSSL reached.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace mirror::kafka::detail {

// What the client side knows about its own TLS settings, for the explanations.
struct TlsSettings {
  std::string ca;                   // where trusted CAs come from, e.g. "ssl.ca.location /etc/kafka/ca.pem"
  bool client_certificate = false;  // a client certificate is configured (mutual TLS possible)
};

struct TlsFailure {
  std::string message;  // e.g. "the broker's certificate (subject CN=...) expired on 2020-01-02 00:00:00 UTC"
  std::string advice;   // what to do about it
};

// What a client's librdkafka `properties` say about TLS.
TlsSettings tls_settings(const std::map<std::string, std::string>& properties);

// OpenSSL refused the certificate `der` (at `depth` in the chain; 0 = the broker's own) presented by
// `broker` ("host:port", as librdkafka names it) with X509 verification error `x509_error`.
TlsFailure explain_certificate(int x509_error, int depth, const unsigned char* der, size_t size,
                               std::string_view broker, const TlsSettings& settings);

// librdkafka's error text for a TLS connection that failed after our checks (the broker sent an alert,
// or the port does not speak TLS). nullopt if `reason` is not such a failure.
std::optional<TlsFailure> explain_tls_error(std::string_view reason, const TlsSettings& settings);

}  // namespace mirror::kafka::detail

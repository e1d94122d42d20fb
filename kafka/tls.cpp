#include "kafka/tls.h"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>

#include <charconv>
#include <ctime>
#include <memory>

namespace mirror::kafka::detail {
namespace {

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct NamesFree {
  void operator()(GENERAL_NAMES* n) const { GENERAL_NAMES_free(n); }
};

std::string name_text(const X509_NAME* name) {
  if (!name) return "?";
  std::unique_ptr<BIO, BioFree> bio(BIO_new(BIO_s_mem()));
  if (!bio || X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253) < 0) return "?";
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return n > 0 ? std::string(data, static_cast<size_t>(n)) : std::string("(empty)");
}

std::string time_text(const ASN1_TIME* t) {
  std::tm tm{};
  if (!t || ASN1_TIME_to_tm(t, &tm) != 1) return "?";
  char buf[64];
  return std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm) ? std::string(buf) : "?";
}

std::string now_text() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[64];
  return std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm) ? std::string(buf) : "?";
}

// A name from a certificate (the broker's, so from outside): anything but printable ASCII as \xNN,
// so that it cannot forge lines or terminal escapes in an error message.
std::string printable(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += ch;
    } else {
      out += {'\\', 'x', kHex[c >> 4], kHex[c & 15]};
    }
  }
  return out;
}

// "DNS:a, IP:1.2.3.4" from the subjectAltName extension, or "" if it has none.
std::string alt_names(X509* cert) {
  std::unique_ptr<GENERAL_NAMES, NamesFree> names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  if (!names) return "";
  std::string out;
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* g = sk_GENERAL_NAME_value(names.get(), i);
    std::string item;
    if (g->type == GEN_DNS) {
      const ASN1_IA5STRING* s = g->d.dNSName;
      item = "DNS:" + printable(std::string_view(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                                                 static_cast<size_t>(ASN1_STRING_length(s))));
    } else if (g->type == GEN_IPADD) {
      const ASN1_OCTET_STRING* s = g->d.iPAddress;
      char buf[INET6_ADDRSTRLEN] = "?";
      const int len = ASN1_STRING_length(s);
      if (len == 4 || len == 16)
        inet_ntop(len == 4 ? AF_INET : AF_INET6, ASN1_STRING_get0_data(s), buf, sizeof buf);
      item = std::string("IP:") + buf;
    } else {
      continue;
    }
    if (!out.empty()) out += ", ";
    out += item;
  }
  return out;
}

std::string host_of(std::string_view broker) {
  // librdkafka names brokers "host:port" (IPv6 as "[::1]:9093"); a "proto://" prefix may precede it.
  if (auto p = broker.find("://"); p != std::string_view::npos) broker.remove_prefix(p + 3);
  if (auto slash = broker.find('/'); slash != std::string_view::npos) broker = broker.substr(0, slash);
  if (broker.starts_with('[')) {
    if (auto close = broker.find(']'); close != std::string_view::npos)
      return std::string(broker.substr(1, close - 1));
  }
  if (auto colon = broker.rfind(':'); colon != std::string_view::npos) broker = broker.substr(0, colon);
  return std::string(broker);
}

const char* alert_name(int alert) {
  switch (alert) {
    case 40: return "handshake failure";
    case 42: return "bad certificate";
    case 43: return "unsupported certificate";
    case 44: return "certificate revoked";
    case 45: return "certificate expired";
    case 46: return "certificate unknown";
    case 48: return "unknown CA";
    case 116: return "certificate required";
    default: return nullptr;
  }
}

}  // namespace

TlsSettings tls_settings(const std::map<std::string, std::string>& properties) {
  auto has = [&](const char* name) {
    auto it = properties.find(name);
    return it != properties.end() && !it->second.empty();
  };
  TlsSettings s;
  if (has("ssl.ca.pem")) {
    s.ca = "the CA certificate in ssl.ca.pem";
  } else if (has("ssl.ca.location") && properties.at("ssl.ca.location") != "probe") {
    s.ca = "ssl.ca.location " + properties.at("ssl.ca.location");
  } else {
    s.ca = "this host's CA store, as no ssl.ca.location is set";
  }
  s.client_certificate =
      has("ssl.certificate.location") || has("ssl.certificate.pem") || has("ssl.keystore.location");
  return s;
}

TlsFailure explain_certificate(int x509_error, int depth, const unsigned char* der, size_t size,
                               std::string_view broker, const TlsSettings& settings) {
  std::unique_ptr<X509, X509Free> cert;
  if (der && size > 0 && size < (1u << 20)) {
    const unsigned char* p = der;
    cert.reset(d2i_X509(nullptr, &p, static_cast<long>(size)));
  }
  const std::string host = host_of(broker);
  const std::string which =
      depth == 0 ? "the broker's certificate" : "a CA certificate in the broker's chain";
  std::string subject = cert ? name_text(X509_get_subject_name(cert.get())) : "?";
  std::string issuer = cert ? name_text(X509_get_issuer_name(cert.get())) : "?";
  const std::string who = which + " (subject " + subject + ")";
  const char* openssl_says = X509_verify_cert_error_string(x509_error);
  TlsFailure f;
  switch (x509_error) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
      f.message = "TLS: " + who + " presented by " + std::string(broker) + " expired on " +
                  (cert ? time_text(X509_get0_notAfter(cert.get())) : "?") + " (now: " + now_text() + ")";
      f.advice =
          "renew the broker's certificate (or, if it is still valid, correct this host's clock); mirror does "
          "not connect to a broker whose certificate has expired";
      break;
    case X509_V_ERR_CERT_NOT_YET_VALID:
      f.message = "TLS: " + who + " presented by " + std::string(broker) + " is not valid before " +
                  (cert ? time_text(X509_get0_notBefore(cert.get())) : "?") + " (now: " + now_text() + ")";
      f.advice = "check this host's clock and the broker's certificate dates";
      break;
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH: {
      std::string names = cert ? alt_names(cert.get()) : "";
      if (names.empty()) names = "subject " + subject + " and no subjectAltName";
      f.message = "TLS: the broker at " + std::string(broker) + " presented a certificate for " + names +
                  ", which does not name the host '" + host + "' mirror connected to";
      f.advice =
          "connect with a host name the certificate lists (bootstrap and the brokers' advertised.listeners), "
          "or have the broker's certificate reissued with this name in its subjectAltName";
      break;
    }
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_CERT_UNTRUSTED:
    case X509_V_ERR_CERT_SIGNATURE_FAILURE:
      f.message = "TLS: " + who + " presented by " + std::string(broker) + " was issued by " + issuer +
                  ", which is not a CA this client trusts (" + settings.ca + "): " + openssl_says;
      f.advice =
          "set ssl.ca.location (or ssl.ca.pem) of this cluster to the CA that issued the brokers' "
          "certificates";
      break;
    default:
      f.message = "TLS: " + who + " presented by " + std::string(broker) + " was refused: " + openssl_says +
                  " (X509 error " + std::to_string(x509_error) + ")";
      f.advice = "check the brokers' certificates and this cluster's ssl.* settings in the spec";
      break;
  }
  return f;
}

std::optional<TlsFailure> explain_tls_error(std::string_view reason, const TlsSettings& settings) {
  constexpr std::string_view kAlert = "SSL alert number ";
  if (auto at = reason.find(kAlert); at != std::string_view::npos) {
    int alert = 0;
    const char* begin = reason.data() + at + kAlert.size();
    if (std::from_chars(begin, reason.data() + reason.size(), alert).ec != std::errc()) return std::nullopt;
    const char* name = alert_name(alert);
    if (!name) return std::nullopt;
    // An alert we receive is the broker's verdict on us: on our client certificate, or on the lack of one.
    TlsFailure f;
    if (alert == 40 && settings.client_certificate) return std::nullopt;  // could be ciphers or versions
    if (!settings.client_certificate) {
      f.message = std::string(
                      "TLS: the broker requires a client certificate (mutual TLS) and refused the "
                      "connection without one (TLS alert: ") +
                  name + ")";
      f.advice =
          "give this cluster a client certificate: ssl.certificate.location and ssl.key.location (or "
          "ssl.keystore.location), signed by a CA the brokers trust";
    } else {
      f.message = std::string("TLS: the broker refused this client's certificate (TLS alert: ") + name + ")";
      f.advice =
          "use a client certificate that is valid now, signed by a CA in the brokers' ssl.truststore, "
          "with the clientAuth extended key usage";
    }
    return f;
  }
  if (reason.find("wrong version number") != std::string_view::npos ||
      reason.find("packet length too long") != std::string_view::npos ||
      reason.find("record layer failure") != std::string_view::npos ||
      reason.find("connecting to a PLAINTEXT broker listener") != std::string_view::npos) {
    return TlsFailure{"TLS: the broker did not answer with TLS (" + std::string(reason) + ")",
                      "security.protocol says SSL or SASL_SSL, but this port seems to be a PLAINTEXT or "
                      "SASL_PLAINTEXT listener: check the port in bootstrap and security.protocol"};
  }
  return std::nullopt;
}

}  // namespace mirror::kafka::detail

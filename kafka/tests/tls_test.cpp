// The words for TLS failures (kafka/tls.h): certificates made here with OpenSSL, alerts as librdkafka
// reports them. The real handshakes are in engine/tests/tls_integration_test.cpp.
#include "kafka/tls.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <memory>
#include <vector>

namespace mirror::kafka::detail {
namespace {

// A self-signed certificate, DER-encoded: subject CN=<cn>, valid [not_before, not_after] seconds from
// now, with a subjectAltName if `san` is not empty.
std::vector<unsigned char> certificate(const std::string& cn, long not_before, long not_after,
                                       const std::string& san) {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("P-256"), EVP_PKEY_free);
  std::unique_ptr<X509, decltype(&X509_free)> x(X509_new(), X509_free);
  X509_set_version(x.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(x.get()), not_before);
  X509_gmtime_adj(X509_getm_notAfter(x.get()), not_after);
  X509_NAME* name = X509_get_subject_name(x.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("test"), -1, -1,
                             0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn.c_str()), -1,
                             -1, 0);
  X509_set_issuer_name(x.get(), name);
  X509_set_pubkey(x.get(), key.get());
  if (!san.empty()) {
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, x.get(), x.get(), nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, san.c_str());
    X509_add_ext(x.get(), ext, -1);
    X509_EXTENSION_free(ext);
  }
  X509_sign(x.get(), key.get(), EVP_sha256());
  unsigned char* der = nullptr;
  int n = i2d_X509(x.get(), &der);
  std::vector<unsigned char> out(der, der + n);
  OPENSSL_free(der);
  return out;
}

const TlsSettings kWithCa{.ca = "ssl.ca.location /etc/kafka/ca.pem", .client_certificate = false};

TEST(TlsExplain, ExpiredCertificateSaysWhen) {
  auto der = certificate("broker.example", -10 * 86400, -9 * 86400, "DNS:broker.example");
  TlsFailure f = explain_certificate(X509_V_ERR_CERT_HAS_EXPIRED, 0, der.data(), der.size(),
                                     "broker.example:9093", kWithCa);
  EXPECT_NE(f.message.find("the broker's certificate (subject CN=broker.example,O=test)"), std::string::npos)
      << f.message;
  EXPECT_NE(f.message.find("presented by broker.example:9093 expired on 20"), std::string::npos) << f.message;
  EXPECT_NE(f.message.find("UTC (now: "), std::string::npos) << f.message;
  EXPECT_NE(f.advice.find("renew"), std::string::npos);
}

TEST(TlsExplain, WrongHostListsTheNamesTheCertificateHas) {
  auto der = certificate("other", -60, 86400, "DNS:wrong-host.invalid,IP:10.1.2.3");
  TlsFailure f = explain_certificate(X509_V_ERR_HOSTNAME_MISMATCH, 0, der.data(), der.size(),
                                     "127.0.0.1:29098", kWithCa);
  EXPECT_NE(
      f.message.find("certificate for DNS:wrong-host.invalid, IP:10.1.2.3, which does not name the host "
                     "'127.0.0.1'"),
      std::string::npos)
      << f.message;
  // A name with a terminal escape in it cannot reach the operator's terminal as one.
  auto hostile = certificate("x", -60, 86400, "DNS:evil\x1b[31m.example");
  f = explain_certificate(X509_V_ERR_HOSTNAME_MISMATCH, 0, hostile.data(), hostile.size(), "h:1", kWithCa);
  EXPECT_EQ(f.message.find('\x1b'), std::string::npos) << f.message;
  EXPECT_NE(f.message.find("DNS:evil\\x1b[31m.example"), std::string::npos) << f.message;
  // IPv6 brokers keep their address whole.
  f = explain_certificate(X509_V_ERR_IP_ADDRESS_MISMATCH, 0, der.data(), der.size(), "[::1]:9093", kWithCa);
  EXPECT_NE(f.message.find("host '::1'"), std::string::npos) << f.message;
  // No subjectAltName: the subject is all there is.
  auto bare = certificate("only-cn", -60, 86400, "");
  f = explain_certificate(X509_V_ERR_HOSTNAME_MISMATCH, 0, bare.data(), bare.size(), "h:1", kWithCa);
  EXPECT_NE(f.message.find("subject CN=only-cn,O=test and no subjectAltName"), std::string::npos)
      << f.message;
}

TEST(TlsExplain, UntrustedIssuerNamesTheIssuerAndTheTrustedCas) {
  auto der = certificate("kafka-local CA", -60, 86400, "");
  TlsFailure f = explain_certificate(X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN, 1, der.data(), der.size(),
                                     "127.0.0.1:29096", kWithCa);
  EXPECT_NE(f.message.find("a CA certificate in the broker's chain"), std::string::npos) << f.message;
  EXPECT_NE(f.message.find("issued by CN=kafka-local CA,O=test, which is not a CA this client trusts "
                           "(ssl.ca.location /etc/kafka/ca.pem)"),
            std::string::npos)
      << f.message;
  EXPECT_NE(f.advice.find("ssl.ca.location"), std::string::npos);
}

TEST(TlsExplain, UnreadableCertificateStillExplainsTheError) {
  const unsigned char junk[] = {1, 2, 3};
  TlsFailure f = explain_certificate(X509_V_ERR_CERT_REVOKED, 0, junk, sizeof junk, "b:1", kWithCa);
  EXPECT_NE(f.message.find("subject ?"), std::string::npos) << f.message;
  EXPECT_NE(f.message.find("certificate revoked"), std::string::npos) << f.message;
  f = explain_certificate(X509_V_ERR_CERT_HAS_EXPIRED, 0, nullptr, 0, "b:1", kWithCa);
  EXPECT_NE(f.message.find("expired on ?"), std::string::npos) << f.message;
}

TEST(TlsExplain, SettingsSayWhereTrustComesFrom) {
  EXPECT_EQ(tls_settings({}).ca, "this host's CA store, as no ssl.ca.location is set");
  EXPECT_EQ(tls_settings({{"ssl.ca.location", "probe"}}).ca,
            "this host's CA store, as no ssl.ca.location is set");
  EXPECT_EQ(tls_settings({{"ssl.ca.location", "/x/ca.pem"}}).ca, "ssl.ca.location /x/ca.pem");
  EXPECT_EQ(tls_settings({{"ssl.ca.pem", "-----BEGIN"}}).ca, "the CA certificate in ssl.ca.pem");
  EXPECT_FALSE(tls_settings({}).client_certificate);
  EXPECT_TRUE(tls_settings({{"ssl.certificate.location", "/c.pem"}}).client_certificate);
  EXPECT_TRUE(tls_settings({{"ssl.keystore.location", "/c.p12"}}).client_certificate);
}

TEST(TlsExplain, BrokerAlertsAboutOurCertificate) {
  const std::string missing =
      "ssl://127.0.0.1:29096/bootstrap: Receive failed: error:0A000412:SSL routines::sslv3 alert bad "
      "certificate: "
      "SSL alert number 42 (after 0ms in state APIVERSION_QUERY)";
  auto f = explain_tls_error(missing, {.ca = "x", .client_certificate = false});
  ASSERT_TRUE(f);
  EXPECT_NE(f->message.find("requires a client certificate (mutual TLS)"), std::string::npos) << f->message;
  EXPECT_NE(f->message.find("bad certificate"), std::string::npos) << f->message;
  EXPECT_NE(f->advice.find("ssl.certificate.location"), std::string::npos);

  f = explain_tls_error("...: SSL alert number 48 (after 1ms)", {.ca = "x", .client_certificate = true});
  ASSERT_TRUE(f);
  EXPECT_NE(f->message.find("refused this client's certificate (TLS alert: unknown CA)"), std::string::npos)
      << f->message;
  // A handshake failure alert with a certificate configured may be about ciphers: not claimed.
  EXPECT_FALSE(explain_tls_error("SSL alert number 40", {.ca = "x", .client_certificate = true}));
  EXPECT_FALSE(explain_tls_error("SSL alert number 70", {.ca = "x", .client_certificate = false}));
  EXPECT_FALSE(explain_tls_error("Connect to ipv4#127.0.0.1:1 failed: Connection refused", {}));
  EXPECT_FALSE(explain_tls_error("SSL alert number x", {}));
}

TEST(TlsExplain, PlaintextPortSpokenToWithTls) {
  auto f = explain_tls_error(
      "ssl://127.0.0.1:29092/bootstrap: SSL handshake failed: error:0A00010B:SSL routines::wrong version "
      "number",
      {});
  ASSERT_TRUE(f);
  EXPECT_NE(f->message.find("did not answer with TLS"), std::string::npos) << f->message;
  EXPECT_NE(f->advice.find("PLAINTEXT"), std::string::npos);
  // librdkafka's own guess, when the plaintext listener just closes the connection.
  EXPECT_TRUE(
      explain_tls_error("SSL handshake failed: Disconnected: SSL connection closed by peer: connecting to a "
                        "PLAINTEXT broker listener? (after 0ms in state SSL_HANDSHAKE)",
                        {}));
}

}  // namespace
}  // namespace mirror::kafka::detail

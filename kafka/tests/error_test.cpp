// Unit tests of the adapter's error handling and configuration; no broker needed.
#include <gtest/gtest.h>

#include "common/secrets.h"
#include "kafka/admin.h"
#include "kafka/error.h"
#include "kafka/internal.h"

namespace mirror::kafka {
namespace {

TEST(Classify, MapsTheCodesCallersBranchOn) {
  using detail::classify;
  EXPECT_EQ(classify(RD_KAFKA_RESP_ERR_NO_ERROR), Errc::ok);
  EXPECT_EQ(classify(RD_KAFKA_RESP_ERR__TRANSPORT), Errc::transport);
  EXPECT_EQ(classify(RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN), Errc::transport);
  EXPECT_EQ(classify(RD_KAFKA_RESP_ERR__AUTHENTICATION), Errc::authentication);
  EXPECT_EQ(classify(RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED), Errc::authentication);
  EXPECT_EQ(classify(RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED), Errc::authorization);
  EXPECT_EQ(classify(RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED), Errc::authorization);
  EXPECT_EQ(classify(RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS), Errc::already_exists);
  EXPECT_EQ(classify(RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART), Errc::not_found);
  EXPECT_EQ(classify(RD_KAFKA_RESP_ERR_INVALID_PARTITIONS), Errc::invalid);
  EXPECT_EQ(classify(RD_KAFKA_RESP_ERR_POLICY_VIOLATION), Errc::policy);
  EXPECT_EQ(classify(RD_KAFKA_RESP_ERR_NON_EMPTY_GROUP), Errc::group_not_empty);
  EXPECT_EQ(classify(RD_KAFKA_RESP_ERR_PRODUCER_FENCED), Errc::fenced);
  EXPECT_EQ(classify(RD_KAFKA_RESP_ERR__QUEUE_FULL), Errc::queue_full);
  EXPECT_EQ(classify(RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION), Errc::retriable);
  EXPECT_EQ(classify(RD_KAFKA_RESP_ERR__FATAL), Errc::fatal);
  EXPECT_EQ(classify(RD_KAFKA_RESP_ERR_UNSUPPORTED_VERSION), Errc::not_supported);
  // Something we do not model is reported, not retried forever.
  EXPECT_EQ(classify(RD_KAFKA_RESP_ERR_DUPLICATE_SEQUENCE_NUMBER), Errc::other);
}

TEST(Classify, RetriableOnlyForTransientKinds) {
  EXPECT_TRUE(detail::make_error(RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION, "", "op", "A").retriable);
  EXPECT_TRUE(detail::make_error(RD_KAFKA_RESP_ERR__TRANSPORT, "", "op", "A").retriable);
  EXPECT_FALSE(detail::make_error(RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED, "", "op", "A").retriable);
  EXPECT_FALSE(detail::make_error(RD_KAFKA_RESP_ERR_INVALID_CONFIG, "", "op", "A").retriable);
}

TEST(ErrorText, SaysWhatWhereAndWhy) {
  Error e = detail::make_error(RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED, "Topic authorization failed",
                               "describe topic configs", "B (127.0.0.1:29094)");
  EXPECT_EQ(e.describe(),
            "describe topic configs on cluster B (127.0.0.1:29094) failed: Topic authorization failed "
            "[TOPIC_AUTHORIZATION_FAILED]");
  EXPECT_NE(e.hint().find("ACL"), std::string::npos);
  EXPECT_STREQ(errc_name(e.code), "authorization");
}

TEST(ErrorText, AuthorizerDenialsNameThePermissionNotTheJavaRequest) {
  Error e = detail::make_error(
      RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED,
      "Request Request(processor=2, connectionId=127.0.0.1:29093-127.0.0.1:34686-2-0, session=org.apache."
      "kafka.network.Session@31403acb, listenerName=ListenerName(CONTROLLER), envelope=None) needs ALTER "
      "permission.",
      "create ACLs", "B (127.0.0.1:29094)");
  EXPECT_EQ(e.describe(),
            "create ACLs on cluster B (127.0.0.1:29094) failed: not authorized: the principal lacks ALTER "
            "permission on the CLUSTER resource [CLUSTER_AUTHORIZATION_FAILED]");
}

TEST(SensitiveProperties, CoverSecretsInAnyCase) {
  for (const char* name :
       {"sasl.password", "ssl.key.password", "sasl.jaas.config", "ssl.key.pem",
        "sasl.oauthbearer.client.secret", "SASL.PASSWORD", "sasl.oauthbearer.token.endpoint.url"}) {
    EXPECT_TRUE(is_secret_property(name)) << name;
  }
  for (const char* name : {"security.protocol", "sasl.mechanism", "sasl.username", "bootstrap.servers"}) {
    EXPECT_FALSE(is_secret_property(name)) << name;
  }
}

TEST(ClientConfigErrors, UnknownPropertyIsAConfigErrorNamingIt) {
  ClientConfig cfg{.alias = "A", .bootstrap = "127.0.0.1:19092", .properties = {{"no.such.property", "1"}}};
  auto admin = Admin::connect(cfg);
  ASSERT_FALSE(admin.ok());
  EXPECT_EQ(admin.error().code, Errc::config);
  EXPECT_NE(admin.error().describe().find("no.such.property"), std::string::npos) << admin.error().describe();
  EXPECT_NE(admin.error().describe().find("A (127.0.0.1:19092)"), std::string::npos);
}

TEST(ClientConfigErrors, SecretValuesAreCutOutOfMessages) {
  ClientConfig cfg{.alias = "A", .bootstrap = "127.0.0.1:19094"};
  Error e = detail::config_error(cfg, "sasl.password", "hunter2",
                                 "Invalid value \"hunter2\" for configuration property \"sasl.password\"");
  EXPECT_EQ(e.message.find("hunter2"), std::string::npos) << e.message;
  EXPECT_NE(e.message.find("sasl.password"), std::string::npos);
  // A value that is not secret stays, because it helps the operator.
  Error f = detail::config_error(cfg, "security.protocol", "PLAINTXT", "Invalid value \"PLAINTXT\"");
  EXPECT_NE(f.message.find("PLAINTXT"), std::string::npos);
}

TEST(ClientConfigErrors, SecretsNeverReachErrorsFromRealClientCreation) {
  // SCRAM without a mechanism-compatible setup fails inside rd_kafka_new; the password must not leak.
  ClientConfig cfg{.alias = "A",
                   .bootstrap = "127.0.0.1:19094",
                   .properties = {{"security.protocol", "SASL_PLAINTEXT"},
                                  {"sasl.mechanism", "NOT-A-MECHANISM"},
                                  {"sasl.password", "s3cr3t-value"}}};
  auto admin = Admin::connect(cfg);
  ASSERT_FALSE(admin.ok());
  EXPECT_EQ(admin.error().code, Errc::config);
  EXPECT_EQ(admin.error().describe().find("s3cr3t-value"), std::string::npos) << admin.error().describe();
}

TEST(ClientConfigErrors, MissingBootstrapIsRejected) {
  auto admin = Admin::connect(ClientConfig{.alias = "B", .bootstrap = ""});
  ASSERT_FALSE(admin.ok());
  EXPECT_EQ(admin.error().code, Errc::config);
  EXPECT_NE(admin.error().message.find("bootstrap"), std::string::npos);
}

TEST(ClientConfigErrors, RejectsInvalidEnumValueWithTheValueShownWhenNotSecret) {
  ClientConfig cfg{
      .alias = "A", .bootstrap = "127.0.0.1:19092", .properties = {{"security.protocol", "PLAINTXT"}}};
  auto admin = Admin::connect(cfg);
  ASSERT_FALSE(admin.ok());
  EXPECT_EQ(admin.error().code, Errc::config);
  EXPECT_NE(admin.error().message.find("PLAINTXT"), std::string::npos) << admin.error().message;
}

}  // namespace
}  // namespace mirror::kafka

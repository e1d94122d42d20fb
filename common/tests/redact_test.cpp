#include "common/redact.h"

#include <gtest/gtest.h>

#include <sstream>

namespace mirror {
namespace {

class RedactTest : public ::testing::Test {
 protected:
  void SetUp() override { clear_secrets_for_testing(); }
  void TearDown() override { clear_secrets_for_testing(); }
};

TEST_F(RedactTest, ReplacesEveryOccurrence) {
  register_secret("hunter2-canary");
  EXPECT_EQ(redact("a hunter2-canary b hunter2-canary"), "a <secret not shown> b <secret not shown>");
  EXPECT_TRUE(contains_secret("xhunter2-canaryx"));
  EXPECT_FALSE(contains_secret("hunter2"));
}

TEST_F(RedactTest, ShortValuesAreNotSecrets) {
  register_secret("abc");
  EXPECT_EQ(redact("abc abc"), "abc abc");
}

TEST_F(RedactTest, LongestFirstAndEachLineOfAPemKey) {
  register_secret("pass");
  register_secret("password-long");
  EXPECT_EQ(redact("password-long"), "<secret not shown>");
  register_secret("-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEF\n-----END PRIVATE KEY-----\n");
  EXPECT_EQ(redact("key line MIIEvQIBADANBgkqhkiG9w0BAQEF!"), "key line <secret not shown>!");
  EXPECT_EQ(redact("-----BEGIN PRIVATE KEY-----"), "-----BEGIN PRIVATE KEY-----");
}

TEST_F(RedactTest, ReplacementDoesNotLoopWhenTheMarkerContainsTheSecret) {
  register_secret("secret");  // "<secret not shown>" contains it
  EXPECT_EQ(redact("secret"), "<secret not shown>");
}

TEST_F(RedactTest, StreamsAreFilteredAcrossWrites) {
  register_secret("canary-XYZ-123");
  std::ostringstream sink;
  std::streambuf* original = std::cout.rdbuf();
  std::cout.rdbuf(sink.rdbuf());
  install_redacting_streams();  // wraps whatever std::cout writes to now
  std::cout << "value: canary-";
  std::cout << "XYZ-123 and more\n";
  std::cout << "tail canary-XYZ-123" << std::flush;
  std::streambuf* filter = std::cout.rdbuf();
  std::cout.rdbuf(original);
  (void)filter;
  EXPECT_EQ(sink.str(), "value: <secret not shown> and more\ntail <secret not shown>");
}

}  // namespace
}  // namespace mirror

#include "spec/pattern.h"

#include <gtest/gtest.h>

namespace mirror::spec {
namespace {

Pattern must(const std::string& s) {
  auto r = Pattern::compile(s);
  EXPECT_TRUE(std::holds_alternative<Pattern>(r)) << s;
  return std::get<Pattern>(r);
}

TEST(Pattern, MatchesTheWholeNameOnly) {
  Pattern p = must("orders\\..*");
  EXPECT_TRUE(p.matches("orders.eu"));
  EXPECT_FALSE(p.matches("old.orders.eu"));  // no implicit prefix
  EXPECT_FALSE(p.matches("orders"));
  Pattern q = must("payments");
  EXPECT_TRUE(q.matches("payments"));
  EXPECT_FALSE(q.matches("payments2"));  // no implicit suffix
  EXPECT_FALSE(q.matches("xpayments"));
}

TEST(Pattern, AlternationIsAnchoredAsAWhole) {
  Pattern p = must("a|b");
  EXPECT_TRUE(p.matches("a"));
  EXPECT_TRUE(p.matches("b"));
  EXPECT_FALSE(p.matches("ab"));
}

TEST(Pattern, SyntaxErrorsSayWhere) {
  auto r = Pattern::compile("orders(.*");
  ASSERT_TRUE(std::holds_alternative<PatternError>(r));
  EXPECT_EQ(std::get<PatternError>(r).offset, 9u);
  EXPECT_NE(std::get<PatternError>(r).message.find("missing closing parenthesis"), std::string::npos);
  auto q = Pattern::compile("*orders");
  ASSERT_TRUE(std::holds_alternative<PatternError>(q));
  EXPECT_EQ(std::get<PatternError>(q).offset, 0u);
}

}  // namespace
}  // namespace mirror::spec

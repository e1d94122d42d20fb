#include "common/result.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace mirror {
namespace {

struct Err {
  std::string what;
};

Result<int, Err> half(int x) {
  if (x % 2 != 0) return fail(Err{"odd: " + std::to_string(x)});
  return x / 2;
}

TEST(Result, HoldsValueOrError) {
  auto a = half(8);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(*a, 4);
  auto b = half(3);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.error().what, "odd: 3");
}

TEST(Result, MovesOnlyValuesOut) {
  Result<std::unique_ptr<int>, Err> r = std::make_unique<int>(7);
  ASSERT_TRUE(r);
  std::unique_ptr<int> p = std::move(r).value();
  EXPECT_EQ(*p, 7);
}

TEST(Result, VoidSpecialisation) {
  Result<void, Err> good;
  EXPECT_TRUE(good.ok());
  Result<void, Err> bad = fail(Err{"no"});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().what, "no");
}

}  // namespace
}  // namespace mirror

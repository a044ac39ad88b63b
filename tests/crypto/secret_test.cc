#include "chatvault/crypto/secret.h"

#include <gtest/gtest.h>

#include "chatvault/crypto/random.h"

namespace chatvault::crypto {
namespace {

TEST(Secret, MoveLeavesSourceEmpty) {
  Secret a = RandomSecret(32);
  Secret copy = a.Clone();
  Secret b = std::move(a);
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): checking the moved-from state
  EXPECT_EQ(b.size(), 32u);
  EXPECT_TRUE(b.Equals(copy));
}

TEST(Random, NotConstant) {
  EXPECT_NE(RandomBytes(32), RandomBytes(32));
}

TEST(ConstantTimeEqual, Basics) {
  EXPECT_TRUE(ConstantTimeEqual(Bytes{1, 2}, Bytes{1, 2}));
  EXPECT_FALSE(ConstantTimeEqual(Bytes{1, 2}, Bytes{1, 3}));
  EXPECT_FALSE(ConstantTimeEqual(Bytes{1, 2}, Bytes{1}));
}

}  // namespace
}  // namespace chatvault::crypto

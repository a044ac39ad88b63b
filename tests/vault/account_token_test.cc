#include <gtest/gtest.h>

#include "chatvault/crypto/random.h"
#include "chatvault/vault/account_token.h"

namespace chatvault::vault {
namespace {

TEST(AccountToken, ValidForItsAccountUntilExpiry) {
  crypto::Secret secret = crypto::RandomSecret(32);
  auto token = IssueAccountToken(secret, "alice", 1000);
  ASSERT_TRUE(token.ok());
  EXPECT_TRUE(VerifyAccountToken(secret, "alice", *token, 999).ok());
  EXPECT_TRUE(VerifyAccountToken(secret, "alice", *token, 1000).ok());
  EXPECT_EQ(VerifyAccountToken(secret, "alice", *token, 1001).code(), Code::kPermissionDenied);
  EXPECT_EQ(VerifyAccountToken(secret, "bob", *token, 999).code(), Code::kPermissionDenied);
  EXPECT_EQ(VerifyAccountToken(crypto::RandomSecret(32), "alice", *token, 999).code(),
            Code::kPermissionDenied);
}

TEST(AccountToken, ChangedExpiryOrMacIsRejected) {
  crypto::Secret secret = crypto::RandomSecret(32);
  std::string token = IssueAccountToken(secret, "alice", 1000).value();
  std::string later = "9" + token;  // extends the expiry
  EXPECT_EQ(VerifyAccountToken(secret, "alice", later, 999).code(), Code::kPermissionDenied);
  std::string flipped = token;
  flipped.back() = flipped.back() == '0' ? '1' : '0';
  EXPECT_EQ(VerifyAccountToken(secret, "alice", flipped, 999).code(), Code::kPermissionDenied);
  for (const char* bad : {"", ".", "1000", "x.00", "1000.zz", "-1.00"}) {
    EXPECT_EQ(VerifyAccountToken(secret, "alice", bad, 0).code(), Code::kPermissionDenied) << bad;
  }
}

TEST(AccountToken, ShortSecretsAreRefused) {
  EXPECT_FALSE(IssueAccountToken(crypto::RandomSecret(16), "alice", 1).ok());
}

}  // namespace
}  // namespace chatvault::vault

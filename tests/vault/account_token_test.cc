#include <gtest/gtest.h>

#include "chatvault/crypto/random.h"
#include "chatvault/vault/account_token.h"
#include "support/status_matchers.h"

namespace chatvault::vault {
namespace {

using ::chatvault::testing::IsOk;

const std::string kSecretA(64, 'a');
const std::string kSecretB(64, 'b');

TokenKeys Keys(const std::string& text) {
  auto keys = TokenKeys::Parse(text, "keys");
  EXPECT_THAT(keys, IsOk());
  return std::move(keys).value();
}

TEST(AccountToken, ValidForItsAccountUntilExpiry) {
  TokenKeys keys = Keys("k1 " + kSecretA + "\n");
  auto token = keys.Issue("alice", 1000);
  ASSERT_THAT(token, IsOk());
  EXPECT_TRUE(token->starts_with("k1.1000.")) << *token;
  EXPECT_TRUE(keys.Verify("alice", *token, 999).ok());
  EXPECT_TRUE(keys.Verify("alice", *token, 1000).ok());
  EXPECT_EQ(keys.Verify("alice", *token, 1001).code(), Code::kPermissionDenied);
  EXPECT_EQ(keys.Verify("bob", *token, 999).code(), Code::kPermissionDenied);
  EXPECT_EQ(Keys("k1 " + kSecretB).Verify("alice", *token, 999).code(), Code::kPermissionDenied);
}

TEST(AccountToken, ChangedIdExpiryOrMacIsRejected) {
  TokenKeys keys = Keys("k1 " + kSecretA + "\nk2 " + kSecretA + "\n");
  std::string token = keys.Issue("alice", 1000).value();
  // The id is under the MAC: the same secret under another id does not take the token.
  std::string other_id = "k2" + token.substr(2);
  EXPECT_EQ(keys.Verify("alice", other_id, 999).code(), Code::kPermissionDenied);
  std::string later = "k1.91000" + token.substr(7);  // extends the expiry
  EXPECT_EQ(keys.Verify("alice", later, 999).code(), Code::kPermissionDenied);
  std::string flipped = token;
  flipped.back() = flipped.back() == '0' ? '1' : '0';
  EXPECT_EQ(keys.Verify("alice", flipped, 999).code(), Code::kPermissionDenied);
  for (const char* bad : {"", ".", "1000", "x.00", "1000.zz", "-1.00", "k1..00", "k!.1.00",
                          "k1.1.2.00", "k1.99999999999999999999."}) {
    EXPECT_EQ(keys.Verify("alice", bad, 0).code(), Code::kPermissionDenied) << bad;
  }
}

TEST(AccountToken, RotationKeepsOldTokensUntilTheirKeyIsRemoved) {
  TokenKeys before = Keys("old " + kSecretA + "\n");
  TokenKeys during = Keys("new " + kSecretB + "\nold " + kSecretA + "\n");
  TokenKeys after = Keys("new " + kSecretB + "\n");
  const std::string old_token = before.Issue("alice", 1000).value();
  const std::string new_token = during.Issue("alice", 1000).value();
  EXPECT_TRUE(new_token.starts_with("new.")) << new_token;  // the first key issues
  EXPECT_TRUE(during.Verify("alice", old_token, 0).ok());
  EXPECT_TRUE(during.Verify("alice", new_token, 0).ok());
  EXPECT_TRUE(after.Verify("alice", new_token, 0).ok());
  Status retired = after.Verify("alice", old_token, 0);
  EXPECT_EQ(retired.code(), Code::kPermissionDenied);
  EXPECT_NE(retired.message().find("does not know"), std::string::npos) << retired.message();
  EXPECT_TRUE(during.Issue("alice", 1000, "old").value().starts_with("old."));
  EXPECT_EQ(during.Issue("alice", 1000, "gone").status().code(), Code::kNotFound);
}

// Files written before key ids held one bare secret; they, and the tokens the chat service
// signs with them, stay valid.
TEST(AccountToken, ALegacyBareSecretStillWorks) {
  TokenKeys legacy = Keys(kSecretA + "\n");
  const std::string token = legacy.Issue("alice", 1000).value();
  EXPECT_EQ(token.find('.'), 4u) << token;  // "<expiry>.<mac>"
  EXPECT_TRUE(legacy.Verify("alice", token, 0).ok());
  // Next to a keyed key during a migration; the keyed one issues.
  TokenKeys both = Keys("k2 " + kSecretB + "\n" + kSecretA + "\n");
  EXPECT_TRUE(both.Verify("alice", token, 0).ok());
  EXPECT_TRUE(both.Issue("alice", 1000).value().starts_with("k2."));
  // The same secret with an id signs different tokens.
  EXPECT_EQ(Keys("k1 " + kSecretA).Verify("alice", token, 0).code(), Code::kPermissionDenied);
}

TEST(AccountToken, BadKeysFilesAreRefusedWithTheirLine) {
  struct Case {
    std::string text;
    std::string says;
  } const cases[] = {
      {"", "holds no token key"},
      {"# only a comment\n\n", "holds no token key"},
      {"k1 short\n", "line 1: the secret is shorter than 32 bytes"},
      {"k1 " + kSecretA + "\nk1 " + kSecretB + "\n", "line 2: the key id 'k1' repeats"},
      {kSecretA + "\n" + kSecretB + "\n", "line 2: only one key may be given without an id"},
      {"bad.id " + kSecretA + "\n", "line 1: a key id is"},
      {"k1 " + kSecretA + " extra\n", "line 1: expected '<id> <secret>'"},
      {std::string(17, 'k') + " " + kSecretA, "line 1: a key id is"},
  };
  for (const Case& c : cases) {
    auto keys = TokenKeys::Parse(c.text, "keys");
    ASSERT_FALSE(keys.ok()) << c.text;
    EXPECT_EQ(keys.status().code(), Code::kInvalidArgument);
    EXPECT_NE(keys.status().message().find(c.says), std::string::npos) << keys.status().message();
  }
  EXPECT_FALSE(TokenKeys::Single("k1", crypto::RandomSecret(16)).ok());
}

}  // namespace
}  // namespace chatvault::vault

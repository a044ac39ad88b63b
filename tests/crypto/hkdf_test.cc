#include "chatvault/crypto/hkdf.h"

#include <gtest/gtest.h>

#include "support/test_hex.h"

namespace chatvault::crypto {
namespace {
using chatvault::testing::Hex;

// RFC 5869 test case 1.
TEST(Hkdf, Rfc5869Case1) {
  Bytes ikm(22, 0x0b);
  Bytes salt = Hex("000102030405060708090a0b0c");
  Bytes info = Hex("f0f1f2f3f4f5f6f7f8f9");
  Secret prk = HkdfExtract(HashAlg::kSha256, salt, ikm);
  EXPECT_EQ(HexEncode(prk.view()), "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5");
  Secret okm = HkdfExpand(HashAlg::kSha256, prk.view(), info, 42);
  EXPECT_EQ(HexEncode(okm.view()),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
}

// RFC 5869 test case 3: empty salt and info.
TEST(Hkdf, Rfc5869Case3) {
  Bytes ikm(22, 0x0b);
  Secret okm = Hkdf(HashAlg::kSha256, ikm, {}, {}, 42);
  EXPECT_EQ(HexEncode(okm.view()),
            "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
}

TEST(Hkdf, SubkeysDependOnPurposeAndSalt) {
  Secret k = Secret::FromBytes(Bytes(32, 7));
  Bytes salt(16, 1);
  EXPECT_FALSE(DeriveSubkey(k, salt, "a").Equals(DeriveSubkey(k, salt, "b")));
  EXPECT_FALSE(DeriveSubkey(k, salt, "a").Equals(DeriveSubkey(k, Bytes(16, 2), "a")));
  EXPECT_TRUE(DeriveSubkey(k, salt, "a").Equals(DeriveSubkey(k, salt, "a")));
}

}  // namespace
}  // namespace chatvault::crypto

#include "chatvault/crypto/signature.h"

#include <gtest/gtest.h>

#include "support/test_hex.h"

namespace chatvault::crypto {
namespace {
using chatvault::testing::Hex;

SigningKey KeyFromHex(std::string_view seed_hex) {
  return SigningKey::FromSeed(Secret::FromBytes(Hex(seed_hex)));
}

// RFC 8032 section 7.1, TEST 1 (empty message) and TEST 2 (one byte).
TEST(Signature, Rfc8032Test1) {
  SigningKey key = KeyFromHex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
  EXPECT_EQ(HexEncode(key.verify_key()),
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
  const Signature sig = key.Sign({});
  EXPECT_EQ(HexEncode(sig),
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
            "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b");
  EXPECT_TRUE(VerifySignature(key.verify_key(), {}, sig));
}

TEST(Signature, Rfc8032Test2) {
  SigningKey key = KeyFromHex("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb");
  EXPECT_EQ(HexEncode(key.verify_key()),
            "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c");
  const Bytes message = Hex("72");
  EXPECT_EQ(HexEncode(key.Sign(message)),
            "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
            "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00");
}

TEST(Signature, AnyChangeFailsVerification) {
  SigningKey key = KeyFromHex("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb");
  SigningKey other = KeyFromHex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
  const Bytes message = ToBytes("chatvault challenge");
  Signature sig = key.Sign(message);
  EXPECT_TRUE(VerifySignature(key.verify_key(), message, sig));
  EXPECT_FALSE(VerifySignature(other.verify_key(), message, sig));
  EXPECT_FALSE(VerifySignature(key.verify_key(), ToBytes("chatvault challengE"), sig));
  sig[10] ^= 1;
  EXPECT_FALSE(VerifySignature(key.verify_key(), message, sig));
  EXPECT_FALSE(VerifySignature(key.verify_key(), message, ByteView(sig).first(63)));
}

}  // namespace
}  // namespace chatvault::crypto

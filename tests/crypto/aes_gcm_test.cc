#include "chatvault/crypto/aes_gcm.h"

#include <gtest/gtest.h>

#include "support/status_matchers.h"
#include "support/test_hex.h"

namespace chatvault::crypto {
namespace {
using chatvault::testing::Hex;
using ::chatvault::testing::IsOk;

// GCM specification (McGrew & Viega) test cases 13 and 14: zero key, zero 96-bit IV.
TEST(AesGcm, SpecVectors) {
  auto aead = AesGcm256::Create(Bytes(32, 0));
  ASSERT_THAT(aead, IsOk());
  Bytes iv(12, 0);
  EXPECT_EQ(HexEncode(aead->SealToBytes(iv, {}, {})), "530f8afbc74536b9a963b4f1c4cb738b");
  EXPECT_EQ(HexEncode(aead->SealToBytes(iv, {}, Bytes(16, 0))),
            "cea7403d4d606b6e074ec5d3baf39d18d0d1c8a799996bf0265b98b5d48ab919");
}

TEST(AesGcm, RoundTripAndTamper) {
  auto aead = AesGcm256::Create(Bytes(32, 9));
  ASSERT_THAT(aead, IsOk());
  Bytes nonce(12, 3), aad = ToBytes("header");
  Bytes msg = ToBytes("hello, world");
  Bytes ct = aead->SealToBytes(nonce, aad, msg);
  EXPECT_EQ(*aead->OpenFromBytes(nonce, aad, ct), msg);

  Bytes flipped = ct;
  flipped[0] ^= 1;
  EXPECT_EQ(aead->OpenFromBytes(nonce, aad, flipped).status().code(), Code::kCorrupted);
  EXPECT_EQ(aead->OpenFromBytes(nonce, ToBytes("other"), ct).status().code(), Code::kCorrupted);
  EXPECT_EQ(aead->OpenFromBytes(nonce, aad, ByteView(ct).first(5)).status().code(), Code::kTruncated);
}

TEST(AesGcm, SixteenByteNonce) {
  auto aead = AesGcm256::Create(Bytes(32, 1));
  ASSERT_THAT(aead, IsOk());
  Bytes nonce(16, 2);
  Bytes ct = aead->SealToBytes(nonce, {}, ToBytes("x"));
  EXPECT_EQ(*aead->OpenFromBytes(nonce, {}, ct), ToBytes("x"));
  EXPECT_FALSE(aead->OpenFromBytes(Bytes(12, 2), {}, ct).ok());
}

TEST(AesGcm, RejectsShortKey) { EXPECT_FALSE(AesGcm256::Create(Bytes(16, 0)).ok()); }

}  // namespace
}  // namespace chatvault::crypto

#include "chatvault/opaque/ksf.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include "support/status_matchers.h"
#include "support/test_hex.h"

namespace chatvault::opaque {
namespace {

using ::chatvault::testing::IsOk;

KsfParams SmallArgon(uint32_t lanes = 1) {
  return KsfParams{KsfAlgorithm::kArgon2id, 256, 1, lanes};
}

TEST(Ksf, ParamsRoundTrip) {
  const KsfParams p = KsfParams::Default();
  const Bytes wire = p.Serialize();
  ASSERT_EQ(wire.size(), KsfParams::kSize);
  auto back = KsfParams::Parse(wire);
  ASSERT_THAT(back, IsOk());
  EXPECT_EQ(back->algorithm, p.algorithm);
  EXPECT_EQ(back->memory_kib, p.memory_kib);
  EXPECT_EQ(back->iterations, p.iterations);
  EXPECT_EQ(back->parallelism, p.parallelism);
}

TEST(Ksf, ParseRejectsBadParams) {
  Bytes wire = KsfParams::Default().Serialize();
  EXPECT_EQ(KsfParams::Parse(ByteView(wire).first(12)).status().code(), Code::kInvalidArgument);
  Bytes unknown = wire;
  unknown[0] = 9;
  EXPECT_EQ(KsfParams::Parse(unknown).status().code(), Code::kUnsupported);
  EXPECT_FALSE((KsfParams{KsfAlgorithm::kArgon2id, 64, 0, 1}).Validate().ok());  // t = 0
  EXPECT_FALSE((KsfParams{KsfAlgorithm::kArgon2id, 64, 1, 0}).Validate().ok());  // p = 0
  EXPECT_FALSE((KsfParams{KsfAlgorithm::kArgon2id, 8, 1, 4}).Validate().ok());   // m < 8p
  EXPECT_FALSE((KsfParams{KsfAlgorithm::kIdentity, 1, 0, 0}).Validate().ok());
}

TEST(Ksf, IdentityReturnsInput) {
  auto out = Stretch(KsfParams::IdentityForTests(), AsBytes("abc"));
  ASSERT_THAT(out, IsOk());
  EXPECT_EQ(AsChars(out->view()), "abc");
}

// The result must depend on every parameter, so that raising one changes the derived keys (and
// a client using stale parameters fails to log in instead of silently matching).
TEST(Ksf, Argon2idDependsOnEveryParameter) {
  const Bytes msg(64, 0x42);
  auto base = Stretch(SmallArgon(), msg);
  ASSERT_THAT(base, IsOk());
  EXPECT_EQ(base->size(), 64u);
  auto again = Stretch(SmallArgon(), msg);
  ASSERT_THAT(again, IsOk());
  EXPECT_TRUE(base->Equals(*again));
  for (KsfParams p : {KsfParams{KsfAlgorithm::kArgon2id, 512, 1, 1},
                      KsfParams{KsfAlgorithm::kArgon2id, 256, 2, 1}, SmallArgon(2)}) {
    auto other = Stretch(p, msg);
    ASSERT_THAT(other, IsOk());
    EXPECT_FALSE(base->Equals(*other));
  }
}

// An independent implementation must agree: libsodium's Argon2id (one lane only) against
// libargon2, with the RFC 9807 salt of 16 zero bytes.
TEST(Ksf, Argon2idMatchesLibsodium) {
  ASSERT_GE(sodium_init(), 0);
  const Bytes msg(64, 0x17);
  const KsfParams p{KsfAlgorithm::kArgon2id, 1024, 2, 1};
  auto ours = Stretch(p, msg);
  ASSERT_THAT(ours, IsOk());
  uint8_t salt[crypto_pwhash_argon2id_SALTBYTES] = {};
  uint8_t theirs[64];
  ASSERT_EQ(crypto_pwhash_argon2id(theirs, sizeof theirs, reinterpret_cast<const char*>(msg.data()),
                                   msg.size(), salt, p.iterations, size_t{p.memory_kib} * 1024,
                                   crypto_pwhash_argon2id_ALG_ARGON2ID13),
            0);
  EXPECT_EQ(HexEncode(ours->view()), HexEncode(ByteView(theirs, sizeof theirs)));
}

}  // namespace
}  // namespace chatvault::opaque

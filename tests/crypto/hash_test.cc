#include "chatvault/crypto/hash.h"

#include <gtest/gtest.h>

#include "support/test_hex.h"

namespace chatvault::crypto {
namespace {
using chatvault::testing::Hex;

// RFC 4231 test case 2.
TEST(Hmac, Rfc4231Case2) {
  auto key = AsBytes("Jefe");
  auto data = AsBytes("what do ya want for nothing?");
  EXPECT_EQ(HexEncode(HmacSha256(key, data)),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(HexEncode(HmacSha512(key, data)),
            "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
            "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737");
}

// RFC 4231 test case 6: a 131-byte key, longer than the block, must be hashed first.
TEST(Hmac, LongKey) {
  Bytes key(131, 0xaa);
  auto data = AsBytes("Test Using Larger Than Block-Size Key - Hash Key First");
  EXPECT_EQ(HexEncode(HmacSha256(key, data)),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST(Sha, KnownAnswers) {
  EXPECT_EQ(HexEncode(Sha256(AsBytes("abc"))),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(HexEncode(Sha512(AsBytes("abc"))),
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
            "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
}

TEST(Sha, IncrementalMatchesOneShot) {
  Bytes data(100000);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 7);
  Hasher h(HashAlg::kSha256);
  h.Update(ByteView(data).first(333));
  h.Update(ByteView(data).subspan(333));
  EXPECT_EQ(h.Finish(), Sha256(data));
  HmacStream m(HashAlg::kSha512, AsBytes("k"));
  m.Update(ByteView(data).first(1));
  m.Update(ByteView(data).subspan(1));
  EXPECT_EQ(m.Finish(), HmacSha512(AsBytes("k"), data));
}

}  // namespace
}  // namespace chatvault::crypto

// Pins container version 1 byte for byte: a fixed key, salt and plaintext must give exactly this
// container, and each header field is checked against docs/FORMAT.md independently.
#include <gtest/gtest.h>

#include "chatvault/crypto/aes_gcm.h"
#include "chatvault/crypto/hash.h"
#include "chatvault/crypto/hkdf.h"
#include "format/container_test_util.h"
#include "support/status_matchers.h"

namespace chatvault::format {
namespace {

using ::chatvault::testing::IsOk;

Result<Bytes> KnownAnswerContainer() {
  const key::BackupKey key = testing::TestKey();  // 00 01 02 ... 1f
  internal::EncryptorInternals in;
  in.segment_log = 10;
  Bytes salt(32);
  for (size_t i = 0; i < salt.size(); ++i) salt[i] = static_cast<uint8_t>(0xa0 + i);
  in.salt = salt;
  Bytes plain(1500);
  for (size_t i = 0; i < plain.size(); ++i) plain[i] = static_cast<uint8_t>(i % 251);
  EncryptOptions o;
  o.purpose = "kat";
  o.compression = Compression::kNone;
  return internal::EncryptBytesWith(key, o, in, plain);
}

// Generated once from this implementation, then checked field by field below.
constexpr char kHeaderHex[] =
    "8943564155"
    "4c540a"  // magic
    "01"
    "00"
    "0a"
    "03"                                // version, flags, segment_log, purpose_len
    "1efa45f3deafa5f5d09a6d89a67b1922"  // key fingerprint
    "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"  // salt
    "6b6174"                                                            // "kat"
    "98d9fdb2f68bd0bd5314cd10cd86b28b";                                 // header_mac
constexpr char kContainerSha256[] =
    "d14b72740672db2de422d04a0edcd15f7239374715b30fdf4540b4c43bad4905";

TEST(KnownAnswer, ContainerIsPinned) {
  auto c = KnownAnswerContainer();
  ASSERT_THAT(c, IsOk());
  ASSERT_EQ(c->size(), 79u + (1024 + 16) + (476 + 16));
  EXPECT_EQ(HexEncode(ByteView(*c).first(79)), kHeaderHex);
  EXPECT_EQ(HexEncode(crypto::Sha256(*c)), kContainerSha256);
}

TEST(KnownAnswer, FieldsMatchTheSpecification) {
  auto c = KnownAnswerContainer();
  ASSERT_THAT(c, IsOk());
  const ByteView b(*c);
  const key::BackupKey key = testing::TestKey();
  EXPECT_EQ(HexEncode(b.first(8)), "89435641554c540a");
  EXPECT_EQ(b[8], 1);
  EXPECT_EQ(b[9], 0);
  EXPECT_EQ(b[10], 10);
  EXPECT_EQ(b[11], 3);
  EXPECT_EQ(Bytes(b.begin() + 12, b.begin() + 28), key.Fingerprint());
  const ByteView salt = b.subspan(28, 32);
  EXPECT_EQ(salt[0], 0xa0);
  EXPECT_EQ(salt[31], 0xbf);
  EXPECT_EQ(AsChars(b.subspan(60, 3)), "kat");

  // Keys straight from the spec's formula, not through format/ internals.
  crypto::Secret okm = crypto::Hkdf(crypto::HashAlg::kSha256, key.secret().view(), salt,
                                    AsBytes("chatvault/v1/kat"), 64);
  Bytes mac = crypto::HmacSha256(okm.view().subspan(32), b.first(63));
  mac.resize(16);
  EXPECT_EQ(Bytes(b.begin() + 63, b.begin() + 79), mac);

  auto aead = crypto::AesGcm256::Create(okm.view().first(32));
  ASSERT_THAT(aead, IsOk());
  const ByteView header = b.first(79);
  uint8_t nonce[12] = {0};
  auto seg0 = aead->OpenFromBytes(ByteView(nonce, 12), header, b.subspan(79, 1040));
  ASSERT_THAT(seg0, IsOk());
  EXPECT_EQ((*seg0)[250], 250);
  EXPECT_EQ((*seg0)[251], 0);
  nonce[10] = 1;  // index 1
  nonce[11] = 1;  // last
  auto seg1 = aead->OpenFromBytes(ByteView(nonce, 12), header, b.subspan(79 + 1040));
  ASSERT_THAT(seg1, IsOk());
  ASSERT_EQ(seg1->size(), 476u);
  EXPECT_EQ((*seg1)[0], 1024 % 251);
}

}  // namespace
}  // namespace chatvault::format

// crypt15 round trips, the on-disk layout, and decryption of a file assembled independently with
// the one-shot AES-GCM primitive, zlib and OpenSSL's MD5 (not with the code under test).
#include <gtest/gtest.h>
#include <zlib.h>

#include "chatvault/crypto/aes_gcm.h"
#include "chatvault/crypto/random.h"
#include "chatvault/whatsapp/crypt15.h"
#include "support/status_matchers.h"
#include "support/temp_dir.h"
#include "support/test_hex.h"
#include "whatsapp/test_files.h"

namespace chatvault::whatsapp {
namespace {

using chatvault::testing::Hex;
using ::chatvault::testing::IsOk;
using chatvault::testing::TempDir;
using namespace chatvault::whatsapp::testing;

TEST(Crypt15RoundTrip, DatabaseWithMd5) {
  TempDir dir;
  MakeDatabase(dir.Sub("msgstore.db"), 200, 100);
  const Bytes original = ReadAll(dir.Sub("msgstore.db"));

  auto enc = EncryptBackupFile(dir.Sub("msgstore.db"), dir.Sub("msgstore.db.crypt15"), TestKey(), {});
  ASSERT_THAT(enc, IsOk());
  const Bytes file = ReadAll(dir.Sub("msgstore.db.crypt15"));
  EXPECT_EQ(enc->output_bytes, file.size());

  // Layout: a 2-byte varint length (the feature flags push a msgstore header past 127 bytes), key
  // type 1, the IV message, ..., tag, MD5 of all before it.
  ASSERT_EQ(file[1], 0x01);
  const size_t body = 2 + 128 + (file[0] & 0x7f);
  EXPECT_EQ(HexEncode(ByteView(file).subspan(2, 6)), "08011a120a10");
  EXPECT_EQ(Md5(ByteView(file).first(file.size() - 16)), Bytes(file.end() - 16, file.end()));

  // The ciphertext decrypts to zlib level 1 (78 01), as WhatsApp writes it.
  auto aead = crypto::AesGcm256::Create(TestKey().FileKey().view());
  ASSERT_THAT(aead, IsOk());
  const ByteView iv = ByteView(file).subspan(8, 16);
  const ByteView ct_tag = ByteView(file).subspan(body, file.size() - body - 16);
  auto plain = aead->OpenFromBytes(iv, {}, ct_tag);
  ASSERT_THAT(plain, IsOk());
  EXPECT_EQ(HexEncode(ByteView(*plain).first(2)), "7801");

  DecryptOptions options;
  uint64_t last_done = 0, calls = 0;
  options.progress = [&](uint64_t done, uint64_t total) {
    EXPECT_GE(done, last_done);
    EXPECT_LE(done, total);
    last_done = done;
    ++calls;
  };
  auto dec = DecryptBackupFile(dir.Sub("msgstore.db.crypt15"), dir.Sub("out.db"), TestKey(), options);
  ASSERT_THAT(dec, IsOk());
  EXPECT_EQ(ReadAll(dir.Sub("out.db")), original);
  EXPECT_TRUE(dec->had_md5);
  EXPECT_EQ(dec->payload, Payload::kSqlite);
  EXPECT_EQ(dec->key_type, KeyType::kHsmControlled);
  EXPECT_EQ(dec->app_version, EncryptOptions().app_version);
  EXPECT_GT(calls, 0u);
  EXPECT_EQ(LeftoverTemps(dir.path()), 0);
}

TEST(Crypt15RoundTrip, DatabaseWithoutMd5AndSeveralChunks) {
  TempDir dir;
  // About 2.5 MB of incompressible payload: several 1 MiB pieces on both sides.
  MakeDatabase(dir.Sub("big.db"), 1200, 2000);
  EncryptOptions options;
  options.write_md5 = false;
  auto enc = EncryptBackupFile(dir.Sub("big.db"), dir.Sub("big.crypt15"), TestKey(), options);
  ASSERT_THAT(enc, IsOk());
  EXPECT_GT(enc->output_bytes, 2u << 20);
  auto dec = DecryptBackupFile(dir.Sub("big.crypt15"), dir.Sub("big.out"), TestKey(), {});
  ASSERT_THAT(dec, IsOk());
  EXPECT_FALSE(dec->had_md5);
  EXPECT_EQ(ReadAll(dir.Sub("big.out")), ReadAll(dir.Sub("big.db")));
}

TEST(Crypt15RoundTrip, ZipBackupHasNoMd5AndComesBackAsZip) {
  TempDir dir;
  Bytes zip = ToBytes("PK\x03\x04");
  Append(zip, crypto::RandomBytes(5000));
  WriteAll(dir.Sub("stickers.zip"), zip);
  auto enc = EncryptBackupFile(dir.Sub("stickers.zip"), dir.Sub("stickers.crypt15"), TestKey(), {});
  ASSERT_THAT(enc, IsOk());
  EXPECT_EQ(enc->payload, Payload::kZip);
  const Bytes file = ReadAll(dir.Sub("stickers.crypt15"));
  // Header, 5004 bytes of ciphertext (no compression layer), the tag; no MD5.
  ASSERT_LT(file[0], 0x80);
  EXPECT_EQ(file.size(), 1u + file[0] + zip.size() + 16);
  auto dec = DecryptBackupFile(dir.Sub("stickers.crypt15"), dir.Sub("stickers.out"), TestKey(), {});
  ASSERT_THAT(dec, IsOk());
  EXPECT_EQ(dec->payload, Payload::kZip);
  EXPECT_FALSE(dec->had_md5);
  EXPECT_EQ(ReadAll(dir.Sub("stickers.out")), zip);
}

TEST(Crypt15RoundTrip, FreshIvEveryTime) {
  TempDir dir;
  MakeDatabase(dir.Sub("a.db"), 5, 10);
  ASSERT_THAT(EncryptBackupFile(dir.Sub("a.db"), dir.Sub("1.crypt15"), TestKey(), {}), IsOk());
  ASSERT_THAT(EncryptBackupFile(dir.Sub("a.db"), dir.Sub("2.crypt15"), TestKey(), {}), IsOk());
  const Bytes one = ReadAll(dir.Sub("1.crypt15")), two = ReadAll(dir.Sub("2.crypt15"));
  EXPECT_NE(Bytes(one.begin() + 8, one.begin() + 24), Bytes(two.begin() + 8, two.begin() + 24));
}

// A crypt15 assembled by hand, the way the published tools write one.
TEST(Crypt15Interop, DecryptsIndependentlyBuiltFile) {
  TempDir dir;
  MakeDatabase(dir.Sub("src.db"), 50, 30);
  const Bytes db = ReadAll(dir.Sub("src.db"));
  uLongf zlen = compressBound(db.size());
  Bytes z(zlen);
  ASSERT_EQ(compress2(z.data(), &zlen, db.data(), db.size(), 1), Z_OK);
  z.resize(zlen);
  const Bytes iv = Hex("c395ee009cf8b68ac0ea760550f6559c");
  // A 98-byte-class header without feature flags: key type, IV, app version, JID suffix.
  const Bytes msg = Hex("0801" "1a12" "0a10" "c395ee009cf8b68ac0ea760550f6559c" "2211" "0a09" +
                        HexEncode(AsBytes("2.22.5.13")) + "1a02" + HexEncode(AsBytes("67")) + "2000");
  Bytes file;
  file.push_back(static_cast<uint8_t>(msg.size()));
  Append(file, msg);
  auto aead = crypto::AesGcm256::Create(Hex("17ec312152f6f84fd13a3ec6b9c9279aac60bb84405f0685d1fae27293757bc7"));
  ASSERT_THAT(aead, IsOk());
  Append(file, aead->SealToBytes(iv, {}, z));
  Append(file, Md5(file));
  WriteAll(dir.Sub("x.crypt15"), file);

  auto dec = DecryptBackupFile(dir.Sub("x.crypt15"), dir.Sub("x.db"), TestKey(), {});
  ASSERT_THAT(dec, IsOk());
  EXPECT_EQ(ReadAll(dir.Sub("x.db")), db);
  EXPECT_EQ(dec->app_version, "2.22.5.13");
  EXPECT_TRUE(dec->had_md5);
}

TEST(Crypt15Encrypt, RejectsInputsThatAreNotDatabases) {
  TempDir dir;
  WriteAll(dir.Sub("notes.txt"), AsBytes("just some text, not a database at all"));
  auto enc = EncryptBackupFile(dir.Sub("notes.txt"), dir.Sub("o.crypt15"), TestKey(), {});
  EXPECT_EQ(enc.status().code(), Code::kInvalidArgument);
  EXPECT_FALSE(std::filesystem::exists(dir.Sub("o.crypt15")));
  EXPECT_EQ(EncryptBackupFile(dir.Sub("missing.db"), dir.Sub("o.crypt15"), TestKey(), {}).status().code(),
            Code::kNotFound);
  EXPECT_EQ(LeftoverTemps(dir.path()), 0);
}

// Every header encrypt writes stays within what other readers take, and what would not is
// refused before anything is written (a 70,000-character version once made an unreadable file).
TEST(Crypt15Encrypt, AppVersionAndJidSuffixAreBoundedSoEveryFileOpensAgain) {
  TempDir dir;
  MakeDatabase(dir.Sub("msgstore.db"), 5, 5);
  EncryptOptions longest;
  longest.app_version = std::string(kMaxAppVersionLength, '9');
  longest.jid_suffix = "99";
  ASSERT_THAT(EncryptBackupFile(dir.Sub("msgstore.db"), dir.Sub("a.crypt15"), TestKey(), longest),
              IsOk());
  const Bytes file = ReadAll(dir.Sub("a.crypt15"));
  ASSERT_EQ(file[1], 0x01);  // a 2-byte length of 128..255: its first byte alone reads the same
  auto dec = DecryptBackupFile(dir.Sub("a.crypt15"), dir.Sub("a.db"), TestKey(), {});
  ASSERT_THAT(dec, IsOk());
  EXPECT_EQ(dec->app_version, longest.app_version);

  for (const std::string& version : {std::string(kMaxAppVersionLength + 1, '9'),
                                     std::string(70000, '9'), std::string("2.24\n.1")}) {
    EncryptOptions o;
    o.app_version = version;
    auto enc = EncryptBackupFile(dir.Sub("msgstore.db"), dir.Sub("b.crypt15"), TestKey(), o);
    EXPECT_EQ(enc.status().code(), Code::kInvalidArgument) << version.size();
  }
  for (const char* suffix : {"", "123", "x7"}) {
    EncryptOptions o;
    o.jid_suffix = suffix;
    auto enc = EncryptBackupFile(dir.Sub("msgstore.db"), dir.Sub("b.crypt15"), TestKey(), o);
    EXPECT_EQ(enc.status().code(), Code::kInvalidArgument) << suffix;
  }
  EXPECT_FALSE(std::filesystem::exists(dir.Sub("b.crypt15")));
  EXPECT_EQ(LeftoverTemps(dir.path()), 0);
}

// A file whose short header is preceded by its length and a 01 byte (as an independent encrypter
// writes it), assembled here without the code under test, opens; the MD5 covers the 01 byte.
TEST(Crypt15Interop, OneByteLengthAnd01LayoutOpens) {
  TempDir dir;
  MakeDatabase(dir.Sub("wa.db"), 30, 10);
  const Bytes db = ReadAll(dir.Sub("wa.db"));
  BackupPrefix prefix;
  prefix.key_type = KeyType::kHsmControlled;
  prefix.c15_iv = crypto::RandomBytes(16);
  BackupInfo info;
  info.app_version = "2.23.18.12";
  info.jid_suffix = "00";
  info.backup_version = 0;
  prefix.info = info;  // no feature flags: not a message database, header under 128 bytes
  Bytes file = SerializeHeader(prefix);
  ASSERT_LT(file[0], 0x80);
  file.insert(file.begin() + 1, 0x01);
  uLongf zlen = compressBound(db.size());
  Bytes z(zlen);
  ASSERT_EQ(compress2(z.data(), &zlen, db.data(), db.size(), 1), Z_OK);
  z.resize(zlen);
  auto aead = crypto::AesGcm256::Create(TestKey().FileKey().view());
  Append(file, aead->SealToBytes(prefix.c15_iv, {}, z));
  Append(file, Md5(file));
  WriteAll(dir.Sub("wa.db.crypt15"), file);

  auto dec = DecryptBackupFile(dir.Sub("wa.db.crypt15"), dir.Sub("out.db"), TestKey(), {});
  ASSERT_THAT(dec, IsOk());
  EXPECT_TRUE(dec->had_md5);
  EXPECT_EQ(ReadAll(dir.Sub("out.db")), db);
  // A wrong key on that layout is still told apart from damage.
  auto other = WhatsAppKey::FromRoot(Bytes(32, 1));
  auto wrong = DecryptBackupFile(dir.Sub("wa.db.crypt15"), dir.Sub("o2.db"), *other, {});
  EXPECT_EQ(wrong.status().code(), Code::kWrongKey);
}

}  // namespace
}  // namespace chatvault::whatsapp

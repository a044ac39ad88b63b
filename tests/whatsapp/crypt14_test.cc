// crypt14 and crypt12: the key file's last 32 bytes are the AES key; the header names the key file
// by its server salt and carries the IV. Files are assembled here independently of the reader.
#include <gtest/gtest.h>
#include <zlib.h>

#include "chatvault/crypto/aes_gcm.h"
#include "chatvault/crypto/random.h"
#include "chatvault/whatsapp/crypt15.h"
#include "support/status_matchers.h"
#include "support/temp_dir.h"
#include "whatsapp/test_files.h"

namespace chatvault::whatsapp {
namespace {

using ::chatvault::testing::IsOk;
using chatvault::testing::TempDir;
using namespace chatvault::whatsapp::testing;

struct Crypt14Fixture {
  Bytes payload;  // the 131-byte key
  Bytes file;
};

// The body of a crypt12 or crypt14 file: the database compressed with zlib (level 1), sealed
// with AES-256-GCM under the key file's last 32 bytes.
Bytes SealedDatabase(const Bytes& payload, ByteView iv, const Bytes& db) {
  uLongf zlen = compressBound(db.size());
  Bytes z(zlen);
  EXPECT_EQ(compress2(z.data(), &zlen, db.data(), db.size(), 1), Z_OK);
  z.resize(zlen);
  auto aead = crypto::AesGcm256::Create(ByteView(payload).last(32));
  return aead->SealToBytes(iv, {}, z);
}

// A key file's 131 bytes: cipher version 00 01, the key version, then the server salt, the
// Google id and the AES key, at random.
Bytes RandomKeyPayload(uint8_t key_version) {
  Bytes payload = crypto::RandomBytes(kCrypt14KeyPayloadSize);
  payload[0] = 0;
  payload[1] = 1;
  payload[2] = key_version;
  return payload;
}

Crypt14Fixture Build(const Bytes& db) {
  Crypt14Fixture f;
  f.payload = RandomKeyPayload(/*key_version=*/2);
  BackupPrefix prefix;
  prefix.key_type = KeyType::kWaProvided;
  prefix.c14 = C14Cipher{{0, 1}, ToBytes("2"), Bytes(f.payload.begin() + 3, f.payload.begin() + 35),
                         Bytes(f.payload.begin() + 35, f.payload.begin() + 51), crypto::RandomBytes(16)};
  BackupInfo info;
  info.app_version = "2.21.24.22";
  prefix.info = info;
  f.file = SerializeHeader(prefix);
  Append(f.file, SealedDatabase(f.payload, prefix.c14->iv, db));
  Append(f.file, Md5(f.file));
  return f;
}

// A database of 40 chats and its backup made by `build`, written into `dir` as `name`.
struct WrittenBackup {
  Bytes db;
  Crypt14Fixture backup;
};
WrittenBackup WriteBackup(const TempDir& dir, const std::string& name,
                          Crypt14Fixture (*build)(const Bytes&)) {
  MakeDatabase(dir.Sub("msgstore.db"), 40, 20);
  WrittenBackup written;
  written.db = ReadAll(dir.Sub("msgstore.db"));
  written.backup = build(written.db);
  WriteAll(dir.Sub(name), written.backup.file);
  return written;
}

// Writes the backup's key file as dir/key, loads it as a user's key file would be, and decrypts
// dir/<name> into dir/out.db with it.
Result<DecryptSummary> DecryptWithKeyFile(const TempDir& dir, const WrittenBackup& written,
                                          const std::string& name) {
  WriteAll(dir.Sub("key"), SerializeJavaByteArray(written.backup.payload));
  auto key = WhatsAppKey::Load(dir.Sub("key"));
  EXPECT_THAT(key, IsOk());
  if (!key.ok()) return key.status();
  EXPECT_EQ(key->kind(), KeyKind::kCrypt14);
  return DecryptBackupFile(dir.Sub(name), dir.Sub("out.db"), *key, {});
}

// What decrypting dir/<name> into dir/out.db answers with two keys that are not the backup's
// (made with `payload`): a key file with the same server salt but another AES key, where the
// intact MD5 tells a wrong key from a damaged file, and a crypt15 key.
struct WrongKeyAnswers {
  Status same_salt;
  Status crypt15;
};
WrongKeyAnswers DecryptWithWrongKeys(const TempDir& dir, const std::string& name,
                                     const Bytes& payload) {
  Bytes same_salt = payload;
  same_salt[130] ^= 1;
  auto same_salt_key = WhatsAppKey::FromCrypt14Payload(same_salt);
  auto crypt15_key = WhatsAppKey::FromRoot(Bytes(32, 9));
  return {
      DecryptBackupFile(dir.Sub(name), dir.Sub("out.db"), *same_salt_key, {}).status(),
      DecryptBackupFile(dir.Sub(name), dir.Sub("out.db"), *crypt15_key, {}).status(),
  };
}

TEST(Crypt14, DecryptsWithItsKeyFile) {
  TempDir dir;
  const WrittenBackup written = WriteBackup(dir, "msgstore.db.crypt14", Build);
  auto dec = DecryptWithKeyFile(dir, written, "msgstore.db.crypt14");
  ASSERT_THAT(dec, IsOk());
  EXPECT_EQ(dec->key_type, KeyType::kWaProvided);
  EXPECT_EQ(ReadAll(dir.Sub("out.db")), written.db);
}

TEST(Crypt14, KeyFileOfAnotherBackupIsAWrongKey) {
  TempDir dir;
  const Crypt14Fixture f = WriteBackup(dir, "b.crypt14", Build).backup;
  Bytes other = f.payload;
  other[10] ^= 1;  // another server salt
  auto key = WhatsAppKey::FromCrypt14Payload(other);
  ASSERT_THAT(key, IsOk());
  auto dec = DecryptBackupFile(dir.Sub("b.crypt14"), dir.Sub("out.db"), *key, {});
  EXPECT_EQ(dec.status().code(), Code::kWrongKey);
  const WrongKeyAnswers wrong = DecryptWithWrongKeys(dir, "b.crypt14", f.payload);
  EXPECT_EQ(wrong.same_salt.code(), Code::kWrongKey) << wrong.same_salt.ToString();
  EXPECT_EQ(wrong.crypt15.code(), Code::kWrongKey);
  EXPECT_FALSE(std::filesystem::exists(dir.Sub("out.db")));
}

// crypt12, as the public descriptions lay it out: a fixed 67-byte header (cipher version 00 01,
// key version, server salt, Google id, IV), zlib in AES-256-GCM, the tag, the MD5 of everything
// before it, then 4 bytes with the end of the phone number.
Crypt14Fixture Build12(const Bytes& db) {
  Crypt14Fixture f;
  f.payload = RandomKeyPayload(/*key_version=*/1);
  const Bytes iv = crypto::RandomBytes(16);
  f.file = Bytes(f.payload.begin(), f.payload.begin() + 51);  // versions, salt, Google id
  Append(f.file, iv);
  Append(f.file, SealedDatabase(f.payload, iv, db));
  Append(f.file, Md5(f.file));
  Append(f.file, AsBytes("-967"));
  return f;
}

TEST(Crypt12, DecryptsWithTheCrypt14KeyFile) {
  TempDir dir;
  const WrittenBackup written = WriteBackup(dir, "msgstore.db.crypt12", Build12);
  auto dec = DecryptWithKeyFile(dir, written, "msgstore.db.crypt12");
  ASSERT_THAT(dec, IsOk());
  EXPECT_EQ(dec->format, BackupFormat::kCrypt12);
  EXPECT_TRUE(dec->had_md5);
  EXPECT_EQ(dec->input_bytes, written.backup.file.size());
  EXPECT_EQ(ReadAll(dir.Sub("out.db")), written.db);
}

TEST(Crypt12, WrongKeysAndCutFilesAreToldApart) {
  TempDir dir;
  const Crypt14Fixture f = WriteBackup(dir, "b.crypt12", Build12).backup;
  const WrongKeyAnswers wrong = DecryptWithWrongKeys(dir, "b.crypt12", f.payload);
  EXPECT_EQ(wrong.same_salt.code(), Code::kWrongKey);
  EXPECT_EQ(wrong.crypt15.code(), Code::kWrongKey);
  EXPECT_NE(wrong.crypt15.message().find("crypt12"), std::string::npos) << wrong.crypt15.ToString();
  // Cut mid-way, and cut inside the header.
  auto key = WhatsAppKey::FromCrypt14Payload(f.payload);
  WriteAll(dir.Sub("cut.crypt12"), ByteView(f.file).first(f.file.size() / 2));
  EXPECT_EQ(DecryptBackupFile(dir.Sub("cut.crypt12"), dir.Sub("out.db"), *key, {}).status().code(),
            Code::kTruncated);
  WriteAll(dir.Sub("head.crypt12"), ByteView(f.file).first(40));
  EXPECT_EQ(DecryptBackupFile(dir.Sub("head.crypt12"), dir.Sub("out.db"), *key, {}).status().code(),
            Code::kTruncated);
  EXPECT_FALSE(std::filesystem::exists(dir.Sub("out.db")));
  EXPECT_EQ(LeftoverTemps(dir.path()), 0);
}

}  // namespace
}  // namespace chatvault::whatsapp

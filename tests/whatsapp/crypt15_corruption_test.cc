// Every way a backup can fail to open gets its own error, and no output (not even a partial or
// temporary file) is left behind.
#include <gtest/gtest.h>

#include "chatvault/whatsapp/crypt15.h"
#include "support/status_matchers.h"
#include "support/temp_dir.h"
#include "support/test_hex.h"
#include "whatsapp/test_files.h"

namespace chatvault::whatsapp {
namespace {

using ::chatvault::testing::IsOk;
using chatvault::testing::TempDir;
using namespace chatvault::whatsapp::testing;

class Crypt15Corruption : public ::testing::Test {
 protected:
  void SetUp() override {
    MakeDatabase(dir_.Sub("msgstore.db"), 300, 40);
    auto enc = EncryptBackupFile(dir_.Sub("msgstore.db"), dir_.Sub("good.crypt15"), TestKey(), {});
    ASSERT_THAT(enc, IsOk());
    good_ = ReadAll(dir_.Sub("good.crypt15"));
  }

  // Writes `file`, decrypts it with `key` and checks that nothing was written.
  Status Decrypt(const Bytes& file, const WhatsAppKey& key) {
    WriteAll(dir_.Sub("bad.crypt15"), file);
    auto r = DecryptBackupFile(dir_.Sub("bad.crypt15"), dir_.Sub("out.db"), key, {});
    if (!r.ok()) {
      EXPECT_FALSE(std::filesystem::exists(dir_.Sub("out.db")));
      EXPECT_EQ(LeftoverTemps(dir_.path()), 0);
      return r.status();
    }
    return OkStatus();
  }

  static bool Mentions(const Status& s, const std::string& word) {
    return s.message().find(word) != std::string::npos;
  }

  TempDir dir_;
  Bytes good_;
};

TEST_F(Crypt15Corruption, GoodFileOpens) { EXPECT_THAT(Decrypt(good_, TestKey()), IsOk()); }

TEST_F(Crypt15Corruption, WrongKey) {
  Bytes other(32, 0x42);
  Status s = Decrypt(good_, std::move(WhatsAppKey::FromRoot(other)).value());
  EXPECT_EQ(s.code(), Code::kWrongKey) << s.ToString();
}

TEST_F(Crypt15Corruption, TruncatedBody) {
  // (Cutting exactly the 16 MD5 bytes leaves a valid checksum-less file, see MissingMd5.)
  for (size_t cut : {1u, 15u, 17u, 20u, 32u, 100u, 1000u}) {
    Status s = Decrypt(Bytes(good_.begin(), good_.end() - cut), TestKey());
    EXPECT_EQ(s.code(), Code::kTruncated) << "cut " << cut << ": " << s.ToString();
  }
}

TEST_F(Crypt15Corruption, TruncatedHeader) {
  for (size_t keep : {0u, 1u, 2u, 60u, 131u, 150u}) {
    Status s = Decrypt(Bytes(good_.begin(), good_.begin() + keep), TestKey());
    EXPECT_EQ(s.code(), Code::kTruncated) << "keep " << keep << ": " << s.ToString();
  }
}

// Without its MD5 a database backup still authenticates through its GCM tag, so it opens, and the
// summary says that there was no checksum.
TEST_F(Crypt15Corruption, MissingMd5StillAuthenticates) {
  WriteAll(dir_.Sub("nomd5.crypt15"), ByteView(good_).first(good_.size() - 16));
  auto r = DecryptBackupFile(dir_.Sub("nomd5.crypt15"), dir_.Sub("nomd5.db"), TestKey(), {});
  ASSERT_THAT(r, IsOk());
  EXPECT_FALSE(r->had_md5);
  EXPECT_EQ(ReadAll(dir_.Sub("nomd5.db")), ReadAll(dir_.Sub("msgstore.db")));
}

TEST_F(Crypt15Corruption, BadMd5) {
  Bytes file = good_;
  file.back() ^= 0x01;
  Status s = Decrypt(file, TestKey());
  EXPECT_EQ(s.code(), Code::kCorrupted) << s.ToString();
  EXPECT_TRUE(Mentions(s, "MD5 checksum")) << s.ToString();
  EXPECT_FALSE(Mentions(s, "tag does not verify")) << s.ToString();
}

TEST_F(Crypt15Corruption, BadTag) {
  Bytes file = good_;
  file[file.size() - 20] ^= 0x80;  // inside the tag
  Status s = Decrypt(file, TestKey());
  EXPECT_EQ(s.code(), Code::kCorrupted) << s.ToString();
  EXPECT_TRUE(Mentions(s, "tag does not verify")) << s.ToString();
}

TEST_F(Crypt15Corruption, FlippedCiphertextBits) {
  for (size_t pos : {size_t{131}, size_t{200}, good_.size() / 2, good_.size() - 40}) {
    Bytes file = good_;
    file[pos] ^= 0x04;
    Status s = Decrypt(file, TestKey());
    EXPECT_FALSE(s.ok()) << pos;
    EXPECT_NE(s.code(), Code::kWrongKey) << pos << ": " << s.ToString();
  }
}

TEST_F(Crypt15Corruption, FlippedIvIsNotAWrongKey) {
  Bytes file = good_;
  file[10] ^= 0x01;  // inside the IV: the MD5 no longer matches either
  Status s = Decrypt(file, TestKey());
  EXPECT_EQ(s.code(), Code::kCorrupted) << s.ToString();
}

TEST_F(Crypt15Corruption, UnknownKeyType) {
  Bytes file = good_;
  ASSERT_EQ(file[3], 0x01);  // key_type value
  file[3] = 0x07;
  Status s = Decrypt(file, TestKey());
  EXPECT_EQ(s.code(), Code::kUnsupported) << s.ToString();
  EXPECT_TRUE(Mentions(s, "key type 7")) << s.ToString();
}

TEST_F(Crypt15Corruption, NotABackupAtAll) {
  Status s = Decrypt(ReadAll(dir_.Sub("msgstore.db")), TestKey());
  EXPECT_FALSE(s.ok());
}

TEST_F(Crypt15Corruption, Crypt14KeyForCrypt15Backup) {
  auto c14 = WhatsAppKey::FromCrypt14Payload(Bytes(kCrypt14KeyPayloadSize, 3));
  ASSERT_THAT(c14, IsOk());
  Status s = Decrypt(good_, *c14);
  EXPECT_EQ(s.code(), Code::kWrongKey) << s.ToString();
  EXPECT_TRUE(Mentions(s, "crypt14")) << s.ToString();
}

TEST_F(Crypt15Corruption, ExistingOutputSurvivesAFailure) {
  WriteAll(dir_.Sub("out.db"), AsBytes("precious"));
  Bytes file = good_;
  file.back() ^= 1;
  WriteAll(dir_.Sub("bad.crypt15"), file);
  auto r = DecryptBackupFile(dir_.Sub("bad.crypt15"), dir_.Sub("out.db"), TestKey(), {});
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(ReadAll(dir_.Sub("out.db")), ToBytes("precious"));
}

}  // namespace
}  // namespace chatvault::whatsapp

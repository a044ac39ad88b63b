// Known-answer values for WhatsApp's key derivation, and the key file formats.
#include <gtest/gtest.h>

#include <fstream>

#include "chatvault/whatsapp/whatsapp_key.h"
#include "support/status_matchers.h"
#include "support/temp_dir.h"
#include "support/test_hex.h"

namespace chatvault::whatsapp {
namespace {

using chatvault::testing::Hex;
using ::chatvault::testing::IsOk;

constexpr char kRootHex[] = "6730a595a1484d0c39c101dc0ac82ec5e401bb6f0e1b8ee2dc104a6b3687f017";

crypto::Secret Root() { return crypto::Secret::FromBytes(Hex(kRootHex)); }

// Values published with wa-crypt-tools' test key and checked against its sample backup.
TEST(WhatsAppKeyDerivation, KnownAnswers) {
  EXPECT_EQ(HexEncode(DeriveFromRoot(Root(), "backup encryption").view()),
            "17ec312152f6f84fd13a3ec6b9c9279aac60bb84405f0685d1fae27293757bc7");
  EXPECT_EQ(HexEncode(DeriveFromRoot(Root(), "metadata encryption").view()),
            "7cbf5f4dbaf010dffc38d760b98900b5ee5086a40308f28abdfa775c52fabe69");
  EXPECT_EQ(HexEncode(DeriveFromRoot(Root(), "metadata authentication").view()),
            "9225f36527dd531ecfa5fc1f2795382f6765308bfc9b31affd222844d7b45bad");
}

TEST(WhatsAppKeyDerivation, FileKeyOfCrypt15IsBackupEncryption) {
  auto key = WhatsAppKey::Load(kRootHex);
  ASSERT_THAT(key, IsOk());
  EXPECT_EQ(key->kind(), KeyKind::kCrypt15);
  EXPECT_EQ(HexEncode(key->FileKey().view()),
            "17ec312152f6f84fd13a3ec6b9c9279aac60bb84405f0685d1fae27293757bc7");
}

TEST(WhatsAppKeyFile, EncryptedBackupKeyLayout) {
  auto key = WhatsAppKey::FromRoot(Hex(kRootHex));
  ASSERT_THAT(key, IsOk());
  const Bytes file = key->ToKeyFile();
  ASSERT_EQ(file.size(), 59u);
  EXPECT_EQ(HexEncode(ByteView(file).first(27)),
            "aced0005757200025b42acf317f8060854e00200007870" "00000020");
  EXPECT_EQ(HexEncode(ByteView(file).last(32)), kRootHex);
  auto back = WhatsAppKey::FromKeyFile(file);
  ASSERT_THAT(back, IsOk());
  EXPECT_TRUE(back->root().Equals(key->root()));
}

TEST(WhatsAppKeyFile, RejectsBadFiles) {
  Bytes file = WhatsAppKey::FromRoot(Hex(kRootHex))->ToKeyFile();
  Bytes shortened(file.begin(), file.end() - 1);
  EXPECT_EQ(WhatsAppKey::FromKeyFile(shortened).status().code(), Code::kInvalidArgument);
  Bytes bad_magic = file;
  bad_magic[1] ^= 1;
  EXPECT_EQ(WhatsAppKey::FromKeyFile(bad_magic).status().code(), Code::kInvalidArgument);
  // A serialized byte[] of a length no WhatsApp key has.
  EXPECT_EQ(WhatsAppKey::FromKeyFile(SerializeJavaByteArray(Bytes(48, 1))).status().code(),
            Code::kUnsupported);
}

TEST(WhatsAppKeyLoad, AcceptsDigitsKeyFileAndTextFile) {
  chatvault::testing::TempDir dir;
  const std::string bin = dir.Sub("encrypted_backup.key");
  {
    Bytes file = WhatsAppKey::FromRoot(Hex(kRootHex))->ToKeyFile();
    std::ofstream(bin, std::ios::binary).write(reinterpret_cast<const char*>(file.data()), file.size());
  }
  const std::string text = dir.Sub("key.txt");
  std::ofstream(text) << "6730 a595 a148 4d0c 39c1 01dc 0ac8 2ec5\n"
                         "e401 bb6f 0e1b 8ee2 dc10 4a6b 3687 f017\n";
  for (const std::string& arg : {std::string(kRootHex), bin, text,
                                 std::string("6730A595A1484D0C39C101DC0AC82EC5E401BB6F0E1B8EE2DC104A6B3687F017")}) {
    auto key = WhatsAppKey::Load(arg);
    ASSERT_THAT(key, IsOk()) << arg << ": " << key.status().ToString();
    EXPECT_EQ(HexEncode(key->root().view()), kRootHex);
  }
  EXPECT_EQ(WhatsAppKey::Load("abcd").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(WhatsAppKey::Load(dir.Sub("missing.key")).status().code(), Code::kInvalidArgument);
}

TEST(WhatsAppKeyLoad, Crypt14KeyFile) {
  Bytes payload(kCrypt14KeyPayloadSize);
  for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<uint8_t>(i);
  auto key = WhatsAppKey::FromKeyFile(SerializeJavaByteArray(payload));
  ASSERT_THAT(key, IsOk());
  EXPECT_EQ(key->kind(), KeyKind::kCrypt14);
  EXPECT_EQ(key->server_salt(), Bytes(payload.begin() + 3, payload.begin() + 35));
  // crypt14 uses the key file's last 32 bytes directly, without derivation.
  EXPECT_EQ(HexEncode(key->FileKey().view()), HexEncode(ByteView(payload).last(32)));
  EXPECT_EQ(key->ToKeyFile(), SerializeJavaByteArray(payload));
}

}  // namespace
}  // namespace chatvault::whatsapp

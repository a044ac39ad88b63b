// The BackupPrefix header: the layout of the published sample, strict bounds, unknown fields.
#include <gtest/gtest.h>

#include "chatvault/whatsapp/backup_prefix.h"
#include "support/status_matchers.h"
#include "support/test_hex.h"

namespace chatvault::whatsapp {
namespace {

using chatvault::testing::Hex;
using ::chatvault::testing::IsOk;

// The sample msgstore.db.crypt15's header as described in docs/WHATSAPP.md: key type 1, the IV,
// app version 2.22.5.13, JID suffix 67, backup version 0 and feature flags 5..37.
BackupPrefix SamplePrefix() {
  BackupPrefix p;
  p.key_type = KeyType::kHsmControlled;
  p.c15_iv = Hex("c395ee009cf8b68ac0ea760550f6559c");
  BackupInfo info;
  info.app_version = "2.22.5.13";
  info.jid_suffix = "67";
  info.backup_version = 0;
  for (uint32_t f = 5; f <= 37; ++f) info.features[f] = (f % 3) != 0;
  p.info = info;
  return p;
}

TEST(BackupPrefix, SampleLayoutMatchesWhatsApp) {
  const Bytes header = SerializeHeader(SamplePrefix());
  // 129-byte message behind a two-byte varint: the ciphertext starts at offset 131.
  ASSERT_EQ(header.size(), 131u);
  EXPECT_EQ(HexEncode(ByteView(header).first(8)), "810108011a120a10");
  EXPECT_EQ(HexEncode(ByteView(header).subspan(8, 16)), "c395ee009cf8b68ac0ea760550f6559c");
  EXPECT_EQ(HexEncode(ByteView(header).subspan(24, 2)), "2269");  // info, 105 bytes
  EXPECT_EQ(HexEncode(ByteView(header).subspan(26, 11)), "0a09" + HexEncode(AsBytes("2.22.5.13")));
  EXPECT_EQ(HexEncode(ByteView(header).last(3)), "a80201");  // f_37 = true

  auto parsed = ParseHeader(header);
  ASSERT_THAT(parsed, IsOk());
  EXPECT_EQ(parsed->body_offset, 131u);
  EXPECT_EQ(parsed->prefix.key_type, KeyType::kHsmControlled);
  EXPECT_EQ(HexEncode(parsed->prefix.c15_iv), "c395ee009cf8b68ac0ea760550f6559c");
  ASSERT_TRUE(parsed->prefix.info.has_value());
  EXPECT_EQ(parsed->prefix.info->app_version, "2.22.5.13");
  EXPECT_EQ(parsed->prefix.info->jid_suffix, "67");
  EXPECT_EQ(parsed->prefix.info->backup_version, 0);
  EXPECT_EQ(parsed->prefix.info->features, SamplePrefix().info->features);
}

TEST(BackupPrefix, ShortHeaderUsesOneByteLength) {
  BackupPrefix p = SamplePrefix();
  p.info->features.clear();
  const Bytes header = SerializeHeader(p);
  EXPECT_LT(header[0], 0x80);
  EXPECT_EQ(header.size(), header[0] + 1u);
  auto parsed = ParseHeader(header);
  ASSERT_THAT(parsed, IsOk());
  EXPECT_EQ(parsed->body_offset, header.size());
}

TEST(BackupPrefix, EveryTruncationIsReportedAsTruncated) {
  const Bytes header = SerializeHeader(SamplePrefix());
  for (size_t n = 0; n < header.size(); ++n) {
    auto parsed = ParseHeader(ByteView(header).first(n));
    ASSERT_FALSE(parsed.ok()) << n;
    EXPECT_EQ(parsed.status().code(), Code::kTruncated) << n;
  }
}

TEST(BackupPrefix, UnknownKeyTypeIsUnsupported) {
  // key_type = 2, then a crypt15 IV.
  const Bytes header = Hex("16" "0802" "1a12" "0a10" "00112233445566778899aabbccddeeff");
  auto parsed = ParseHeader(header);
  EXPECT_EQ(parsed.status().code(), Code::kUnsupported);
  EXPECT_NE(parsed.status().message().find("key type 2"), std::string::npos);
}

TEST(BackupPrefix, UnknownFieldsAreSkipped) {
  // key_type 1, an unknown varint field 9, an unknown fixed32 field 10, the IV, an unknown
  // length-delimited field 15.
  const Bytes header = Hex("1f" "0801" "4801" "5501020304" "1a12" "0a10" "00112233445566778899aabbccddeeff" "7a00");
  auto parsed = ParseHeader(header);
  ASSERT_THAT(parsed, IsOk());
  EXPECT_EQ(HexEncode(parsed->prefix.c15_iv), "00112233445566778899aabbccddeeff");
}

TEST(BackupPrefix, MalformedHeadersAreCorrupted) {
  const char* cases[] = {
      "00",                                  // empty message
      "ffffffffffffffffffff01",              // varint length longer than 10 bytes
      "03" "0801" "0b",                      // group wire type
      "02" "0001",                           // field number 0
      "04" "0801" "1a05",                    // embedded length past the message end
      "16" "0801" "1a12" "0a10" "00112233445566778899aabbccddee00",  // ok, reference below
      "08" "0801" "1a04" "0a02" "0011",      // IV of 2 bytes
      "02" "0801",                           // crypt15 without IV
      "02" "0800",                           // crypt14 without cipher data
      "83808004",                            // absurd header length
  };
  for (const char* hex : cases) {
    auto parsed = ParseHeader(Hex(hex));
    if (std::string(hex).find("ddee00") != std::string::npos) {
      EXPECT_THAT(parsed, IsOk()) << hex;
      continue;
    }
    ASSERT_FALSE(parsed.ok()) << hex;
    EXPECT_EQ(parsed.status().code(), Code::kCorrupted) << hex << ": " << parsed.status().ToString();
  }
}

TEST(BackupPrefix, Crypt14CipherFields) {
  BackupPrefix p;
  p.key_type = KeyType::kWaProvided;
  p.c14 = C14Cipher{Hex("0001"), ToBytes("2"), Bytes(32, 7), Bytes(16, 8), Bytes(16, 9)};
  auto parsed = ParseHeader(SerializeHeader(p));
  ASSERT_THAT(parsed, IsOk());
  EXPECT_EQ(parsed->prefix.key_type, KeyType::kWaProvided);
  ASSERT_TRUE(parsed->prefix.c14.has_value());
  EXPECT_EQ(parsed->prefix.c14->server_salt, Bytes(32, 7));
  EXPECT_EQ(parsed->prefix.c14->iv, Bytes(16, 9));
  EXPECT_EQ(parsed->prefix.c14->key_version, ToBytes("2"));
}

// Some encrypters write the length as one byte and then a 01 byte (read by some tools as a
// "feature table" flag) even when the header is under 128 bytes. A varint-length message never
// starts with 01 (field 0), so that layout is accepted as such.
TEST(BackupPrefix, OneByteLengthFollowedBy01IsAccepted) {
  BackupPrefix p = SamplePrefix();
  p.info->features.clear();
  Bytes header = SerializeHeader(p);
  ASSERT_LT(header[0], 0x80);
  header.insert(header.begin() + 1, 0x01);
  auto parsed = ParseHeader(header);
  ASSERT_THAT(parsed, IsOk());
  EXPECT_EQ(parsed->body_offset, header.size());
  EXPECT_EQ(parsed->format, BackupFormat::kCrypt15);
  EXPECT_EQ(parsed->prefix.c15_iv, p.c15_iv);
  EXPECT_EQ(parsed->prefix.info->app_version, "2.22.5.13");
  // Without the 01 the same file is still read as before.
  header.erase(header.begin() + 1);
  EXPECT_THAT(ParseHeader(header), IsOk());
}

// The cheapest hostile headers: a 01 layout whose length runs past the file, or covers garbage,
// and lengths no backup has. None may read past the buffer (ASan) or be taken for a header.
TEST(BackupPrefix, HostileLengthsAreRefused) {
  struct Case {
    const char* hex;
    Code code;
  } cases[] = {
      {"7f01"
       "0801"
       "1a12",
       Code::kTruncated},  // 127 announced, 4 present
      {"0501"
       "ffffffffff",
       Code::kCorrupted},  // 5 bytes of garbage
      {"0201"
       "0801",
       Code::kCorrupted},  // crypt15 without IV
      {"0101"
       "00",
       Code::kCorrupted},                        // field 0
      {"818004", Code::kCorrupted},              // 65537 bytes: over the limit
      {"ffffffffffffffff7f", Code::kCorrupted},  // 2^63-ish
      {"0002", Code::kCorrupted},                // zero length, not crypt12's 00 01
  };
  for (const Case& c : cases) {
    auto parsed = ParseHeader(Hex(c.hex));
    ASSERT_FALSE(parsed.ok()) << c.hex;
    EXPECT_EQ(parsed.status().code(), c.code) << c.hex << ": " << parsed.status().ToString();
  }
}

// crypt12's fixed header: cipher version 00 01, key version, salt, Google id, IV.
TEST(BackupPrefix, Crypt12FixedHeader) {
  Bytes head =
      Hex("0001"
          "01");
  Append(head, Bytes(32, 7));
  Append(head, Bytes(16, 8));
  Append(head, Bytes(16, 9));
  head.resize(head.size() + 40, 0xaa);  // ciphertext after it
  auto parsed = ParseHeader(head);
  ASSERT_THAT(parsed, IsOk());
  EXPECT_EQ(parsed->format, BackupFormat::kCrypt12);
  EXPECT_EQ(parsed->body_offset, kCrypt12HeaderSize);
  EXPECT_EQ(parsed->trailer_size, kCrypt12TrailerSize);
  EXPECT_EQ(parsed->prefix.key_type, KeyType::kWaProvided);
  EXPECT_EQ(parsed->prefix.c14->server_salt, Bytes(32, 7));
  EXPECT_EQ(parsed->prefix.c14->iv, Bytes(16, 9));
  for (size_t n = 2; n < kCrypt12HeaderSize; n += 13) {
    EXPECT_EQ(ParseHeader(ByteView(head).first(n)).status().code(), Code::kTruncated) << n;
  }
}

TEST(BackupPrefix, EncryptLimitsKeepTheHeaderWithin255Bytes) {
  BackupPrefix p = SamplePrefix();
  p.info->app_version = std::string(kMaxAppVersionLength, '9');
  p.info->jid_suffix = "99";
  p.info->backup_version = -1;  // the longest varint an int32 gives
  for (uint32_t f = kFirstFeatureField; f <= kLastFeatureField; ++f) p.info->features[f] = true;
  const Bytes header = SerializeHeader(p);
  auto parsed = ParseHeader(header);
  ASSERT_THAT(parsed, IsOk());
  EXPECT_LE(header.size() - 2, kMaxWrittenHeaderSize);

  EXPECT_THAT(CheckAppVersion(std::string(kMaxAppVersionLength, '9')), IsOk());
  EXPECT_THAT(CheckAppVersion("2.24.24.78"), IsOk());
  EXPECT_THAT(CheckAppVersion("2.24.1-beta_2"), IsOk());
  for (std::string bad :
       {std::string(), std::string(kMaxAppVersionLength + 1, '1'), std::string(70000, '1'),
        std::string("2.24 .1"), std::string("2.\n4"), std::string("2.4\0", 4)}) {
    EXPECT_EQ(CheckAppVersion(bad).code(), Code::kInvalidArgument) << bad.size();
  }
  EXPECT_NE(CheckAppVersion(std::string(200, '1')).message().find("255"), std::string::npos);
  EXPECT_THAT(CheckJidSuffix("07"), IsOk());
  for (const char* bad : {"", "7", "123", "ab", "0x", "+4"}) {
    EXPECT_EQ(CheckJidSuffix(bad).code(), Code::kInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace chatvault::whatsapp

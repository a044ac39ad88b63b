// Every way a container can be damaged is detected, and each is reported with its own code and
// sentence (docs/FORMAT.md, "How a reader tells the failures apart").
#include <gtest/gtest.h>

#include "chatvault/crypto/aes_gcm.h"
#include "format/container_test_util.h"
#include "format/header.h"
#include "support/status_matchers.h"

namespace chatvault::format {
namespace {

using testing::Decrypt;
using testing::Encrypt;
using testing::RandomData;
using testing::TestKey;

using ::chatvault::testing::IsOk;

constexpr size_t kSeg = 1024;                        // Small() segments
constexpr size_t kUnit = kSeg + internal::kTagSize;  // one sealed segment
const size_t kHeader = internal::HeaderSize(5);      // purpose "chunk"

// 4 full segments and a final one of 904 bytes.
class Corruption : public ::testing::Test {
 protected:
  void SetUp() override {
    plain_ = RandomData(4 * kSeg + 904, 5);
    auto c = Encrypt(plain_);
    ASSERT_THAT(c, IsOk());
    good_ = *c;
    ASSERT_EQ(good_.size(), kHeader + 4 * kUnit + 904 + 16);
  }
  size_t SegStart(size_t i) const { return kHeader + i * kUnit; }
  ByteView SegBytes(size_t i) const {
    const size_t end = std::min(SegStart(i) + kUnit, good_.size());
    return ByteView(good_).subspan(SegStart(i), end - SegStart(i));
  }
  static void Expect(const Result<Bytes>& r, Code code, const std::string& words,
                     Detail detail = Detail::kNone) {
    ASSERT_FALSE(r.ok()) << "damage went unnoticed";
    EXPECT_EQ(r.status().code(), code) << r.status().ToString();
    EXPECT_NE(r.status().message().find(words), std::string::npos)
        << "message: " << r.status().message() << "\nwanted: " << words;
    EXPECT_EQ(r.status().detail(), detail) << r.status().ToString();
  }
  Bytes plain_;
  Bytes good_;
};

TEST_F(Corruption, IntactDecrypts) { EXPECT_EQ(*Decrypt(good_), plain_); }

TEST_F(Corruption, TruncatedInsideTheHeader) {
  Expect(Decrypt({}), Code::kTruncated, "empty");
  for (size_t n = 1; n < kHeader; ++n) {
    Expect(Decrypt(ByteView(good_).first(n)), Code::kTruncated, "inside the container header");
  }
}

TEST_F(Corruption, TruncatedAtEverySegmentBoundary) {
  Expect(Decrypt(ByteView(good_).first(kHeader)), Code::kTruncated, "ends inside segment 0");
  for (size_t i = 1; i <= 4; ++i) {
    Expect(Decrypt(ByteView(good_).first(SegStart(i))), Code::kTruncated,
           "final segment is missing: the data ends after segment " + std::to_string(i - 1));
  }
}

TEST_F(Corruption, TruncatedInsideATagOrASegment) {
  Expect(Decrypt(ByteView(good_).first(SegStart(2) + 7)), Code::kTruncated, "inside segment 2");
  Expect(Decrypt(ByteView(good_).first(SegStart(2) + 500)), Code::kCorrupted,
         "last segment (2) failed authentication");
  Expect(Decrypt(ByteView(good_).first(good_.size() - 1)), Code::kCorrupted,
         "last segment (4) failed authentication");
}

TEST_F(Corruption, DroppedSegment) {
  Bytes c(good_.begin(), good_.begin() + SegStart(2));
  Append(c, ByteView(good_).subspan(SegStart(3)));
  Expect(Decrypt(c), Code::kCorrupted, "position 2 holds segment 3");
}

TEST_F(Corruption, DroppedSegmentBeforeTheFinalOne) {
  Bytes c(good_.begin(), good_.begin() + SegStart(3));
  Append(c, SegBytes(4));
  Expect(Decrypt(c), Code::kCorrupted, "position 3 holds segment 4");
}

TEST_F(Corruption, SwappedSegments) {
  Bytes c(good_.begin(), good_.begin() + SegStart(1));
  Append(c, SegBytes(2));
  Append(c, SegBytes(1));
  Append(c, ByteView(good_).subspan(SegStart(3)));
  Expect(Decrypt(c), Code::kCorrupted, "segment 1 is out of place: position 1 holds segment 2");
}

TEST_F(Corruption, DuplicatedSegment) {
  Bytes c(good_.begin(), good_.begin() + SegStart(2));
  Append(c, SegBytes(1));
  Append(c, ByteView(good_).subspan(SegStart(2)));
  Expect(Decrypt(c), Code::kCorrupted, "position 2 holds a copy of segment 1");
}

TEST_F(Corruption, BitFlipsInSegmentBodiesAndTags) {
  for (size_t i = 0; i < 4; ++i) {
    for (size_t at : {size_t{0}, kSeg / 2, kSeg + 3}) {  // ciphertext start, middle, tag
      Bytes c = good_;
      c[SegStart(i) + at] ^= 0x10;
      Expect(Decrypt(c), Code::kCorrupted, "segment " + std::to_string(i) + " was modified");
    }
  }
  Bytes c = good_;
  c[SegStart(4) + 100] ^= 0x01;
  Expect(Decrypt(c), Code::kCorrupted, "last segment (4) failed authentication");
}

TEST_F(Corruption, BitFlipsAnywhereInTheHeader) {
  for (size_t at = 0; at < kHeader; ++at) {
    for (uint8_t bit : {0x01, 0x80}) {
      Bytes c = good_;
      c[at] ^= bit;
      auto r = Decrypt(c);
      ASSERT_FALSE(r.ok()) << "flip at header byte " << at;
      const Code want = at == internal::kVersionOffset ? Code::kUnsupported : Code::kCorrupted;
      EXPECT_EQ(r.status().code(), want) << "byte " << at << ": " << r.status().ToString();
    }
  }
  Bytes c = good_;
  c[internal::kFingerprintOffset + 3] ^= 0x04;
  Expect(Decrypt(c), Code::kCorrupted, "key fingerprint field is damaged");
  c = good_;
  c[internal::kSaltOffset] ^= 0x04;
  Expect(Decrypt(c), Code::kCorrupted, "header was modified");
  c = good_;
  c[0] ^= 0x04;
  Expect(Decrypt(c), Code::kCorrupted, "not a chatvault container");
}

TEST_F(Corruption, TrailingData) {
  Bytes c = good_;
  c.push_back(0);
  Expect(Decrypt(c), Code::kCorrupted, "1 bytes of trailing data");
  c = good_;
  Append(c, RandomData(200, 9));
  Expect(Decrypt(c), Code::kCorrupted, "trailing data follows the final segment (4)");
  c = good_;
  Append(c, RandomData(100, 9));
  Expect(Decrypt(c), Code::kCorrupted, "100 bytes of trailing data follow the final segment (4)");
  c = good_;
  Append(c, *Encrypt(RandomData(3000, 10)));
  Expect(Decrypt(c), Code::kCorrupted, "another container follows the final segment");

  // A container whose final segment is full: the extra bytes show up as a segment that
  // authenticates only as final.
  auto full = Encrypt(RandomData(2 * kSeg, 11));
  ASSERT_THAT(full, IsOk());
  Bytes f = *full;
  Append(f, AsBytes("xyz"));
  Expect(Decrypt(f), Code::kCorrupted, "data follows the final segment (1)");
}

TEST_F(Corruption, WrongKeyIsNotCorruption) {
  auto r = DecryptBytes(TestKey(100), "chunk", good_);
  Expect(r, Code::kWrongKey, "different backup key");
}

TEST_F(Corruption, WrongPurpose) {
  // Marked, so that a caller can say "swapped" without reading the message.
  Expect(Decrypt(good_, "manifest"), Code::kCorrupted, "holds a \"chunk\", expected a \"manifest\"",
         Detail::kWrongPurpose);
}

TEST_F(Corruption, UnknownVersion) {
  Bytes c = good_;
  c[internal::kVersionOffset] = 2;
  Expect(Decrypt(c), Code::kUnsupported, "version 2 is not supported");
  Expect(Decrypt(ByteView(c).first(20)), Code::kUnsupported, "version 2");
}

TEST_F(Corruption, NotAContainer) {
  Expect(Decrypt(RandomData(500, 12)), Code::kCorrupted, "not a chatvault container");
  Expect(Decrypt(AsBytes("hi")), Code::kCorrupted, "not a chatvault container");
}

// Only authenticated segments reach the sink: damage in segment 2 leaves exactly segments 0
// and 1 delivered.
class RecordingSink : public Sink {
 public:
  Status Write(ByteView data) override {
    Append(got, data);
    return OkStatus();
  }
  Bytes got;
};

TEST_F(Corruption, NothingUnauthenticatedIsReleased) {
  Bytes c = good_;
  c[SegStart(2) + 5] ^= 0x20;
  RecordingSink sink;
  auto dec = Decryptor::Create(TestKey(), "chunk", &sink);
  ASSERT_THAT(dec, IsOk());
  Status s = (*dec)->Write(c);
  if (s.ok()) s = (*dec)->Finish();
  EXPECT_EQ(s.code(), Code::kCorrupted);
  EXPECT_EQ(sink.got, Bytes(plain_.begin(), plain_.begin() + 2 * kSeg));
}

// Non-canonical containers that only a key holder could make are still refused.
TEST(NonCanonical, EmptyFinalSegmentAfterOthers) {
  const key::BackupKey key = TestKey();
  const Bytes salt(32, 0x42);
  auto keys = internal::DeriveContainerKeys(key.secret(), salt, "chunk");
  Bytes header = internal::BuildHeader(0, 10, key.Fingerprint(), salt, "chunk", keys.mac_key);
  auto aead = crypto::AesGcm256::Create(keys.aead_key.view());
  ASSERT_THAT(aead, IsOk());
  uint8_t nonce[12];
  Bytes c = header;
  const Bytes seg0 = RandomData(kSeg, 13);
  internal::SegmentNonce(0, false, nonce);
  Append(c, aead->SealToBytes(ByteView(nonce, 12), header, seg0));
  internal::SegmentNonce(1, true, nonce);
  Append(c, aead->SealToBytes(ByteView(nonce, 12), header, {}));
  auto r = DecryptBytes(key, "chunk", c);
  EXPECT_EQ(r.status().code(), Code::kCorrupted);
  EXPECT_NE(r.status().message().find("empty final segment"), std::string::npos);
}

}  // namespace
}  // namespace chatvault::format

// Round trips through Encryptor/Decryptor: sizes around segment boundaries, compression modes,
// writes split at random points, and API misuse.
#include <gtest/gtest.h>

#include <random>

#include "format/container_test_util.h"
#include "format/header.h"
#include "support/status_matchers.h"

namespace chatvault::format {
namespace {

using testing::Decrypt;
using testing::Encrypt;
using testing::RandomData;
using testing::Small;
using testing::TestKey;
using testing::TextData;

using ::chatvault::testing::IsOk;

// Feeds `data` to `write` in pieces of random length (including empty ones).
template <typename WriteFn>
void WriteSplit(ByteView data, uint32_t seed, size_t max_piece, WriteFn write) {
  std::mt19937 rng(seed);
  while (!data.empty()) {
    const size_t n = std::min<size_t>(data.size(), rng() % (max_piece + 1));
    ASSERT_THAT(write(data.first(n)), IsOk());
    data = data.subspan(n);
  }
}

struct Case {
  size_t size;
  Compression compression;
  int segment_log;
};

class RoundTrip : public ::testing::TestWithParam<Case> {};

TEST_P(RoundTrip, WholeAndSplitWritesGiveBackThePlaintext) {
  const Case c = GetParam();
  internal::EncryptorInternals in;
  in.segment_log = c.segment_log;
  for (const Bytes& plain : {RandomData(c.size, 1), TextData(c.size)}) {
    auto whole = Encrypt(plain, c.compression, in);
    ASSERT_THAT(whole, IsOk());
    auto back = Decrypt(*whole);
    ASSERT_THAT(back, IsOk());
    EXPECT_EQ(*back, plain);

    // The same plaintext written in random pieces, decrypted in random pieces.
    Bytes container;
    BytesSink csink(&container);
    EncryptOptions o;
    o.compression = c.compression;
    auto enc = internal::CreateEncryptor(TestKey(), o, in, &csink);
    ASSERT_THAT(enc, IsOk());
    WriteSplit(plain, 11, 3000, [&](ByteView p) { return (*enc)->Write(p); });
    ASSERT_THAT((*enc)->Finish(), IsOk());

    Bytes out;
    BytesSink psink(&out);
    auto dec = Decryptor::Create(TestKey(), "chunk", &psink);
    ASSERT_THAT(dec, IsOk());
    WriteSplit(container, 12, 5000, [&](ByteView p) { return (*dec)->Write(p); });
    Status fin = (*dec)->Finish();
    ASSERT_THAT(fin, IsOk());
    EXPECT_EQ(out, plain);
  }
}

std::vector<Case> Cases() {
  std::vector<Case> cases;
  for (Compression comp : {Compression::kNone, Compression::kZstd, Compression::kAuto}) {
    for (int log : {10, 16}) {
      const size_t s = size_t{1} << log;
      for (size_t n : {size_t{0}, size_t{1}, s - 1, s, s + 1, 3 * s, 3 * s + 7}) {
        cases.push_back({n, comp, log});
      }
    }
    cases.push_back({3 << 20, comp, 16});  // several MiB at the default segment size
  }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Sizes, RoundTrip, ::testing::ValuesIn(Cases()));

TEST(Container, SizeIsHeaderPlusPlaintextPlusOneTagPerSegment) {
  const Bytes plain = RandomData(5000, 2);
  auto c = Encrypt(plain);
  ASSERT_THAT(c, IsOk());
  EXPECT_EQ(c->size(), internal::HeaderSize(5) + 5000 + 5 * internal::kTagSize);
  auto empty = Encrypt({});
  ASSERT_THAT(empty, IsOk());
  EXPECT_EQ(empty->size(), internal::HeaderSize(5) + internal::kTagSize);
}

TEST(Container, AutoCompressionSkipsIncompressibleAndKeepsText) {
  const Bytes media = RandomData(200000, 3);
  const Bytes text = TextData(200000);
  auto m = EncryptBytes(TestKey(), {}, media);  // defaults: kAuto, 64 KiB segments
  auto t = EncryptBytes(TestKey(), {}, text);
  ASSERT_THAT(m, IsOk());
  ASSERT_THAT(t, IsOk());
  EXPECT_EQ((*m)[internal::kFlagsOffset], 0);
  EXPECT_EQ((*t)[internal::kFlagsOffset], internal::kFlagZstd);
  EXPECT_LT(t->size(), text.size() / 3);
  EXPECT_EQ(*DecryptBytes(TestKey(), "chunk", *m), media);
  EXPECT_EQ(*DecryptBytes(TestKey(), "chunk", *t), text);
}

TEST(Container, EveryContainerGetsAFreshSalt) {
  const Bytes plain = TextData(100);
  auto a = EncryptBytes(TestKey(), {}, plain);
  auto b = EncryptBytes(TestKey(), {}, plain);
  ASSERT_THAT(a, IsOk());
  ASSERT_THAT(b, IsOk());
  EXPECT_NE(*a, *b);
}

TEST(Container, RejectsBadOptions) {
  Bytes out;
  BytesSink sink(&out);
  EncryptOptions o;
  o.purpose = "Bad Purpose";
  EXPECT_EQ(Encryptor::Create(TestKey(), o, &sink).status().code(), Code::kInvalidArgument);
  o.purpose = "";
  EXPECT_EQ(Encryptor::Create(TestKey(), o, &sink).status().code(), Code::kInvalidArgument);
  o.purpose = std::string(81, 'a');
  EXPECT_EQ(Encryptor::Create(TestKey(), o, &sink).status().code(), Code::kInvalidArgument);
  o.purpose = "chunk";
  o.zstd_level = 0;
  EXPECT_EQ(Encryptor::Create(TestKey(), o, &sink).status().code(), Code::kInvalidArgument);
  o.zstd_level = 22;
  EXPECT_EQ(Encryptor::Create(TestKey(), o, &sink).status().code(), Code::kInvalidArgument);
  o.zstd_level = 6;
  o.zstd_window_log = 24;  // readers refuse windows above 2^23
  EXPECT_EQ(Encryptor::Create(TestKey(), o, &sink).status().code(), Code::kInvalidArgument);
  o.zstd_window_log = 9;
  EXPECT_EQ(Encryptor::Create(TestKey(), o, &sink).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(Encryptor::Create(TestKey(), {}, nullptr).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(Decryptor::Create(TestKey(), "x y", &sink).status().code(), Code::kInvalidArgument);
}

// A smaller zstd window than the level's default round-trips.
TEST(Container, ASmallerZstdWindowRoundTrips) {
  EncryptOptions o;
  o.compression = Compression::kZstd;
  o.zstd_level = 6;
  o.zstd_window_log = 12;
  const Bytes plain = TextData(300000);
  auto sealed = EncryptBytes(TestKey(), o, plain);
  ASSERT_TRUE(sealed.ok()) << sealed.status().ToString();
  auto opened = DecryptBytes(TestKey(), o.purpose, *sealed);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(*opened, plain);
}

// The longest purpose (80 characters: "chunk-" and a 64-digit id fit) round-trips.
TEST(Container, LongestPurposeRoundTrips) {
  EncryptOptions o;
  o.purpose = "chunk-" + std::string(74, 'f');
  const Bytes plain = {1, 2, 3, 4, 5};
  auto sealed = EncryptBytes(TestKey(), o, plain);
  ASSERT_THAT(sealed, IsOk());
  auto opened = DecryptBytes(TestKey(), o.purpose, *sealed);
  ASSERT_THAT(opened, IsOk());
  EXPECT_EQ(*opened, plain);
  EXPECT_EQ(DecryptBytes(TestKey(), "chunk-" + std::string(74, 'e'), *sealed).status().code(),
            Code::kCorrupted);
}

TEST(Container, NoWriteAfterFinish) {
  Bytes out;
  BytesSink sink(&out);
  auto enc = Encryptor::Create(TestKey(), {}, &sink);
  ASSERT_THAT(enc, IsOk());
  ASSERT_THAT((*enc)->Finish(), IsOk());
  EXPECT_FALSE((*enc)->Write(AsBytes("late")).ok());
  EXPECT_FALSE((*enc)->Finish().ok());
}

class FailingSink : public Sink {
 public:
  Status Write(ByteView) override { return IoError("disk full"); }
};

TEST(Container, SinkErrorsReachTheCaller) {
  FailingSink sink;
  auto enc = Encryptor::Create(TestKey(), {.compression = Compression::kNone}, &sink);
  EXPECT_EQ(enc.status().code(), Code::kIo);  // the header is written at once
  auto container = Encrypt(TextData(3000));
  ASSERT_THAT(container, IsOk());
  auto dec = Decryptor::Create(TestKey(), "chunk", &sink);
  ASSERT_THAT(dec, IsOk());
  EXPECT_EQ((*dec)->Write(*container).code(), Code::kIo);
  EXPECT_EQ((*dec)->Finish().code(), Code::kIo);  // stays failed
}

}  // namespace
}  // namespace chatvault::format

namespace chatvault::format {
namespace {

using ::chatvault::testing::IsOk;

TEST(Container, DecryptsOneByteAtATime) {
  const Bytes plain = testing::TextData(2500);
  auto c = testing::Encrypt(plain, Compression::kZstd);
  ASSERT_THAT(c, IsOk());
  Bytes out;
  BytesSink sink(&out);
  auto dec = Decryptor::Create(testing::TestKey(), "chunk", &sink);
  ASSERT_THAT(dec, IsOk());
  for (uint8_t b : *c) ASSERT_THAT((*dec)->Write(ByteView(&b, 1)), IsOk());
  ASSERT_THAT((*dec)->Finish(), IsOk());
  EXPECT_EQ(out, plain);
}

TEST(Container, PurposesAreBoundIntoTheKeys) {
  // Same key and plaintext, different purposes: each decrypts only as itself.
  const Bytes plain = testing::TextData(100);
  auto m = testing::Encrypt(plain, Compression::kNone, testing::Small(), "manifest");
  ASSERT_THAT(m, IsOk());
  EXPECT_EQ(*testing::Decrypt(*m, "manifest"), plain);
  EXPECT_EQ(testing::Decrypt(*m, "pointer").status().code(), Code::kCorrupted);
}

}  // namespace
}  // namespace chatvault::format

namespace chatvault::format {
namespace {

using ::chatvault::testing::IsOk;

// Memory stays bounded: output flows to the sink segment by segment while input is still
// arriving, and no single write is larger than one sealed segment (or zstd's output block).
class LargestWriteSink : public Sink {
 public:
  Status Write(ByteView data) override {
    total += data.size();
    largest = std::max(largest, data.size());
    return OkStatus();
  }
  size_t total = 0;
  size_t largest = 0;
};

TEST(Container, StreamsInBoundedPieces) {
  const Bytes plain = testing::RandomData(1 << 20, 4);
  LargestWriteSink enc_sink;
  auto enc = Encryptor::Create(testing::TestKey(), {.compression = Compression::kNone}, &enc_sink);
  ASSERT_THAT(enc, IsOk());
  ASSERT_THAT((*enc)->Write(plain), IsOk());
  EXPECT_GT(enc_sink.total, plain.size() - (64 << 10) - 1);  // all but the last segment is out
  ASSERT_THAT((*enc)->Finish(), IsOk());
  EXPECT_LE(enc_sink.largest, size_t{(64 << 10) + 16});

  auto container = EncryptBytes(testing::TestKey(), {.compression = Compression::kNone}, plain);
  ASSERT_THAT(container, IsOk());
  LargestWriteSink dec_sink;
  auto dec = Decryptor::Create(testing::TestKey(), "chunk", &dec_sink);
  ASSERT_THAT(dec, IsOk());
  ASSERT_THAT((*dec)->Write(*container), IsOk());
  ASSERT_THAT((*dec)->Finish(), IsOk());
  EXPECT_EQ(dec_sink.total, plain.size());
  EXPECT_LE(dec_sink.largest, size_t{64 << 10});
}

}  // namespace
}  // namespace chatvault::format

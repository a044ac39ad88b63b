#include "chatvault/crypto/expand_message_xmd.h"

#include <gtest/gtest.h>

#include "opaque/vector_file.h"
#include "support/status_matchers.h"

namespace chatvault::crypto {
namespace {

using chatvault::testing::Hex;
using ::chatvault::testing::IsOk;

TEST(ExpandMessageXmd, Rfc9380AppendixK3) {
  const auto doc = chatvault::testing::LoadOpaqueVectors("expand_message_xmd_sha512.json");
  const auto& v = doc.at("vectors");
  const std::string dst = v.at("DST").get<std::string>();
  int count = 0;
  for (const auto& t : v.at("tests")) {
    const std::string msg = t.at("msg").get<std::string>();
    const size_t len = std::stoul(t.at("len_in_bytes").get<std::string>(), nullptr, 16);
    auto out = ExpandMessageXmdSha512(AsBytes(msg), AsBytes(dst), len);
    ASSERT_THAT(out, IsOk());
    EXPECT_EQ(HexEncode(out->view()), t.at("uniform_bytes").get<std::string>())
        << "msg '" << msg << "' len " << len;
    ++count;
  }
  EXPECT_GE(count, 10);
}

TEST(ExpandMessageXmd, RejectsBadLengths) {
  EXPECT_FALSE(ExpandMessageXmdSha512({}, AsBytes("dst"), 0).ok());
  EXPECT_FALSE(ExpandMessageXmdSha512({}, AsBytes("dst"), 255 * 64 + 1).ok());
  EXPECT_THAT(ExpandMessageXmdSha512({}, AsBytes("dst"), 255 * 64), IsOk());
}

TEST(ExpandMessageXmd, LongDstIsHashedNotTruncated) {
  const std::string long_dst(300, 'x');
  const std::string other(300, 'y');
  auto a = ExpandMessageXmdSha512(AsBytes("m"), AsBytes(long_dst), 32);
  auto b = ExpandMessageXmdSha512(AsBytes("m"), AsBytes(other), 32);
  ASSERT_THAT(a, IsOk());
  ASSERT_THAT(b, IsOk());
  EXPECT_FALSE(a->Equals(*b));
}

}  // namespace
}  // namespace chatvault::crypto

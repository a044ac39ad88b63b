#include "chatvault/common/bytes.h"

#include <gtest/gtest.h>

namespace chatvault {
namespace {

TEST(Hex, RoundTrip) {
  Bytes b = {0x00, 0x01, 0xab, 0xff};
  EXPECT_EQ(HexEncode(b), "0001abff");
  EXPECT_EQ(*HexDecode("0001ABff"), b);
}

TEST(Hex, RejectsBadInput) {
  EXPECT_FALSE(HexDecode("abc").ok());
  EXPECT_FALSE(HexDecode("zz").ok());
}

TEST(BigEndian, RoundTrip) {
  Bytes b;
  AppendU16BE(b, 0x0102);
  AppendU32BE(b, 0x03040506);
  AppendU64BE(b, 0x0708090a0b0c0d0eULL);
  ASSERT_EQ(b.size(), 14u);
  EXPECT_EQ(ReadU16BE(b.data()), 0x0102);
  EXPECT_EQ(ReadU32BE(b.data() + 2), 0x03040506u);
  EXPECT_EQ(ReadU64BE(b.data() + 6), 0x0708090a0b0c0d0eULL);
}

}  // namespace
}  // namespace chatvault

#include "chatvault/common/status.h"

#include <gtest/gtest.h>

namespace chatvault {
namespace {

Result<int> Half(int x) {
  if (x % 2) return InvalidArgument("odd");
  return x / 2;
}

Result<int> Quarter(int x) {
  CV_ASSIGN_OR_RETURN(int h, Half(x));
  return Half(h);
}

TEST(Status, OkAndErrors) {
  EXPECT_TRUE(OkStatus().ok());
  Status s = Corrupted("segment 3 failed authentication").Annotate("reading media/abc");
  EXPECT_EQ(s.code(), Code::kCorrupted);
  EXPECT_EQ(s.ToString(), "corrupted: reading media/abc: segment 3 failed authentication");
}

TEST(Result, PropagatesErrors) {
  EXPECT_EQ(*Quarter(8), 2);
  EXPECT_EQ(Quarter(6).status().code(), Code::kInvalidArgument);
  Result<int> r{OkStatus()};
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInternal);
}

}  // namespace
}  // namespace chatvault

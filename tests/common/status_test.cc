#include "chatvault/common/status.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "support/status_matchers.h"

namespace chatvault {
namespace {

using ::chatvault::testing::IsOk;
using ::chatvault::testing::IsOkAndHolds;
using ::chatvault::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;

Result<int> Half(int x) {
  if (x % 2) return InvalidArgument("odd");
  return x / 2;
}

Result<int> Quarter(int x) {
  CV_ASSIGN_OR_RETURN(int h, Half(x));
  return Half(h);
}

TEST(Status, OkAndErrors) {
  EXPECT_THAT(OkStatus(), IsOk());
  Status s = Corrupted("segment 3 failed authentication").Annotate("reading media/abc");
  EXPECT_EQ(s.code(), Code::kCorrupted);
  EXPECT_EQ(s.ToString(), "corrupted: reading media/abc: segment 3 failed authentication");
}

TEST(Status, NoSpaceHasItsOwnName) {
  EXPECT_EQ(NoSpace("cannot write a: No space left on device").ToString(),
            "not enough space: cannot write a: No space left on device");
  EXPECT_NE(CodeName(Code::kNoSpace), CodeName(Code::kIo));
}

TEST(Status, DetailSurvivesAnnotationAndNeverMarksOk) {
  const Status swapped = Corrupted("holds a manifest").WithDetail(Detail::kWrongPurpose);
  EXPECT_EQ(swapped.detail(), Detail::kWrongPurpose);
  EXPECT_EQ(swapped.Annotate("chunk 1").detail(), Detail::kWrongPurpose);
  EXPECT_EQ(Corrupted("bit flip").detail(), Detail::kNone);
  EXPECT_EQ(OkStatus().WithDetail(Detail::kWrongPurpose).detail(), Detail::kNone);
}

TEST(Result, PropagatesErrors) {
  EXPECT_EQ(*Quarter(8), 2);
  EXPECT_EQ(Quarter(6).status().code(), Code::kInvalidArgument);
  Result<int> r{OkStatus()};
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInternal);
}

// Reading the value of an error is a bug: it stops the process and says which error it was,
// instead of reading an empty optional (undefined behaviour that the sanitizers do not catch).
TEST(ResultDeathTest, ValueOfAnErrorTerminatesWithTheStatus) {
  Result<std::string> r = NotFound("no backup at the location");
  const char* kPrinted =
      "the value of a failed Result was read: not found: no backup at the location";
  EXPECT_DEATH((void)r.value(), kPrinted);
  EXPECT_DEATH((void)*r, kPrinted);
  EXPECT_DEATH((void)r->size(), kPrinted);
  EXPECT_DEATH((void)std::move(r).value(), kPrinted);
  const Result<std::string>& as_const = r;
  EXPECT_DEATH((void)as_const.value(), kPrinted);
}

TEST(StatusMatchers, MatchStatusAndResult) {
  EXPECT_THAT(OkStatus(), IsOk());
  EXPECT_THAT(Half(8), IsOk());
  EXPECT_THAT(Half(3), Not(IsOk()));
  EXPECT_THAT(Half(3), StatusIs(Code::kInvalidArgument));
  EXPECT_THAT(Corrupted("segment 3"), StatusIs(Code::kCorrupted, HasSubstr("segment")));
  EXPECT_THAT(Corrupted("segment 3"), Not(StatusIs(Code::kCorrupted, HasSubstr("header"))));
  EXPECT_THAT(Corrupted("segment 3"), Not(StatusIs(Code::kWrongKey)));
  EXPECT_THAT(Half(8), IsOkAndHolds(4));
  EXPECT_THAT(Half(8), Not(IsOkAndHolds(5)));
  EXPECT_THAT(Half(3), Not(IsOkAndHolds(::testing::_)));
}

// The point of the matchers: a failure says what the error was.
TEST(StatusMatchers, FailuresPrintTheError) {
  ::testing::StringMatchResultListener listener;
  EXPECT_FALSE(::testing::ExplainMatchResult(IsOk(), Half(3), &listener));
  EXPECT_EQ(listener.str(), "which is invalid argument: odd");

  ::testing::StringMatchResultListener code_listener;
  EXPECT_FALSE(
      ::testing::ExplainMatchResult(StatusIs(Code::kNotFound), Corrupted("flip"), &code_listener));
  EXPECT_EQ(code_listener.str(), "which is corrupted: flip");

  ::testing::StringMatchResultListener value_listener;
  EXPECT_FALSE(::testing::ExplainMatchResult(IsOkAndHolds(1), Half(3), &value_listener));
  EXPECT_EQ(value_listener.str(), "which is invalid argument: odd");

  EXPECT_EQ(::testing::DescribeMatcher<Status>(StatusIs(Code::kNotFound, HasSubstr("x"))),
            "has the code \"not found\" and a message that has substring \"x\"");
  EXPECT_EQ(::testing::DescribeMatcher<Result<int>>(IsOkAndHolds(4)),
            "is OK and holds a value that is equal to 4");
}

}  // namespace
}  // namespace chatvault

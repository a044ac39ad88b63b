// gMock matchers for Status and Result<T> that print the error when they fail, unlike a bare
// ASSERT_TRUE(x.ok()):
//   ASSERT_THAT(WriteKeyFile(path, key), IsOk());
//   EXPECT_THAT(ReadKeyFile(path), StatusIs(Code::kNotFound));
//   EXPECT_THAT(Parse(text), StatusIs(Code::kInvalidArgument, HasSubstr("64 digits")));
//   EXPECT_THAT(Half(8), IsOkAndHolds(4));
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <type_traits>
#include <utility>

#include "chatvault/common/status.h"

namespace chatvault {

// How gtest prints a Status or a Result in a failure message (found by argument-dependent lookup).
inline void PrintTo(const Status& status, std::ostream* os) { *os << status.ToString(); }
template <typename T>
void PrintTo(const Result<T>& result, std::ostream* os) {
  if (result.ok()) {
    *os << "ok: " << ::testing::PrintToString(*result);
  } else {
    *os << result.status().ToString();
  }
}

namespace testing {

inline const Status& StatusOf(const Status& status) { return status; }
template <typename T>
const Status& StatusOf(const Result<T>& result) {
  return result.status();
}

MATCHER(IsOk, negation ? "is not OK" : "is OK") {
  const Status& status = StatusOf(arg);
  if (!status.ok()) *result_listener << "which is " << status.ToString();
  return status.ok();
}

MATCHER_P(StatusIs, code,
          std::string(negation ? "does not have" : "has") + " the code \"" +
              std::string(CodeName(code)) + "\"") {
  const Status& status = StatusOf(arg);
  *result_listener << "which is " << status.ToString();
  return status.code() == code;
}

MATCHER_P2(StatusIs, code, message_matcher,
           std::string(negation ? "does not have" : "has") + " the code \"" +
               std::string(CodeName(code)) + "\" and a message that " +
               ::testing::DescribeMatcher<std::string>(message_matcher)) {
  const Status& status = StatusOf(arg);
  *result_listener << "which is " << status.ToString();
  const auto message = ::testing::MatcherCast<const std::string&>(message_matcher);
  return status.code() == code && message.Matches(status.message());
}

// IsOkAndHolds(m): a Result that is OK and whose value matches m. A class rather than a MATCHER_P
// so that its description can name the value's type.
template <typename ValueMatcher>
class IsOkAndHoldsMatcher {
 public:
  explicit IsOkAndHoldsMatcher(ValueMatcher matcher) : matcher_(std::move(matcher)) {}

  template <typename ResultType>
  operator ::testing::Matcher<ResultType>() const {  // NOLINT(google-explicit-constructor)
    using Value = typename std::remove_cvref_t<ResultType>::value_type;
    return ::testing::Matcher<ResultType>(
        new Impl<ResultType, Value>(::testing::SafeMatcherCast<const Value&>(matcher_)));
  }

 private:
  template <typename ResultType, typename Value>
  class Impl : public ::testing::MatcherInterface<ResultType> {
   public:
    explicit Impl(::testing::Matcher<const Value&> matcher) : matcher_(std::move(matcher)) {}
    void DescribeTo(std::ostream* os) const override {
      *os << "is OK and holds a value that ";
      matcher_.DescribeTo(os);
    }
    void DescribeNegationTo(std::ostream* os) const override {
      *os << "is an error or holds a value that ";
      matcher_.DescribeNegationTo(os);
    }
    bool MatchAndExplain(ResultType result,
                         ::testing::MatchResultListener* listener) const override {
      if (!result.ok()) {
        *listener << "which is " << result.status().ToString();
        return false;
      }
      return ::testing::ExplainMatchResult(matcher_, *result, listener);
    }

   private:
    ::testing::Matcher<const Value&> matcher_;
  };

  ValueMatcher matcher_;
};

template <typename ValueMatcher>
IsOkAndHoldsMatcher<ValueMatcher> IsOkAndHolds(ValueMatcher matcher) {
  return IsOkAndHoldsMatcher<ValueMatcher>(std::move(matcher));
}

}  // namespace testing
}  // namespace chatvault

// The provider conformance suite: every storage provider must pass these tests. Include this
// header in exactly one test file of a binary, bring the fixture name into scope (gtest needs it
// unqualified), then instantiate it with a factory that returns a provider on a fresh, empty
// location:
//
//   using chatvault::testing::ProviderConformance;
//   INSTANTIATE_TEST_SUITE_P(Local, ProviderConformance, ::testing::Values(
//       chatvault::testing::ConformanceTarget{"local", [] { return MakeMyProvider(); }}),
//       chatvault::testing::ConformanceTargetName);
//
// Each test gets its own provider from the factory; the factory may hand out a fresh prefix of a
// shared bucket instead of a fresh bucket.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "chatvault/storage/provider.h"
#include "support/status_matchers.h"

namespace chatvault::testing {

struct ConformanceTarget {
  std::string name;
  std::function<std::unique_ptr<storage::Provider>()> make;
};

inline std::string ConformanceTargetName(
    const ::testing::TestParamInfo<ConformanceTarget>& info) {
  return info.param.name;
}

class ProviderConformance : public ::testing::TestWithParam<ConformanceTarget> {
 protected:
  void SetUp() override {
    provider_ = GetParam().make();
    ASSERT_NE(provider_, nullptr);
  }
  storage::Provider& p() { return *provider_; }

  static Bytes Data(std::string_view s) { return ToBytes(s); }

  std::vector<std::string> Names(std::string_view prefix) {
    auto listed = provider_->List(prefix);
    EXPECT_THAT(listed, IsOk());
    std::vector<std::string> names;
    if (listed.ok()) {
      for (const auto& o : *listed) names.push_back(o.name);
    }
    return names;
  }

  std::unique_ptr<storage::Provider> provider_;
};

TEST_P(ProviderConformance, GetOfMissingObjectIsNotFound) {
  auto got = p().Get("chunks/aa/missing");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), Code::kNotFound);
}

TEST_P(ProviderConformance, PutIfAbsentThenGetRoundTrips) {
  const Bytes data = Data("hello, chunk");
  ASSERT_THAT(p().PutIfAbsent("chunks/ab/abcdef", data), IsOk());
  EXPECT_THAT(p().Get("chunks/ab/abcdef"), IsOkAndHolds(data));
}

TEST_P(ProviderConformance, EmptyObjectRoundTrips) {
  ASSERT_THAT(p().PutIfAbsent("empty", {}), IsOk());
  EXPECT_THAT(p().Get("empty"), IsOkAndHolds(::testing::IsEmpty()));
}

TEST_P(ProviderConformance, PutIfAbsentRefusesExistingNameAndKeepsOldData) {
  ASSERT_THAT(p().PutIfAbsent("current/0001", Data("first")), IsOk());
  Status second = p().PutIfAbsent("current/0001", Data("second"));
  EXPECT_EQ(second.code(), Code::kAlreadyExists) << second.ToString();
  EXPECT_THAT(p().Get("current/0001"), IsOkAndHolds(Data("first")));
}

TEST_P(ProviderConformance, PutReplaces) {
  ASSERT_THAT(p().Put("current", Data("one")), IsOk());
  ASSERT_THAT(p().Put("current", Data("two, longer")), IsOk());
  EXPECT_THAT(p().Get("current"), IsOkAndHolds(Data("two, longer")));
}

TEST_P(ProviderConformance, ListIsSortedFilteredAndSized) {
  ASSERT_THAT(p().PutIfAbsent("manifests/0000000002", Data("bb")), IsOk());
  ASSERT_THAT(p().PutIfAbsent("manifests/0000000010", Data("cccc")), IsOk());
  ASSERT_THAT(p().PutIfAbsent("manifests/0000000001", Data("a")), IsOk());
  ASSERT_THAT(p().PutIfAbsent("chunks/00/0011", Data("x")), IsOk());
  ASSERT_THAT(p().PutIfAbsent("chunks/ff/ff22", Data("y")), IsOk());
  ASSERT_THAT(p().PutIfAbsent("current/0000000001", Data("p")), IsOk());

  auto listed = p().List("manifests/");
  ASSERT_THAT(listed, IsOk());
  ASSERT_EQ(listed->size(), 3u);
  EXPECT_EQ((*listed)[0].name, "manifests/0000000001");
  EXPECT_EQ((*listed)[0].size, 1u);
  EXPECT_EQ((*listed)[1].name, "manifests/0000000002");
  EXPECT_EQ((*listed)[2].name, "manifests/0000000010");
  EXPECT_EQ((*listed)[2].size, 4u);

  EXPECT_EQ(Names("chunks/"), (std::vector<std::string>{"chunks/00/0011", "chunks/ff/ff22"}));
  EXPECT_EQ(Names("chunks/f"), (std::vector<std::string>{"chunks/ff/ff22"}));
  EXPECT_EQ(Names("cur"), (std::vector<std::string>{"current/0000000001"}));
  EXPECT_TRUE(Names("nothing-here/").empty());
  auto all = Names("");
  EXPECT_EQ(all.size(), 6u);
  EXPECT_TRUE(std::is_sorted(all.begin(), all.end()));
}

TEST_P(ProviderConformance, ListOfEmptyLocationIsEmpty) { EXPECT_TRUE(Names("").empty()); }

TEST_P(ProviderConformance, DeleteIsIdempotent) {
  ASSERT_THAT(p().PutIfAbsent("chunks/12/1234", Data("z")), IsOk());
  ASSERT_THAT(p().Delete("chunks/12/1234"), IsOk());
  EXPECT_EQ(p().Get("chunks/12/1234").status().code(), Code::kNotFound);
  EXPECT_THAT(p().Delete("chunks/12/1234"), IsOk());
  EXPECT_THAT(p().Delete("never/existed"), IsOk());
  EXPECT_TRUE(Names("chunks/").empty());
  // A deleted name can be created again.
  EXPECT_THAT(p().PutIfAbsent("chunks/12/1234", Data("again")), IsOk());
}

TEST_P(ProviderConformance, RejectsNamesThatEscapeTheRoot) {
  for (const char* bad : {"", "/abs", "../up", "a/../b", "a//b", "a/", ".hidden", "a/./b",
                          "sp ace", "new\nline"}) {
    EXPECT_EQ(p().PutIfAbsent(bad, Data("x")).code(), Code::kInvalidArgument) << bad;
    EXPECT_EQ(p().Put(bad, Data("x")).code(), Code::kInvalidArgument) << bad;
    EXPECT_EQ(p().Get(bad).status().code(), Code::kInvalidArgument) << bad;
    EXPECT_EQ(p().Delete(bad).code(), Code::kInvalidArgument) << bad;
  }
}

TEST_P(ProviderConformance, LargerObjectRoundTrips) {
  Bytes big(3 * 1024 * 1024 + 17);
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<uint8_t>(i * 131 + (i >> 9));
  ASSERT_THAT(p().PutIfAbsent("chunks/bb/big", big), IsOk());
  EXPECT_THAT(p().Get("chunks/bb/big"), IsOkAndHolds(big));
  auto listed = p().List("chunks/bb/");
  ASSERT_THAT(listed, IsOk());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].size, big.size());
}

// Two writers race for one name: exactly one wins, and readers see one writer's bytes whole.
TEST_P(ProviderConformance, ConcurrentPutIfAbsentHasOneWinner) {
  constexpr int kWriters = 4;
  std::atomic<int> wins{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kWriters; ++i) {
    threads.emplace_back([&, i] {
      Bytes data(4096, static_cast<uint8_t>('a' + i));
      Status s = p().PutIfAbsent("current/0000000007", data);
      if (s.ok()) {
        wins++;
      } else {
        EXPECT_EQ(s.code(), Code::kAlreadyExists) << s.ToString();
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(wins.load(), 1);
  auto got = p().Get("current/0000000007");
  ASSERT_THAT(got, IsOk());
  ASSERT_EQ(got->size(), 4096u);
  EXPECT_TRUE(std::all_of(got->begin(), got->end(), [&](uint8_t b) { return b == (*got)[0]; }));
}

}  // namespace chatvault::testing

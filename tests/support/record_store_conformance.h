// The record-store conformance suite: the contract of vaultstore::RecordStore, which every store
// the vault can run on (SQLite, etcd, the in-memory test store) must keep. Include this header in
// exactly one test file of a binary, bring the fixture name into scope (gtest needs it
// unqualified), then instantiate it with a function that opens a store at a location:
//
//   using chatvault::testing::RecordStoreConformance;
//   INSTANTIATE_TEST_SUITE_P(Sqlite, RecordStoreConformance, ::testing::Values(
//       chatvault::testing::RecordStoreTarget{"sqlite", [](const std::string& location) {
//         return OpenMyStore(location); }}),
//       chatvault::testing::RecordStoreTargetName);
//
// Each test opens its own location, empty at first; opening the same location again must give a
// second handle on the same records, as two keyvaultd processes on one store have.
//
// Each test of a real store may pay for starting it (etcd: a cluster per test process), so the
// checks are grouped into a few tests by the part of the contract they cover.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <cctype>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "chatvault/vaultstore/record_store.h"
#include "support/status_matchers.h"

namespace chatvault::testing {

struct RecordStoreTarget {
  std::string name;
  std::function<std::shared_ptr<vaultstore::RecordStore>(const std::string& location)> open;
};

// gtest prints a parameter in test names and failures; a target is its name.
inline void PrintTo(const RecordStoreTarget& target, std::ostream* os) { *os << target.name; }

inline std::string RecordStoreTargetName(const ::testing::TestParamInfo<RecordStoreTarget>& info) {
  return info.param.name;
}

class RecordStoreConformance : public ::testing::TestWithParam<RecordStoreTarget> {
 protected:
  void SetUp() override {
    // The test's own name (letters and digits only, so it is a valid file name and etcd prefix).
    for (char c : std::string(::testing::UnitTest::GetInstance()->current_test_info()->name())) {
      location_ += std::isalnum(static_cast<unsigned char>(c)) ? c : '-';
    }
    store_ = OpenAgain();
    ASSERT_NE(store_, nullptr) << GetParam().name << " store did not open";
  }

  std::shared_ptr<vaultstore::RecordStore> OpenAgain() { return GetParam().open(location_); }
  vaultstore::RecordStore& store() { return *store_; }

  // The value under `key`, or "<absent>"; a failed read fails the test.
  std::string ValueOf(std::string_view key) {
    auto got = store_->Get(key);
    EXPECT_THAT(got, IsOk()) << key;
    if (!got.ok() || !got->has_value()) return "<absent>";
    return std::string(AsChars((*got)->value));
  }

  std::string location_;
  std::shared_ptr<vaultstore::RecordStore> store_;
};

TEST_P(RecordStoreConformance, CompareAndSetCreatesFromAbsentAndNeedsTheCurrentVersion) {
  EXPECT_THAT(store().Health(), IsOk());
  auto absent = store().Get("acct/alice");
  ASSERT_THAT(absent, IsOk());
  EXPECT_FALSE(absent->has_value());

  auto v1 = store().CompareAndSet("acct/alice", 0, AsBytes("one"));
  ASSERT_THAT(v1, IsOk());
  EXPECT_GT(*v1, 0u);
  // Creating again must lose: the key exists now.
  EXPECT_THAT(store().CompareAndSet("acct/alice", 0, AsBytes("other")), StatusIs(Code::kConflict));
  auto got = store().Get("acct/alice");
  ASSERT_THAT(got, IsOk());
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ(AsChars((*got)->value), "one");
  EXPECT_EQ((*got)->version, *v1);

  auto v2 = store().CompareAndSet("acct/alice", *v1, AsBytes("two"));
  ASSERT_THAT(v2, IsOk());
  EXPECT_GT(*v2, *v1);
  // The old version is spent: a second writer holding it must lose, and write nothing.
  EXPECT_THAT(store().CompareAndSet("acct/alice", *v1, AsBytes("stale")),
              StatusIs(Code::kConflict));
  EXPECT_THAT(store().CompareAndSet("acct/alice", *v2 + 1000, AsBytes("future")),
              StatusIs(Code::kConflict));
  got = store().Get("acct/alice");
  ASSERT_THAT(got, IsOk());
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ(AsChars((*got)->value), "two");
  EXPECT_EQ((*got)->version, *v2);
  // Writing to a key that is absent with a version from another key is a conflict too.
  EXPECT_THAT(store().CompareAndSet("acct/bob", *v2, AsBytes("x")), StatusIs(Code::kConflict));
  EXPECT_EQ(ValueOf("acct/bob"), "<absent>");
}

TEST_P(RecordStoreConformance, DeleteNeedsTheCurrentVersionAndVersionsNeverRepeat) {
  EXPECT_THAT(store().CompareAndDelete("k", 7), StatusIs(Code::kConflict));  // nothing there
  auto v1 = store().CompareAndSet("k", 0, AsBytes("x"));
  ASSERT_THAT(v1, IsOk());
  auto v2 = store().CompareAndSet("k", *v1, AsBytes("y"));
  ASSERT_THAT(v2, IsOk());
  EXPECT_THAT(store().CompareAndDelete("k", *v1), StatusIs(Code::kConflict));
  // 0 means "absent", so deleting "at version 0" is the caller's mistake, not a race.
  EXPECT_THAT(store().CompareAndDelete("k", 0), StatusIs(Code::kInvalidArgument));
  EXPECT_EQ(ValueOf("k"), "y");

  ASSERT_THAT(store().CompareAndDelete("k", *v2), IsOk());
  EXPECT_EQ(ValueOf("k"), "<absent>");
  EXPECT_THAT(store().CompareAndDelete("k", *v2), StatusIs(Code::kConflict));
  // Recreated: a reader still holding v2 must not be able to write over it.
  auto v3 = store().CompareAndSet("k", 0, AsBytes("z"));
  ASSERT_THAT(v3, IsOk());
  EXPECT_GT(*v3, *v2);
  EXPECT_THAT(store().CompareAndSet("k", *v2, AsBytes("w")), StatusIs(Code::kConflict));
  EXPECT_EQ(ValueOf("k"), "z");
}

TEST_P(RecordStoreConformance, EmptyAndBinaryValuesRoundTrip) {
  Bytes binary;
  for (int i = 0; i < 256; ++i) binary.push_back(static_cast<uint8_t>(i));
  ASSERT_THAT(store().CompareAndSet("bin", 0, binary), IsOk());
  ASSERT_THAT(store().CompareAndSet("empty", 0, Bytes()), IsOk());
  auto got = store().Get("bin");
  ASSERT_THAT(got, IsOk());
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->value, binary);
  got = store().Get("empty");
  ASSERT_THAT(got, IsOk());
  ASSERT_TRUE(got->has_value()) << "an empty value must not read as an absent key";
  EXPECT_TRUE((*got)->value.empty());
}

// The audit-log replay lists the accounts: every key under the prefix, in byte order, and
// nothing that merely starts like it.
TEST_P(RecordStoreConformance, ListKeysReturnsTheKeysUnderAPrefixInOrder) {
  for (const char* key : {"acct/b", "acct/a", "acctx", "vault/server-secrets/v1", "acct/a:b"}) {
    ASSERT_THAT(store().CompareAndSet(key, 0, AsBytes("v")), IsOk()) << key;
  }
  auto deleted = store().CompareAndSet("acct/gone", 0, AsBytes("v"));
  ASSERT_THAT(deleted, IsOk());
  ASSERT_THAT(store().CompareAndDelete("acct/gone", *deleted), IsOk());

  auto keys = store().ListKeys("acct/");
  ASSERT_THAT(keys, IsOk());
  EXPECT_EQ(*keys, (std::vector<std::string>{"acct/a", "acct/a:b", "acct/b"}));
  auto none = store().ListKeys("nothing/");
  ASSERT_THAT(none, IsOk());
  EXPECT_TRUE(none->empty());
}

// Two handles on one store (two vault processes) race: of the creates of one key exactly one
// wins, and read-increment-compare-and-set loops never lose an increment.
TEST_P(RecordStoreConformance, ConcurrentWritersHaveExactlyOneWinnerPerVersion) {
  std::shared_ptr<vaultstore::RecordStore> other = OpenAgain();
  ASSERT_NE(other, nullptr);
  vaultstore::RecordStore* handles[] = {store_.get(), other.get()};
  constexpr int kThreads = 4;

  std::atomic<int> created{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      auto set = handles[i % 2]->CompareAndSet("once", 0, AsBytes(std::to_string(i)));
      if (set.ok()) {
        ++created;
      } else {
        EXPECT_THAT(set, StatusIs(Code::kConflict));
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(created.load(), 1);
  EXPECT_NE(ValueOf("once"), "<absent>");

  constexpr int kPerThread = 15;
  threads.clear();
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      vaultstore::RecordStore& handle = *handles[i % 2];
      for (int done = 0; done < kPerThread;) {
        auto got = handle.Get("counter");
        ASSERT_THAT(got, IsOk());
        const int value = got->has_value() ? std::stoi(std::string(AsChars((*got)->value))) : 0;
        const uint64_t version = got->has_value() ? (*got)->version : 0;
        auto set = handle.CompareAndSet("counter", version, AsBytes(std::to_string(value + 1)));
        if (set.ok()) {
          ++done;
        } else {
          ASSERT_THAT(set, StatusIs(Code::kConflict));
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ValueOf("counter"), std::to_string(kThreads * kPerThread));
}

}  // namespace chatvault::testing

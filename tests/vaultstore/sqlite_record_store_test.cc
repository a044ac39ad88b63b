#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "chatvault/vaultstore/sqlite_record_store.h"
#include "chatvault/vaultstore/store_registry.h"
#include "support/temp_dir.h"

namespace chatvault::vaultstore {
namespace {

std::unique_ptr<RecordStore> Open(const std::string& path) {
  auto store = OpenRecordStore("sqlite:" + path);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return std::move(store).value();
}

TEST(SqliteRecordStore, AbsentKeyReadsAsNothing) {
  testing::TempDir dir;
  auto store = Open(dir.Sub("r.db"));
  auto got = store->Get("acct/alice");
  ASSERT_TRUE(got.ok());
  EXPECT_FALSE(got->has_value());
  EXPECT_TRUE(store->Health().ok());
}

TEST(SqliteRecordStore, CompareAndSetNeedsTheCurrentVersion) {
  testing::TempDir dir;
  auto store = Open(dir.Sub("r.db"));
  auto v1 = store->CompareAndSet("k", 0, AsBytes("one"));
  ASSERT_TRUE(v1.ok()) << v1.status().ToString();
  EXPECT_GT(*v1, 0u);
  // Creating again, or writing with a stale version, loses.
  EXPECT_EQ(store->CompareAndSet("k", 0, AsBytes("x")).status().code(), Code::kConflict);
  auto v2 = store->CompareAndSet("k", *v1, AsBytes("two"));
  ASSERT_TRUE(v2.ok());
  EXPECT_GT(*v2, *v1);
  EXPECT_EQ(store->CompareAndSet("k", *v1, AsBytes("x")).status().code(), Code::kConflict);
  auto got = store->Get("k");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ(AsChars((*got)->value), "two");
  EXPECT_EQ((*got)->version, *v2);
}

TEST(SqliteRecordStore, DeleteIsConditionalAndVersionsNeverRepeat) {
  testing::TempDir dir;
  auto store = Open(dir.Sub("r.db"));
  auto v1 = store->CompareAndSet("k", 0, AsBytes("one"));
  ASSERT_TRUE(v1.ok());
  EXPECT_EQ(store->CompareAndDelete("k", *v1 + 1).code(), Code::kConflict);
  ASSERT_TRUE(store->CompareAndDelete("k", *v1).ok());
  EXPECT_FALSE(store->Get("k")->has_value());
  auto v2 = store->CompareAndSet("k", 0, AsBytes("again"));
  ASSERT_TRUE(v2.ok());
  EXPECT_GT(*v2, *v1);
}

TEST(SqliteRecordStore, WritesSurviveReopening) {
  testing::TempDir dir;
  uint64_t version = 0;
  {
    auto store = Open(dir.Sub("r.db"));
    version = store->CompareAndSet("k", 0, AsBytes("kept")).value();
  }
  auto store = Open(dir.Sub("r.db"));
  auto got = store->Get("k");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ(AsChars((*got)->value), "kept");
  EXPECT_EQ((*got)->version, version);
}

// Two connections (as two keyvaultd processes would have) racing read-increment-CAS loops: every
// increment lands exactly once.
TEST(SqliteRecordStore, ConcurrentIncrementsAreNeverLost) {
  testing::TempDir dir;
  auto a = Open(dir.Sub("r.db"));
  auto b = Open(dir.Sub("r.db"));
  constexpr int kPerThread = 25;
  std::atomic<int> conflicts{0};
  auto work = [&](RecordStore* store) {
    for (int done = 0; done < kPerThread;) {
      auto got = store->Get("counter");
      ASSERT_TRUE(got.ok()) << got.status().ToString();
      const int value = got->has_value() ? std::stoi(std::string(AsChars((*got)->value))) : 0;
      const uint64_t version = got->has_value() ? (*got)->version : 0;
      auto set = store->CompareAndSet("counter", version, AsBytes(std::to_string(value + 1)));
      if (set.ok()) {
        ++done;
      } else {
        ASSERT_EQ(set.status().code(), Code::kConflict) << set.status().ToString();
        ++conflicts;
      }
    }
  };
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) threads.emplace_back(work, i % 2 ? a.get() : b.get());
  for (auto& t : threads) t.join();
  auto got = a->Get("counter");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ(AsChars((*got)->value), std::to_string(4 * kPerThread));
}

TEST(StoreRegistry, RejectsUnknownAndMalformedSpecs) {
  EXPECT_EQ(OpenRecordStore("nowhere").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(OpenRecordStore("zzz://x").status().code(), Code::kUnsupported);
}

TEST(StoreRegistry, RegisteredSchemesAreUsed) {
  testing::TempDir dir;
  std::string seen;
  const std::string path = dir.Sub("r.db");
  RegisterStoreScheme("test-scheme", [&](std::string_view spec) {
    seen = std::string(spec);
    return OpenSqliteRecordStore(path);
  });
  auto store = OpenRecordStore("test-scheme://a:1,b:2");
  ASSERT_TRUE(store.ok());
  EXPECT_EQ(seen, "test-scheme://a:1,b:2");
}

}  // namespace
}  // namespace chatvault::vaultstore

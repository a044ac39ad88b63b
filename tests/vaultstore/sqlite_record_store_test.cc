#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "chatvault/vaultstore/sqlite_record_store.h"
#include "chatvault/vaultstore/store_registry.h"
#include "support/status_matchers.h"
#include "support/temp_dir.h"
#include "vaultstore/open_test_store.h"

namespace chatvault::vaultstore {
namespace {

using ::chatvault::testing::IsOk;
using ::chatvault::testing::OpenSqliteStore;

// One read-increment-compare-and-set of the decimal counter under "counter": the value it tried
// to write, and the write's version or why it failed (a failed read is reported the same way).
struct Increment {
  int value;
  Result<uint64_t> written;
};
Increment TryIncrement(RecordStore& store) {
  auto got = store.Get("counter");
  if (!got.ok()) return {0, got.status()};
  const int value = got->has_value() ? std::stoi(std::string(AsChars((*got)->value))) : 0;
  const uint64_t version = got->has_value() ? (*got)->version : 0;
  return {value + 1, store.CompareAndSet("counter", version, AsBytes(std::to_string(value + 1)))};
}

TEST(SqliteRecordStore, WritesSurviveReopening) {
  testing::TempDir dir;
  uint64_t version = 0;
  {
    auto store = OpenSqliteStore(dir.Sub("r.db"));
    version = store->CompareAndSet("k", 0, AsBytes("kept")).value();
  }
  auto store = OpenSqliteStore(dir.Sub("r.db"));
  auto got = store->Get("k");
  ASSERT_THAT(got, IsOk());
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ(AsChars((*got)->value), "kept");
  EXPECT_EQ((*got)->version, version);
}

// Read-increment-CAS on one counter from a single store (so the writes share group commits):
// every increment lands once, and no two successful writes ever get the same version.
TEST(SqliteRecordStore, GroupCommitKeepsCompareAndSetSerialOnOneKey) {
  testing::TempDir dir;
  auto store = OpenSqliteStore(dir.Sub("r.db"));
  constexpr int kThreads = 16;
  constexpr int kPerThread = 20;
  std::mutex mu;
  std::set<uint64_t> versions;
  std::set<int> values;
  auto work = [&] {
    for (int done = 0; done < kPerThread;) {
      auto [value, set] = TryIncrement(*store);
      if (!set.ok()) {
        ASSERT_EQ(set.status().code(), Code::kConflict) << set.status().ToString();
        continue;
      }
      ++done;
      std::lock_guard<std::mutex> lock(mu);
      EXPECT_TRUE(versions.insert(*set).second) << "version " << *set << " handed out twice";
      EXPECT_TRUE(values.insert(value).second) << "value " << value << " written twice";
    }
  };
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) threads.emplace_back(work);
  for (auto& t : threads) t.join();
  auto got = store->Get("counter");
  ASSERT_THAT(got, IsOk());
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ(AsChars((*got)->value), std::to_string(kThreads * kPerThread));
  EXPECT_EQ(versions.size(), static_cast<size_t>(kThreads * kPerThread));
  EXPECT_EQ((*got)->version, *versions.rbegin());
}

// Writers on their own keys share commits with writers that always lose: a conflict fails only
// its own caller, never the rest of the batch it was committed with.
TEST(SqliteRecordStore, ConflictsInABatchFailOnlyTheirOwnCaller) {
  testing::TempDir dir;
  auto store = OpenSqliteStore(dir.Sub("r.db"));
  ASSERT_THAT(store->CompareAndSet("contested", 0, AsBytes("x")), IsOk());
  constexpr int kWriters = 8;
  constexpr int kLosers = 8;
  constexpr int kPerThread = 30;
  std::atomic<int> unexpected{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kWriters; ++i) {
    threads.emplace_back([&, i] {
      const std::string key = "own/" + std::to_string(i);
      uint64_t version = 0;
      for (int n = 0; n < kPerThread; ++n) {
        auto set = store->CompareAndSet(key, version, AsBytes(std::to_string(n)));
        if (!set.ok()) {
          ++unexpected;
          ADD_FAILURE() << key << ": " << set.status().ToString();
          return;
        }
        EXPECT_GT(*set, version);
        version = *set;
      }
      if (Status deleted = store->CompareAndDelete(key, version); !deleted.ok()) {
        ++unexpected;
        ADD_FAILURE() << key << ": " << deleted.ToString();
      }
    });
  }
  for (int i = 0; i < kLosers; ++i) {
    threads.emplace_back([&, i] {
      for (int n = 0; n < kPerThread; ++n) {
        // Version 0 on an existing key, or a version nobody has: always a conflict.
        auto set =
            i % 2 ? store->CompareAndSet("contested", 0, AsBytes("lost"))
                  : store->CompareAndSet("own/" + std::to_string(i), 1u << 30, AsBytes("lost"));
        EXPECT_EQ(set.status().code(), Code::kConflict) << set.status().ToString();
        EXPECT_EQ(store->CompareAndDelete("contested", 1u << 30).code(), Code::kConflict);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(unexpected.load(), 0);
  auto contested = store->Get("contested");
  ASSERT_THAT(contested, IsOk());
  ASSERT_TRUE(contested->has_value());
  EXPECT_EQ(AsChars((*contested)->value), "x");
  for (int i = 0; i < kWriters; ++i) {
    EXPECT_FALSE(store->Get("own/" + std::to_string(i))->has_value()) << "own/" << i;
  }
}

// Every write a caller saw return is on disk: a child process writes from several threads and
// reports each returned version down a pipe; it is killed with SIGKILL mid-stream, and the
// reopened file holds at least every reported version.
TEST(SqliteRecordStore, ReturnedWritesSurviveKill9) {
  testing::TempDir dir;
  const std::string path = dir.Sub("r.db");
  { OpenSqliteStore(path); }  // create the schema before the child races on it
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  constexpr int kKeys = 6;
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(fds[0]);
    auto opened = OpenSqliteRecordStore(path);
    if (!opened.ok()) ::_exit(3);
    std::unique_ptr<RecordStore> store = std::move(opened).value();
    std::mutex pipe_mu;
    std::vector<std::thread> threads;
    for (int k = 0; k < kKeys; ++k) {
      threads.emplace_back([&, k] {
        const std::string key = "k" + std::to_string(k);
        uint64_t version = 0;
        for (int n = 0; n < 100000; ++n) {
          auto set = store->CompareAndSet(key, version, AsBytes(std::to_string(n)));
          if (!set.ok()) ::_exit(4);
          version = *set;
          const uint64_t line[2] = {static_cast<uint64_t>(k), version};
          std::lock_guard<std::mutex> lock(pipe_mu);
          if (::write(fds[1], line, sizeof line) != sizeof line) ::_exit(5);
        }
      });
    }
    for (auto& t : threads) t.join();
    ::_exit(0);
  }
  ::close(fds[1]);
  std::map<uint64_t, uint64_t> reported;  // key index -> newest version the child saw returned
  const auto stop_at = std::chrono::steady_clock::now() + std::chrono::milliseconds(700);
  uint64_t line[2];
  while (std::chrono::steady_clock::now() < stop_at &&
         ::read(fds[0], line, sizeof line) == sizeof line) {
    reported[line[0]] = std::max(reported[line[0]], line[1]);
  }
  ::kill(child, SIGKILL);
  // Versions reported after the deadline were returned too: read them all before checking.
  while (::read(fds[0], line, sizeof line) == sizeof line) {
    reported[line[0]] = std::max(reported[line[0]], line[1]);
  }
  ::close(fds[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the writer child exited early with " << status;
  ASSERT_EQ(reported.size(), static_cast<size_t>(kKeys));
  auto store = OpenSqliteStore(path);
  for (const auto& [k, version] : reported) {
    auto got = store->Get("k" + std::to_string(k));
    ASSERT_THAT(got, IsOk()) << "k" << k;
    ASSERT_TRUE(got->has_value()) << "k" << k;
    EXPECT_GE((*got)->version, version) << "k" << k << " lost a write that had returned";
  }
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
  ASSERT_THAT(store, IsOk());
  EXPECT_EQ(seen, "test-scheme://a:1,b:2");
}

}  // namespace
}  // namespace chatvault::vaultstore

// The SQLite store's operator tools in process: one process per store (StoreLock), a backup
// taken while writers keep writing is one consistent snapshot, and a restore puts it back with
// the store it replaced kept aside.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <fstream>
#include <thread>

#include "chatvault/vaultstore/sqlite_backup.h"
#include "chatvault/vaultstore/store_lock.h"
#include "chatvault/vaultstore/store_registry.h"
#include "support/status_matchers.h"
#include "support/temp_dir.h"
#include "vaultstore/open_test_store.h"

namespace chatvault::vaultstore {
namespace {

using ::chatvault::testing::IsOk;
using ::chatvault::testing::OpenSqliteStore;

TEST(StoreLock, OneHolderPerStoreAndItNamesTheOther) {
  testing::TempDir dir;
  const std::string spec = "sqlite:" + dir.Sub("r.db");
  auto first = StoreLock::Acquire(spec, "keyvaultd serve");
  ASSERT_THAT(first, IsOk());
  EXPECT_EQ(first->path(), dir.Sub("r.db.lock"));
  auto second = StoreLock::Acquire(spec, "keyvaultd restore-store");
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), Code::kUnavailable);
  EXPECT_NE(second.status().message().find("in use by keyvaultd serve (pid " +
                                           std::to_string(::getpid()) + ")"),
            std::string::npos)
      << second.status().message();
  { StoreLock released = std::move(first).value(); }
  EXPECT_THAT(StoreLock::Acquire(spec, "keyvaultd serve"), IsOk());
  // etcd is shared by design: nothing to lock.
  auto etcd = StoreLock::Acquire("etcd://127.0.0.1:2379", "keyvaultd serve");
  ASSERT_THAT(etcd, IsOk());
  EXPECT_EQ(etcd->path(), "");
}

// Writers keep moving two counters in one direction each, in the same transaction-sized steps;
// every backup taken meanwhile holds a pair that some commit held, and is an intact store.
TEST(SqliteBackup, ABackupUnderWritesIsOneConsistentSnapshot) {
  testing::TempDir dir;
  const std::string db = dir.Sub("r.db");
  auto store = OpenSqliteStore(db);
  ASSERT_THAT(store->CompareAndSet("acct/a", 0, AsBytes("0")), IsOk());
  std::atomic<int> writes{0};
  Status writer_failure;  // read only after join()
  // A jthread, so that a failed ASSERT below still stops and joins the writer.
  std::jthread writer([&](std::stop_token stop) {
    for (int n = 1; !stop.stop_requested(); ++n) {
      auto got = store->Get("acct/a");
      if (!got.ok() || !*got) {
        writer_failure = got.ok() ? Status(Code::kNotFound, "acct/a vanished") : got.status();
        return;
      }
      auto written = store->CompareAndSet("acct/a", (*got)->version, AsBytes(std::to_string(n)));
      if (!written.ok()) {
        writer_failure = written.status();
        return;
      }
      ++writes;
    }
  });
  // Each backup waits for writes after the previous one (on a loaded machine the writer may not
  // have run in between), so "the version moved on" is a fact of the run, not of its timing.
  const auto wait_for_writes_beyond = [&](int count) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (writes <= count && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return writes > count;
  };
  ASSERT_TRUE(wait_for_writes_beyond(20)) << "the writer stopped early";
  uint64_t previous_version = 0;
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(wait_for_writes_beyond(writes)) << "the writer stopped after backup " << i;
    const std::string copy = dir.Sub("backup-" + std::to_string(i) + ".db");
    auto snapshot = BackupSqliteStore(db, copy);
    ASSERT_THAT(snapshot, IsOk());
    EXPECT_EQ(snapshot->accounts, 1u);
    EXPECT_GT(snapshot->last_version, previous_version);  // writes went on between backups
    EXPECT_GT(snapshot->taken_unix_ms, 0);
    previous_version = snapshot->last_version;
    // The copy is a store of its own: its record is the one its version counter says.
    auto copied = OpenSqliteStore(copy);
    auto record = copied->Get("acct/a");
    ASSERT_THAT(record, IsOk());
    ASSERT_TRUE(record->has_value());
    EXPECT_EQ((*record)->version, snapshot->last_version);
  }
  writer.request_stop();
  writer.join();
  EXPECT_THAT(writer_failure, IsOk()) << "a write failed while backups ran";
  EXPECT_EQ(BackupSqliteStore(db, dir.Sub("backup-0.db")).status().code(), Code::kAlreadyExists);
  EXPECT_EQ(BackupSqliteStore(dir.Sub("nothing.db"), dir.Sub("b.db")).status().code(),
            Code::kNotFound);
  EXPECT_FALSE(std::ifstream(dir.Sub("nothing.db")).good()) << "a mistyped path became a store";
}

TEST(SqliteBackup, RestoreKeepsTheReplacedStoreAndRefusesJunk) {
  testing::TempDir dir;
  const std::string db = dir.Sub("r.db");
  {
    auto store = OpenSqliteStore(db);
    ASSERT_THAT(store->CompareAndSet("acct/old", 0, AsBytes("kept")), IsOk());
  }
  ASSERT_THAT(BackupSqliteStore(db, dir.Sub("b.db")), IsOk());
  {
    auto store = OpenSqliteStore(db);
    auto got = store->Get("acct/old");
    ASSERT_THAT(store->CompareAndSet("acct/old", (*got)->version, AsBytes("changed")), IsOk());
    ASSERT_THAT(store->CompareAndSet("acct/new", 0, AsBytes("after")), IsOk());
  }
  std::ofstream(dir.Sub("junk.db")) << "not a database at all";
  EXPECT_FALSE(RestoreSqliteStore(dir.Sub("junk.db"), db).ok());
  auto restored = RestoreSqliteStore(dir.Sub("b.db"), db);
  ASSERT_THAT(restored, IsOk());
  EXPECT_EQ(restored->accounts, 1u);
  auto store = OpenSqliteStore(db);
  EXPECT_EQ(std::string(AsChars((*store->Get("acct/old"))->value)), "kept");
  EXPECT_FALSE(store->Get("acct/new")->has_value());
  auto keys = store->ListKeys("acct/");
  ASSERT_THAT(keys, IsOk());
  EXPECT_EQ(*keys, std::vector<std::string>{"acct/old"});
  // Writes go on from the restored state, with versions above the backup's.
  auto got = store->Get("acct/old");
  EXPECT_THAT(store->CompareAndSet("acct/old", (*got)->version, AsBytes("next")), IsOk());
  // The replaced store is beside it, whole.
  bool kept_aside = false;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with("r.db.before-restore-") && !name.ends_with("-wal")) {
      auto aside = OpenSqliteStore(entry.path().string());
      EXPECT_EQ(std::string(AsChars((*aside->Get("acct/new"))->value)), "after");
      kept_aside = true;
    }
  }
  EXPECT_TRUE(kept_aside);
}

}  // namespace
}  // namespace chatvault::vaultstore

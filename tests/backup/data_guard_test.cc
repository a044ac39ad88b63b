// What the backup reads: a backup that looks like lost data does not become current, a media
// file that cannot be read is skipped and listed, and a read-only chat directory (or a read-only
// copy of one) is backed up without writing to it.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "backup/engine_fixture.h"
#include "backup/sqlite_snapshot.h"
#include "support/file_access.h"
#include "support/status_matchers.h"

namespace chatvault::backup {
namespace {
namespace fs = std::filesystem;
using chatvault::testing::Exec;
using ::chatvault::testing::IsOk;
using chatvault::testing::PseudoRandom;
using ::chatvault::testing::StatusIs;
using chatvault::testing::WithoutFileAccessOverride;
using chatvault::testing::WriteFile;
using ::testing::HasSubstr;

// True when file modes bind this thread (not root, or root without its overriding capabilities).
bool ModesApply(const std::string& scratch) {
  WriteFile(scratch, {1});
  ::chmod(scratch.c_str(), 0);
  // open(), not access(): access() checks as if root kept its capabilities.
  const int fd = ::open(scratch.c_str(), O_RDONLY);
  if (fd >= 0) ::close(fd);
  ::unlink(scratch.c_str());
  const bool denied = fd < 0;
  return denied;
}

// Makes a tree read-only (or writable again): directories 0555/0755, files 0444/0644.
void SetWritable(const std::string& root, bool writable) {
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    ::chmod(e.path().c_str(),
            e.is_directory() ? (writable ? 0755 : 0555) : (writable ? 0644 : 0444));
  }
  ::chmod(root.c_str(), writable ? 0755 : 0555);
}

class DataGuard : public BackupEngine {};

TEST_F(DataGuard, EmptiedDatabaseDoesNotBecomeCurrent) {
  auto first = Backup();
  ASSERT_THAT(first, IsOk());
  EXPECT_EQ(first->messages, 3000u);
  ASSERT_TRUE(Exec(data_ + "/msgstore.db", "DELETE FROM messages"));

  ASSERT_THAT(Backup(),
              StatusIs(Code::kSuspiciousData, HasSubstr("0 messages where backup 1 holds 3000")));
  EXPECT_EQ(ObjectNames("current/"), std::vector<std::string>{"current/0000000001"});
  EXPECT_EQ(MessagesIn(RestoreAs("good")), 3000);

  options_.allow_shrink = true;
  auto allowed = Backup();
  ASSERT_THAT(allowed, IsOk());
  EXPECT_EQ(allowed->messages, 0u);
  ASSERT_EQ(allowed->warnings.size(), 1u);
  // Yesterday's copy is still kept next to the shrunken one.
  auto listed = ListBackups(*provider_, key_);
  ASSERT_THAT(listed, IsOk());
  ASSERT_EQ(listed->backups.size(), 2u);
  EXPECT_EQ(listed->backups[0].messages, 3000u);
}

TEST_F(DataGuard, HalfOfTheMessagesIsStillFine) {
  ASSERT_TRUE(Backup().ok());
  ASSERT_TRUE(Exec(data_ + "/msgstore.db", "DELETE FROM messages WHERE id <= 1500"));
  auto half = Backup();
  ASSERT_THAT(half, IsOk());
  EXPECT_EQ(half->messages, 1500u);
  EXPECT_TRUE(half->warnings.empty());
}

TEST_F(DataGuard, DamagedDatabaseDoesNotBecomeCurrent) {
  ASSERT_TRUE(Backup().ok());
  // Garbage over the cell pointers of a page in the middle of the messages table.
  const std::string db = data_ + "/msgstore.db";
  auto bytes = chatvault::testing::ReadFile(db);
  const size_t page = 4096 * (bytes.size() / 4096 / 2);
  std::fill(bytes.begin() + static_cast<ptrdiff_t>(page) + 8,
            bytes.begin() + static_cast<ptrdiff_t>(page) + 72, 0xff);
  WriteFile(db, bytes);
  ASSERT_THAT(Backup(), StatusIs(Code::kSuspiciousData, HasSubstr("integrity check")));
  EXPECT_EQ(MessagesIn(RestoreAs("good")), 3000);
}

TEST_F(DataGuard, MostMediaGoneDoesNotBecomeCurrent) {
  for (int i = 0; i < 12; ++i) {
    WriteFile(data_ + "/Media/Many/m" + std::to_string(i) + ".bin", PseudoRandom(1000, 50 + i));
  }
  ASSERT_TRUE(Backup().ok());  // 15 media files
  fs::remove_all(data_ + "/Media/Many");
  ASSERT_THAT(Backup(),
              StatusIs(Code::kSuspiciousData, HasSubstr("3 media files where backup 1 holds 15")));
}

// The first backup has nothing to protect: a damaged or empty database is still backed up.
TEST_F(DataGuard, FirstBackupIsNeverHeldBack) {
  ASSERT_TRUE(Exec(data_ + "/msgstore.db", "DELETE FROM messages"));
  auto first = Backup();
  ASSERT_THAT(first, IsOk());
  EXPECT_EQ(first->messages, 0u);
}

TEST(CountMessages, PrefersTheMessageTableAndKnowsWhenThereIsNone) {
  chatvault::testing::TempDir dir;
  const std::string db = dir.Sub("m.db");
  ASSERT_TRUE(Exec(db,
                   "CREATE TABLE message(_id INTEGER PRIMARY KEY); INSERT INTO message "
                   "VALUES (1), (2); CREATE TABLE messages(id); INSERT INTO messages VALUES (1)"));
  auto counted = CountMessages(db);
  ASSERT_THAT(counted, IsOk());
  EXPECT_EQ(*counted, 2u);
  const std::string other = dir.Sub("other.db");
  ASSERT_TRUE(Exec(other, "CREATE TABLE contacts(id)"));
  auto none = CountMessages(other);
  ASSERT_THAT(none, IsOk());
  EXPECT_FALSE(none->has_value());
}

TEST_F(DataGuard, UnreadableMediaIsSkippedAndListed) {
  WithoutFileAccessOverride modes;
  ASSERT_TRUE(ModesApply(dir_.Sub("probe"))) << "cannot make a file unreadable here";
  const std::string secret = data_ + "/Media/Images/file1.bin";
  ::chmod(secret.c_str(), 0);
  WriteFile(data_ + "/Media/Locked/a.bin", {1, 2, 3});
  ::chmod((data_ + "/Media/Locked").c_str(), 0);

  auto summary = Backup();
  ::chmod(secret.c_str(), 0644);
  ::chmod((data_ + "/Media/Locked").c_str(), 0755);
  ASSERT_THAT(summary, IsOk());
  EXPECT_TRUE(summary->CompletedWithSkippedFiles());
  ASSERT_EQ(summary->skipped.size(), 2u);
  EXPECT_EQ(summary->skipped[0].path, "Media/Locked/");
  EXPECT_EQ(summary->skipped[1].path, "Media/Images/file1.bin");
  EXPECT_NE(summary->skipped[1].reason.find("Permission denied"), std::string::npos)
      << summary->skipped[1].reason;
  EXPECT_EQ(summary->files, 3u);  // the database and the two readable media files

  const std::string out = RestoreAs("restored");
  EXPECT_FALSE(fs::exists(out + "/Media/Images/file1.bin"));
  EXPECT_TRUE(fs::exists(out + "/Media/Voice/file0.bin"));
  auto listed = ListBackups(*provider_, key_);
  ASSERT_THAT(listed, IsOk());
  EXPECT_EQ(listed->backups.back().skipped_files, 2u);
}

TEST_F(DataGuard, UnreadableDatabaseIsAnError) {
  WithoutFileAccessOverride modes;
  ASSERT_TRUE(ModesApply(dir_.Sub("probe")));
  ::chmod((data_ + "/msgstore.db").c_str(), 0);
  auto failed = Backup();
  ::chmod((data_ + "/msgstore.db").c_str(), 0644);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), Code::kIo) << failed.status().ToString();
  EXPECT_TRUE(ObjectNames("current/").empty());
}

// The chat directory as a read-only mount or snapshot would show it: no -wal or -shm files
// (SQLite deleted them when the app closed the database) and no way to create them.
TEST_F(DataGuard, ReadOnlyChatDirectoryIsBackedUp) {
  WithoutFileAccessOverride modes;
  ASSERT_TRUE(ModesApply(dir_.Sub("probe")));
  SetWritable(data_, false);
  auto summary = Backup();
  SetWritable(data_, true);
  ASSERT_THAT(summary, IsOk());
  EXPECT_EQ(summary->files, 4u);
  EXPECT_EQ(MessagesIn(RestoreAs("restored")), 3000);
}

// A read-only copy taken while the app had the database open: committed transactions are still
// in msgstore.db-wal. They must be in the backup (SQLite's immutable mode would drop them).
TEST_F(DataGuard, ReadOnlyCopyWithAWriteAheadLogKeepsItsLatestMessages) {
  sqlite3* app = nullptr;
  ASSERT_EQ(sqlite3_open((data_ + "/msgstore.db").c_str(), &app), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(app,
                         "PRAGMA wal_autocheckpoint=0; INSERT INTO messages(body, ts) "
                         "SELECT body, ts FROM messages LIMIT 250",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  const std::string copy = dir_.Sub("copy");
  fs::copy(data_, copy, fs::copy_options::recursive);
  sqlite3_close(app);
  ASSERT_TRUE(fs::exists(copy + "/msgstore.db-wal"));
  ASSERT_GT(fs::file_size(copy + "/msgstore.db-wal"), 0u);

  WithoutFileAccessOverride modes;
  ASSERT_TRUE(ModesApply(dir_.Sub("probe")));
  for (bool with_shm : {true, false}) {
    SCOPED_TRACE(with_shm ? "with -shm" : "without -shm");
    if (!with_shm) fs::remove(copy + "/msgstore.db-shm");
    SetWritable(copy, false);
    auto summary = RunBackup(copy, *provider_, key_, options_);
    SetWritable(copy, true);
    ASSERT_THAT(summary, IsOk());
    EXPECT_EQ(summary->messages, 3250u);
    EXPECT_EQ(MessagesIn(RestoreAs(with_shm ? "with-shm" : "without-shm")), 3250);
  }
}

}  // namespace
}  // namespace chatvault::backup

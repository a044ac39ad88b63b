// Issue 11 through the real binary: nothing a user does silently destroys their only good
// backup. Each test is one of the cases, with the exit code scripts rely on.
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>

#include "e2e/cli_test_base.h"

namespace chatvault::testing {
namespace {
namespace fs = std::filesystem;

constexpr int kExitWrongKey = 4;
constexpr int kExitForeignBackup = 11;
constexpr int kExitSuspiciousData = 12;
constexpr int kExitRolledBack = 13;
constexpr int kExitNoSpace = 14;
constexpr int kExitSkippedFiles = 15;

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

class CliSafety : public CliTest {
 protected:
  std::vector<std::string> Names(const std::string& sub) {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(store_ + "/" + sub)) {
      out.push_back(e.path().filename().string());
    }
    std::sort(out.begin(), out.end());
    return out;
  }
};

// Case 1: a second device set up with a new key and pointed at the location.
TEST_F(CliSafety, SecondDeviceWithANewKeyDoesNotReplaceTheBackup) {
  InitReady(cli_, store_);
  ASSERT_EQ(cli_.Run({"backup"}).rc, 0);

  Cli phone(dir_, "home-phone");
  auto r = phone.Run({"init", "--key", "--data", data_, "--to", store_, "--i-saved-the-key"});
  EXPECT_EQ(r.rc, kExitForeignBackup) << r.err;
  EXPECT_TRUE(Contains(r.err, "different key")) << r.err;
  EXPECT_TRUE(Contains(r.err, "--replace-other-backup")) << r.err;
  EXPECT_FALSE(fs::exists(phone.key_file()));  // nothing was set up

  // Set up elsewhere, then pointed at the location by hand: refused too, nothing written.
  InitReady(phone, dir_.Sub("elsewhere"));
  r = phone.Run({"backup", "--to", store_});
  EXPECT_EQ(r.rc, kExitForeignBackup) << r.err;
  EXPECT_EQ(Names("current"), std::vector<std::string>{"0000000001"});
  EXPECT_EQ(RestoredMessages(cli_), 3000);

  r = phone.Run({"--json", "backup", "--to", store_, "--replace-other-backup"});
  ASSERT_EQ(r.rc, 0) << r.out << r.err;
  EXPECT_EQ(Names("current"), std::vector<std::string>{"0000000002"});
  auto listed = phone.Run({"--json", "backups", "--from", store_, "--key-file", phone.key_file()});
  ASSERT_EQ(listed.rc, 0) << listed.err;
  EXPECT_EQ(listed.Json()["backups"].size(), 1u);
  EXPECT_EQ(listed.Json()["other_key_backups"], 0);
  size_t chunks = 0;
  for (const auto& e : fs::recursive_directory_iterator(store_ + "/chunks"))
    chunks += e.is_regular_file();
  EXPECT_EQ(chunks, r.Json()["chunks"].get<size_t>());  // every old object is gone
  auto old = cli_.Run({"verify"});
  EXPECT_EQ(old.rc, kExitWrongKey) << old.err;
}

// Agreeing at setup is enough: the first backup then replaces the other key's backup.
TEST_F(CliSafety, SetupThatAgreedToReplaceIsNotAskedAgain) {
  InitReady(cli_, store_);
  ASSERT_EQ(cli_.Run({"backup"}).rc, 0);
  Cli phone(dir_, "home-phone");
  InitReady(phone, store_, {"--replace-other-backup"});
  auto r = phone.Run({"backup"});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(Names("current"), std::vector<std::string>{"0000000002"});
  EXPECT_EQ(RestoredMessages(phone), 3000);
  // The agreement was for that one replacement.
  Cli third(dir_, "home-third");
  InitReady(third, dir_.Sub("elsewhere"));
  EXPECT_EQ(third.Run({"backup", "--to", store_}).rc, kExitForeignBackup);
}

// On a terminal the flag alone is not enough: the user types REPLACE.
TEST_F(CliSafety, ReplacingOnATerminalTakesTypingReplace) {
  if (!Cli::HasTerminalRunner()) GTEST_SKIP() << "no script(1) here";
  InitReady(cli_, store_);
  ASSERT_EQ(cli_.Run({"backup"}).rc, 0);
  Cli phone(dir_, "home-phone");
  InitReady(phone, dir_.Sub("elsewhere"));
  const std::vector<std::string> replace = {"backup", "--to", store_, "--replace-other-backup"};
  auto r = phone.RunOnTerminal(replace, "yes\n");
  EXPECT_EQ(r.rc, 10) << r.out;
  EXPECT_TRUE(Contains(r.out, "Type REPLACE")) << r.out;
  EXPECT_TRUE(Contains(r.out, "nothing was replaced")) << r.out;
  EXPECT_EQ(Names("current"), std::vector<std::string>{"0000000001"});

  r = phone.RunOnTerminal(replace, "REPLACE\n");
  EXPECT_EQ(r.rc, 0) << r.out;
  EXPECT_EQ(Names("current"), std::vector<std::string>{"0000000002"});
}

// Case 2: a wiped message database does not overwrite the only good copy; history and
// `restore --backup N` bring back yesterday's.
TEST_F(CliSafety, WipedDatabaseDoesNotReplaceTheGoodBackup) {
  InitReady(cli_, store_);
  ASSERT_EQ(cli_.Run({"backup"}).rc, 0);
  ASSERT_TRUE(Exec(data_ + "/msgstore.db", "DELETE FROM messages"));
  auto r = cli_.Run({"backup"});
  EXPECT_EQ(r.rc, kExitSuspiciousData) << r.err;
  EXPECT_TRUE(Contains(r.err, "0 messages where backup 1 holds 3000")) << r.err;
  EXPECT_TRUE(Contains(r.err, "--allow-shrink")) << r.err;
  EXPECT_EQ(RestoredMessages(cli_), 3000);

  r = cli_.Run({"backup", "--allow-shrink"});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_TRUE(Contains(r.err, "WARNING")) << r.err;
  auto listed = cli_.Run({"--json", "backups"});
  ASSERT_EQ(listed.rc, 0) << listed.err;
  const auto backups = listed.Json()["backups"];
  ASSERT_EQ(backups.size(), 2u);
  EXPECT_EQ(backups[0]["messages"], 3000);
  EXPECT_EQ(backups[1]["messages"], 0);
  EXPECT_EQ(RestoredMessages(cli_, {"--backup", "1"}), 3000);
  auto text = cli_.Run({"backups"});
  EXPECT_TRUE(Contains(text.out, "3000 messages")) << text.out;
}

// Case 7: a full disk on restore is its own error, said before anything is written.
TEST_F(CliSafety, FullDiskOnRestoreIsItsOwnError) {
  InitReady(cli_, store_);
  ASSERT_EQ(cli_.Run({"backup"}).rc, 0);
  const std::string disk = dir_.Sub("disk");
  fs::create_directories(disk);
  // A 1 MiB tmpfs in a mount namespace of this test process (and the chatvault it starts).
  if (::unshare(CLONE_NEWNS) != 0 ||
      ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
      ::mount("tmpfs", disk.c_str(), "tmpfs", 0, "size=1m") != 0) {
    GTEST_SKIP() << "this machine does not let a test mount a tmpfs";
  }
  auto r =
      cli_.Run({"restore", "--from", store_, "--to", disk + "/out", "--key-file", cli_.key_file()});
  EXPECT_EQ(r.rc, kExitNoSpace) << r.err;
  EXPECT_TRUE(Contains(r.err, "not enough space")) << r.err;
  EXPECT_TRUE(Contains(r.err, "have 1.0 MiB")) << r.err;
  EXPECT_FALSE(Contains(r.err, "damaged")) << r.err;
  EXPECT_FALSE(fs::exists(disk + "/out"));
  ::umount(disk.c_str());
}

// Case 11: a killed restore's temp files block nothing; a wrong key leaves no directory.
TEST_F(CliSafety, KilledRestoreLeavesNothingThatBlocksTheRerun) {
  InitReady(cli_, store_);
  ASSERT_EQ(cli_.Run({"backup"}).rc, 0);
  const std::string out = dir_.Sub("restored");
  auto killed = cli_.Run({"restore", "--from", store_, "--to", out, "--key-file", cli_.key_file()},
                         {{"CHATVAULT_TEST_CRASH_AFTER", "restore-chunk"}});
  ASSERT_EQ(killed.rc, 99) << killed.err;
  size_t temp_files = 0;
  for (const auto& e : fs::recursive_directory_iterator(out)) {
    temp_files += e.path().filename().string().starts_with(".chatvault-restore-");
  }
  ASSERT_GT(temp_files, 0u);  // the crash left partial files, as a kill -9 would

  // A backup of a directory holding such files does not take them as media.
  fs::copy(out, data_ + "/Media/Leftover", fs::copy_options::recursive);
  auto b = cli_.Run({"--json", "backup"});
  ASSERT_EQ(b.rc, 0) << b.err;
  EXPECT_EQ(b.Json()["files"], 4);

  auto rerun = cli_.Run({"restore", "--from", store_, "--to", out, "--key-file", cli_.key_file()});
  ASSERT_EQ(rerun.rc, 0) << rerun.err;  // no --force needed
  for (const auto& e : fs::recursive_directory_iterator(out)) {
    EXPECT_FALSE(e.path().filename().string().starts_with(".chatvault-restore-")) << e.path();
  }
  EXPECT_EQ(QueryInt(out + "/msgstore.db", "SELECT count(*) FROM messages"), 3000);

  auto wrong = cli_.Run(
      {"restore", "--from", store_, "--to", dir_.Sub("wrong"), "--key", std::string(64, 'a')});
  EXPECT_EQ(wrong.rc, kExitWrongKey) << wrong.err;
  EXPECT_FALSE(fs::exists(dir_.Sub("wrong")));
}

// Case 8: an unreadable media file is skipped and listed; a read-only chat directory backs up.
TEST_F(CliSafety, UnreadableMediaIsSkippedAndReadOnlyDataIsBackedUp) {
  InitReady(cli_, store_);
  cli_.set_without_file_access_override(true);
  const std::string photo = data_ + "/Media/Images/file1.bin";
  ::chmod(photo.c_str(), 0);
  auto r = cli_.Run({"--json", "backup"});
  EXPECT_EQ(r.rc, kExitSkippedFiles) << r.out << r.err;
  auto json = r.Json();
  EXPECT_EQ(json["completed_with_skipped_files"], true) << r.out;
  ASSERT_EQ(json["skipped"].size(), 1u) << r.out;
  EXPECT_EQ(json["skipped"][0]["path"], "Media/Images/file1.bin");
  EXPECT_EQ(json["files"], 3);
  r = cli_.Run({"backup"});
  EXPECT_EQ(r.rc, kExitSkippedFiles) << r.err;
  EXPECT_TRUE(Contains(r.err, "skipped Media/Images/file1.bin")) << r.err;
  EXPECT_TRUE(Contains(r.out, "Completed with skipped files")) << r.out;
  ::chmod(photo.c_str(), 0644);

  for (const auto& e : fs::recursive_directory_iterator(data_)) {
    ::chmod(e.path().c_str(), e.is_directory() ? 0555 : 0444);
  }
  ::chmod(data_.c_str(), 0555);
  r = cli_.Run({"backup"});
  ::chmod(data_.c_str(), 0755);
  for (const auto& e : fs::recursive_directory_iterator(data_)) {
    ::chmod(e.path().c_str(), e.is_directory() ? 0755 : 0644);
  }
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(RestoredMessages(cli_), 3000);
}

// Case 12: the device that committed backup 2 notices a location that serves backup 1 again.
TEST_F(CliSafety, RollbackIsNoticedByTheDeviceThatMadeTheBackups) {
  InitReady(cli_, store_);
  ASSERT_EQ(cli_.Run({"backup"}).rc, 0);
  fs::copy(store_, dir_.Sub("store-at-1"), fs::copy_options::recursive);
  ASSERT_TRUE(AddMessages(data_ + "/msgstore.db", 40));
  ASSERT_EQ(cli_.Run({"backup"}).rc, 0);
  fs::remove_all(store_);
  fs::rename(dir_.Sub("store-at-1"), store_);

  auto r = cli_.Run({"backup"});
  EXPECT_EQ(r.rc, kExitRolledBack) << r.err;
  EXPECT_TRUE(Contains(r.err, "older than backup 2")) << r.err;
  auto v = cli_.Run({"verify"});
  EXPECT_EQ(v.rc, 0) << v.err;
  EXPECT_TRUE(Contains(v.err, "WARNING")) << v.err;
  EXPECT_TRUE(Contains(v.err, "rolled back")) << v.err;
  auto restore = cli_.Run(
      {"restore", "--from", store_, "--to", dir_.Sub("out"), "--key-file", cli_.key_file()});
  EXPECT_EQ(restore.rc, 0) << restore.err;
  EXPECT_TRUE(Contains(restore.err, "rolled back")) << restore.err;

  r = cli_.Run({"backup", "--accept-rollback"});
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_TRUE(Contains(r.out, "Backup 3 done")) << r.out;
}

// Case 13: a junk pointer planted at the location is ignored and the last backup survives.
TEST_F(CliSafety, JunkPointerIsIgnored) {
  InitReady(cli_, store_);
  ASSERT_EQ(cli_.Run({"backup"}).rc, 0);
  WriteFile(store_ + "/current/9999999999999999999", {'j', 'u', 'n', 'k'});
  auto r = cli_.Run({"backup"});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_TRUE(Contains(r.out, "Backup 2 done")) << r.out;
  EXPECT_EQ(Names("current"),
            (std::vector<std::string>{"0000000001", "0000000002", "9999999999999999999"}));
  auto v = cli_.Run({"verify"});
  EXPECT_EQ(v.rc, 0) << v.err;
  EXPECT_TRUE(Contains(v.out, "Backup 2 is intact")) << v.out;
}

}  // namespace
}  // namespace chatvault::testing

// Crash safety: a backup killed at any commit step (a simulated crash via
// CHATVAULT_TEST_CRASH_AFTER, and real SIGKILLs at random moments) leaves the previous backup
// restorable, and the next backup completes. Plus a concurrent writer process during backup.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <random>
#include <thread>

#include "e2e/cli_test_base.h"

namespace chatvault::testing {
namespace {
namespace fs = std::filesystem;

class CliCrash : public CliTest {
 protected:
  void SetUp() override {
    ChatDirSpec spec;
    spec.media_sizes = {60 * 1024, 700 * 1024, 2 * 1024 * 1024, 3 * 1024 * 1024};
    MakeData(spec);
    InitReady();
  }

  // Restores the current backup into a fresh directory; returns its message count (-1 on failure).
  int64_t RestoreCount() { return RestoredMessages(cli_); }

  // New data for the next backup: more messages and a new media file.
  void Change(int round) {
    ASSERT_TRUE(AddMessages(data_ + "/msgstore.db", 500));
    WriteFile(data_ + "/Media/Images/round" + std::to_string(round) + ".bin",
              PseudoRandom(900 * 1024, 1000 + round));
  }
};

TEST_F(CliCrash, CrashAtEachCommitStepKeepsPreviousBackupAndRerunCompletes) {
  ASSERT_EQ(cli_.Run({"backup"}).rc, 0);
  int round = 0;
  for (const std::string step : {"snapshot", "chunk", "chunks", "manifest", "pointer", "cleanup"}) {
    SCOPED_TRACE(step);
    const int64_t before = MessagesIn(data_);
    Change(++round);
    const int64_t after = MessagesIn(data_);
    auto crashed = cli_.Run({"backup"}, {{"CHATVAULT_TEST_CRASH_AFTER", step}});
    EXPECT_EQ(crashed.rc, 99) << crashed.err;
    // Before the pointer is written the old backup is current; from then on the new one is.
    const bool committed = std::string(step) == "pointer" || std::string(step) == "cleanup";
    EXPECT_EQ(RestoreCount(), committed ? after : before);
    auto rerun = cli_.Run({"--json", "backup"});
    ASSERT_EQ(rerun.rc, 0) << rerun.err;
    if (step == std::string("chunks") || step == std::string("manifest")) {
      // Everything was uploaded before the crash: the re-run uploads nothing new.
      EXPECT_EQ(rerun.Json()["new_chunks"], 0) << rerun.out;
    }
    EXPECT_EQ(RestoreCount(), after);
  }
  // No garbage survives a completed backup: keeping only the newest, every stored chunk is its.
  ASSERT_EQ(cli_.Run({"backup", "--keep", "1"}).rc, 0);
  auto v = cli_.Run({"--json", "verify"});
  ASSERT_EQ(v.rc, 0);
  size_t stored_chunks = 0;
  for (const auto& e : fs::recursive_directory_iterator(store_ + "/chunks"))
    stored_chunks += e.is_regular_file();
  EXPECT_EQ(stored_chunks, v.Json()["chunks"].get<size_t>());
}

// A database alone, large enough for several regions, and a change that makes a backup both
// rewrite a base chunk (every row of the first MiB changes in place) and write a pack.
class CliRebaseCrash : public ::testing::Test {
 protected:
  void SetUp() override {
    ChatDirSpec spec;
    spec.messages = 20000;
    spec.media_sizes = {};
    ASSERT_TRUE(MakeChatDir(data_, spec));
    auto r = cli_.Run({"init", "--key", "--data", data_, "--to", store_, "--i-saved-the-key"});
    ASSERT_EQ(r.rc, 0) << r.err;
    ASSERT_EQ(cli_.Run({"backup"}).rc, 0);
  }

  void Change(int round) {
    const std::string db = data_ + "/msgstore.db";
    ASSERT_TRUE(Exec(db, "UPDATE messages SET body = substr(body, 1, length(body) - 1) || char(" +
                             std::to_string(65 + round % 26) + ") WHERE id <= 6000"));
    ASSERT_TRUE(Exec(db, "UPDATE messages SET body = 'scattered " + std::to_string(round) +
                             "' WHERE id % 997 = 0"));
    ASSERT_TRUE(AddMessages(db, 50));
  }

  std::vector<uint8_t> Expected() { return DatabaseCopy(data_ + "/msgstore.db", dir_.Sub("x.db")); }

  // Restores the current backup into a fresh directory; its msgstore.db (empty on failure).
  std::vector<uint8_t> Restored() {
    const std::string out = dir_.Sub("out" + std::to_string(restores_++));
    auto r = cli_.Run({"restore", "--from", store_, "--to", out, "--key-file", cli_.key_file()});
    EXPECT_EQ(r.rc, 0) << r.err;
    return ReadFile(out + "/msgstore.db");
  }

  TempDir dir_;
  Cli cli_{dir_};
  std::string data_ = dir_.Sub("data");
  std::string store_ = dir_.Sub("store");
  int restores_ = 0;
};

TEST_F(CliRebaseCrash, ARebaseKilledAtEachStepLosesNothingAndTheRerunCompletesIt) {
  // The change does what the test is about: a new base chunk and a pack.
  Change(0);
  auto plain = cli_.Run({"--json", "backup"});
  ASSERT_EQ(plain.rc, 0) << plain.err;
  ASSERT_GE(plain.Json()["database"]["chunks_written"].get<int>(), 1) << plain.out;
  ASSERT_GE(plain.Json()["database"]["packs_written"].get<int>(), 1) << plain.out;
  int round = 0;
  for (const std::string step : {"snapshot", "rebase", "pack", "pagehashes", "chunks", "manifest",
                                 "pointer", "cache", "cleanup"}) {
    SCOPED_TRACE(step);
    const std::vector<uint8_t> before = Expected();
    Change(++round);
    const std::vector<uint8_t> after = Expected();
    auto crashed = cli_.Run({"backup"}, {{"CHATVAULT_TEST_CRASH_AFTER", step}});
    EXPECT_EQ(crashed.rc, 99) << crashed.err;
    const bool committed = step == "pointer" || step == "cache" || step == "cleanup";
    EXPECT_TRUE(Restored() == (committed ? after : before));
    auto rerun = cli_.Run({"--json", "backup"});
    ASSERT_EQ(rerun.rc, 0) << rerun.err;
    if (step == "chunks" || step == "manifest") {
      // Everything was uploaded before the crash: the same pages give the same objects.
      EXPECT_EQ(rerun.Json()["bytes_uploaded"], 0) << rerun.out;
    }
    EXPECT_TRUE(Restored() == after);
  }
  // No garbage survives: keeping only the newest backup, every pack at the location is its.
  auto last = cli_.Run({"--json", "backup", "--keep", "1"});
  ASSERT_EQ(last.rc, 0);
  size_t packs = 0;
  for (const auto& e : fs::recursive_directory_iterator(store_ + "/packs"))
    packs += e.is_regular_file();
  EXPECT_EQ(packs, last.Json()["database"]["packs"].get<size_t>());
}

TEST_F(CliCrash, SigkillAtRandomMomentsNeverLosesTheBackup) {
  auto first = cli_.Run({"--json", "backup"});
  ASSERT_EQ(first.rc, 0);
  // Kill within the time a full backup takes, so every phase gets hit sooner or later.
  const double full_seconds = std::max(0.2, first.Json()["seconds"].get<double>() * 2);
  std::mt19937 rng(std::random_device{}());
  int64_t committed = MessagesIn(data_);
  for (int round = 1; round <= 4; ++round) {
    Change(round);
    const int64_t changed = MessagesIn(data_);
    // Same location every round: leftovers of the killed run must not hurt the next one.
    const pid_t pid = cli_.Start({"backup"});
    std::uniform_int_distribution<int> delay_ms(0, static_cast<int>(full_seconds * 1000));
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(rng)));
    ::kill(pid, SIGKILL);
    const CliResult killed = cli_.Wait(pid);
    const int64_t restored = RestoreCount();
    if (killed.rc == 0) committed = changed;  // it finished before the kill
    EXPECT_TRUE(restored == committed || restored == changed) << restored;
    ASSERT_EQ(cli_.Run({"backup"}).rc, 0);
    // The killed run's snapshot staging file does not pile up.
    for (const auto& e : fs::directory_iterator(cli_.home() + "/tmp")) {
      EXPECT_FALSE(e.path().filename().string().starts_with("chatvault-snapshot-")) << e.path();
    }
    committed = changed;
    EXPECT_EQ(RestoreCount(), changed);
  }
}

TEST_F(CliCrash, ConcurrentWriterProcessGivesConsistentPrefix) {
  const int64_t initial = MessagesIn(data_);
  const pid_t writer = ::fork();
  if (writer == 0) {
    // Writes batches of 7 messages, one transaction each, until killed.
    for (;;) AddMessages(data_ + "/msgstore.db", 7);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto b = cli_.Run({"backup"});
  ::kill(writer, SIGKILL);
  ::waitpid(writer, nullptr, 0);
  ASSERT_EQ(b.rc, 0) << b.err;
  const std::string out = dir_.Sub("restored");
  auto r = cli_.Run({"restore", "--from", store_, "--to", out, "--key-file", cli_.key_file()});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(QueryInt(out + "/msgstore.db", "PRAGMA integrity_check"), 1);
  const int64_t n = MessagesIn(out);
  EXPECT_GT(n, initial);            // the writer had committed some rows
  EXPECT_EQ((n - initial) % 7, 0);  // whole transactions only
  EXPECT_EQ(QueryInt(out + "/msgstore.db", "SELECT max(id) FROM messages"), n);  // no gaps
}

}  // namespace
}  // namespace chatvault::testing

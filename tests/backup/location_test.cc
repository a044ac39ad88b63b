// Whose backups a location holds and which of them count: another key's backup is not replaced
// without consent, the last N backups of a key are kept and restorable, a location that went back
// in time is noticed, and objects that only look like backups are never taken for one.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "backup/engine_fixture.h"
#include "support/status_matchers.h"

namespace chatvault::backup {
namespace {
namespace fs = std::filesystem;
using chatvault::testing::AddMessages;
using ::chatvault::testing::IsOk;
using chatvault::testing::PseudoRandom;
using chatvault::testing::WriteFile;

// A provider whose deletes fail: a cleanup that cannot finish, as when the network drops.
class NoDeletes : public storage::Provider {
 public:
  explicit NoDeletes(storage::Provider& inner) : inner_(inner) {}
  std::string Describe() const override { return inner_.Describe(); }
  Status PutIfAbsent(std::string_view n, ByteView d) override { return inner_.PutIfAbsent(n, d); }
  Status Put(std::string_view n, ByteView d) override { return inner_.Put(n, d); }
  Result<Bytes> Get(std::string_view n) override { return inner_.Get(n); }
  Result<std::vector<storage::ObjectInfo>> List(std::string_view p) override {
    return inner_.List(p);
  }
  Status Delete(std::string_view) override { return Unavailable("deletes fail in this test"); }

 private:
  storage::Provider& inner_;
};

class Location : public BackupEngine {
 protected:
  // Every object name under the location, for "nothing changed" checks.
  std::set<std::string> AllObjects() {
    std::set<std::string> out;
    for (const char* prefix : {"chunks/", "manifests/", "current/"}) {
      for (auto& n : ObjectNames(prefix)) out.insert(n);
    }
    return out;
  }

  key::BackupKey other_ = key::BackupKey::Generate();
};

TEST_F(Location, AnotherKeysBackupIsNotReplacedWithoutConsent) {
  ASSERT_TRUE(Backup().ok());
  const auto before = AllObjects();

  EXPECT_EQ(CheckLocation(*provider_, key_, {}).code(), Code::kOk);
  EXPECT_EQ(CheckLocation(*provider_, other_, {}).code(), Code::kForeignBackup);
  auto refused = RunBackup(data_, *provider_, other_, options_);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), Code::kForeignBackup) << refused.status().ToString();
  EXPECT_NE(refused.status().message().find("different key"), std::string::npos);
  EXPECT_EQ(AllObjects(), before);  // not a byte written
  EXPECT_EQ(MessagesIn(RestoreAs("still-there")), 3000);
}

TEST_F(Location, ReplacingDeletesEveryObjectOfTheOtherKey) {
  ASSERT_TRUE(Backup().ok());
  ASSERT_TRUE(AddMessages(data_ + "/msgstore.db", 10));
  ASSERT_TRUE(Backup().ok());  // two backups of the first key
  options_.replace_other_backup = true;
  auto replaced = RunBackup(data_, *provider_, other_, options_);
  ASSERT_THAT(replaced, IsOk());
  EXPECT_EQ(replaced->sequence, 3u);  // numbered above the old key's, so no name is reused
  EXPECT_EQ(ObjectNames("current/"), std::vector<std::string>{"current/0000000003"});
  EXPECT_EQ(ObjectNames("manifests/"), std::vector<std::string>{"manifests/0000000003"});
  EXPECT_EQ(ObjectNames("chunks/").size(), replaced->chunks);  // none of the old key's left
  EXPECT_EQ(RunRestore(*provider_, key_, dir_.Sub("old-key"), {}).status().code(), Code::kWrongKey);
  EXPECT_FALSE(fs::exists(dir_.Sub("old-key")));
}

// A key change whose cleanup did not finish is completed by the next backup of the new key,
// which is not refused: the location's newest backup is already the new key's.
TEST_F(Location, InterruptedKeyChangeIsCompletedByTheNextBackup) {
  ASSERT_TRUE(Backup().ok());
  NoDeletes flaky(*provider_);
  options_.replace_other_backup = true;
  auto first = RunBackup(data_, flaky, other_, options_);
  ASSERT_THAT(first, IsOk());
  EXPECT_FALSE(first->cleanup_warning.empty());
  EXPECT_EQ(ObjectNames("current/").size(), 2u);  // the old key's pointer is still there

  options_.replace_other_backup = false;
  auto second = RunBackup(data_, *provider_, other_, options_);
  ASSERT_THAT(second, IsOk());
  EXPECT_TRUE(second->cleanup_warning.empty()) << second->cleanup_warning;
  EXPECT_EQ(ObjectNames("current/"),
            (std::vector<std::string>{"current/0000000002", "current/0000000003"}));
  EXPECT_EQ(RunVerify(*provider_, key_, {}).status().code(), Code::kWrongKey);
}

TEST_F(Location, KeepsTheLastBackupsAndRestoresAnOlderOne) {
  ASSERT_TRUE(Backup().ok());
  ASSERT_TRUE(AddMessages(data_ + "/msgstore.db", 100));
  WriteFile(data_ + "/Media/Images/second.bin", PseudoRandom(50000, 2));
  ASSERT_TRUE(Backup().ok());
  // Today's mistake: the photo is deleted and more messages arrive.
  fs::remove(data_ + "/Media/Images/second.bin");
  ASSERT_TRUE(AddMessages(data_ + "/msgstore.db", 100));
  auto third = Backup();
  ASSERT_THAT(third, IsOk());
  EXPECT_EQ(third->backups_kept, 2u);

  auto listed = ListBackups(*provider_, key_);
  ASSERT_THAT(listed, IsOk());
  ASSERT_EQ(listed->backups.size(), 2u);
  EXPECT_EQ(listed->backups[0].sequence, 2u);
  EXPECT_EQ(listed->backups[0].messages, 3100u);
  EXPECT_EQ(listed->backups[0].files, 5u);
  EXPECT_EQ(listed->backups[1].sequence, 3u);
  EXPECT_EQ(listed->backups[1].messages, 3200u);
  EXPECT_EQ(listed->backups[1].files, 4u);
  EXPECT_GT(listed->backups[1].created_unix, 0);
  EXPECT_EQ(listed->other_key_backups, 0u);

  // Yesterday's backup still has the photo: the cleanup kept the chunks it needs.
  RestoreOptions older;
  older.sequence = 2;
  const std::string out = RestoreAs("yesterday", older);
  EXPECT_EQ(MessagesIn(out), 3100);
  EXPECT_EQ(chatvault::testing::ReadFile(out + "/Media/Images/second.bin"), PseudoRandom(50000, 2));
  EXPECT_EQ(MessagesIn(RestoreAs("today")), 3200);
  older.sequence = 1;  // beyond the two kept
  EXPECT_EQ(RunRestore(*provider_, key_, dir_.Sub("gone"), older).status().code(), Code::kNotFound);
  older.sequence = 2;
  EXPECT_TRUE(RunVerify(*provider_, key_, older).ok());
}

TEST_F(Location, UnchangedChunksAreSharedBetweenKeptBackups) {
  options_.keep = 3;
  auto first = Backup();
  ASSERT_THAT(first, IsOk());
  const size_t stored = ObjectNames("chunks/").size();
  ASSERT_TRUE(Backup().ok());
  ASSERT_TRUE(Backup().ok());
  EXPECT_EQ(ObjectNames("chunks/").size(), stored);  // three backups, one copy of each chunk
  EXPECT_EQ(ObjectNames("current/").size(), 3u);
}

// A kept backup whose manifest cannot be read might need any chunk: none is deleted while it is
// kept, and it is listed as damaged rather than hiding the others.
TEST_F(Location, UnreadableKeptManifestStopsChunkDeletion) {
  ASSERT_TRUE(Backup().ok());
  WriteFile(data_ + "/Media/Voice/file0.bin", PseudoRandom(40 * 1024, 77));
  ASSERT_TRUE(Backup().ok());
  auto bytes = chatvault::testing::ReadFile(store_ + "/manifests/0000000002");
  bytes[bytes.size() / 2] ^= 1;
  WriteFile(store_ + "/manifests/0000000002", bytes);
  const size_t chunks_before = ObjectNames("chunks/").size();

  WriteFile(data_ + "/Media/Voice/file0.bin", PseudoRandom(40 * 1024, 78));
  auto third = Backup();
  ASSERT_THAT(third, IsOk());
  EXPECT_NE(third->cleanup_warning.find("no chunk was removed"), std::string::npos)
      << third->cleanup_warning;
  EXPECT_EQ(ObjectNames("chunks/").size(), chunks_before + 1);  // backup 1's chunks wait too
  EXPECT_EQ(ObjectNames("current/"),
            (std::vector<std::string>{"current/0000000002", "current/0000000003"}));

  auto listed = ListBackups(*provider_, key_);
  ASSERT_THAT(listed, IsOk());
  ASSERT_EQ(listed->backups.size(), 2u);
  EXPECT_FALSE(listed->backups[0].problem.empty());
  EXPECT_TRUE(listed->backups[1].problem.empty());
  EXPECT_TRUE(RunVerify(*provider_, key_, {}).ok());
}

// A location that serves an older backup than the device committed is noticed: the backup is
// refused, restore and verify warn. Simulated by putting back a copy of the location taken
// after backup 1, as a provider rollback would.
TEST_F(Location, RollbackIsRefusedByTheDeviceThatCommittedLater) {
  ASSERT_TRUE(Backup().ok());
  fs::copy(store_, dir_.Sub("store-at-1"), fs::copy_options::recursive);
  ASSERT_TRUE(AddMessages(data_ + "/msgstore.db", 50));
  auto second = Backup();
  ASSERT_THAT(second, IsOk());
  fs::remove_all(store_);
  fs::rename(dir_.Sub("store-at-1"), store_);

  options_.min_sequence = second->sequence;
  auto refused = Backup();
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), Code::kRolledBack) << refused.status().ToString();

  RestoreOptions knowing;
  knowing.min_sequence = second->sequence;
  auto verified = RunVerify(*provider_, key_, knowing);
  ASSERT_THAT(verified, IsOk());
  ASSERT_EQ(verified->warnings.size(), 1u);
  EXPECT_NE(verified->warnings[0].find("rolled back"), std::string::npos) << verified->warnings[0];
  auto unknowing = RunVerify(*provider_, key_, {});
  ASSERT_THAT(unknowing, IsOk());
  EXPECT_TRUE(unknowing->warnings.empty());  // a new phone, knowing no sequence, cannot tell

  // Going on deliberately numbers above what was committed, never reusing a number.
  options_.accept_rollback = true;
  auto accepted = Backup();
  ASSERT_THAT(accepted, IsOk());
  EXPECT_EQ(accepted->sequence, 3u);

  // Every backup deleted is a rollback too, not a fresh start.
  fs::remove_all(store_);
  options_.accept_rollback = false;
  options_.min_sequence = 3;
  EXPECT_EQ(Backup().status().code(), Code::kRolledBack);
}

// Planted or damaged pointer names: never the newest, never a reason to delete the last valid
// pointer, never the source of a sequence number.
TEST_F(Location, ObjectsThatOnlyLookLikeBackupsAreIgnored) {
  ASSERT_TRUE(Backup().ok());
  WriteFile(store_ + "/current/9999999999999999999", {1, 2, 3});  // not the engine's name form
  WriteFile(store_ + "/current/0000000000", {1, 2, 3});
  WriteFile(store_ + "/current/9999999999", PseudoRandom(200, 1));    // the form, but not a backup
  WriteFile(store_ + "/manifests/0000000002", PseudoRandom(300, 2));  // where backup 2 will go
  fs::copy_file(store_ + "/current/0000000001", store_ + "/current/0000000005");  // renamed

  auto listed = ListBackups(*provider_, key_);
  ASSERT_THAT(listed, IsOk());
  ASSERT_EQ(listed->backups.size(), 1u);
  EXPECT_EQ(listed->ignored.size(), 2u);  // 0000000005 and 9999999999
  auto verified = RunVerify(*provider_, key_, {});
  ASSERT_THAT(verified, IsOk());
  EXPECT_EQ(verified->sequence, 1u);
  EXPECT_EQ(verified->warnings.size(), 2u);

  auto next = Backup();
  ASSERT_THAT(next, IsOk());
  EXPECT_EQ(next->sequence, 2u);
  EXPECT_EQ(ObjectNames("current/"),
            (std::vector<std::string>{"current/0000000000", "current/0000000001",
                                      "current/0000000002", "current/9999999999999999999"}));
  auto after = RunVerify(*provider_, key_, {});
  ASSERT_THAT(after, IsOk());
  EXPECT_EQ(after->sequence, 2u);
  EXPECT_TRUE(after->warnings.empty());
}

// Only invalid pointers: restore says the backup is damaged rather than that there is none.
TEST_F(Location, OnlyADamagedPointerIsCorrupted) {
  ASSERT_TRUE(Backup().ok());
  auto bytes = chatvault::testing::ReadFile(store_ + "/current/0000000001");
  bytes[bytes.size() - 3] ^= 1;
  WriteFile(store_ + "/current/0000000001", bytes);
  EXPECT_EQ(RunVerify(*provider_, key_, {}).status().code(), Code::kCorrupted);
}

}  // namespace
}  // namespace chatvault::backup

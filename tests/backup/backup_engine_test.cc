#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iterator>
#include <thread>

#include "backup/engine_fixture.h"
#include "support/status_matchers.h"

namespace chatvault::backup {
namespace {

namespace fs = std::filesystem;
using ::chatvault::testing::IsOk;

TEST_F(BackupEngine, RoundTripRestoresEveryFile) {
  auto summary = Backup();
  ASSERT_THAT(summary, IsOk());
  EXPECT_EQ(summary->sequence, 1u);
  EXPECT_EQ(summary->files, 4u);
  EXPECT_EQ(summary->new_chunks, summary->chunks);
  EXPECT_GT(summary->bytes_uploaded, 0u);

  const std::string out = dir_.Sub("restored");
  auto restored = RunRestore(*provider_, key_, out, {});
  ASSERT_THAT(restored, IsOk());
  EXPECT_EQ(restored->files, 4u);
  EXPECT_EQ(chatvault::testing::QueryInt(out + "/msgstore.db", "SELECT count(*) FROM messages"), 3000);
  EXPECT_EQ(chatvault::testing::QueryInt(out + "/msgstore.db", "PRAGMA integrity_check"), 1);
  ExpectSameMedia(out);
  // Nothing but the restored files: no temp files left behind.
  for (const auto& e : fs::recursive_directory_iterator(out)) {
    EXPECT_FALSE(e.path().filename().string().starts_with(".chatvault-restore")) << e.path();
  }
  // The snapshot staging file is gone too.
  for (const auto& e : fs::directory_iterator(dir_.path())) {
    EXPECT_FALSE(e.path().filename().string().starts_with("chatvault-snapshot")) << e.path();
  }

  auto verified = RunVerify(*provider_, key_, {});
  ASSERT_THAT(verified, IsOk());
  auto info = LatestBackup(*provider_, key_);
  ASSERT_THAT(info, IsOk());
  EXPECT_EQ(info->files, 4u);
}

TEST_F(BackupEngine, IncrementalUploadsOnlyWhatChangedAndCollectsGarbage) {
  ASSERT_TRUE(Backup().ok());
  auto again = Backup();
  ASSERT_THAT(again, IsOk());
  EXPECT_EQ(again->sequence, 2u);
  EXPECT_EQ(again->new_chunks, 0u);
  EXPECT_EQ(again->bytes_uploaded, 0u);

  // Replace one media file: exactly one new chunk. Backup 2 is kept too (two by default), so
  // the old chunk stays; once backup 2 is no longer kept, it goes.
  chatvault::testing::WriteFile(data_ + "/Media/Voice/file0.bin",
                                chatvault::testing::PseudoRandom(40 * 1024, 999));
  auto third = Backup();
  ASSERT_THAT(third, IsOk());
  EXPECT_EQ(third->new_chunks, 1u);
  EXPECT_EQ(third->backups_kept, 2u);
  EXPECT_EQ(ObjectNames("chunks/").size(), third->chunks + 1);
  EXPECT_EQ(ObjectNames("current/"),
            (std::vector<std::string>{"current/0000000002", "current/0000000003"}));
  EXPECT_EQ(ObjectNames("manifests/"),
            (std::vector<std::string>{"manifests/0000000002", "manifests/0000000003"}));
  options_.keep = 1;
  auto only = Backup();
  ASSERT_THAT(only, IsOk());
  EXPECT_EQ(only->backups_kept, 1u);
  EXPECT_EQ(ObjectNames("chunks/").size(), only->chunks);
  EXPECT_EQ(ObjectNames("current/"), std::vector<std::string>{"current/0000000004"});
  EXPECT_EQ(ObjectNames("manifests/"), std::vector<std::string>{"manifests/0000000004"});
  options_.keep = 2;

  // A few new messages: the pages they changed go into one pack; no chunk is written.
  ASSERT_TRUE(chatvault::testing::AddMessages(data_ + "/msgstore.db", 20));
  auto fourth = Backup();
  ASSERT_THAT(fourth, IsOk());
  EXPECT_EQ(fourth->new_chunks, 0u);
  EXPECT_EQ(fourth->database.packs_written, 1u);
  EXPECT_GE(fourth->database.pages_changed, 1u);
  EXPECT_LT(fourth->database.pages_changed, 10u);
  EXPECT_EQ(ObjectNames("packs/").size(), 1u);

  const std::string out = RestoreAs("restored");
  EXPECT_EQ(chatvault::testing::QueryInt(out + "/msgstore.db", "SELECT count(*) FROM messages"), 3020);
  ExpectSameMedia(out);
}

// Media whose size, mtime and mode match the current backup keep their chunks unread. The test
// proves it by changing a file's bytes behind the backup's back (same size, mtime put back): the
// default backup keeps the old content, --reread (reread_all) picks up the new one.
TEST_F(BackupEngine, UnchangedMediaIsCarriedOverWithoutReading) {
  ASSERT_TRUE(Backup().ok());
  const std::string media = data_ + "/Media/Images/file1.bin";
  const auto original = chatvault::testing::ReadFile(media);
  const auto mtime = fs::last_write_time(media);
  const auto sneaky = chatvault::testing::PseudoRandom(original.size(), 4242);
  chatvault::testing::WriteFile(media, sneaky);
  fs::last_write_time(media, mtime);

  auto second = Backup();
  ASSERT_THAT(second, IsOk());
  EXPECT_EQ(second->files_unchanged, 3u);  // every media file; the database is always read
  EXPECT_EQ(second->new_chunks, 0u);
  const std::string out = RestoreAs("restored");
  EXPECT_EQ(chatvault::testing::ReadFile(out + "/Media/Images/file1.bin"), original);

  options_.reread_all = true;
  auto third = Backup();
  ASSERT_THAT(third, IsOk());
  EXPECT_EQ(third->files_unchanged, 0u);
  EXPECT_EQ(third->new_chunks, 1u);
  const std::string out2 = RestoreAs("restored2");
  EXPECT_EQ(chatvault::testing::ReadFile(out2 + "/Media/Images/file1.bin"), sneaky);
}

// A carried-over file whose chunk vanished from the provider is read and uploaded again, and a
// touched file (new mtime) is read again even when its bytes are the same.
TEST_F(BackupEngine, CarryOverNeedsEveryChunkAndTheSameMtime) {
  ASSERT_TRUE(Backup().ok());
  auto before = ObjectNames("chunks/");
  chatvault::testing::WriteFile(data_ + "/Media/Voice/file0.bin",
                                chatvault::testing::PseudoRandom(40 * 1024, 999));
  auto changed = Backup();
  ASSERT_THAT(changed, IsOk());
  auto after = ObjectNames("chunks/");
  std::vector<std::string> added;
  std::set_difference(after.begin(), after.end(), before.begin(), before.end(),
                      std::back_inserter(added));
  ASSERT_EQ(added.size(), 1u);  // file0's new chunk: the database did not change
  fs::remove(store_ + "/" + added[0]);

  auto repaired = Backup();
  ASSERT_THAT(repaired, IsOk());
  EXPECT_EQ(repaired->files_unchanged, 2u);
  EXPECT_EQ(repaired->new_chunks, 1u);
  const std::string out = RestoreAs("restored");
  ExpectSameMedia(out);

  fs::last_write_time(data_ + "/Media/Images/file1.bin",
                      fs::last_write_time(data_ + "/Media/Images/file1.bin") + std::chrono::seconds(5));
  auto touched = Backup();
  ASSERT_THAT(touched, IsOk());
  EXPECT_EQ(touched->files_unchanged, 2u);
  EXPECT_EQ(touched->new_chunks, 0u);  // read again, same content, same chunk
}

// With allow_nonempty, existing files are replaced by the backup's (each synced before its rename).
TEST_F(BackupEngine, ForcedRestoreReplacesExistingFiles) {
  ASSERT_TRUE(Backup().ok());
  const std::string out = dir_.Sub("restored");
  chatvault::testing::WriteFile(out + "/Media/Images/file1.bin", {1, 2, 3});
  chatvault::testing::WriteFile(out + "/msgstore.db", {4, 5, 6});
  RestoreOptions force;
  force.allow_nonempty = true;
  auto restored = RunRestore(*provider_, key_, out, force);
  ASSERT_THAT(restored, IsOk());
  EXPECT_EQ(chatvault::testing::QueryInt(out + "/msgstore.db", "SELECT count(*) FROM messages"), 3000);
  ExpectSameMedia(out);
}

TEST_F(BackupEngine, WrongKeyIsReportedAsSuch) {
  ASSERT_TRUE(Backup().ok());
  key::BackupKey other = key::BackupKey::Generate();
  auto restored = RunRestore(*provider_, other, dir_.Sub("out"), {});
  ASSERT_FALSE(restored.ok());
  EXPECT_EQ(restored.status().code(), Code::kWrongKey);
  EXPECT_EQ(RunVerify(*provider_, other, {}).status().code(), Code::kWrongKey);
  // Backing up to the location with another key fails clearly instead of mixing keys.
  EXPECT_FALSE(fs::exists(dir_.Sub("out") + "/msgstore.db"));
}

TEST_F(BackupEngine, EmptyLocationHasNoBackup) {
  EXPECT_EQ(RunRestore(*provider_, key_, dir_.Sub("out"), {}).status().code(), Code::kNotFound);
  EXPECT_EQ(LatestBackup(*provider_, key_).status().code(), Code::kNotFound);
}

TEST_F(BackupEngine, RefusesNonEmptyTargetAndMissingDatabase) {
  ASSERT_TRUE(Backup().ok());
  chatvault::testing::WriteFile(dir_.Sub("busy/x"), {1});
  EXPECT_EQ(RunRestore(*provider_, key_, dir_.Sub("busy"), {}).status().code(),
            Code::kInvalidArgument);
  RestoreOptions force;
  force.allow_nonempty = true;
  EXPECT_TRUE(RunRestore(*provider_, key_, dir_.Sub("busy"), force).ok());
  EXPECT_EQ(RunBackup(dir_.Sub("nodata"), *provider_, key_, options_).status().code(),
            Code::kNotFound);
}

// Each kind of damage to stored objects is detected and named; nothing partial is published.
class Damage : public BackupEngine {
 protected:
  std::string ChunkPath(size_t index) {
    auto names = ObjectNames("chunks/");
    EXPECT_GT(names.size(), index);
    return store_ + "/" + names[index];
  }
  Status RestoreStatus() { return RunRestore(*provider_, key_, dir_.Sub("out"), {}).status(); }
};

TEST_F(Damage, FlippedByteIsCorrupted) {
  ASSERT_TRUE(Backup().ok());
  auto bytes = chatvault::testing::ReadFile(ChunkPath(0));
  bytes[bytes.size() / 2] ^= 0x20;
  chatvault::testing::WriteFile(ChunkPath(0), bytes);
  EXPECT_EQ(RestoreStatus().code(), Code::kCorrupted) << RestoreStatus().ToString();
  EXPECT_EQ(RunVerify(*provider_, key_, {}).status().code(), Code::kCorrupted);
}

TEST_F(Damage, TruncatedChunkIsDetected) {
  ASSERT_TRUE(Backup().ok());
  auto bytes = chatvault::testing::ReadFile(ChunkPath(1));
  bytes.resize(bytes.size() - 40);
  chatvault::testing::WriteFile(ChunkPath(1), bytes);
  const Status s = RestoreStatus();
  EXPECT_TRUE(s.code() == Code::kTruncated || s.code() == Code::kCorrupted) << s.ToString();
}

TEST_F(Damage, DeletedChunkIsCorruptedAndNamesTheFile) {
  ASSERT_TRUE(Backup().ok());
  fs::remove(ChunkPath(2));
  const Status s = RestoreStatus();
  EXPECT_EQ(s.code(), Code::kCorrupted);
  EXPECT_NE(s.message().find("missing"), std::string::npos) << s.ToString();
}

TEST_F(Damage, SwappedChunksAreCorrupted) {
  ASSERT_TRUE(Backup().ok());
  auto a = chatvault::testing::ReadFile(ChunkPath(0));
  auto b = chatvault::testing::ReadFile(ChunkPath(1));
  chatvault::testing::WriteFile(ChunkPath(0), b);
  chatvault::testing::WriteFile(ChunkPath(1), a);
  const Status s = RestoreStatus();
  EXPECT_EQ(s.code(), Code::kCorrupted);
  EXPECT_NE(s.message().find("swapped"), std::string::npos) << s.ToString();
}

TEST_F(Damage, DamagedOrReplacedManifestIsCorrupted) {
  ASSERT_TRUE(Backup().ok());
  ASSERT_TRUE(Backup().ok());  // sequence 2; sequence 1's manifest is gone after cleanup
  const std::string manifest = store_ + "/manifests/0000000002";
  auto bytes = chatvault::testing::ReadFile(manifest);
  bytes[bytes.size() - 1] ^= 1;
  chatvault::testing::WriteFile(manifest, bytes);
  EXPECT_EQ(RestoreStatus().code(), Code::kCorrupted);
  fs::remove(manifest);
  EXPECT_EQ(RestoreStatus().code(), Code::kCorrupted);
}

// The database is copied consistently while another connection keeps committing.
TEST_F(BackupEngine, SnapshotWhileWriting) {
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    while (!stop) chatvault::testing::AddMessages(data_ + "/msgstore.db", 10);
  });
  auto summary = Backup();
  stop = true;
  writer.join();
  ASSERT_THAT(summary, IsOk());
  const std::string out = RestoreAs("restored");
  const std::string db = out + "/msgstore.db";
  EXPECT_EQ(chatvault::testing::QueryInt(db, "PRAGMA integrity_check"), 1);
  const int64_t n = chatvault::testing::QueryInt(db, "SELECT count(*) FROM messages");
  EXPECT_GE(n, 3000);
  EXPECT_EQ(n % 10, 0);  // whole transactions only
  EXPECT_EQ(chatvault::testing::QueryInt(db, "SELECT max(id) FROM messages"), n);
}

}  // namespace
}  // namespace chatvault::backup

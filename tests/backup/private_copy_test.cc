// A private copy (what `whatsapp import` stages): the database is backed up as its very bytes,
// not through SQLite's backup API, a directory without msgstore.db is allowed, and directories
// outside the data directory join the backup under a prefix.
#include <gtest/gtest.h>

#include <filesystem>

#include "backup/engine_fixture.h"
#include "support/status_matchers.h"

namespace chatvault::backup {
namespace {

using chatvault::testing::IsOk;
using chatvault::testing::ReadFile;
using chatvault::testing::WriteFile;

class PrivateCopy : public BackupEngine {
 protected:
  void SetUp() override {
    BackupEngine::SetUp();
    options_.private_copy = true;
  }
};

TEST_F(PrivateCopy, RestoresTheDatabaseByteForByteAndStillChecksIt) {
  auto summary = Backup();
  ASSERT_THAT(summary, IsOk());
  EXPECT_TRUE(summary->messages.has_value());  // the snapshot's check and count still ran
  const std::string out = RestoreAs("restored");
  ASSERT_FALSE(out.empty());
  EXPECT_EQ(ReadFile(out + "/msgstore.db"), ReadFile(data_ + "/msgstore.db"));
  ExpectSameMedia(out);
}

// Why the mode exists: the online backup API rewrites header fields of its copy, so a live
// backup restores equal data but not equal bytes.
TEST_F(BackupEngine, LiveSnapshotRewritesTheDatabaseHeader) {
  ASSERT_TRUE(Backup().ok());
  const std::string out = RestoreAs("restored");
  ASSERT_FALSE(out.empty());
  EXPECT_NE(ReadFile(out + "/msgstore.db"), ReadFile(data_ + "/msgstore.db"));
  EXPECT_EQ(MessagesIn(out), MessagesIn(data_));
}

TEST_F(PrivateCopy, RefusesADatabaseWithAPendingWal) {
  WriteFile(data_ + "/msgstore.db-wal", {1, 2, 3});
  EXPECT_EQ(Backup().status().code(), Code::kInvalidArgument);
  EXPECT_EQ(LatestBackup(*provider_, key_).status().code(), Code::kNotFound);
}

TEST_F(PrivateCopy, DirectoryWithoutMessageDatabaseIsBackedUpAsFiles) {
  const std::string only = dir_.Sub("contacts");
  std::filesystem::create_directories(only);
  std::filesystem::copy_file(data_ + "/msgstore.db", only + "/wa.db");
  auto summary = RunBackup(only, *provider_, key_, options_);
  ASSERT_THAT(summary, IsOk());
  EXPECT_FALSE(summary->messages.has_value());
  const std::string out = RestoreAs("restored");
  ASSERT_FALSE(out.empty());
  EXPECT_EQ(ReadFile(out + "/wa.db"), ReadFile(only + "/wa.db"));
  EXPECT_FALSE(std::filesystem::exists(out + "/msgstore.db"));
  // A live data directory still needs its database.
  options_.private_copy = false;
  EXPECT_EQ(RunBackup(only, *provider_, key_, options_).status().code(), Code::kNotFound);
}

TEST_F(PrivateCopy, ExtraDirectoriesJoinUnderTheirPrefix) {
  const std::string extra = dir_.Sub("phone/Stickers");
  WriteFile(extra + "/a.webp", {1, 2, 3});
  WriteFile(extra + "/deep/b.webp", {4, 5});
  options_.extra_directories = {{"Stickers", extra}};
  auto summary = Backup();
  ASSERT_THAT(summary, IsOk());
  const std::string out = RestoreAs("restored");
  ASSERT_FALSE(out.empty());
  EXPECT_EQ(ReadFile(out + "/Stickers/a.webp"), ReadFile(extra + "/a.webp"));
  EXPECT_EQ(ReadFile(out + "/Stickers/deep/b.webp"), ReadFile(extra + "/deep/b.webp"));
  ExpectSameMedia(out);
  // A path both directories would fill is refused, not silently overwritten.
  WriteFile(data_ + "/Stickers/a.webp", {9});
  EXPECT_EQ(Backup().status().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace chatvault::backup

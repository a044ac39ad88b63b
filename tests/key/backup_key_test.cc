#include "chatvault/key/backup_key.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <iterator>
#include <string>
#include <vector>

#include "chatvault/common/file.h"
#include "support/status_matchers.h"
#include "support/temp_dir.h"

namespace chatvault::key {
namespace {

using ::chatvault::testing::IsOk;
using ::chatvault::testing::StatusIs;

constexpr char kHex[] = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

TEST(BackupKey, DisplayIsSixteenGroupsOfFour) {
  auto k = BackupKey::Parse(kHex);
  ASSERT_THAT(k, IsOk());
  EXPECT_EQ(k->Display(),
            "0001 0203 0405 0607 0809 0a0b 0c0d 0e0f 1011 1213 1415 1617 1819 1a1b 1c1d 1e1f");
  EXPECT_EQ(k->Hex(), kHex);
}

TEST(BackupKey, ParsesWhatPeopleType) {
  auto want = BackupKey::Parse(kHex);
  for (const char* typed :
       {"0001 0203 0405 0607 0809 0A0B 0C0D 0E0F 1011 1213 1415 1617 1819 1A1B 1C1D 1E1F",
        "0001-0203-0405-0607-0809-0a0b-0c0d-0e0f-1011-1213-1415-1617-1819-1a1b-1c1d-1e1f",
        "  00010203 04050607\n08090a0b0c0d0e0f\t101112131415161718191a1b1c1d1e1f\n"}) {
    auto k = BackupKey::Parse(typed);
    ASSERT_THAT(k, IsOk()) << typed;
    EXPECT_TRUE(k->secret().Equals(want->secret()));
  }
}

TEST(BackupKey, RejectsWrongLengthAndCharacters) {
  auto short_key = BackupKey::Parse(std::string(kHex).substr(1));
  EXPECT_EQ(short_key.status().code(), Code::kInvalidArgument);
  EXPECT_NE(short_key.status().message().find("63 digits"), std::string::npos);
  EXPECT_FALSE(BackupKey::Parse(std::string(kHex) + "0").ok());
  auto bad = BackupKey::Parse("000g");
  EXPECT_NE(bad.status().message().find("'g' at character 4"), std::string::npos);
  EXPECT_FALSE(BackupKey::Parse("").ok());
}

TEST(BackupKey, GeneratedKeysDifferAndFingerprintsDependOnKey) {
  BackupKey a = BackupKey::Generate(), b = BackupKey::Generate();
  EXPECT_NE(a.Hex(), b.Hex());
  EXPECT_EQ(a.Fingerprint().size(), kFingerprintSize);
  EXPECT_NE(a.Fingerprint(), b.Fingerprint());
  EXPECT_EQ(BackupKey::Parse(a.Display())->Fingerprint(), a.Fingerprint());
}

TEST(KeyFile, RoundTripWithPrivateMode) {
  auto dir = std::filesystem::temp_directory_path() / ("cv-key-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "backup.key").string();
  BackupKey k = BackupKey::Generate();
  ASSERT_THAT(WriteKeyFile(path, k), IsOk());
  struct stat st {};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto back = ReadKeyFile(path);
  ASSERT_THAT(back, IsOk());
  EXPECT_EQ(back->Hex(), k.Hex());
  EXPECT_EQ(ReadKeyFile((dir / "missing").string()).status().code(), Code::kNotFound);
  std::filesystem::remove_all(dir);
}

// A power cut right after setup must not lose the key: the rename is made durable by syncing
// the directory. A failed write keeps the old key and leaves no temporary file.
TEST(KeyFile, WriteSyncsTheDirectoryAndAFailureKeepsTheOldKey) {
  chatvault::testing::TempDir dir;
  const std::string path = dir.Sub("backup.key");
  const BackupKey old_key = BackupKey::Generate();
  ASSERT_THAT(WriteKeyFile(path, old_key), IsOk());

  std::vector<std::string> synced_dirs;
  SetFileFaultHookForTesting([&](FileStep step, const std::string& p) {
    if (step == FileStep::kSyncDirectory) synced_dirs.push_back(p);
    return 0;
  });
  const BackupKey new_key = BackupKey::Generate();
  Status written = WriteKeyFile(path, new_key);
  SetFileFaultHookForTesting(
      [](FileStep step, const std::string&) { return step == FileStep::kWrite ? ENOSPC : 0; });
  Status full = WriteKeyFile(path, BackupKey::Generate());
  SetFileFaultHookForTesting(nullptr);

  ASSERT_THAT(written, IsOk());
  EXPECT_EQ(synced_dirs, std::vector<std::string>{dir.path()});
  EXPECT_THAT(full, StatusIs(Code::kNoSpace));
  auto kept = ReadKeyFile(path);
  ASSERT_THAT(kept, IsOk());
  EXPECT_EQ(kept->Hex(), new_key.Hex());
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()), {}), 1);
}

}  // namespace
}  // namespace chatvault::key

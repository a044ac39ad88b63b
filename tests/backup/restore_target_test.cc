// What a restore leaves behind when it cannot finish: nothing partial, no empty target directory,
// and a full disk said as such. Temp files of a killed restore are cleaned up by the next one and
// never backed up.
#include "backup/restore_target.h"

#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "backup/catalog.h"
#include "backup/engine_fixture.h"
#include "backup/layout.h"
#include "support/status_matchers.h"

namespace chatvault::backup {
namespace {
namespace fs = std::filesystem;
using ::chatvault::testing::IsOk;
using chatvault::testing::PseudoRandom;
using chatvault::testing::WriteFile;

class RestoreSafety : public BackupEngine {
 protected:
  // Restores in a child process that first mounts a small tmpfs (private to it) at `mount_at`
  // with `options`; the child's exit code is the restore's Code. -1 when this machine does not
  // let a test mount (no privileges): the caller skips then.
  int RestoreOnSmallDisk(const std::string& mount_at, const std::string& options,
                         const std::string& target, std::string* message) {
    fs::create_directories(mount_at);
    const std::string message_file = dir_.Sub("child-message");
    const pid_t pid = ::fork();
    if (pid == 0) {
      if (::unshare(CLONE_NEWNS) != 0 ||
          ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
          ::mount("tmpfs", mount_at.c_str(), "tmpfs", 0, options.c_str()) != 0) {
        ::_exit(255);
      }
      auto restored = RunRestore(*provider_, key_, target, {});
      chatvault::testing::WriteFile(message_file, ToBytes(restored.status().message()));
      // What the restore left in the target, before the tmpfs vanishes with this process.
      std::error_code ec;
      const bool left_something = fs::exists(target, ec) && !fs::is_empty(target, ec);
      ::_exit(left_something ? 254 : static_cast<int>(restored.status().code()));
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    const int rc = WIFEXITED(status) ? WEXITSTATUS(status) : 253;
    if (rc == 255) return -1;
    auto bytes = chatvault::testing::ReadFile(message_file);
    *message = std::string(bytes.begin(), bytes.end());
    return rc;
  }
};

TEST_F(RestoreSafety, WrongKeyLeavesNoTargetDirectory) {
  ASSERT_TRUE(Backup().ok());
  const std::string target = dir_.Sub("new/dir");
  auto restored = RunRestore(*provider_, key::BackupKey::Generate(), target, {});
  EXPECT_EQ(restored.status().code(), Code::kWrongKey);
  EXPECT_FALSE(fs::exists(dir_.Sub("new")));
}

// The last file's last chunk is damaged: the files already put in place and the directories made
// for them are taken away again, so the retry (after repair) needs no --force.
TEST_F(RestoreSafety, FailedRestoreRemovesWhatItWrote) {
  ASSERT_TRUE(Backup().ok());
  auto survey = SurveyLocation(*provider_, key_);
  ASSERT_THAT(survey, IsOk());
  auto manifest = LoadManifest(*provider_, key_, *survey->NewestOurs());
  ASSERT_THAT(manifest, IsOk());
  ASSERT_EQ(manifest->files.back().path, "Media/Voice/file2.bin");
  const std::string target = dir_.Sub("out");
  fs::create_directories(target);
  const std::string victim = store_ + "/" + ChunkName(manifest->files.back().chunks.back().id);
  const auto original = chatvault::testing::ReadFile(victim);
  auto damaged = original;
  damaged[damaged.size() / 2] ^= 1;
  WriteFile(victim, damaged);
  auto restored = RunRestore(*provider_, key_, target, {});
  ASSERT_FALSE(restored.ok());
  EXPECT_EQ(restored.status().code(), Code::kCorrupted);
  EXPECT_TRUE(fs::exists(target));  // it was there before
  EXPECT_TRUE(fs::is_empty(target)) << fs::directory_iterator(target)->path();

  WriteFile(victim, original);
  EXPECT_EQ(MessagesIn(RestoreAs("out")), 3000);
}

TEST_F(RestoreSafety, LeftoversOfAKilledRestoreAreRemovedAndNeverBackedUp) {
  ASSERT_TRUE(Backup().ok());
  const std::string target = dir_.Sub("out");
  WriteFile(target + "/.chatvault-restore-0123456789ab-msgstore.db", PseudoRandom(5000, 1));
  WriteFile(target + "/Media/Voice/.chatvault-restore-a1b2c3d4e5f6-file0.bin", {1, 2});
  EXPECT_EQ(MessagesIn(RestoreAs("out")), 3000);
  for (const auto& e : fs::recursive_directory_iterator(target)) {
    EXPECT_FALSE(IsRestoreTempFileName(e.path().filename().string())) << e.path();
  }

  // A name that is not quite ours is the user's file: the directory is not empty.
  WriteFile(dir_.Sub("other/.chatvault-restore-notours"), {1});
  EXPECT_EQ(RunRestore(*provider_, key_, dir_.Sub("other"), {}).status().code(),
            Code::kInvalidArgument);
  EXPECT_TRUE(fs::exists(dir_.Sub("other/.chatvault-restore-notours")));

  // A chat directory that was restored into by a killed restore: its temp files are not media.
  WriteFile(data_ + "/Media/.chatvault-restore-0123456789ab-photo.jpg", PseudoRandom(3000, 3));
  auto summary = Backup();
  ASSERT_THAT(summary, IsOk());
  EXPECT_EQ(summary->files, 4u);
}

TEST_F(RestoreSafety, NotEnoughSpaceIsSaidUpFrontAndLeavesNothing) {
  ASSERT_TRUE(Backup().ok());  // about 6 MiB
  std::string message;
  const int code =
      RestoreOnSmallDisk(dir_.Sub("disk"), "size=2m", dir_.Sub("disk/restored"), &message);
  if (code < 0) GTEST_SKIP() << "this machine does not let a test mount a tmpfs";
  EXPECT_EQ(code, static_cast<int>(Code::kNoSpace)) << message;
  EXPECT_NE(message.find("not enough space"), std::string::npos) << message;
  EXPECT_NE(message.find("need 5."), std::string::npos) << message;
  EXPECT_NE(message.find("have 2.0 MiB"), std::string::npos) << message;
}

// Room for the bytes but not for the files (a tmpfs with few inodes): the disk fills up during
// the restore; ENOSPC is reported as no space, not as a damaged backup, and nothing stays.
TEST_F(RestoreSafety, DiskFillingUpMeanwhileIsNoSpace) {
  ASSERT_TRUE(Backup().ok());
  std::string message;
  const int code = RestoreOnSmallDisk(dir_.Sub("disk"), "size=64m,nr_inodes=4",
                                      dir_.Sub("disk/restored"), &message);
  if (code < 0) GTEST_SKIP() << "this machine does not let a test mount a tmpfs";
  EXPECT_EQ(code, static_cast<int>(Code::kNoSpace)) << message;
  EXPECT_NE(message.find("not enough space"), std::string::npos) << message;
  EXPECT_EQ(message.find("damaged"), std::string::npos) << message;
}

TEST(RestoreTempFileName, OnlyOurPattern) {
  EXPECT_TRUE(IsRestoreTempFileName(RestoreTempFileName("photo.jpg")));
  EXPECT_TRUE(IsRestoreTempFileName(".chatvault-restore-0123456789ab-x"));
  EXPECT_FALSE(IsRestoreTempFileName(".chatvault-restore-0123456789ab"));
  EXPECT_FALSE(IsRestoreTempFileName(".chatvault-restore-0123456789AB-x"));
  EXPECT_FALSE(IsRestoreTempFileName(".chatvault-restore-notours"));
  EXPECT_FALSE(IsRestoreTempFileName("photo.jpg"));
}

}  // namespace
}  // namespace chatvault::backup

// The contract of common/file.h: a file written atomically appears whole or not at all, never
// leaves its temporary file behind, has the permissions asked for, and its directory is synced;
// a full disk is kNoSpace, not a generic i/o error.
#include "chatvault/common/file.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "support/status_matchers.h"
#include "support/temp_dir.h"

namespace chatvault {
namespace {

namespace fs = std::filesystem;
using ::chatvault::testing::IsOk;
using ::chatvault::testing::IsOkAndHolds;
using ::chatvault::testing::StatusIs;
using ::chatvault::testing::TempDir;
using ::testing::_;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;
using ::testing::StartsWith;

std::vector<std::string> Names(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

std::string Contents(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

mode_t ModeOf(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return 0;
  return st.st_mode & 07777;
}

// Installs a fault hook for one test and removes it at the end, pass or fail.
class FaultHook {
 public:
  explicit FaultHook(FileFaultHook hook) { SetFileFaultHookForTesting(std::move(hook)); }
  ~FaultHook() { SetFileFaultHookForTesting(nullptr); }
};

using Steps = std::vector<std::pair<FileStep, std::string>>;

// Runs `action` and returns its status and the steps the file code took, in order, each with the
// path it acted on.
std::pair<Status, Steps> Traced(const std::function<Status()>& action) {
  Steps steps;
  FaultHook hook([&steps](FileStep step, const std::string& path) {
    steps.emplace_back(step, path);
    return 0;
  });
  Status status = action();
  return {status, steps};
}

// Runs `action` with the step `failing` made to fail with `error`.
Status FailingAt(FileStep failing, int error, const std::function<Status()>& action) {
  FaultHook hook([&](FileStep step, const std::string&) { return step == failing ? error : 0; });
  return action();
}

// An AtomicFile for `path` that holds `content` and is not committed yet.
Result<AtomicFile> Staged(const std::string& path, std::string_view content) {
  CV_ASSIGN_OR_RETURN(AtomicFile file, AtomicFile::Create(path));
  CV_RETURN_IF_ERROR(file.Write(AsBytes(content)));
  return file;
}

TEST(ErrnoStatus, FullDiskAndQuotaAreNoSpaceEverythingElseIsIo) {
  EXPECT_THAT(ErrnoStatus(ENOSPC, "cannot write a"),
              StatusIs(Code::kNoSpace, "cannot write a: No space left on device"));
  EXPECT_THAT(ErrnoStatus(EDQUOT, "cannot write a"), StatusIs(Code::kNoSpace));
  EXPECT_THAT(ErrnoStatus(EIO, "cannot write a"),
              StatusIs(Code::kIo, "cannot write a: Input/output error"));
  EXPECT_THAT(ErrnoStatus(EACCES, "cannot open b"), StatusIs(Code::kIo, HasSubstr("denied")));
}

TEST(Fd, ClosesOnDestructionAndMovesOwnership) {
  int raw = -1;
  {
    Fd fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    ASSERT_TRUE(fd.valid());
    raw = fd.get();
    Fd moved = std::move(fd);
    EXPECT_FALSE(fd.valid());
    EXPECT_EQ(moved.get(), raw);
    EXPECT_EQ(::fcntl(raw, F_GETFD), FD_CLOEXEC);
  }
  EXPECT_EQ(::fcntl(raw, F_GETFD), -1);
  EXPECT_EQ(errno, EBADF);
  Fd empty;
  EXPECT_THAT(empty.Close("nothing"), IsOk());
}

TEST(WriteAll, WritingToAFullDeviceIsNoSpace) {
  auto full = OpenFile("/dev/full", O_WRONLY);
  ASSERT_THAT(full, IsOk());
  EXPECT_THAT(WriteAll(full->get(), AsBytes("not a byte fits"), "/dev/full"),
              StatusIs(Code::kNoSpace, HasSubstr("cannot write /dev/full")));
}

TEST(ReadFile, ReadsWholeFilesAndTellsMissingFromUnreadable) {
  TempDir dir;
  std::string big(100000, 'x');
  big[99999] = 'y';
  std::ofstream(dir.Sub("big"), std::ios::binary) << big;
  EXPECT_THAT(ReadFileToString(dir.Sub("big")), IsOkAndHolds(big));
  EXPECT_THAT(ReadFileToBytes(dir.Sub("big")), IsOkAndHolds(Bytes(big.begin(), big.end())));
  EXPECT_THAT(ReadFileToString(dir.Sub("missing")),
              StatusIs(Code::kNotFound, HasSubstr("missing")));
  EXPECT_THAT(ReadFileToString(dir.Sub("big/below")), StatusIs(Code::kNotFound));
  EXPECT_THAT(ReadFileToString(dir.path()), StatusIs(Code::kIo, HasSubstr("cannot read")));
}

TEST(WriteFileAtomically, WritesTheBytesWithTheModeAskedFor) {
  TempDir dir;
  for (mode_t mode : {0600, 0644, 0640, 0400}) {
    const std::string path = dir.Sub("state-" + std::to_string(mode));
    ASSERT_THAT(WriteFileAtomically(path, "settings\n", mode), IsOk());
    EXPECT_EQ(Contents(path), "settings\n");
    EXPECT_EQ(ModeOf(path), mode);
  }
  // The umask does not narrow it.
  const mode_t old_umask = ::umask(077);
  ASSERT_THAT(WriteFileAtomically(dir.Sub("shared"), "x", 0644), IsOk());
  ::umask(old_umask);
  EXPECT_EQ(ModeOf(dir.Sub("shared")), 0644u);
}

TEST(WriteFileAtomically, ReplacesTheOldFileAndLeavesNothingElse) {
  TempDir dir;
  ASSERT_THAT(WriteFileAtomically(dir.Sub("config.json"), "old", 0600), IsOk());
  ASSERT_THAT(WriteFileAtomically(dir.Sub("config.json"), "new and longer", 0600), IsOk());
  EXPECT_EQ(Contents(dir.Sub("config.json")), "new and longer");
  EXPECT_THAT(Names(dir.path()), ElementsAre("config.json"));
}

// The order is the contract: the data is on disk before the rename makes it visible, and the
// directory is synced after the rename so the new name survives a power cut.
TEST(WriteFileAtomically, SyncsTheFileThenRenamesThenSyncsItsDirectory) {
  TempDir dir;
  const std::string path = dir.Sub("backup.key");
  auto [status, steps] = Traced([&] { return WriteFileAtomically(path, "key", 0600); });
  ASSERT_THAT(status, IsOk());
  EXPECT_THAT(steps, ElementsAre(Pair(FileStep::kCreateTemp, StartsWith(path + ".partial-")),
                                 Pair(FileStep::kWrite, path), Pair(FileStep::kSyncFile, path),
                                 Pair(FileStep::kRename, path),
                                 Pair(FileStep::kSyncDirectory, dir.path())));
}

TEST(WriteFileAtomically, AFileInTheWorkingDirectorySyncsTheWorkingDirectory) {
  TempDir dir;
  const fs::path before = fs::current_path();
  fs::current_path(dir.path());
  auto [status, steps] = Traced([] { return WriteFileAtomically("here", "x", 0600); });
  fs::current_path(before);
  ASSERT_THAT(status, IsOk());
  EXPECT_EQ(steps.back(), std::pair(FileStep::kSyncDirectory, std::string(".")));
  EXPECT_EQ(Contents(dir.Sub("here")), "x");
}

// A failure at any step before the rename leaves the old file as it was and no temporary file.
TEST(WriteFileAtomically, AFailedStepLeavesTheOldFileAndNoTemporaryFile) {
  for (FileStep step :
       {FileStep::kCreateTemp, FileStep::kWrite, FileStep::kSyncFile, FileStep::kRename}) {
    SCOPED_TRACE(static_cast<int>(step));
    TempDir dir;
    ASSERT_THAT(WriteFileAtomically(dir.Sub("config.json"), "old", 0600), IsOk());
    EXPECT_THAT(FailingAt(step, EIO,
                          [&] { return WriteFileAtomically(dir.Sub("config.json"), "new", 0600); }),
                StatusIs(Code::kIo, HasSubstr("Input/output error")));
    EXPECT_EQ(Contents(dir.Sub("config.json")), "old");
    EXPECT_THAT(Names(dir.path()), ElementsAre("config.json"));
  }
}

TEST(WriteFileAtomically, AFailedDirectorySyncIsReportedWithTheNewFileInPlace) {
  TempDir dir;
  EXPECT_THAT(FailingAt(FileStep::kSyncDirectory, EIO,
                        [&] { return WriteFileAtomically(dir.Sub("vault.json"), "new", 0600); }),
              StatusIs(Code::kIo, HasSubstr("cannot sync the directory " + dir.path())));
  EXPECT_EQ(Contents(dir.Sub("vault.json")), "new");
  EXPECT_THAT(Names(dir.path()), ElementsAre("vault.json"));
}

TEST(WriteFileAtomically, AFullDiskAtWriteOrSyncIsNoSpace) {
  for (FileStep step : {FileStep::kWrite, FileStep::kSyncFile}) {
    for (int error : {ENOSPC, EDQUOT}) {
      TempDir dir;
      EXPECT_THAT(
          FailingAt(step, error, [&] { return WriteFileAtomically(dir.Sub("f"), "d", 0600); }),
          StatusIs(Code::kNoSpace));
      EXPECT_THAT(Names(dir.path()), ElementsAre());
    }
  }
}

TEST(WriteFileAtomically, AMissingDirectoryFailsWithoutCreatingAnything) {
  TempDir dir;
  EXPECT_THAT(WriteFileAtomically(dir.Sub("no/such/dir/file"), "x", 0600),
              StatusIs(Code::kIo, HasSubstr("cannot create a temporary file next to")));
  std::ofstream(dir.Sub("plain")) << "a file, not a directory";
  EXPECT_THAT(WriteFileAtomically(dir.Sub("plain/file"), "x", 0600), StatusIs(Code::kIo));
  EXPECT_THAT(Names(dir.path()), ElementsAre("plain"));
}

// Runs `body` in a child process with a private mount namespace in which `dir` is a fresh tmpfs of
// `size_kib`, so nothing mounted outlives the child. Returns the child's exit code, or -1 where
// this machine does not allow mounting (not root, no user namespaces): the caller skips.
int InPrivateTmpfs(const std::string& dir, int size_kib, const std::function<int()>& body) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (::unshare(CLONE_NEWNS) != 0) ::_exit(125);
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) ::_exit(125);
    const std::string size = "size=" + std::to_string(size_kib) + "k";
    if (::mount("tmpfs", dir.c_str(), "tmpfs", 0, size.c_str()) != 0) ::_exit(125);
    ::_exit(body());
  }
  int status = 0;
  if (pid < 0 || ::waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) return 126;
  return WEXITSTATUS(status) == 125 ? -1 : WEXITSTATUS(status);
}

// A real full file system, not an injected error: the write fails as kNoSpace, the old file stays
// and the temporary file is removed, so the space it took is free again.
TEST(WriteFileAtomically, OnARealFullFileSystemReportsNoSpaceAndFreesTheSpace) {
  TempDir dir;
  const int rc = InPrivateTmpfs(dir.path(), 64, [&]() {
    const std::string path = dir.Sub("msgstore.db");
    if (!WriteFileAtomically(path, "old", 0600).ok()) return 1;
    const Status s = WriteFileAtomically(path, std::string(1 << 20, 'x'), 0600);
    if (s.code() != Code::kNoSpace) return 2;
    if (s.message().find("No space left on device") == std::string::npos) return 3;
    if (Contents(path) != "old" || Names(dir.path()) != std::vector<std::string>{"msgstore.db"}) {
      return 4;
    }
    return WriteFileAtomically(path, std::string(32 << 10, 'y'), 0600).ok() ? 0 : 5;
  });
  if (rc < 0) GTEST_SKIP() << "this machine does not allow mounting a tmpfs";
  EXPECT_EQ(rc, 0);
}

// A read-only file system (even root cannot write there): the error says so and nothing changes.
TEST(WriteFileAtomically, IntoAReadOnlyDirectoryFailsAndChangesNothing) {
  TempDir dir;
  const int rc = InPrivateTmpfs(dir.path(), 64, [&]() {
    if (!WriteFileAtomically(dir.Sub("config.json"), "old", 0600).ok()) return 1;
    if (::mount(nullptr, dir.path().c_str(), nullptr, MS_REMOUNT | MS_RDONLY, nullptr) != 0) {
      return 125;
    }
    const Status s = WriteFileAtomically(dir.Sub("config.json"), "new", 0600);
    if (s.code() != Code::kIo || s.message().find("Read-only file system") == std::string::npos) {
      return 2;
    }
    if (Contents(dir.Sub("config.json")) != "old") return 3;
    return Names(dir.path()) == std::vector<std::string>{"config.json"} ? 0 : 4;
  });
  if (rc < 0) GTEST_SKIP() << "this machine does not allow mounting a tmpfs";
  EXPECT_EQ(rc, 0);
}

TEST(AtomicFile, NothingAppearsUntilCommitAndAnAbandonedFileLeavesNoTrace) {
  TempDir dir;
  {
    auto file = AtomicFile::Create(dir.Sub("out.db"));
    ASSERT_THAT(file, IsOk());
    ASSERT_THAT(file->Write(AsBytes("half of it")), IsOk());
    EXPECT_EQ(file->bytes_written(), 10u);
    EXPECT_FALSE(fs::exists(dir.Sub("out.db")));
    EXPECT_TRUE(fs::exists(file->temp_path()));
  }
  EXPECT_THAT(Names(dir.path()), ElementsAre());
}

TEST(AtomicFile, AFailedCommitRemovesTheTemporaryFileAtOnce) {
  TempDir dir;
  auto file = Staged(dir.Sub("out.db"), "all of it");
  ASSERT_THAT(file, IsOk());
  EXPECT_THAT(FailingAt(FileStep::kSyncFile, ENOSPC, [&] { return file->Commit(); }),
              StatusIs(Code::kNoSpace, HasSubstr("cannot sync")));
  EXPECT_THAT(Names(dir.path()), ElementsAre());
  EXPECT_THAT(file->Commit(), StatusIs(Code::kInternal));
}

TEST(AtomicFile, StreamsAndPositionedWritesFromSeveralThreads) {
  TempDir dir;
  auto file = AtomicFile::Create(dir.Sub("restored"), {.mode = 0640, .temp_prefix = ".restore-"});
  ASSERT_THAT(file, IsOk());
  EXPECT_THAT(file->temp_path(), StartsWith(dir.Sub(".restore-")));
  const std::string a(70000, 'a'), b(50000, 'b');
  Status sa, sb;
  std::thread second([&] { sb = file->WriteAt(AsBytes(b), a.size()); });
  sa = file->WriteAt(AsBytes(a), 0);
  second.join();
  ASSERT_THAT(sa, IsOk());
  ASSERT_THAT(sb, IsOk());
  ASSERT_THAT(file->Commit(), IsOk());
  EXPECT_EQ(Contents(dir.Sub("restored")), a + b);
  EXPECT_EQ(ModeOf(dir.Sub("restored")), 0640u);
  EXPECT_THAT(Names(dir.path()), ElementsAre("restored"));
  EXPECT_THAT(file->Commit(), StatusIs(Code::kInternal));
}

// Closing early (to set metadata or let another reader check the file) does not lose the fsync.
TEST(AtomicFile, CommitAfterAnEarlyCloseStillSyncsTheData) {
  TempDir dir;
  auto file = Staged(dir.Sub("db"), "pages");
  ASSERT_THAT(file, IsOk());
  ASSERT_THAT(file->Close(), IsOk());
  EXPECT_EQ(file->fd(), -1);
  EXPECT_THAT(file->Write(AsBytes("more")), StatusIs(Code::kInternal));
  auto [status, steps] = Traced([&] { return file->Commit(); });
  ASSERT_THAT(status, IsOk());
  EXPECT_THAT(steps, ElementsAre(Pair(FileStep::kSyncFile, _), Pair(FileStep::kRename, _),
                                 Pair(FileStep::kSyncDirectory, _)));
  EXPECT_EQ(Contents(dir.Sub("db")), "pages");
}

TEST(AtomicFile, CommitIfAbsentNeverReplaces) {
  TempDir dir;
  ASSERT_THAT(WriteFileAtomically(dir.Sub("chunk"), "first", 0600), IsOk());
  auto second = Staged(dir.Sub("chunk"), "second");
  ASSERT_THAT(second, IsOk());
  EXPECT_THAT(second->CommitIfAbsent(), StatusIs(Code::kAlreadyExists));
  EXPECT_EQ(Contents(dir.Sub("chunk")), "first");
  EXPECT_THAT(Names(dir.path()), ElementsAre("chunk"));

  auto fresh = Staged(dir.Sub("other"), "new");
  ASSERT_THAT(fresh, IsOk());
  auto [status, steps] = Traced([&] { return fresh->CommitIfAbsent(); });
  ASSERT_THAT(status, IsOk());
  EXPECT_EQ(steps.back(), std::pair(FileStep::kSyncDirectory, dir.path()));
  EXPECT_EQ(Contents(dir.Sub("other")), "new");
  EXPECT_THAT(Names(dir.path()), ElementsAre("chunk", "other"));
}

TEST(AtomicFile, CommitWithoutSyncLeavesTheSyncToTheCaller) {
  TempDir dir;
  auto file = Staged(dir.Sub("photo.jpg"), "jpeg");
  ASSERT_THAT(file, IsOk());
  auto [status, steps] = Traced([&] { return file->CommitWithoutSync(); });
  ASSERT_THAT(status, IsOk());
  EXPECT_THAT(steps, ElementsAre(Pair(FileStep::kRename, dir.Sub("photo.jpg"))));
  EXPECT_EQ(Contents(dir.Sub("photo.jpg")), "jpeg");
}

TEST(CreateDirectories, CreatesMissingParentsAndSyncsEachParentItChanged) {
  TempDir dir;
  auto [created, steps] = Traced([&] { return CreateDirectories(dir.Sub("a/b/c/"), 0700); });
  ASSERT_THAT(created, IsOk());
  EXPECT_TRUE(fs::is_directory(dir.Sub("a/b/c")));
  EXPECT_EQ(ModeOf(dir.Sub("a/b")), 0700u);
  EXPECT_THAT(steps, ElementsAre(Pair(FileStep::kSyncDirectory, dir.path()),
                                 Pair(FileStep::kSyncDirectory, dir.Sub("a")),
                                 Pair(FileStep::kSyncDirectory, dir.Sub("a/b"))));
  auto [existing, no_steps] = Traced([&] { return CreateDirectories(dir.Sub("a/b"), 0700); });
  EXPECT_THAT(existing, IsOk());
  EXPECT_THAT(no_steps, ElementsAre());
  std::ofstream(dir.Sub("a/file")) << "x";
  EXPECT_THAT(CreateDirectories(dir.Sub("a/file"), 0700),
              StatusIs(Code::kIo, HasSubstr("is not a directory")));
  EXPECT_THAT(CreateDirectories(dir.Sub("a/file/below"), 0700), StatusIs(Code::kIo));
}

}  // namespace
}  // namespace chatvault

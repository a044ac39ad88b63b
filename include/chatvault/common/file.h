// The one home for talking to the file system: an owning file descriptor, the Status of a failed
// system call, and writing a file so that it appears whole or not at all. Every state file, the
// local storage provider, restore and the WhatsApp tools write through here, so durability rules
// (fsync the file, rename, fsync the directory) live in one place.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "chatvault/common/bytes.h"
#include "chatvault/common/status.h"

namespace chatvault {

// The Status of a system call that failed with `error` (an errno value): kNoSpace for ENOSPC and
// EDQUOT, so callers can say "not enough space" rather than "damaged"; kIo for everything else.
// The message is "<what>: <strerror(error)>". Pass errno straight from the failing call, before
// anything else can change it: ErrnoStatus(errno, "cannot write " + path).
Status ErrnoStatus(int error, std::string_view what);

// Owns a file descriptor: closes it on destruction. Move-only. -1 means "none".
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { Reset(); }
  Fd(Fd&& other) noexcept : fd_(other.Release()) {}
  Fd& operator=(Fd&& other) noexcept;
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;

  bool valid() const { return fd_ >= 0; }
  int get() const { return fd_; }
  // Gives up ownership without closing; the caller closes the returned descriptor.
  int Release();
  // Closes now (if open), ignoring errors: for descriptors only read from.
  void Reset();
  // Closes now and reports close(2)'s error, which for a written file can be the first sign that
  // the data did not reach the disk. `path` names the file in the message. Closed afterwards
  // either way; closing an empty Fd is OK.
  Status Close(std::string_view path);

 private:
  int fd_ = -1;
};

// open(2) with O_CLOEXEC added. Fails with ErrnoStatus, or kNotFound when the path (or a
// directory on it) does not exist.
Result<Fd> OpenFile(const std::string& path, int flags, mode_t mode = 0);

// Writes all of `data` at the current position, retrying short writes and EINTR.
// `path` names the file in the error message.
Status WriteAll(int fd, ByteView data, std::string_view path);

// Reads a whole file into memory; meant for small files (keys, settings, tokens, certificates).
// kNotFound when the path (or a directory on it) does not exist; otherwise ErrnoStatus of the
// failing call, whose message names the path.
Result<std::string> ReadFileToString(const std::string& path);
Result<Bytes> ReadFileToBytes(const std::string& path);

// fsync(2) on a directory: makes the names created, renamed or removed in it survive a power cut
// (fsync on a file makes only its contents durable).
Status SyncDirectory(const std::string& dir);

// mkdir -p: creates `dir` and any missing parents with `mode` (umask applies), and fsyncs each
// parent whose entries changed, so the new directories survive a power cut. OK if `dir` already is
// a directory (its mode is left alone); an error if it or a parent exists as something else.
Status CreateDirectories(const std::string& dir, mode_t mode);

// How AtomicFile names its temporary file and sets the final file's permissions.
struct AtomicFileOptions {
  // Permission bits of the final file, set exactly (the umask does not apply).
  mode_t mode = 0600;
  // The temporary file is "<directory of the final path>/<temp_prefix><6 random characters>",
  // created exclusively. Empty means final name + ".partial-", which says what it is to a person
  // who finds one left by a crash. A leading "." hides it from listings.
  std::string temp_prefix;
  // The exact name of the temporary file (in the final path's directory), for callers that
  // recognise their own leftovers by a pattern; created exclusively. Overrides temp_prefix.
  std::string temp_name;
};

// A file that appears at its final path whole or not at all. Writes go to a temporary file in the
// same directory (same file system, so the rename is atomic); Commit() fsyncs it, renames it over
// the final path and fsyncs the directory. An AtomicFile destroyed without a successful Commit
// (an error, a wrong key, an exception) removes its temporary file; so does a failed Commit.
//
// Not thread-safe, except WriteAt for disjoint ranges.
class AtomicFile {
 public:
  // Creates the temporary file next to `final_path`, whose directory must exist. Nothing appears
  // at `final_path` until Commit.
  static Result<AtomicFile> Create(const std::string& final_path,
                                   const AtomicFileOptions& options = {});
  ~AtomicFile();
  AtomicFile(AtomicFile&& other) noexcept;
  AtomicFile& operator=(AtomicFile&&) = delete;

  // Appends `data` (all of it, or an error).
  Status Write(ByteView data);
  // Writes `data` at `offset` without moving the append position; several threads may write
  // disjoint ranges at once.
  Status WriteAt(ByteView data, uint64_t offset) const;
  // fsync(2) of the temporary file's contents (also after Close). Commit does this itself.
  Status Sync();
  // Closes the temporary file (no writes after this). Commit does this itself; callers that set
  // metadata through fd() first, or hand temp_path() to another reader, may close earlier.
  Status Close();

  // Publishes the file: fsync, close, rename over the final path, fsync the directory. On an
  // error before the rename the temporary file is removed and the final path is untouched; on an
  // error after it (the directory fsync) the new file is in place but may not survive a power cut.
  Status Commit();
  // As Commit, but never replaces: publishes with link(2), so kAlreadyExists when the final path
  // exists. The temporary file is removed either way.
  Status CommitIfAbsent();
  // Close and rename only, no fsync: for callers that write many files and make them durable all
  // at once (syncfs(2)) before they report success. Until then a power cut can leave the final
  // path empty or short, so use it only for files the caller would write again after a crash.
  Status CommitWithoutSync();

  const std::string& final_path() const { return final_path_; }
  const std::string& temp_path() const { return temp_path_; }
  // Bytes appended by Write (not WriteAt).
  uint64_t bytes_written() const { return written_; }
  // The open temporary file, for metadata the caller sets itself (times, write-back hints); -1
  // once closed. Do not close it.
  int fd() const { return fd_.get(); }

 private:
  AtomicFile() = default;
  Status Publish(bool replace, bool sync);
  void Abandon();

  std::string final_path_;
  std::string temp_path_;  // empty once committed or removed
  Fd fd_;
  uint64_t written_ = 0;
};

// Writes `bytes` to `path` with permissions `mode` through an AtomicFile: a reader sees the old
// file or the new one, never a mix, and after OK the new file survives a power cut. On any error
// the temporary file is gone and `path` is unchanged (unless only the directory fsync failed).
Status WriteFileAtomically(const std::string& path, ByteView bytes, mode_t mode);
inline Status WriteFileAtomically(const std::string& path, std::string_view text, mode_t mode) {
  return WriteFileAtomically(path, AsBytes(text), mode);
}

// Test seam, as leveldb's fault-injection Env: lets a test observe and fail the steps above.
// The hook sees each step and the path it acts on before the system call, and returns 0 to let it
// run or an errno value to fail it with. Set it only while no file is being written; an empty
// function removes it.
enum class FileStep { kCreateTemp, kWrite, kSyncFile, kRename, kSyncDirectory };
using FileFaultHook = std::function<int(FileStep step, const std::string& path)>;
void SetFileFaultHookForTesting(FileFaultHook hook);

}  // namespace chatvault

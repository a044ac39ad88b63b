#include "chatvault/common/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace chatvault {
namespace {

FileFaultHook& Hook() {
  static FileFaultHook hook;
  return hook;
}

// 0, or the errno a test asked this step to fail with.
int InjectedFault(FileStep step, const std::string& path) {
  const FileFaultHook& hook = Hook();
  return hook ? hook(step, path) : 0;
}

std::string DirectoryOf(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// Reads straight into a buffer of the file's size (no copy for the common case of a file that
// does not change), then on to the end: files in /proc say 0, and a file may grow.
template <typename Buffer>
Result<Buffer> ReadWhole(const std::string& path) {
  CV_ASSIGN_OR_RETURN(Fd fd, OpenFile(path, O_RDONLY));
  Buffer out;
  struct stat st;
  if (::fstat(fd.get(), &st) == 0 && S_ISREG(st.st_mode)) {
    out.resize(static_cast<size_t>(st.st_size));
  }
  size_t got = 0;
  while (true) {
    char more[4096];
    const bool room = got < out.size();
    const ssize_t n = room ? ::read(fd.get(), out.data() + got, out.size() - got)
                           : ::read(fd.get(), more, sizeof(more));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "cannot read " + path);
    }
    if (n == 0) break;
    if (!room) out.insert(out.end(), more, more + n);
    got += static_cast<size_t>(n);
  }
  out.resize(got);
  return out;
}

}  // namespace

Status ErrnoStatus(int error, std::string_view what) {
  std::string message = std::string(what) + ": " + std::strerror(error);
  if (error == ENOSPC || error == EDQUOT) return NoSpace(std::move(message));
  return IoError(std::move(message));
}

Fd& Fd::operator=(Fd&& other) noexcept {
  if (this != &other) {
    Reset();
    fd_ = other.Release();
  }
  return *this;
}

int Fd::Release() {
  const int fd = fd_;
  fd_ = -1;
  return fd;
}

void Fd::Reset() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

Status Fd::Close(std::string_view path) {
  if (fd_ < 0) return OkStatus();
  // Linux releases the descriptor even when close fails, so it is never retried.
  if (::close(Release()) != 0) return ErrnoStatus(errno, "cannot close " + std::string(path));
  return OkStatus();
}

Result<Fd> OpenFile(const std::string& path, int flags, mode_t mode) {
  Fd fd(::open(path.c_str(), flags | O_CLOEXEC, mode));
  if (!fd.valid()) {
    if (errno == ENOENT || errno == ENOTDIR) return NotFound(path + " does not exist");
    return ErrnoStatus(errno, "cannot open " + path);
  }
  return fd;
}

Status WriteAll(int fd, ByteView data, std::string_view path) {
  if (const int e = InjectedFault(FileStep::kWrite, std::string(path))) {
    return ErrnoStatus(e, "cannot write " + std::string(path));
  }
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "cannot write " + std::string(path));
    }
    done += static_cast<size_t>(n);
  }
  return OkStatus();
}

Result<std::string> ReadFileToString(const std::string& path) {
  return ReadWhole<std::string>(path);
}

Result<Bytes> ReadFileToBytes(const std::string& path) { return ReadWhole<Bytes>(path); }

Status SyncDirectory(const std::string& dir) {
  if (const int e = InjectedFault(FileStep::kSyncDirectory, dir)) {
    return ErrnoStatus(e, "cannot sync the directory " + dir);
  }
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return ErrnoStatus(errno, "cannot open the directory " + dir);
  if (::fsync(fd.get()) != 0) return ErrnoStatus(errno, "cannot sync the directory " + dir);
  return OkStatus();
}

Status CreateDirectories(const std::string& dir, mode_t mode) {
  std::string path = dir;
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  if (path.empty()) return InvalidArgument("no directory name given");
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return OkStatus();
    return IoError(path + " exists and is not a directory");
  }
  const std::string parent = DirectoryOf(path);
  if (parent != path) CV_RETURN_IF_ERROR(CreateDirectories(parent, mode));
  if (::mkdir(path.c_str(), mode) != 0) {
    if (errno == EEXIST) return OkStatus();  // made by someone else meanwhile
    return ErrnoStatus(errno, "cannot create the directory " + path);
  }
  return SyncDirectory(parent);
}

Result<AtomicFile> AtomicFile::Create(const std::string& final_path,
                                      const AtomicFileOptions& options) {
  const size_t slash = final_path.find_last_of('/');
  const std::string dir = slash == std::string::npos ? "" : final_path.substr(0, slash + 1);
  const std::string name = final_path.substr(dir.size());
  const std::string prefix = options.temp_prefix.empty() ? name + ".partial-" : options.temp_prefix;
  std::string temp = dir + (options.temp_name.empty() ? prefix + "XXXXXX" : options.temp_name);
  const std::string what = "cannot create a temporary file next to " + final_path;
  if (const int e = InjectedFault(FileStep::kCreateTemp, temp)) return ErrnoStatus(e, what);
  // Both create the file exclusively (never an existing one) with mode 0600.
  Fd fd(options.temp_name.empty()
            ? ::mkostemp(temp.data(), O_CLOEXEC)
            : ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!fd.valid()) return ErrnoStatus(errno, what);
  AtomicFile file;
  file.final_path_ = final_path;
  file.temp_path_ = std::move(temp);
  file.fd_ = std::move(fd);
  if (::fchmod(file.fd_.get(), options.mode) != 0) {
    return ErrnoStatus(errno, "cannot set the permissions of " + final_path);
  }
  return file;
}

AtomicFile::AtomicFile(AtomicFile&& other) noexcept
    : final_path_(std::move(other.final_path_)),
      temp_path_(std::move(other.temp_path_)),
      fd_(std::move(other.fd_)),
      written_(other.written_) {
  other.temp_path_.clear();
}

AtomicFile::~AtomicFile() { Abandon(); }

void AtomicFile::Abandon() {
  fd_.Reset();
  if (!temp_path_.empty()) ::unlink(temp_path_.c_str());
  temp_path_.clear();
}

Status AtomicFile::Write(ByteView data) {
  if (!fd_.valid()) return Internal("write to " + final_path_ + " after it was closed");
  CV_RETURN_IF_ERROR(WriteAll(fd_.get(), data, final_path_));
  written_ += data.size();
  return OkStatus();
}

Status AtomicFile::WriteAt(ByteView data, uint64_t offset) const {
  if (!fd_.valid()) return Internal("write to " + final_path_ + " after it was closed");
  if (const int e = InjectedFault(FileStep::kWrite, final_path_)) {
    return ErrnoStatus(e, "cannot write " + final_path_);
  }
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::pwrite(fd_.get(), data.data() + done, data.size() - done,
                               static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "cannot write " + final_path_);
    }
    done += static_cast<size_t>(n);
  }
  return OkStatus();
}

Status AtomicFile::Sync() {
  if (const int e = InjectedFault(FileStep::kSyncFile, final_path_)) {
    return ErrnoStatus(e, "cannot sync " + final_path_);
  }
  // Closed early (Close) by a caller that still wants the data durable: fsync through a new
  // descriptor, which flushes the same file.
  Fd reopened;
  if (!fd_.valid()) reopened = Fd(::open(temp_path_.c_str(), O_RDONLY | O_CLOEXEC));
  const int fd = fd_.valid() ? fd_.get() : reopened.get();
  if (::fsync(fd) != 0) return ErrnoStatus(errno, "cannot sync " + final_path_);
  return OkStatus();
}

Status AtomicFile::Close() { return fd_.Close(final_path_); }

Status AtomicFile::Commit() { return Publish(/*replace=*/true, /*sync=*/true); }
Status AtomicFile::CommitIfAbsent() { return Publish(/*replace=*/false, /*sync=*/true); }
Status AtomicFile::CommitWithoutSync() { return Publish(/*replace=*/true, /*sync=*/false); }

Status AtomicFile::Publish(bool replace, bool sync) {
  if (temp_path_.empty()) return Internal(final_path_ + " was already committed or given up");
  Status s;
  if (sync) s = Sync();
  if (s.ok()) s = Close();
  if (s.ok()) {
    if (const int e = InjectedFault(FileStep::kRename, final_path_)) {
      s = ErrnoStatus(e, "cannot put " + final_path_ + " in place");
    } else if (replace) {
      if (::rename(temp_path_.c_str(), final_path_.c_str()) != 0) {
        s = ErrnoStatus(errno, "cannot put " + final_path_ + " in place");
      }
    } else if (::link(temp_path_.c_str(), final_path_.c_str()) != 0) {
      s = errno == EEXIST ? AlreadyExists(final_path_ + " already exists")
                          : ErrnoStatus(errno, "cannot put " + final_path_ + " in place");
    }
  }
  if (!s.ok() || !replace) Abandon();  // after link(2) the temporary name is a second name
  if (!s.ok()) return s;
  temp_path_.clear();
  return sync ? SyncDirectory(DirectoryOf(final_path_)) : OkStatus();
}

Status WriteFileAtomically(const std::string& path, ByteView bytes, mode_t mode) {
  AtomicFileOptions options;
  options.mode = mode;
  CV_ASSIGN_OR_RETURN(AtomicFile file, AtomicFile::Create(path, options));
  CV_RETURN_IF_ERROR(file.Write(bytes));
  return file.Commit();
}

void SetFileFaultHookForTesting(FileFaultHook hook) { Hook() = std::move(hook); }

}  // namespace chatvault

// Local directory provider. Atomicity comes from the file system: every object is written to a
// hidden temp file in its final directory, fsynced, then published with link() (fails if the
// name exists: put-if-absent) or rename() (replaces atomically: put), and the directory is fsynced
// so the new name survives a power cut.
#include "chatvault/storage/local_provider.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <string>

#include "chatvault/crypto/random.h"

namespace chatvault::storage {
namespace {

Status Errno(std::string_view what, const std::string& path) {
  const int e = errno;
  return IoError(std::string(what) + " " + path + ": " + std::strerror(e));
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_;
};

Status FsyncDir(const std::string& dir) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return Errno("cannot open directory", dir);
  if (::fsync(fd.get()) != 0) return Errno("cannot sync directory", dir);
  return OkStatus();
}

// mkdir -p that also fsyncs each parent whose entry list it changed.
Status MakeDirs(const std::string& dir) {
  struct stat st;
  if (::stat(dir.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return OkStatus();
    return IoError(dir + " exists and is not a directory");
  }
  const size_t slash = dir.find_last_of('/');
  std::string parent = slash == std::string::npos ? "." : (slash == 0 ? "/" : dir.substr(0, slash));
  if (slash != std::string::npos && slash != 0) CV_RETURN_IF_ERROR(MakeDirs(parent));
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return Errno("cannot create directory", dir);
  }
  return FsyncDir(parent);
}

Status WriteAll(int fd, ByteView data, const std::string& path) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno("cannot write", path);
    }
    done += static_cast<size_t>(n);
  }
  return OkStatus();
}

// Writes go to "<dir>/.tmp-<random>" first; hidden, so never listed as objects.
constexpr std::string_view kTempPrefix = ".tmp-";

class LocalProvider : public Provider {
 public:
  explicit LocalProvider(std::string root) : root_(std::move(root)) {
    while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
  }

  std::string Describe() const override { return "local:" + root_; }

  Status PutIfAbsent(std::string_view name, ByteView data) override {
    CV_RETURN_IF_ERROR(ValidateObjectName(name));
    const std::string path = PathOf(name);
    CV_ASSIGN_OR_RETURN(std::string tmp, WriteTemp(path, data));
    const int rc = ::link(tmp.c_str(), path.c_str());
    const int link_errno = errno;
    ::unlink(tmp.c_str());
    if (rc != 0) {
      if (link_errno == EEXIST) return AlreadyExists("object " + std::string(name) + " exists");
      errno = link_errno;
      return Errno("cannot publish", path);
    }
    return FsyncDir(DirOf(path));
  }

  Status Put(std::string_view name, ByteView data) override {
    CV_RETURN_IF_ERROR(ValidateObjectName(name));
    const std::string path = PathOf(name);
    CV_ASSIGN_OR_RETURN(std::string tmp, WriteTemp(path, data));
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
      Status s = Errno("cannot publish", path);
      ::unlink(tmp.c_str());
      return s;
    }
    return FsyncDir(DirOf(path));
  }

  Result<Bytes> Get(std::string_view name) override {
    CV_RETURN_IF_ERROR(ValidateObjectName(name));
    const std::string path = PathOf(name);
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) {
      if (errno == ENOENT || errno == ENOTDIR) {
        return NotFound("object " + std::string(name) + " is not in " + Describe());
      }
      return Errno("cannot open", path);
    }
    struct stat st;
    if (::fstat(fd.get(), &st) != 0) return Errno("cannot stat", path);
    // Objects are immutable once published, so the size read now is the size to expect; reading
    // straight into a buffer of that size saves a copy per object.
    Bytes out(static_cast<size_t>(st.st_size));
    size_t got = 0;
    while (got < out.size()) {
      const ssize_t n = ::read(fd.get(), out.data() + got, out.size() - got);
      if (n < 0) {
        if (errno == EINTR) continue;
        return Errno("cannot read", path);
      }
      if (n == 0) break;
      got += static_cast<size_t>(n);
    }
    out.resize(got);  // shrunk while we read: the caller's checks see a short object
    return out;
  }

  Result<std::vector<ObjectInfo>> List(std::string_view prefix) override {
    std::vector<ObjectInfo> out;
    // Walk only the directory the prefix is certainly inside ("chunks/ab/" -> root/chunks/ab).
    const size_t slash = prefix.find_last_of('/');
    const std::string start = slash == std::string_view::npos ? "" : std::string(prefix.substr(0, slash));
    CV_RETURN_IF_ERROR(Walk(start, prefix, out));
    std::sort(out.begin(), out.end(),
              [](const ObjectInfo& a, const ObjectInfo& b) { return a.name < b.name; });
    return out;
  }

  // A crash between creating a temp file and publishing it leaves the temp file behind; nothing
  // else would ever remove it.
  Result<uint64_t> RemoveAbandonedWrites(std::chrono::system_clock::time_point before) override {
    namespace fs = std::filesystem;
    uint64_t removed = 0;
    std::error_code ec;
    for (fs::recursive_directory_iterator it(root_, ec), end; !ec && it != end; it.increment(ec)) {
      if (!it->path().filename().string().starts_with(kTempPrefix)) continue;
      struct stat st;
      if (::lstat(it->path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
      const auto started = std::chrono::system_clock::time_point(
          std::chrono::duration_cast<std::chrono::system_clock::duration>(
              std::chrono::seconds(st.st_mtim.tv_sec) + std::chrono::nanoseconds(st.st_mtim.tv_nsec)));
      if (started < before && ::unlink(it->path().c_str()) == 0) ++removed;
    }
    if (ec && ec != std::errc::no_such_file_or_directory) {
      return IoError("cannot look for leftovers of interrupted writes in " + root_ + ": " +
                     ec.message());
    }
    return removed;
  }

  Status Delete(std::string_view name) override {
    CV_RETURN_IF_ERROR(ValidateObjectName(name));
    const std::string path = PathOf(name);
    if (::unlink(path.c_str()) != 0) {
      if (errno == ENOENT || errno == ENOTDIR) return OkStatus();
      return Errno("cannot delete", path);
    }
    return FsyncDir(DirOf(path));
  }

 private:
  std::string PathOf(std::string_view name) const { return root_ + "/" + std::string(name); }
  static std::string DirOf(const std::string& path) { return path.substr(0, path.find_last_of('/')); }

  // Writes `data` to a fresh hidden file next to `path` and fsyncs it; returns its path.
  Result<std::string> WriteTemp(const std::string& path, ByteView data) {
    const std::string dir = DirOf(path);
    CV_RETURN_IF_ERROR(MakeDirs(dir));
    const std::string tmp = dir + "/" + std::string(kTempPrefix) + HexEncode(crypto::RandomBytes(8));
    Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (fd.get() < 0) return Errno("cannot create", tmp);
    Status s = WriteAll(fd.get(), data, tmp);
    if (s.ok() && ::fsync(fd.get()) != 0) s = Errno("cannot sync", tmp);
    if (s.ok() && ::close(fd.release()) != 0) s = Errno("cannot close", tmp);
    if (!s.ok()) {
      ::unlink(tmp.c_str());
      return s;
    }
    return tmp;
  }

  // Collects objects under root/<rel> whose names start with `prefix`. Hidden entries (temp files
  // of writes in flight or interrupted by a crash) are not objects.
  Status Walk(const std::string& rel, std::string_view prefix, std::vector<ObjectInfo>& out) {
    const std::string dir = rel.empty() ? root_ : root_ + "/" + rel;
    DIR* d = ::opendir(dir.c_str());
    if (!d) {
      if (errno == ENOENT || errno == ENOTDIR) return OkStatus();
      return Errno("cannot list", dir);
    }
    std::vector<std::string> subdirs;
    Status status;
    while (dirent* e = ::readdir(d)) {
      const std::string entry = e->d_name;
      if (entry.empty() || entry[0] == '.') continue;
      const std::string name = rel.empty() ? entry : rel + "/" + entry;
      struct stat st;
      if (::fstatat(::dirfd(d), entry.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno == ENOENT) continue;  // deleted while we listed
        status = Errno("cannot stat", dir + "/" + entry);
        break;
      }
      if (S_ISDIR(st.st_mode)) {
        // Descend only where the prefix can still match.
        const std::string as_dir = name + "/";
        if (as_dir.starts_with(prefix) || prefix.starts_with(as_dir)) subdirs.push_back(name);
      } else if (S_ISREG(st.st_mode) && name.starts_with(prefix)) {
        out.push_back({name, static_cast<uint64_t>(st.st_size)});
      }
    }
    ::closedir(d);
    CV_RETURN_IF_ERROR(status);
    for (const std::string& sub : subdirs) CV_RETURN_IF_ERROR(Walk(sub, prefix, out));
    return OkStatus();
  }

  std::string root_;
};

}  // namespace

std::unique_ptr<Provider> OpenLocalProvider(std::string root) {
  return std::make_unique<LocalProvider>(std::move(root));
}

}  // namespace chatvault::storage

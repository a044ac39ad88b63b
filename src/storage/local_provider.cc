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
#include <filesystem>
#include <string>

#include "chatvault/common/file.h"

namespace chatvault::storage {
namespace {

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
    CV_ASSIGN_OR_RETURN(AtomicFile file, WriteTemp(PathOf(name), data));
    Status s = file.CommitIfAbsent();  // link(2): fails if the name exists
    if (s.code() == Code::kAlreadyExists) {
      return AlreadyExists("object " + std::string(name) + " exists");
    }
    return s;
  }

  Status Put(std::string_view name, ByteView data) override {
    CV_RETURN_IF_ERROR(ValidateObjectName(name));
    CV_ASSIGN_OR_RETURN(AtomicFile file, WriteTemp(PathOf(name), data));
    return file.Commit();  // rename(2): replaces atomically
  }

  Result<Bytes> Get(std::string_view name) override {
    CV_RETURN_IF_ERROR(ValidateObjectName(name));
    auto data = ReadFileToBytes(PathOf(name));
    if (data.status().code() == Code::kNotFound) {
      return NotFound("object " + std::string(name) + " is not in " + Describe());
    }
    return data;
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
      return ErrnoStatus(errno, "cannot delete " + path);
    }
    return SyncDirectory(DirOf(path));
  }

 private:
  std::string PathOf(std::string_view name) const { return root_ + "/" + std::string(name); }
  static std::string DirOf(const std::string& path) { return path.substr(0, path.find_last_of('/')); }

  // Writes `data` to a fresh hidden file next to `path`, ready to be published.
  Result<AtomicFile> WriteTemp(const std::string& path, ByteView data) {
    CV_RETURN_IF_ERROR(CreateDirectories(DirOf(path), 0700));
    AtomicFileOptions options;
    options.temp_prefix = kTempPrefix;
    CV_ASSIGN_OR_RETURN(AtomicFile file, AtomicFile::Create(path, options));
    CV_RETURN_IF_ERROR(file.Write(data));
    return file;
  }

  // Collects objects under root/<rel> whose names start with `prefix`. Hidden entries (temp files
  // of writes in flight or interrupted by a crash) are not objects.
  Status Walk(const std::string& rel, std::string_view prefix, std::vector<ObjectInfo>& out) {
    const std::string dir = rel.empty() ? root_ : root_ + "/" + rel;
    DIR* d = ::opendir(dir.c_str());
    if (!d) {
      if (errno == ENOENT || errno == ENOTDIR) return OkStatus();
      return ErrnoStatus(errno, "cannot list " + dir);
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
        status = ErrnoStatus(errno, "cannot stat " + dir + "/" + entry);
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

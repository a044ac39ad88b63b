// RunRestore and RunVerify: fetch and authenticate every chunk of the current backup, in order,
// with a few downloads in flight; restore writes each file via temp + fsync + rename.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>
#include <filesystem>
#include <future>
#include <set>

#include "backup/catalog.h"
#include "backup/chunk_codec.h"
#include "backup/sqlite_snapshot.h"
#include "backup/work_pool.h"
#include "chatvault/backup/engine.h"
#include "chatvault/crypto/random.h"

namespace chatvault::backup {
namespace fs = std::filesystem;
namespace {

Status Errno(const std::string& what) { return IoError(what + ": " + std::strerror(errno)); }

Status FsyncPath(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return Errno("cannot open " + path);
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return Errno("cannot sync " + path);
  return OkStatus();
}

// Writes one restored file to a hidden temp name beside its final place.
class StagedFile {
 public:
  ~StagedFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!tmp_.empty()) ::unlink(tmp_.c_str());
  }
  Status Open(const std::string& final_path) {
    final_ = final_path;
    const fs::path p(final_path);
    tmp_ = (p.parent_path() / (".chatvault-restore-" + HexEncode(crypto::RandomBytes(6)) + "-" +
                               p.filename().string()))
               .string();
    fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd_ < 0) {
      tmp_.clear();
      return Errno("cannot create a file in " + p.parent_path().string());
    }
    return OkStatus();
  }
  Status Write(ByteView data) {
    size_t done = 0;
    while (done < data.size()) {
      const ssize_t n = ::write(fd_, data.data() + done, data.size() - done);
      if (n < 0) {
        if (errno == EINTR) continue;
        return Errno("cannot write " + final_);
      }
      done += static_cast<size_t>(n);
    }
    return OkStatus();
  }
  // fsync, mode, mtime, then `check` on the complete temp file, then rename into place.
  Status Publish(uint32_t mode, int64_t mtime_ns, const std::function<Status(const std::string&)>& check) {
    if (::fsync(fd_) != 0) return Errno("cannot sync " + final_);
    if (::fchmod(fd_, mode & 07777) != 0) return Errno("cannot set the mode of " + final_);
    struct timespec times[2];
    times[0].tv_sec = 0;
    times[0].tv_nsec = UTIME_OMIT;
    times[1].tv_sec = mtime_ns / 1000000000;
    times[1].tv_nsec = mtime_ns % 1000000000;
    if (::futimens(fd_, times) != 0) return Errno("cannot set the time of " + final_);
    if (::close(fd_) != 0) {
      fd_ = -1;
      return Errno("cannot close " + final_);
    }
    fd_ = -1;
    if (check) CV_RETURN_IF_ERROR(check(tmp_));
    if (::rename(tmp_.c_str(), final_.c_str()) != 0) return Errno("cannot put " + final_ + " in place");
    tmp_.clear();
    return OkStatus();
  }

 private:
  int fd_ = -1;
  std::string tmp_;
  std::string final_;
};

Result<RestoreSummary> Run(storage::Provider& provider, const key::BackupKey& key,
                           const std::string* target_dir, const RestoreOptions& options) {
  const auto started = std::chrono::steady_clock::now();
  const bool writing = target_dir != nullptr;
  if (writing) {
    std::error_code ec;
    if (fs::exists(*target_dir, ec) && !fs::is_directory(*target_dir, ec)) {
      return InvalidArgument(*target_dir + " exists and is not a directory");
    }
    if (!options.allow_nonempty && fs::exists(*target_dir, ec) &&
        !fs::is_empty(*target_dir, ec)) {
      return InvalidArgument(*target_dir + " is not empty; restore into an empty directory");
    }
    fs::create_directories(*target_dir, ec);
    if (ec) return IoError("cannot create " + *target_dir + ": " + ec.message());
  }

  CV_ASSIGN_OR_RETURN(Manifest manifest, LoadCurrentManifest(provider, key));
  Progress progress{writing ? "restore" : "verify", 0, manifest.TotalBytes(), 0,
                    manifest.files.size()};
  auto report = [&] {
    if (options.progress) options.progress(progress);
  };
  report();

  ChunkCodec codec(key);
  const int threads = std::max(1, options.threads);
  const size_t window = static_cast<size_t>(threads) * 2;
  WorkPool pool(threads);
  std::set<std::string> touched_dirs;

  // Downloads run ahead across file boundaries: most media files are a single chunk, and a
  // window that stopped at each file's end would leave the pool idle between files.
  // Returning early with downloads still in flight is safe: `pool` is destroyed before `codec`
  // and finishes its queued jobs first.
  std::deque<std::future<Result<Bytes>>> in_flight;
  size_t ahead_file = 0, ahead_chunk = 0;
  auto download_ahead = [&] {
    while (in_flight.size() < window && ahead_file < manifest.files.size()) {
      const FileEntry& f = manifest.files[ahead_file];
      if (ahead_chunk >= f.chunks.size()) {
        ++ahead_file;
        ahead_chunk = 0;
        continue;
      }
      const ChunkRef& ref = f.chunks[ahead_chunk++];
      in_flight.push_back(pool.Submit(
          [&codec, &provider, ref]() { return codec.Load(provider, ref.id, ref.size); }));
    }
  };

  for (const FileEntry& file : manifest.files) {
    StagedFile staged;
    std::string final_path;
    if (writing) {
      final_path = *target_dir + "/" + file.path;
      const std::string parent = fs::path(final_path).parent_path().string();
      std::error_code ec;
      fs::create_directories(parent, ec);
      if (ec) return IoError("cannot create " + parent + ": " + ec.message());
      touched_dirs.insert(parent);
      CV_RETURN_IF_ERROR(staged.Open(final_path));
    }
    for (size_t i = 0; i < file.chunks.size(); ++i) {
      download_ahead();
      auto chunk = in_flight.front().get();
      in_flight.pop_front();
      if (!chunk.ok()) {
        const Status& s = chunk.status();
        if (s.code() == Code::kWrongKey) return s;
        return Status(s.code(), "the backup copy of " + file.path + " is damaged: " + s.message());
      }
      if (writing) CV_RETURN_IF_ERROR(staged.Write(*chunk));
      progress.bytes_done += chunk->size();
      report();
    }
    if (writing) {
      std::function<Status(const std::string&)> check;
      if (file.path == kDatabaseName) check = CheckDatabaseIntegrity;
      CV_RETURN_IF_ERROR(staged.Publish(file.mode, file.mtime_ns, check));
    }
    ++progress.files_done;
    report();
  }
  // The renames are durable once their directories are synced.
  for (const std::string& dir : touched_dirs) CV_RETURN_IF_ERROR(FsyncPath(dir, O_RDONLY | O_DIRECTORY));

  RestoreSummary summary;
  summary.sequence = manifest.sequence;
  summary.created_unix = manifest.created_unix;
  summary.files = manifest.files.size();
  summary.bytes = manifest.TotalBytes();
  summary.chunks = manifest.ChunkCount();
  summary.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return summary;
}

}  // namespace

Result<RestoreSummary> RunRestore(storage::Provider& provider, const key::BackupKey& key,
                                  const std::string& target_dir, const RestoreOptions& options) {
  return Run(provider, key, &target_dir, options);
}

Result<RestoreSummary> RunVerify(storage::Provider& provider, const key::BackupKey& key,
                                 const RestoreOptions& options) {
  return Run(provider, key, nullptr, options);
}

Result<BackupInfo> LatestBackup(storage::Provider& provider, const key::BackupKey& key) {
  CV_ASSIGN_OR_RETURN(Manifest manifest, LoadCurrentManifest(provider, key));
  BackupInfo info;
  info.sequence = manifest.sequence;
  info.created_unix = manifest.created_unix;
  info.files = manifest.files.size();
  info.bytes = manifest.TotalBytes();
  info.chunks = manifest.ChunkCount();
  return info;
}

}  // namespace chatvault::backup

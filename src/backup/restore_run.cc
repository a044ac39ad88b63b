// RunRestore and RunVerify: fetch and authenticate every chunk of the current backup with a few
// chunks in flight; restore writes each file via a temp file + rename and flushes them to disk
// together at the end.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <future>
#include <optional>

#include "backup/catalog.h"
#include "backup/chunk_codec.h"
#include "backup/crash_point.h"
#include "backup/database_restore.h"
#include "backup/layout.h"
#include "backup/ordered_window.h"
#include "backup/restore_target.h"
#include "backup/sqlite_snapshot.h"
#include "chatvault/backup/engine.h"
#include "chatvault/common/file.h"

namespace chatvault::backup {
namespace fs = std::filesystem;
namespace {


// One restored file: written at chunk offsets by the workers (pwrite) to a hidden temp name
// beside its final place, then published by the restore loop once every chunk is in.
class StagedFile {
 public:
  Status Open(const std::string& final_path) {
    AtomicFileOptions options;
    options.temp_name = RestoreTempFileName(fs::path(final_path).filename().string());
    CV_ASSIGN_OR_RETURN(AtomicFile file, AtomicFile::Create(final_path, options));
    file_.emplace(std::move(file));
    return OkStatus();
  }
  // Safe from several threads at once for disjoint ranges.
  Status WriteAt(ByteView data, uint64_t offset) const { return file_->WriteAt(data, offset); }
  // Mode and mtime, then closes the temp file. A file that replaces an existing one is synced
  // first, so a power cut cannot swap good data for a half-written copy; new files are synced
  // together at the end of the restore (SyncFileSystem).
  Status Close(uint32_t mode, int64_t mtime_ns) {
    const std::string& final_path = file_->final_path();
    struct stat existing;
    replaces_ = ::lstat(final_path.c_str(), &existing) == 0;
    if (replaces_) {
      CV_RETURN_IF_ERROR(file_->Sync());
    } else {
      // Start writing this file to disk now, without waiting, so the flush at the end finds
      // little left to do and the disk works while later chunks are decrypted.
      (void)::sync_file_range(file_->fd(), 0, 0, SYNC_FILE_RANGE_WRITE);
    }
    if (::fchmod(file_->fd(), mode & 07777) != 0) {
      return ErrnoStatus(errno, "cannot set the mode of " + final_path);
    }
    struct timespec times[2];
    times[0].tv_sec = 0;
    times[0].tv_nsec = UTIME_OMIT;
    times[1].tv_sec = mtime_ns / 1000000000;
    times[1].tv_nsec = mtime_ns % 1000000000;
    if (::futimens(file_->fd(), times) != 0) {
      return ErrnoStatus(errno, "cannot set the time of " + final_path);
    }
    return file_->Close();
  }
  // Durable only after SyncFileSystem, which the restore runs before it reports success.
  Status Rename() { return file_->CommitWithoutSync(); }
  const std::string& temp_path() const { return file_->temp_path(); }
  const std::string& final_path() const { return file_->final_path(); }
  bool replaces() const { return replaces_; }

 private:
  std::optional<AtomicFile> file_;
  bool replaces_ = false;
};

// Flushes everything written under `dir` (the restored files and their directory entries) with
// one syncfs(2) instead of a wait per file.
Status SyncFileSystem(const std::string& dir) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return ErrnoStatus(errno, "cannot open " + dir);
  if (::syncfs(fd.get()) != 0) {
    return ErrnoStatus(errno, "cannot flush the restored files in " + dir + " to disk");
  }
  return OkStatus();
}

// Damage to stored objects names the file it hurts; other failures (a full disk, the network)
// say what they are.
Status Damaged(const Status& s, const std::string& path) {
  if (s.code() == Code::kCorrupted || s.code() == Code::kTruncated) {
    return Status(s.code(), "the backup copy of " + path + " is damaged: " + s.message());
  }
  return s;
}

// The backup to read, and what the reader should be told about the location.
Result<Manifest> ChooseAndLoad(storage::Provider& provider, const key::BackupKey& key,
                               const RestoreOptions& options, std::vector<std::string>& warnings) {
  CV_ASSIGN_OR_RETURN(LocationSurvey survey, SurveyLocation(provider, key));
  CV_ASSIGN_OR_RETURN(const PointerEntry* chosen, ChooseBackup(survey, options.sequence));
  warnings = survey.WarningsAbove(chosen->sequence);
  const PointerEntry* newest = survey.NewestOurs();
  if (options.min_sequence > 0 && newest->sequence < options.min_sequence) {
    warnings.push_back("the newest backup at " + survey.location + " is backup " +
                       std::to_string(newest->sequence) + ", older than backup " +
                       std::to_string(options.min_sequence) +
                       " that was committed there: the location was rolled back or its newer "
                       "backups were deleted");
  }
  return LoadManifest(provider, key, *chosen);
}

Result<RestoreSummary> Run(storage::Provider& provider, const key::BackupKey& key,
                           const std::string* target_dir, const RestoreOptions& options) {
  const auto started = std::chrono::steady_clock::now();
  const bool writing = target_dir != nullptr;
  // Declared before the staged files and the window: if the restore fails, it removes what was put
  // in place only after every temp file is gone and every worker has stopped.
  std::optional<RestoreTarget> target;
  if (writing) {
    target.emplace(*target_dir);
    CV_RETURN_IF_ERROR(target->Inspect(options.allow_nonempty));
  }

  RestoreSummary summary;
  CV_ASSIGN_OR_RETURN(Manifest manifest, ChooseAndLoad(provider, key, options, summary.warnings));
  if (writing) {
    CV_RETURN_IF_ERROR(target->CheckSpace(manifest));
    CV_RETURN_IF_ERROR(target->MakeParentsOf(kDatabaseName));
  }
  Progress progress{writing ? "restore" : "verify", 0, manifest.TotalBytes(), 0,
                    manifest.files.size()};
  auto report = [&] {
    if (options.progress) options.progress(progress);
  };
  report();

  // The workers fetch, authenticate and write chunks; this thread keeps at most `window` chunks
  // in flight, in manifest order and across file boundaries (most media files are one chunk), and
  // publishes each file once its last chunk is in. The database's check runs beside the rest of
  // the restore, and the database is put in place only once it passed.
  ChunkCodec codec(key);
  std::vector<std::unique_ptr<StagedFile>> staged(manifest.files.size());
  std::future<Status> database_check;
  size_t database_index = manifest.files.size();
  struct Piece {  // a chunk of a file, or a base chunk or pack of a paged database
    size_t file;
    bool last;  // the file is complete once it is in
  };
  bool first_chunk_written = false;

  auto put_in_place = [&](StagedFile& out) -> Status {
    CV_RETURN_IF_ERROR(out.Rename());
    target->Published(out.final_path(), out.replaces());
    return OkStatus();
  };
  // A database backed up page by page (at most one) is written from its base chunks and packs.
  std::unique_ptr<PagedDatabaseRestore> paged;
  auto publish = [&](size_t index) -> Status {
    const FileEntry& file = manifest.files[index];
    ++progress.files_done;
    if (file.pages) CV_RETURN_IF_ERROR(Damaged(paged->Check(), file.path));
    if (!writing) return OkStatus();
    StagedFile& out = *staged[index];
    CV_RETURN_IF_ERROR(out.Close(file.mode, file.mtime_ns));
    if (file.path == kDatabaseName) {
      database_index = index;
      database_check = std::async(std::launch::async, CheckDatabaseIntegrity, out.temp_path());
      return OkStatus();
    }
    CV_RETURN_IF_ERROR(put_in_place(out));
    staged[index].reset();
    return OkStatus();
  };
  auto take_piece = [&](Piece& piece, Result<uint64_t> written) -> Status {
    if (!written.ok()) return Damaged(written.status(), manifest.files[piece.file].path);
    if (writing && !first_chunk_written) {
      first_chunk_written = true;
      CrashPoint("restore-chunk");
    }
    progress.bytes_done += *written;
    if (piece.last) CV_RETURN_IF_ERROR(publish(piece.file));
    report();
    return OkStatus();
  };

  // Returning early with jobs in flight is safe: `window` is declared last, so it is destroyed
  // first and finishes its queued jobs while the files and the codec they use still exist.
  using Window = OrderedWindow<Result<uint64_t>, Piece>;
  Window window(options.threads, Window::TwoPerWorker(options.threads), take_piece);
  // A paged database: one job per base chunk or pack, all writing into the same staged file.
  auto submit_pages = [&](const FileEntry& file, size_t index, const StagedFile* out) -> Status {
    paged = std::make_unique<PagedDatabaseRestore>(file, key);
    PagedDatabaseRestore::WriteFn write;
    if (out) write = [out](ByteView data, uint64_t offset) { return out->WriteAt(data, offset); };
    const size_t pieces = paged->PieceCount();
    if (pieces == 0) return Internal("a page map without objects passed the manifest's checks");
    for (size_t i = 0; i < pieces; ++i) {
      PagedDatabaseRestore* db = paged.get();
      CV_RETURN_IF_ERROR(window.Submit({index, i + 1 == pieces}, [db, i, &provider, write] {
        return db->Fetch(i, provider, write);
      }));
    }
    return OkStatus();
  };
  Status failure;
  for (size_t index = 0; index < manifest.files.size() && failure.ok(); ++index) {
    const FileEntry& file = manifest.files[index];
    if (writing) {
      failure = target->MakeParentsOf(file.path);
      if (!failure.ok()) break;
      staged[index] = std::make_unique<StagedFile>();
      failure = staged[index]->Open(target->PathOf(file.path));
      if (!failure.ok()) break;
    }
    if (file.pages) {
      failure = submit_pages(file, index, writing ? staged[index].get() : nullptr);
      continue;
    }
    if (file.chunks.empty()) {
      // Everything before this file is published first, so files appear in manifest order.
      failure = window.Drain();
      if (failure.ok()) failure = publish(index);
      continue;
    }
    uint64_t offset = 0;
    for (size_t i = 0; i < file.chunks.size() && failure.ok(); ++i) {
      const ChunkRef ref = file.chunks[i];
      const StagedFile* out = writing ? staged[index].get() : nullptr;
      failure =
          window.Submit({index, i + 1 == file.chunks.size()},
                        [&codec, &provider, ref, out, offset]() -> Result<uint64_t> {
                          CV_ASSIGN_OR_RETURN(Bytes plain, codec.Load(provider, ref.id, ref.size));
                          if (out) CV_RETURN_IF_ERROR(out->WriteAt(plain, offset));
                          return static_cast<uint64_t>(plain.size());
                        });
      offset += ref.size;
    }
  }
  if (failure.ok()) failure = window.Drain();
  if (database_check.valid()) {
    Status checked = database_check.get();
    if (failure.ok()) failure = Damaged(checked, kDatabaseName);
    if (failure.ok()) failure = put_in_place(*staged[database_index]);
  }
  if (failure.ok() && writing) failure = SyncFileSystem(*target_dir);
  if (!failure.ok()) return writing ? target->ExplainNoSpace(failure) : failure;
  if (writing) target->Keep();

  CopyTotals(manifest, summary);
  summary.created_unix = manifest.created_unix;
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

namespace {

BackupInfo InfoOf(const Manifest& manifest) {
  BackupInfo info;
  CopyTotals(manifest, info);
  info.created_unix = manifest.created_unix;
  info.messages = manifest.messages;
  info.skipped_files = manifest.skipped.size();
  return info;
}

}  // namespace

Result<BackupInfo> LatestBackup(storage::Provider& provider, const key::BackupKey& key) {
  CV_ASSIGN_OR_RETURN(LocationSurvey survey, SurveyLocation(provider, key));
  CV_ASSIGN_OR_RETURN(const PointerEntry* newest, ChooseBackup(survey, 0));
  CV_ASSIGN_OR_RETURN(Manifest manifest, LoadManifest(provider, key, *newest));
  return InfoOf(manifest);
}

Result<LocationContents> ListBackups(storage::Provider& provider, const key::BackupKey& key) {
  CV_ASSIGN_OR_RETURN(LocationSurvey survey, SurveyLocation(provider, key));
  LocationContents out;
  for (const auto& p : survey.pointers) {
    if (p.kind == PointerEntry::Kind::kOtherKey) {
      ++out.other_key_backups;
    } else if (p.kind == PointerEntry::Kind::kInvalid) {
      out.ignored.push_back(PointerName(p.sequence) + ": " + p.problem);
    } else if (auto manifest = LoadManifest(provider, key, p); manifest.ok()) {
      out.backups.push_back(InfoOf(*manifest));
    } else if (manifest.status().code() != Code::kIo &&
               manifest.status().code() != Code::kUnavailable) {
      // A backup that cannot be read is listed as such; only a provider failure fails the list.
      BackupInfo damaged;
      damaged.sequence = p.sequence;
      damaged.problem = manifest.status().message();
      out.backups.push_back(std::move(damaged));
    } else {
      return manifest.status();
    }
  }
  return out;
}

}  // namespace chatvault::backup

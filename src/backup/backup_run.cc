// RunBackup: snapshot, plan, upload what is new, commit, then clean up (docs/BACKUP.md).
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <unordered_map>

#include "backup/catalog.h"
#include "backup/chunk_codec.h"
#include "backup/chunk_uploader.h"
#include "backup/crash_point.h"
#include "backup/file_reader.h"
#include "backup/layout.h"
#include "backup/source_files.h"
#include "backup/sqlite_snapshot.h"
#include "chatvault/backup/engine.h"
#include "chatvault/crypto/random.h"

namespace chatvault::backup {
namespace fs = std::filesystem;
namespace {

// Deletes the staged snapshot however the backup ends.
struct TempFile {
  std::string path;
  ~TempFile() {
    if (!path.empty()) ::unlink(path.c_str());
  }
};

// One backup, step by step; each step is a method over the state the steps share.
class BackupRun {
 public:
  BackupRun(const std::string& data_dir, storage::Provider& provider, const key::BackupKey& key,
            const BackupOptions& options)
      : data_dir_(data_dir),
        db_path_(data_dir + "/" + kDatabaseName),
        provider_(provider),
        key_(key),
        options_(options),
        codec_(key) {}

  Result<BackupSummary> Run() {
    CV_RETURN_IF_ERROR(Survey());
    CV_RETURN_IF_ERROR(Snapshot());
    CrashPoint("snapshot");
    CV_RETURN_IF_ERROR(Plan());
    CV_RETURN_IF_ERROR(Upload());
    CrashPoint("chunks");
    CV_RETURN_IF_ERROR(Commit());
    CleanUp();
    CopyTotals(manifest_, summary_);
    summary_.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    return summary_;
  }

 private:
  // What the location holds: the stored chunks (neither encrypted nor uploaded again), the next
  // sequence number, and the current backup's media entries for the carry-over.
  Status Survey() {
    if (::stat(db_path_.c_str(), &db_stat_) != 0 || !S_ISREG(db_stat_.st_mode)) {
      return NotFound(data_dir_ + " is not a chat data directory: it has no " + kDatabaseName);
    }
    CV_ASSIGN_OR_RETURN(auto listed, provider_.List(kChunkPrefix));
    stored_.emplace(listed);
    CV_ASSIGN_OR_RETURN(uint64_t highest, HighestSequence(provider_));
    manifest_.sequence = highest + 1;
    // Any problem with the previous manifest just means reading everything.
    if (!options_.reread_all) {
      auto current = LoadCurrentManifest(provider_, key_);
      if (current.ok()) {
        for (FileEntry& f : current->files) {
          if (f.path != kDatabaseName) previous_.emplace(f.path, std::move(f));
        }
      }
    }
    return OkStatus();
  }

  // 1. A consistent copy of the live database.
  Status Snapshot() {
    const std::string temp_dir =
        options_.temp_dir.empty() ? fs::temp_directory_path().string() : options_.temp_dir;
    snapshot_.path = temp_dir + "/chatvault-snapshot-" + HexEncode(crypto::RandomBytes(8)) + ".db";
    progress_.phase = "snapshot";
    return SnapshotDatabase(db_path_, snapshot_.path, [&](uint64_t done, uint64_t total) {
      progress_.bytes_done = done;
      progress_.bytes_total = total;
      Report();
    });
  }

  // The files this backup reads: the snapshot under the database's name, then the media.
  Status Plan() {
    SourceFile db;
    db.rel = kDatabaseName;
    db.read_from = snapshot_.path;
    if (::stat(snapshot_.path.c_str(), &db.st) != 0) return IoError("the snapshot vanished");
    db.st.st_mode = db_stat_.st_mode;  // the live file's mode and mtime, the snapshot's size
    db.st.st_mtim = db_stat_.st_mtim;
    sources_.push_back(std::move(db));
    CV_ASSIGN_OR_RETURN(auto media, ListMedia(data_dir_));
    for (auto& m : media) sources_.push_back(std::move(m));
    manifest_.created_unix = std::chrono::duration_cast<std::chrono::seconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count();
    return OkStatus();
  }

  // 2. Chunks: this thread reads; the uploader's workers id, encrypt and upload what is new.
  Status Upload() {
    progress_ = Progress{"upload", 0, 0, 0, sources_.size()};
    for (const auto& s : sources_) progress_.bytes_total += static_cast<uint64_t>(s.st.st_size);
    Report();
    ChunkUploader uploader(provider_, codec_, *stored_, options_.threads,
                           [this](const ChunkUploader::Stored& s) { Record(s); });
    for (const SourceFile& src : sources_) {
      Status s = UploadFile(src, uploader);
      if (!s.ok()) {
        (void)uploader.Finish();
        return s;
      }
    }
    return uploader.Finish();
  }

  Status UploadFile(const SourceFile& src, ChunkUploader& uploader) {
    FileEntry entry;
    entry.path = src.rel;
    entry.mode = src.st.st_mode & 07777;
    entry.mtime_ns = MtimeNs(src.st);
    entry.size = static_cast<uint64_t>(src.st.st_size);
    const bool is_db = src.rel == kDatabaseName;
    const FileEntry* old = is_db ? nullptr : CarriedOver(entry);
    if (old) {
      entry.chunks = old->chunks;
      ++summary_.files_unchanged;
    }
    const size_t file_index = manifest_.files.size();
    manifest_.files.push_back(std::move(entry));
    if (old) {
      progress_.bytes_done += manifest_.files[file_index].size;
      ++progress_.files_done;
      Report();
      return OkStatus();
    }
    uint64_t read_bytes = 0;
    const size_t chunk_size = is_db ? kDatabaseChunkSize : kMediaChunkSize;
    CV_ASSIGN_OR_RETURN(FileReader reader, FileReader::Open(src.read_from));
    for (;;) {
      Bytes data = uploader.TakeBuffer();
      CV_RETURN_IF_ERROR(reader.Read(chunk_size, data));
      if (data.empty()) break;
      read_bytes += data.size();
      progress_.bytes_done += data.size();
      Status s = uploader.Submit(file_index, std::move(data));
      Report();
      CV_RETURN_IF_ERROR(s);
    }
    // The size actually read: a file that grew or shrank since it was listed is backed up as it
    // was read.
    manifest_.files[file_index].size = read_bytes;
    ++progress_.files_done;
    Report();
    return OkStatus();
  }

  // A chunk came back from the uploader (in submission order).
  void Record(const ChunkUploader::Stored& s) {
    manifest_.files[s.file].chunks.push_back(s.ref);
    summary_.bytes_uploaded += s.uploaded;
    if (s.is_new) ++summary_.new_chunks;
    if (s.uploaded > 0 && !first_chunk_reported_) {
      first_chunk_reported_ = true;
      CrashPoint("chunk");
    }
  }

  // A media file the current backup already holds unchanged (same path, size, mtime and mode) is
  // not read again: its chunk list carries over, provided every chunk is still on the provider.
  const FileEntry* CarriedOver(const FileEntry& entry) const {
    auto it = previous_.find(entry.path);
    if (it == previous_.end()) return nullptr;
    const FileEntry& old = it->second;
    if (old.size != entry.size || old.mtime_ns != entry.mtime_ns || old.mode != entry.mode) {
      return nullptr;
    }
    return stored_->ContainsAll(old.chunks) ? &old : nullptr;
  }

  // 3. Commit: manifest, then the pointer.
  Status Commit() {
    progress_.phase = "commit";
    Report();
    return CommitBackup(provider_, key_, manifest_);
  }

  // 4. Only now may older backups' objects go. A failure here does not fail the backup.
  void CleanUp() {
    progress_.phase = "cleanup";
    Report();
    auto deleted = CollectGarbage(provider_, manifest_, started_wall_);
    if (deleted.ok()) {
      summary_.objects_deleted = *deleted;
    } else {
      summary_.cleanup_warning = "older backups were not fully removed (" +
                                 deleted.status().ToString() + "); the next backup retries";
    }
  }

  void Report() {
    if (options_.progress) options_.progress(progress_);
  }

  const std::string data_dir_;
  const std::string db_path_;
  storage::Provider& provider_;
  const key::BackupKey& key_;
  const BackupOptions& options_;
  const ChunkCodec codec_;
  const std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  // For leftovers of older runs: writes that started before this backup are abandoned.
  const std::chrono::system_clock::time_point started_wall_ = std::chrono::system_clock::now();

  struct stat db_stat_ {};
  std::optional<StoredChunks> stored_;
  std::unordered_map<std::string, FileEntry> previous_;
  TempFile snapshot_;
  std::vector<SourceFile> sources_;
  Manifest manifest_;
  BackupSummary summary_;
  Progress progress_;
  bool first_chunk_reported_ = false;
};

}  // namespace

Result<BackupSummary> RunBackup(const std::string& data_dir, storage::Provider& provider,
                                const key::BackupKey& key, const BackupOptions& options) {
  return BackupRun(data_dir, provider, key, options).Run();
}

}  // namespace chatvault::backup

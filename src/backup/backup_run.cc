// RunBackup: survey the location, snapshot, plan, upload what is new, judge, commit, then clean
// up (docs/BACKUP.md).
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <future>
#include <optional>
#include <unordered_map>

#include "backup/catalog.h"
#include "backup/chunk_codec.h"
#include "backup/chunk_uploader.h"
#include "backup/crash_point.h"
#include "backup/database_backup.h"
#include "backup/file_reader.h"
#include "backup/layout.h"
#include "backup/source_files.h"
#include "backup/sqlite_snapshot.h"
#include "chatvault/backup/engine.h"
#include "chatvault/crypto/random.h"

namespace chatvault::backup {
namespace fs = std::filesystem;
namespace {

// The media shrink check needs a collection worth the name: a user clearing three photos is not
// a disaster, thousands vanishing at once is.
constexpr uint64_t kMinMediaForShrinkCheck = 10;

// Deletes the staged snapshot however the backup ends.
struct TempFile {
  std::string path;
  ~TempFile() {
    if (!path.empty()) ::unlink(path.c_str());
  }
};

// What the snapshot says about the data, learnt beside the upload.
struct DatabaseFacts {
  Status integrity;
  Result<std::optional<uint64_t>> messages = std::optional<uint64_t>();
};

DatabaseFacts InspectSnapshot(const std::string& path) {
  return {CheckDatabaseIntegrity(path), CountMessages(path)};
}

// May a backup under this key be written to the location? A location belongs to the key of its
// newest backup; and one that is older than what is known to be committed there was rolled back.
Status CheckOwnership(const LocationSurvey& survey, const BackupOptions& options) {
  const PointerEntry* newest = survey.NewestValid();
  if (newest && newest->kind == PointerEntry::Kind::kOtherKey) {
    if (options.replace_other_backup) return OkStatus();  // this key's history there is moot
    return ForeignBackup("the backup at " + survey.location + " (backup " +
                         std::to_string(newest->sequence) +
                         ") was made with a different key, and backing up here would replace it");
  }
  if (options.min_sequence == 0 || options.accept_rollback) return OkStatus();
  const PointerEntry* ours = survey.NewestOurs();
  if (!ours) {
    return RolledBack("the location " + survey.location + " holds no backup, but backup " +
                      std::to_string(options.min_sequence) +
                      " was committed there: its backups were deleted");
  }
  if (ours->sequence < options.min_sequence) {
    return RolledBack("the newest backup at " + survey.location + " is backup " +
                      std::to_string(ours->sequence) + ", older than backup " +
                      std::to_string(options.min_sequence) +
                      " that was committed there: the location was rolled back or its newer "
                      "backups were deleted");
  }
  return OkStatus();
}

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
    CV_RETURN_IF_ERROR(Judge());
    CV_RETURN_IF_ERROR(Commit());
    CleanUp();
    CopyTotals(manifest_, summary_);
    summary_.messages = manifest_.messages;
    summary_.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    return summary_;
  }

 private:
  // What the location holds: whose backups, the next sequence number, the stored chunks (neither
  // encrypted nor uploaded again), and the current backup, for the carry-over and the checks.
  Status Survey() {
    has_database_ = ::stat(db_path_.c_str(), &db_stat_) == 0 && S_ISREG(db_stat_.st_mode);
    if (!has_database_ && !options_.private_copy) {
      return NotFound(data_dir_ + " is not a chat data directory: it has no " + kDatabaseName);
    }
    CV_ASSIGN_OR_RETURN(survey_, SurveyLocation(provider_, key_));
    CV_RETURN_IF_ERROR(CheckOwnership(survey_, options_));
    const uint64_t next = std::max(survey_.highest_in_use, options_.min_sequence) + 1;
    if (next > kMaxSequence) {
      return Unsupported("the backup numbers at " + survey_.location + " are used up");
    }
    manifest_.sequence = next;
    // Chunks, and the database's packs and page hash lists: what is there is not uploaded again.
    std::vector<storage::ObjectInfo> listed;
    for (std::string_view prefix : {kChunkPrefix, kPackPrefix, kPageHashesPrefix}) {
      CV_ASSIGN_OR_RETURN(auto objects, provider_.List(prefix));
      listed.insert(listed.end(), objects.begin(), objects.end());
    }
    stored_.emplace(listed);
    if (const PointerEntry* newest = survey_.NewestOurs()) {
      auto current = LoadManifest(provider_, key_, *newest);
      if (current.ok()) {
        current_ = std::move(current).value();
      } else {
        summary_.warnings.push_back("the current backup " + std::to_string(newest->sequence) +
                                    " cannot be read (" + current.status().message() +
                                    "), so every file was read again and not compared with it");
      }
    }
    if (current_ && !options_.reread_all) {
      for (const FileEntry& f : current_->files) {
        if (f.path != kDatabaseName) previous_.emplace(f.path, &f);
      }
    }
    return OkStatus();
  }

  // 1. A consistent copy of the live database (or the very bytes of a private copy's), then its
  // check and message count beside the upload.
  Status Snapshot() {
    if (!has_database_) return OkStatus();
    const std::string temp_dir =
        options_.temp_dir.empty() ? fs::temp_directory_path().string() : options_.temp_dir;
    snapshot_.path = temp_dir + "/chatvault-snapshot-" + HexEncode(crypto::RandomBytes(8)) + ".db";
    progress_.phase = "snapshot";
    auto report = [&](uint64_t done, uint64_t total) {
      progress_.bytes_done = done;
      progress_.bytes_total = total;
      Report();
    };
    CV_RETURN_IF_ERROR(options_.private_copy
                           ? CopyQuiescentDatabase(db_path_, snapshot_.path, report)
                           : SnapshotDatabase(db_path_, snapshot_.path, report));
    database_facts_ = std::async(std::launch::async, InspectSnapshot, snapshot_.path);
    return OkStatus();
  }

  // The files this backup reads: the snapshot under the database's name, then the media.
  Status Plan() {
    if (has_database_) {
      SourceFile db;
      db.rel = kDatabaseName;
      db.read_from = snapshot_.path;
      if (::stat(snapshot_.path.c_str(), &db.st) != 0) return IoError("the snapshot vanished");
      db.st.st_mode = db_stat_.st_mode;  // the live file's mode and mtime, the snapshot's size
      db.st.st_mtim = db_stat_.st_mtim;
      sources_.push_back(std::move(db));
    }
    CV_ASSIGN_OR_RETURN(MediaListing media, ListMedia(data_dir_));
    for (const auto& extra : options_.extra_directories) {
      CV_ASSIGN_OR_RETURN(MediaListing more, ListMediaUnder(extra.dir, extra.prefix));
      for (auto& m : more.files) media.files.push_back(std::move(m));
      for (auto& s : more.skipped) media.skipped.push_back(std::move(s));
    }
    std::sort(media.files.begin(), media.files.end(),
              [](const SourceFile& a, const SourceFile& b) { return a.rel < b.rel; });
    for (size_t i = 0; i + 1 < media.files.size(); ++i) {
      if (media.files[i].rel == media.files[i + 1].rel) {
        return InvalidArgument("two files would be backed up as " + media.files[i].rel + ": " +
                               media.files[i].read_from + " and " + media.files[i + 1].read_from);
      }
    }
    for (auto& m : media.files) sources_.push_back(std::move(m));
    for (auto& s : media.skipped) summary_.skipped.push_back(std::move(s));
    manifest_.created_unix = std::chrono::duration_cast<std::chrono::seconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count();
    return OkStatus();
  }

  // 2. Chunks: this thread reads; the uploader's workers id, encrypt and upload what is new. The
  // database goes first, page by page when SQLite's header describes it.
  Status Upload() {
    progress_ = Progress{"upload", 0, 0, 0, sources_.size()};
    for (const auto& s : sources_) progress_.bytes_total += static_cast<uint64_t>(s.st.st_size);
    Report();
    CV_RETURN_IF_ERROR(UploadDatabase());
    {
      ChunkUploader uploader(provider_, codec_, *stored_, options_.threads,
                             [this](const ChunkUploader::Stored& s) { Record(s); });
      for (const SourceFile& src : sources_) {
        if (src.rel == kDatabaseName && database_paged_) continue;
        Status s = UploadFile(src, uploader);
        if (!s.ok()) {
          (void)uploader.Finish();
          return s;
        }
      }
      CV_RETURN_IF_ERROR(uploader.Finish());
    }
    // Files that failed half-way leave the manifest now that none of their chunks is in flight.
    for (auto it = skipped_entries_.rbegin(); it != skipped_entries_.rend(); ++it) {
      manifest_.files.erase(manifest_.files.begin() + static_cast<ptrdiff_t>(*it));
    }
    for (const auto& s : summary_.skipped) manifest_.skipped.push_back(s.path);
    return OkStatus();
  }

  // The database page by page (database_backup.h): what changed since the current backup goes
  // into packs, and the plan folds packs back into base chunks.
  Status UploadDatabase() {
    if (!has_database_) return OkStatus();  // a private copy without msgstore.db: media only
    const SourceFile& db = sources_.front();
    FileEntry entry;
    entry.path = db.rel;
    entry.mode = db.st.st_mode & 07777;
    entry.mtime_ns = MtimeNs(db.st);
    const FileEntry* current = nullptr;
    if (current_ && !current_->files.empty() && current_->files.front().path == kDatabaseName) {
      current = &current_->files.front();
    }
    uint64_t media_bytes = 0;
    for (size_t i = 1; i < sources_.size(); ++i) media_bytes += sources_[i].st.st_size;
    database_.emplace(provider_, key_, codec_, *stored_, options_,
                      std::filesystem::path(snapshot_.path).parent_path().string());
    CV_ASSIGN_OR_RETURN(database_paged_, database_->Run(db.read_from, current, media_bytes, entry,
                                                        [this](uint64_t done) {
                                                          progress_.bytes_done = done;
                                                          Report();
                                                        }));
    if (!database_paged_) return OkStatus();
    const DatabaseBackupSummary& db_summary = database_->summary();
    summary_.database = db_summary;
    summary_.bytes_uploaded += db_summary.bytes_uploaded;
    summary_.new_chunks += db_summary.chunks_written;
    manifest_.files.push_back(std::move(entry));
    FileDone();
    return OkStatus();
  }

  // Reads one file into the uploader. Only a failure of the database or of the upload itself is
  // returned; a media file that cannot be read is skipped.
  Status UploadFile(const SourceFile& src, ChunkUploader& uploader) {
    FileEntry entry;
    entry.path = src.rel;
    entry.mode = src.st.st_mode & 07777;
    entry.mtime_ns = MtimeNs(src.st);
    entry.size = static_cast<uint64_t>(src.st.st_size);
    const bool is_db = src.rel == kDatabaseName;
    if (const FileEntry* old = is_db ? nullptr : CarriedOver(entry)) {
      entry.chunks = old->chunks;
      ++summary_.files_unchanged;
      manifest_.files.push_back(std::move(entry));
      FileDone();
      return OkStatus();
    }
    auto reader = FileReader::Open(src.read_from);
    if (!reader.ok()) {
      if (is_db) return reader.status();
      Skip(src, reader.status());
      return OkStatus();
    }
    const size_t file_index = manifest_.files.size();
    manifest_.files.push_back(std::move(entry));
    uint64_t read_bytes = 0;
    const size_t chunk_size = is_db ? kDatabaseChunkSize : kMediaChunkSize;
    for (;;) {
      Bytes data = uploader.TakeBuffer();
      if (Status read = reader->Read(chunk_size, data); !read.ok()) {
        if (is_db) return read;
        skipped_entries_.push_back(file_index);
        Skip(src, read);
        return OkStatus();
      }
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
    FileDone();
    return OkStatus();
  }

  // A media file that cannot be read is left out and reported; one deleted since it was listed
  // is simply not part of this backup.
  void Skip(const SourceFile& src, const Status& why) {
    struct stat st;
    FileDone();
    if (::lstat(src.read_from.c_str(), &st) != 0 && errno == ENOENT) return;
    summary_.skipped.push_back({src.rel, why.message()});
  }

  void FileDone() {
    ++progress_.files_done;
    Report();
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
    const FileEntry& old = *it->second;
    if (old.size != entry.size || old.mtime_ns != entry.mtime_ns || old.mode != entry.mode) {
      return nullptr;
    }
    return stored_->ContainsAll(old.chunks) ? &old : nullptr;
  }

  // 3. Does the new backup look like a disaster? Then it does not become current unless the
  // caller said so: the database fails its check, or more than half of the messages or (in a
  // real collection) of the media files are gone compared with the current backup.
  Status Judge() {
    DatabaseFacts facts;
    if (database_facts_.valid()) facts = database_facts_.get();
    std::vector<std::string> reasons;
    if (!facts.integrity.ok()) reasons.push_back(facts.integrity.message());
    if (facts.messages.ok()) {
      manifest_.messages = *facts.messages;
    } else if (facts.integrity.ok()) {
      reasons.push_back(facts.messages.status().message());
    }
    if (current_) {
      const std::string previous = "backup " + std::to_string(current_->sequence);
      if (current_->messages && manifest_.messages &&
          *manifest_.messages * 2 < *current_->messages) {
        reasons.push_back("it holds " + std::to_string(*manifest_.messages) + " messages where " +
                          previous + " holds " + std::to_string(*current_->messages));
      }
      const uint64_t media_before = current_->MediaFileCount();
      const uint64_t media_now = manifest_.MediaFileCount();
      if (media_before >= kMinMediaForShrinkCheck && media_now * 2 < media_before) {
        reasons.push_back("it holds " + std::to_string(media_now) + " media files where " +
                          previous + " holds " + std::to_string(media_before));
      }
    }
    if (reasons.empty()) return OkStatus();
    std::string why;
    for (const auto& r : reasons) why += (why.empty() ? "" : "; ") + r;
    // With no backup yet there is nothing good to protect: a damaged copy beats none.
    if (options_.allow_shrink || !current_) {
      summary_.warnings.push_back("committed although it looks wrong: " + why);
      return OkStatus();
    }
    return SuspiciousData("the new backup looks like lost data (" + why + "), so backup " +
                          std::to_string(current_->sequence) + " stays the current one");
  }

  // 4. Commit: manifest, then the pointer. An object that is not a backup may sit at the new
  // names (it was not counted when numbering); it goes first.
  Status Commit() {
    progress_.phase = "commit";
    Report();
    const uint64_t seq = manifest_.sequence;
    if (const PointerEntry* p = survey_.Find(seq); p && p->kind == PointerEntry::Kind::kInvalid) {
      CV_RETURN_IF_ERROR(provider_.Delete(PointerName(seq)));
    }
    const auto& invalid = survey_.invalid_manifests;
    if (std::find(invalid.begin(), invalid.end(), seq) != invalid.end()) {
      CV_RETURN_IF_ERROR(provider_.Delete(ManifestName(seq)));
    }
    CV_RETURN_IF_ERROR(CommitBackup(provider_, key_, manifest_));
    if (database_paged_) database_->Committed();
    return OkStatus();
  }

  // 5. Only now may what the kept backups do not need go. A failure here does not fail the
  // backup: it is committed, and the next backup retries.
  void CleanUp() {
    progress_.phase = "cleanup";
    Report();
    std::map<uint64_t, const Manifest*> loaded;
    if (current_) loaded[current_->sequence] = &*current_;
    auto cleanup = CollectGarbage(provider_, key_, manifest_, options_.keep, loaded, started_wall_);
    if (!cleanup.ok()) {
      summary_.cleanup_warning = "older backups were not fully removed (" +
                                 cleanup.status().ToString() + "); the next backup retries";
      return;
    }
    summary_.objects_deleted = cleanup->deleted;
    summary_.backups_kept = cleanup->kept;
    summary_.cleanup_warning = cleanup->warning;
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
  bool has_database_ = false;
  LocationSurvey survey_;
  std::optional<StoredChunks> stored_;
  std::optional<Manifest> current_;
  std::unordered_map<std::string, const FileEntry*> previous_;  // into current_
  TempFile snapshot_;
  // After snapshot_: waits for the check to finish before the snapshot file is deleted.
  std::future<DatabaseFacts> database_facts_;
  std::vector<SourceFile> sources_;
  std::optional<DatabaseBackup> database_;
  bool database_paged_ = false;
  std::vector<size_t> skipped_entries_;  // manifest_.files indexes of files that failed midway
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

Status CheckLocation(storage::Provider& provider, const key::BackupKey& key,
                     const BackupOptions& options) {
  CV_ASSIGN_OR_RETURN(LocationSurvey survey, SurveyLocation(provider, key));
  return CheckOwnership(survey, options);
}

}  // namespace chatvault::backup

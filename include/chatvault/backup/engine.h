// The backup engine: turns a chat data directory (msgstore.db, a live SQLite file, plus every other
// regular file as media) into encrypted chunks, a manifest and a "current" pointer on a storage
// provider, and back. The object layout, commit order and crash-safety argument are in
// docs/BACKUP.md.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "chatvault/common/status.h"
#include "chatvault/key/backup_key.h"
#include "chatvault/storage/provider.h"

namespace chatvault::backup {

// The database file of a chat data directory; everything else in the directory is media.
inline constexpr const char* kDatabaseName = "msgstore.db";

// Reported on the calling thread as work advances (often: keep the callback cheap).
struct Progress {
  std::string phase;  // "snapshot", "upload", "commit", "cleanup", "restore", "verify"
  uint64_t bytes_done = 0;
  uint64_t bytes_total = 0;
  uint64_t files_done = 0;
  uint64_t files_total = 0;
};
using ProgressFn = std::function<void(const Progress&)>;

struct BackupOptions {
  // Where the database snapshot is staged before it is chunked (it is deleted afterwards).
  // Empty means the system temp directory.
  std::string temp_dir;
  // Worker threads that id, encrypt and upload chunks. More than the cores: uploads mostly wait
  // (fsync, network), and waits in parallel keep the disk or the link busy.
  int threads = 8;
  // Read every media file again. By default a media file whose path, size, modification time
  // (nanoseconds) and mode match the current backup keeps that backup's chunks without being
  // read; the database is always snapshotted and read in full.
  bool reread_all = false;
  ProgressFn progress;
};

struct BackupSummary {
  uint64_t sequence = 0;        // this backup's number; each backup gets the next one
  uint64_t files = 0;
  uint64_t bytes = 0;           // plaintext bytes in the backup
  uint64_t chunks = 0;          // distinct chunks the backup references
  uint64_t new_chunks = 0;      // chunks that were not on the provider yet
  uint64_t files_unchanged = 0; // media files carried over from the previous backup unread
  uint64_t bytes_uploaded = 0;  // encrypted bytes written for those
  uint64_t objects_deleted = 0; // older backups' objects removed after the commit
  // Set when the backup committed but removing older objects failed (the next backup retries).
  std::string cleanup_warning;
  double seconds = 0;
};

// Backs up `data_dir` to `provider` under `key`. Commits only when everything is uploaded; on any
// failure (or a crash) the previous backup stays the current one, and running again completes
// the work, reusing the chunks already uploaded.
Result<BackupSummary> RunBackup(const std::string& data_dir, storage::Provider& provider,
                                const key::BackupKey& key, const BackupOptions& options);

struct RestoreOptions {
  int threads = 3;
  // Restore into a directory that already holds files (they are replaced file by file).
  bool allow_nonempty = false;
  ProgressFn progress;
};

struct RestoreSummary {
  uint64_t sequence = 0;
  int64_t created_unix = 0;  // when the backup was made
  uint64_t files = 0;
  uint64_t bytes = 0;
  uint64_t chunks = 0;
  double seconds = 0;
};

// Restores the current backup into `target_dir`. Every chunk is authenticated (and bound to its
// keyed id) before a byte of it is written; each file appears via temp file + rename, msgstore.db
// must pass PRAGMA quick_check before it is put in place, and everything is flushed to disk
// (syncfs) before RunRestore returns. A file that replaces an existing one is synced before its
// rename, so a crash never leaves less than was there before.
// Errors: kNotFound (no backup there), kWrongKey (made with another key), kCorrupted/kTruncated
// (stored objects were damaged, swapped or deleted; the message names the file).
Result<RestoreSummary> RunRestore(storage::Provider& provider, const key::BackupKey& key,
                                  const std::string& target_dir, const RestoreOptions& options);

// Downloads and authenticates the whole current backup without writing anything.
Result<RestoreSummary> RunVerify(storage::Provider& provider, const key::BackupKey& key,
                                 const RestoreOptions& options);

struct BackupInfo {
  uint64_t sequence = 0;
  int64_t created_unix = 0;
  uint64_t files = 0;
  uint64_t bytes = 0;
  uint64_t chunks = 0;
};

// Reads the current backup's pointer and manifest. kNotFound when the location holds no backup.
Result<BackupInfo> LatestBackup(storage::Provider& provider, const key::BackupKey& key);

}  // namespace chatvault::backup

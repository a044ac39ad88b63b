// The backup engine: turns a chat data directory (msgstore.db, a live SQLite file, plus every other
// regular file as media) into encrypted chunks, a manifest and a "current" pointer on a storage
// provider, and back. The object layout, commit order and crash-safety argument are in
// docs/BACKUP.md.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

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
  // Where the device keeps the page hashes of its last backup's database, so the next backup
  // finds the changed pages without reading anything back from the location. Empty: no cache
  // (each backup reads the page hash lists stored at the location instead). One backup at a
  // time per cache directory.
  std::string cache_dir;
  // Worker threads that id, encrypt and upload chunks. More than the cores: uploads mostly wait
  // (fsync, network), and waits in parallel keep the disk or the link busy.
  int threads = 8;
  // Read every media file again. By default a media file whose path, size, modification time
  // (nanoseconds) and mode match the current backup keeps that backup's chunks without being
  // read; the database is always snapshotted and read in full.
  bool reread_all = false;
  // How many backups of this key stay at the location, the new one included (at least 1).
  // Older ones are deleted after the commit; a chunk a kept backup uses is never deleted.
  int keep = 2;
  // A location whose newest backup was made with another key is refused (kForeignBackup)
  // unless this is set; then every object of that key's backups is deleted once the new backup
  // is complete.
  bool replace_other_backup = false;
  // A backup that looks like a disaster (the database snapshot fails PRAGMA quick_check, it
  // holds less than half the messages of the current backup, or most media files disappeared)
  // is refused (kSuspiciousData) unless this is set.
  bool allow_shrink = false;
  // The highest backup number known to have been committed at this location under this key: the
  // device's own record, or one held elsewhere (a vault). A location whose newest backup is older
  // (rolled back, or backups deleted) is refused (kRolledBack) unless accept_rollback is set. New
  // backups are always numbered above it.
  uint64_t min_sequence = 0;
  bool accept_rollback = false;
  // The data directory is a private copy that nothing writes to (what `whatsapp import` stages).
  // Its database is then copied byte for byte, and checked unchanged across the copy, instead of
  // through SQLite's online backup API: that API rewrites header fields (change counter, schema
  // cookie, SQLite version), and an import must restore as the very file it was. A database with
  // a pending -wal or hot -journal is refused (its bytes alone are not its content). A directory
  // without msgstore.db is backed up as plain files.
  bool private_copy = false;
  // Directories backed up beside data_dir: every file under `dir` is a media file at
  // `prefix/<path under dir>` in the backup (an import's Media tree, read where it is).
  struct ExtraDirectory {
    std::string prefix;
    std::string dir;
  };
  std::vector<ExtraDirectory> extra_directories;
  ProgressFn progress;
};

// A media file the backup could not read; the backup goes on without it.
struct SkippedFile {
  std::string path;    // relative to the data directory ("Media/x/" for a directory)
  std::string reason;  // one sentence, e.g. "cannot open ...: Permission denied"
};

// How msgstore.db was backed up (docs/BACKUP.md, "The database, page by page").
struct DatabaseBackupSummary {
  bool paged = false;  // page by page; false for a file SQLite's header does not describe
  uint32_t page_size = 0;
  uint64_t pages = 0;
  uint64_t pages_changed = 0;   // since the current backup (every page for a fresh base)
  uint64_t pages_packed = 0;    // pages written into new packs: changed ones and moved ones
  uint64_t chunks_written = 0;  // base chunks written: re-based regions (every region when fresh)
  uint64_t packs = 0;           // packs the new backup lists
  uint64_t packs_written = 0;
  uint64_t bytes_uploaded = 0;  // encrypted bytes of those chunks and packs and their page hashes
  uint64_t unused_pages = 0;    // pages a restore reads and throws away (bounded, see BACKUP.md)
  // What the pages were compared with: "cache" (the device's), "location" (the page hash lists
  // stored there), or "fresh base: <why>" when every region was written anew.
  std::string compared_with;
  // Set when a limit made the backup fold packs back into the base beyond its usual allowance.
  std::string forced;
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
  uint64_t backups_kept = 0;    // this key's backups at the location after the cleanup
  DatabaseBackupSummary database;
  std::optional<uint64_t> messages;  // rows of the database's message table, when it has one
  // Media files left out because they could not be read: the backup completed without them.
  std::vector<SkippedFile> skipped;
  // Set when the backup committed but removing older objects failed (the next backup retries).
  std::string cleanup_warning;
  // Things the user should know that did not stop the backup (a suspicious backup committed
  // with allow_shrink, for instance).
  std::vector<std::string> warnings;
  double seconds = 0;

  bool CompletedWithSkippedFiles() const { return !skipped.empty(); }
};

// Backs up `data_dir` to `provider` under `key`. Commits only when everything is uploaded; on any
// failure (or a crash) the previous backup stays the current one, and running again completes
// the work, reusing the chunks already uploaded.
// Refusals, each before anything is committed: kForeignBackup, kRolledBack, kSuspiciousData (see
// BackupOptions). A media file that cannot be read is skipped and listed in the summary; the
// database itself must be readable.
Result<BackupSummary> RunBackup(const std::string& data_dir, storage::Provider& provider,
                                const key::BackupKey& key, const BackupOptions& options);

// The checks RunBackup makes of the location before it reads anything (kForeignBackup,
// kRolledBack), for a setup that is about to point a new key at a location.
Status CheckLocation(storage::Provider& provider, const key::BackupKey& key,
                     const BackupOptions& options);

struct RestoreOptions {
  int threads = 3;
  // Restore into a directory that already holds files (they are replaced file by file).
  bool allow_nonempty = false;
  // Which backup: 0 for the newest one made with this key, else its number.
  uint64_t sequence = 0;
  // As BackupOptions::min_sequence: a newer backup is known to exist. Restore and verify go on
  // but warn when the location's newest backup is older.
  uint64_t min_sequence = 0;
  ProgressFn progress;
};

struct RestoreSummary {
  uint64_t sequence = 0;
  int64_t created_unix = 0;  // when the backup was made
  uint64_t files = 0;
  uint64_t bytes = 0;
  uint64_t chunks = 0;
  // Worth saying loudly: the location looks rolled back, a newer backup there is made with
  // another key, or objects that look like backups but are not were ignored.
  std::vector<std::string> warnings;
  double seconds = 0;
};

// Restores a backup (the newest made with this key, or options.sequence) into `target_dir`.
// Every chunk is authenticated (and bound to its keyed id) before a byte of it is written; each
// file appears via temp file + rename, msgstore.db must pass PRAGMA quick_check before it is put
// in place, and everything is flushed to disk (syncfs) before RunRestore returns. A file that
// replaces an existing one is synced before its rename, so a crash never leaves less than was
// there before. A restore that fails removes what it wrote (and the target directory if it made
// it); temp files a killed restore left in `target_dir` are removed by the next one.
// Errors: kNotFound (no such backup there), kWrongKey (made with another key), kCorrupted/
// kTruncated (stored objects were damaged, swapped or deleted; the message names the file),
// kNoSpace (checked before the first byte is written, and when the disk fills up meanwhile).
Result<RestoreSummary> RunRestore(storage::Provider& provider, const key::BackupKey& key,
                                  const std::string& target_dir, const RestoreOptions& options);

// Downloads and authenticates a whole backup without writing anything.
Result<RestoreSummary> RunVerify(storage::Provider& provider, const key::BackupKey& key,
                                 const RestoreOptions& options);

struct BackupInfo {
  uint64_t sequence = 0;
  int64_t created_unix = 0;
  uint64_t files = 0;
  uint64_t bytes = 0;
  uint64_t chunks = 0;
  std::optional<uint64_t> messages;  // absent for backups that did not record it
  uint64_t skipped_files = 0;        // media files that could not be read when it was made
  // Empty when the backup's manifest is intact; else why it cannot be restored.
  std::string problem;
};

// The newest backup made with this key. kNotFound when the location holds no backup, kWrongKey
// when it holds only backups made with other keys.
Result<BackupInfo> LatestBackup(storage::Provider& provider, const key::BackupKey& key);

struct LocationContents {
  std::vector<BackupInfo> backups;  // made with this key, oldest first
  uint64_t other_key_backups = 0;   // made with other keys
  // Objects named like backup pointers that are not backups (damaged, renamed or planted); they
  // are never taken for the newest backup.
  std::vector<std::string> ignored;
};

// Every backup at the location, for `chatvault backups`.
Result<LocationContents> ListBackups(storage::Provider& provider, const key::BackupKey& key);

}  // namespace chatvault::backup

// The database part of a backup, page by page (docs/BACKUP.md, "The database, page by page"):
// compare the snapshot's pages with what the current backup holds, upload the changed ones in
// packs, fold packs back into the base as the plan says, and describe the result for the
// manifest. Nothing here deletes anything or commits: the caller does that, in the usual order.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "backup/chunk_codec.h"
#include "backup/chunk_uploader.h"
#include "backup/manifest.h"
#include "backup/page_hash.h"
#include "backup/page_objects.h"
#include "chatvault/backup/engine.h"
#include "chatvault/storage/provider.h"

namespace chatvault::backup {

class DatabaseBackup {
 public:
  // `stored`: the chunks, packs and page hash lists the location holds. `work_dir` takes scratch
  // files (the snapshot's directory); options.cache_dir, when set, the device's cache.
  DatabaseBackup(storage::Provider& provider, const key::BackupKey& key, const ChunkCodec& chunks,
                 StoredChunks& stored, const BackupOptions& options, std::string work_dir);
  ~DatabaseBackup();
  DatabaseBackup(const DatabaseBackup&) = delete;
  DatabaseBackup& operator=(const DatabaseBackup&) = delete;

  // Backs up `snapshot`; `entry` arrives with path, mode and mtime and gets the size, base chunks
  // and page map. False (and nothing uploaded) when the snapshot is not a database SQLite's header
  // describes: the caller stores it as plain chunks. `current` is the current backup's entry for
  // the database, if any; `media_bytes` the size of the rest of the new backup (for the bound on
  // what a restore reads).
  Result<bool> Run(const std::string& snapshot, const FileEntry* current, uint64_t media_bytes,
                   FileEntry& entry, const std::function<void(uint64_t)>& progress);

  // The backup committed: its page hashes become the device's cache.
  void Committed();

  const DatabaseBackupSummary& summary() const { return summary_; }

 private:
  class OneRun;
  std::string ScratchPath(const std::string& what) const;

  storage::Provider& provider_;
  const key::BackupKey& key_;
  const ChunkCodec& chunks_;
  StoredChunks& stored_;
  const BackupOptions& options_;
  const std::string work_dir_;
  const PageHasher hasher_;
  const PageObjectCodec objects_;
  std::string new_hashes_path_;  // removed unless it became the cache
  std::string old_hashes_path_;  // a list rebuilt from the location, always removed
  DatabaseBackupSummary summary_;
};

// The device's cache file in `cache_dir`.
std::string PageCachePath(const std::string& cache_dir);

}  // namespace chatvault::backup

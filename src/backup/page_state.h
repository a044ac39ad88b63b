// The page hashes of what the current backup holds, which the next backup compares its snapshot
// with: the device's cache (<home>/cache/database-pages) when it is the current backup's, else
// rebuilt from the page hash lists at the location, so a new phone or a lost cache does not make
// the next backup upload the whole database again (docs/BACKUP.md).
#pragma once

#include <string>
#include <unordered_set>

#include "backup/chunk_codec.h"
#include "backup/chunk_uploader.h"
#include "backup/manifest.h"
#include "backup/page_hash.h"
#include "backup/page_objects.h"
#include "chatvault/storage/provider.h"

namespace chatvault::backup {

struct OldPageHashes {
  PageHashFile file;
  std::string source;  // "cache", or "location"
  // Base chunks and packs of the current backup found damaged while rebuilding: the next backup
  // must not keep using them.
  std::unordered_set<std::string> damaged;
};

struct PageStateSource {
  storage::Provider& provider;
  const ChunkCodec& chunks;
  const PageObjectCodec& objects;
  const PageHasher& hasher;
  const StoredChunks& stored;  // what the location holds
  int threads = 8;
};

// The cache at `cache_path` if its digest is the current backup's; else the list rebuilt into a
// new file at `scratch_path`. kCorrupted when the rebuilt list does not match the backup's digest
// either (the caller then writes a fresh base); a provider failure as it is.
Result<OldPageHashes> LoadOldPageHashes(const PageStateSource& source, const FileEntry& current,
                                        const std::string& cache_path,
                                        const std::string& scratch_path);

}  // namespace chatvault::backup

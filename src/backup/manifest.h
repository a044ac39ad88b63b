// The manifest: what one backup contains. Stored encrypted (purpose "manifest"); the pointer that
// commits a backup carries the manifest object's SHA-256, so a manifest cannot be swapped for
// another one, and the manifest repeats its own sequence number, so it cannot be renamed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "chatvault/common/bytes.h"
#include "chatvault/common/status.h"

namespace chatvault::backup {

struct ChunkRef {
  std::string id;  // 64 lowercase hex digits: HMAC-SHA256 of the plaintext under the chunk-id key
  uint64_t size = 0;
};

// A pack of database pages as the manifest lists it (page_map.h). Page numbers count from 0: page
// n sits at n * page_size.
struct PackRef {
  std::string id;              // 64 hex digits: HMAC-SHA256 of the plaintext under the pack-id key
  uint64_t size = 0;           // plaintext bytes
  uint32_t stored = 0;         // pages the pack object holds
  std::vector<uint32_t> live;  // the pages restore takes from it, ascending
};

// How a database backed up page by page is laid out (docs/BACKUP.md).
struct PageMap {
  uint32_t page_size = 0;
  uint64_t page_count = 0;
  std::string digest;          // hex SHA-256 of the keyed page hashes in page order
  std::vector<PackRef> packs;  // oldest first
};

struct FileEntry {
  std::string path;  // relative to the data directory, '/'-separated
  uint64_t size = 0;
  uint32_t mode = 0600;
  int64_t mtime_ns = 0;
  // The file's bytes in order; for a paged database, its base chunks, one per region (an empty
  // id for a region that has none).
  std::vector<ChunkRef> chunks;
  std::optional<PageMap> pages;  // set for a database backed up page by page
};

struct Manifest {
  uint64_t sequence = 0;
  int64_t created_unix = 0;
  std::vector<FileEntry> files;
  // Rows of the snapshot's message table, when it has one: what the next backup's shrink guard
  // compares against. Absent in manifests written before it was recorded.
  std::optional<uint64_t> messages;
  // Media files that could not be read when this backup was made (relative paths).
  std::vector<std::string> skipped;

  uint64_t TotalBytes() const;
  uint64_t MediaFileCount() const;  // every file but the database
  uint64_t ChunkCount() const;  // references, counting repeats once
};

// Copies the totals every report about a backup gives (BackupSummary, RestoreSummary, BackupInfo).
template <typename Report>
void CopyTotals(const Manifest& manifest, Report& out) {
  out.sequence = manifest.sequence;
  out.files = manifest.files.size();
  out.bytes = manifest.TotalBytes();
  out.chunks = manifest.ChunkCount();
}

Bytes SerializeManifest(const Manifest& manifest);
// kCorrupted when the (already authenticated) bytes do not form a valid manifest: that only
// happens with a buggy writer, but restore must still refuse rather than misbehave.
Result<Manifest> ParseManifest(ByteView bytes);

// The pointer that commits backup `sequence`.
struct Pointer {
  uint64_t sequence = 0;
  std::string manifest_sha256;  // hex of the encrypted manifest object
};
Bytes SerializePointer(const Pointer& pointer);
Result<Pointer> ParsePointer(ByteView bytes);

// A manifest path is safe to join under a restore directory: relative, no "." or ".." parts.
bool IsSafeRelativePath(std::string_view path);

}  // namespace chatvault::backup

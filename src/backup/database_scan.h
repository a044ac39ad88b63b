// The first pass of a database backup: every page of the snapshot is hashed and compared with the
// page hashes of what the current backup holds, streaming, so memory does not grow with the
// database (docs/BACKUP.md).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "backup/page_hash.h"
#include "chatvault/common/bytes.h"
#include "chatvault/common/status.h"

namespace chatvault::backup {

// What SQLite's header says about a database file: its page size (bytes 16-17, 1 meaning 65536).
// nullopt for a file that is not a database SQLite would open, or whose size is not whole pages:
// such a file is backed up as plain chunks.
struct DatabaseShape {
  uint32_t page_size = 0;
  uint64_t page_count = 0;
};
Result<std::optional<DatabaseShape>> ReadDatabaseShape(const std::string& path);

struct ScanResult {
  std::vector<uint32_t> changed;  // ascending: pages that differ from the old hashes, or are new
  std::string digest;             // of the new page hashes (page_hash.h)
};

// Receives each region's bytes and page hashes in order (to upload it as a base chunk); returns
// the buffer's failure, if any.
using RegionSink = std::function<Status(uint64_t region, Bytes data, Bytes hashes)>;

struct ScanOptions {
  int threads = 2;  // hashing workers
  // Where region buffers come from (reused ones save page faults); may be empty.
  std::function<Bytes()> take_buffer;
  std::function<void(Bytes)> give_buffer;  // gets a region's buffer back when there is no sink
  RegionSink sink;                         // optional
  std::function<void(uint64_t bytes)> progress;  // bytes read so far
};

// Hashes every page of `snapshot` (shape `shape`) into `out` (created for it), comparing with
// `old` when given (pages beyond its end count as changed; without it every page does).
Result<ScanResult> ScanDatabase(const std::string& snapshot, const DatabaseShape& shape,
                                const PageHasher& hasher, PageHashFile* old, PageHashFile& out,
                                const ScanOptions& options);

}  // namespace chatvault::backup

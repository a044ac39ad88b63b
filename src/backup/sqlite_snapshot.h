// Consistent copies of a live SQLite database, and the checks backup and restore run on them.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "chatvault/common/status.h"

namespace chatvault::backup {

// Copies `source` (possibly being written by another process) into a new file `dest` with
// SQLite's online backup API, a few hundred pages at a time so writers are not blocked for long.
// Pages are copied verbatim, so an unchanged region of the database gives identical bytes in the
// copy and identical chunks in the backup. If writers keep restarting the copy, the last attempt
// copies in one step under a single read transaction. `progress(pages_done, pages_total)`.
//
// No write access to the source is needed. When SQLite cannot read the database in place without
// writing beside it (a WAL database in a read-only directory, a read-only copy of a chat
// directory), the database file and its -wal or -journal are first copied as files next to
// `dest`, and the copy is checked to be of one state: their sizes and modification times must be
// the same after the copy as before (docs/BACKUP.md says why this and not SQLite's immutable
// mode).
Status SnapshotDatabase(const std::string& source, const std::string& dest,
                        const std::function<void(uint64_t, uint64_t)>& progress);

// Copies a database that nothing writes to as it is, byte for byte. kInvalidArgument when a
// non-empty -wal or -journal lies beside it (its bytes alone are not its content), kConflict when
// it changed during the copy.
Status CopyQuiescentDatabase(const std::string& source, const std::string& dest,
                             const std::function<void(uint64_t, uint64_t)>& progress);

// Runs PRAGMA quick_check on `path`; kCorrupted with SQLite's first complaint if it fails. Every
// restored byte is already authenticated, so this guards against a snapshot that was never a
// valid database: quick_check reads every page and checks the b-tree structure at about a seventh
// of the cost of integrity_check (which also cross-checks each index against its table).
Status CheckDatabaseIntegrity(const std::string& path);

// The rows of a chat database's message table: `message` (the current WhatsApp schema) or
// `messages` (older schemas). nullopt when it has neither.
Result<std::optional<uint64_t>> CountMessages(const std::string& path);

}  // namespace chatvault::backup

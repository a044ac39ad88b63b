// Backing up and restoring the embedded SQLite record store (docs/OPERATIONS.md, "Backing up
// and restoring the vault").
//
// A backup is taken while keyvaultd serves, with SQLite's online backup API in one read
// transaction: WAL readers never block writers, so logins go on, and the copy is one
// consistent snapshot of every record as of one commit. The copy is an ordinary SQLite file
// (rollback journal, no -wal beside it) that records when the snapshot was taken, which the
// audit-log replay after a restore starts from.
#pragma once

#include <cstdint>
#include <string>

#include "chatvault/common/status.h"

namespace chatvault::vaultstore {

struct StoreSnapshot {
  uint64_t accounts = 0;      // account records, tombstones and deletion markers
  uint64_t last_version = 0;  // the store's version counter at the snapshot
  int64_t taken_unix_ms = 0;  // just before the snapshot's read transaction began
  uint64_t bytes = 0;         // size of the copy
};

// Copies the store at `db_path` to `backup_path`, which must not exist yet. The copy is checked
// (PRAGMA quick_check), written with mode 0600 and made durable (fsync, rename into place,
// fsync of the directory) before this returns; nothing is left at `backup_path` on an error.
Result<StoreSnapshot> BackupSqliteStore(const std::string& db_path, const std::string& backup_path);

// Describes a backup (or any store file) without changing it: kCorrupted when it is not an
// intact vault store.
Result<StoreSnapshot> InspectSqliteStore(const std::string& path);

// Puts the backup at `backup_path` in place of the store at `db_path`. No process may be serving
// that store (the caller holds its StoreLock). The store being replaced is not deleted: it and
// its -wal file are renamed to "<db_path>.before-restore-<unix seconds>" (and "...-wal"), so a
// mistaken restore can be undone. The backup is checked before anything is moved.
Result<StoreSnapshot> RestoreSqliteStore(const std::string& backup_path,
                                         const std::string& db_path);

}  // namespace chatvault::vaultstore

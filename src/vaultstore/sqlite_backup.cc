#include "chatvault/vaultstore/sqlite_backup.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "chatvault/common/file.h"

namespace chatvault::vaultstore {
namespace {

struct CloseDb {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using Db = std::unique_ptr<sqlite3, CloseDb>;

Status SqliteError(sqlite3* db, const std::string& what) {
  return IoError(what + ": " + (db ? sqlite3_errmsg(db) : "out of memory"));
}

Result<Db> Open(const std::string& path, int flags) {
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  Db db(raw);
  if (rc != SQLITE_OK) {
    if (rc == SQLITE_CANTOPEN && !(flags & SQLITE_OPEN_CREATE)) {
      return NotFound("there is no record store at " + path);
    }
    return SqliteError(raw, "cannot open " + path);
  }
  sqlite3_busy_timeout(raw, 10000);
  return db;
}

Status Exec(sqlite3* db, const std::string& sql, const std::string& what) {
  char* error = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error) == SQLITE_OK) return OkStatus();
  std::string message = what + ": " + (error ? error : "unknown error");
  sqlite3_free(error);
  return IoError(std::move(message));
}

// The single integer a query returns; `fallback` when it returns no row.
Result<int64_t> QueryInt(sqlite3* db, const char* sql, int64_t fallback = 0) {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &st, nullptr) != SQLITE_OK) {
    return Corrupted(std::string("not a vault record store: ") + sqlite3_errmsg(db));
  }
  const int rc = sqlite3_step(st);
  int64_t value = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : fallback;
  const bool failed = rc != SQLITE_ROW && rc != SQLITE_DONE;
  sqlite3_finalize(st);
  if (failed) return SqliteError(db, "reading the record store");
  return value;
}

Result<std::string> QueryText(sqlite3* db, const char* sql) {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &st, nullptr) != SQLITE_OK) {
    return SqliteError(db, "checking the record store");
  }
  std::string text;
  if (sqlite3_step(st) == SQLITE_ROW) {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    if (p) text = p;
  }
  sqlite3_finalize(st);
  return text;
}

// quick_check plus the vault's tables: a file that is damaged, or some other database, is
// refused before anyone relies on it.
Result<StoreSnapshot> Describe(sqlite3* db, const std::string& path) {
  CV_ASSIGN_OR_RETURN(std::string check, QueryText(db, "PRAGMA quick_check"));
  if (check != "ok") return Corrupted(path + " is damaged: " + check);
  StoreSnapshot snapshot;
  CV_ASSIGN_OR_RETURN(int64_t accounts,
                      QueryInt(db, "SELECT count(*) FROM records WHERE key LIKE 'acct/%'"));
  CV_ASSIGN_OR_RETURN(int64_t version, QueryInt(db, "SELECT last_version FROM clock WHERE id = 0"));
  snapshot.accounts = static_cast<uint64_t>(accounts);
  snapshot.last_version = static_cast<uint64_t>(version);
  CV_ASSIGN_OR_RETURN(
      int64_t stamped,
      QueryInt(db, "SELECT count(*) FROM sqlite_master WHERE name = 'chatvault_backup'"));
  if (stamped > 0) {
    CV_ASSIGN_OR_RETURN(snapshot.taken_unix_ms,
                        QueryInt(db, "SELECT taken_unix_ms FROM chatvault_backup WHERE id = 0"));
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) snapshot.bytes = static_cast<uint64_t>(st.st_size);
  return snapshot;
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string Directory(const std::string& path) {
  const std::string dir = std::filesystem::path(path).parent_path().string();
  return dir.empty() ? "." : dir;
}

std::string TempBeside(const std::string& path) {
  return path + ".partial-" + std::to_string(::getpid());
}

Status SyncFile(const std::string& path) {
  CV_ASSIGN_OR_RETURN(Fd fd, OpenFile(path, O_RDONLY));
  if (::fsync(fd.get()) != 0) return ErrnoStatus(errno, "cannot flush " + path);
  return OkStatus();
}

// Copies all of `from` into a new file at `temp` in one backup step (one read transaction on
// `from`), leaves it as a rollback-journal database and stamps it with `taken_ms`.
Status CopyDatabase(sqlite3* from, const std::string& temp, int64_t taken_ms) {
  const mode_t old_mask = ::umask(077);
  auto opened = Open(temp, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  ::umask(old_mask);
  CV_ASSIGN_OR_RETURN(Db to, std::move(opened));
  sqlite3_backup* backup = sqlite3_backup_init(to.get(), "main", from, "main");
  if (!backup) return SqliteError(to.get(), "cannot start the backup");
  const int step = sqlite3_backup_step(backup, -1);
  sqlite3_backup_finish(backup);
  if (step != SQLITE_DONE) {
    return IoError(std::string("the backup did not complete: ") + sqlite3_errstr(step));
  }
  CV_RETURN_IF_ERROR(Exec(to.get(), "PRAGMA journal_mode=DELETE", "converting the copy"));
  CV_RETURN_IF_ERROR(
      Exec(to.get(),
           "CREATE TABLE IF NOT EXISTS chatvault_backup (id INTEGER PRIMARY KEY "
           "CHECK (id = 0), taken_unix_ms INTEGER NOT NULL);"
           "INSERT OR REPLACE INTO chatvault_backup (id, taken_unix_ms) VALUES (0, " +
               std::to_string(taken_ms) + ")",
           "stamping the copy"));
  return OkStatus();
}

// The steps of a backup after the source is open; `temp` is left for the caller to remove.
Result<StoreSnapshot> CopyAndPublish(sqlite3* from, const std::string& temp,
                                     const std::string& backup_path) {
  CV_RETURN_IF_ERROR(CopyDatabase(from, temp, NowMs()));
  StoreSnapshot snapshot;
  {
    CV_ASSIGN_OR_RETURN(Db check, Open(temp, SQLITE_OPEN_READONLY));
    CV_ASSIGN_OR_RETURN(snapshot, Describe(check.get(), temp));
  }
  CV_RETURN_IF_ERROR(SyncFile(temp));
  // link(2) publishes the whole file under its name, and never over an existing one.
  if (::link(temp.c_str(), backup_path.c_str()) != 0) {
    return ErrnoStatus(errno, "cannot create " + backup_path);
  }
  CV_RETURN_IF_ERROR(SyncDirectory(Directory(backup_path)));
  return snapshot;
}

}  // namespace

Result<StoreSnapshot> InspectSqliteStore(const std::string& path) {
  CV_ASSIGN_OR_RETURN(Db db, Open(path, SQLITE_OPEN_READONLY));
  return Describe(db.get(), path);
}

Result<StoreSnapshot> BackupSqliteStore(const std::string& db_path,
                                        const std::string& backup_path) {
  if (::access(backup_path.c_str(), F_OK) == 0) {
    return AlreadyExists(backup_path + " exists already; a backup never replaces a file");
  }
  // Read-write without create: a WAL database is read through its -shm, which a read-only
  // connection may not be able to set up, and a mistyped path must not become a new store.
  CV_ASSIGN_OR_RETURN(Db from, Open(db_path, SQLITE_OPEN_READWRITE));
  const std::string temp = TempBeside(backup_path);
  Result<StoreSnapshot> snapshot = CopyAndPublish(from.get(), temp, backup_path);
  ::unlink(temp.c_str());
  return snapshot;
}

Result<StoreSnapshot> RestoreSqliteStore(const std::string& backup_path,
                                         const std::string& db_path) {
  CV_ASSIGN_OR_RETURN(StoreSnapshot snapshot, InspectSqliteStore(backup_path));
  // Copied (not moved) beside the store, so the backup itself stays as it was.
  const std::string temp = TempBeside(db_path);
  {
    CV_ASSIGN_OR_RETURN(Db from, Open(backup_path, SQLITE_OPEN_READONLY));
    Status copied = CopyDatabase(from.get(), temp, snapshot.taken_unix_ms);
    if (copied.ok()) copied = SyncFile(temp);
    if (!copied.ok()) {
      ::unlink(temp.c_str());
      return copied;
    }
  }
  // The old store and its WAL move aside together: a WAL left beside the restored file would be
  // replayed into it. The shared-memory index is only a cache of the WAL.
  const std::string aside = db_path + ".before-restore-" + std::to_string(NowMs() / 1000);
  for (const char* suffix : {"", "-wal"}) {
    const std::string from = db_path + suffix, to = aside + suffix;
    if (::rename(from.c_str(), to.c_str()) != 0 && errno != ENOENT) {
      Status failed = ErrnoStatus(errno, "cannot move " + from + " aside");
      ::unlink(temp.c_str());
      return failed;
    }
  }
  ::unlink((db_path + "-shm").c_str());
  if (::rename(temp.c_str(), db_path.c_str()) != 0) {
    Status failed = ErrnoStatus(errno, "cannot put the backup in place at " + db_path);
    ::unlink(temp.c_str());
    return failed;
  }
  CV_RETURN_IF_ERROR(SyncDirectory(Directory(db_path)));
  return snapshot;
}

}  // namespace chatvault::vaultstore

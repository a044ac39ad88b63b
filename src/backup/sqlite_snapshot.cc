#include "backup/sqlite_snapshot.h"

#include <sqlite3.h>

#include <chrono>
#include <thread>

namespace chatvault::backup {
namespace {

constexpr int kPagesPerStep = 1024;
constexpr int kMaxRestartsBeforeOneStep = 3;

struct Db {
  sqlite3* db = nullptr;
  ~Db() {
    if (db) sqlite3_close_v2(db);
  }
};

Status SqliteError(const std::string& what, sqlite3* db) {
  return IoError(what + ": " + (db ? sqlite3_errmsg(db) : "out of memory"));
}

}  // namespace

Status SnapshotDatabase(const std::string& source, const std::string& dest,
                        const std::function<void(uint64_t, uint64_t)>& progress) {
  Db src, dst;
  if (sqlite3_open_v2(source.c_str(), &src.db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    return SqliteError("cannot open the chat database " + source, src.db);
  }
  sqlite3_busy_timeout(src.db, 10000);
  if (sqlite3_open_v2(dest.c_str(), &dst.db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                      nullptr) != SQLITE_OK) {
    return SqliteError("cannot create the snapshot file " + dest, dst.db);
  }
  // The snapshot is a scratch file, read once and deleted: a crash mid-copy only leaves a file
  // the next backup removes. No rollback journal and no fsync for it (with them, the copy wrote
  // every page twice and waited for the disk at the end).
  if (sqlite3_exec(dst.db, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF", nullptr, nullptr,
                   nullptr) != SQLITE_OK) {
    return SqliteError("cannot set up the snapshot file " + dest, dst.db);
  }
  sqlite3_backup* backup = sqlite3_backup_init(dst.db, "main", src.db, "main");
  if (!backup) return SqliteError("cannot start copying the chat database", dst.db);

  int restarts = 0;
  int last_remaining = -1;
  int rc = SQLITE_OK;
  for (;;) {
    const int pages = restarts >= kMaxRestartsBeforeOneStep ? -1 : kPagesPerStep;
    rc = sqlite3_backup_step(backup, pages);
    const int remaining = sqlite3_backup_remaining(backup);
    const int total = sqlite3_backup_pagecount(backup);
    // Another connection wrote to the source: SQLite starts the copy over.
    if (last_remaining >= 0 && remaining > last_remaining) ++restarts;
    last_remaining = remaining;
    if (progress && total > 0) progress(static_cast<uint64_t>(total - remaining), total);
    if (rc == SQLITE_DONE) break;
    if (rc == SQLITE_OK) continue;
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      continue;
    }
    break;
  }
  sqlite3_backup_finish(backup);
  if (rc != SQLITE_DONE) return SqliteError("copying the chat database failed", dst.db);
  return OkStatus();
}

Status CheckDatabaseIntegrity(const std::string& path) {
  Db db;
  // immutable=1: no locks and no -wal/-shm side files next to the file being checked (the
  // restored copy is complete in its main file; a snapshot never has a WAL of its own).
  char* uri = sqlite3_mprintf("file:%q?immutable=1", path.c_str());
  const int open_rc = sqlite3_open_v2(uri, &db.db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, nullptr);
  sqlite3_free(uri);
  if (open_rc != SQLITE_OK) {
    return Corrupted("the restored chat database cannot be opened: " +
                     std::string(db.db ? sqlite3_errmsg(db.db) : "out of memory"));
  }
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db.db, "PRAGMA quick_check", -1, &stmt, nullptr) != SQLITE_OK) {
    return Corrupted("the restored chat database is not a valid SQLite file: " +
                     std::string(sqlite3_errmsg(db.db)));
  }
  std::string first;
  const int rc = sqlite3_step(stmt);
  if (rc == SQLITE_ROW) {
    const unsigned char* text = sqlite3_column_text(stmt, 0);
    first = text ? reinterpret_cast<const char*>(text) : "";
  } else {
    first = sqlite3_errmsg(db.db);
  }
  sqlite3_finalize(stmt);
  if (first != "ok") return Corrupted("the restored chat database fails its integrity check: " + first);
  return OkStatus();
}

}  // namespace chatvault::backup

#include "backup/sqlite_snapshot.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "chatvault/common/file.h"

namespace chatvault::backup {
namespace {

constexpr int kPagesPerStep = 1024;
constexpr int kMaxRestartsBeforeOneStep = 3;
constexpr int kStagingAttempts = 3;
// What SQLite keeps beside a database: a copy in place of the source needs them too.
constexpr std::array<const char*, 2> kContentSideFiles = {"-wal", "-journal"};

struct Db {
  sqlite3* db = nullptr;
  ~Db() {
    if (db) sqlite3_close_v2(db);
  }
};

Status SqliteError(const std::string& what, sqlite3* db) {
  return IoError(what + ": " + (db ? sqlite3_errmsg(db) : "out of memory"));
}

// SQLite gives these when reading the database would need to write beside it: create the -shm
// of a WAL database, or roll back a hot journal, in a directory it may not write to.
bool NeedsWriteAccess(int extended_code) {
  const int primary = extended_code & 0xff;
  return primary == SQLITE_CANTOPEN || primary == SQLITE_READONLY;
}

struct PageCopy {
  Status status;
  bool source_needs_write_access = false;
};

PageCopy CopyPages(const std::string& source, int source_flags, const std::string& dest,
                   const std::function<void(uint64_t, uint64_t)>& progress) {
  Db src, dst;
  if (sqlite3_open_v2(source.c_str(), &src.db, source_flags, nullptr) != SQLITE_OK) {
    return {SqliteError("cannot open the chat database " + source, src.db),
            src.db && NeedsWriteAccess(sqlite3_extended_errcode(src.db))};
  }
  sqlite3_busy_timeout(src.db, 10000);
  if (sqlite3_open_v2(dest.c_str(), &dst.db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                      nullptr) != SQLITE_OK) {
    return {SqliteError("cannot create the snapshot file " + dest, dst.db)};
  }
  // The snapshot is a scratch file, read once and deleted: a crash mid-copy only leaves a file
  // the next backup removes. No rollback journal and no fsync for it (with them, the copy wrote
  // every page twice and waited for the disk at the end).
  if (sqlite3_exec(dst.db, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF", nullptr, nullptr,
                   nullptr) != SQLITE_OK) {
    return {SqliteError("cannot set up the snapshot file " + dest, dst.db)};
  }
  sqlite3_backup* backup = sqlite3_backup_init(dst.db, "main", src.db, "main");
  if (!backup) return {SqliteError("cannot start copying the chat database", dst.db)};

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
  if (rc == SQLITE_DONE) return {OkStatus()};
  // The step reports on the destination's handle whichever side failed. The destination is a
  // fresh file in our own directory, so these codes come from reading the source.
  return {SqliteError("copying the chat database failed", dst.db), NeedsWriteAccess(rc)};
}

// What tells that a file changed: identity, size, and the times of its last write.
struct FileState {
  bool exists = false;
  dev_t dev = 0;
  ino_t ino = 0;
  off_t size = 0;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;
  bool operator==(const FileState&) const = default;
};

FileState StateOf(const std::string& path) {
  struct stat st;
  FileState s;
  if (::stat(path.c_str(), &st) != 0) return s;
  s.exists = true;
  s.dev = st.st_dev;
  s.ino = st.st_ino;
  s.size = st.st_size;
  s.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  s.ctime_ns = static_cast<int64_t>(st.st_ctim.tv_sec) * 1000000000 + st.st_ctim.tv_nsec;
  return s;
}

Status CopyFile(const std::string& from, const std::string& to) {
  const int in = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) return IoError("cannot read " + from + ": " + std::strerror(errno));
  const int out = ::open(to.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (out < 0) {
    const int e = errno;
    ::close(in);
    return IoError("cannot create " + to + ": " + std::strerror(e));
  }
  Status result;
  std::vector<char> buf(1 << 20);
  for (;;) {
    const ssize_t n = ::read(in, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      result = IoError("cannot read " + from + ": " + std::strerror(errno));
      break;
    }
    if (n == 0) break;
    for (ssize_t done = 0; done < n;) {
      const ssize_t w = ::write(out, buf.data() + done, static_cast<size_t>(n - done));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) {
        result = ErrnoStatus(errno, "cannot write " + to);  // a full disk is kNoSpace
        break;
      }
      done += w;
    }
    if (!result.ok()) break;
  }
  ::close(in);
  ::close(out);
  return result;
}

// The staged copy of the source and whatever SQLite adds beside it, deleted however the
// snapshot ends.
struct StagedSource {
  std::string path;
  ~StagedSource() {
    for (const char* side : {"", "-wal", "-shm", "-journal"}) ::unlink((path + side).c_str());
  }
};

// Copies the database file and its -wal/-journal as files, until a copy is of one state.
Status StageSource(const std::string& source, const std::string& staged) {
  for (int attempt = 0; attempt < kStagingAttempts; ++attempt) {
    std::vector<FileState> before = {StateOf(source)};
    for (const char* side : kContentSideFiles) before.push_back(StateOf(source + side));
    Status copied = CopyFile(source, staged);
    for (size_t i = 0; copied.ok() && i < kContentSideFiles.size(); ++i) {
      const std::string side = kContentSideFiles[i];
      ::unlink((staged + side).c_str());
      if (before[i + 1].exists) copied = CopyFile(source + side, staged + side);
    }
    CV_RETURN_IF_ERROR(copied);
    std::vector<FileState> after = {StateOf(source)};
    for (const char* side : kContentSideFiles) after.push_back(StateOf(source + side));
    if (before == after) return OkStatus();
  }
  return Conflict("the chat database " + source +
                  " kept changing while it was copied without write access; try again");
}

}  // namespace

Status SnapshotDatabase(const std::string& source, const std::string& dest,
                        const std::function<void(uint64_t, uint64_t)>& progress) {
  PageCopy in_place = CopyPages(source, SQLITE_OPEN_READONLY, dest, progress);
  if (in_place.status.ok() || !in_place.source_needs_write_access) return in_place.status;
  ::unlink(dest.c_str());
  // The staged copy is ours, so SQLite may write beside it: it rebuilds the WAL index from the
  // -wal, or rolls back a hot journal, exactly as the app would on its next start.
  StagedSource staged{dest + "-source"};
  CV_RETURN_IF_ERROR(StageSource(source, staged.path));
  return CopyPages(staged.path, SQLITE_OPEN_READWRITE, dest, progress).status;
}

Status CopyQuiescentDatabase(const std::string& source, const std::string& dest,
                             const std::function<void(uint64_t, uint64_t)>& progress) {
  for (const char* side : kContentSideFiles) {
    const FileState state = StateOf(source + side);
    if (state.exists && state.size > 0) {
      return InvalidArgument(source + " has a pending " + side +
                             " file beside it, so its bytes "
                             "alone are not the whole database; open it with SQLite once (or "
                             "checkpoint it) first");
    }
  }
  const FileState before = StateOf(source);
  if (!before.exists) return NotFound("there is no database " + source);
  const uint64_t size = static_cast<uint64_t>(before.size);
  if (progress) progress(0, size);
  CV_RETURN_IF_ERROR(CopyFile(source, dest));
  const FileState after = StateOf(source);
  if (!(before == after) || StateOf(dest).size != before.size) {
    return Conflict("the database " + source + " changed while it was copied; try again");
  }
  if (progress) progress(size, size);
  return OkStatus();
}

namespace {

// Opens a snapshot or restored copy for reading. immutable=1: no locks and no -wal/-shm side
// files next to it (such a copy is complete in its main file; it never has a WAL of its own).
Status OpenImmutable(const std::string& path, Db& db, const std::string& what) {
  char* uri = sqlite3_mprintf("file:%q?immutable=1", path.c_str());
  const int rc = sqlite3_open_v2(uri, &db.db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, nullptr);
  sqlite3_free(uri);
  if (rc != SQLITE_OK) {
    return Corrupted(what + " cannot be opened: " +
                     std::string(db.db ? sqlite3_errmsg(db.db) : "out of memory"));
  }
  return OkStatus();
}

}  // namespace

Status CheckDatabaseIntegrity(const std::string& path) {
  Db db;
  CV_RETURN_IF_ERROR(OpenImmutable(path, db, "the chat database"));
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db.db, "PRAGMA quick_check", -1, &stmt, nullptr) != SQLITE_OK) {
    return Corrupted("the chat database is not a valid SQLite file: " +
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
  if (first != "ok") return Corrupted("the chat database fails its integrity check: " + first);
  return OkStatus();
}

Result<std::optional<uint64_t>> CountMessages(const std::string& path) {
  Db db;
  CV_RETURN_IF_ERROR(OpenImmutable(path, db, "the chat database"));
  for (const char* table : {"message", "messages"}) {
    sqlite3_stmt* stmt = nullptr;
    const std::string exists =
        "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = '" + std::string(table) + "'";
    if (sqlite3_prepare_v2(db.db, exists.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
      return Corrupted("the chat database cannot be read: " + std::string(sqlite3_errmsg(db.db)));
    }
    const bool found = sqlite3_step(stmt) == SQLITE_ROW;
    sqlite3_finalize(stmt);
    if (!found) continue;
    const std::string count = "SELECT count(*) FROM " + std::string(table);
    if (sqlite3_prepare_v2(db.db, count.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
      return Corrupted("the chat database cannot be read: " + std::string(sqlite3_errmsg(db.db)));
    }
    std::optional<uint64_t> rows;
    if (sqlite3_step(stmt) == SQLITE_ROW) {
      rows = static_cast<uint64_t>(sqlite3_column_int64(stmt, 0));
    }
    const std::string error = sqlite3_errmsg(db.db);
    sqlite3_finalize(stmt);
    if (!rows) {
      return Corrupted("the chat database's " + std::string(table) + " table cannot be read: " +
                       error);
    }
    return rows;
  }
  return std::optional<uint64_t>();
}

}  // namespace chatvault::backup

#include "chatvault/vaultstore/sqlite_record_store.h"

#include <sqlite3.h>
#include <sys/stat.h>

#include <mutex>

namespace chatvault::vaultstore {
namespace {

// Versions come from one counter for the whole file, so a key that is deleted and written again
// never reuses a version an old reader may still hold.
constexpr const char* kSchema =
    "CREATE TABLE IF NOT EXISTS records (key TEXT PRIMARY KEY, value BLOB NOT NULL, "
    "version INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS clock (id INTEGER PRIMARY KEY CHECK (id = 0), "
    "last_version INTEGER NOT NULL);"
    "INSERT OR IGNORE INTO clock (id, last_version) VALUES (0, 0);";

class Statement {
 public:
  Statement(sqlite3* db, const char* sql) { rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr); }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  bool ok() const { return rc_ == SQLITE_OK; }
  sqlite3_stmt* get() { return stmt_; }

 private:
  sqlite3_stmt* stmt_ = nullptr;
  int rc_ = SQLITE_ERROR;
};

class SqliteRecordStore final : public RecordStore {
 public:
  explicit SqliteRecordStore(sqlite3* db) : db_(db) {}
  ~SqliteRecordStore() override { sqlite3_close_v2(db_); }

  Result<std::optional<Versioned>> Get(std::string_view key) override {
    std::lock_guard<std::mutex> lock(mu_);
    return GetLocked(key);
  }

  Result<uint64_t> CompareAndSet(std::string_view key, uint64_t expected_version,
                                 ByteView value) override {
    std::lock_guard<std::mutex> lock(mu_);
    CV_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
    auto result = CompareAndSetLocked(key, expected_version, value);
    if (!result.ok()) {
      (void)Exec("ROLLBACK");
      return result;
    }
    CV_RETURN_IF_ERROR(Commit());
    return result;
  }

  Status CompareAndDelete(std::string_view key, uint64_t expected_version) override {
    std::lock_guard<std::mutex> lock(mu_);
    CV_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
    Status status = CompareAndDeleteLocked(key, expected_version);
    if (!status.ok()) {
      (void)Exec("ROLLBACK");
      return status;
    }
    return Commit();
  }

  Status Health() override {
    std::lock_guard<std::mutex> lock(mu_);
    Statement st(db_, "SELECT last_version FROM clock WHERE id = 0");
    if (!st.ok() || sqlite3_step(st.get()) != SQLITE_ROW) return Error("reading the record store");
    return OkStatus();
  }

 private:
  Status Error(std::string_view what) const {
    const int code = sqlite3_errcode(db_);
    std::string message = std::string(what) + ": " + sqlite3_errmsg(db_);
    if (code == SQLITE_BUSY || code == SQLITE_LOCKED) return Unavailable(std::move(message));
    return IoError(std::move(message));
  }

  Status Exec(const char* sql) {
    if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK) return Error(sql);
    return OkStatus();
  }

  // If COMMIT fails the write may or may not be durable; say so rather than guess.
  Status Commit() {
    if (sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
      Status s = Error("committing a record write");
      (void)Exec("ROLLBACK");
      return Unavailable(s.message());
    }
    return OkStatus();
  }

  Result<std::optional<Versioned>> GetLocked(std::string_view key) {
    Statement st(db_, "SELECT value, version FROM records WHERE key = ?1");
    if (!st.ok()) return Error("preparing a record read");
    sqlite3_bind_text(st.get(), 1, key.data(), static_cast<int>(key.size()), SQLITE_TRANSIENT);
    const int rc = sqlite3_step(st.get());
    if (rc == SQLITE_DONE) return std::optional<Versioned>();
    if (rc != SQLITE_ROW) return Error("reading a record");
    Versioned v;
    const auto* blob = static_cast<const uint8_t*>(sqlite3_column_blob(st.get(), 0));
    v.value.assign(blob, blob + sqlite3_column_bytes(st.get(), 0));
    v.version = static_cast<uint64_t>(sqlite3_column_int64(st.get(), 1));
    return std::optional<Versioned>(std::move(v));
  }

  Status CheckVersion(std::string_view key, uint64_t expected_version) {
    CV_ASSIGN_OR_RETURN(std::optional<Versioned> current, GetLocked(key));
    const uint64_t actual = current ? current->version : 0;
    if (actual != expected_version) {
      return Conflict("the record changed since it was read (another writer got there first)");
    }
    return OkStatus();
  }

  Result<uint64_t> CompareAndSetLocked(std::string_view key, uint64_t expected_version,
                                       ByteView value) {
    CV_RETURN_IF_ERROR(CheckVersion(key, expected_version));
    uint64_t version = 0;
    {
      Statement st(db_, "UPDATE clock SET last_version = last_version + 1 WHERE id = 0 "
                        "RETURNING last_version");
      if (!st.ok() || sqlite3_step(st.get()) != SQLITE_ROW) return Error("advancing the version");
      version = static_cast<uint64_t>(sqlite3_column_int64(st.get(), 0));
    }
    Statement st(db_, "INSERT INTO records (key, value, version) VALUES (?1, ?2, ?3) "
                      "ON CONFLICT(key) DO UPDATE SET value = excluded.value, "
                      "version = excluded.version");
    if (!st.ok()) return Error("preparing a record write");
    sqlite3_bind_text(st.get(), 1, key.data(), static_cast<int>(key.size()), SQLITE_TRANSIENT);
    sqlite3_bind_blob(st.get(), 2, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
    sqlite3_bind_int64(st.get(), 3, static_cast<sqlite3_int64>(version));
    if (sqlite3_step(st.get()) != SQLITE_DONE) return Error("writing a record");
    return version;
  }

  Status CompareAndDeleteLocked(std::string_view key, uint64_t expected_version) {
    if (expected_version == 0) return InvalidArgument("deleting needs the version that was read");
    CV_RETURN_IF_ERROR(CheckVersion(key, expected_version));
    Statement st(db_, "DELETE FROM records WHERE key = ?1");
    if (!st.ok()) return Error("preparing a record delete");
    sqlite3_bind_text(st.get(), 1, key.data(), static_cast<int>(key.size()), SQLITE_TRANSIENT);
    if (sqlite3_step(st.get()) != SQLITE_DONE) return Error("deleting a record");
    return OkStatus();
  }

  std::mutex mu_;  // one connection, used by one thread at a time
  sqlite3* db_;
};

}  // namespace

Result<std::unique_ptr<RecordStore>> OpenSqliteRecordStore(const std::string& path) {
  if (path.empty()) return InvalidArgument("the SQLite record store needs a file path");
  sqlite3* db = nullptr;
  const mode_t old_mask = ::umask(077);  // records are sealed, but still nobody else's business
  const int rc = sqlite3_open_v2(path.c_str(), &db,
                                 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                                 nullptr);
  ::umask(old_mask);
  if (rc != SQLITE_OK) {
    std::string message = "cannot open the record store " + path + ": " +
                          (db ? sqlite3_errmsg(db) : "out of memory");
    sqlite3_close_v2(db);
    return IoError(std::move(message));
  }
  auto store = std::make_unique<SqliteRecordStore>(db);
  sqlite3_busy_timeout(db, 5000);
  const char* setup[] = {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", kSchema};
  for (const char* sql : setup) {
    char* err = nullptr;
    if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
      std::string message = "cannot prepare the record store " + path + ": " +
                            (err ? err : "unknown error");
      sqlite3_free(err);
      return IoError(std::move(message));
    }
  }
  return std::unique_ptr<RecordStore>(std::move(store));
}

}  // namespace chatvault::vaultstore

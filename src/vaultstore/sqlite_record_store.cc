#include "chatvault/vaultstore/sqlite_record_store.h"

#include <sqlite3.h>
#include <sys/stat.h>

#include <vector>

#include "chatvault/common/mutex.h"

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

// Idle read connections kept open; more are opened under load and closed when they come back.
constexpr size_t kMaxIdleReaders = 16;

// A statement prepared once per connection and reused: preparing costs more CPU than running
// these one-row statements.
class Statement {
 public:
  Statement() = default;
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  bool Prepare(sqlite3* db, const char* sql) {
    return sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr) == SQLITE_OK;
  }
  sqlite3_stmt* get() { return stmt_; }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

// Resets a cached statement when a use ends, so it holds no read snapshot and no bound data.
class Use {
 public:
  explicit Use(Statement& s) : stmt_(s.get()) {}
  ~Use() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  Use(const Use&) = delete;
  Use& operator=(const Use&) = delete;
  sqlite3_stmt* operator*() const { return stmt_; }

 private:
  sqlite3_stmt* stmt_;
};

void BindKey(sqlite3_stmt* st, std::string_view key) {
  sqlite3_bind_text(st, 1, key.data(), static_cast<int>(key.size()), SQLITE_STATIC);
}

Status ErrorOf(sqlite3* db, std::string_view what) {
  const int code = sqlite3_errcode(db);
  std::string message = std::string(what) + ": " + sqlite3_errmsg(db);
  if (code == SQLITE_BUSY || code == SQLITE_LOCKED) return Unavailable(std::move(message));
  return IoError(std::move(message));
}

Result<sqlite3*> OpenConnection(const std::string& path, int flags) {
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &db, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string message =
        "cannot open the record store " + path + ": " + (db ? sqlite3_errmsg(db) : "out of memory");
    sqlite3_close_v2(db);
    return IoError(std::move(message));
  }
  sqlite3_busy_timeout(db, 5000);
  return db;
}

// A connection that only reads. WAL lets readers run while a commit waits for its fsync, and a
// reader only ever sees committed (so durable) transactions.
struct Reader {
  sqlite3* db = nullptr;
  Statement get;
  Statement health;
  // close_v2 defers the close until the statements (destroyed after this) are finalized.
  ~Reader() { sqlite3_close_v2(db); }
};

// One write waiting for a group commit.
struct WriteOp {
  bool is_delete = false;
  std::string_view key;
  uint64_t expected_version = 0;
  ByteView value;
  Result<uint64_t> result = Internal("the write was not run");
  bool done = false;
  CondVar wake;  // done, or this write is first in line for the next commit
};

// Concurrent writers are committed together: the first caller to find no commit in progress
// becomes the leader, takes every queued write into one BEGIN IMMEDIATE transaction (each one
// compared on its own, so one caller's conflict does not fail the others), commits with one
// fsync, and hands the results back. Writes that arrive meanwhile queue up for
// the next leader. Nobody returns before the COMMIT that holds their write has returned.
class SqliteRecordStore final : public RecordStore {
 public:
  SqliteRecordStore(std::string path, sqlite3* writer) : path_(std::move(path)), db_(writer) {}
  ~SqliteRecordStore() override { sqlite3_close_v2(db_); }  // as ~Reader

  Status Prepare() {
    struct {
      Statement* stmt;
      const char* sql;
    } const all[] = {
        {&begin_, "BEGIN IMMEDIATE"},
        {&commit_, "COMMIT"},
        {&rollback_, "ROLLBACK"},
        {&read_version_, "SELECT version FROM records WHERE key = ?1"},
        {&bump_clock_,
         "UPDATE clock SET last_version = last_version + 1 WHERE id = 0 RETURNING last_version"},
        {&upsert_,
         "INSERT INTO records (key, value, version) VALUES (?1, ?2, ?3) ON CONFLICT(key) DO "
         "UPDATE SET value = excluded.value, version = excluded.version"},
        {&delete_, "DELETE FROM records WHERE key = ?1"},
    };
    for (const auto& s : all) {
      if (!s.stmt->Prepare(db_, s.sql)) return ErrorOf(db_, "preparing the record store");
    }
    return OkStatus();
  }

  Result<std::optional<Versioned>> Get(std::string_view key) override {
    CV_ASSIGN_OR_RETURN(std::unique_ptr<Reader> reader, AcquireReader());
    auto got = [&]() -> Result<std::optional<Versioned>> {
      Use st(reader->get);
      BindKey(*st, key);
      const int rc = sqlite3_step(*st);
      if (rc == SQLITE_DONE) return std::optional<Versioned>();
      if (rc != SQLITE_ROW) return ErrorOf(reader->db, "reading a record");
      Versioned v;
      const auto* blob = static_cast<const uint8_t*>(sqlite3_column_blob(*st, 0));
      v.value.assign(blob, blob + sqlite3_column_bytes(*st, 0));
      v.version = static_cast<uint64_t>(sqlite3_column_int64(*st, 1));
      return std::optional<Versioned>(std::move(v));
    }();
    ReleaseReader(std::move(reader));
    return got;
  }

  Result<uint64_t> CompareAndSet(std::string_view key, uint64_t expected_version,
                                 ByteView value) override {
    WriteOp op;
    op.key = key;
    op.expected_version = expected_version;
    op.value = value;
    Submit(op);
    return std::move(op.result);
  }

  Status CompareAndDelete(std::string_view key, uint64_t expected_version) override {
    if (expected_version == 0) return InvalidArgument("deleting needs the version that was read");
    WriteOp op;
    op.is_delete = true;
    op.key = key;
    op.expected_version = expected_version;
    Submit(op);
    return op.result.ok() ? OkStatus() : op.result.status();
  }

  Result<std::vector<std::string>> ListKeys(std::string_view prefix) override {
    CV_ASSIGN_OR_RETURN(std::unique_ptr<Reader> reader, AcquireReader());
    auto listed = [&]() -> Result<std::vector<std::string>> {
      Statement list;
      if (!list.Prepare(reader->db,
                        "SELECT key FROM records WHERE substr(key, 1, length(?1)) = ?1 "
                        "ORDER BY key")) {
        return ErrorOf(reader->db, "preparing a key listing");
      }
      Use st(list);
      BindKey(*st, prefix);
      std::vector<std::string> keys;
      int rc;
      while ((rc = sqlite3_step(*st)) == SQLITE_ROW) {
        const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(*st, 0));
        keys.emplace_back(text, static_cast<size_t>(sqlite3_column_bytes(*st, 0)));
      }
      if (rc != SQLITE_DONE) return ErrorOf(reader->db, "listing the record keys");
      return keys;
    }();
    ReleaseReader(std::move(reader));
    return listed;
  }

  Status Health() override {
    CV_ASSIGN_OR_RETURN(std::unique_ptr<Reader> reader, AcquireReader());
    Status status = [&] {
      Use st(reader->health);
      if (sqlite3_step(*st) != SQLITE_ROW) return ErrorOf(reader->db, "reading the record store");
      return OkStatus();
    }();
    ReleaseReader(std::move(reader));
    return status;
  }

 private:
  Result<std::unique_ptr<Reader>> AcquireReader() CV_EXCLUDES(readers_mu_) {
    {
      MutexLock lock(readers_mu_);
      if (!idle_readers_.empty()) {
        std::unique_ptr<Reader> reader = std::move(idle_readers_.back());
        idle_readers_.pop_back();
        return reader;
      }
    }
    auto reader = std::make_unique<Reader>();
    CV_ASSIGN_OR_RETURN(reader->db, OpenConnection(path_, SQLITE_OPEN_READWRITE));
    if (!reader->get.Prepare(reader->db, "SELECT value, version FROM records WHERE key = ?1") ||
        !reader->health.Prepare(reader->db, "SELECT last_version FROM clock WHERE id = 0")) {
      return ErrorOf(reader->db, "preparing a record read");
    }
    return reader;
  }

  void ReleaseReader(std::unique_ptr<Reader> reader) CV_EXCLUDES(readers_mu_) {
    MutexLock lock(readers_mu_);
    if (idle_readers_.size() < kMaxIdleReaders) idle_readers_.push_back(std::move(reader));
  }

  // Queues `op` and returns once a commit (run by this thread or another) has decided it.
  void Submit(WriteOp& op) CV_EXCLUDES(queue_mu_) {
    std::vector<WriteOp*> batch;
    {
      MutexLock lock(queue_mu_);
      queue_.push_back(&op);
      while (!op.done && committing_) op.wake.Wait(queue_mu_);
      if (op.done) return;
      committing_ = true;
      batch.swap(queue_);
    }
    CommitBatch(batch);
    MutexLock lock(queue_mu_);
    // Wake each caller of this batch and the first of the next one, not every waiter: the
    // notifications happen under the lock, so no WriteOp leaves its caller's stack before.
    for (WriteOp* done : batch) {
      done->done = true;
      done->wake.NotifyOne();
    }
    committing_ = false;
    if (!queue_.empty()) queue_.front()->wake.NotifyOne();
  }

  Status Step(Statement& s, const char* what) {
    Use st(s);
    if (sqlite3_step(*st) != SQLITE_DONE) return ErrorOf(db_, what);
    return OkStatus();
  }

  void FailAll(const std::vector<WriteOp*>& batch, const Status& status) {
    for (WriteOp* op : batch) op->result = status;
  }

  // A write that loses its compare-and-set changes nothing (the version is compared before
  // anything is written), so it needs no savepoint of its own; any other failure may have left
  // the transaction half done, or SQLite may have rolled it back already, so none of the batch
  // commits then.
  void CommitBatch(const std::vector<WriteOp*>& batch) {
    if (Status begin = Step(begin_, "starting a record write"); !begin.ok()) {
      FailAll(batch, begin);
      return;
    }
    bool any_written = false;
    for (WriteOp* op : batch) {
      op->result = Apply(*op);
      if (op->result.ok()) {
        any_written = true;
      } else if (op->result.status().code() != Code::kConflict) {
        const Status failed = op->result.status();
        (void)Step(rollback_, "abandoning a record write");
        FailAll(batch, failed);
        return;
      }
    }
    if (!any_written) {  // only conflicts: nothing to make durable
      (void)Step(rollback_, "ending a read-only batch");
      return;
    }
    // If COMMIT fails the writes may or may not be durable; say so to every caller rather than
    // guess.
    if (Status commit = Step(commit_, "committing a record write"); !commit.ok()) {
      (void)Step(rollback_, "abandoning a record write");
      FailAll(batch, Unavailable(commit.message()));
    }
  }

  Result<uint64_t> Apply(const WriteOp& op) {
    {
      Use st(read_version_);
      BindKey(*st, op.key);
      const int rc = sqlite3_step(*st);
      if (rc != SQLITE_ROW && rc != SQLITE_DONE) return ErrorOf(db_, "reading a record version");
      const uint64_t actual =
          rc == SQLITE_ROW ? static_cast<uint64_t>(sqlite3_column_int64(*st, 0)) : 0;
      if (actual != op.expected_version) {
        return Conflict("the record changed since it was read (another writer got there first)");
      }
    }
    if (op.is_delete) {
      CV_RETURN_IF_ERROR(StepKey(delete_, op.key, "deleting a record"));
      return op.expected_version;
    }
    uint64_t version = 0;
    {
      Use st(bump_clock_);
      if (sqlite3_step(*st) != SQLITE_ROW) return ErrorOf(db_, "advancing the version");
      version = static_cast<uint64_t>(sqlite3_column_int64(*st, 0));
    }
    Use st(upsert_);
    BindKey(*st, op.key);
    // An empty value may have no data pointer, and a null pointer binds SQL NULL, which the
    // NOT NULL column refuses: bind it as the empty blob it is.
    if (op.value.empty()) {
      sqlite3_bind_zeroblob(*st, 2, 0);
    } else {
      sqlite3_bind_blob(*st, 2, op.value.data(), static_cast<int>(op.value.size()), SQLITE_STATIC);
    }
    sqlite3_bind_int64(*st, 3, static_cast<sqlite3_int64>(version));
    if (sqlite3_step(*st) != SQLITE_DONE) return ErrorOf(db_, "writing a record");
    return version;
  }

  Status StepKey(Statement& s, std::string_view key, const char* what) {
    Use st(s);
    BindKey(*st, key);
    if (sqlite3_step(*st) != SQLITE_DONE) return ErrorOf(db_, what);
    return OkStatus();
  }

  const std::string path_;

  // The write connection; only the current leader touches it and its statements.
  sqlite3* db_;
  Statement begin_, commit_, rollback_;
  Statement read_version_, bump_clock_, upsert_, delete_;

  Mutex queue_mu_;
  std::vector<WriteOp*> queue_ CV_GUARDED_BY(queue_mu_);  // waiting for the next commit
  bool committing_ CV_GUARDED_BY(queue_mu_) = false;      // a leader owns db_

  Mutex readers_mu_;
  std::vector<std::unique_ptr<Reader>> idle_readers_ CV_GUARDED_BY(readers_mu_);
};

}  // namespace

Result<std::unique_ptr<RecordStore>> OpenSqliteRecordStore(const std::string& path) {
  if (path.empty()) return InvalidArgument("the SQLite record store needs a file path");
  const mode_t old_mask = ::umask(077);  // records are sealed, but still nobody else's business
  auto db = OpenConnection(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  ::umask(old_mask);
  if (!db.ok()) return db.status();
  auto store = std::make_unique<SqliteRecordStore>(path, *db);
  const char* setup[] = {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", kSchema};
  for (const char* sql : setup) {
    char* err = nullptr;
    if (sqlite3_exec(*db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
      std::string message =
          "cannot prepare the record store " + path + ": " + (err ? err : "unknown error");
      sqlite3_free(err);
      return IoError(std::move(message));
    }
  }
  CV_RETURN_IF_ERROR(store->Prepare());
  return std::unique_ptr<RecordStore>(std::move(store));
}

}  // namespace chatvault::vaultstore

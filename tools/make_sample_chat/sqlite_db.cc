#include "make_sample_chat/sqlite_db.h"

#include <utility>

namespace chatvault::sample {
namespace {

Status SqliteError(sqlite3* db, std::string_view what) {
  std::string message(what);
  message += ": ";
  message += db ? sqlite3_errmsg(db) : "out of memory";
  const int code = db ? sqlite3_errcode(db) : SQLITE_NOMEM;
  if (code == SQLITE_BUSY || code == SQLITE_LOCKED) return Unavailable(std::move(message));
  if (code == SQLITE_CORRUPT || code == SQLITE_NOTADB) return Corrupted(std::move(message));
  return IoError(std::move(message));
}

}  // namespace

Statement::~Statement() {
  if (stmt_) sqlite3_finalize(stmt_);
}

Statement::Statement(Statement&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)), stmt_(std::exchange(other.stmt_, nullptr)) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    if (stmt_) sqlite3_finalize(stmt_);
    db_ = std::exchange(other.db_, nullptr);
    stmt_ = std::exchange(other.stmt_, nullptr);
  }
  return *this;
}

void Statement::BindInt(int index, int64_t value) { sqlite3_bind_int64(stmt_, index, value); }

void Statement::BindText(int index, std::string_view value) {
  sqlite3_bind_text(stmt_, index, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
}

void Statement::BindBlob(int index, ByteView value) {
  sqlite3_bind_blob(stmt_, index, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
}

void Statement::BindNull(int index) { sqlite3_bind_null(stmt_, index); }

Result<bool> Statement::Step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  Status status = SqliteError(db_, "SQLite statement failed");
  sqlite3_reset(stmt_);
  return status;
}

Status Statement::ForEachRow(const std::function<Status()>& on_row) {
  while (true) {
    CV_ASSIGN_OR_RETURN(bool row, Step());
    if (!row) return OkStatus();
    CV_RETURN_IF_ERROR(on_row());
  }
}

Status Statement::Run() {
  auto stepped = Step();
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  return stepped.ok() ? OkStatus() : stepped.status();
}

void Statement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

int64_t Statement::ColumnInt(int column) const { return sqlite3_column_int64(stmt_, column); }

std::string Statement::ColumnText(int column) const {
  const auto* text = sqlite3_column_text(stmt_, column);
  if (!text) return {};
  return std::string(reinterpret_cast<const char*>(text),
                     static_cast<size_t>(sqlite3_column_bytes(stmt_, column)));
}

Result<Database> Database::Open(const std::string& path, bool create) {
  sqlite3* db = nullptr;
  const int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0);
  if (sqlite3_open_v2(path.c_str(), &db, flags, nullptr) != SQLITE_OK) {
    Status status = SqliteError(db, "cannot open " + path);
    sqlite3_close(db);
    return status;
  }
  sqlite3_busy_timeout(db, 10000);
  return Database(db);
}

Database::~Database() {
  if (db_) sqlite3_close_v2(db_);
}

Database::Database(Database&& other) noexcept : db_(std::exchange(other.db_, nullptr)) {}

Database& Database::operator=(Database&& other) noexcept {
  if (this != &other) {
    if (db_) sqlite3_close_v2(db_);
    db_ = std::exchange(other.db_, nullptr);
  }
  return *this;
}

Status Database::Exec(std::string_view sql) {
  const std::string text(sql);
  if (sqlite3_exec(db_, text.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) {
    return SqliteError(db_, "SQLite statement failed");
  }
  return OkStatus();
}

Result<Statement> Database::Prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr) !=
      SQLITE_OK) {
    return SqliteError(db_, "cannot prepare SQL");
  }
  return Statement(db_, stmt);
}

Result<int64_t> Database::QueryInt(std::string_view sql) {
  CV_ASSIGN_OR_RETURN(Statement stmt, Prepare(sql));
  CV_ASSIGN_OR_RETURN(bool has_row, stmt.Step());
  if (!has_row) return NotFound("query returned no rows");
  return stmt.ColumnInt(0);
}

int64_t Database::LastInsertId() const { return sqlite3_last_insert_rowid(db_); }

Status Database::Close() {
  if (!db_) return OkStatus();
  // close_v2 lets statements still held by their owners finish later; the file is closed (and
  // the WAL checkpointed) when the last one is finalized.
  if (sqlite3_close_v2(db_) != SQLITE_OK) return SqliteError(db_, "cannot close the database");
  db_ = nullptr;
  return OkStatus();
}

}  // namespace chatvault::sample

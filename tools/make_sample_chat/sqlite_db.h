// A thin RAII layer over the SQLite C API for the sample tools: errors become Status values with
// SQLite's own message, statements are finalized on scope exit.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "chatvault/common/bytes.h"
#include "chatvault/common/status.h"

namespace chatvault::sample {

class Statement {
 public:
  Statement() = default;
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  ~Statement();
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Parameters are numbered from 1, as in SQLite.
  void BindInt(int index, int64_t value);
  void BindText(int index, std::string_view value);
  void BindBlob(int index, ByteView value);
  void BindNull(int index);

  // Returns true while a row is available, false when done.
  Result<bool> Step();
  // Steps through every row, calling `on_row` (which reads the columns) for each; stops at the
  // first error, SQLite's or on_row's.
  Status ForEachRow(const std::function<Status()>& on_row);
  // Runs a statement that returns no rows, then resets it for the next use.
  Status Run();
  void Reset();

  int64_t ColumnInt(int column) const;
  std::string ColumnText(int column) const;

 private:
  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
};

class Database {
 public:
  // Opens (creating when `create`) a database file; waits up to 10 s for other writers' locks.
  static Result<Database> Open(const std::string& path, bool create);

  Database() = default;
  ~Database();
  Database(Database&& other) noexcept;
  Database& operator=(Database&& other) noexcept;
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  Status Exec(std::string_view sql);
  Result<Statement> Prepare(std::string_view sql);
  // The first column of the first row of a query, as an integer.
  Result<int64_t> QueryInt(std::string_view sql);
  int64_t LastInsertId() const;
  Status Close();

 private:
  explicit Database(sqlite3* db) : db_(db) {}
  sqlite3* db_ = nullptr;
};

}  // namespace chatvault::sample

// A small chat data directory for tests: msgstore.db (SQLite, a `messages` table with ids
// 1..N) plus a few media files of pseudo-random bytes. Deterministic for a given seed.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace chatvault::testing {

inline bool Exec(const std::string& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  bool ok = sqlite3_open(db_path.c_str(), &db) == SQLITE_OK;
  if (ok) {
    sqlite3_busy_timeout(db, 10000);
    ok = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK;
  }
  sqlite3_close(db);
  return ok;
}

// Runs a query returning one integer (or text "ok" -> 1 for integrity_check); -1 on error.
inline int64_t QueryInt(const std::string& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  int64_t v = -1;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
      if (sqlite3_column_type(st, 0) == SQLITE_TEXT) {
        v = std::string(reinterpret_cast<const char*>(sqlite3_column_text(st, 0))) == "ok" ? 1 : 0;
      } else {
        v = sqlite3_column_int64(st, 0);
      }
    }
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  return v;
}

// A consistent copy of a (possibly live) database made with SQLite's backup API, as the backup
// engine makes its snapshot: page for page, so a restore must give back exactly these bytes.
inline std::vector<uint8_t> DatabaseCopy(const std::string& db_path, const std::string& copy_path) {
  sqlite3* src = nullptr;
  sqlite3* dst = nullptr;
  std::vector<uint8_t> bytes;
  std::filesystem::remove(copy_path);
  if (sqlite3_open_v2(db_path.c_str(), &src, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK &&
      sqlite3_open(copy_path.c_str(), &dst) == SQLITE_OK) {
    if (sqlite3_backup* b = sqlite3_backup_init(dst, "main", src, "main")) {
      sqlite3_backup_step(b, -1);
      sqlite3_backup_finish(b);
    }
  }
  sqlite3_close(src);
  sqlite3_close(dst);
  std::ifstream in(copy_path, std::ios::binary);
  bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  std::filesystem::remove(copy_path);
  return bytes;
}

inline std::vector<uint8_t> PseudoRandom(size_t n, uint64_t seed) {
  std::vector<uint8_t> out(n);
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
  for (size_t i = 0; i < n; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    out[i] = static_cast<uint8_t>(x);
  }
  return out;
}

inline void WriteFile(const std::string& path, const std::vector<uint8_t>& data) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(data.data()),
                                              static_cast<std::streamsize>(data.size()));
}

inline std::vector<uint8_t> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Adds `count` messages (ids continue from the current maximum), in one transaction.
inline bool AddMessages(const std::string& db_path, int count) {
  return Exec(db_path,
              "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i<" +
                  std::to_string(count) +
                  ") INSERT INTO messages(body, ts) SELECT printf('message %d: %s', i, "
                  "hex(randomblob(60))), i FROM n;");
}

struct ChatDirSpec {
  int messages = 3000;
  std::vector<size_t> media_sizes = {40 * 1024, 300 * 1024, 5 * 1024 * 1024 + 123};
  uint64_t seed = 1;
};

// Creates DIR/msgstore.db and DIR/Media/... Returns false if SQLite failed.
inline bool MakeChatDir(const std::string& dir, const ChatDirSpec& spec = {}) {
  std::filesystem::create_directories(dir);
  const std::string db = dir + "/msgstore.db";
  if (!Exec(db, "PRAGMA journal_mode=WAL; CREATE TABLE IF NOT EXISTS messages(id INTEGER PRIMARY "
                "KEY, body TEXT NOT NULL, ts INTEGER NOT NULL);")) {
    return false;
  }
  if (!AddMessages(db, spec.messages)) return false;
  for (size_t i = 0; i < spec.media_sizes.size(); ++i) {
    const std::string sub = i % 2 ? "Media/Images/" : "Media/Voice/";
    WriteFile(dir + "/" + sub + "file" + std::to_string(i) + ".bin",
              PseudoRandom(spec.media_sizes[i], spec.seed * 100 + i));
  }
  return true;
}

}  // namespace chatvault::testing

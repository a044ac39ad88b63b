// Helpers for the WhatsApp tests: the test key, small SQLite databases, whole-file reads and
// writes.
#pragma once

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "chatvault/common/bytes.h"
#include "chatvault/whatsapp/whatsapp_key.h"
#include "support/test_hex.h"

namespace chatvault::whatsapp::testing {

// The 64-digit root key the tests encrypt and decrypt with.
inline constexpr char kRootHex[] =
    "6730a595a1484d0c39c101dc0ac82ec5e401bb6f0e1b8ee2dc104a6b3687f017";

inline WhatsAppKey TestKey() {
  return std::move(WhatsAppKey::FromRoot(::chatvault::testing::Hex(kRootHex))).value();
}

inline Bytes ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

inline void WriteAll(const std::string& path, ByteView data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
}

inline Bytes Md5(ByteView data) {
  Bytes out(16);
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_md5(), nullptr);
  return out;
}

// A msgstore-like database: `rows` messages, each with `blob_bytes` of pseudo-random payload (so
// that compression cannot shrink it below a few chunks when the test wants several).
inline void MakeDatabase(const std::string& path, int rows, int blob_bytes) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "CREATE TABLE message(_id INTEGER PRIMARY KEY, chat TEXT, text TEXT, "
                         "media BLOB); BEGIN;",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "INSERT INTO message(chat, text, media) VALUES(?, ?, ?)", -1,
                               &stmt, nullptr),
            SQLITE_OK);
  uint64_t state = 0x9e3779b97f4a7c15ull;
  Bytes blob(static_cast<size_t>(blob_bytes));
  for (int i = 0; i < rows; ++i) {
    for (auto& b : blob) {
      state = state * 6364136223846793005ull + 1442695040888963407ull;
      b = static_cast<uint8_t>(state >> 56);
    }
    const std::string chat = "chat-" + std::to_string(i % 7) + "@s.whatsapp.net";
    const std::string text = "message number " + std::to_string(i) + " says hello";
    sqlite3_bind_text(stmt, 1, chat.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(stmt, 2, text.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_blob(stmt, 3, blob.data(), static_cast<int>(blob.size()), SQLITE_TRANSIENT);
    ASSERT_EQ(sqlite3_step(stmt), SQLITE_DONE);
    sqlite3_reset(stmt);
  }
  sqlite3_finalize(stmt);
  ASSERT_EQ(sqlite3_exec(db, "COMMIT;", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
}

// Files in `dir` whose names contain ".partial-": temporary outputs that must never be left behind.
inline int LeftoverTemps(const std::string& dir) {
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().filename().string().find(".partial-") != std::string::npos) ++n;
  }
  return n;
}

}  // namespace chatvault::whatsapp::testing

#include "whatsapp/sqlite_check.h"

#include <sqlite3.h>

#include <cstring>
#include <fstream>

namespace chatvault::whatsapp {
namespace {

// A file: URI for `path`, escaping the characters that URIs give a meaning.
std::string FileUri(const std::string& path) {
  std::string uri = "file:";
  for (char c : path) {
    if (c == '%' || c == '?' || c == '#') {
      static const char* kHex = "0123456789abcdef";
      uri += '%';
      uri += kHex[(static_cast<unsigned char>(c) >> 4) & 0xf];
      uri += kHex[static_cast<unsigned char>(c) & 0xf];
    } else {
      uri += c;
    }
  }
  return uri + "?immutable=1";
}

}  // namespace

Status CheckSqliteFile(const std::string& path, const std::string& what) {
  {
    char header[16] = {};
    std::ifstream in(path, std::ios::binary);
    if (!in) return IoError("cannot read " + path);
    in.read(header, sizeof(header));
    if (in.gcount() != sizeof(header) || std::memcmp(header, kSqliteMagic, sizeof(header)) != 0) {
      return Corrupted(what + " is not a SQLite database (its header is wrong)");
    }
  }
  sqlite3* db = nullptr;
  const std::string uri = FileUri(path);
  int rc = sqlite3_open_v2(uri.c_str(), &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, nullptr);
  Status result;
  if (rc != SQLITE_OK) {
    result = Corrupted(what + " cannot be opened by SQLite: " + sqlite3_errmsg(db));
  } else {
    sqlite3_stmt* stmt = nullptr;
    rc = sqlite3_prepare_v2(db, "PRAGMA quick_check", -1, &stmt, nullptr);
    if (rc != SQLITE_OK) {
      result = Corrupted(what + " is not a readable SQLite database: " + sqlite3_errmsg(db));
    } else {
      rc = sqlite3_step(stmt);
      const unsigned char* text = rc == SQLITE_ROW ? sqlite3_column_text(stmt, 0) : nullptr;
      if (text == nullptr || std::strcmp(reinterpret_cast<const char*>(text), "ok") != 0) {
        result = Corrupted(what + " fails SQLite's integrity check: " +
                           (text ? reinterpret_cast<const char*>(text) : sqlite3_errmsg(db)));
      }
    }
    sqlite3_finalize(stmt);
  }
  sqlite3_close(db);
  return result;
}

}  // namespace chatvault::whatsapp

// Checks that a file is a sound SQLite database before it is handed to the user (decrypt) or
// encrypted (encrypt).
#pragma once

#include <string>

#include "chatvault/common/status.h"

namespace chatvault::whatsapp {

inline constexpr char kSqliteMagic[] = "SQLite format 3";  // 16 bytes with its NUL

// kCorrupted (with `what` in the sentence) unless `path` starts with the SQLite header and passes
// PRAGMA quick_check. The file is opened read-only and immutable: nothing is written next to it.
Status CheckSqliteFile(const std::string& path, const std::string& what);

}  // namespace chatvault::whatsapp

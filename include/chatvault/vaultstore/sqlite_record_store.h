// The embedded RecordStore: one SQLite file in WAL mode with synchronous=FULL, so a
// compare-and-set that returned is on disk and survives kill -9 or power loss.
#pragma once

#include <memory>
#include <string>

#include "chatvault/common/status.h"
#include "chatvault/vaultstore/record_store.h"

namespace chatvault::vaultstore {

// Creates the file (mode 0600) and schema if missing. Safe to open from several processes:
// every write runs in a BEGIN IMMEDIATE transaction.
Result<std::unique_ptr<RecordStore>> OpenSqliteRecordStore(const std::string& path);

}  // namespace chatvault::vaultstore

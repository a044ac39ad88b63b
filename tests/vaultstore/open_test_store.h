// Opening a SQLite record store for a test, through the registry as keyvaultd does: a store that
// does not open fails the test, and the value() that follows stops it there.
#pragma once

#include <memory>
#include <string>

#include "chatvault/vaultstore/store_registry.h"
#include "support/status_matchers.h"

namespace chatvault::testing {

inline std::unique_ptr<vaultstore::RecordStore> OpenSqliteStore(const std::string& path) {
  auto store = vaultstore::OpenRecordStore("sqlite:" + path);
  EXPECT_THAT(store, IsOk());
  return std::move(store).value();
}

}  // namespace chatvault::testing

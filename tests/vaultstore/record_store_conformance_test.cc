// The record-store contract (support/record_store_conformance.h) on SQLite and on the in-memory
// store the in-process vault tests use, so that those tests run on the semantics of a real store.
#include <map>
#include <memory>
#include <string>

#include "chatvault/vaultstore/sqlite_record_store.h"
#include "support/memory_record_store.h"
#include "support/record_store_conformance.h"
#include "support/temp_dir.h"

namespace chatvault::testing {
namespace {

std::shared_ptr<vaultstore::RecordStore> OpenSqlite(const std::string& location) {
  static TempDir dir;  // one per test process, removed when it exits
  auto store = vaultstore::OpenSqliteRecordStore(dir.Sub(location + ".db"));
  EXPECT_THAT(store, IsOk());
  if (!store.ok()) return nullptr;
  return std::move(store).value();
}

// One store a location, shared by every handle opened on it.
std::shared_ptr<vaultstore::RecordStore> OpenMemory(const std::string& location) {
  static std::map<std::string, std::shared_ptr<MemoryRecordStore>> stores;
  auto& store = stores[location];
  if (!store) store = std::make_shared<MemoryRecordStore>();
  return store;
}

INSTANTIATE_TEST_SUITE_P(Stores, RecordStoreConformance,
                         ::testing::Values(RecordStoreTarget{"sqlite", OpenSqlite},
                                           RecordStoreTarget{"memory", OpenMemory}),
                         RecordStoreTargetName);

}  // namespace
}  // namespace chatvault::testing

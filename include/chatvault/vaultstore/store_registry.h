// Opens a RecordStore from a --store flag value, so keyvaultd can run on any backend that
// registered itself:
//
//   sqlite:/var/lib/keyvaultd/records.db   built in (sqlite_record_store.h)
//   etcd://127.0.0.1:2379,127.0.0.1:2479   registered by the etcd area
//
// A backend registers its scheme from a static initializer in its own library; binaries that
// must see it link that library whole (CMake: $<LINK_LIBRARY:WHOLE_ARCHIVE,...>).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "chatvault/common/status.h"
#include "chatvault/vaultstore/record_store.h"

namespace chatvault::vaultstore {

// Receives the whole spec, scheme included ("etcd://a:1,b:2").
using StoreFactory = std::function<Result<std::unique_ptr<RecordStore>>(std::string_view spec)>;

// `scheme` is the text before the first ':' ("etcd", "sqlite"). Returns true so it can
// initialize a static: `static const bool kReg = RegisterStoreScheme("etcd", ...);`
bool RegisterStoreScheme(std::string scheme, StoreFactory factory);

// The schemes this binary can open, "sqlite" first (for --version).
std::vector<std::string> RegisteredStoreSchemes();

// kInvalidArgument for a spec without a scheme, kUnsupported for a scheme nobody registered.
Result<std::unique_ptr<RecordStore>> OpenRecordStore(std::string_view spec);

}  // namespace chatvault::vaultstore

#include "chatvault/vaultstore/store_registry.h"

#include <optional>
#include <string>
#include <vector>

#include "chatvault/common/scheme_registry.h"
#include "chatvault/vaultstore/sqlite_record_store.h"

namespace chatvault::vaultstore {
namespace {

using Registry = SchemeRegistry<StoreFactory>;

}  // namespace

bool RegisterStoreScheme(std::string scheme, StoreFactory factory) {
  Registry::Instance().Register(std::move(scheme), std::move(factory));
  return true;
}

std::vector<std::string> RegisteredStoreSchemes() {
  std::vector<std::string> schemes = {"sqlite"};
  for (std::string& scheme : Registry::Instance().Schemes()) {
    if (scheme != "sqlite") schemes.push_back(std::move(scheme));
  }
  return schemes;
}

Result<std::unique_ptr<RecordStore>> OpenRecordStore(std::string_view spec) {
  const size_t colon = spec.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    return InvalidArgument("a record store is given as scheme:location, as in sqlite:/path/records.db "
                           "or etcd://host:port,host:port");
  }
  const std::string_view scheme = spec.substr(0, colon);
  // Built in, so it works even when this library is not linked whole.
  if (scheme == "sqlite") return OpenSqliteRecordStore(std::string(spec.substr(colon + 1)));
  std::optional<StoreFactory> factory = Registry::Instance().Find(scheme);
  if (!factory) {
    return Unsupported("this build of keyvaultd has no record store for '" + std::string(scheme) +
                       "'");
  }
  return (*factory)(spec);
}

}  // namespace chatvault::vaultstore

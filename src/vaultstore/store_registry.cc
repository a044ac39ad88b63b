#include "chatvault/vaultstore/store_registry.h"

#include <map>
#include <mutex>

#include "chatvault/common/thread_annotations.h"
#include "chatvault/vaultstore/sqlite_record_store.h"

namespace chatvault::vaultstore {
namespace {

struct Registry {
  std::mutex mu;
  std::map<std::string, StoreFactory, std::less<>> factories CV_GUARDED_BY(mu);
};

Registry& GetRegistry() {
  static Registry* registry = new Registry;  // never destroyed: backends register from static init
  return *registry;
}

}  // namespace

bool RegisterStoreScheme(std::string scheme, StoreFactory factory) {
  Registry& r = GetRegistry();
  std::lock_guard<std::mutex> lock(r.mu);
  r.factories[std::move(scheme)] = std::move(factory);
  return true;
}

std::vector<std::string> RegisteredStoreSchemes() {
  std::vector<std::string> schemes = {"sqlite"};
  Registry& r = GetRegistry();
  std::lock_guard<std::mutex> lock(r.mu);
  for (const auto& [scheme, factory] : r.factories) {
    if (scheme != "sqlite") schemes.push_back(scheme);
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
  StoreFactory factory;
  {
    Registry& r = GetRegistry();
    std::lock_guard<std::mutex> lock(r.mu);
    auto it = r.factories.find(scheme);
    if (it == r.factories.end()) {
      return Unsupported("this build of keyvaultd has no record store for '" + std::string(scheme) +
                         "'");
    }
    factory = it->second;
  }
  return factory(spec);
}

}  // namespace chatvault::vaultstore

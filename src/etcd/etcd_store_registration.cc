#include "chatvault/etcd/etcd_record_store.h"
#include "chatvault/vaultstore/store_registry.h"

namespace chatvault::etcd {

bool RegisterEtcdRecordStore() {
  static const bool registered = vaultstore::RegisterStoreScheme(
      "etcd", [](std::string_view spec) -> Result<std::unique_ptr<vaultstore::RecordStore>> {
        CV_ASSIGN_OR_RETURN(EtcdOptions options, ParseEtcdSpec(spec));
        return OpenEtcdRecordStore(std::move(options));
      });
  return registered;
}

namespace {
// Runs when the binary links this library whole (keyvaultd does, for --store etcd://...).
[[maybe_unused]] const bool kRegistered = RegisterEtcdRecordStore();
}  // namespace

}  // namespace chatvault::etcd

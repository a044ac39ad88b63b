// A RecordStore replicated on an etcd v3 cluster (3 or 5 members), so vault records and guess
// counters survive the loss of a member or a site.
//
// Every write is one etcd transaction that compares the key's mod_revision with the version the
// caller read (or version == 0 for "absent"), so two keyvaultd instances can never both spend the
// same guess. Reads are linearizable (they go through the raft leader), so a member cut off from
// the majority answers kUnavailable rather than an old value.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "chatvault/common/status.h"
#include "chatvault/vaultstore/record_store.h"

namespace chatvault::etcd {

struct EtcdOptions {
  // "host:port" of each member's client URL; tried in turn when one stops answering.
  std::vector<std::string> endpoints;
  // Every record key is stored under this prefix, so one cluster can serve several vaults.
  std::string key_prefix = "chatvault/vault/";
  // How long one member gets to answer one request before the next member is tried.
  std::chrono::milliseconds attempt_timeout{1500};
  // How long an operation keeps trying (across members and re-elections) before kUnavailable.
  std::chrono::milliseconds operation_timeout{6000};
  // TLS: all empty means plaintext (loopback tests only). ca_file alone: server auth only.
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
};

// Parses
// "etcd://host:port,host:port[/key/prefix/][?timeout_ms=N&attempt_ms=N&cacert=F&cert=F&key=F]".
Result<EtcdOptions> ParseEtcdSpec(std::string_view spec);

// Does not contact the cluster (keyvaultd may start before etcd); call Health() for that.
Result<std::unique_ptr<vaultstore::RecordStore>> OpenEtcdRecordStore(EtcdOptions options);

// Registers the "etcd" scheme with vaultstore::OpenRecordStore. Safe to call more than once.
// The library also does this from a static initializer, which only runs when the binary links
// chatvault_etcd whole; calling this explicitly works either way.
bool RegisterEtcdRecordStore();

}  // namespace chatvault::etcd

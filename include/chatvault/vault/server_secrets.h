// The vault's long-term secrets: the OPAQUE server setup (OPRF seed and AKE private key) and the
// record-sealing key. They live in the record store only wrapped by the HSM's master key, so a
// copy of the store without the HSM reveals nothing; every vault instance sharing the store (and
// the token) ends up with the same secrets.
#pragma once

#include "chatvault/common/status.h"
#include "chatvault/crypto/secret.h"
#include "chatvault/opaque/server.h"
#include "chatvault/vault/hsm.h"
#include "chatvault/vaultstore/record_store.h"

namespace chatvault::vault {

struct ServerSecrets {
  opaque::ServerSetup setup;
  crypto::Secret sealing_key;
};

// Reads and unwraps the secrets, or on first start generates, wraps and stores them (a
// compare-and-set, so two instances starting together agree on one set).
Result<ServerSecrets> LoadOrCreateServerSecrets(vaultstore::RecordStore& store, Hsm& hsm);

// Reads and unwraps the secrets, never creating them: kNotFound when the store has none (an
// operator's tool pointed at the wrong store, or a store restored from something else).
Result<ServerSecrets> LoadServerSecrets(vaultstore::RecordStore& store, Hsm& hsm);

}  // namespace chatvault::vault

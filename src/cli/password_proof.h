// Setting a password (init --password, password change|reset) completes only after the user
// shows they remember it: a real recover round trip against the vault must return K.
#pragma once

#include <string>

#include "chatvault/common/status.h"
#include "chatvault/key/backup_key.h"
#include "chatvault/vaultclient/vault_client.h"
#include "cli/key_source.h"

namespace chatvault::cli {

// Asks for the password again (up to three times) and recovers K with it; from a script the
// given `password` is used once more.
Status ProvePassword(vaultclient::VaultClient& vault, const std::string& account,
                     const key::BackupKey& key, const VaultFlags& flags,
                     const std::string& password);

}  // namespace chatvault::cli

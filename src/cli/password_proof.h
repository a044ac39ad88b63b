// Setting a password (init --password, password change|reset). The user types the new password,
// types it again, and types it once more to show they remember it; all three are compared on this
// device, so a typo costs no vault guess and only a password typed the same way each time is
// registered. Then one login with that password must return K: the proof that the vault works.
#pragma once

#include <string>

#include "chatvault/common/status.h"
#include "chatvault/key/backup_key.h"
#include "chatvault/vaultclient/vault_client.h"
#include "cli/key_source.h"

namespace chatvault::cli {

// The new password from the flags' file or CHATVAULT_PASSWORD (read once), or typed three times
// as above. kInvalidArgument when the typings never matched (nothing was sent anywhere).
Result<std::string> ChooseNewPassword(const VaultFlags& flags);

// A login with `password`, just registered, must give back `key`.
Status ProvePassword(vaultclient::VaultClient& vault, const std::string& account,
                     const key::BackupKey& key, const std::string& password);

}  // namespace chatvault::cli

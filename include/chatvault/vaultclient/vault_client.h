// The client side of the Backup Key Vault: keeps the backup key K behind a password.
//
// Register: OPAQUE registration; K is wrapped (AES-256-GCM) under a key derived from the OPAQUE
// export key, which the vault never learns, and uploaded with the record. Recover: OPAQUE login;
// after a valid KE3 the vault returns the wrapped K and only this client can unwrap it.
// Every request goes over HTTPS to a vault whose certificate (or CA) the caller pins.
#pragma once

#include <memory>
#include <string>

#include "chatvault/common/status.h"
#include "chatvault/key/backup_key.h"
#include "chatvault/opaque/ksf.h"

namespace chatvault::vaultclient {

struct VaultAddress {
  std::string url;      // https://host:port
  std::string ca_file;  // PEM CA or the vault's self-signed certificate; empty: system CAs
};

struct ClientOptions {
  // Registration refuses a vault that asks for weaker Argon2id than the default (a malicious vault
  // could otherwise make a stolen record cheap to attack). Tests set this to use tiny parameters.
  bool allow_weak_ksf = false;
};

struct RecoverResult {
  key::BackupKey key;
  uint32_t attempts_remaining = 0;  // after this (successful) login: the full allowance
};

class VaultClient {
 public:
  static Result<std::unique_ptr<VaultClient>> Connect(const VaultAddress& address,
                                                      ClientOptions options = {});
  virtual ~VaultClient() = default;

  // Creates the account's record, or replaces it (password change/reset, re-registration after a
  // lockout): replacing proves, with a value derived from `key`, that this device holds K.
  virtual Status Register(std::string_view account, std::string_view token,
                          std::string_view password, const key::BackupKey& key) = 0;

  // kPermissionDenied "wrong password; N attempts remain" (also for an unknown account),
  // kLockedOut when the record was destroyed.
  virtual Result<RecoverResult> Recover(std::string_view account, std::string_view password) = 0;

  virtual Status Delete(std::string_view account, std::string_view token,
                        const key::BackupKey& key) = 0;

  virtual Status Health() = 0;
};

// Password rules for new passwords: at least 6 characters with a letter and a digit.
Status CheckPasswordRules(std::string_view password);

}  // namespace chatvault::vaultclient

// The client side of the Backup Key Vault: keeps the backup key K behind a password.
//
// Register: OPAQUE registration; K is wrapped (AES-256-GCM) under a key derived from the OPAQUE
// export key, which the vault never learns, and uploaded with the record. Replacing or deleting a
// record is signed with the device key derived from K over a fresh vault challenge. Recover:
// OPAQUE login; after a valid KE3 the vault returns the wrapped K and only this client can unwrap
// it. Every request goes over HTTPS to a vault whose certificate (or CA) the caller pins, and
// every request is safe to repeat, so a dropped connection or a busy vault is retried with the
// same request (docs/API.md, "Retries") and never costs a second guess.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

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
  // How long one request keeps being retried while the vault is unreachable or busy.
  std::chrono::milliseconds retry_for{30'000};
  // Called between the two requests of a login, after the password was stretched (tests pause
  // here to play a slow phone).
  std::function<void()> before_finish;
};

struct RecoverResult {
  key::BackupKey key;
  uint32_t attempts_remaining = 0;  // after this (successful) login: the full allowance
  // The newest backup a device holding K reported to the vault (signature checked); nullopt when
  // none was reported.
  std::optional<uint64_t> backup_sequence;
  // Worth telling the user, not failing for: realms that could not be reached or answered
  // wrongly during a threshold recovery (one sentence each).
  std::vector<std::string> warnings;
};

// How a client reaches a vault: one request, one reply. kUnavailable when no reply came (refused,
// reset, timed out). HTTPS is the real transport; tests plug the vault's routes in directly.
class VaultTransport {
 public:
  struct Reply {
    long status = 0;
    std::string body;
  };
  virtual ~VaultTransport() = default;
  virtual Result<Reply> Send(const std::string& method, const std::string& path,
                             const std::string& body) = 0;
  // "the vault at https://host:port", for messages.
  virtual std::string Describe() const = 0;
};

// The real transport: HTTPS to `address` through libcurl, pinning its CA.
Result<std::unique_ptr<VaultTransport>> HttpsTransport(const VaultAddress& address);

class VaultClient {
 public:
  // HTTPS to `address`, pinning its CA.
  static Result<std::unique_ptr<VaultClient>> Connect(const VaultAddress& address,
                                                      ClientOptions options = {});
  static std::unique_ptr<VaultClient> Over(std::unique_ptr<VaultTransport> transport,
                                           ClientOptions options = {});
  virtual ~VaultClient() = default;

  // Creates the account's record, or replaces it (password change/reset, re-registration after a
  // lockout): replacing is signed with the device key derived from `key`. kAlreadyExists when the
  // account has a record made with another backup key.
  virtual Status Register(std::string_view account, std::string_view token,
                          std::string_view password, const key::BackupKey& key) = 0;

  // kPermissionDenied "wrong password; N attempts remain" (also for an unknown account),
  // kLockedOut when the record was destroyed.
  virtual Result<RecoverResult> Recover(std::string_view account, std::string_view password) = 0;

  // Deletes the record (signed with the device key). kNotFound when there is none.
  virtual Status Delete(std::string_view account, std::string_view token,
                        const key::BackupKey& key) = 0;

  // Tells the vault the newest backup this device committed, signed with the device key, so a
  // new phone that recovers K can tell an old copy of the backup from the newest one.
  virtual Status SetBackupSequence(std::string_view account, const key::BackupKey& key,
                                   uint64_t sequence) = 0;

  virtual Status Health() = 0;
};

// Password rules for new passwords: at least 6 characters with a letter and a digit.
Status CheckPasswordRules(std::string_view password);

}  // namespace chatvault::vaultclient

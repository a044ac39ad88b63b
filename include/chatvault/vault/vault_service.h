// The Backup Key Vault's logic, independent of HTTP: registration, recovery with guess counting,
// deletion. See docs/API.md for the protocol and docs/SECURITY.md for why it is shaped this way.
//
// Guess counting: RecoverStart numbers the guess and persists it with a compare-and-set BEFORE
// it returns KE2, so a client that disconnects after KE2 has still spent its guess. A retried
// KE1 is answered from the guess it already spent. Only a valid KE3 settles guesses, and only
// those up to its own: guesses started after it still count, and its KE3 resets nothing a second
// time. At the limit no new guess is counted; once no counted guess can still be settled (each
// ended with a wrong KE3, or its session expired), the record is replaced by a tombstone: the
// OPAQUE record and wrapped key are gone.
//
// Replacing and deleting a record take a signature by the device key (derived from K) over a
// challenge bound to the record's current store version (vaultproto/signed_request.h), so no
// captured request can be replayed once the record changed.
//
// The service keeps no state between requests: challenges and login sessions are sealed and
// carried by the client, so any number of instances can share one record store.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "chatvault/common/status.h"
#include "chatvault/crypto/secret.h"
#include "chatvault/opaque/server.h"
#include "chatvault/vault/account_record.h"
#include "chatvault/vault/account_token.h"
#include "chatvault/vault/audit_log.h"
#include "chatvault/vault/metrics.h"
#include "chatvault/vaultstore/record_store.h"

namespace chatvault::vault {

struct VaultOptions {
  uint32_t max_guesses = 10;
  // Handed to registering clients, and shown in fake replies so they look like real ones.
  opaque::KsfParams ksf = opaque::KsfParams::Default();
  // How long a client may take between KE2 and KE3 (a slow phone stretching its password).
  std::chrono::seconds login_ttl{600};
  // How long a challenge stays good (registration stretches the password in between).
  std::chrono::seconds challenge_ttl{600};
  // The clock, in Unix seconds; tests move it.
  std::function<int64_t()> now_unix;
};

struct LoginSession;
class VaultCore;
template <typename Record>
struct Loaded;

// Validates an account id: 1..128 characters of [A-Za-z0-9._@+:-].
Status CheckAccountId(std::string_view account);

// What every request that may create, replace or delete a record carries (docs/API.md).
struct SignedRequest {
  std::string account;
  std::string token;  // the chat service's account token
  Bytes challenge;    // from Challenge()
  Bytes proof;        // Ed25519 signature by the device key; may be empty for a new account
  std::string request_id;  // for the audit log
};

struct RegisterStartReply {
  opaque::RegistrationResponse response;
  opaque::KsfParams ksf;  // what the vault asks the client to stretch with
};

struct RegisterUpload {
  opaque::RegistrationRecord record;
  opaque::KsfParams ksf;
  Bytes wrapped_key;
  crypto::VerifyKey device_key{};
};

struct RecoverStartReply {
  std::string session;  // sealed; pass back to RecoverFinish
  opaque::KE2 ke2;
  opaque::KsfParams ksf;
  uint32_t attempts_remaining = 0;  // if this guess turns out wrong
};

struct RecoverFinishReply {
  bool ok = false;  // false: wrong password (or unknown account)
  Bytes wrapped_key;  // when ok
  uint32_t attempts_remaining = 0;
  BackupSequence backup_sequence;  // when ok: the newest backup the device reported
};

class VaultService {
 public:
  // `master_secret` is the key the HSM unwraps; every other key is derived from it. `audit` may
  // be null (no audit log); every security event is recorded there before it is answered.
  VaultService(vaultstore::RecordStore& store, opaque::ServerSetup setup,
               const crypto::Secret& master_secret, TokenKeys token_keys, VaultOptions options,
               Metrics& metrics, AuditLog* audit = nullptr);

  // The key of the account hashes in the audit log (derived from the master secret).
  static crypto::Secret AuditAccountKey(const crypto::Secret& master_secret);
  ~VaultService();

  // Replaces the account-token keys for every request that starts from now on (SIGHUP): tokens
  // of a key still listed stay valid, so adding and retiring keys logs nobody out.
  void SetTokenKeys(TokenKeys keys);

  // A challenge for the account's record as it is now (token required).
  Result<Bytes> Challenge(std::string_view account, std::string_view token,
                          std::string_view request_id = {});

  // Registration needs a valid token and a fresh challenge. When the account already has a record
  // or a tombstone it also needs a proof by that record's device key (kAlreadyExists otherwise:
  // the record was made with another backup key); a new record needs a proof by the key it
  // registers (kPermissionDenied otherwise). kConflict when the record changed since
  // the challenge (start again). A retried RegisterFinish that was already applied succeeds.
  Result<RegisterStartReply> RegisterStart(const SignedRequest& request,
                                           const opaque::RegistrationRequest& registration);
  Status RegisterFinish(const SignedRequest& request, const RegisterUpload& upload);

  // kLockedOut once the record is gone. Unknown accounts get a fake KE2 whose finish always fails.
  // kUnavailable if the guess could not be persisted (then no KE2 leaves).
  Result<RecoverStartReply> RecoverStart(std::string_view account, const opaque::KE1& ke1,
                                         std::string_view request_id = {});
  // kNotFound for an unknown or expired session; kLockedOut when this wrong guess used the last
  // try; kConflict when the record was deleted or registered again meanwhile.
  Result<RecoverFinishReply> RecoverFinish(std::string_view session, const opaque::KE3& ke3,
                                           std::string_view request_id = {});

  // Deletes the record or tombstone (token, challenge, proof). kNotFound when there is none.
  Status Delete(const SignedRequest& request);

  // Records the newest backup the device committed, in a statement signed by its device key. A
  // lower or equal sequence changes nothing; kPermissionDenied for a bad signature.
  Status SetBackupSequence(std::string_view account, const BackupSequence& sequence,
                           std::string_view request_id = {});

  Status Health();

 private:
  using Account = Loaded<AccountRecord>;
  const VaultOptions& options() const;
  Result<std::optional<RecoverStartReply>> CountGuess(std::string_view account,
                                                      const opaque::KE1& ke1,
                                                      std::string_view request_id);
  Result<RecoverStartReply> StartReply(std::string_view account, const AccountRecord& record,
                                       uint64_t serial, const opaque::KE1& ke1);
  Result<RecoverStartReply> FakeStart(std::string_view account, const opaque::KE1& ke1);

  std::unique_ptr<VaultCore> core_;
  opaque::ServerSetup setup_;
};

}  // namespace chatvault::vault

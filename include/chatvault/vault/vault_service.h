// The Backup Key Vault's logic, independent of HTTP: registration, recovery with guess counting,
// deletion. See docs/API.md for the protocol and docs/SECURITY.md for why it is shaped this way.
//
// Guess counting: RecoverStart persists failed_guesses + 1 with a compare-and-set BEFORE it
// returns KE2, so a client that disconnects after KE2 has still spent its guess. Only a valid KE3
// resets the counter. When a guess is resolved wrong (or a new login starts) with the counter at
// the limit, the record is replaced by a tombstone: the OPAQUE record and wrapped key are gone.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "chatvault/common/status.h"
#include "chatvault/crypto/secret.h"
#include "chatvault/opaque/server.h"
#include "chatvault/vault/account_record.h"
#include "chatvault/vault/metrics.h"
#include "chatvault/vaultstore/record_store.h"

namespace chatvault::vault {

struct VaultOptions {
  uint32_t max_guesses = 10;
  // Handed to registering clients, and shown in fake replies so they look like real ones.
  opaque::KsfParams ksf = opaque::KsfParams::Default();
  std::chrono::seconds session_ttl{60};
  size_t max_pending_sessions = 100000;
};

// Validates an account id: 1..128 characters of [A-Za-z0-9._@+:-].
Status CheckAccountId(std::string_view account);

struct RegisterStartReply {
  opaque::RegistrationResponse response;
  opaque::KsfParams ksf;  // what the vault asks the client to stretch with
};

struct RegisterUpload {
  opaque::RegistrationRecord record;
  opaque::KsfParams ksf;
  Bytes wrapped_key;
  std::array<uint8_t, kVerifierSize> verifier{};
};

struct RecoverStartReply {
  std::string session;  // hex, pass back to RecoverFinish
  opaque::KE2 ke2;
  opaque::KsfParams ksf;
  uint32_t attempts_remaining = 0;  // if this guess turns out wrong
};

struct RecoverFinishReply {
  bool ok = false;          // false: wrong password (or unknown account)
  Bytes wrapped_key;        // when ok
  uint32_t attempts_remaining = 0;
};

class VaultService {
 public:
  VaultService(vaultstore::RecordStore& store, opaque::ServerSetup setup, crypto::Secret sealing_key,
               crypto::Secret token_secret, VaultOptions options, Metrics& metrics);
  ~VaultService();

  // Registration needs a valid account token; when the account already has a record or a
  // tombstone it also needs `proof` (32 bytes whose SHA-256 is the stored verifier), which only
  // a device holding K can compute. kPermissionDenied otherwise.
  Result<RegisterStartReply> RegisterStart(std::string_view account, std::string_view token,
                                           const opaque::RegistrationRequest& request,
                                           ByteView proof);
  Status RegisterFinish(std::string_view account, std::string_view token, ByteView proof,
                        const RegisterUpload& upload);

  // kLockedOut once the record is gone. Unknown accounts get a fake KE2 whose finish always fails.
  // kUnavailable if the guess could not be persisted (then no KE2 leaves).
  Result<RecoverStartReply> RecoverStart(std::string_view account, const opaque::KE1& ke1);
  // kNotFound for an unknown or expired session; kLockedOut when this wrong guess used the last try.
  Result<RecoverFinishReply> RecoverFinish(std::string_view session, const opaque::KE3& ke3);

  // Deletes the record or tombstone (token + proof). kNotFound when there is none.
  Status Delete(std::string_view account, std::string_view token, ByteView proof);

  Status Health();
  size_t PendingSessions();

 private:
  struct Pending;
  struct Loaded {
    AccountRecord record;
    uint64_t version = 0;
  };
  Result<std::optional<Loaded>> Load(const std::string& key);
  Result<uint64_t> Store(const std::string& key, uint64_t version, const AccountRecord& record);
  Status CheckOwner(std::string_view account, std::string_view token, ByteView proof,
                    const std::optional<Loaded>& existing);
  Status Tombstone(const std::string& key, Loaded loaded);
  Result<RecoverStartReply> FakeStart(std::string_view account, const opaque::KE1& ke1);
  std::string AddSession(std::unique_ptr<Pending> pending);

  vaultstore::RecordStore& store_;
  opaque::ServerSetup setup_;
  RecordSealer sealer_;
  crypto::Secret token_secret_;
  VaultOptions options_;
  Metrics& metrics_;
  std::mutex sessions_mu_;
  std::map<std::string, std::unique_ptr<Pending>, std::less<>> sessions_;
  uint64_t session_inserts_ = 0;  // expired sessions are swept every few thousand inserts
};

}  // namespace chatvault::vault

// One realm of the threshold recovery protocol (docs/REALMS.md): keyvaultd holding, per account,
// one share of an OPRF key and of an encryption scalar, each released only as the protocol
// allows, behind the same guess counter as the single vault.
//
// Register (token, challenge, device-key proof, as for the single vault) stores the share. Version
// tells which registration the realm holds. Evaluate counts the guess durably, then answers the
// client's blinded element with the share and a proof. Unlock checks the client's proof that it
// knows the unlock key, settles the counted guess and releases the encryption share, with the
// newest backup's number the device reported (SetBackupSequence, signed with its device key). The
// service keeps no state between requests: the session between Evaluate and Unlock is sealed.
#pragma once

#include <memory>
#include <string>

#include "chatvault/opaque/threshold_oprf.h"
#include "chatvault/vault/account_token.h"
#include "chatvault/vault/vault_service.h"
#include "chatvault/vaultproto/realm_protocol.h"

namespace chatvault::vault {

struct RealmRecord;

struct RealmVersionReply {
  vaultproto::realm::Version version{};
  uint8_t threshold = 0;
  uint8_t realms = 0;
  uint8_t index = 0;
  opaque::KsfParams ksf;
};

struct RealmEvaluateReply {
  opaque::EvaluatedShare evaluation;
  opaque::Element public_key{};
  crypto::VerifyKey verifying_key{};
  crypto::Signature share_signature{};
  uint8_t threshold = 0;
  uint8_t realms = 0;
  vaultproto::realm::Tag commitment{};
  uint32_t attempts_remaining = 0;  // if this guess turns out wrong
  std::string session;              // sealed; pass back to Unlock
};

struct RealmUnlockReply {
  bool ok = false;  // false: the proof was wrong (the password was wrong)
  std::array<uint8_t, 32> encryption_share{};
  Bytes wrapped_key;
  vaultproto::realm::Tag share_mac{};
  uint32_t attempts_remaining = 0;
  BackupSequence backup_sequence;  // when ok: the newest backup the device reported here
};

class RealmService {
 public:
  RealmService(vaultstore::RecordStore& store, const crypto::Secret& master_secret,
               TokenKeys token_keys, VaultOptions options, Metrics& metrics,
               AuditLog* audit = nullptr);
  ~RealmService();

  // As VaultService::SetTokenKeys (SIGHUP).
  void SetTokenKeys(TokenKeys keys);

  Result<Bytes> Challenge(std::string_view account, std::string_view token,
                          std::string_view request_id = {});
  // kAlreadyExists when the account has a share registered by another backup key's device;
  // kConflict when the record changed since the challenge. A retried registration that was
  // already applied succeeds.
  Status Register(const SignedRequest& request, const vaultproto::realm::RealmShare& share,
                  const crypto::VerifyKey& device_key);
  // kLockedOut when the share was destroyed. For an account the realm holds nothing for, the
  // version of a made-up share (src/vault/realm_fake.h), the same at every request.
  Result<RealmVersionReply> Version(std::string_view account);
  // Counts the guess, then evaluates. kConflict when the realm holds another version now. An
  // account the realm holds nothing for is evaluated with its made-up share, counting nothing;
  // its session unlocks nothing (ok = false, as a wrong password).
  Result<RealmEvaluateReply> Evaluate(std::string_view account,
                                      const vaultproto::realm::Version& version,
                                      const opaque::Element& blinded,
                                      std::string_view request_id = {});
  // ok = false (with the attempts left) for a wrong proof; kLockedOut when that used the last
  // open guess at the limit; kNotFound for an unknown or expired session.
  Result<RealmUnlockReply> Unlock(std::string_view session, const vaultproto::realm::Tag& proof,
                                  std::string_view request_id = {});
  Status Delete(const SignedRequest& request);
  // As VaultService::SetBackupSequence, except that an account the realm holds nothing for gets
  // the same kPermissionDenied as a bad signature, so the route does not tell which it holds.
  Status SetBackupSequence(std::string_view account, const BackupSequence& sequence,
                           std::string_view request_id = {});
  Status Health();

 private:
  std::unique_ptr<VaultCore> core_;
};

}  // namespace chatvault::vault

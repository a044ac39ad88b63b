// What the single vault (VaultService) and a realm (RealmService) share: sealed records in a
// compare-and-set store, account tokens, challenges bound to a record's version, device-key
// proofs, the clock, metrics and the audit log. Both services are thin layers of protocol over
// this; neither keeps state between requests.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "chatvault/common/mutex.h"
#include "chatvault/crypto/signature.h"
#include "chatvault/vault/account_token.h"
#include "chatvault/vault/audit_log.h"
#include "chatvault/vault/metrics.h"
#include "chatvault/vault/vault_service.h"
#include "chatvault/vaultproto/signed_request.h"
#include "chatvault/vaultstore/record_store.h"
#include "vault/challenge.h"
#include "vault/login_session.h"
#include "vault/sealed_box.h"

namespace chatvault::vault {

template <typename Record>
struct Loaded {
  Record record;
  uint64_t version = 0;
};

inline constexpr int kCasRetries = 64;

// Runs `attempt` until it does not lose a compare-and-set race: an attempt returns nullopt when
// another writer got to the record first and it must read the record again.
template <typename T, typename Attempt>
Result<T> RetryOnConflict(Attempt attempt) {
  for (int i = 0; i < kCasRetries; ++i) {
    Result<std::optional<T>> r = attempt();
    if (!r.ok()) return r.status();
    if (r->has_value()) return std::move(**r);
  }
  return Unavailable("the vault is too busy with this account; try again");
}

// The record changed since the request's challenge was issued (the client starts again).
Status StaleChallenge();
// A backup sequence statement that the account's device key did not sign.
Status UnsignedBackupSequence();

class VaultCore {
 public:
  // Every event this core audits is marked as about `audited` records.
  VaultCore(vaultstore::RecordStore& store, const crypto::Secret& master_secret,
            TokenKeys token_keys, const VaultOptions& options, Metrics& metrics, AuditLog* audit,
            AuditedRecord audited = AuditedRecord::kAccount);

  // Replaces the account-token keys for every request that starts from now on (SIGHUP): tokens
  // of a key still listed stay valid, so adding and retiring keys logs nobody out.
  void SetTokenKeys(TokenKeys keys);

  int64_t Now() const;
  Status Health() { return store_.Health(); }
  const VaultOptions& options() const { return options_; }
  Metrics& metrics() { return metrics_; }
  const LoginSessionSealer& sessions() const { return sessions_; }
  // A 32-byte seed for one login's server randomness: HMAC of `label` and `parts`.
  crypto::Secret LoginSeed(std::string_view label, std::initializer_list<ByteView> parts) const;

  // nullopt when there is no record; kCorrupted when it does not open under the vault's key.
  template <typename Record>
  Result<std::optional<Loaded<Record>>> Load(const std::string& store_key);
  // The new version once durable; kConflict when another writer got there first.
  template <typename Record>
  Result<uint64_t> Store(const std::string& store_key, uint64_t version, const Record& record);

  Status CheckToken(std::string_view account, std::string_view token, std::string_view request_id,
                    std::string_view what);
  // A challenge for the record under `store_key` as it is now (version 0: absent).
  Result<Bytes> IssueChallenge(const std::string& store_key, uint64_t version);
  // The /challenge route of either service: account and token checked, then a challenge for the
  // account's record of type Record under `store_key`.
  template <typename Record>
  Result<Bytes> ChallengeFor(std::string_view account, std::string_view token,
                             std::string_view request_id, const std::string& store_key);
  // Token, then challenge, then that the record is still at the challenge's version.
  template <typename Record>
  Result<std::optional<Loaded<Record>>> Authorize(const SignedRequest& request,
                                                  const std::string& store_key);
  // Whether `request.proof` is the device key's signature over this request (a failure is
  // counted and audited).
  bool SignedBy(const crypto::VerifyKey& key, const SignedRequest& request,
                vaultproto::Action action, ByteView payload);

  // The /backup-sequence route of either service: the statement must be the device key's
  // signature over the number, which only ever goes up. Without an active record, the same
  // kPermissionDenied as a bad signature.
  // A Record has active(), device_key and backup_sequence.
  template <typename Record>
  Status RaiseBackupSequence(const std::string& store_key, std::string_view account,
                             const BackupSequence& sequence, std::string_view request_id);

  // Writes the record of an authorized request (register, delete) over `version`: a writer that
  // got there first makes the request's challenge stale; another failure is annotated `what`.
  template <typename Record>
  Status StoreAuthorized(const std::string& store_key, uint64_t version, const Record& record,
                         std::string_view what);
  // Counts and audits a registration (`replaced`: over one of the same account), named by the
  // id that lets the audit replay tell it from others.
  Status AuditRegistration(bool replaced, const SignedRequest& request, ByteView registration);
  // The /delete route's last step for either service, after the request was authorized: the
  // record under `store_key` (at `version`) becomes a deletion, which keeps nothing of the user
  // and only keeps the store version moving forward; counted and audited.
  template <typename Record>
  Status StoreDeletion(const std::string& store_key, uint64_t version,
                       const SignedRequest& request);

  // Records an event before it is answered; kUnavailable when the log cannot be written.
  Status Audit(const AuditEvent& event);
  // Rejections are counted and logged; a failing log does not change the answer.
  void AuditRejection(AuditEventKind kind, std::string_view account, std::string_view request_id,
                      std::string_view reason);

 private:
  Result<std::optional<Loaded<Bytes>>> LoadPlain(const std::string& store_key);
  Result<uint64_t> StorePlain(const std::string& store_key, uint64_t version, ByteView plain);
  Result<uint64_t> CheckChallenge(const SignedRequest& request, const std::string& store_key);

  vaultstore::RecordStore& store_;
  VaultKeys keys_;
  RecordSealer records_;
  ChallengeIssuer challenges_;
  LoginSessionSealer sessions_;
  Mutex token_keys_mu_;
  // Swapped whole; readers keep their copy.
  std::shared_ptr<const TokenKeys> token_keys_ CV_GUARDED_BY(token_keys_mu_);
  VaultOptions options_;
  Metrics& metrics_;
  AuditLog* audit_;
  AuditedRecord audited_;
};

template <typename Record>
Result<std::optional<Loaded<Record>>> VaultCore::Load(const std::string& store_key) {
  CV_ASSIGN_OR_RETURN(std::optional<Loaded<Bytes>> plain, LoadPlain(store_key));
  if (!plain) return std::optional<Loaded<Record>>();
  CV_ASSIGN_OR_RETURN(Record record, Record::Parse(plain->record));
  return std::optional(Loaded<Record>{std::move(record), plain->version});
}

template <typename Record>
Result<uint64_t> VaultCore::Store(const std::string& store_key, uint64_t version,
                                  const Record& record) {
  return StorePlain(store_key, version, record.Serialize());
}

template <typename Record>
Result<Bytes> VaultCore::ChallengeFor(std::string_view account, std::string_view token,
                                      std::string_view request_id, const std::string& store_key) {
  CV_RETURN_IF_ERROR(CheckAccountId(account));
  CV_RETURN_IF_ERROR(CheckToken(account, token, request_id, "challenge"));
  CV_ASSIGN_OR_RETURN(std::optional<Loaded<Record>> loaded, Load<Record>(store_key));
  return IssueChallenge(store_key, loaded ? loaded->version : 0);
}

template <typename Record>
Result<std::optional<Loaded<Record>>> VaultCore::Authorize(const SignedRequest& request,
                                                           const std::string& store_key) {
  CV_RETURN_IF_ERROR(CheckAccountId(request.account));
  CV_RETURN_IF_ERROR(CheckToken(request.account, request.token, request.request_id, "request"));
  CV_ASSIGN_OR_RETURN(uint64_t version, CheckChallenge(request, store_key));
  CV_ASSIGN_OR_RETURN(std::optional<Loaded<Record>> loaded, Load<Record>(store_key));
  if ((loaded ? loaded->version : 0) != version) return StaleChallenge();
  return loaded;
}

template <typename Record>
Status VaultCore::StoreAuthorized(const std::string& store_key, uint64_t version,
                                  const Record& record, std::string_view what) {
  auto written = Store(store_key, version, record);
  if (written.ok()) return OkStatus();
  if (written.status().code() == Code::kConflict) return StaleChallenge();
  return what.empty() ? written.status() : written.status().Annotate(std::string(what));
}

template <typename Record>
Status VaultCore::StoreDeletion(const std::string& store_key, uint64_t version,
                                const SignedRequest& request) {
  Record deleted;
  deleted.state = Record::State::kDeleted;
  CV_RETURN_IF_ERROR(StoreAuthorized(store_key, version, deleted, ""));
  ++metrics_.deletions;
  return Audit(AuditEvent(AuditEventKind::kDeleted, request.account, request.request_id));
}

template <typename Record>
Status VaultCore::RaiseBackupSequence(const std::string& store_key, std::string_view account,
                                      const BackupSequence& sequence, std::string_view request_id) {
  const Bytes message = vaultproto::BackupSequenceMessage(account, sequence.sequence);
  Result<bool> done = RetryOnConflict<bool>([&]() -> Result<std::optional<bool>> {
    CV_ASSIGN_OR_RETURN(std::optional<Loaded<Record>> loaded, Load<Record>(store_key));
    // No record answers as a bad signature does: the route takes no token, so a different
    // answer would tell anyone which accounts are registered (the login's fake KE2 hides that).
    if (!loaded || !loaded->record.active()) {
      AuditRejection(AuditEventKind::kProofRejected, account, request_id, "sequence, no record");
      return UnsignedBackupSequence();
    }
    if (!crypto::VerifySignature(loaded->record.device_key, message, sequence.signature)) {
      AuditRejection(AuditEventKind::kProofRejected, account, request_id, "sequence signature");
      return UnsignedBackupSequence();
    }
    if (sequence.sequence <= loaded->record.backup_sequence.sequence) return std::optional(true);
    loaded->record.backup_sequence = sequence;
    auto written = Store(store_key, loaded->version, loaded->record);
    if (!written.ok() && written.status().code() == Code::kConflict) return std::optional<bool>();
    if (!written.ok()) return written.status();
    AuditEvent event(AuditEventKind::kBackupSequence, account, request_id);
    event.sequence = sequence.sequence;
    CV_RETURN_IF_ERROR(Audit(event));
    return std::optional(true);
  });
  return done.ok() ? OkStatus() : done.status();
}

}  // namespace chatvault::vault

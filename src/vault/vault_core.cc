#include "vault/vault_core.h"

#include <ctime>

#include "chatvault/crypto/hash.h"
#include "chatvault/vault/account_token.h"

namespace chatvault::vault {

Status StaleChallenge() {
  return Conflict("the vault record changed since this request's challenge; start again");
}

Status UnsignedBackupSequence() {
  return PermissionDenied(
      "the vault holds no record for this account whose device key signed this backup sequence");
}

VaultCore::VaultCore(vaultstore::RecordStore& store, const crypto::Secret& master_secret,
                     TokenKeys token_keys, const VaultOptions& options, Metrics& metrics,
                     AuditLog* audit, AuditedRecord audited)
    : store_(store),
      keys_(VaultKeys::Derive(master_secret)),
      records_(keys_.record.Clone()),
      challenges_(keys_.challenge.Clone(), options.challenge_ttl),
      sessions_(keys_.login.Clone(), options.login_ttl),
      token_keys_(std::make_shared<const TokenKeys>(std::move(token_keys))),
      options_(options),
      metrics_(metrics),
      audit_(audit),
      audited_(audited) {}

int64_t VaultCore::Now() const {
  return options_.now_unix ? options_.now_unix() : static_cast<int64_t>(std::time(nullptr));
}

crypto::Secret VaultCore::LoginSeed(std::string_view label,
                                    std::initializer_list<ByteView> parts) const {
  Bytes input = ToBytes("chatvault/v1/vault-login-seed/");
  Append(input, AsBytes(label));
  for (ByteView part : parts) {
    AppendU16BE(input, static_cast<uint16_t>(part.size()));
    Append(input, part);
  }
  return crypto::Secret::FromBytes(crypto::HmacSha256(keys_.login_seed.view(), input));
}

Result<std::optional<Loaded<Bytes>>> VaultCore::LoadPlain(const std::string& store_key) {
  auto got = store_.Get(store_key);
  if (!got.ok()) {
    ++metrics_.store_errors;
    return got.status();
  }
  if (!got->has_value()) return std::optional<Loaded<Bytes>>();
  CV_ASSIGN_OR_RETURN(Bytes plain, records_.Open(store_key, (*got)->value));
  return std::optional(Loaded<Bytes>{std::move(plain), (*got)->version});
}

Result<uint64_t> VaultCore::StorePlain(const std::string& store_key, uint64_t version,
                                       ByteView plain) {
  CV_ASSIGN_OR_RETURN(Bytes sealed, records_.Seal(store_key, plain));
  auto written = store_.CompareAndSet(store_key, version, sealed);
  if (!written.ok()) {
    if (written.status().code() == Code::kConflict) {
      ++metrics_.store_conflicts;
    } else {
      ++metrics_.store_errors;
    }
  }
  return written;
}

void VaultCore::SetTokenKeys(TokenKeys keys) {
  auto fresh = std::make_shared<const TokenKeys>(std::move(keys));
  MutexLock lock(token_keys_mu_);
  token_keys_.swap(fresh);
}

Status VaultCore::CheckToken(std::string_view account, std::string_view token,
                             std::string_view request_id, std::string_view what) {
  std::shared_ptr<const TokenKeys> keys;
  {
    MutexLock lock(token_keys_mu_);
    keys = token_keys_;
  }
  Status s = keys->Verify(account, token, Now());
  if (!s.ok()) AuditRejection(AuditEventKind::kTokenRejected, account, request_id, what);
  return s;
}

Result<Bytes> VaultCore::IssueChallenge(const std::string& store_key, uint64_t version) {
  return challenges_.Issue(store_key, version, Now());
}

Result<uint64_t> VaultCore::CheckChallenge(const SignedRequest& request,
                                           const std::string& store_key) {
  auto version = challenges_.Check(store_key, request.challenge, Now());
  if (!version.ok()) {
    AuditRejection(
        AuditEventKind::kProofRejected, request.account, request.request_id,
        version.status().code() == Code::kConflict ? "challenge expired" : "challenge not ours");
  }
  return version;
}

bool VaultCore::SignedBy(const crypto::VerifyKey& key, const SignedRequest& request,
                         vaultproto::Action action, ByteView payload) {
  const Bytes message =
      vaultproto::RequestMessage(action, request.account, request.challenge, payload);
  if (crypto::VerifySignature(key, message, request.proof)) return true;
  AuditRejection(AuditEventKind::kProofRejected, request.account, request.request_id,
                 request.proof.empty() ? "no proof" : "signature");
  return false;
}

Status VaultCore::AuditRegistration(bool replaced, const SignedRequest& request,
                                    ByteView registration) {
  ++metrics_.registrations;
  const AuditEventKind kind = replaced ? AuditEventKind::kReplaced : AuditEventKind::kRegistered;
  return Audit(AuditEvent(kind, request.account, request.request_id).Registration(registration));
}

Status VaultCore::Audit(const AuditEvent& event) {
  if (!audit_) return OkStatus();
  AuditEvent marked = event;
  marked.record = audited_;
  Status s = audit_->Record(marked);
  if (s.ok()) return s;
  // The effect is in the store but may not be acknowledged unlogged: the client retries, and the
  // retry is answered from what was stored (and logged then).
  return Unavailable(s.message());
}

void VaultCore::AuditRejection(AuditEventKind kind, std::string_view account,
                               std::string_view request_id, std::string_view reason) {
  ++metrics_.rejected_requests;
  (void)Audit(AuditEvent(kind, account, request_id).Because(reason));
}

}  // namespace chatvault::vault

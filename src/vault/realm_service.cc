#include "chatvault/vault/realm_service.h"

#include "chatvault/crypto/hash.h"
#include "chatvault/crypto/secret.h"
#include "vault/guess_keeping.h"
#include "vault/realm_fake.h"
#include "vault/realm_record.h"
#include "vault/vault_core.h"

namespace chatvault::vault {

namespace {

using vaultproto::Action;
using vaultproto::realm::RealmShare;
using Realm = Loaded<RealmRecord>;

Status ShareExists() {
  return AlreadyExists(
      "this realm holds a share for this account registered with another backup key; replacing "
      "it needs the device that holds that key");
}

Bytes RegisterPayload(const RealmShare& share, const crypto::VerifyKey& device_key) {
  Bytes payload = share.Serialize();
  Append(payload, device_key);
  return payload;
}

bool Owned(const std::optional<Realm>& existing) {
  return existing && existing->record.state != RealmRecord::State::kDeleted;
}

// What a realm can check of a share it is given: the password stretching is real, the secrets
// are scalars, the public key is the OPRF share's, the wrapped key has the right size.
Status CheckShare(const RealmShare& share) {
  CV_RETURN_IF_ERROR(share.ksf.Validate());
  if (share.ksf.algorithm != opaque::KsfAlgorithm::kArgon2id) {
    return InvalidArgument("a realm share must be protected by Argon2id");
  }
  const crypto::Secret oprf_share = crypto::Secret::FromBytes(share.oprf_share);
  auto public_key = opaque::PublicKeyOf(oprf_share);
  if (!public_key.ok() || *public_key != share.public_key) {
    return InvalidArgument("the share's public key is not its OPRF share's");
  }
  if (!opaque::IsScalar(share.oprf_share) || !opaque::IsScalar(share.encryption_share)) {
    return InvalidArgument("a realm share holds a value that is not a scalar");
  }
  if (share.wrapped_key.size() != vaultproto::realm::kWrappedKeySize) {
    return InvalidArgument("the wrapped key has the wrong size");
  }
  return OkStatus();
}

opaque::ScalarShare OprfShareOf(const RealmShare& share) {
  return opaque::ScalarShare{share.index, crypto::Secret::FromBytes(share.oprf_share)};
}

RealmVersionReply VersionOf(const RealmShare& share) {
  return RealmVersionReply{share.version, share.threshold, share.realms, share.index, share.ksf};
}

// The share's evaluation of `blinded`, with what the client checks it against and the sealed
// session that unlocks it.
Result<RealmEvaluateReply> Evaluation(VaultCore& core, const RealmShare& share,
                                      const opaque::Element& blinded, const LoginSession& session,
                                      uint32_t attempts_remaining) {
  RealmEvaluateReply reply;
  CV_ASSIGN_OR_RETURN(reply.evaluation, opaque::EvaluateShare(OprfShareOf(share), blinded));
  reply.public_key = share.public_key;
  reply.verifying_key = share.verifying_key;
  reply.share_signature = share.share_signature;
  reply.threshold = share.threshold;
  reply.realms = share.realms;
  reply.commitment = share.commitment;
  reply.attempts_remaining = attempts_remaining;
  CV_ASSIGN_OR_RETURN(reply.session,
                      core.sessions().Seal(SessionPurpose::kRealmUnlock, session, core.Now()));
  return reply;
}

// An account the realm holds nothing for is evaluated with its made-up share, as the single
// vault answers such a login with a fake KE2: no guess is counted and no unlock can succeed.
Result<RealmEvaluateReply> FakeEvaluation(VaultCore& core, std::string_view account,
                                          const vaultproto::realm::Version& version,
                                          const opaque::Element& blinded) {
  CV_ASSIGN_OR_RETURN(RealmShare fake, FakeShare(core, account, core.options().ksf));
  if (fake.version != version) return AnotherRegistration();
  LoginSession session;
  session.fake = true;
  session.account = std::string(account);
  session.generation = fake.version;
  session.serial = 1;
  ++core.metrics().fake_logins;
  return Evaluation(core, fake, blinded, session, core.options().max_guesses - 1);
}

}  // namespace

RealmService::RealmService(vaultstore::RecordStore& store, const crypto::Secret& master_secret,
                           TokenKeys token_keys, VaultOptions options, Metrics& metrics,
                           AuditLog* audit)
    : core_(std::make_unique<VaultCore>(store, master_secret, std::move(token_keys), options,
                                        metrics, audit, AuditedRecord::kRealm)) {}

RealmService::~RealmService() = default;

void RealmService::SetTokenKeys(TokenKeys keys) { core_->SetTokenKeys(std::move(keys)); }

Result<Bytes> RealmService::Challenge(std::string_view account, std::string_view token,
                                      std::string_view request_id) {
  return core_->ChallengeFor<RealmRecord>(account, token, request_id, RealmStoreKey(account));
}

Status RealmService::Register(const SignedRequest& request, const RealmShare& share,
                              const crypto::VerifyKey& device_key) {
  CV_RETURN_IF_ERROR(CheckAccountId(request.account));
  CV_RETURN_IF_ERROR(CheckShare(share));
  const Bytes payload = RegisterPayload(share, device_key);
  std::array<uint8_t, 32> registration_id{};
  const Bytes digest = crypto::Sha256(payload);
  std::copy(digest.begin(), digest.end(), registration_id.begin());
  const std::string key = RealmStoreKey(request.account);
  auto authorized = core_->Authorize<RealmRecord>(request, key);
  if (!authorized.ok()) {
    // A retry of a registration that was applied (its answer was lost) finds the record it made.
    if (authorized.status().code() == Code::kConflict) {
      auto current = core_->Load<RealmRecord>(key);
      if (current.ok() && *current && (*current)->record.active() &&
          (*current)->record.registration_id == registration_id) {
        return OkStatus();
      }
    }
    return authorized.status();
  }
  const std::optional<Realm>& existing = *authorized;
  const bool owned = Owned(existing);
  if (!core_->SignedBy(owned ? existing->record.device_key : device_key, request,
                       Action::kRealmRegister, payload)) {
    return owned ? ShareExists() : PermissionDenied("the proof of the backup key does not verify");
  }
  RealmRecord record;
  record.version = share.version;
  record.device_key = device_key;
  record.registration_id = registration_id;
  if (owned && existing->record.device_key == device_key) {
    record.backup_sequence = existing->record.backup_sequence;  // same key: still its statement
  }
  record.share = share;
  CV_RETURN_IF_ERROR(core_->StoreAuthorized(key, existing ? existing->version : 0, record,
                                            "saving the realm share"));
  // The version names the registration, so the replay after a restore can tell it from others.
  return core_->AuditRegistration(owned, request, record.version);
}

Result<RealmVersionReply> RealmService::Version(std::string_view account) {
  CV_RETURN_IF_ERROR(CheckAccountId(account));
  CV_ASSIGN_OR_RETURN(std::optional<Realm> loaded,
                      core_->Load<RealmRecord>(RealmStoreKey(account)));
  if (!Owned(loaded)) {
    CV_ASSIGN_OR_RETURN(RealmShare fake, FakeShare(*core_, account, core_->options().ksf));
    return VersionOf(fake);
  }
  if (!loaded->record.active()) return LockedOutStatus();
  return VersionOf(loaded->record.share);
}

Result<RealmEvaluateReply> RealmService::Evaluate(std::string_view account,
                                                  const vaultproto::realm::Version& version,
                                                  const opaque::Element& blinded,
                                                  std::string_view request_id) {
  CV_RETURN_IF_ERROR(CheckAccountId(account));
  using Outcome = CountedGuessOutcome<RealmRecord>;
  const std::string key = RealmStoreKey(account);
  const RequestDigest digest = DigestOfRequest(blinded);
  CV_ASSIGN_OR_RETURN(Outcome outcome, (RetryOnConflict<Outcome>([&] {
                        return CountGuessOnce<RealmRecord>(*core_, key, digest, account, request_id,
                                                           &version);
                      })));
  if (outcome.kind == Outcome::Kind::kNoRecord) {
    return FakeEvaluation(*core_, account, version, blinded);
  }
  const RealmShare& share = outcome.record.share;
  LoginSession session;
  session.account = std::string(account);
  session.generation = share.version;
  session.serial = outcome.serial;
  const uint32_t left =
      outcome.record.guesses.AttemptsIfWrong(outcome.serial, core_->options().max_guesses);
  CV_ASSIGN_OR_RETURN(RealmEvaluateReply reply, Evaluation(*core_, share, blinded, session, left));
  AuditEvent event(AuditEventKind::kGuessCounted, account, request_id);
  event.Guess(outcome.serial, reply.attempts_remaining);
  if (outcome.kind == Outcome::Kind::kRepeated) event.Because("repeated request");
  CV_RETURN_IF_ERROR(core_->Audit(event));
  return reply;
}

Result<RealmUnlockReply> RealmService::Unlock(std::string_view session_text,
                                              const vaultproto::realm::Tag& proof,
                                              std::string_view request_id) {
  CV_ASSIGN_OR_RETURN(LoginSession session, core_->sessions().Open(SessionPurpose::kRealmUnlock,
                                                                   session_text, core_->Now()));
  if (session.fake) {  // an account the realm holds nothing for: as a wrong password
    ++core_->metrics().wrong_passwords;
    RealmUnlockReply reply;
    reply.attempts_remaining = core_->options().max_guesses - 1;
    return reply;
  }
  auto proves_password = [&](const RealmRecord& record) {
    const vaultproto::realm::Tag expected =
        vaultproto::realm::UnlockProof(record.share.unlock_tag, session_text);
    return crypto::ConstantTimeEqual(expected, proof);
  };
  using Outcome = SettledGuessOutcome<RealmRecord>;
  CV_ASSIGN_OR_RETURN(Outcome settled, (RetryOnConflict<Outcome>([&] {
                        return SettleGuessOnce<RealmRecord>(*core_, RealmStoreKey(session.account),
                                                            session, proves_password, request_id);
                      })));
  const uint32_t left = settled.record.guesses.AttemptsLeft(core_->options().max_guesses);
  RealmUnlockReply reply;
  reply.attempts_remaining = left;
  if (!settled.valid) return reply;
  const RealmShare& share = settled.record.share;
  reply.ok = true;
  reply.encryption_share = share.encryption_share;
  reply.wrapped_key = share.wrapped_key;
  reply.share_mac = share.share_mac;
  reply.backup_sequence = settled.record.backup_sequence;
  return reply;
}

Status RealmService::Delete(const SignedRequest& request) {
  const std::string key = RealmStoreKey(request.account);
  CV_ASSIGN_OR_RETURN(std::optional<Realm> existing, core_->Authorize<RealmRecord>(request, key));
  if (!Owned(existing)) return NotFound("this realm holds no share for this account");
  if (!core_->SignedBy(existing->record.device_key, request, Action::kRealmDelete, {})) {
    return PermissionDenied("the proof of the backup key does not verify for this account");
  }
  return core_->StoreDeletion<RealmRecord>(key, existing->version, request);
}

Status RealmService::SetBackupSequence(std::string_view account, const BackupSequence& sequence,
                                       std::string_view request_id) {
  CV_RETURN_IF_ERROR(CheckAccountId(account));
  return core_->RaiseBackupSequence<RealmRecord>(RealmStoreKey(account), account, sequence,
                                                 request_id);
}

Status RealmService::Health() { return core_->Health(); }

}  // namespace chatvault::vault

#include "chatvault/vault/vault_service.h"

#include <algorithm>
#include <ctime>

#include "chatvault/crypto/hash.h"
#include "chatvault/crypto/hkdf.h"
#include "chatvault/crypto/random.h"
#include "chatvault/vault/account_token.h"
#include "chatvault/vaultproto/signed_request.h"
#include "vault/guess_keeping.h"
#include "vault/vault_core.h"

namespace chatvault::vault {

using Account = Loaded<AccountRecord>;

namespace {

using vaultproto::Action;

Status RecordExists() {
  return AlreadyExists(
      "this account already has a vault record made with another backup key; replacing it needs "
      "the device that holds that key");
}

Status BadProof() {
  return PermissionDenied("the proof of the backup key does not verify for this account");
}

bool HasDeviceKey(const AccountRecord& record) {
  return record.state != AccountRecord::State::kDeleted;
}

}  // namespace

Status CheckAccountId(std::string_view account) {
  if (account.empty() || account.size() > 128) {
    return InvalidArgument("an account id is 1 to 128 characters");
  }
  for (char c : account) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '@' || c == '+' || c == ':' || c == '-';
    if (!ok) return InvalidArgument("an account id may only hold letters, digits and . _ @ + : -");
  }
  return OkStatus();
}

VaultService::VaultService(vaultstore::RecordStore& store, opaque::ServerSetup setup,
                           const crypto::Secret& master_secret, TokenKeys token_keys,
                           VaultOptions options, Metrics& metrics, AuditLog* audit)
    : core_(std::make_unique<VaultCore>(store, master_secret, std::move(token_keys), options,
                                        metrics, audit)),
      setup_(std::move(setup)) {}

VaultService::~VaultService() = default;

void VaultService::SetTokenKeys(TokenKeys keys) { core_->SetTokenKeys(std::move(keys)); }

crypto::Secret VaultService::AuditAccountKey(const crypto::Secret& master_secret) {
  return crypto::DeriveSubkey(master_secret, {}, "vault-audit-account-key");
}

const VaultOptions& VaultService::options() const { return core_->options(); }

Result<Bytes> VaultService::Challenge(std::string_view account, std::string_view token,
                                      std::string_view request_id) {
  return core_->ChallengeFor<AccountRecord>(account, token, request_id, AccountStoreKey(account));
}

Result<RegisterStartReply> VaultService::RegisterStart(
    const SignedRequest& request, const opaque::RegistrationRequest& registration) {
  // The owner check comes first: a registration response is an OPRF evaluation under the
  // account's key, which would otherwise be an uncounted password guess.
  CV_ASSIGN_OR_RETURN(std::optional<Account> existing,
                      core_->Authorize<AccountRecord>(request, AccountStoreKey(request.account)));
  if (existing && HasDeviceKey(existing->record)) {
    if (!core_->SignedBy(existing->record.device_key, request, Action::kRegisterStart,
                         vaultproto::RegisterStartPayload(registration))) {
      return RecordExists();
    }
  }
  CV_ASSIGN_OR_RETURN(opaque::RegistrationResponse response,
                      setup_.CreateRegistrationResponse(registration, AsBytes(request.account)));
  return RegisterStartReply{response, options().ksf};
}

Status VaultService::RegisterFinish(const SignedRequest& request, const RegisterUpload& upload) {
  CV_RETURN_IF_ERROR(CheckAccountId(request.account));
  if (upload.wrapped_key.empty() || upload.wrapped_key.size() > kMaxWrappedKeySize) {
    return InvalidArgument("the wrapped key must be 1 to 256 bytes");
  }
  if (upload.ksf.algorithm != opaque::KsfAlgorithm::kArgon2id) {
    return InvalidArgument("records must use Argon2id as their key stretching function");
  }
  CV_RETURN_IF_ERROR(upload.ksf.Validate());
  const Bytes payload = vaultproto::RegisterFinishPayload(upload.record, upload.ksf,
                                                          upload.wrapped_key, upload.device_key);
  std::array<uint8_t, kRegistrationIdSize> registration_id{};
  const Bytes digest = crypto::Sha256(payload);
  std::copy(digest.begin(), digest.end(), registration_id.begin());
  auto authorized = core_->Authorize<AccountRecord>(request, AccountStoreKey(request.account));
  if (!authorized.ok()) {
    // A retry of a registration that was applied (its answer was lost) finds the record it made.
    if (authorized.status().code() == Code::kConflict) {
      auto current = core_->Load<AccountRecord>(AccountStoreKey(request.account));
      if (current.ok() && *current && (*current)->record.active() &&
          (*current)->record.registration_id == registration_id) {
        return OkStatus();
      }
    }
    return authorized.status();
  }
  const std::optional<Account>& existing = *authorized;
  // Replacing needs the present owner's device key; a new record, proof that the device holds
  // the key it registers.
  const bool owned = existing && HasDeviceKey(existing->record);
  if (!core_->SignedBy(owned ? existing->record.device_key : upload.device_key, request,
                       Action::kRegisterFinish, payload)) {
    return owned ? RecordExists() : BadProof();
  }
  AccountRecord record;
  record.state = AccountRecord::State::kActive;
  crypto::RandomFill(record.generation);
  record.device_key = upload.device_key;
  record.registration_id = registration_id;
  if (owned && existing->record.device_key == upload.device_key) {
    record.backup_sequence = existing->record.backup_sequence;  // same key: still its statement
  }
  record.opaque_record = upload.record;
  record.ksf = upload.ksf;
  record.wrapped_key = upload.wrapped_key;
  CV_RETURN_IF_ERROR(core_->StoreAuthorized(AccountStoreKey(request.account),
                                            existing ? existing->version : 0, record,
                                            "saving the vault record"));
  return core_->AuditRegistration(existing.has_value(), request, record.generation);
}

Result<RecoverStartReply> VaultService::StartReply(std::string_view account,
                                                   const AccountRecord& record, uint64_t serial,
                                                   const opaque::KE1& ke1) {
  const crypto::Secret seed =
      core_->LoginSeed("real", {record.generation, AsBytes(account), ke1.Serialize()});
  CV_ASSIGN_OR_RETURN(opaque::ServerLogin login,
                      setup_.StartLoginSeeded(record.opaque_record, AsBytes(account), ke1, seed));
  LoginSession session;
  session.account = std::string(account);
  session.generation = record.generation;
  session.serial = serial;
  session.server_state = login.SerializeState();
  RecoverStartReply reply;
  CV_ASSIGN_OR_RETURN(reply.session,
                      core_->sessions().Seal(SessionPurpose::kOpaqueLogin, session, core_->Now()));
  reply.ke2 = login.ke2();
  reply.ksf = record.ksf;
  reply.attempts_remaining = record.guesses.AttemptsIfWrong(serial, options().max_guesses);
  return reply;
}

Result<RecoverStartReply> VaultService::FakeStart(std::string_view account, const opaque::KE1& ke1) {
  const crypto::Secret seed = core_->LoginSeed("fake", {AsBytes(account), ke1.Serialize()});
  CV_ASSIGN_OR_RETURN(opaque::ServerLogin login,
                      setup_.StartFakeLoginSeeded(AsBytes(account), ke1, seed));
  LoginSession session;
  session.fake = true;
  session.account = std::string(account);
  session.server_state = login.SerializeState();
  RecoverStartReply reply;
  CV_ASSIGN_OR_RETURN(reply.session,
                      core_->sessions().Seal(SessionPurpose::kOpaqueLogin, session, core_->Now()));
  reply.ke2 = login.ke2();
  reply.ksf = options().ksf;
  reply.attempts_remaining = options().max_guesses - 1;
  ++core_->metrics().fake_logins;
  return reply;
}

// One attempt at counting a guess; nullopt when another writer changed the record first.
Result<std::optional<RecoverStartReply>> VaultService::CountGuess(std::string_view account,
                                                                  const opaque::KE1& ke1,
                                                                  std::string_view request_id) {
  using Outcome = CountedGuessOutcome<AccountRecord>;
  CV_ASSIGN_OR_RETURN(
      std::optional<Outcome> outcome,
      CountGuessOnce<AccountRecord>(*core_, AccountStoreKey(account),
                                    DigestOfRequest(ke1.Serialize()), account, request_id));
  if (!outcome) return std::optional<RecoverStartReply>();
  if (outcome->kind == Outcome::Kind::kNoRecord) {
    CV_ASSIGN_OR_RETURN(RecoverStartReply fake, FakeStart(account, ke1));
    return std::optional(std::move(fake));
  }
  // A repeated KE1 (its answer was lost) gets the same KE2 from the guess it already spent.
  CV_ASSIGN_OR_RETURN(RecoverStartReply reply,
                      StartReply(account, outcome->record, outcome->serial, ke1));
  AuditEvent event(AuditEventKind::kGuessCounted, account, request_id);
  event.Guess(outcome->serial, reply.attempts_remaining);
  if (outcome->kind == Outcome::Kind::kRepeated) event.Because("repeated request");
  CV_RETURN_IF_ERROR(core_->Audit(event));
  return std::optional(std::move(reply));
}

Result<RecoverStartReply> VaultService::RecoverStart(std::string_view account,
                                                     const opaque::KE1& ke1,
                                                     std::string_view request_id) {
  CV_RETURN_IF_ERROR(CheckAccountId(account));
  return RetryOnConflict<RecoverStartReply>(
      [&] { return CountGuess(account, ke1, request_id); });
}

Result<RecoverFinishReply> VaultService::RecoverFinish(std::string_view session_text,
                                                       const opaque::KE3& ke3,
                                                       std::string_view request_id) {
  CV_ASSIGN_OR_RETURN(LoginSession session, core_->sessions().Open(SessionPurpose::kOpaqueLogin,
                                                                   session_text, core_->Now()));
  CV_ASSIGN_OR_RETURN(opaque::ServerLogin login,
                      opaque::ServerLogin::ParseState(session.server_state.view()));
  const bool valid = std::move(login).Finish(ke3).ok() && !session.fake;
  if (session.fake) {
    ++core_->metrics().wrong_passwords;
    return RecoverFinishReply{false, {}, options().max_guesses - 1, {}};
  }
  const std::string key = AccountStoreKey(session.account);
  auto valid_for = [valid](const AccountRecord&) { return valid; };
  CV_ASSIGN_OR_RETURN(SettledGuessOutcome<AccountRecord> settled,
                      (RetryOnConflict<SettledGuessOutcome<AccountRecord>>([&] {
                        return SettleGuessOnce<AccountRecord>(*core_, key, session, valid_for,
                                                              request_id);
                      })));
  const uint32_t left = settled.record.guesses.AttemptsLeft(options().max_guesses);
  // A guess settled already (a retried KE3, or an older login finishing after a newer one) gets
  // the key again but settles nothing a second time.
  if (!valid) return RecoverFinishReply{false, {}, left, {}};
  return RecoverFinishReply{true, settled.record.wrapped_key, left, settled.record.backup_sequence};
}

Status VaultService::Delete(const SignedRequest& request) {
  CV_ASSIGN_OR_RETURN(std::optional<Account> existing,
                      core_->Authorize<AccountRecord>(request, AccountStoreKey(request.account)));
  if (!existing || !HasDeviceKey(existing->record)) {
    return NotFound("this account has no vault record");
  }
  if (!core_->SignedBy(existing->record.device_key, request, Action::kDelete, {})) {
    return BadProof();
  }
  return core_->StoreDeletion<AccountRecord>(AccountStoreKey(request.account), existing->version,
                                             request);
}

Status VaultService::SetBackupSequence(std::string_view account, const BackupSequence& sequence,
                                       std::string_view request_id) {
  CV_RETURN_IF_ERROR(CheckAccountId(account));
  return core_->RaiseBackupSequence<AccountRecord>(AccountStoreKey(account), account, sequence,
                                                   request_id);
}

Status VaultService::Health() { return core_->Health(); }

}  // namespace chatvault::vault

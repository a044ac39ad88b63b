#include "chatvault/vault/vault_service.h"

#include <ctime>

#include "chatvault/crypto/hash.h"
#include "chatvault/crypto/random.h"
#include "chatvault/vault/account_token.h"

namespace chatvault::vault {

// A login between KE2 and KE3. `fake` logins (unknown accounts) can never succeed.
struct VaultService::Pending {
  std::string account;
  std::array<uint8_t, kGenerationSize> generation{};
  bool fake = false;
  std::optional<opaque::ServerLogin> login;
  std::chrono::steady_clock::time_point expires;
  // The record as this login's counted guess wrote it, and that write's version.
  std::optional<Loaded> counted;
};

namespace {

constexpr int kCasRetries = 64;

int64_t NowUnix() { return static_cast<int64_t>(std::time(nullptr)); }

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
                           crypto::Secret sealing_key, crypto::Secret token_secret,
                           VaultOptions options, Metrics& metrics)
    : store_(store),
      setup_(std::move(setup)),
      sealer_(std::move(sealing_key)),
      token_secret_(std::move(token_secret)),
      options_(options),
      metrics_(metrics) {}

VaultService::~VaultService() = default;

Result<std::optional<VaultService::Loaded>> VaultService::Load(const std::string& key) {
  auto got = store_.Get(key);
  if (!got.ok()) {
    ++metrics_.store_errors;
    return got.status();
  }
  if (!got->has_value()) return std::optional<Loaded>();
  CV_ASSIGN_OR_RETURN(Bytes plain, sealer_.Open(key, (*got)->value));
  CV_ASSIGN_OR_RETURN(AccountRecord record, AccountRecord::Parse(plain));
  return std::optional<Loaded>(Loaded{std::move(record), (*got)->version});
}

Result<uint64_t> VaultService::Store(const std::string& key, uint64_t version,
                                     const AccountRecord& record) {
  CV_ASSIGN_OR_RETURN(Bytes sealed, sealer_.Seal(key, record.Serialize()));
  auto written = store_.CompareAndSet(key, version, sealed);
  if (!written.ok()) {
    if (written.status().code() == Code::kConflict) {
      ++metrics_.store_conflicts;
    } else {
      ++metrics_.store_errors;
    }
  }
  return written;
}

Status VaultService::CheckOwner(std::string_view account, std::string_view token, ByteView proof,
                                const std::optional<Loaded>& existing) {
  CV_RETURN_IF_ERROR(CheckAccountId(account));
  Status token_ok = VerifyAccountToken(token_secret_, account, token, NowUnix());
  if (!token_ok.ok()) {
    ++metrics_.rejected_requests;
    return token_ok;
  }
  if (!existing) return OkStatus();
  // The account is taken (or was locked out): only the device holding K may replace it.
  if (proof.size() != kVerifierSize ||
      !crypto::ConstantTimeEqual(crypto::Sha256(proof), existing->record.verifier)) {
    ++metrics_.rejected_requests;
    return PermissionDenied(
        "this account already has a vault record; replacing or deleting it needs the original "
        "device's authorisation (a proof derived from the backup key)");
  }
  return OkStatus();
}

Result<RegisterStartReply> VaultService::RegisterStart(std::string_view account,
                                                       std::string_view token,
                                                       const opaque::RegistrationRequest& request,
                                                       ByteView proof) {
  // The owner check comes first: a registration response is an OPRF evaluation under the
  // account's key, which would otherwise be an uncounted password guess.
  CV_RETURN_IF_ERROR(CheckAccountId(account));
  CV_ASSIGN_OR_RETURN(std::optional<Loaded> existing, Load(AccountStoreKey(account)));
  CV_RETURN_IF_ERROR(CheckOwner(account, token, proof, existing));
  CV_ASSIGN_OR_RETURN(opaque::RegistrationResponse response,
                      setup_.CreateRegistrationResponse(request, AsBytes(account)));
  return RegisterStartReply{response, options_.ksf};
}

Status VaultService::RegisterFinish(std::string_view account, std::string_view token,
                                    ByteView proof, const RegisterUpload& upload) {
  CV_RETURN_IF_ERROR(CheckAccountId(account));
  if (upload.wrapped_key.empty() || upload.wrapped_key.size() > kMaxWrappedKeySize) {
    return InvalidArgument("the wrapped key must be 1 to 256 bytes");
  }
  if (upload.ksf.algorithm != opaque::KsfAlgorithm::kArgon2id) {
    return InvalidArgument("records must use Argon2id as their key stretching function");
  }
  CV_RETURN_IF_ERROR(upload.ksf.Validate());
  const std::string key = AccountStoreKey(account);
  CV_ASSIGN_OR_RETURN(std::optional<Loaded> existing, Load(key));
  CV_RETURN_IF_ERROR(CheckOwner(account, token, proof, existing));
  AccountRecord record;
  record.state = AccountRecord::State::kActive;
  crypto::RandomFill(record.generation);
  record.failed_guesses = 0;
  record.verifier = upload.verifier;
  record.opaque_record = upload.record;
  record.ksf = upload.ksf;
  record.wrapped_key = upload.wrapped_key;
  auto written = Store(key, existing ? existing->version : 0, record);
  if (!written.ok()) return written.status().Annotate("saving the vault record");
  ++metrics_.registrations;
  return OkStatus();
}

Status VaultService::Tombstone(const std::string& key, Loaded loaded) {
  AccountRecord tomb;
  tomb.state = AccountRecord::State::kTombstone;
  tomb.generation = loaded.record.generation;
  tomb.failed_guesses = loaded.record.failed_guesses;
  tomb.verifier = loaded.record.verifier;
  auto written = Store(key, loaded.version, tomb);
  if (!written.ok()) return written.status();
  ++metrics_.lockouts;
  return OkStatus();
}

std::string VaultService::AddSession(std::unique_ptr<Pending> pending) {
  const std::string id = HexEncode(crypto::RandomBytes(16));
  std::lock_guard<std::mutex> lock(sessions_mu_);
  const auto now = std::chrono::steady_clock::now();
  if (++session_inserts_ % 4096 == 0 || sessions_.size() >= options_.max_pending_sessions) {
    // Expired sessions go first; a flood of live ones evicts the oldest ids at random-ish order,
    // which only ever costs the evicted client a guess it already paid for.
    for (auto it = sessions_.begin(); it != sessions_.end();) {
      it = it->second->expires < now ? sessions_.erase(it) : std::next(it);
    }
    if (sessions_.size() >= options_.max_pending_sessions) sessions_.erase(sessions_.begin());
  }
  sessions_.emplace(id, std::move(pending));
  return id;
}

Result<RecoverStartReply> VaultService::FakeStart(std::string_view account, const opaque::KE1& ke1) {
  CV_ASSIGN_OR_RETURN(opaque::ServerLogin login,
                      setup_.StartFakeLogin(AsBytes(account), ke1));
  auto pending = std::make_unique<Pending>();
  pending->account = std::string(account);
  pending->fake = true;
  RecoverStartReply reply;
  reply.ke2 = login.ke2();
  reply.ksf = options_.ksf;
  reply.attempts_remaining = options_.max_guesses - 1;
  pending->login.emplace(std::move(login));
  pending->expires = std::chrono::steady_clock::now() + options_.session_ttl;
  reply.session = AddSession(std::move(pending));
  ++metrics_.fake_logins;
  return reply;
}

Result<RecoverStartReply> VaultService::RecoverStart(std::string_view account, const opaque::KE1& ke1) {
  CV_RETURN_IF_ERROR(CheckAccountId(account));
  const std::string key = AccountStoreKey(account);
  for (int attempt = 0; attempt < kCasRetries; ++attempt) {
    CV_ASSIGN_OR_RETURN(std::optional<Loaded> loaded, Load(key));
    if (!loaded) return FakeStart(account, ke1);
    if (!loaded->record.active()) {
      return LockedOut("this account's vault record was destroyed after too many wrong passwords");
    }
    if (loaded->record.failed_guesses >= options_.max_guesses) {
      Status s = Tombstone(key, std::move(*loaded));
      if (s.code() == Code::kConflict) continue;
      CV_RETURN_IF_ERROR(s);
      return LockedOut("this account's vault record was destroyed after too many wrong passwords");
    }
    // Spend the guess durably before the KE2 exists.
    AccountRecord counted = loaded->record;
    counted.failed_guesses += 1;
    auto written = Store(key, loaded->version, counted);
    if (!written.ok()) {
      if (written.status().code() == Code::kConflict) continue;
      return Unavailable("the vault could not record this attempt; try again later");
    }
    ++metrics_.guesses_counted;
    CV_ASSIGN_OR_RETURN(opaque::ServerLogin login,
                        setup_.StartLogin(counted.opaque_record, AsBytes(account), ke1));
    auto pending = std::make_unique<Pending>();
    pending->account = std::string(account);
    pending->generation = counted.generation;
    pending->counted = Loaded{counted, *written};
    RecoverStartReply reply;
    reply.ke2 = login.ke2();
    reply.ksf = counted.ksf;
    reply.attempts_remaining = options_.max_guesses - counted.failed_guesses;
    pending->login.emplace(std::move(login));
    pending->expires = std::chrono::steady_clock::now() + options_.session_ttl;
    reply.session = AddSession(std::move(pending));
    return reply;
  }
  return Unavailable("the vault is too busy with this account; try again");
}

Result<RecoverFinishReply> VaultService::RecoverFinish(std::string_view session,
                                                       const opaque::KE3& ke3) {
  std::unique_ptr<Pending> pending;
  {
    std::lock_guard<std::mutex> lock(sessions_mu_);
    auto it = sessions_.find(session);
    if (it != sessions_.end()) {
      pending = std::move(it->second);
      sessions_.erase(it);
    }
  }
  if (!pending || pending->expires < std::chrono::steady_clock::now()) {
    return NotFound("this login session is unknown or expired; start again");
  }
  auto session_key = std::move(*pending->login).Finish(ke3);
  const bool valid = session_key.ok() && !pending->fake;
  if (pending->fake) {
    ++metrics_.wrong_passwords;
    return RecoverFinishReply{false, {}, options_.max_guesses - 1};
  }
  const std::string key = AccountStoreKey(pending->account);
  if (valid && pending->counted) {
    // If nobody wrote the record since this login counted its guess, the stored record is the
    // one this login wrote (versions are never reused): reset it without reading it back. Any
    // other write in between makes this a conflict, and the loop below reads the current one.
    AccountRecord reset = std::move(pending->counted->record);
    reset.failed_guesses = 0;
    auto written = Store(key, pending->counted->version, reset);
    if (written.ok()) {
      ++metrics_.recoveries;
      return RecoverFinishReply{true, std::move(reset.wrapped_key), options_.max_guesses};
    }
    if (written.status().code() != Code::kConflict) {
      return Unavailable("the vault could not save this login; try again");
    }
  }
  for (int attempt = 0; attempt < kCasRetries; ++attempt) {
    CV_ASSIGN_OR_RETURN(std::optional<Loaded> loaded, Load(key));
    if (!loaded || !loaded->record.active() || loaded->record.generation != pending->generation) {
      // Locked out meanwhile, deleted, or re-registered: this login cannot release anything.
      if (valid) return PermissionDenied("the vault record changed during this login; start again");
      ++metrics_.wrong_passwords;
      if (loaded && !loaded->record.active()) {
        return LockedOut("too many wrong passwords: this account's vault record was destroyed");
      }
      return RecoverFinishReply{false, {}, 0};
    }
    if (valid) {
      AccountRecord reset = loaded->record;
      reset.failed_guesses = 0;
      auto written = Store(key, loaded->version, reset);
      if (!written.ok()) {
        if (written.status().code() == Code::kConflict) continue;
        return Unavailable("the vault could not save this login; try again");
      }
      ++metrics_.recoveries;
      return RecoverFinishReply{true, reset.wrapped_key, options_.max_guesses};
    }
    ++metrics_.wrong_passwords;
    if (loaded->record.failed_guesses >= options_.max_guesses) {
      Status s = Tombstone(key, std::move(*loaded));
      if (s.code() == Code::kConflict) continue;
      CV_RETURN_IF_ERROR(s);
      return LockedOut("too many wrong passwords: this account's vault record was destroyed");
    }
    return RecoverFinishReply{false, {}, options_.max_guesses - loaded->record.failed_guesses};
  }
  return Unavailable("the vault is too busy with this account; try again");
}

Status VaultService::Delete(std::string_view account, std::string_view token, ByteView proof) {
  CV_RETURN_IF_ERROR(CheckAccountId(account));
  const std::string key = AccountStoreKey(account);
  for (int attempt = 0; attempt < kCasRetries; ++attempt) {
    CV_ASSIGN_OR_RETURN(std::optional<Loaded> loaded, Load(key));
    if (!loaded) {
      CV_RETURN_IF_ERROR(CheckOwner(account, token, proof, loaded));
      return NotFound("this account has no vault record");
    }
    CV_RETURN_IF_ERROR(CheckOwner(account, token, proof, loaded));
    Status s = store_.CompareAndDelete(key, loaded->version);
    if (s.code() == Code::kConflict) continue;
    CV_RETURN_IF_ERROR(s);
    ++metrics_.deletions;
    return OkStatus();
  }
  return Unavailable("the vault is too busy with this account; try again");
}

Status VaultService::Health() { return store_.Health(); }

size_t VaultService::PendingSessions() {
  std::lock_guard<std::mutex> lock(sessions_mu_);
  return sessions_.size();
}

}  // namespace chatvault::vault

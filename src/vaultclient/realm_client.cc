#include "chatvault/vaultclient/realm_client.h"

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <thread>
#include <type_traits>
#include <vector>

#include "chatvault/common/mutex.h"
#include "chatvault/crypto/random.h"
#include "chatvault/opaque/threshold_oprf.h"
#include "chatvault/vaultproto/realm_protocol.h"
#include "chatvault/vaultproto/signed_request.h"
#include "vaultclient/vault_http.h"

namespace chatvault::vaultclient {
namespace {

using internal::Attempts;
using internal::AttemptsText;
using internal::BackupSequenceBody;
using internal::BackupSequenceField;
using internal::FixedField;
using internal::HexField;
using internal::KsfField;
using internal::VaultHttp;
using nlohmann::json;
namespace realm = vaultproto::realm;

constexpr int kRestarts = 3;
// How long recovery still waits for the remaining realms once t have answered.
constexpr std::chrono::milliseconds kGrace{2000};

// One realm: its conversation and how messages name it.
struct RealmLink {
  std::shared_ptr<VaultHttp> http;
  std::string name;
};

// The fanned-out threads of one client, which may still run after their caller moved on. The
// client joins them when it goes away, so none outlives it (and its thread-local library state
// is freed) unless a realm hangs past the limit; those are let go and finish on their own.
class Stragglers {
 public:
  ~Stragglers() {
    for (std::thread& t : threads_) {
      if (t.joinable()) t.detach();
    }
  }
  void Start(std::function<void()> body) {
    MutexLock lock(mu_);
    ++running_;
    threads_.emplace_back(std::move(body));
  }
  void Finished() {
    MutexLock lock(mu_);
    --running_;
    cv_.NotifyAll();
  }
  // Joins every thread once all have finished, waiting at most `limit` for that; else lets
  // them all go.
  void JoinAll(std::chrono::milliseconds limit) {
    std::vector<std::thread> threads;
    {
      MutexLock lock(mu_);
      const bool all = cv_.WaitFor(mu_, limit, [&]() CV_REQUIRES(mu_) { return running_ == 0; });
      threads.swap(threads_);
      if (!all) {
        for (std::thread& t : threads) t.detach();
        return;
      }
    }
    for (std::thread& t : threads) t.join();
  }

 private:
  Mutex mu_;
  CondVar cv_;
  size_t running_ CV_GUARDED_BY(mu_) = 0;
  std::vector<std::thread> threads_ CV_GUARDED_BY(mu_);
};

// Calls fn(i) for every realm at once, each on its own thread, and lets the caller stop waiting
// as soon as the answers so far are enough: a slow or dead realm does not hold the others up.
// Threads still running when the caller moves on finish on their own; they hold everything they
// use (shared pointers and copies), so nothing they touch goes away under them.
template <typename T>
class Fanout {
 public:
  using Answers = std::vector<std::optional<Result<T>>>;

  Fanout(const std::shared_ptr<Stragglers>& stragglers, size_t n,
         std::function<Result<T>(size_t)> fn)
      : state_(std::make_shared<State>(n)) {
    for (size_t i = 0; i < n; ++i) {
      // Each thread holds what it uses; a thread let go may end last and free them all.
      stragglers->Start([state = state_, stragglers, fn, i] {
        Result<T> r = fn(i);
        {
          MutexLock lock(state->mu);
          state->answers[i].emplace(std::move(r));
          ++state->done;
          state->cv.NotifyAll();
        }
        stragglers->Finished();
      });
    }
  }

  // Waits until every realm answered, or until `enough(answers)` has held for `grace` (so the
  // realms that are merely a little slower are still heard, and their counted guesses settled);
  // returns the answers so far.
  Answers Wait(const std::function<bool(const Answers&)>& enough,
               std::chrono::milliseconds grace = kGrace) {
    MutexLock lock(state_->mu);
    auto all = [&]() CV_REQUIRES(state_->mu) { return state_->done == state_->answers.size(); };
    state_->cv.Wait(state_->mu,
                    [&]() CV_REQUIRES(state_->mu) { return all() || enough(state_->answers); });
    state_->cv.WaitFor(state_->mu, grace, all);
    return state_->answers;
  }
  Answers WaitAll() {
    return Wait([](const Answers&) { return false; });
  }

 private:
  struct State {
    explicit State(size_t n) : answers(n) {}
    Mutex mu;
    CondVar cv;
    Answers answers CV_GUARDED_BY(mu);
    size_t done CV_GUARDED_BY(mu) = 0;
  };
  std::shared_ptr<State> state_;
};

// What a realm says it holds.
struct HeldVersion {
  realm::Version version{};
  uint8_t threshold = 0;
  uint8_t realms = 0;
  uint8_t index = 0;
  opaque::KsfParams ksf;
};

// A realm's checked evaluation.
struct Evaluation {
  size_t realm = 0;
  opaque::EvaluatedShare share;
  crypto::VerifyKey verifying_key{};
  realm::Tag commitment{};
  uint32_t attempts_remaining = 0;
  std::string session;
};

// A realm's checked encryption share, and the backup number it keeps (checked once K is open).
struct Unlocked {
  size_t realm = 0;
  uint8_t index = 0;
  std::array<uint8_t, 32> encryption_share{};
  Bytes wrapped_key;
  uint32_t attempts_remaining = 0;
  json backup_sequence;  // the reply's field, null when it has none
};

Result<HeldVersion> ParseVersion(const json& j) {
  HeldVersion h;
  CV_ASSIGN_OR_RETURN(h.version, FixedField<realm::kVersionSize>(j, "version"));
  CV_ASSIGN_OR_RETURN(h.ksf, KsfField(j));
  h.threshold = j.value("threshold", 0);
  h.realms = j.value("realms", 0);
  h.index = j.value("index", 0);
  if (h.threshold < 1 || h.realms < h.threshold || h.index < 1 || h.index > h.realms) {
    return Corrupted("the realm reported an impossible sharing");
  }
  return h;
}

// Parses a realm's evaluation and checks it: the registration's signature over the share's public
// key, and the proof that the evaluation used that share.
Result<Evaluation> CheckEvaluation(const json& j, const HeldVersion& held,
                                   const opaque::Element& blinded) {
  Evaluation e;
  e.share.index = j.value("index", 0);
  CV_ASSIGN_OR_RETURN(e.share.evaluated, FixedField<32>(j, "evaluated"));
  CV_ASSIGN_OR_RETURN(e.share.proof, FixedField<opaque::kOprfProofSize>(j, "proof"));
  CV_ASSIGN_OR_RETURN(opaque::Element public_key, FixedField<32>(j, "public_key"));
  CV_ASSIGN_OR_RETURN(e.verifying_key, FixedField<crypto::kVerifyKeySize>(j, "verifying_key"));
  CV_ASSIGN_OR_RETURN(auto signature, FixedField<crypto::kSignatureSize>(j, "share_signature"));
  CV_ASSIGN_OR_RETURN(e.commitment, FixedField<realm::kTagSize>(j, "commitment"));
  e.attempts_remaining = Attempts(j);
  auto session = j.find("session");
  if (session == j.end() || !session->is_string()) return Corrupted("the reply lacks 'session'");
  e.session = session->get<std::string>();
  if (e.share.index != held.index) return Corrupted("it answered for another share than it holds");
  const Bytes statement =
      realm::ShareStatement(held.version, held.threshold, held.realms, e.share.index, public_key);
  if (!crypto::VerifySignature(e.verifying_key, statement, signature)) {
    return Corrupted("its share's public key is not the one the registration signed");
  }
  if (!opaque::VerifyShare(public_key, blinded, e.share).ok()) {
    return Corrupted("its evaluation does not match its registered share");
  }
  return e;
}

// The answers grouped by `key_of`, each group counting a share index once (a realm answering
// twice cannot stand in for another): the first group, in key order, with t or more.
template <typename T, typename KeyOf, typename IndexOf>
std::optional<std::vector<T>> AgreeingGroupOfT(const typename Fanout<T>::Answers& answers, size_t t,
                                               KeyOf key_of, IndexOf index_of) {
  std::map<std::invoke_result_t<KeyOf, const T&>, std::map<uint8_t, T>> groups;
  for (const auto& a : answers) {
    if (!a || !a->ok()) continue;
    groups[key_of(**a)].emplace(index_of(**a), **a);
  }
  for (auto& [key, by_index] : groups) {
    if (by_index.size() < t) continue;
    std::vector<T> group;
    for (auto& [index, answer] : by_index) group.push_back(answer);
    return group;
  }
  return std::nullopt;
}

// Evaluations grouped by registration (signing key and commitment).
std::optional<std::vector<Evaluation>> GroupOfT(const Fanout<Evaluation>::Answers& answers,
                                                size_t t) {
  return AgreeingGroupOfT<Evaluation>(
      answers, t, [](const Evaluation& e) { return std::pair(e.verifying_key, e.commitment); },
      [](const Evaluation& e) { return e.share.index; });
}

// Encryption shares grouped by the wrapped key they came with.
std::optional<std::vector<Unlocked>> UnlockedOfT(const Fanout<Unlocked>::Answers& answers,
                                                 size_t t) {
  return AgreeingGroupOfT<Unlocked>(
      answers, t, [](const Unlocked& u) { return u.wrapped_key; },
      [](const Unlocked& u) { return u.index; });
}

std::string Joined(const std::vector<std::string>& parts) {
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? "" : "; ") + p;
  return out;
}

class RealmClientImpl final : public RealmClient {
 public:
  RealmClientImpl(std::vector<RealmLink> realms, int threshold, RealmOptions options)
      : realms_(std::move(realms)), threshold_(threshold), options_(std::move(options)) {}
  // Requests to realms nobody waits for any more stop retrying; a request in flight gets a
  // moment to finish (its guess settled, its share deleted).
  ~RealmClientImpl() override {
    for (RealmLink& realm : realms_) realm.http->StopRetrying();
    stragglers_->JoinAll(std::chrono::seconds(5));
  }

  Status Register(std::string_view account, const std::vector<std::string>& tokens,
                  std::string_view password, const key::BackupKey& key) override;
  Result<RealmRecovery> Recover(std::string_view account, std::string_view password) override;
  Status SetBackupSequence(std::string_view account, const key::BackupKey& key,
                           uint64_t sequence) override;
  Status Delete(std::string_view account, const std::vector<std::string>& tokens,
                const key::BackupKey& key) override;
  Status Health() override;

 private:
  // The highest number among `unlocked` that the device key from `key` signed; a realm whose
  // number is malformed or not signed is named in `complaints` and left out.
  std::optional<uint64_t> NewestBackup(const Fanout<Unlocked>::Answers& unlocked,
                                       std::string_view account, const key::BackupKey& key,
                                       std::vector<std::string>& complaints) const;
  Result<std::vector<realm::RealmShare>> MakeShares(std::string_view account,
                                                    std::string_view password,
                                                    const key::BackupKey& key) const;
  // The realms (index into realms_, and what each holds) of the newest version t realms hold.
  Result<std::vector<std::pair<size_t, HeldVersion>>> ChooseVersion(
      std::string_view account, std::vector<std::string>& complaints);
  Status CheckKsf(const opaque::KsfParams& ksf) const;
  // Failures of a fanned-out step, one sentence per realm.
  template <typename T>
  std::vector<std::string> Failures(const typename Fanout<T>::Answers& answers,
                                    const std::vector<size_t>& which) const {
    std::vector<std::string> out;
    for (size_t i = 0; i < answers.size(); ++i) {
      const std::string& name = realms_[which.empty() ? i : which[i]].name;
      if (answers[i] && !answers[i]->ok()) {
        out.push_back(name + ": " + answers[i]->status().message());
      }
    }
    return out;
  }

  std::vector<RealmLink> realms_;
  size_t threshold_;
  RealmOptions options_;
  std::shared_ptr<Stragglers> stragglers_ = std::make_shared<Stragglers>();
};

// One realm's registration: a challenge for its record, then the signed share; a record that
// changed under it (a guess counted meanwhile) starts over with a new challenge.
Status RegisterAtRealm(VaultHttp& http, const std::string& account, const std::string& token,
                       const realm::RealmShare& share, const crypto::SigningKey& device) {
  const Bytes share_bytes = share.Serialize();
  Bytes payload = share_bytes;
  Append(payload, device.verify_key());
  Status last;
  for (int i = 0; i < kRestarts; ++i) {
    CV_ASSIGN_OR_RETURN(
        json reply, http.Post("/v1/realm/challenge", json{{"account", account}, {"token", token}}));
    CV_ASSIGN_OR_RETURN(Bytes challenge, HexField(reply, "challenge"));
    const Bytes message =
        vaultproto::RequestMessage(vaultproto::Action::kRealmRegister, account, challenge, payload);
    json body{{"account", account},
              {"token", token},
              {"challenge", HexEncode(challenge)},
              {"proof", HexEncode(device.Sign(message))},
              {"device_key", HexEncode(device.verify_key())},
              {"share", HexEncode(share_bytes)}};
    last = http.Post("/v1/realm/register", body).status();
    if (last.code() != Code::kConflict) return last;
  }
  return last;
}

Status DeleteAtRealm(VaultHttp& http, const std::string& account, const std::string& token,
                     const crypto::SigningKey& device) {
  for (int i = 0; i < kRestarts; ++i) {
    CV_ASSIGN_OR_RETURN(
        json reply, http.Post("/v1/realm/challenge", json{{"account", account}, {"token", token}}));
    CV_ASSIGN_OR_RETURN(Bytes challenge, HexField(reply, "challenge"));
    const Bytes message =
        vaultproto::RequestMessage(vaultproto::Action::kRealmDelete, account, challenge, {});
    json body{{"account", account},
              {"token", token},
              {"challenge", HexEncode(challenge)},
              {"proof", HexEncode(device.Sign(message))}};
    Status s = http.Post("/v1/realm/delete", body).status();
    // Nothing (left) to delete is what deleting wants.
    if (s.code() == Code::kNotFound) return OkStatus();
    if (s.code() != Code::kConflict) return s;
  }
  return Unavailable("the realm's record kept changing during deletion");
}

Result<std::vector<realm::RealmShare>> RealmClientImpl::MakeShares(
    std::string_view account, std::string_view password, const key::BackupKey& key) const {
  const size_t n = realms_.size();
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const realm::Version version =
      realm::NewVersion(std::chrono::duration_cast<std::chrono::milliseconds>(now).count());
  CV_ASSIGN_OR_RETURN(realm::StretchedPassword stretched,
                      realm::StretchPassword(password, account, version, options_.ksf));
  const crypto::Secret oprf_key = opaque::RandomScalar();
  CV_ASSIGN_OR_RETURN(auto oprf_shares, opaque::SplitScalar(oprf_key, threshold_, n));
  const crypto::Secret encryption_scalar = opaque::RandomScalar();
  CV_ASSIGN_OR_RETURN(auto encryption_shares,
                      opaque::SplitScalar(encryption_scalar, threshold_, n));
  CV_ASSIGN_OR_RETURN(crypto::Secret output,
                      opaque::EvaluateDirectly(oprf_key, stretched.access_key.view()));
  const realm::UnlockSecrets unlock = realm::DeriveUnlock(output);
  const Bytes wrapped =
      realm::WrapKey(stretched.encryption_seed, encryption_scalar, account, version, key);
  // Thrown away when this function returns: nobody can sign another share for this version.
  const crypto::SigningKey signing = crypto::SigningKey::FromSeed(crypto::RandomSecret(32));
  std::vector<realm::RealmShare> shares(n);
  for (size_t i = 0; i < n; ++i) {
    realm::RealmShare& s = shares[i];
    s.version = version;
    s.threshold = static_cast<uint8_t>(threshold_);
    s.realms = static_cast<uint8_t>(n);
    s.index = oprf_shares[i].index;
    s.ksf = options_.ksf;
    std::copy_n(oprf_shares[i].value.data(), 32, s.oprf_share.begin());
    CV_ASSIGN_OR_RETURN(s.public_key, opaque::PublicKeyOf(oprf_shares[i].value));
    s.verifying_key = signing.verify_key();
    s.share_signature =
        signing.Sign(realm::ShareStatement(version, s.threshold, s.realms, s.index, s.public_key));
    s.commitment = unlock.commitment;
    s.unlock_tag = realm::UnlockTag(unlock.unlock_key, version, s.index);
    std::copy_n(encryption_shares[i].value.data(), 32, s.encryption_share.begin());
    s.wrapped_key = wrapped;
    s.share_mac = realm::ShareMac(unlock.unlock_key, version, s.index, s.encryption_share, wrapped);
  }
  return shares;
}

// One token per realm, or one for all.
Result<std::vector<std::string>> TokensFor(const std::vector<std::string>& tokens, size_t realms) {
  if (tokens.size() == 1) return std::vector<std::string>(realms, tokens.front());
  if (tokens.size() != realms) {
    return InvalidArgument("give one account token per realm, or one for all of them");
  }
  return tokens;
}

Status RealmClientImpl::Register(std::string_view account, const std::vector<std::string>& tokens,
                                 std::string_view password, const key::BackupKey& key) {
  CV_RETURN_IF_ERROR(CheckPasswordRules(password));
  CV_ASSIGN_OR_RETURN(std::vector<std::string> token_of, TokensFor(tokens, realms_.size()));
  CV_ASSIGN_OR_RETURN(std::vector<realm::RealmShare> shares, MakeShares(account, password, key));
  auto device = std::make_shared<crypto::SigningKey>(vaultproto::DeviceKey(key, account));
  auto shared_shares = std::make_shared<std::vector<realm::RealmShare>>(std::move(shares));
  Fanout<bool> fanout(stragglers_, realms_.size(),
                      [realms = realms_, shared_shares, device, account = std::string(account),
                       token_of](size_t i) -> Result<bool> {
                        CV_RETURN_IF_ERROR(RegisterAtRealm(*realms[i].http, account, token_of[i],
                                                           (*shared_shares)[i], *device));
                        return true;
                      });
  const auto answers = fanout.WaitAll();
  const std::vector<std::string> failed = Failures<bool>(answers, {});
  if (failed.empty()) return OkStatus();
  for (const auto& a : answers) {
    if (a && !a->ok() && a->status().code() == Code::kAlreadyExists) return a->status();
  }
  return Unavailable("the new registration reached " +
                     std::to_string(realms_.size() - failed.size()) + " of " +
                     std::to_string(realms_.size()) + " realms (" + Joined(failed) +
                     "); run the same command again to finish it");
}

Status RealmClientImpl::CheckKsf(const opaque::KsfParams& ksf) const {
  const opaque::KsfParams floor = opaque::KsfParams::Default();
  if (!options_.client.allow_weak_ksf &&
      (ksf.memory_kib < floor.memory_kib || ksf.iterations < floor.iterations)) {
    return PermissionDenied(
        "the realms hold a registration with weaker password stretching than "
        "chatvault allows");
  }
  return OkStatus();
}

Result<std::vector<std::pair<size_t, HeldVersion>>> RealmClientImpl::ChooseVersion(
    std::string_view account, std::vector<std::string>& complaints) {
  Fanout<HeldVersion> fanout(
      stragglers_, realms_.size(), [realms = realms_, account = std::string(account)](size_t i) {
        return [&]() -> Result<HeldVersion> {
          CV_ASSIGN_OR_RETURN(
              json reply, realms[i].http->Post("/v1/realm/version", json{{"account", account}}));
          return ParseVersion(reply);
        }();
      });
  // A realm that is down is retried for as long as the client is patient; once some version is
  // held by enough of the realms that answered, the others get the grace period only.
  const auto answers = fanout.Wait([](const Fanout<HeldVersion>::Answers& so_far) {
    std::map<realm::Version, size_t> held;
    for (const auto& answer : so_far) {
      if (!answer || !answer->ok()) continue;
      if (++held[(*answer)->version] >= (*answer)->threshold) return true;
    }
    return false;
  });
  std::map<realm::Version, std::vector<std::pair<size_t, HeldVersion>>> holders;
  size_t locked = 0;
  for (size_t i = 0; i < answers.size(); ++i) {
    if (!answers[i]) {
      complaints.push_back(realms_[i].name + ": no answer in time");
    } else if (answers[i]->ok()) {
      holders[(*answers[i])->version].emplace_back(i, **answers[i]);
    } else if (answers[i]->status().code() == Code::kLockedOut) {
      ++locked;
    } else if (answers[i]->status().code() != Code::kNotFound) {
      complaints.push_back(realms_[i].name + ": " + answers[i]->status().message());
    }
  }
  for (auto it = holders.rbegin(); it != holders.rend(); ++it) {
    if (it->second.size() >= it->second.front().second.threshold) return it->second;
  }
  if (locked > 0 && locked + threshold_ > realms_.size()) {
    return LockedOut("too many wrong passwords: too few realms still hold their share of the key");
  }
  if (!complaints.empty()) {
    return Unavailable("too few realms answered to recover (" + Joined(complaints) + ")");
  }
  // Every realm answers an account it does not hold with a made-up version of its own, so
  // versions that no t realms share are what an unknown account looks like: the same outcome as
  // a wrong password, as with a single vault.
  if (!holders.empty()) return PermissionDenied("wrong password, or no such account");
  return NotFound("no registration for this account is held by enough realms");
}

Result<RealmRecovery> RealmClientImpl::Recover(std::string_view account,
                                               std::string_view password) {
  if (password.empty()) return InvalidArgument("the password is empty");
  RealmRecovery out{key::BackupKey::Generate(), 0, std::nullopt, {}};
  CV_ASSIGN_OR_RETURN(auto holders, ChooseVersion(account, out.complaints));
  const HeldVersion held = holders.front().second;
  const size_t t = held.threshold;
  std::vector<size_t> holder_realms;
  for (const auto& [realm_index, mine] : holders) holder_realms.push_back(realm_index);
  CV_RETURN_IF_ERROR(CheckKsf(held.ksf));
  CV_ASSIGN_OR_RETURN(realm::StretchedPassword stretched,
                      realm::StretchPassword(password, account, held.version, held.ksf));
  CV_ASSIGN_OR_RETURN(opaque::VoprfClient voprf,
                      opaque::VoprfClient::Blind(stretched.access_key.view()));
  const opaque::Element blinded = voprf.blinded();
  Fanout<Evaluation> evaluations(
      stragglers_, holders.size(),
      [realms = realms_, holders, account = std::string(account),
       blinded](size_t k) -> Result<Evaluation> {
        const auto& [realm_index, mine] = holders[k];
        const RealmLink& link = realms[realm_index];
        json body{{"account", account},
                  {"version", HexEncode(mine.version)},
                  {"blinded", HexEncode(blinded)}};
        CV_ASSIGN_OR_RETURN(json reply, link.http->Post("/v1/realm/evaluate", body));
        auto checked = CheckEvaluation(reply, mine, blinded);
        if (!checked.ok()) {
          return Status(checked.status().code(), link.name + " " + checked.status().message());
        }
        checked->realm = realm_index;
        return checked;
      });
  const auto evaluated = evaluations.Wait(
      [t](const Fanout<Evaluation>::Answers& a) { return GroupOfT(a, t).has_value(); });
  for (const std::string& f : Failures<Evaluation>(evaluated, holder_realms)) {
    out.complaints.push_back(f);
  }
  std::optional<std::vector<Evaluation>> group = GroupOfT(evaluated, t);
  if (!group) {
    for (const auto& a : evaluated) {
      if (a && !a->ok() && a->status().code() == Code::kLockedOut) return a->status();
    }
    return Unavailable("too few realms answered correctly to recover (" + Joined(out.complaints) +
                       ")");
  }
  std::vector<opaque::EvaluatedShare> shares;
  uint32_t fewest = UINT32_MAX;
  for (const Evaluation& e : *group) fewest = std::min(fewest, e.attempts_remaining);
  for (size_t i = 0; i < t; ++i) shares.push_back((*group)[i].share);
  CV_ASSIGN_OR_RETURN(opaque::Element combined, opaque::CombineShares(shares));
  CV_ASSIGN_OR_RETURN(crypto::Secret output, voprf.Finalize(combined));
  const realm::UnlockSecrets unlock = realm::DeriveUnlock(output);
  if (!crypto::ConstantTimeEqual(unlock.commitment, group->front().commitment)) {
    return PermissionDenied("wrong password; " + AttemptsText(fewest));
  }
  if (options_.after_evaluate) options_.after_evaluate();
  auto unlock_key = std::make_shared<crypto::Secret>(unlock.unlock_key.Clone());
  auto group_ptr = std::make_shared<std::vector<Evaluation>>(*group);
  Fanout<Unlocked> unlocks(
      stragglers_, group_ptr->size(),
      [realms = realms_, group_ptr, unlock_key,
       version = held.version](size_t k) -> Result<Unlocked> {
        const Evaluation& e = (*group_ptr)[k];
        const RealmLink& link = realms[e.realm];
        const realm::Tag tag = realm::UnlockTag(*unlock_key, version, e.share.index);
        json body{{"session", e.session}, {"proof", HexEncode(realm::UnlockProof(tag, e.session))}};
        CV_ASSIGN_OR_RETURN(json reply, link.http->Post("/v1/realm/unlock", body));
        Unlocked u;
        u.realm = e.realm;
        u.index = e.share.index;
        CV_ASSIGN_OR_RETURN(u.encryption_share, FixedField<32>(reply, "encryption_share"));
        CV_ASSIGN_OR_RETURN(u.wrapped_key, HexField(reply, "wrapped_key"));
        CV_ASSIGN_OR_RETURN(auto mac, FixedField<realm::kTagSize>(reply, "share_mac"));
        u.attempts_remaining = Attempts(reply);
        if (auto it = reply.find("backup_sequence"); it != reply.end()) u.backup_sequence = *it;
        const realm::Tag expected =
            realm::ShareMac(*unlock_key, version, u.index, u.encryption_share, u.wrapped_key);
        if (!crypto::ConstantTimeEqual(expected, mac)) {
          return Corrupted(link.name + " released a share the registration did not give it");
        }
        return u;
      });
  std::vector<size_t> group_realms;
  for (const Evaluation& e : *group) group_realms.push_back(e.realm);
  const auto unlocked = unlocks.Wait(
      [t](const Fanout<Unlocked>::Answers& a) { return UnlockedOfT(a, t).has_value(); });
  for (const std::string& f : Failures<Unlocked>(unlocked, group_realms))
    out.complaints.push_back(f);
  std::optional<std::vector<Unlocked>> opened = UnlockedOfT(unlocked, t);
  if (!opened) {
    return Unavailable("too few realms released their share (" + Joined(out.complaints) + ")");
  }
  std::vector<opaque::ScalarShare> encryption;
  out.attempts_remaining = UINT32_MAX;
  for (size_t i = 0; i < t; ++i) {
    const Unlocked& u = (*opened)[i];
    encryption.push_back({u.index, crypto::Secret::FromBytes(u.encryption_share)});
  }
  for (const Unlocked& u : *opened)
    out.attempts_remaining = std::min(out.attempts_remaining, u.attempts_remaining);
  CV_ASSIGN_OR_RETURN(crypto::Secret scalar, opaque::CombineScalars(encryption));
  CV_ASSIGN_OR_RETURN(out.key, realm::UnwrapKey(stretched.encryption_seed, scalar, account,
                                                held.version, opened->front().wrapped_key));
  out.backup_sequence = NewestBackup(unlocked, account, out.key, out.complaints);
  return out;
}

std::optional<uint64_t> RealmClientImpl::NewestBackup(const Fanout<Unlocked>::Answers& unlocked,
                                                      std::string_view account,
                                                      const key::BackupKey& key,
                                                      std::vector<std::string>& complaints) const {
  std::optional<uint64_t> newest;
  for (const auto& answer : unlocked) {
    if (!answer || !answer->ok() || (*answer)->backup_sequence.is_null()) continue;
    auto sequence =
        BackupSequenceField(json{{"backup_sequence", (*answer)->backup_sequence}}, account, key);
    if (!sequence.ok()) {
      complaints.push_back(realms_[(*answer)->realm].name +
                           " returned a backup number that no device holding the key signed; it "
                           "was ignored");
    } else if (*sequence && (!newest || **sequence > *newest)) {
      newest = *sequence;
    }
  }
  return newest;
}

Status RealmClientImpl::SetBackupSequence(std::string_view account, const key::BackupKey& key,
                                          uint64_t sequence) {
  auto body = std::make_shared<const json>(BackupSequenceBody(account, key, sequence));
  Fanout<bool> fanout(
      stragglers_, realms_.size(), [realms = realms_, body](size_t i) -> Result<bool> {
        CV_RETURN_IF_ERROR(realms[i].http->Post("/v1/realm/backup-sequence", *body).status());
        return true;
      });
  const std::vector<std::string> failed = Failures<bool>(fanout.WaitAll(), {});
  if (failed.empty()) return OkStatus();
  return Unavailable("backup " + std::to_string(sequence) + "'s number reached " +
                     std::to_string(realms_.size() - failed.size()) + " of " +
                     std::to_string(realms_.size()) + " realms (" + Joined(failed) + ")");
}

Status RealmClientImpl::Delete(std::string_view account, const std::vector<std::string>& tokens,
                               const key::BackupKey& key) {
  CV_ASSIGN_OR_RETURN(std::vector<std::string> token_of, TokensFor(tokens, realms_.size()));
  auto device = std::make_shared<crypto::SigningKey>(vaultproto::DeviceKey(key, account));
  Fanout<bool> fanout(
      stragglers_, realms_.size(),
      [realms = realms_, device, account = std::string(account),
       token_of](size_t i) -> Result<bool> {
        CV_RETURN_IF_ERROR(DeleteAtRealm(*realms[i].http, account, token_of[i], *device));
        return true;
      });
  const std::vector<std::string> failed = Failures<bool>(fanout.WaitAll(), {});
  if (failed.empty()) return OkStatus();
  return Unavailable("the shares could not be deleted at every realm (" + Joined(failed) +
                     "); run the same command again to finish");
}

Status RealmClientImpl::Health() {
  Fanout<bool> fanout(stragglers_, realms_.size(), [realms = realms_](size_t i) -> Result<bool> {
    CV_RETURN_IF_ERROR(realms[i].http->Health());
    return true;
  });
  const std::vector<std::string> failed = Failures<bool>(fanout.WaitAll(), {});
  if (failed.empty()) return OkStatus();
  return Unavailable("not every realm is up (" + Joined(failed) + ")");
}

// "a,b,c" -> {"a", "b", "c"}; "" -> {""} (one empty token for every realm).
std::vector<std::string> SplitTokens(std::string_view text) {
  std::vector<std::string> tokens;
  size_t start = 0;
  while (true) {
    const size_t comma = text.find(',', start);
    tokens.emplace_back(text.substr(start, comma - start));
    if (comma == std::string_view::npos) return tokens;
    start = comma + 1;
  }
}

class RealmsAsVaultClient final : public VaultClient {
 public:
  explicit RealmsAsVaultClient(std::unique_ptr<RealmClient> realms) : realms_(std::move(realms)) {}

  Status Register(std::string_view account, std::string_view token, std::string_view password,
                  const key::BackupKey& key) override {
    return realms_->Register(account, SplitTokens(token), password, key);
  }
  Result<RecoverResult> Recover(std::string_view account, std::string_view password) override {
    CV_ASSIGN_OR_RETURN(RealmRecovery recovered, realms_->Recover(account, password));
    return RecoverResult{std::move(recovered.key), recovered.attempts_remaining,
                         recovered.backup_sequence, std::move(recovered.complaints)};
  }
  Status Delete(std::string_view account, std::string_view token,
                const key::BackupKey& key) override {
    return realms_->Delete(account, SplitTokens(token), key);
  }
  Status SetBackupSequence(std::string_view account, const key::BackupKey& key,
                           uint64_t sequence) override {
    return realms_->SetBackupSequence(account, key, sequence);
  }
  Status Health() override { return realms_->Health(); }

 private:
  std::unique_ptr<RealmClient> realms_;
};

}  // namespace

std::unique_ptr<VaultClient> AsVaultClient(std::unique_ptr<RealmClient> realms) {
  return std::make_unique<RealmsAsVaultClient>(std::move(realms));
}

Result<std::unique_ptr<RealmClient>> RealmClient::Over(
    std::vector<std::unique_ptr<VaultTransport>> transports, int threshold, RealmOptions options) {
  if (transports.empty() || transports.size() > realm::kMaxRealms) {
    return InvalidArgument("threshold recovery needs 1 to 8 realms");
  }
  if (threshold < 1 || static_cast<size_t>(threshold) > transports.size()) {
    return InvalidArgument("the threshold must be between 1 and the number of realms");
  }
  std::vector<RealmLink> realms;
  for (auto& transport : transports) {
    const std::string name = transport->Describe();
    realms.push_back(RealmLink{
        std::make_shared<VaultHttp>(std::move(transport), options.client.retry_for), name});
  }
  return std::unique_ptr<RealmClient>(
      std::make_unique<RealmClientImpl>(std::move(realms), threshold, std::move(options)));
}

Result<std::unique_ptr<RealmClient>> RealmClient::Connect(const RealmsConfig& config,
                                                          RealmOptions options) {
  std::vector<std::unique_ptr<VaultTransport>> transports;
  for (const VaultAddress& address : config.realms) {
    CV_ASSIGN_OR_RETURN(std::unique_ptr<VaultTransport> transport, HttpsTransport(address));
    transports.push_back(std::move(transport));
  }
  return Over(std::move(transports), config.threshold, std::move(options));
}

}  // namespace chatvault::vaultclient

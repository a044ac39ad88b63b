// Threshold recovery against real realms: n keyvaultd processes, each with its own SoftHSM2
// token, TLS certificate, token secret and SQLite store (as independent operators), on loopback.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <functional>
#include <map>
#include <thread>

#include <nlohmann/json.hpp>

#include "chatvault/opaque/threshold_oprf.h"
#include "chatvault/vaultclient/realm_client.h"
#include "chatvault/vaultproto/realm_protocol.h"
#include "chatvault/vaultproto/signed_request.h"
#include "support/status_matchers.h"
#include "vault/keyvaultd_process.h"
#include "vault/vault_metrics.h"

namespace chatvault::vaultclient {
namespace {

using ::chatvault::testing::IsOk;
using ::chatvault::testing::KeyvaultdProcess;
using ::chatvault::testing::StatusIs;
using ::chatvault::testing::VaultMetric;
using nlohmann::json;

constexpr const char* kPassword = "correct horse 42";
// 7 guesses per realm: 2-of-3 gives an attacker floor(3 * 7 / 2) = 10 in total.
constexpr const char* kRealmFlags =
    "--ksf-memory-kib 64 --ksf-iterations 1 --max-guesses 7 --login-ttl 10";

// Changes a realm's successful replies on the way, as a malicious realm would send them.
using Tamper = std::function<void(const std::string& path, json& reply)>;
class Tampering final : public VaultTransport {
 public:
  Tampering(std::unique_ptr<VaultTransport> inner, Tamper tamper)
      : inner_(std::move(inner)), tamper_(std::move(tamper)) {}
  Result<Reply> Send(const std::string& m, const std::string& path,
                     const std::string& body) override {
    auto reply = inner_->Send(m, path, body);
    if (reply.ok() && reply->status == 200) {
      json j = json::parse(reply->body);
      tamper_(path, j);
      reply->body = j.dump();
    }
    return reply;
  }
  std::string Describe() const override { return inner_->Describe(); }

 private:
  std::unique_ptr<VaultTransport> inner_;
  Tamper tamper_;
};

class Realms {
 public:
  // `first_flags` are given to the first realm only.
  explicit Realms(int n, const std::string& first_flags = "") {
    for (int i = 0; i < n; ++i) {
      processes_.push_back(std::make_unique<KeyvaultdProcess>(std::string(kRealmFlags) + " " +
                                                              (i == 0 ? first_flags : "")));
    }
  }
  std::string Start() {
    for (auto& p : processes_) {
      if (std::string error = p->Start(); !error.empty()) return error;
    }
    return "";
  }
  KeyvaultdProcess& operator[](size_t i) { return *processes_[i]; }
  std::vector<std::string> Tokens(const std::string& account) {
    std::vector<std::string> tokens;
    for (auto& p : processes_) tokens.push_back(p->Token(account));
    return tokens;
  }
  std::unique_ptr<RealmClient> Client(int threshold, RealmOptions options = {}) {
    options.client.allow_weak_ksf = true;
    options.client.retry_for = std::chrono::milliseconds(1500);
    options.ksf = opaque::KsfParams{opaque::KsfAlgorithm::kArgon2id, 64, 1, 1};
    RealmsConfig config;
    config.threshold = threshold;
    for (auto& p : processes_) config.realms.push_back({p->url(), p->ca_file()});
    return std::move(RealmClient::Connect(config, std::move(options)).value());
  }
  // Registers `account` at every realm, t of n, with the device's key `k`.
  Status Register(const std::string& account, const key::BackupKey& k, int threshold = 2,
                  const std::string& password = kPassword) {
    return Client(threshold)->Register(account, Tokens(account), password, k);
  }
  // A client whose answers from realm `bad` are changed by `tamper`.
  std::unique_ptr<RealmClient> TamperedClient(int threshold, size_t bad, Tamper tamper) {
    std::vector<std::unique_ptr<VaultTransport>> transports;
    for (size_t i = 0; i < processes_.size(); ++i) {
      auto t = HttpsTransport({processes_[i]->url(), processes_[i]->ca_file()});
      transports.push_back(i == bad ? std::make_unique<Tampering>(std::move(*t), tamper)
                                    : std::move(*t));
    }
    RealmOptions options;
    options.client.allow_weak_ksf = true;
    return std::move(RealmClient::Over(std::move(transports), threshold, options).value());
  }
  // A raw request to realm i, as an attacker sends it.
  std::pair<long, json> Send(size_t i, const std::string& path, const json& body) {
    auto transport = HttpsTransport({processes_[i]->url(), processes_[i]->ca_file()});
    auto reply = (*transport)->Send("POST", path, body.dump());
    if (!reply.ok()) return {0, json()};
    return {reply->status, json::parse(reply->body, nullptr, false)};
  }
  size_t size() const { return processes_.size(); }

 private:
  std::vector<std::unique_ptr<KeyvaultdProcess>> processes_;
};

TEST(RealmsProcess, TwoOfThreeEndToEndWithARealmKilledBeforeAndDuringRecovery) {
  Realms realms(3);
  ASSERT_EQ(realms.Start(), "");
  key::BackupKey k = key::BackupKey::Generate();
  ASSERT_THAT(realms.Register("alice", k), IsOk());
  auto got = realms.Client(2)->Recover("alice", kPassword);
  ASSERT_THAT(got, IsOk());
  EXPECT_EQ(got->key.Hex(), k.Hex());

  realms[0].Stop(/*kill9=*/true);  // before
  got = realms.Client(2)->Recover("alice", kPassword);
  ASSERT_THAT(got, IsOk());
  EXPECT_EQ(got->key.Hex(), k.Hex());
  EXPECT_FALSE(got->complaints.empty());

  ASSERT_EQ(realms[0].Start(), "");
  RealmOptions during;
  during.after_evaluate = [&] { realms[1].Stop(/*kill9=*/true); };
  got = realms.Client(2, during)->Recover("alice", kPassword);
  ASSERT_THAT(got, IsOk()) << "a realm killed between evaluation and unlock";
  EXPECT_EQ(got->key.Hex(), k.Hex());
}

TEST(RealmsProcess, ThreeOfFiveEndToEnd) {
  Realms realms(5);
  ASSERT_EQ(realms.Start(), "");
  key::BackupKey k = key::BackupKey::Generate();
  ASSERT_THAT(realms.Register("bob", k, 3), IsOk());
  realms[1].Stop(true);
  realms[3].Stop(true);
  auto got = realms.Client(3)->Recover("bob", kPassword);
  ASSERT_THAT(got, IsOk());
  EXPECT_EQ(got->key.Hex(), k.Hex());
  EXPECT_THAT(realms.Client(3)->Recover("bob", "a wrong pass 1"),
              StatusIs(Code::kPermissionDenied));
}

bool Named(const RealmRecovery& r, const std::string& url, const std::string& what) {
  for (const std::string& c : r.complaints) {
    if (c.find(url) != std::string::npos && c.find(what) != std::string::npos) return true;
  }
  return false;
}

// A realm whose answers are changed on the way (as a malicious realm would send them) is named
// and left out; the others still recover.
TEST(RealmsProcess, AWrongEvaluationFromARealRealmIsNamed) {
  Realms realms(3);
  ASSERT_EQ(realms.Start(), "");
  key::BackupKey k = key::BackupKey::Generate();
  ASSERT_THAT(realms.Register("carol", k), IsOk());
  auto client = realms.TamperedClient(2, 2, [](const std::string& path, json& reply) {
    if (path == "/v1/realm/evaluate") reply["evaluated"] = reply["public_key"];
  });
  auto got = client->Recover("carol", kPassword);
  ASSERT_THAT(got, IsOk());
  EXPECT_EQ(got->key.Hex(), k.Hex());
  EXPECT_TRUE(Named(*got, realms[2].url(), "does not match its registered share"));
}

// The body of /v1/realm/backup-sequence: `sequence` signed with the device key from `key`.
json SequenceStatement(const std::string& account, const key::BackupKey& key, uint64_t sequence) {
  const Bytes message = vaultproto::BackupSequenceMessage(account, sequence);
  return {{"account", account},
          {"sequence", sequence},
          {"signature", HexEncode(vaultproto::DeviceKey(key, account).Sign(message))}};
}

// Three realms, each holding an account registered with the device key from k_.
class RealmsBackupNumber : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(realms_.Start(), ""); }
  // Registers `account` and tells every realm that backup `sequence` was committed.
  void RegisterAndTell(const std::string& account, uint64_t sequence) {
    ASSERT_THAT(realms_.Register(account, k_), IsOk());
    ASSERT_THAT(realms_.Client(2)->SetBackupSequence(account, k_, sequence), IsOk());
  }
  Realms realms_{3};
  key::BackupKey k_ = key::BackupKey::Generate();
};

// Every realm keeps the newest number the device signed and gives it back to whoever recovers K;
// an older statement replayed, or one signed by another key, changes nothing, and a request for
// an account the realm does not hold is answered as one with a bad signature.
TEST_F(RealmsBackupNumber, EveryRealmKeepsTheNewestNumberTheDeviceSigned) {
  RegisterAndTell("frank", 3);
  ASSERT_THAT(realms_.Client(2)->SetBackupSequence("frank", k_, 5), IsOk());
  const json forged = SequenceStatement("frank", key::BackupKey::Generate(), 9);
  for (size_t i = 0; i < realms_.size(); ++i) {
    auto [replayed, body] =
        realms_.Send(i, "/v1/realm/backup-sequence", SequenceStatement("frank", k_, 3));
    EXPECT_EQ(replayed, 200) << body.dump();
    auto [refused, refusal] = realms_.Send(i, "/v1/realm/backup-sequence", forged);
    EXPECT_EQ(refused, 403) << refusal.dump();
    auto [unknown, unknown_body] =
        realms_.Send(i, "/v1/realm/backup-sequence", SequenceStatement("nobody", k_, 9));
    EXPECT_EQ(unknown, 403) << "the same answer as a bad signature";
    EXPECT_EQ(unknown_body, refusal) << "the same answer as a bad signature";
  }
  auto got = realms_.Client(2)->Recover("frank", kPassword);
  ASSERT_THAT(got, IsOk());
  EXPECT_EQ(got->backup_sequence, std::optional<uint64_t>(5));
  EXPECT_TRUE(got->complaints.empty());
}

// A password change registers anew with the same key: the number stays. Deleting the
// registration takes it away, also from a later registration with the same key (which, like a
// first one, holds none).
TEST_F(RealmsBackupNumber, SurvivesAPasswordChangeAndGoesWithTheRegistration) {
  RegisterAndTell("gina", 7);
  ASSERT_THAT(realms_.Register("gina", k_, 2, "new password 8"), IsOk());
  auto changed = realms_.Client(2)->Recover("gina", "new password 8");
  ASSERT_THAT(changed, IsOk());
  EXPECT_EQ(changed->backup_sequence, std::optional<uint64_t>(7));

  ASSERT_THAT(realms_.Client(2)->Delete("gina", realms_.Tokens("gina"), k_), IsOk());
  ASSERT_THAT(realms_.Register("gina", k_), IsOk());
  auto again = realms_.Client(2)->Recover("gina", kPassword);
  ASSERT_THAT(again, IsOk());
  EXPECT_EQ(again->backup_sequence, std::nullopt);
}

// A realm that answers with a higher number signed by another key, or with no signature, is
// named and ignored: the number the device signed stands.
TEST_F(RealmsBackupNumber, ARealmsForgedOrUnsignedNumberIsNamedAndIgnored) {
  RegisterAndTell("hank", 4);
  const json forged = SequenceStatement("hank", key::BackupKey::Generate(), 40);
  const std::vector<std::pair<std::string, json>> lies = {
      {"signed by another key", {{"sequence", 40}, {"signature", forged["signature"]}}},
      {"unsigned", {{"sequence", 40}}},
  };
  for (const auto& [what, lie] : lies) {
    auto client = realms_.TamperedClient(2, 1, [lie](const std::string& path, json& reply) {
      if (path == "/v1/realm/unlock") reply["backup_sequence"] = lie;
    });
    auto got = client->Recover("hank", kPassword);
    ASSERT_THAT(got, IsOk()) << what;
    EXPECT_EQ(got->key.Hex(), k_.Hex());
    EXPECT_EQ(got->backup_sequence, std::optional<uint64_t>(4)) << what;
    EXPECT_TRUE(Named(*got, realms_[1].url(), "no device holding the key signed")) << what;
  }
}

// What an outsider can compare of a reply: each field's name, JSON type and, for text, length.
std::map<std::string, std::string> Shape(const json& j) {
  std::map<std::string, std::string> out;
  for (const auto& [name, value] : j.items()) {
    out[name] = std::string(value.type_name()) +
                (value.is_string() ? ":" + std::to_string(value.get<std::string>().size()) : "");
  }
  return out;
}

template <size_t N>
std::array<uint8_t, N> Fixed(const json& hex) {
  const Bytes bytes = HexDecode(hex.get<std::string>()).value();
  std::array<uint8_t, N> out{};
  std::copy_n(bytes.begin(), std::min(N, bytes.size()), out.begin());
  return out;
}

// A realm answers for an account it holds nothing for as for one it holds: the same fields and
// sizes at every route, the same version every time, an evaluation whose proof and signature
// check out, and an unlock that fails as a wrong password. (Accounts of one length: a sealed
// session holds its account.)
TEST(RealmsProcess, ARealmAnswersForAnAccountItDoesNotHoldAsForOneItHolds) {
  Realms realms(3);
  ASSERT_EQ(realms.Start(), "");
  ASSERT_THAT(realms.Register("ivy", key::BackupKey::Generate()), IsOk());
  const auto blinded = opaque::VoprfClient::Blind(AsBytes("a guess 1")).value().blinded();
  for (size_t i = 0; i < realms.size(); ++i) {
    std::map<std::string, json> evaluated;
    for (const std::string account : {"ivy", "kim"}) {
      auto [status, version] = realms.Send(i, "/v1/realm/version", {{"account", account}});
      ASSERT_EQ(status, 200) << account << ": " << version.dump();
      EXPECT_EQ(realms.Send(i, "/v1/realm/version", {{"account", account}}).second, version)
          << account << ": the same answer every time";
      auto [wrong_version, conflict] = realms.Send(i, "/v1/realm/evaluate",
                                                   {{"account", account},
                                                    {"version", std::string(32, '0')},
                                                    {"blinded", HexEncode(blinded)}});
      EXPECT_EQ(wrong_version, 409) << account << ": " << conflict.dump();
      auto [evaluate_status, evaluation] = realms.Send(
          i, "/v1/realm/evaluate",
          {{"account", account}, {"version", version["version"]}, {"blinded", HexEncode(blinded)}});
      ASSERT_EQ(evaluate_status, 200) << account << ": " << evaluation.dump();
      evaluated[account] = evaluation;
      // The client's checks pass: the signature over the share's public key, and the proof.
      const opaque::Element public_key = Fixed<32>(evaluation["public_key"]);
      const Bytes statement = vaultproto::realm::ShareStatement(
          Fixed<16>(version["version"]), version["threshold"].get<uint8_t>(),
          version["realms"].get<uint8_t>(), version["index"].get<uint8_t>(), public_key);
      EXPECT_TRUE(crypto::VerifySignature(
          Fixed<crypto::kVerifyKeySize>(evaluation["verifying_key"]), statement,
          Fixed<crypto::kSignatureSize>(evaluation["share_signature"])))
          << account;
      opaque::EvaluatedShare share{evaluation["index"].get<uint8_t>(),
                                   Fixed<32>(evaluation["evaluated"]),
                                   Fixed<opaque::kOprfProofSize>(evaluation["proof"])};
      EXPECT_THAT(opaque::VerifyShare(public_key, blinded, share), IsOk()) << account;
    }
    EXPECT_EQ(Shape(realms.Send(i, "/v1/realm/version", {{"account", "kim"}}).second),
              Shape(realms.Send(i, "/v1/realm/version", {{"account", "ivy"}}).second));
    EXPECT_EQ(Shape(evaluated["kim"]), Shape(evaluated["ivy"]));
    std::map<std::string, std::pair<long, json>> unlocked;
    for (const std::string account : {"ivy", "kim"}) {
      unlocked[account] = realms.Send(
          i, "/v1/realm/unlock",
          {{"session", evaluated[account]["session"]}, {"proof", std::string(64, 'a')}});
      EXPECT_EQ(unlocked[account].first, 401) << unlocked[account].second.dump();
    }
    EXPECT_EQ(Shape(unlocked["kim"].second), Shape(unlocked["ivy"].second));
    EXPECT_EQ(unlocked["kim"].second["error"], unlocked["ivy"].second["error"]);
  }
  EXPECT_NE(realms.Send(0, "/v1/realm/version", {{"account", "kim"}}).second["version"],
            realms.Send(1, "/v1/realm/version", {{"account", "kim"}}).second["version"])
      << "each realm makes up its own (docs/REALMS.md, Honest limits)";
  const Status unknown = realms.Client(2)->Recover("kim", kPassword).status();
  const Status wrong = realms.Client(2)->Recover("ivy", "a wrong pass 2").status();
  EXPECT_EQ(unknown.code(), Code::kPermissionDenied) << unknown.ToString();
  EXPECT_EQ(unknown.code(), wrong.code()) << wrong.ToString();
  for (size_t i = 0; i < realms.size(); ++i) {
    EXPECT_EQ(VaultMetric(realms[i], "fake_logins_total"), 1u) << "counted as the single vault";
  }
}

// One guess made as an attacker who spreads over the realms: to realms `first`, then the next
// ones until two answered. True when two realms evaluated it (a complete guess).
bool Guess(Realms& realms, const json& version, const std::string& account, int first,
           const std::string& password, std::atomic<int>* evaluations = nullptr) {
  auto blinded = opaque::VoprfClient::Blind(AsBytes(password));
  int answered = 0;
  for (int offset = 0; offset < 3 && answered < 2; ++offset) {
    auto [status, reply] = realms.Send((first + offset) % 3, "/v1/realm/evaluate",
                                       {{"account", account},
                                        {"version", version["version"]},
                                        {"blinded", HexEncode(blinded->blinded())}});
    if (status == 200) ++answered;
  }
  if (evaluations) *evaluations += answered;
  return answered == 2;
}

// 2-of-3 realms with 7 guesses each: an attacker gets floor(3*7/2) = 10 guesses in total, exactly
// when guessing one at a time, at most that when 64 guess at once (racing guessers waste counts:
// a guess answered by one realm and refused by the others is spent and useless); once the
// counted guesses expire every realm has destroyed its share.
TEST(RealmsProcess, GuessersGetTheConfiguredTotalAndThenEveryShareIsGone) {
  Realms realms(3);
  ASSERT_EQ(realms.Start(), "");
  for (const char* account : {"dave", "erin"}) {
    ASSERT_THAT(realms.Register(account, key::BackupKey::Generate()), IsOk());
  }
  const json dave = realms.Send(0, "/v1/realm/version", {{"account", "dave"}}).second;
  int sequential = 0;
  for (int g = 0; g < 30; ++g)
    sequential += Guess(realms, dave, "dave", g % 3, "g" + std::to_string(g));
  EXPECT_EQ(sequential, 10);

  const json erin = realms.Send(0, "/v1/realm/version", {{"account", "erin"}}).second;
  std::atomic<int> concurrent{0}, evaluations{0};
  std::vector<std::thread> guessers;
  for (int g = 0; g < 64; ++g) {
    guessers.emplace_back([&, g] {
      if (Guess(realms, erin, "erin", g % 3, "guess " + std::to_string(g), &evaluations)) {
        ++concurrent;
      }
    });
  }
  for (auto& t : guessers) t.join();
  EXPECT_LE(concurrent.load(), 10);
  EXPECT_EQ(evaluations.load(), 21);  // every count used, none more

  std::this_thread::sleep_for(std::chrono::seconds(11));  // the counted guesses expire
  for (const char* account : {"dave", "erin"}) {
    const json& version = std::string(account) == "dave" ? dave : erin;
    for (size_t i = 0; i < 3; ++i) {
      (void)Guess(realms, version, account, static_cast<int>(i), "after");
      EXPECT_EQ(realms.Send(i, "/v1/realm/version", {{"account", account}}).first, 423)
          << account << " at realm " << i;
    }
  }
}

// A realm restored from a snapshot and replayed from its audit log (docs/OPERATIONS.md,
// "Restore"): the guesses counted there since count again, a share destroyed since is destroyed
// again, one deleted is deleted again, and a registration made since is named.
TEST(RealmsProcess, ARestoredRealmReplaysItsAuditLog) {
  testing::TempDir outside;  // the audit log and the backup, kept apart from the store
  Realms realms(3, "--audit-log " + outside.Sub("audit.jsonl"));
  ASSERT_EQ(realms.Start(), "");
  const key::BackupKey carol = key::BackupKey::Generate();
  ASSERT_THAT(realms.Register("alice", key::BackupKey::Generate()), IsOk());
  ASSERT_THAT(realms.Register("bob", key::BackupKey::Generate()), IsOk());
  ASSERT_THAT(realms.Register("carol", carol), IsOk());
  KeyvaultdProcess& first = realms[0];
  const std::string backup = outside.Sub("backup.db");
  auto [backup_rc, backed_up] =
      first.Run("backup-store --store " + first.Store() + " --to " + backup);
  ASSERT_EQ(backup_rc, 0) << backed_up;

  // After the snapshot.
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(realms.Client(2)->Recover("alice", "wrong 1").ok());
  for (int i = 0; i < 7; ++i) EXPECT_FALSE(realms.Client(2)->Recover("bob", "wrong 2").ok());
  std::this_thread::sleep_for(std::chrono::seconds(11));  // bob's counted guesses expire
  EXPECT_THAT(realms.Client(2)->Recover("bob", "wrong 3"), StatusIs(Code::kLockedOut));
  ASSERT_THAT(realms.Client(2)->Delete("carol", realms.Tokens("carol"), carol), IsOk());
  ASSERT_THAT(realms.Register("dave", key::BackupKey::Generate()), IsOk());
  first.Stop();

  auto [restore_rc, restored] =
      first.Run("restore-store --store " + first.Store() + " --from " + backup);
  ASSERT_EQ(restore_rc, 0) << restored;
  const std::string replay = "audit-replay --store " + first.Store() + " " + first.HsmFlags() +
                             " --audit-log " + outside.Sub("audit.jsonl");
  auto [dry_rc, dry] = first.Run(replay + " --dry-run");
  ASSERT_EQ(dry_rc, 0) << dry;
  EXPECT_NE(dry.find("would replay"), std::string::npos) << dry;
  auto [replay_rc, replayed] = first.Run(replay);
  ASSERT_EQ(replay_rc, 0) << replayed;
  EXPECT_NE(replayed.find("1 counters raised, 0 lowered by logins, 1 records destroyed, 1 deleted, "
                          "0 restored with an older registration, 1 not in the restored store"),
            std::string::npos)
      << replayed;
  EXPECT_NE(replayed.find("realm account "), std::string::npos) << replayed;

  ASSERT_EQ(first.Start(), "");
  const json alice = realms.Send(0, "/v1/realm/version", {{"account", "alice"}}).second;
  auto [evaluated, evaluation] =
      realms.Send(0, "/v1/realm/evaluate",
                  {{"account", "alice"},
                   {"version", alice["version"]},
                   {"blinded", HexEncode(opaque::VoprfClient::Blind(AsBytes("next"))->blinded())}});
  ASSERT_EQ(evaluated, 200) << evaluation.dump();
  EXPECT_EQ(evaluation["attempts_remaining"], 7 - 4) << "3 guesses after the snapshot, and this";
  EXPECT_EQ(realms.Send(0, "/v1/realm/version", {{"account", "bob"}}).first, 423);
}

}  // namespace
}  // namespace chatvault::vaultclient

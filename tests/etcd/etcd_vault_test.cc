// Vault-level faults: several keyvaultd instances share one 3-member etcd cluster. 64 clients
// guessing wrong passwords at once, spread over the instances, must get exactly 10 guesses in
// total — also while the etcd leader is killed or a member is cut off — and without a quorum
// the vault must say "unavailable", never "wrong password" and never a fake answer.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <set>

#include "chatvault/opaque/client.h"
#include "chatvault/opaque/ksf.h"
#include "chatvault/vaultclient/vault_client.h"
#include "etcd/etcd_cluster.h"
#include "etcd/vault_fleet.h"
#include "support/recording_transport.h"
#include "support/status_matchers.h"

namespace chatvault::etcd {
namespace {

using ::chatvault::testing::IsOk;
using nlohmann::json;
using std::chrono::milliseconds;
using testing::EtcdCluster;
using testing::VaultFleet;

constexpr int kInstances = 3;
constexpr int kClients = 64;
constexpr int kMaxGuesses = 10;

Bytes Str(std::string_view s) { return Bytes(s.begin(), s.end()); }

bool Transient(int status) { return status == 0 || status == 503; }

// A real client for one instance, retrying as long as a leader election may take.
std::unique_ptr<vaultclient::VaultClient> Client(VaultFleet& fleet, size_t instance) {
  vaultclient::ClientOptions options;
  options.allow_weak_ksf = true;
  options.retry_for = std::chrono::seconds(40);
  return std::move(vaultclient::VaultClient::Connect({fleet.Url(instance), fleet.CaFile()},
                                                     std::move(options))
                       .value());
}

// Registers `account`; true only when the vault acknowledged it.
bool Register(VaultFleet& fleet, size_t instance, const std::string& account,
              const std::string& password, const key::BackupKey& key) {
  Status s = Client(fleet, instance)->Register(account, fleet.IssueToken(account), password, key);
  if (!s.ok()) std::printf("  registering %s: %s\n", account.c_str(), s.ToString().c_str());
  return s.ok();
}

// A full login; returns "key:" and the key's digits, or what went wrong.
std::string Recover(VaultFleet& fleet, size_t instance, const std::string& account,
                    const std::string& password) {
  auto got = Client(fleet, instance)->Recover(account, password);
  if (!got.ok()) return std::string(CodeName(got.status().code()));
  return "key:" + got->key.Hex();
}

struct GuessOutcome {
  std::multiset<int> attempts_remaining;  // one entry per KE2 the vault handed out
  int locked_out = 0;
  int transient = 0;
  int counted_when_fault_hit = 0;
  std::vector<std::string> unexpected;
};

// kClients wrong-password clients; `fault` runs once the first guess has been counted, and the
// other nine are fought over while the cluster recovers from it.
template <typename Fault>
GuessOutcome GuessStorm(VaultFleet& fleet, const std::string& account, Fault fault) {
  GuessOutcome out;
  std::mutex mu;
  std::atomic<int> counted{0};
  std::atomic<bool> fault_in_place{false};
  std::vector<std::thread> clients;
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      // Client 0 guesses alone; the other 63 are let loose once the fault is in place (the etcd
      // election it causes takes about a second), 15 ms apart, and pile onto the same record.
      if (c > 0) {
        while (!fault_in_place && std::chrono::steady_clock::now() < give_up) {
          std::this_thread::sleep_for(milliseconds(5));
        }
        std::this_thread::sleep_for(milliseconds(15 * c));
      }
      // One login per client, repeated as it is until it gets an answer: a guess counted while
      // its answer was lost (503, dropped connection) is answered on the retry, not counted again.
      auto login = opaque::ClientLogin::Start(Str("wrong password " + std::to_string(c)));
      const nlohmann::json start{{"account", account},
                                 {"ke1", HexEncode(login->ke1().Serialize())}};
      while (std::chrono::steady_clock::now() < give_up) {
        auto reply = fleet.Post(c % kInstances, "/v1/recover/start", start);
        std::lock_guard<std::mutex> lock(mu);
        if (reply.status == 200) {
          out.attempts_remaining.insert(reply.body["attempts_remaining"].get<int>());
          ++counted;
          return;
        }
        if (reply.status == 423) {
          ++out.locked_out;
          return;
        }
        if (!Transient(reply.status)) {
          out.unexpected.push_back("status " + std::to_string(reply.status) + ": " +
                                   reply.body.dump());
          return;
        }
        ++out.transient;
      }
      std::lock_guard<std::mutex> lock(mu);
      out.unexpected.push_back("client " + std::to_string(c) + " never got an answer");
    });
  }
  while (counted == 0 && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(milliseconds(5));
  }
  fault();
  out.counted_when_fault_hit = counted;
  fault_in_place = true;
  for (auto& t : clients) t.join();
  return out;
}

void ExpectExactlyTen(const GuessOutcome& out) {
  for (const auto& u : out.unexpected) ADD_FAILURE() << u;
  std::multiset<int> expected;
  for (int i = 0; i < kMaxGuesses; ++i) expected.insert(i);
  // Ten KE2s, each with a different count left: every counted guess was answered, none was
  // counted twice.
  EXPECT_EQ(out.attempts_remaining, expected);
  EXPECT_EQ(out.locked_out, kClients - kMaxGuesses);
  std::printf(
      "  %zu guesses counted (%d before the fault was in place), %d clients locked out, "
      "%d transient 503s retried\n",
      out.attempts_remaining.size(), out.counted_when_fault_hit, out.locked_out, out.transient);
}

class EtcdVaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string keyvaultd = std::string(CHATVAULT_BINARY_DIR) + "/src/vault/keyvaultd";
    if (::access(keyvaultd.c_str(), X_OK) != 0) GTEST_SKIP() << "keyvaultd is not built";
    cluster_ = EtcdCluster::Start();
    ASSERT_NE(cluster_, nullptr) << "the etcd cluster did not start";
    fleet_ = VaultFleet::Prepare();
    ASSERT_NE(fleet_, nullptr) << "could not prepare the HSM token and certificate";
    const std::string spec = cluster_->Spec("vault", "attempt_ms=1000&timeout_ms=3000");
    for (int i = 0; i < kInstances; ++i) {
      ASSERT_EQ(fleet_->Start(spec), i) << "keyvaultd " << i << " did not start";
    }
  }

  std::unique_ptr<EtcdCluster> cluster_;
  std::unique_ptr<VaultFleet> fleet_;  // destroyed first: vaults stop before etcd does
  void TearDown() override { fleet_.reset(); }
};

TEST_F(EtcdVaultTest, TenGuessesInTotalWhileTheLeaderIsKilled) {
  const key::BackupKey k = key::BackupKey::Generate();
  ASSERT_TRUE(Register(*fleet_, 0, "alice", "correct horse 1", k));
  EXPECT_EQ(Recover(*fleet_, 1, "alice", "correct horse 1"), "key:" + k.Hex());

  // Registrations acknowledged during the leader kill must all survive it.
  std::map<std::string, bool> registered;
  std::thread registrar;
  int killed = 0;
  auto out = GuessStorm(*fleet_, "alice", [&] {
    registrar = std::thread([&] {
      for (int i = 0; i < 4; ++i) {
        const std::string account = "carol" + std::to_string(i);
        registered[account] = Register(*fleet_, i % kInstances, account, "pw1 " + account, k);
      }
    });
    killed = cluster_->Leader();
    ASSERT_GT(killed, 0);
    ASSERT_TRUE(cluster_->Kill(killed));
  });
  registrar.join();
  ASSERT_GT(killed, 0);
  ExpectExactlyTen(out);
  // No attempt is left: even the right password is refused now.
  EXPECT_EQ(Recover(*fleet_, 2, "alice", "correct horse 1"), "locked out");
  for (const auto& [account, acknowledged] : registered) {
    if (!acknowledged) continue;
    EXPECT_EQ(Recover(*fleet_, 0, account, "pw1 " + account), "key:" + k.Hex())
        << account << " was acknowledged but cannot be recovered";
  }
}

TEST_F(EtcdVaultTest, TenGuessesInTotalWhileAMemberIsPartitioned) {
  const key::BackupKey k = key::BackupKey::Generate();
  ASSERT_TRUE(Register(*fleet_, 0, "bob", "hunter2 but longer", k));
  int cut = 0;
  auto out = GuessStorm(*fleet_, "bob", [&] {
    cut = cluster_->Leader();
    ASSERT_GT(cut, 0);
    ASSERT_TRUE(cluster_->Partition(cut));
  });
  ASSERT_GT(cut, 0);
  ExpectExactlyTen(out);
  EXPECT_EQ(Recover(*fleet_, 1, "bob", "hunter2 but longer"), "locked out");
}

// The replay rules and the slow phone across instances: every request of a client goes to the
// next instance in turn, so a login's KE2 and KE3 land on different keyvaultd processes.
TEST_F(EtcdVaultTest, ReplaysResetNothingAndASlowLoginFinishesOnAnotherInstance) {
  auto log = std::make_shared<chatvault::testing::RecordingTransport::Log>();
  std::vector<std::string> urls;
  for (int i = 0; i < kInstances; ++i) urls.push_back(fleet_->Url(i));
  auto client = [&](vaultclient::ClientOptions options = {}) {
    options.allow_weak_ksf = true;
    return vaultclient::VaultClient::Over(
        std::make_unique<chatvault::testing::RecordingTransport>(urls, fleet_->CaFile(), log),
        std::move(options));
  };
  auto replay = [&](const chatvault::testing::CapturedRequest& request) {
    return fleet_->Post(2, request.path, nlohmann::json::parse(request.body)).status;
  };
  const key::BackupKey k = key::BackupKey::Generate();
  ASSERT_TRUE(client()->Register("erin", fleet_->IssueToken("erin"), "erins pass 1", k).ok());
  const auto finish = log->Last("/v1/register/finish");
  vaultclient::ClientOptions slow;
  slow.before_finish = [] { std::this_thread::sleep_for(std::chrono::seconds(30)); };
  auto got = client(slow)->Recover("erin", "erins pass 1");
  ASSERT_THAT(got, IsOk());
  EXPECT_EQ(got->key.Hex(), k.Hex());
  EXPECT_EQ(got->attempts_remaining, 10u);
  const auto login = log->Last("/v1/recover/finish");
  for (int i = 0; i < 9; ++i) {
    EXPECT_EQ(client()->Recover("erin", "a wrong one 1").status().code(), Code::kPermissionDenied);
  }
  EXPECT_EQ(replay(finish), 200);  // recognised, not applied again
  EXPECT_EQ(replay(login), 200);   // the key again, but no reset
  EXPECT_EQ(client()->Recover("erin", "a wrong one 1").status().code(), Code::kLockedOut);
  EXPECT_EQ(replay(finish), 409);
  EXPECT_EQ(Recover(*fleet_, 0, "erin", "erins pass 1"), "locked out");
}

TEST_F(EtcdVaultTest, WithoutQuorumTheVaultSaysUnavailableNotWrongPassword) {
  const key::BackupKey k = key::BackupKey::Generate();
  ASSERT_TRUE(Register(*fleet_, 0, "dave", "open sesame 1", k));
  ASSERT_TRUE(cluster_->Kill(1));
  ASSERT_TRUE(cluster_->Kill(2));
  for (const std::string account : {"dave", "nobody-registered-this"}) {
    auto login = opaque::ClientLogin::Start(Str("a wrong guess"));
    auto reply = fleet_->Post(0, "/v1/recover/start",
                              {{"account", account}, {"ke1", HexEncode(login->ke1().Serialize())}});
    EXPECT_EQ(reply.status, 503) << account << ": " << reply.body.dump();
    EXPECT_EQ(reply.body["error"]["code"], "unavailable") << reply.body.dump();
  }
  // Quorum back: the refused guesses were not counted, and the right password works.
  ASSERT_TRUE(cluster_->Restart(1));
  EXPECT_EQ(Recover(*fleet_, 1, "dave", "open sesame 1"), "key:" + k.Hex());
}

}  // namespace
}  // namespace chatvault::etcd

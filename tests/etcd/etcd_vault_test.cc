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
#include "etcd/etcd_cluster.h"
#include "etcd/vault_fleet.h"

namespace chatvault::etcd {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using testing::EtcdCluster;
using testing::VaultFleet;

constexpr int kInstances = 3;
constexpr int kClients = 64;
constexpr int kMaxGuesses = 10;

Bytes Str(std::string_view s) { return Bytes(s.begin(), s.end()); }

bool Transient(int status) { return status == 0 || status == 503; }

// Registers `account`; true only when the vault acknowledged it (200 from register/finish).
bool Register(VaultFleet& fleet, size_t instance, const std::string& account,
              const std::string& password, const Bytes& wrapped_key) {
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(40);
  const std::string token = fleet.IssueToken(account);
  while (std::chrono::steady_clock::now() < give_up) {
    auto reg = opaque::ClientRegistration::Start(Str(password));
    if (!reg.ok()) return false;
    auto start = fleet.Post(instance, "/v1/register/start",
                            {{"account", account},
                             {"token", token},
                             {"request", HexEncode(reg->request().Serialize())}});
    if (Transient(start.status)) {
      std::this_thread::sleep_for(milliseconds(100));
      continue;
    }
    if (start.status != 200) return false;
    auto response =
        opaque::RegistrationResponse::Parse(*HexDecode(start.body["response"].get<std::string>()));
    auto ksf_bytes = HexDecode(start.body["ksf"].get<std::string>());
    auto ksf = opaque::KsfParams::Parse(*ksf_bytes);
    if (!response.ok() || !ksf.ok()) return false;
    auto done = std::move(*reg).Finish(*response, {}, *ksf);
    if (!done.ok()) return false;
    auto finish = fleet.Post(instance, "/v1/register/finish",
                             {{"account", account},
                              {"token", token},
                              {"record", HexEncode(done->record.Serialize())},
                              {"ksf", HexEncode(*ksf_bytes)},
                              {"wrapped_key", HexEncode(wrapped_key)},
                              {"verifier", std::string(64, 'a')}});
    if (finish.status == 200) return true;
    if (!Transient(finish.status)) return false;
    std::this_thread::sleep_for(milliseconds(100));
  }
  return false;
}

// A full login with the right password; returns the wrapped key, or the HTTP status as text.
std::string Recover(VaultFleet& fleet, size_t instance, const std::string& account,
                    const std::string& password) {
  for (int tries = 0; tries < 50; ++tries) {
    auto login = opaque::ClientLogin::Start(Str(password));
    auto start = fleet.Post(instance, "/v1/recover/start",
                            {{"account", account}, {"ke1", HexEncode(login->ke1().Serialize())}});
    if (Transient(start.status)) {
      std::this_thread::sleep_for(milliseconds(200));
      continue;
    }
    if (start.status != 200) return "status " + std::to_string(start.status);
    auto ke2 = opaque::KE2::Parse(*HexDecode(start.body["ke2"].get<std::string>()));
    auto ksf = opaque::KsfParams::Parse(*HexDecode(start.body["ksf"].get<std::string>()));
    auto done = std::move(*login).Finish(*ke2, {}, *ksf);
    if (!done.ok()) return "client rejected the server: " + done.status().ToString();
    auto finish =
        fleet.Post(instance, "/v1/recover/finish",
                   {{"session", start.body["session"]}, {"ke3", HexEncode(done->ke3.Serialize())}});
    if (finish.status != 200) return "finish status " + std::to_string(finish.status);
    return "key:" + finish.body["wrapped_key"].get<std::string>();
  }
  return "never available";
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
      while (std::chrono::steady_clock::now() < give_up) {
        auto login = opaque::ClientLogin::Start(Str("wrong password " + std::to_string(c)));
        auto reply =
            fleet.Post(c % kInstances, "/v1/recover/start",
                       {{"account", account}, {"ke1", HexEncode(login->ke1().Serialize())}});
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
  // Ten KE2s, each with a different count left: no guess was lost or spent twice.
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
  const Bytes wrapped(48, 0x42);
  ASSERT_TRUE(Register(*fleet_, 0, "alice", "correct horse", wrapped));
  EXPECT_EQ(Recover(*fleet_, 1, "alice", "correct horse"), "key:" + HexEncode(wrapped));

  // Registrations acknowledged during the leader kill must all survive it.
  std::map<std::string, bool> registered;
  std::thread registrar;
  int killed = 0;
  auto out = GuessStorm(*fleet_, "alice", [&] {
    registrar = std::thread([&] {
      for (int i = 0; i < 4; ++i) {
        const std::string account = "carol" + std::to_string(i);
        registered[account] = Register(*fleet_, i % kInstances, account, "pw " + account, wrapped);
      }
    });
    killed = cluster_->Leader();
    ASSERT_GT(killed, 0);
    ASSERT_TRUE(cluster_->Kill(killed));
  });
  registrar.join();
  ASSERT_GT(killed, 0);
  ExpectExactlyTen(out);
  // The record is gone: even the right password is refused now.
  EXPECT_EQ(Recover(*fleet_, 2, "alice", "correct horse"), "status 423");
  for (const auto& [account, acknowledged] : registered) {
    if (!acknowledged) continue;
    EXPECT_EQ(Recover(*fleet_, 0, account, "pw " + account), "key:" + HexEncode(wrapped))
        << account << " was acknowledged but cannot be recovered";
  }
}

TEST_F(EtcdVaultTest, TenGuessesInTotalWhileAMemberIsPartitioned) {
  const Bytes wrapped(48, 0x17);
  ASSERT_TRUE(Register(*fleet_, 0, "bob", "hunter2 but longer", wrapped));
  int cut = 0;
  auto out = GuessStorm(*fleet_, "bob", [&] {
    cut = cluster_->Leader();
    ASSERT_GT(cut, 0);
    ASSERT_TRUE(cluster_->Partition(cut));
  });
  ASSERT_GT(cut, 0);
  ExpectExactlyTen(out);
  EXPECT_EQ(Recover(*fleet_, 1, "bob", "hunter2 but longer"), "status 423");
}

TEST_F(EtcdVaultTest, WithoutQuorumTheVaultSaysUnavailableNotWrongPassword) {
  const Bytes wrapped(48, 0x99);
  ASSERT_TRUE(Register(*fleet_, 0, "dave", "open sesame", wrapped));
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
  EXPECT_EQ(Recover(*fleet_, 1, "dave", "open sesame"), "key:" + HexEncode(wrapped));
}

}  // namespace
}  // namespace chatvault::etcd

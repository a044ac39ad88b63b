// The vault's promises, checked against a real keyvaultd process (SoftHSM2 token, SQLite store,
// HTTPS on loopback).
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "chatvault/opaque/client.h"
#include "chatvault/vaultclient/vault_client.h"
#include "support/status_matchers.h"
#include "vault/keyvaultd_fixture.h"
#include "vault/keyvaultd_process.h"
#include "vault/vault_metrics.h"

namespace chatvault::vaultclient {
namespace {

using ::chatvault::testing::IsOk;

// The test vaults ask for tiny Argon2id parameters, which a real client refuses.
ClientOptions WeakKsfAllowed() {
  ClientOptions options;
  options.allow_weak_ksf = true;
  return options;
}

using testing::KeyvaultdFixture;
using testing::KeyvaultdProcess;

class KeyvaultdTest : public KeyvaultdFixture {
 protected:
  std::unique_ptr<VaultClient> Client() override {
    auto c = VaultClient::Connect({vault_.url(), vault_.ca_file()}, WeakKsfAllowed());
    EXPECT_THAT(c, IsOk());
    return std::move(c).value();
  }

  std::unique_ptr<httplib::Client> Raw() {
    auto c = std::make_unique<httplib::Client>(vault_.url());
    c->set_ca_cert_path(vault_.ca_file().c_str());
    c->enable_server_certificate_verification(true);
    return c;
  }

  uint64_t Metric(const std::string& name) { return testing::VaultMetric(vault_, name); }
};

TEST_F(KeyvaultdTest, RegisteredKeyComesBackWithTheRightPassword) {
  key::BackupKey k = RegisterAlice();
  auto got = Client()->Recover("alice", kPassword);
  ASSERT_THAT(got, IsOk());
  EXPECT_EQ(got->key.Hex(), k.Hex());
  EXPECT_EQ(got->attempts_remaining, 10u);
}

TEST_F(KeyvaultdTest, WrongPasswordsCountDownAndTheRightOneResets) {
  key::BackupKey k = RegisterAlice();
  auto client = Client();
  for (int i = 1; i <= 3; ++i) {
    auto got = client->Recover("alice", kWrong);
    ASSERT_EQ(got.status().code(), Code::kPermissionDenied) << got.status().ToString();
    EXPECT_NE(got.status().message().find(std::to_string(10 - i) + " attempts remain"),
              std::string::npos)
        << got.status().message();
  }
  auto ok = client->Recover("alice", kPassword);
  ASSERT_THAT(ok, IsOk());
  EXPECT_EQ(ok->key.Hex(), k.Hex());
  // Back to the full allowance: the next wrong guess leaves 9.
  auto wrong = client->Recover("alice", kWrong);
  EXPECT_NE(wrong.status().message().find("9 attempts remain"), std::string::npos)
      << wrong.status().message();
}

TEST_F(KeyvaultdTest, ExactlyTenGuessesUnder64ConcurrentWrongPasswordClients) {
  RegisterAlice();
  std::atomic<int> wrong{0}, locked{0}, other{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 64; ++i) {
    threads.emplace_back([&] {
      auto got = Client()->Recover("alice", kWrong);
      switch (got.status().code()) {
        case Code::kPermissionDenied: ++wrong; break;
        case Code::kLockedOut: ++locked; break;
        default: ++other; ADD_FAILURE() << got.status().ToString();
      }
    });
  }
  for (auto& t : threads) t.join();
  // Exactly 10 KE2s left the vault for the real record. The first wrong KE3 settled after the
  // counter reached 10 destroys the record, so KE2-holders are told "locked out" rather than
  // "wrong password" once that happened: at most 10 clients see a plain wrong password.
  EXPECT_EQ(Metric("guesses_counted_total"), 10u);
  EXPECT_EQ(Metric("fake_logins_total"), 0u);
  EXPECT_EQ(wrong + locked, 64);
  EXPECT_LE(wrong.load(), 10);
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(Client()->Recover("alice", kPassword).status().code(), Code::kLockedOut);
  EXPECT_EQ(Metric("lockouts_total"), 1u);
}

// Right passwords racing each other and a few wrong ones on one account: every right one gets
// the key (a reset that lost its compare-and-set to another login retries on the current record),
// no wrong one does, and a reset still happens only after a valid KE3.
TEST_F(KeyvaultdTest, ConcurrentRightAndWrongPasswordsOnOneAccount) {
  key::BackupKey k = RegisterAlice();
  // At most 4 right logins in flight plus 3 wrong guesses: the counter can never reach 10.
  constexpr int kRightThreads = 4, kRightEach = 5, kWrongGuesses = 3;
  std::atomic<int> right{0}, wrong{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kRightThreads; ++i) {
    threads.emplace_back([&] {
      auto client = Client();
      for (int n = 0; n < kRightEach; ++n) {
        auto got = client->Recover("alice", kPassword);
        ASSERT_THAT(got, IsOk());
        EXPECT_EQ(got->key.Hex(), k.Hex());
        ++right;
      }
    });
  }
  threads.emplace_back([&] {
    auto client = Client();
    for (int n = 0; n < kWrongGuesses; ++n) {
      auto got = client->Recover("alice", kWrong);
      EXPECT_EQ(got.status().code(), Code::kPermissionDenied) << got.status().ToString();
      ++wrong;
    }
  });
  for (auto& t : threads) t.join();
  EXPECT_EQ(right.load(), kRightThreads * kRightEach);
  EXPECT_EQ(wrong.load(), kWrongGuesses);
  EXPECT_EQ(Metric("recoveries_total"), static_cast<uint64_t>(kRightThreads * kRightEach));
  EXPECT_EQ(Metric("wrong_passwords_total"), static_cast<uint64_t>(kWrongGuesses));
  EXPECT_EQ(Metric("guesses_counted_total"),
            static_cast<uint64_t>(kRightThreads * kRightEach + kWrongGuesses));
  // A wrong guess after all that is counted against a reset counter only if a right login came
  // last: make it so, then check.
  ASSERT_TRUE(Client()->Recover("alice", kPassword).ok());
  auto after = Client()->Recover("alice", kWrong);
  EXPECT_NE(after.status().message().find("9 attempts remain"), std::string::npos)
      << after.status().message();
}

TEST_F(KeyvaultdTest, CountersAndLockoutSurviveRestartAndKill9) {
  key::BackupKey k = RegisterAlice();
  for (int i = 0; i < 4; ++i) ASSERT_FALSE(Client()->Recover("alice", kWrong).ok());
  vault_.Stop(/*kill9=*/true);
  ASSERT_EQ(vault_.Start(), "");
  auto got = Client()->Recover("alice", kWrong);
  EXPECT_NE(got.status().message().find("5 attempts remain"), std::string::npos)
      << got.status().message();
  vault_.Stop();  // graceful restart too
  ASSERT_EQ(vault_.Start(), "");
  for (int i = 0; i < 5; ++i) (void)Client()->Recover("alice", kWrong);
  vault_.Stop(/*kill9=*/true);
  ASSERT_EQ(vault_.Start(), "");
  EXPECT_EQ(Client()->Recover("alice", kPassword).status().code(), Code::kLockedOut);
  (void)k;
}

// A client that walks away after KE2 has still spent its guess: 10 abandoned logins exhaust the
// record even though no KE3 ever arrived.
TEST_F(KeyvaultdTest, NoGuessIsFreeWhenTheClientDropsAfterKe2) {
  RegisterAlice();
  auto raw = Raw();
  for (int i = 0; i < 10; ++i) {
    auto login = opaque::ClientLogin::Start(AsBytes(kWrong));
    ASSERT_THAT(login, IsOk());
    nlohmann::json req{{"account", "alice"}, {"ke1", HexEncode(login->ke1().Serialize())}};
    auto res = raw->Post("/v1/recover/start", req.dump(), "application/json");
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 200) << res->body;
    EXPECT_EQ(nlohmann::json::parse(res->body)["attempts_remaining"].get<int>(), 9 - i);
  }
  EXPECT_EQ(Client()->Recover("alice", kPassword).status().code(), Code::kLockedOut);
}

TEST_F(KeyvaultdTest, UnknownAccountsGetAFakeKe2NotANotFound) {
  auto raw = Raw();
  auto login = opaque::ClientLogin::Start(AsBytes(kPassword));
  nlohmann::json req{{"account", "nobody"}, {"ke1", HexEncode(login->ke1().Serialize())}};
  auto res = raw->Post("/v1/recover/start", req.dump(), "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  auto got = Client()->Recover("nobody", kPassword);
  EXPECT_EQ(got.status().code(), Code::kPermissionDenied) << got.status().ToString();
  EXPECT_EQ(Metric("fake_logins_total"), 2u);
}

TEST_F(KeyvaultdTest, BadRequestsAreRejectedCleanly) {
  auto raw = Raw();
  struct Case {
    const char* path;
    std::string body;
    int status;
  };
  const std::string ke1 = HexEncode(opaque::ClientLogin::Start(AsBytes("x1")).value().ke1().Serialize());
  const Case cases[] = {
      {"/v1/recover/start", "{not json", 400},
      {"/v1/recover/start", "[1,2,3]", 400},
      {"/v1/recover/start", R"({"account":"alice"})", 400},
      {"/v1/recover/start", R"({"account":"alice","ke1":"zz"})", 400},
      {"/v1/recover/start", R"({"account":"alice","ke1":"00"})", 400},
      {"/v1/recover/start", R"({"account":"bad account!","ke1":")" + ke1 + "\"}", 400},
      {"/v1/recover/start", R"({"account":42,"ke1":")" + ke1 + "\"}", 400},
      {"/v1/recover/start", std::string(100000, 'a'), 413},
      {"/v1/recover/finish", R"({"session":"00","ke3":")" + std::string(128, '0') + "\"}", 404},
      {"/v1/no/such/route", "{}", 404},
  };
  for (const Case& c : cases) {
    auto res = raw->Post(c.path, c.body, "application/json");
    ASSERT_TRUE(res) << c.path;
    EXPECT_EQ(res->status, c.status) << c.body.substr(0, 80) << " -> " << res->body;
    auto j = nlohmann::json::parse(res->body, nullptr, false);
    EXPECT_TRUE(j.is_object() && j.contains("error")) << res->body;
  }
  // Tokens: forged, expired, for another account.
  key::BackupKey k = key::BackupKey::Generate();
  auto client = Client();
  std::string forged = vault_.Token("alice");
  forged.back() = forged.back() == '0' ? '1' : '0';
  EXPECT_EQ(client->Register("alice", forged, kPassword, k).code(), Code::kPermissionDenied);
  EXPECT_EQ(client->Register("alice", vault_.Token("alice", -10), kPassword, k).code(),
            Code::kPermissionDenied);
  EXPECT_EQ(client->Register("alice", vault_.Token("bob"), kPassword, k).code(),
            Code::kPermissionDenied);
  EXPECT_EQ(client->Register("alice", "", kPassword, k).code(), Code::kPermissionDenied);
  EXPECT_TRUE(client->Health().ok());
  EXPECT_GE(Metric("rejected_requests_total"), 12u);
}

// After a lockout (or for any taken account) only the device that holds K may register again.
TEST_F(KeyvaultdTest, ReplacingARecordNeedsTheOriginalDevice) {
  key::BackupKey k = RegisterAlice();
  key::BackupKey other = key::BackupKey::Generate();
  auto client = Client();
  EXPECT_EQ(client->Register("alice", vault_.Token("alice"), "hijack 99", other).code(),
            Code::kAlreadyExists);
  for (int i = 0; i < 10; ++i) (void)client->Recover("alice", kWrong);
  ASSERT_EQ(client->Recover("alice", kPassword).status().code(), Code::kLockedOut);
  EXPECT_EQ(client->Register("alice", vault_.Token("alice"), "hijack 99", other).code(),
            Code::kAlreadyExists);
  // Password reset from the original device.
  ASSERT_TRUE(client->Register("alice", vault_.Token("alice"), "new pass 1", k).ok());
  auto got = client->Recover("alice", "new pass 1");
  ASSERT_THAT(got, IsOk());
  EXPECT_EQ(got->key.Hex(), k.Hex());
  // Deleting also needs K.
  EXPECT_EQ(client->Delete("alice", vault_.Token("alice"), other).code(), Code::kPermissionDenied);
  ASSERT_TRUE(client->Delete("alice", vault_.Token("alice"), k).ok());
  EXPECT_EQ(client->Recover("alice", "new pass 1").status().code(), Code::kPermissionDenied);
}

TEST_F(KeyvaultdTest, ClientsPinTheVaultCertificate) {
  testing::TempDir other;
  int rc = 0;
  testing::RunCommand(std::string(CHATVAULT_SOURCE_DIR) + "/tools/vault/make-test-cert.sh " +
                          other.path(),
                      &rc);
  ASSERT_EQ(rc, 0);
  auto c = VaultClient::Connect({vault_.url(), other.Sub("cert.pem")}, WeakKsfAllowed());
  ASSERT_THAT(c, IsOk());
  EXPECT_EQ((*c)->Health().code(), Code::kUnavailable);
  EXPECT_EQ(VaultClient::Connect({"http://127.0.0.1:1", ""}).status().code(),
            Code::kInvalidArgument);
}

TEST(PasswordRules, NeedSixCharactersALetterAndADigit) {
  EXPECT_TRUE(CheckPasswordRules("abc123").ok());
  EXPECT_FALSE(CheckPasswordRules("ab12").ok());
  EXPECT_FALSE(CheckPasswordRules("abcdefg").ok());
  EXPECT_FALSE(CheckPasswordRules("1234567").ok());
}

TEST(KeyvaultdDefaults, RegistrationRefusesWeakStretchingUnlessAllowed) {
  KeyvaultdProcess vault;  // asks clients for tiny Argon2id parameters
  ASSERT_EQ(vault.Start(), "");
  auto c = VaultClient::Connect({vault.url(), vault.ca_file()});
  ASSERT_THAT(c, IsOk());
  EXPECT_EQ((*c)->Register("alice", vault.Token("alice"), KeyvaultdFixture::kPassword,
                           key::BackupKey::Generate())
                .code(),
            Code::kPermissionDenied);
}

}  // namespace
}  // namespace chatvault::vaultclient

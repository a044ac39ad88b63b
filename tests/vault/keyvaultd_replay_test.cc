// The replay attacks of issue 16 and a slow phone, against a real keyvaultd (SoftHSM2 token,
// SQLite store, HTTPS on loopback): requests are captured as the real client sends them and
// replayed as an attacker who saw them would (tests/etcd/etcd_vault_test.cc does the same
// across instances on etcd).
#include <gtest/gtest.h>

#include <thread>

#include <nlohmann/json.hpp>

#include "support/recording_transport.h"
#include "support/status_matchers.h"
#include "vault/keyvaultd_fixture.h"

namespace chatvault::vaultclient {
namespace {

using ::chatvault::testing::IsOk;
using nlohmann::json;
using testing::CapturedRequest;
using testing::KeyvaultdFixture;
using testing::RecordingTransport;

class KeyvaultdReplayTest : public KeyvaultdFixture {
 protected:
  std::unique_ptr<VaultClient> Client() override { return Client(ClientOptions{}); }
  // A client whose requests are captured in log_, as the real client sends them.
  std::unique_ptr<VaultClient> Client(ClientOptions options) {
    options.allow_weak_ksf = true;
    return VaultClient::Over(
        std::make_unique<RecordingTransport>(std::vector<std::string>{vault_.url()},
                                             vault_.ca_file(), log_),
        std::move(options));
  }

  // Sends a captured request again, as it was; returns the HTTP status.
  long Replay(const CapturedRequest& request) {
    auto transport = HttpsTransport({vault_.url(), vault_.ca_file()});
    auto reply = (*transport)->Send("POST", request.path, request.body);
    EXPECT_THAT(reply, IsOk());
    return reply.ok() ? reply->status : 0;
  }

  Code WrongGuess() { return Client()->Recover("alice", kWrong).status().code(); }

  std::shared_ptr<RecordingTransport::Log> log_ = std::make_shared<RecordingTransport::Log>();
};

TEST_F(KeyvaultdReplayTest, TheSameRegistrationTwiceChangesNothing) {
  RegisterAlice();
  const CapturedRequest start = log_->Last("/v1/register/start");
  const CapturedRequest finish = log_->Last("/v1/register/finish");
  EXPECT_EQ(Replay(finish), 200);  // recognised as the registration that made the record
  for (int i = 0; i < 9; ++i) ASSERT_EQ(WrongGuess(), Code::kPermissionDenied);
  EXPECT_EQ(Replay(start), 409);   // the record changed since its challenge
  EXPECT_EQ(Replay(finish), 200);  // still only recognised: no reset
  EXPECT_EQ(WrongGuess(), Code::kLockedOut);
  EXPECT_EQ(Client()->Recover("alice", kPassword).status().code(), Code::kLockedOut);
}

TEST_F(KeyvaultdReplayTest, AnOldRegistrationAfterAChangeOrALockoutIsRefused) {
  key::BackupKey k = RegisterAlice();
  const CapturedRequest first = log_->Last("/v1/register/finish");
  ASSERT_TRUE(Client()->Register("alice", vault_.Token("alice"), "second pass 2", k).ok());
  EXPECT_EQ(Replay(first), 409);
  EXPECT_TRUE(Client()->Recover("alice", "second pass 2").ok());
  for (int i = 0; i < 10; ++i) (void)WrongGuess();
  ASSERT_EQ(Client()->Recover("alice", "second pass 2").status().code(), Code::kLockedOut);
  EXPECT_EQ(Replay(first), 409);
  EXPECT_EQ(Replay(log_->Last("/v1/register/finish")), 409);
  EXPECT_EQ(Client()->Recover("alice", "second pass 2").status().code(), Code::kLockedOut);
  // The device that holds K may register again after the lockout.
  ASSERT_TRUE(Client()->Register("alice", vault_.Token("alice"), "third pass 3", k).ok());
  EXPECT_TRUE(Client()->Recover("alice", "third pass 3").ok());
}

TEST_F(KeyvaultdReplayTest, ARequestForOneAccountDoesNothingForAnother) {
  RegisterAlice();
  ASSERT_TRUE(Client()->Register("bob", vault_.Token("bob"), "bobs pass 1",
                                 key::BackupKey::Generate())
                  .ok());
  for (const char* path : {"/v1/register/start", "/v1/register/finish"}) {
    json body = json::parse(log_->Last(path).body);
    body["account"] = "alice";
    body["token"] = vault_.Token("alice");
    EXPECT_EQ(Replay({path, body.dump()}), 403) << path;
  }
  EXPECT_TRUE(Client()->Recover("alice", kPassword).ok());
}

TEST_F(KeyvaultdReplayTest, AReplayedLoginOrDeletionResetsNothing) {
  key::BackupKey k = RegisterAlice();
  ASSERT_TRUE(Client()->Recover("alice", kPassword).ok());
  const CapturedRequest login = log_->Last("/v1/recover/finish");
  for (int i = 0; i < 9; ++i) ASSERT_EQ(WrongGuess(), Code::kPermissionDenied);
  EXPECT_EQ(Replay(login), 200);
  EXPECT_EQ(WrongGuess(), Code::kLockedOut);

  ASSERT_TRUE(Client()->Register("alice", vault_.Token("alice"), kPassword, k).ok());
  ASSERT_TRUE(Client()->Delete("alice", vault_.Token("alice"), k).ok());
  const CapturedRequest deletion = log_->Last("/v1/delete");
  key::BackupKey again = RegisterAlice();
  EXPECT_EQ(Replay(deletion), 409);
  auto got = Client()->Recover("alice", kPassword);
  ASSERT_THAT(got, IsOk());
  EXPECT_EQ(got->key.Hex(), again.Hex());
}

// A phone that needs half a minute to stretch the password between KE2 and KE3 (the server's
// idle limit on kept-alive connections is shorter, so the client also has to reconnect).
TEST_F(KeyvaultdReplayTest, AClientPausedThirtySecondsBetweenKe2AndKe3GetsItsKey) {
  key::BackupKey k = RegisterAlice();
  ASSERT_EQ(WrongGuess(), Code::kPermissionDenied);
  ClientOptions slow;
  slow.before_finish = [] { std::this_thread::sleep_for(std::chrono::seconds(30)); };
  auto got = Client(slow)->Recover("alice", kPassword);
  ASSERT_THAT(got, IsOk());
  EXPECT_EQ(got->key.Hex(), k.Hex());
  EXPECT_EQ(got->attempts_remaining, 10u);
}

}  // namespace
}  // namespace chatvault::vaultclient

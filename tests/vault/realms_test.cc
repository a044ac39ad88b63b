// Threshold recovery across realms, in process (tests/vault/in_process_realms.h): t of n realms
// recover the key and no fewer; a realm that is down, or answers wrongly, does not block
// recovery and is named; every guess is counted at every realm it reaches and the total an
// attacker gets is floor(n*g/t); a partial change is finished by running it again.
#include <gtest/gtest.h>

#include <chrono>

#include <nlohmann/json.hpp>

#include "chatvault/opaque/threshold_oprf.h"
#include "support/status_matchers.h"
#include "vault/in_process_realms.h"

namespace chatvault::vaultclient {
namespace {

using ::chatvault::testing::InProcessRealms;
using ::chatvault::testing::IsOk;
using ::chatvault::testing::StatusIs;
using nlohmann::json;
using ::testing::HasSubstr;

constexpr const char* kPassword = "correct horse 42";
constexpr const char* kWrong = "wrong guess 7";

bool ComplaintNames(const RealmRecovery& r, const std::string& name) {
  for (const std::string& c : r.complaints) {
    if (c.find(name) != std::string::npos) return true;
  }
  return false;
}

class RealmsTest : public ::testing::TestWithParam<std::pair<int, int>> {
 protected:
  RealmsTest() : realms_(GetParam().second) {}
  int t() const { return GetParam().first; }
  key::BackupKey Register() {
    key::BackupKey k = key::BackupKey::Generate();
    EXPECT_THAT(realms_.Client(t())->Register("alice", {realms_.Token("alice")}, kPassword, k),
                IsOk());
    return k;
  }
  InProcessRealms realms_;
};

TEST_P(RealmsTest, TheRightPasswordRecoversTheKeyAWrongOneIsCounted) {
  key::BackupKey k = Register();
  auto got = realms_.Client(t())->Recover("alice", kPassword);
  ASSERT_THAT(got, IsOk());
  EXPECT_EQ(got->key.Hex(), k.Hex());
  EXPECT_TRUE(got->complaints.empty());
  auto wrong = realms_.Client(t())->Recover("alice", kWrong);
  EXPECT_THAT(wrong, StatusIs(Code::kPermissionDenied, HasSubstr("6 attempts remain")));
}

TEST_P(RealmsTest, RecoveryNeedsOnlyTRealmsAndNamesTheOthers) {
  key::BackupKey k = Register();
  const int n = GetParam().second;
  for (int down = 0; down < n - t(); ++down) realms_.realm(down).down = true;
  auto got = realms_.Client(t())->Recover("alice", kPassword);
  ASSERT_THAT(got, IsOk());
  EXPECT_EQ(got->key.Hex(), k.Hex());
  if (n > t()) EXPECT_TRUE(ComplaintNames(*got, "realm 1")) << got->complaints.front();
  realms_.realm(n - t()).down = true;  // one more: too few
  EXPECT_FALSE(realms_.Client(t())->Recover("alice", kPassword).ok());
}

// A realm that is down is retried for as long as the client is patient, but recovery does not
// wait for that once t realms have answered (the CLI is patient for 30 s).
TEST_P(RealmsTest, ADownRealmDoesNotHoldRecoveryForTheRetryWindow) {
  if (GetParam().second == t()) GTEST_SKIP() << "every realm is needed";
  key::BackupKey k = Register();
  realms_.realm(0).down = true;
  vaultclient::RealmOptions patient;
  patient.client.retry_for = std::chrono::minutes(2);
  const auto started = std::chrono::steady_clock::now();
  auto got = realms_.Client(t(), patient)->Recover("alice", kPassword);
  ASSERT_THAT(got, IsOk());
  EXPECT_EQ(got->key.Hex(), k.Hex());
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(60))
      << "recovery waited for the down realm's retries";
}

TEST_P(RealmsTest, AWrongEvaluationIsDetectedNamedAndNotCombined) {
  if (GetParam().second == t()) GTEST_SKIP() << "no spare realm to do without";
  key::BackupKey k = Register();
  // Realm 2 answers with another valid point: its proof no longer matches.
  realms_.realm(1).tamper = [](const std::string& path, json& reply) {
    if (path != "/v1/realm/evaluate" || !reply.contains("evaluated")) return;
    reply["evaluated"] = reply["public_key"];
  };
  auto got = realms_.Client(t())->Recover("alice", kPassword);
  ASSERT_THAT(got, IsOk());
  EXPECT_EQ(got->key.Hex(), k.Hex());
  EXPECT_TRUE(ComplaintNames(*got, "realm 2 its evaluation does not match"))
      << (got->complaints.empty() ? "" : got->complaints.front());
}

TEST_P(RealmsTest, AWrongShareAtUnlockIsDetectedAndNamed) {
  if (GetParam().second == t()) GTEST_SKIP() << "no spare realm to do without";
  key::BackupKey k = Register();
  realms_.realm(0).tamper = [](const std::string& path, json& reply) {
    if (path != "/v1/realm/unlock" || !reply.contains("encryption_share")) return;
    reply["encryption_share"] = HexEncode(opaque::RandomScalar().view());
  };
  auto got = realms_.Client(t())->Recover("alice", kPassword);
  ASSERT_THAT(got, IsOk());
  EXPECT_EQ(got->key.Hex(), k.Hex());
  EXPECT_TRUE(ComplaintNames(*got, "realm 1 released a share"));
}

INSTANTIATE_TEST_SUITE_P(Sharings, RealmsTest,
                         ::testing::Values(std::pair{2, 3}, std::pair{3, 5}, std::pair{2, 2}));

// An attacker who spreads guesses over the realms as well as possible gets floor(n*g/t) guesses:
// 2-of-3 with 7 per realm is 10. Then every realm has destroyed its share.
TEST(RealmsLimit, TheTotalIsFloorOfNTimesGOverT) {
  InProcessRealms realms(3);
  key::BackupKey k = key::BackupKey::Generate();
  ASSERT_THAT(realms.Client(2)->Register("alice", {realms.Token("alice")}, kPassword, k), IsOk());
  json version = json::parse(realms.Send(0, "/v1/realm/version", {{"account", "alice"}}).body);
  int complete_guesses = 0;
  for (int guess = 0; guess < 40; ++guess) {
    auto blinded = opaque::VoprfClient::Blind(AsBytes("attacker guess " + std::to_string(guess)));
    int answered = 0;
    for (int offset = 0; offset < 3 && answered < 2; ++offset) {
      const size_t realm = (guess * 2 + offset) % 3;  // round robin over the realms
      vault::ApiReply reply = realms.Send(realm, "/v1/realm/evaluate",
                                          {{"account", "alice"},
                                           {"version", version["version"]},
                                           {"blinded", HexEncode(blinded->blinded())}});
      if (reply.status == 200) ++answered;
    }
    if (answered == 2) ++complete_guesses;
  }
  EXPECT_EQ(complete_guesses, 10);
  // Once the counted guesses can no longer be settled, every share is gone.
  realms.Advance(601);
  for (size_t i = 0; i < 3; ++i) {
    (void)realms.Send(
        i, "/v1/realm/evaluate",
        {{"account", "alice"},
         {"version", version["version"]},
         {"blinded", HexEncode(opaque::VoprfClient::Blind(AsBytes("late"))->blinded())}});
    EXPECT_EQ(realms.Send(i, "/v1/realm/version", {{"account", "alice"}}).status, 423) << i;
    EXPECT_EQ(realms.realm(i).metrics.lockouts.load(), 1u);
  }
  EXPECT_THAT(realms.Client(2)->Recover("alice", kPassword), StatusIs(Code::kLockedOut));
}

TEST(RealmsChanges, APartialChangeIsFinishedByRunningItAgain) {
  InProcessRealms realms(3);
  key::BackupKey k = key::BackupKey::Generate();
  ASSERT_THAT(realms.Client(2)->Register("alice", {realms.Token("alice")}, kPassword, k), IsOk());
  realms.realm(2).down = true;
  realms.Advance(1);
  auto client = realms.Client(2);
  EXPECT_THAT(client->Register("alice", {realms.Token("alice")}, "new pass 2", k),
              StatusIs(Code::kUnavailable, HasSubstr("reached 2 of 3 realms")));
  // The new version is held by two realms: the new password works, the old one no longer does.
  EXPECT_THAT(realms.Client(2)->Recover("alice", "new pass 2"), IsOk());
  realms.realm(2).down = false;
  realms.Advance(1);
  ASSERT_THAT(realms.Client(2)->Register("alice", {realms.Token("alice")}, "new pass 2", k),
              IsOk());
  realms.realm(0).down = true;
  auto got = realms.Client(2)->Recover("alice", "new pass 2");
  ASSERT_THAT(got, IsOk());
  EXPECT_EQ(got->key.Hex(), k.Hex());
}

TEST(RealmsChanges, AnotherKeyCannotReplaceAndDeletionRemovesEveryShare) {
  InProcessRealms realms(3);
  key::BackupKey k = key::BackupKey::Generate();
  ASSERT_THAT(realms.Client(2)->Register("alice", {realms.Token("alice")}, kPassword, k), IsOk());
  EXPECT_THAT(realms.Client(2)->Register("alice", {realms.Token("alice")}, "thief pass 1",
                                         key::BackupKey::Generate()),
              StatusIs(Code::kAlreadyExists));
  EXPECT_FALSE(
      realms.Client(2)->Delete("alice", {realms.Token("alice")}, key::BackupKey::Generate()).ok());
  const json registered =
      json::parse(realms.Send(0, "/v1/realm/version", {{"account", "alice"}}).body);
  ASSERT_THAT(realms.Client(2)->Delete("alice", {realms.Token("alice")}, k), IsOk());
  // What is left answers as an account nobody registered: a wrong password.
  EXPECT_THAT(realms.Client(2)->Recover("alice", kPassword), StatusIs(Code::kPermissionDenied));
  for (size_t i = 0; i < 3; ++i) {
    const vault::ApiReply version = realms.Send(i, "/v1/realm/version", {{"account", "alice"}});
    EXPECT_EQ(version.status, 200);
    EXPECT_NE(json::parse(version.body)["version"], registered["version"]) << "realm " << i;
  }
}

// A captured unlock request is bound to its session: replaying it after wrong guesses settles
// nothing new, and its proof is useless for any other session.
TEST(RealmsReplay, AnUnlockProofIsGoodForItsOwnSessionOnly) {
  InProcessRealms realms(2);
  key::BackupKey k = key::BackupKey::Generate();
  ASSERT_THAT(realms.Client(2)->Register("alice", {realms.Token("alice")}, kPassword, k), IsOk());
  ASSERT_THAT(realms.Client(2)->Recover("alice", kPassword), IsOk());
  for (int i = 0; i < 3; ++i) (void)realms.Client(2)->Recover("alice", kWrong);
  json version = json::parse(realms.Send(0, "/v1/realm/version", {{"account", "alice"}}).body);
  // A fresh evaluation (counted), then an unlock with a made-up proof: wrong, and counted.
  auto blinded = opaque::VoprfClient::Blind(AsBytes("x"));
  json evaluated = json::parse(realms
                                   .Send(0, "/v1/realm/evaluate",
                                         {{"account", "alice"},
                                          {"version", version["version"]},
                                          {"blinded", HexEncode(blinded->blinded())}})
                                   .body);
  vault::ApiReply unlock = realms.Send(
      0, "/v1/realm/unlock", {{"session", evaluated["session"]}, {"proof", std::string(64, 'a')}});
  EXPECT_EQ(unlock.status, 401);
  EXPECT_EQ(json::parse(unlock.body)["attempts_remaining"], 3);
}

}  // namespace
}  // namespace chatvault::vaultclient

// The password flows with threshold realms (docs/REALMS.md), end to end: the real chatvault
// binary against three real keyvaultd processes, each with its own HSM token, TLS certificate,
// token keys and store.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>

#include <nlohmann/json.hpp>

#include "e2e/cli_runner.h"
#include "e2e/json_shape.h"
#include "support/chat_dir.h"
#include "vault/keyvaultd_process.h"
#include "vault/vault_metrics.h"

namespace chatvault::testing {
namespace {
namespace fs = std::filesystem;

constexpr int kExitInvalidArgument = 2;
constexpr int kExitPermissionDenied = 6;
constexpr int kExitRolledBack = 13;
// 7 guesses per realm: 2-of-3 gives an attacker floor(3 * 7 / 2) = 10 in total.
constexpr const char* kRealmFlags =
    "--ksf-memory-kib 64 --ksf-iterations 1 --max-guesses 7 --login-ttl 10";

class RealmsCliTest : public ::testing::Test {
 protected:
  // n realms of which t must help (2 of 3 unless a test class says otherwise).
  virtual std::pair<int, int> Shape() const { return {3, 2}; }

  void SetUp() override {
    const auto [n, t] = Shape();
    for (int i = 0; i < n; ++i) {
      realms_.push_back(std::make_unique<KeyvaultdProcess>(kRealmFlags));
      ASSERT_EQ(realms_.back()->Start(), "");
    }
    ASSERT_TRUE(MakeChatDir(dir_.Sub("chat")));
    realms_file_ = WriteRealmsFile("realms.json", t);
  }

  // A realms file as a user writes it: CA files next to it, named relative to it.
  std::string WriteRealmsFile(const std::string& name, int threshold) {
    const std::string dir = dir_.Sub("conf");
    fs::create_directories(dir);
    nlohmann::json doc = {{"threshold", threshold}, {"realms", nlohmann::json::array()}};
    for (size_t i = 0; i < realms_.size(); ++i) {
      const std::string ca = "realm" + std::to_string(i) + ".pem";
      fs::copy_file(realms_[i]->ca_file(), dir + "/" + ca, fs::copy_options::overwrite_existing);
      doc["realms"].push_back({{"url", realms_[i]->url()}, {"ca", ca}});
    }
    WriteText(dir + "/" + name, doc.dump(2));
    return dir + "/" + name;
  }
  static void WriteText(const std::string& path, const std::string& text) {
    std::ofstream(path) << text;
  }

  // Each realm checks the chat service's tokens with its own key: one token per realm.
  std::string Tokens(const std::string& account) {
    std::string joined;
    for (auto& realm : realms_) joined += (joined.empty() ? "" : ",") + realm->Token(account);
    return joined;
  }

  std::vector<std::string> RealmArgs(std::vector<std::string> args, bool token = true) {
    args.insert(args.end(), {"--realms", realms_file_, "--account", "alice", "--allow-weak-ksf"});
    if (token) args.insert(args.end(), {"--token", Tokens("alice")});
    return args;
  }

  CliResult Init(const std::string& password, Cli& cli) {
    return cli.Run(RealmArgs({"--json", "init", "--password", "--data", dir_.Sub("chat"), "--to",
                              dir_.Sub("backups")}),
                   {{"CHATVAULT_PASSWORD", password}});
  }
  CliResult Init(const std::string& password) { return Init(password, device_); }

  CliResult RestoreOnNewDevice(const std::string& password, const std::string& to) {
    TempDir other;
    Cli fresh(other);
    return fresh.Run(
        RealmArgs({"--json", "restore", "--password", "--from", dir_.Sub("backups"), "--to", to},
                  /*token=*/false),
        {{"CHATVAULT_PASSWORD", password}});
  }

  uint64_t RealmMetricTotal(const std::string& name) {
    uint64_t total = 0;
    for (auto& realm : realms_) total += VaultMetric(*realm, name);
    return total;
  }

  TempDir dir_;
  Cli device_{dir_};
  std::vector<std::unique_ptr<KeyvaultdProcess>> realms_;
  std::string realms_file_;
};

TEST_F(RealmsCliTest, SetUpBackUpAndRestoreWithTwoOfThreeAndOneRealmDown) {
  CliResult init = Init("garden 77");
  ASSERT_EQ(init.rc, 0) << init.err << init.out;
  EXPECT_TRUE(IsSuccessWith(init.out,
                            "state:text protection:text key_file:text key_fingerprint:text "
                            "data_dir:text location:text realms:array threshold:int "
                            "account:text"));
  EXPECT_EQ(init.Json()["threshold"], 2);
  ASSERT_EQ(device_.Run({"backup"}).rc, 0);

  CliResult status = device_.Run({"status"});
  EXPECT_NE(status.out.find("password at 2 of 3 realms (" + realms_[0]->url()), std::string::npos)
      << status.out;

  CliResult wrong = RestoreOnNewDevice("garden 78", dir_.Sub("r0"));
  EXPECT_EQ(wrong.rc, kExitPermissionDenied) << wrong.out;
  EXPECT_NE(wrong.out.find("attempts remain"), std::string::npos) << wrong.out;

  realms_[1]->Stop(/*kill9=*/true);
  CliResult ok = RestoreOnNewDevice("garden 77", dir_.Sub("r1"));
  ASSERT_EQ(ok.rc, 0) << ok.err << ok.out;
  EXPECT_NE(ok.err.find("warning: "), std::string::npos) << "the realm that was down is named";
  EXPECT_EQ(QueryInt(dir_.Sub("r1/msgstore.db"), "SELECT count(*) FROM messages"),
            QueryInt(dir_.Sub("chat/msgstore.db"), "SELECT count(*) FROM messages"));
}

// A realm that is down at setup: nothing is set up on the device and no realm keeps a share of
// the key that was never saved, so running init again once the realm is back works.
TEST_F(RealmsCliTest, ARealmDownAtSetupLeavesNothingBehind) {
  realms_[2]->Stop();
  CliResult init = Init("garden 77");
  EXPECT_EQ(init.rc, 8) << init.out;  // unavailable
  EXPECT_FALSE(fs::exists(device_.home() + "/config.json"));
  EXPECT_FALSE(fs::exists(device_.home() + "/vault.json"));
  EXPECT_NE(init.out.find("not every realm is up"), std::string::npos) << init.out;
  ASSERT_EQ(realms_[2]->Start(), "");
  realms_file_ = WriteRealmsFile("realms.json", 2);  // it came back on another port
  CliResult again = Init("garden 77");
  ASSERT_EQ(again.rc, 0) << again.err << again.out;
  ASSERT_EQ(device_.Run({"backup"}).rc, 0);
  EXPECT_EQ(RestoreOnNewDevice("garden 77", dir_.Sub("r")).rc, 0);
}

TEST_F(RealmsCliTest, ChangeAndDisableReachEveryRealm) {
  ASSERT_EQ(Init("first 11").rc, 0);
  ASSERT_EQ(device_.Run({"backup"}).rc, 0);
  CliResult change =
      device_.Run(RealmArgs({"password", "change"}),
                  {{"CHATVAULT_OLD_PASSWORD", "first 11"}, {"CHATVAULT_PASSWORD", "second 22"}});
  ASSERT_EQ(change.rc, 0) << change.err;
  EXPECT_EQ(RestoreOnNewDevice("first 11", dir_.Sub("r0")).rc, kExitPermissionDenied);
  EXPECT_EQ(RestoreOnNewDevice("second 22", dir_.Sub("r1")).rc, 0);

  CliResult disable = device_.Run(RealmArgs({"--json", "disable", "--yes"}));
  ASSERT_EQ(disable.rc, 0) << disable.err << disable.out;
  EXPECT_FALSE(fs::exists(device_.home() + "/vault.json"));
  CliResult gone = RestoreOnNewDevice("second 22", dir_.Sub("r2"));
  EXPECT_NE(gone.rc, 0) << "no realm holds a share any more";
  // The device goes on backing up with its key.
  EXPECT_EQ(device_.Run({"backup"}).rc, 0);
}

TEST_F(RealmsCliTest, MistakesInTheRealmsFileAreRefusedBeforeAnythingIsSent) {
  const std::string dir = dir_.Sub("conf");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"not json", "{"},
      {"no realms", R"({"threshold": 2})"},
      {"threshold above n", R"({"threshold": 3, "realms": [{"url": "https://a:1"},
                                                         {"url": "https://b:1"}]})"},
      {"threshold zero", R"({"threshold": 0, "realms": [{"url": "https://a:1"}]})"},
      {"plain http", R"({"threshold": 1, "realms": [{"url": "http://a:1"}]})"},
      {"twice", R"({"threshold": 1, "realms": [{"url": "https://a:1"}, {"url": "https://a:1"}]})"},
  };
  for (const auto& [what, text] : cases) {
    WriteText(dir + "/bad.json", text);
    realms_file_ = dir + "/bad.json";
    CliResult init = Init("garden 77");
    EXPECT_EQ(init.rc, kExitInvalidArgument) << what << ": " << init.out << init.err;
    EXPECT_NE(init.out.find("realms file"), std::string::npos) << what << ": " << init.out;
  }
  realms_file_ = dir + "/missing.json";
  EXPECT_NE(Init("garden 77").rc, 0);
  EXPECT_EQ(RealmMetricTotal("registrations_total"), 0u);
  EXPECT_FALSE(fs::exists(device_.home() + "/config.json"));

  realms_file_ = WriteRealmsFile("realms.json", 2);
  CliResult both = device_.Run(RealmArgs({"init", "--password", "--vault", realms_[0]->url(),
                                          "--data", dir_.Sub("chat"), "--to", dir_.Sub("backups")}),
                               {{"CHATVAULT_PASSWORD", "garden 77"}});
  EXPECT_EQ(both.rc, kExitInvalidArgument) << both.err;
  EXPECT_NE(both.err.find("one of --vault and --realms"), std::string::npos) << both.err;
}

// A token for one realm only cannot register at the others (each checks its own key); and a
// forged token list changes nothing.
TEST_F(RealmsCliTest, TokensAreCheckedByEveryRealm) {
  const std::string one = realms_[0]->Token("alice");
  CliResult init = device_.Run(
      {"--json", "init", "--password", "--data", dir_.Sub("chat"), "--to", dir_.Sub("backups"),
       "--realms", realms_file_, "--account", "alice", "--allow-weak-ksf", "--token", one},
      {{"CHATVAULT_PASSWORD", "garden 77"}});
  EXPECT_NE(init.rc, 0) << init.out;
  EXPECT_FALSE(fs::exists(device_.home() + "/config.json"));
  EXPECT_NE(RestoreOnNewDevice("garden 77", dir_.Sub("r")).rc, 0)
      << "the realm that took the registration gave it up again";
}

// The realms keep the newest backup's number as the single vault does, so a new phone that
// recovers K through them notices a location that went back in time.
class RealmsCliRollbackTest : public RealmsCliTest {
 protected:
  // Backs up twice (`between_backups` runs in between), then deletes backup 2 from the location
  // (a rollback). What the second backup said on stderr is kept in second_backup_.
  void BackUpTwiceAndRollBack(const std::function<void()>& between_backups) {
    ASSERT_EQ(Init("garden 77").rc, 0);
    CliResult first = device_.Run({"backup"});
    ASSERT_EQ(first.rc, 0) << first.err;
    EXPECT_EQ(first.err.find("WARNING"), std::string::npos) << "every realm was told";
    between_backups();
    ASSERT_TRUE(AddMessages(dir_.Sub("chat/msgstore.db"), 10));
    CliResult second = device_.Run({"backup"});
    ASSERT_EQ(second.rc, 0) << second.err;
    second_backup_ = second.err;
    fs::remove(dir_.Sub("backups/current/0000000002"));
    fs::remove(dir_.Sub("backups/manifests/0000000002"));
  }

  // A new phone restores with the password and sets itself up; its first backup is refused.
  void NewPhoneNoticesTheRollback() {
    Cli phone(dir_, "home-b");
    CliResult restore = phone.Run(RealmArgs({"restore", "--password", "--set-up-device", "--from",
                                             dir_.Sub("backups"), "--to", dir_.Sub("chat-b")},
                                            /*token=*/false),
                                  {{"CHATVAULT_PASSWORD", "garden 77"}});
    ASSERT_EQ(restore.rc, 0) << restore.err << restore.out;
    EXPECT_NE(restore.err.find("rolled back"), std::string::npos) << restore.err;
    CliResult backup = phone.Run({"backup"});
    EXPECT_EQ(backup.rc, kExitRolledBack) << backup.err;
    EXPECT_NE(backup.err.find("older than backup 2"), std::string::npos) << backup.err;
  }

  std::string second_backup_;
};

TEST_F(RealmsCliRollbackTest, NewPhoneNoticesALocationRolledBackBelowTheRealmsNumber) {
  BackUpTwiceAndRollBack([] {});
  EXPECT_EQ(second_backup_.find("WARNING"), std::string::npos) << second_backup_;
  NewPhoneNoticesTheRollback();
}

// Realm 1 misses backup 2 and keeps number 1; at the restore realm 2 is down, so the two realms
// that answer disagree, and the higher number wins.
TEST_F(RealmsCliRollbackTest, ARealmDownAtBackupAndAnotherAtRestoreStillNoticeTheRollback) {
  const std::string missed = realms_[0]->url();
  BackUpTwiceAndRollBack([this] { realms_[0]->Stop(); });
  EXPECT_NE(second_backup_.find("WARNING: not every realm was told about backup 2"),
            std::string::npos)
      << second_backup_;
  EXPECT_NE(second_backup_.find(missed), std::string::npos) << "the realm is named";
  EXPECT_EQ(second_backup_.find(realms_[1]->url()), std::string::npos) << second_backup_;
  ASSERT_EQ(realms_[0]->Start(), "");
  realms_file_ = WriteRealmsFile("realms.json", 2);  // it came back on another port
  realms_[1]->Stop(/*kill9=*/true);
  NewPhoneNoticesTheRollback();
}

// As with a single vault, the CLI says the same for an account no realm holds as for a wrong
// password (exit 6), so it tells nobody which accounts are registered.
TEST_F(RealmsCliTest, AnUnknownAccountFailsAsAWrongPasswordDoes) {
  TempDir other;
  Cli fresh(other);
  CliResult unknown = fresh.Run(
      {"--json", "restore", "--password", "--from", dir_.Sub("backups"), "--to", dir_.Sub("r"),
       "--realms", realms_file_, "--account", "nobody", "--allow-weak-ksf"},
      {{"CHATVAULT_PASSWORD", "garden 77"}});
  EXPECT_EQ(unknown.rc, kExitPermissionDenied) << unknown.out << unknown.err;
  EXPECT_NE(unknown.out.find("wrong password"), std::string::npos) << unknown.out;
}

class RealmsCli3Of5Test : public RealmsCliTest {
 protected:
  std::pair<int, int> Shape() const override { return {5, 3}; }
};

TEST_F(RealmsCli3Of5Test, RestoresWithTwoRealmsDown) {
  ASSERT_EQ(Init("garden 77").rc, 0);
  ASSERT_EQ(device_.Run({"backup"}).rc, 0);
  realms_[0]->Stop(/*kill9=*/true);
  realms_[3]->Stop(/*kill9=*/true);
  CliResult ok = RestoreOnNewDevice("garden 77", dir_.Sub("r"));
  ASSERT_EQ(ok.rc, 0) << ok.err << ok.out;
  // Fewer than t realms up fails only once the CLI stops retrying them (30 s): that case is
  // RealmsTest.RecoveryNeedsOnlyTRealmsAndNamesTheOthers, in process.
}

}  // namespace
}  // namespace chatvault::testing

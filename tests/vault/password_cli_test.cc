// The password flows end to end: the real chatvault binary against a real keyvaultd.
#include <gtest/gtest.h>

#include "e2e/cli_runner.h"
#include "e2e/json_shape.h"
#include "support/chat_dir.h"
#include "vault/keyvaultd_process.h"

namespace chatvault::testing {
namespace {

// restore prints the same fields whichever way the key came (docs/CLI.md).
constexpr char kRestored[] =
    "sequence:int created_unix:int files:int bytes:int warnings:array seconds:number to:text";

class PasswordCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(vault_.Start(), "");
    ASSERT_TRUE(MakeChatDir(dir_.Sub("chat")));
  }

  std::vector<std::string> VaultArgs(std::vector<std::string> args, bool token = true) {
    for (std::string a : std::vector<std::string>{"--vault", vault_.url(), "--account", "alice",
                                                  "--ca", vault_.ca_file(), "--allow-weak-ksf"}) {
      args.push_back(a);
    }
    if (token) {
      args.push_back("--token");
      args.push_back(vault_.Token("alice"));
    }
    return args;
  }

  CliResult Init(const std::string& password) {
    return device_.Run(VaultArgs({"--json", "init", "--password", "--data", dir_.Sub("chat"),
                                  "--to", dir_.Sub("backups")}),
                       {{"CHATVAULT_PASSWORD", password}});
  }

  // `command` is restore (into `to`) or verify; --json unless `text`.
  CliResult OnNewDevice(const std::string& command, const std::string& password,
                        const std::string& to = "", bool text = false) {
    TempDir other;
    Cli fresh(other);
    std::vector<std::string> args = {command, "--password", "--from", dir_.Sub("backups")};
    if (!to.empty()) args.insert(args.end(), {"--to", to});
    if (!text) args.push_back("--json");
    return fresh.Run(VaultArgs(args, /*token=*/false), {{"CHATVAULT_PASSWORD", password}});
  }

  CliResult RestoreOnNewDevice(const std::string& password, const std::string& to) {
    return OnNewDevice("restore", password, to);
  }

  TempDir dir_;
  Cli device_{dir_};
  KeyvaultdProcess vault_;
};

TEST_F(PasswordCliTest, InitBackupAndRestoreOnANewDeviceWithThePassword) {
  CliResult init = Init("garden 77");
  ASSERT_EQ(init.rc, 0) << init.err << init.out;
  EXPECT_EQ(init.Json()["protection"], "password");
  EXPECT_TRUE(IsSuccessWith(init.out,
                            "state:text protection:text key_file:text key_fingerprint:text "
                            "data_dir:text location:text vault:text account:text"));
  CliResult backup = device_.Run({"--json", "backup"});
  ASSERT_EQ(backup.rc, 0) << backup.err;

  CliResult wrong = RestoreOnNewDevice("garden 78", dir_.Sub("r1"));
  EXPECT_EQ(wrong.rc, 6) << wrong.err;  // permission denied
  EXPECT_TRUE(IsFailure(wrong.out, "permission denied"));
  EXPECT_NE(wrong.out.find("attempts remain"), std::string::npos) << wrong.out;

  CliResult ok = RestoreOnNewDevice("garden 77", dir_.Sub("r2"));
  ASSERT_EQ(ok.rc, 0) << ok.err << ok.out;
  EXPECT_TRUE(IsSuccessWith(ok.out, kRestored));
  // The same restore as with the 64-digit key: the same fields and the same sentence.
  CliResult with_key = device_.Run({"--json", "restore", "--from", dir_.Sub("backups"), "--to",
                                    dir_.Sub("r3"), "--key-file", device_.key_file()});
  ASSERT_EQ(with_key.rc, 0) << with_key.err;
  EXPECT_EQ(with_key.Json()["created_unix"], ok.Json()["created_unix"]);
  CliResult text = OnNewDevice("restore", "garden 77", dir_.Sub("r4"), /*text=*/true);
  ASSERT_EQ(text.rc, 0) << text.err;
  EXPECT_TRUE(text.out.starts_with("Restored backup 1: ")) << text.out;
  EXPECT_NE(text.out.find(" s; every byte verified.\n"), std::string::npos) << text.out;
  CliResult verify = OnNewDevice("verify", "garden 77");
  EXPECT_EQ(verify.rc, 0) << verify.out;
  EXPECT_EQ(verify.Json()["sequence"], 1);
  // The online backup copy differs from the live file only in header counters; compare content.
  const std::string count = "SELECT count(*) FROM messages";
  EXPECT_GT(QueryInt(dir_.Sub("chat/msgstore.db"), count), 0);
  EXPECT_EQ(QueryInt(dir_.Sub("r2/msgstore.db"), count),
            QueryInt(dir_.Sub("chat/msgstore.db"), count));
}

TEST_F(PasswordCliTest, WeakPasswordsAreRefusedAndNothingIsSetUp) {
  CliResult init = Init("abcdef");
  EXPECT_EQ(init.rc, 2) << init.err;
  EXPECT_FALSE(std::filesystem::exists(device_.home() + "/config.json"));
}

TEST_F(PasswordCliTest, TypedPasswordsMustMatchTwiceAndBeProven) {
  // Typed on stdin: new password twice, then the proof round trip.
  CliResult init = device_.Run(
      VaultArgs({"init", "--password", "--data", dir_.Sub("chat"), "--to", dir_.Sub("backups")}),
      {}, "river 12\nriver 13\nriver 12\nriver 12\nriver 12\n");
  ASSERT_EQ(init.rc, 0) << init.err << init.out;
  EXPECT_NE(init.err.find("differ"), std::string::npos) << init.err;
  ASSERT_EQ(device_.Run({"backup"}).rc, 0);
  EXPECT_EQ(RestoreOnNewDevice("river 12", dir_.Sub("r")).rc, 0);
}

TEST_F(PasswordCliTest, ChangeResetAndDisable) {
  ASSERT_EQ(Init("first 11").rc, 0);
  ASSERT_EQ(device_.Run({"backup"}).rc, 0);

  CliResult bad_change =
      device_.Run(VaultArgs({"password", "change"}),
                  {{"CHATVAULT_OLD_PASSWORD", "nope 00"}, {"CHATVAULT_PASSWORD", "second 22"}});
  EXPECT_EQ(bad_change.rc, 6) << bad_change.err;
  CliResult change =
      device_.Run(VaultArgs({"password", "change", "--json"}),
                  {{"CHATVAULT_OLD_PASSWORD", "first 11"}, {"CHATVAULT_PASSWORD", "second 22"}});
  ASSERT_EQ(change.rc, 0) << change.err;
  EXPECT_TRUE(IsSuccessWith(change.out, "account:text password:text"));
  EXPECT_EQ(change.Json()["password"], "changed");
  EXPECT_EQ(RestoreOnNewDevice("first 11", dir_.Sub("r0")).rc, 6);
  EXPECT_EQ(RestoreOnNewDevice("second 22", dir_.Sub("r1")).rc, 0);

  // Lock the record out, then reset from the original device.
  for (int i = 0; i < 10; ++i)
    (void)RestoreOnNewDevice("guess 0" + std::to_string(i), dir_.Sub("x"));
  CliResult locked = RestoreOnNewDevice("second 22", dir_.Sub("r2"));
  EXPECT_EQ(locked.rc, 7);
  EXPECT_TRUE(IsFailure(locked.out, "locked out"));
  CliResult reset =
      device_.Run(VaultArgs({"password", "reset", "--json"}), {{"CHATVAULT_PASSWORD", "third 33"}});
  ASSERT_EQ(reset.rc, 0) << reset.err;
  EXPECT_EQ(reset.Json()["password"], "reset");
  EXPECT_EQ(RestoreOnNewDevice("third 33", dir_.Sub("r3")).rc, 0);

  // Another device (without K) cannot take the account over.
  TempDir other;
  Cli thief(other);
  ASSERT_TRUE(MakeChatDir(other.Sub("chat")));
  CliResult takeover = thief.Run(
      VaultArgs({"init", "--password", "--data", other.Sub("chat"), "--to", other.Sub("b")}),
      {{"CHATVAULT_PASSWORD", "thief 44"}});
  EXPECT_EQ(takeover.rc, 6) << takeover.err;
  EXPECT_NE(takeover.err.find("'chatvault password reset'"), std::string::npos) << takeover.err;

  CliResult disable = device_.Run(VaultArgs({"--json", "disable"}));
  ASSERT_EQ(disable.rc, 0) << disable.err;
  EXPECT_TRUE(IsSuccessWith(disable.out, "account:text vault_record:text key:text"));
  EXPECT_EQ(disable.Json()["key"].get<std::string>().size(), 64u);
  EXPECT_EQ(RestoreOnNewDevice("third 33", dir_.Sub("r4")).rc, 6);  // fake KE2 now
}

}  // namespace
}  // namespace chatvault::testing

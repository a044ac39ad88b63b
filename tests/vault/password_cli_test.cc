// The password flows end to end: the real chatvault binary against a real keyvaultd.
#include <gtest/gtest.h>

#include <filesystem>

#include "e2e/cli_runner.h"
#include "e2e/json_shape.h"
#include "support/chat_dir.h"
#include "vault/keyvaultd_process.h"
#include "vault/vault_metrics.h"

namespace chatvault::testing {
namespace {
namespace fs = std::filesystem;

constexpr char kCountMessages[] = "SELECT count(*) FROM messages";
constexpr int kExitInvalidArgument = 2;
constexpr int kExitCancelled = 10;
constexpr int kExitForeignBackup = 11;
constexpr int kExitRolledBack = 13;

// restore prints the same fields whichever way the key came (docs/CLI.md).
constexpr char kRestored[] =
    "sequence:int created_unix:int files:int bytes:int warnings:array seconds:number to:text "
    "set_up_device:bool";

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

TEST_F(PasswordCliTest, TypedPasswordsMustMatchAndConfirmationTyposCostNoGuess) {
  // Typed on stdin: a pair that differs, a matching pair, a typo at "once more", then right.
  CliResult init = device_.Run(
      VaultArgs({"init", "--password", "--data", dir_.Sub("chat"), "--to", dir_.Sub("backups")}),
      {}, "river 12\nriver 13\nriver 12\nriver 12\nrivr 12\nriver 12\n");
  ASSERT_EQ(init.rc, 0) << init.err << init.out;
  EXPECT_NE(init.err.find("differ"), std::string::npos) << init.err;
  EXPECT_NE(init.err.find("nothing was sent to the vault"), std::string::npos) << init.err;
  EXPECT_EQ(VaultMetric(vault_, "wrong_passwords_total"), 0u);
  EXPECT_EQ(VaultMetric(vault_, "registrations_total"), 1u);
  ASSERT_EQ(device_.Run({"backup"}).rc, 0);
  EXPECT_EQ(RestoreOnNewDevice("river 12", dir_.Sub("r")).rc, 0);
}

TEST_F(PasswordCliTest, SetupWhoseConfirmationNeverMatchesRegistersNothing) {
  CliResult init = device_.Run(
      VaultArgs({"init", "--password", "--data", dir_.Sub("chat"), "--to", dir_.Sub("backups")}),
      {}, "river 12\nriver 12\nriver 21\nriver 1\nriver 13\n");
  EXPECT_EQ(init.rc, kExitInvalidArgument) << init.err;
  EXPECT_NE(init.err.find("nothing was set up"), std::string::npos) << init.err;
  EXPECT_EQ(VaultMetric(vault_, "registrations_total"), 0u);
  EXPECT_EQ(VaultMetric(vault_, "guesses_counted_total"), 0u);
  EXPECT_FALSE(fs::exists(device_.home() + "/config.json"));
}

// password change checks the old password with the vault; mistyping the new one at its
// confirmation changes nothing and spends nothing.
TEST_F(PasswordCliTest, ChangeWithMistypedConfirmationsKeepsTheOldPasswordAndEveryAttempt) {
  ASSERT_EQ(Init("first 11").rc, 0);
  ASSERT_EQ(device_.Run({"backup"}).rc, 0);
  CliResult change =
      device_.Run(VaultArgs({"password", "change"}), {{"CHATVAULT_OLD_PASSWORD", "first 11"}},
                  "second 22\nsecond 22\nsecnd 22\nsecond 2\nsecond 23\n");
  EXPECT_EQ(change.rc, kExitInvalidArgument) << change.err;
  EXPECT_NE(change.err.find("the password is unchanged"), std::string::npos) << change.err;
  CliResult wrong = RestoreOnNewDevice("second 22", dir_.Sub("r0"));
  EXPECT_EQ(wrong.rc, 6) << wrong.out;
  EXPECT_NE(wrong.out.find("9 attempts remain"), std::string::npos) << wrong.out;
  EXPECT_EQ(RestoreOnNewDevice("first 11", dir_.Sub("r1")).rc, 0);

  // One typo, then the right password: changed, and still no guess spent on the typo.
  const uint64_t wrong_before = VaultMetric(vault_, "wrong_passwords_total");
  change = device_.Run(VaultArgs({"password", "change"}), {{"CHATVAULT_OLD_PASSWORD", "first 11"}},
                       "second 22\nsecond 22\nsecnd 22\nsecond 22\n");
  ASSERT_EQ(change.rc, 0) << change.err;
  EXPECT_EQ(VaultMetric(vault_, "wrong_passwords_total"), wrong_before);
  EXPECT_EQ(RestoreOnNewDevice("second 22", dir_.Sub("r2")).rc, 0);
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

  CliResult disable = device_.Run(VaultArgs({"--json", "disable", "--yes"}));
  ASSERT_EQ(disable.rc, 0) << disable.err;
  EXPECT_TRUE(IsSuccessWith(disable.out, "account:text vault_record:text key:text"));
  EXPECT_EQ(disable.Json()["key"].get<std::string>().size(), 64u);
  EXPECT_EQ(RestoreOnNewDevice("third 33", dir_.Sub("r4")).rc, 6);  // fake KE2 now
}

TEST_F(PasswordCliTest, StatusSaysTheVaultAndAccountThatProtectTheKey) {
  ASSERT_EQ(Init("garden 77").rc, 0);
  CliResult json = device_.Run({"--json", "status"});
  ASSERT_EQ(json.rc, 0) << json.err;
  EXPECT_EQ(json.Json()["protection"], "password");
  EXPECT_EQ(json.Json()["vault"], vault_.url());
  EXPECT_EQ(json.Json()["account"], "alice");
  CliResult text = device_.Run({"status"});
  EXPECT_NE(text.out.find("Protection:   password at " + vault_.url() + " for alice"),
            std::string::npos)
      << text.out;
  EXPECT_EQ(text.out.find("64-digit key"), std::string::npos) << text.out;
}

// disable deletes the only copy the password opens: a script says --yes, a person types the key.
TEST_F(PasswordCliTest, DisableNeedsYesOrTheKeyTypedBack) {
  ASSERT_EQ(Init("garden 77").rc, 0);
  ASSERT_EQ(device_.Run({"backup"}).rc, 0);
  CliResult unasked = device_.Run(VaultArgs({"--json", "disable"}));
  EXPECT_EQ(unasked.rc, kExitInvalidArgument) << unasked.out;
  EXPECT_TRUE(IsFailure(unasked.out, "invalid argument"));
  EXPECT_NE(unasked.out.find("--yes"), std::string::npos) << unasked.out;
  EXPECT_EQ(RestoreOnNewDevice("garden 77", dir_.Sub("r0")).rc, 0);  // still there

  if (!Cli::HasTerminalRunner()) GTEST_SKIP() << "no script(1) here";
  const std::string key = Slurp(device_.key_file());
  const std::string wrong = std::string(64, '1') + "\n";
  CliResult refused = device_.RunOnTerminal(VaultArgs({"disable"}), wrong + wrong + wrong);
  EXPECT_EQ(refused.rc, kExitCancelled) << refused.out;
  EXPECT_NE(refused.out.find("This deletes your backup key from " + vault_.url()),
            std::string::npos)
      << refused.out;
  EXPECT_NE(refused.out.find("the vault still holds it"), std::string::npos) << refused.out;
  EXPECT_EQ(RestoreOnNewDevice("garden 77", dir_.Sub("r1")).rc, 0);

  CliResult typed = device_.RunOnTerminal(VaultArgs({"disable"}), key);
  EXPECT_EQ(typed.rc, 0) << typed.out;
  EXPECT_NE(typed.out.find("The vault no longer holds your backup key"), std::string::npos)
      << typed.out;
  EXPECT_EQ(RestoreOnNewDevice("garden 77", dir_.Sub("r2")).rc, 6);
  EXPECT_EQ(device_.Run({"--json", "status"}).Json()["protection"], "key");
}

class LostPhoneWithPassword : public PasswordCliTest {
 protected:
  // Phone A sets up with the password, backs up `backups` times, and is lost.
  void BackUpAndLosePhoneA(int backups) {
    ASSERT_EQ(Init("garden 77").rc, 0);
    for (int i = 0; i < backups; ++i) {
      ASSERT_TRUE(AddMessages(dir_.Sub("chat/msgstore.db"), 10));
      CliResult backup = device_.Run({"backup"});
      ASSERT_EQ(backup.rc, 0) << backup.err;
      EXPECT_EQ(backup.err.find("WARNING"), std::string::npos) << backup.err;
    }
    messages_ = QueryInt(dir_.Sub("chat/msgstore.db"), kCountMessages);
    fs::remove_all(device_.home());
    fs::remove_all(dir_.Sub("chat"));
  }

  CliResult RestoreAndSetUp(Cli& phone, const std::string& to, bool json = true) {
    std::vector<std::string> args = {
        "restore", "--password", "--set-up-device", "--from", dir_.Sub("backups"), "--to", to};
    if (json) args.push_back("--json");
    return phone.Run(VaultArgs(args, /*token=*/false), {{"CHATVAULT_PASSWORD", "garden 77"}});
  }

  int64_t messages_ = 0;
};

TEST_F(LostPhoneWithPassword, NewPhoneRestoresAndKeepsBackingUpToTheSameRecord) {
  BackUpAndLosePhoneA(1);
  Cli b(dir_, "home-b");
  // Setting up anew is refused, and both refusals say what to do instead: the location holds
  // A's backup, and the vault record A's key.
  ASSERT_TRUE(MakeChatDir(dir_.Sub("empty-chat")));
  for (const std::string& to : {dir_.Sub("backups"), dir_.Sub("elsewhere")}) {
    CliResult init =
        b.Run(VaultArgs({"init", "--password", "--data", dir_.Sub("empty-chat"), "--to", to}),
              {{"CHATVAULT_PASSWORD", "garden 77"}});
    EXPECT_EQ(init.rc, to == dir_.Sub("backups") ? kExitForeignBackup : 6) << init.err;
    EXPECT_NE(init.err.find("--set-up-device"), std::string::npos) << init.err;
  }
  EXPECT_FALSE(fs::exists(b.home() + "/config.json"));

  CliResult restore = RestoreAndSetUp(b, dir_.Sub("chat-b"), /*json=*/false);
  ASSERT_EQ(restore.rc, 0) << restore.err << restore.out;
  EXPECT_NE(restore.out.find("This device now backs up " + dir_.Sub("chat-b")), std::string::npos)
      << restore.out;
  EXPECT_NE(restore.out.find("your password at " + vault_.url() + " for alice"), std::string::npos)
      << restore.out;
  CliResult status = b.Run({"--json", "status"});
  EXPECT_EQ(status.Json()["protection"], "password");
  EXPECT_EQ(status.Json()["account"], "alice");

  ASSERT_TRUE(AddMessages(dir_.Sub("chat-b/msgstore.db"), 25));
  CliResult backup = b.Run({"--json", "backup"});
  ASSERT_EQ(backup.rc, 0) << backup.err << backup.out;
  EXPECT_EQ(backup.Json()["sequence"], 2);
  EXPECT_TRUE(backup.Json()["warnings"].empty()) << backup.out;  // the vault was told

  // B holds K, so it owns the record now: it can change the password.
  CliResult change =
      b.Run(VaultArgs({"password", "change"}),
            {{"CHATVAULT_OLD_PASSWORD", "garden 77"}, {"CHATVAULT_PASSWORD", "meadow 88"}});
  ASSERT_EQ(change.rc, 0) << change.err;

  TempDir c_dir;
  Cli c(c_dir);
  CliResult on_c = c.Run(VaultArgs({"--json", "restore", "--password", "--from",
                                    dir_.Sub("backups"), "--to", dir_.Sub("chat-c")},
                                   /*token=*/false),
                         {{"CHATVAULT_PASSWORD", "meadow 88"}});
  ASSERT_EQ(on_c.rc, 0) << on_c.out;
  EXPECT_EQ(on_c.Json()["sequence"], 2);
  EXPECT_TRUE(on_c.Json()["warnings"].empty()) << on_c.out;
  EXPECT_EQ(QueryInt(dir_.Sub("chat-c/msgstore.db"), kCountMessages), messages_ + 25);
}

// A location whose newest backup was deleted: the vault's number tells the new phone.
TEST_F(LostPhoneWithPassword, NewPhoneNoticesALocationRolledBackBelowTheVaultsNumber) {
  BackUpAndLosePhoneA(2);
  fs::remove(dir_.Sub("backups/current/0000000002"));
  fs::remove(dir_.Sub("backups/manifests/0000000002"));

  CliResult plain = OnNewDevice("restore", "garden 77", dir_.Sub("r0"));
  ASSERT_EQ(plain.rc, 0) << plain.out;
  EXPECT_EQ(plain.Json()["sequence"], 1);
  EXPECT_NE(plain.Json()["warnings"].dump().find("rolled back"), std::string::npos) << plain.out;

  Cli b(dir_, "home-b");
  CliResult restore = RestoreAndSetUp(b, dir_.Sub("chat-b"), /*json=*/false);
  ASSERT_EQ(restore.rc, 0) << restore.err;
  EXPECT_NE(restore.err.find("WARNING"), std::string::npos) << restore.err;
  CliResult backup = b.Run({"backup"});
  EXPECT_EQ(backup.rc, kExitRolledBack) << backup.err;
  EXPECT_NE(backup.err.find("older than backup 2"), std::string::npos) << backup.err;
}

// The vault is told after each backup; a vault that cannot be reached costs a warning only.
TEST_F(LostPhoneWithPassword, UnreachableVaultWarnsButTheBackupCompletes) {
  ASSERT_EQ(Init("garden 77").rc, 0);
  vault_.Stop();
  CliResult backup = device_.Run({"--json", "backup"});
  ASSERT_EQ(backup.rc, 0) << backup.out;
  ASSERT_EQ(backup.Json()["warnings"].size(), 1u) << backup.out;
  EXPECT_NE(backup.Json()["warnings"][0].get<std::string>().find("the vault was not told"),
            std::string::npos);
  CliResult text = device_.Run({"backup"});
  EXPECT_EQ(text.rc, 0) << text.err;
  EXPECT_NE(text.err.find("WARNING: the vault was not told about backup 2"), std::string::npos)
      << text.err;
}

}  // namespace
}  // namespace chatvault::testing

// Losing the phone with the 64-digit key (issue 11): the new phone restores and, in the same
// command, is set up to keep backing up where the old one stopped. (The password version is in
// tests/vault/password_cli_test.cc, against a real vault.)
#include <gtest/gtest.h>

#include <filesystem>

#include "e2e/cli_test_base.h"
#include "e2e/json_shape.h"

namespace chatvault::testing {
namespace {
namespace fs = std::filesystem;

// data_ is phone A's chat; cli_ is phone A.
class CliNewDevice : public CliTest {
 protected:
  // Phone A sets up with the key, backs up, and is lost; returns the 64 digits the user kept.
  std::string BackUpAndLosePhoneA() {
    auto init =
        cli_.Run({"--json", "init", "--key", "--data", data_, "--to", store_, "--i-saved-the-key"});
    EXPECT_EQ(init.rc, 0) << init.err;
    EXPECT_EQ(cli_.Run({"backup"}).rc, 0);
    messages_ = MessagesIn(data_);
    fs::remove_all(cli_.home());
    fs::remove_all(data_);
    return init.Json().value("key", "");
  }

  int64_t messages_ = 0;
};

TEST_F(CliNewDevice, NewPhoneRestoresAndKeepsBackingUpWithTheKey) {
  const std::string key = BackUpAndLosePhoneA();
  ASSERT_EQ(key.size(), 64u);

  Cli b(dir_, "home-b");
  auto restore = b.Run({"--json", "restore", "--from", store_, "--to", dir_.Sub("chat-b"), "--key",
                        key, "--set-up-device"});
  ASSERT_EQ(restore.rc, 0) << restore.err << restore.out;
  EXPECT_EQ(restore.Json()["set_up_device"], true);
  auto status = b.Run({"--json", "status"});
  ASSERT_EQ(status.rc, 0) << status.err;
  EXPECT_EQ(status.Json()["state"], "ready");
  EXPECT_EQ(status.Json()["protection"], "key");
  EXPECT_EQ(status.Json()["data_dir"], dir_.Sub("chat-b"));
  EXPECT_EQ(status.Json()["location"], store_);
  EXPECT_EQ(status.Json()["last_sequence"], 1);
  EXPECT_TRUE(b.Run({"status"}).out.find("Protection:   64-digit key") != std::string::npos);

  // B goes on where A stopped: the next backup at the same location, not another key's.
  ASSERT_TRUE(AddMessages(dir_.Sub("chat-b/msgstore.db"), 25));
  auto backup = b.Run({"--json", "backup"});
  ASSERT_EQ(backup.rc, 0) << backup.err << backup.out;
  EXPECT_EQ(backup.Json()["sequence"], 2);

  Cli c(dir_, "home-c");
  auto on_c = c.Run({"restore", "--from", store_, "--to", dir_.Sub("chat-c"), "--key", key});
  ASSERT_EQ(on_c.rc, 0) << on_c.err;
  EXPECT_TRUE(on_c.out.starts_with("Restored backup 2: ")) << on_c.out;
  EXPECT_NE(on_c.out.find("again with --set-up-device --force"), std::string::npos) << on_c.out;
  EXPECT_EQ(MessagesIn(dir_.Sub("chat-c")), messages_ + 25);
}

// The user's mistakes: a device that already backs up is not set up again (and nothing is
// downloaded first); a wrong key sets nothing up.
TEST_F(CliNewDevice, SetUpDeviceRefusesASetUpDeviceAndAWrongKey) {
  const std::string key = BackUpAndLosePhoneA();
  Cli b(dir_, "home-b");
  auto wrong = b.Run({"restore", "--from", store_, "--to", dir_.Sub("chat-b"), "--key",
                      std::string(64, 'a'), "--set-up-device"});
  EXPECT_EQ(wrong.rc, 4) << wrong.err;
  EXPECT_FALSE(fs::exists(b.home() + "/config.json"));
  EXPECT_FALSE(fs::exists(b.key_file()));

  ASSERT_TRUE(MakeChatDir(dir_.Sub("other-chat")));
  ASSERT_EQ(b.Run({"init", "--key", "--data", dir_.Sub("other-chat"), "--to", dir_.Sub("other"),
                   "--i-saved-the-key"})
                .rc,
            0);
  auto again = b.Run({"--json", "restore", "--from", store_, "--to", dir_.Sub("chat-b"), "--key",
                      key, "--set-up-device"});
  EXPECT_EQ(again.rc, 10) << again.out;
  EXPECT_TRUE(IsFailure(again.out, "already exists"));
  EXPECT_FALSE(fs::exists(dir_.Sub("chat-b")));
}

}  // namespace
}  // namespace chatvault::testing

// What the end-to-end tests of the CLI share: a temp dir, this test's device (cli_), a chat data
// directory and a local backup location, and the steps most tests start with.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "e2e/cli_runner.h"
#include "support/chat_dir.h"

namespace chatvault::testing {

class CliTest : public ::testing::Test {
 protected:
  static constexpr const char* kCountMessages = "SELECT count(*) FROM messages";

  // A chat data directory made with `spec` (SetUp's default: ChatDirSpec{}).
  void MakeData(const ChatDirSpec& spec = {}) { ASSERT_TRUE(MakeChatDir(data_, spec)); }
  void SetUp() override { MakeData(); }

  // A ready setup for scripts: `init --key --i-saved-the-key` of `cli` backing up data_ to `to`.
  void InitReady(Cli& cli, const std::string& to, const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {"init", "--key", "--data",           data_,
                                     "--to", to,      "--i-saved-the-key"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto r = cli.Run(args);
    ASSERT_EQ(r.rc, 0) << r.out << r.err;
  }
  void InitReady() { InitReady(cli_, store_); }

  static int64_t MessagesIn(const std::string& dir) {
    return QueryInt(dir + "/msgstore.db", kCountMessages);
  }

  // Restores store_ with `cli`'s key file (and `extra` flags) into a fresh directory and checks
  // the database; its message count, or -1 (with the failure recorded).
  int64_t RestoredMessages(Cli& cli, const std::vector<std::string>& extra = {}) {
    const std::string out = dir_.Sub("out" + std::to_string(restores_++));
    std::vector<std::string> args = {"restore", "--from",     store_,        "--to",
                                     out,       "--key-file", cli.key_file()};
    args.insert(args.end(), extra.begin(), extra.end());
    auto r = cli.Run(args);
    EXPECT_EQ(r.rc, 0) << r.err;
    if (r.rc != 0) return -1;
    EXPECT_EQ(QueryInt(out + "/msgstore.db", "PRAGMA integrity_check"), 1);
    return MessagesIn(out);
  }

  TempDir dir_;
  Cli cli_{dir_};
  std::string data_ = dir_.Sub("data");
  std::string store_ = dir_.Sub("store");
  int restores_ = 0;
};

}  // namespace chatvault::testing

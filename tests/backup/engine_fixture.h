// The engine tests' fixture: a chat data directory, a local provider and a key, in a fresh
// temp directory per test.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "chatvault/backup/engine.h"
#include "chatvault/storage/local_provider.h"
#include "support/chat_dir.h"
#include "support/status_matchers.h"
#include "support/temp_dir.h"

namespace chatvault::backup {

class BackupEngine : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(chatvault::testing::MakeChatDir(data_));
    provider_ = storage::OpenLocalProvider(store_);
    options_.temp_dir = dir_.path();
  }

  Result<BackupSummary> Backup() { return RunBackup(data_, *provider_, key_, options_); }

  // Restores into a fresh directory `name` under the test's temp dir; returns its path or "".
  std::string RestoreAs(const std::string& name, RestoreOptions options = {}) {
    const std::string out = dir_.Sub(name);
    auto restored = RunRestore(*provider_, key_, out, options);
    EXPECT_THAT(restored, ::chatvault::testing::IsOk());
    return restored.ok() ? out : "";
  }

  static int64_t MessagesIn(const std::string& dir) {
    return chatvault::testing::QueryInt(dir + "/msgstore.db", "SELECT count(*) FROM messages");
  }

  std::vector<std::string> ObjectNames(std::string_view prefix) {
    std::vector<std::string> out;
    auto listed = provider_->List(prefix);
    EXPECT_THAT(listed, ::chatvault::testing::IsOk());
    if (!listed.ok()) return out;
    for (auto& o : *listed) out.push_back(o.name);
    return out;
  }

  void ExpectSameMedia(const std::string& restored) {
    for (const auto& e : std::filesystem::recursive_directory_iterator(data_)) {
      if (!e.is_regular_file()) continue;
      const std::string rel = std::filesystem::relative(e.path(), data_).string();
      if (rel.starts_with("msgstore.db")) continue;
      EXPECT_EQ(chatvault::testing::ReadFile(e.path()),
                chatvault::testing::ReadFile(restored + "/" + rel))
          << rel;
    }
  }

  chatvault::testing::TempDir dir_;
  std::string data_ = dir_.Sub("data");
  std::string store_ = dir_.Sub("store");
  key::BackupKey key_ = key::BackupKey::Generate();
  std::unique_ptr<storage::Provider> provider_;
  BackupOptions options_;
};

}  // namespace chatvault::backup

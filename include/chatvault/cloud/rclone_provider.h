// Any rclone remote the user already configured (Google Drive, Dropbox, OneDrive, SFTP, ...).
// Location: rclone:remote:path. The provider starts a private `rclone rcd` on 127.0.0.1 with a
// random port and random credentials, talks to its JSON API, and stops it when closed.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "chatvault/cloud/retry.h"
#include "chatvault/common/status.h"
#include "chatvault/storage/provider.h"

namespace chatvault::cloud {

struct RcloneOptions {
  std::string remote;       // "gdrive:" or "gdrive:backups/chat" (everything after "rclone:")
  std::string rclone_path = "rclone";  // CHATVAULT_RCLONE overrides
  std::string config_path;  // empty: rclone's own default (RCLONE_CONFIG or ~/.config/rclone)
  RetryPolicy retry;
};

Result<RcloneOptions> RcloneOptionsFromLocation(std::string_view location);

// Starts rclone; Unavailable when it cannot be started.
Result<std::unique_ptr<storage::Provider>> OpenRcloneProvider(RcloneOptions options);

}  // namespace chatvault::cloud

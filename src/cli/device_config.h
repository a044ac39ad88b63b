// This device's chatvault setup, kept in <home>/config.json, and the key file beside it.
#pragma once

#include <cstdint>
#include <string>

#include "chatvault/common/status.h"
#include "chatvault/key/backup_key.h"

namespace chatvault::cli {

struct DeviceConfig {
  // "pending" until the user proved they saved the key; backups refuse to run until "ready".
  std::string state = "pending";
  std::string data_dir;            // the chat data directory to back up
  std::string location;            // where backups go (a directory, file://, s3://, ...)
  std::string protection = "key";  // how K is kept: "key" (64-digit key) or "password" (vault)
  std::string key_fingerprint;     // hex, to recognise the key
  int64_t created_unix = 0;
  // The newest backup known to be committed at the location with this key: the last one this
  // device made, or on a device set up by a restore the newest the restore knew of (0: none).
  uint64_t last_sequence = 0;
  int64_t last_backup_unix = 0;  // when this device last backed up (0: never)
  // Set by `init --replace-other-backup`: the first backup may replace another key's backup at
  // the location (the user agreed at setup); cleared once it is done.
  bool replace_other_backup = false;
};

std::string ConfigPath(const std::string& home);
std::string KeyFilePath(const std::string& home);
// Creates <home> (0700) if missing.
Status EnsureHome(const std::string& home);

// kNotFound with a hint to run `chatvault init` when there is no setup.
Result<DeviceConfig> LoadConfig(const std::string& home);
// Atomic (temp + fsync + rename), mode 0600.
Status SaveConfig(const std::string& home, const DeviceConfig& config);

// The setup must exist and be confirmed; returns it or a sentence saying what to run.
Result<DeviceConfig> LoadReadyConfig(const std::string& home);

// A setup of this device for `key`, still "pending", created now; `protection` is "key" or
// "password".
DeviceConfig NewDeviceConfig(const std::string& data_dir, const std::string& location,
                             const key::BackupKey& key, const std::string& protection);

// Makes a local path absolute so the config works from any working directory; URLs pass through.
std::string NormalizeLocation(const std::string& location);

}  // namespace chatvault::cli

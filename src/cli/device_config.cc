#include "cli/device_config.h"

#include <sys/stat.h>

#include <ctime>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "chatvault/common/file.h"

namespace chatvault::cli {
namespace fs = std::filesystem;

std::string ConfigPath(const std::string& home) { return home + "/config.json"; }
std::string KeyFilePath(const std::string& home) { return home + "/backup.key"; }

Status EnsureHome(const std::string& home) {
  if (home.empty()) return InvalidArgument("no state directory: set --home or $HOME");
  CV_RETURN_IF_ERROR(CreateDirectories(home, 0700));
  ::chmod(home.c_str(), 0700);
  return OkStatus();
}

Result<DeviceConfig> LoadConfig(const std::string& home) {
  auto text = ReadFileToString(ConfigPath(home));
  if (!text.ok()) {
    if (text.status().code() != Code::kNotFound) return text.status();
    return NotFound("chatvault is not set up on this device (no " + ConfigPath(home) +
                    "); run 'chatvault init --key --data DIR --to LOCATION' first");
  }
  nlohmann::json doc = nlohmann::json::parse(*text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    return Corrupted(ConfigPath(home) +
                     " is not valid JSON; fix it or run 'chatvault init --force'");
  }
  DeviceConfig c;
  c.state = doc.value("state", "pending");
  c.data_dir = doc.value("data_dir", "");
  c.location = doc.value("location", "");
  c.protection = doc.value("protection", "key");
  c.key_fingerprint = doc.value("key_fingerprint", "");
  c.created_unix = doc.value("created_unix", int64_t{0});
  c.last_sequence = doc.value("last_sequence", uint64_t{0});
  c.last_backup_unix = doc.value("last_backup_unix", int64_t{0});
  c.replace_other_backup = doc.value("replace_other_backup", false);
  return c;
}

Status SaveConfig(const std::string& home, const DeviceConfig& c) {
  CV_RETURN_IF_ERROR(EnsureHome(home));
  nlohmann::json doc = {{"version", 1},
                        {"state", c.state},
                        {"data_dir", c.data_dir},
                        {"location", c.location},
                        {"protection", c.protection},
                        {"key_file", fs::path(KeyFilePath(home)).filename().string()},
                        {"key_fingerprint", c.key_fingerprint},
                        {"created_unix", c.created_unix},
                        {"last_sequence", c.last_sequence},
                        {"last_backup_unix", c.last_backup_unix}};
  if (c.replace_other_backup) doc["replace_other_backup"] = true;
  return WriteFileAtomically(ConfigPath(home), doc.dump(2) + "\n", 0600);
}

Result<DeviceConfig> LoadReadyConfig(const std::string& home) {
  CV_ASSIGN_OR_RETURN(DeviceConfig c, LoadConfig(home));
  if (c.state != "ready") {
    return InvalidArgument(
        "setup is not finished: you have not yet confirmed that you saved the backup key; run "
        "'chatvault init --confirm'");
  }
  return c;
}

DeviceConfig NewDeviceConfig(const std::string& data_dir, const std::string& location,
                             const key::BackupKey& key, const std::string& protection) {
  DeviceConfig config;
  config.state = "pending";
  config.protection = protection;
  config.data_dir = fs::absolute(data_dir).lexically_normal().string();
  config.location = NormalizeLocation(location);
  config.key_fingerprint = HexEncode(key.Fingerprint());
  config.created_unix = std::time(nullptr);
  return config;
}

std::string NormalizeLocation(const std::string& location) {
  if (location.find("://") != std::string::npos || location.starts_with("rclone:")) return location;
  std::error_code ec;
  fs::path abs = fs::absolute(location, ec);
  return ec ? location : abs.lexically_normal().string();
}

}  // namespace chatvault::cli

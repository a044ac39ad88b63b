#include "cli/backup_source.h"

#include <algorithm>

#include "cli/device_config.h"

namespace chatvault::cli {

void BackupSource::AddFlags(CLI::App* cmd, const std::string& from_help) {
  cmd->add_option("--from", from, from_help);
  key.AddFlags(cmd);
}

Result<BackupSource> WithDeviceDefaults(const Globals& globals, BackupSource given,
                                        const std::string& command) {
  if (!given.from.empty() && given.key.given()) return given;
  auto config = LoadConfig(globals.home);
  if (!config.ok()) {
    return InvalidArgument(command +
                           " needs --from LOCATION and --key-file FILE when this device is not "
                           "set up");
  }
  if (given.from.empty()) given.from = config->location;
  if (!given.key.given()) given.key.file = KeyFilePath(globals.home);
  return given;
}

uint64_t KnownSequence(const std::string& home, const std::string& location,
                       const UnlockedKey& unlocked) {
  uint64_t known = unlocked.vault_sequence.value_or(0);
  auto config = LoadConfig(home);
  if (config.ok() && NormalizeLocation(location) == config->location &&
      config->key_fingerprint == HexEncode(unlocked.key.Fingerprint())) {
    known = std::max(known, config->last_sequence);
  }
  return known;
}

}  // namespace chatvault::cli

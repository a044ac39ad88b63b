// Where restore, verify and backups read backups from, and what is known about the newest one
// there: this device's own record of its last backup and, in password mode, the vault's.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>

#include "chatvault/common/status.h"
#include "cli/globals.h"
#include "cli/key_source.h"

namespace chatvault::cli {

struct BackupSource {
  std::string from;  // empty: this device's location
  KeySource key;     // none given: this device's key file

  // --from (with `from_help`) and the key flags.
  void AddFlags(CLI::App* cmd, const std::string& from_help);
};

// `given` with this device's location and key file filled in where they were left out;
// kInvalidArgument naming `command` when this device is not set up and something is missing.
Result<BackupSource> WithDeviceDefaults(const Globals& globals, BackupSource given,
                                        const std::string& command);

// The newest backup known to have been committed at `location` under `unlocked.key`: this
// device's record (when it backs up there with that key) or the vault's, whichever is higher;
// 0 when neither knows. The engine warns or refuses when the location is older.
uint64_t KnownSequence(const std::string& home, const std::string& location,
                       const UnlockedKey& unlocked);

}  // namespace chatvault::cli

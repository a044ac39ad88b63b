// chatvault status: this device's setup and the current backup at its location.
#include <iostream>
#include <memory>
#include <optional>

#include "chatvault/backup/engine.h"
#include "chatvault/storage/provider.h"
#include "cli/commands.h"
#include "cli/device_config.h"
#include "cli/key_source.h"
#include "cli/terminal.h"
#include "cli/vault_settings.h"

namespace chatvault::cli {
namespace {

struct StatusReport : Report {
  std::string home;
  std::optional<DeviceConfig> config;         // none: not set up on this device
  std::optional<VaultSettings> vault;         // password mode: where K is kept
  std::optional<backup::BackupInfo> current;  // the location's current backup, when readable
  std::string current_error;                  // why there is none
};

// Asks the location itself: another device or a restore may have moved things on.
Result<backup::BackupInfo> CurrentBackup(const Globals& g, const DeviceConfig& config) {
  CV_ASSIGN_OR_RETURN(key::BackupKey key, ResolveKey(g, KeySource::DeviceKeyFile(g.home)));
  CV_ASSIGN_OR_RETURN(auto provider, storage::OpenProvider(config.location));
  return backup::LatestBackup(*provider, key);
}

Result<StatusReport> RunStatus(const Globals& g) {
  StatusReport r;
  r.home = g.home;
  auto config = LoadConfig(g.home);
  if (!config.ok()) {
    if (config.status().code() != Code::kNotFound) return config.status();
    return r;
  }
  r.config = *config;
  if (config->protection == "password") {
    if (auto vault = LoadVaultSettings(g.home); vault.ok()) r.vault = *vault;
  }
  auto current = CurrentBackup(g, *config);
  if (current.ok()) {
    r.current = *current;
  } else {
    r.current_error = current.status().ToString();
  }
  return r;
}

nlohmann::json ToJson(const StatusReport& r) {
  if (!r.config) return {{"state", "none"}, {"home", r.home}};
  const DeviceConfig& c = *r.config;
  nlohmann::json out = {{"state", c.state},
                        {"home", r.home},
                        {"data_dir", c.data_dir},
                        {"location", c.location},
                        {"protection", c.protection},
                        {"key_fingerprint", c.key_fingerprint},
                        {"last_sequence", c.last_sequence},
                        {"last_backup_unix", c.last_backup_unix}};
  if (r.vault) AddVaultJson(*r.vault, out);
  if (r.current) {
    const backup::BackupInfo& b = *r.current;
    out["current"] = {{"sequence", b.sequence},
                      {"created_unix", b.created_unix},
                      {"files", b.files},
                      {"bytes", b.bytes},
                      {"chunks", b.chunks}};
  } else {
    out["current_error"] = r.current_error;
  }
  return out;
}

void PrintCurrent(const StatusReport& r) {
  std::cout << "Current backup at the location: ";
  if (!r.current) {
    std::cout << "none (" << r.current_error << ")\n";
    return;
  }
  std::cout << r.current->sequence << ", made " << TimeText(r.current->created_unix) << ", "
            << r.current->files << " files, " << HumanBytes(r.current->bytes) << "\n";
}

std::string ProtectionText(const StatusReport& r) {
  if (r.vault) return "password at " + r.vault->Describe() + " for " + r.vault->account;
  if (r.config->protection == "password") return "password (this device lost its vault.json)";
  return "64-digit key";
}

void PrintText(const StatusReport& r) {
  if (!r.config) {
    std::cout << "Not set up on this device. Run 'chatvault init --key --data DIR --to "
                 "LOCATION'.\n";
    return;
  }
  const DeviceConfig& c = *r.config;
  std::cout << "Setup:        "
            << (c.state == "ready" ? "ready" : "pending (run 'chatvault init --confirm')")
            << "\nChat data:    " << c.data_dir << "\nBackups go to: " << c.location
            << "\nProtection:   " << ProtectionText(r) << " (key fingerprint "
            << c.key_fingerprint.substr(0, 16)
            << ")\nLast backup from this device: " << TimeText(c.last_backup_unix);
  if (c.last_backup_unix && c.last_sequence) std::cout << " (backup " << c.last_sequence << ")";
  std::cout << "\n";
  PrintCurrent(r);
}

}  // namespace

void AddStatusCommand(CLI::App& app, CommandRunner& runner) {
  CLI::App* cmd = app.add_subcommand("status", "Show this device's setup and the current backup");
  runner.OnRun(cmd, RunStatus);
}

}  // namespace chatvault::cli

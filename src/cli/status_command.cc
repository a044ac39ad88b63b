// chatvault status: this device's setup and the current backup at its location.
#include <ctime>
#include <iostream>

#include "chatvault/backup/engine.h"
#include "chatvault/key/backup_key.h"
#include "chatvault/storage/provider.h"
#include "cli/command_registry.h"
#include "cli/device_config.h"
#include "cli/terminal.h"

namespace chatvault::cli {
namespace {

std::string TimeText(int64_t unix_seconds) {
  if (unix_seconds <= 0) return "never";
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", std::gmtime(&t));
  return buf;
}

int Status_(Globals& g) {
  auto config = LoadConfig(g.home);
  if (!config.ok()) {
    if (config.status().code() != Code::kNotFound) return ReportError(g, config.status());
    if (g.json) PrintJson({{"state", "none"}, {"home", g.home}});
    else std::cout << "Not set up on this device. Run 'chatvault init --key --data DIR --to LOCATION'.\n";
    return 0;
  }
  nlohmann::json out = {{"state", config->state},
                        {"home", g.home},
                        {"data_dir", config->data_dir},
                        {"location", config->location},
                        {"protection", config->protection},
                        {"key_fingerprint", config->key_fingerprint},
                        {"last_sequence", config->last_sequence},
                        {"last_backup_unix", config->last_backup_unix}};
  // Ask the location itself: another device or a restore may have moved things on.
  std::string remote_error;
  auto key = key::ReadKeyFile(KeyFilePath(g.home));
  auto provider = storage::OpenProvider(config->location);
  if (key.ok() && provider.ok()) {
    auto info = backup::LatestBackup(**provider, *key);
    if (info.ok()) {
      out["current"] = {{"sequence", info->sequence},
                        {"created_unix", info->created_unix},
                        {"files", info->files},
                        {"bytes", info->bytes},
                        {"chunks", info->chunks}};
    } else {
      remote_error = info.status().ToString();
    }
  } else {
    remote_error = !key.ok() ? key.status().ToString() : provider.status().ToString();
  }
  if (!remote_error.empty()) out["current_error"] = remote_error;

  if (g.json) {
    PrintJson(out);
    return 0;
  }
  std::cout << "Setup:        " << (config->state == "ready" ? "ready" : "pending (run 'chatvault init --confirm')")
            << "\nChat data:    " << config->data_dir << "\nBackups go to: " << config->location
            << "\nProtection:   64-digit key (fingerprint " << config->key_fingerprint.substr(0, 16)
            << ")\nLast backup from this device: " << TimeText(config->last_backup_unix);
  if (config->last_sequence) std::cout << " (backup " << config->last_sequence << ")";
  std::cout << "\n";
  if (out.contains("current")) {
    const auto& c = out["current"];
    std::cout << "Current backup at the location: " << c["sequence"].get<uint64_t>() << ", made "
              << TimeText(c["created_unix"].get<int64_t>()) << ", " << c["files"].get<uint64_t>()
              << " files, " << HumanBytes(c["bytes"].get<uint64_t>()) << "\n";
  } else {
    std::cout << "Current backup at the location: none (" << remote_error << ")\n";
  }
  return 0;
}

const bool kRegistered = RegisterCommands(50, [](CLI::App& app, Globals& g) {
  CLI::App* cmd = app.add_subcommand("status", "Show this device's setup and the current backup");
  cmd->callback([&g] { g.exit_code = Status_(g); });
});

}  // namespace
}  // namespace chatvault::cli

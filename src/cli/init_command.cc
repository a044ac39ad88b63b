// chatvault init: creates the backup key K on this device and proves the user saved it.
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <memory>

#include "chatvault/crypto/secret.h"
#include "chatvault/key/backup_key.h"
#include "cli/command_registry.h"
#include "cli/device_config.h"
#include "cli/location_check.h"
#include "cli/terminal.h"

namespace chatvault::cli {
namespace {

constexpr int kConfirmTries = 3;

struct InitArgs {
  bool use_key = false;
  bool saved = false;
  bool confirm = false;
  bool force = false;
  bool replace_other_backup = false;
  std::string data_dir;
  std::string location;
};

// Asks for the key until it matches (at most kConfirmTries times). True when proven.
bool ProveKeySaved(const key::BackupKey& expected, const Globals& g) {
  for (int attempt = 1; attempt <= kConfirmTries; ++attempt) {
    auto line = ReadLine("Type the 64-digit key you saved, to prove you have it: ", true);
    if (!line) return false;
    auto typed = key::BackupKey::Parse(*line);
    if (!typed.ok()) {
      std::cerr << "That is not a backup key: " << typed.status().message() << ".\n";
    } else if (typed->secret().Equals(expected.secret())) {
      return true;
    } else {
      std::cerr << "That key does not match the one shown above.\n";
    }
    if (attempt < kConfirmTries) std::cerr << "Try again (" << kConfirmTries - attempt << " left).\n";
  }
  return false;
}

int Confirm(Globals& g) {
  auto config = LoadConfig(g.home);
  if (!config.ok()) return ReportError(g, config.status());
  if (config->state == "ready") {
    if (g.json) PrintJson({{"state", "ready"}});
    else std::cout << "Setup is already complete.\n";
    return 0;
  }
  auto key = key::ReadKeyFile(KeyFilePath(g.home));
  if (!key.ok()) return ReportError(g, key.status());
  if (!ProveKeySaved(*key, g)) {
    return ReportError(g, PermissionDenied(
                              "the key was not confirmed; setup stays pending until you run "
                              "'chatvault init --confirm' with the key at hand"));
  }
  config->state = "ready";
  if (Status s = SaveConfig(g.home, *config); !s.ok()) return ReportError(g, s);
  if (g.json) PrintJson({{"state", "ready"}});
  else std::cout << "Key confirmed. Setup is complete; run 'chatvault backup'.\n";
  return 0;
}

int Init(Globals& g, const InitArgs& a) {
  if (a.confirm) return Confirm(g);
  if (!a.use_key) {
    return ReportError(g, InvalidArgument("choose how to keep the backup key: --key (a 64-digit "
                                          "key you write down)"));
  }
  if (a.data_dir.empty() || a.location.empty()) {
    return ReportError(g, InvalidArgument("init needs --data DIR (the chat data) and --to LOCATION "
                                          "(where backups go)"));
  }
  if (Status s = EnsureHome(g.home); !s.ok()) return ReportError(g, s);
  if (LoadConfig(g.home).ok() && !a.force) {
    return ReportError(g, AlreadyExists("chatvault is already set up in " + g.home +
                                        "; use --force to replace that setup and its key"));
  }
  std::error_code ec;
  if (!std::filesystem::is_directory(a.data_dir, ec)) {
    return ReportError(g, NotFound("the chat data directory " + a.data_dir + " does not exist"));
  }

  key::BackupKey key = key::BackupKey::Generate();
  if (Status s = CheckLocationForNewKey(g, a.location, key, a.replace_other_backup); !s.ok()) {
    return ReportError(g, s);
  }
  if (Status s = key::WriteKeyFile(KeyFilePath(g.home), key); !s.ok()) return ReportError(g, s);
  DeviceConfig config;
  config.state = "pending";
  config.data_dir = std::filesystem::absolute(a.data_dir).lexically_normal().string();
  config.location = NormalizeLocation(a.location);
  config.key_fingerprint = HexEncode(key.Fingerprint());
  config.replace_other_backup = a.replace_other_backup;
  config.created_unix = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
  if (Status s = SaveConfig(g.home, config); !s.ok()) return ReportError(g, s);

  if (!g.json) {
    std::cout << "Your backup key (write it down and keep it somewhere safe; without it your\n"
                 "backups cannot be restored, and nobody can recover it for you):\n\n    "
              << key.Display() << "\n\n";
    std::cout.flush();
  }
  bool proven = a.saved;
  if (!proven && !g.json) proven = ProveKeySaved(key, g);
  if (proven) {
    config.state = "ready";
    if (Status s = SaveConfig(g.home, config); !s.ok()) return ReportError(g, s);
  }
  if (g.json) {
    PrintJson({{"state", config.state},
               {"key", key.Hex()},
               {"key_file", KeyFilePath(g.home)},
               {"key_fingerprint", config.key_fingerprint},
               {"data_dir", config.data_dir},
               {"location", config.location}});
  } else if (proven) {
    std::cout << "Setup is complete. Back up with 'chatvault backup'.\n";
  } else {
    std::cout << "Setup is pending: backups start once you confirm the key with "
                 "'chatvault init --confirm'.\n";
  }
  return 0;
}

const bool kRegistered = RegisterCommands(10, [](CLI::App& app, Globals& g) {
  auto args = std::make_shared<InitArgs>();
  CLI::App* cmd = app.add_subcommand(
      "init",
      "Set up backups on this device: creates a new 256-bit backup key, shows it as 64 digits,\n"
      "and finishes once you type it back (proof you saved it). The key stays in the state\n"
      "directory (mode 0600) so backups run unattended; restoring elsewhere needs the 64 digits.");
  cmd->add_flag("--key", args->use_key, "Protect backups with a 64-digit key you write down");
  cmd->add_option("--data", args->data_dir, "The chat data directory (msgstore.db and media)");
  cmd->add_option("--to", args->location,
                  "Where backups go: a directory, file:///path, or a cloud location");
  cmd->add_flag("--i-saved-the-key", args->saved,
                "Skip typing the key back (for scripts that store the key themselves)");
  cmd->add_flag("--confirm", args->confirm,
                "Finish a pending setup by typing the key back");
  cmd->add_flag("--force", args->force, "Replace an existing setup (and its key) on this device");
  cmd->add_flag("--replace-other-backup", args->replace_other_backup,
                "Let backups replace a backup made with a different key at the location (on a\n"
                "terminal you type REPLACE to agree)");
  cmd->callback([&g, args] {
    if (auto variant = RunVariant("init")) {
      g.exit_code = *variant;
      return;
    }
    g.exit_code = Init(g, *args);
  });
});

}  // namespace
}  // namespace chatvault::cli

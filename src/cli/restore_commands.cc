// chatvault restore / verify: read a backup back with the key from --key, --key-file, --password
// or the terminal. Both protections go through the same restore; `restore --set-up-device` then
// lets the new device continue backing up where the old one stopped.
#include <algorithm>
#include <functional>
#include <iostream>

#include "chatvault/backup/engine.h"
#include "chatvault/storage/provider.h"
#include "cli/backup_source.h"
#include "cli/commands.h"
#include "cli/device_config.h"
#include "cli/key_source.h"
#include "cli/terminal.h"
#include "cli/vault_settings.h"

namespace chatvault::cli {
namespace {

struct RestoreOptions {
  std::string from;
  std::string to;
  bool force = false;          // restore into a directory that is not empty
  uint64_t backup = 0;         // --backup N; 0: the newest
  bool set_up_device = false;  // afterwards, back up `to` to `from` with this key from here on
  KeySource key;
};

struct RestoreReport : Report {
  backup::RestoreSummary summary;
  std::string to;
  std::optional<DeviceConfig> set_up;  // --set-up-device: this device's new setup
  std::optional<VaultSettings> vault;  // ... and, in password mode, its vault record
  bool device_has_setup = false;       // without --set-up-device: whether to offer it
};

struct VerifyOptions {
  BackupSource source;
  uint64_t backup = 0;
};

struct VerifyReport : Report {
  backup::RestoreSummary summary;
};

using EngineStep =
    std::function<Result<backup::RestoreSummary>(const backup::RestoreOptions& options)>;

// Runs a restore or verify with a progress bar on the terminal (unless --quiet or --json).
Result<backup::RestoreSummary> WithProgress(const Globals& g, backup::RestoreOptions options,
                                            const EngineStep& step) {
  ProgressBar bar(!g.quiet && !g.json);
  options.progress = [&bar](const backup::Progress& p) { bar.Update(p); };
  auto summary = step(options);
  bar.Finish();
  return summary;
}

// The engine's options: which backup, and the newest one known to exist there (so a location
// that went back in time is warned about).
backup::RestoreOptions EngineOptions(const Globals& g, const std::string& from, uint64_t backup,
                                     const UnlockedKey& unlocked) {
  backup::RestoreOptions options;
  options.sequence = backup;
  options.min_sequence = KnownSequence(g.home, from, unlocked);
  return options;
}

// --set-up-device is checked before the restore, so a device that has a setup is not
// downloaded into first.
Status CheckCanSetUp(const Globals& g) {
  CV_RETURN_IF_ERROR(EnsureHome(g.home));
  if (LoadConfig(g.home).ok()) {
    return AlreadyExists("chatvault is already set up in " + g.home +
                         "; restore without --set-up-device, or use another --home");
  }
  return OkStatus();
}

// The new device backs up the restored directory to the same location with the same key (and,
// in password mode, keeps it behind the same vault record, which any device holding K may
// change). The newest backup known now becomes the floor for the location.
Result<DeviceConfig> SetUpDevice(const Globals& g, const RestoreOptions& o,
                                 const UnlockedKey& unlocked, uint64_t newest_known) {
  CV_RETURN_IF_ERROR(key::WriteKeyFile(KeyFilePath(g.home), unlocked.key));
  if (unlocked.vault) CV_RETURN_IF_ERROR(SaveVaultSettings(g.home, *unlocked.vault));
  DeviceConfig config =
      NewDeviceConfig(o.to, o.from, unlocked.key, unlocked.vault ? "password" : "key");
  config.state = "ready";  // the user just supplied the key (or its password)
  config.last_sequence = newest_known;
  CV_RETURN_IF_ERROR(SaveConfig(g.home, config));
  return config;
}

Result<RestoreReport> RunRestore(const Globals& g, const RestoreOptions& o) {
  if (o.set_up_device) CV_RETURN_IF_ERROR(CheckCanSetUp(g));
  CV_ASSIGN_OR_RETURN(UnlockedKey unlocked, UnlockKey(g, o.key));
  CV_ASSIGN_OR_RETURN(auto provider, storage::OpenProvider(o.from));
  backup::RestoreOptions options = EngineOptions(g, o.from, o.backup, unlocked);
  options.allow_nonempty = o.force;
  auto summary = WithProgress(g, options, [&](const backup::RestoreOptions& with_progress) {
    return backup::RunRestore(*provider, unlocked.key, o.to, with_progress);
  });
  if (!summary.ok()) return summary.status().Annotate("restore failed");
  RestoreReport r;
  r.summary = *summary;
  r.warnings = summary->warnings;
  r.to = o.to;
  if (o.set_up_device) {
    const uint64_t newest = std::max(options.min_sequence, summary->sequence);
    auto config = SetUpDevice(g, o, unlocked, newest);
    if (!config.ok()) return config.status().Annotate("the restore is complete, but setting up");
    r.set_up = *config;
    r.vault = unlocked.vault;
  } else {
    r.device_has_setup = LoadConfig(g.home).ok();
  }
  return r;
}

Result<VerifyReport> RunVerify(const Globals& g, const VerifyOptions& given) {
  CV_ASSIGN_OR_RETURN(BackupSource source, WithDeviceDefaults(g, given.source, "verify"));
  CV_ASSIGN_OR_RETURN(UnlockedKey unlocked, UnlockKey(g, source.key));
  CV_ASSIGN_OR_RETURN(auto provider, storage::OpenProvider(source.from));
  auto summary = WithProgress(g, EngineOptions(g, source.from, given.backup, unlocked),
                              [&](const backup::RestoreOptions& with_progress) {
                                return backup::RunVerify(*provider, unlocked.key, with_progress);
                              });
  if (!summary.ok()) return summary.status().Annotate("verify failed");
  VerifyReport r;
  r.summary = *summary;
  r.warnings = summary->warnings;
  return r;
}

// What restore and verify both say about the backup they read.
nlohmann::json SummaryJson(const backup::RestoreSummary& s) {
  return {{"sequence", s.sequence}, {"created_unix", s.created_unix}, {"files", s.files},
          {"bytes", s.bytes},       {"warnings", s.warnings},         {"seconds", s.seconds}};
}

nlohmann::json ToJson(const RestoreReport& r) {
  nlohmann::json out = SummaryJson(r.summary);
  out["to"] = r.to;
  out["set_up_device"] = r.set_up.has_value();
  return out;
}

void PrintSetUp(const RestoreReport& r) {
  if (!r.set_up) {
    if (!r.device_has_setup) {
      std::cout << "This device does not back up yet. To continue where the old device stopped,\n"
                   "run this restore again with --set-up-device --force: from then on this\n"
                   "device backs the directory up to the same place with the same key.\n";
    }
    return;
  }
  std::cout << "This device now backs up " << r.set_up->data_dir << " to " << r.set_up->location
            << ", protected by ";
  if (r.vault) {
    std::cout << "your password at " << r.vault->Describe() << " for " << r.vault->account;
  } else {
    std::cout << "the same 64-digit key";
  }
  std::cout << ". Run 'chatvault backup'.\n";
}

void PrintText(const RestoreReport& r) {
  const backup::RestoreSummary& s = r.summary;
  std::cout << "Restored backup " << s.sequence << ": " << s.files << " files, "
            << HumanBytes(s.bytes) << " into " << r.to << " in " << SecondsText(s.seconds)
            << "; every byte verified.\n";
  PrintSetUp(r);
}

nlohmann::json ToJson(const VerifyReport& r) {
  nlohmann::json out = SummaryJson(r.summary);
  out["chunks"] = r.summary.chunks;
  return out;
}

void PrintText(const VerifyReport& r) {
  const backup::RestoreSummary& s = r.summary;
  std::cout << "Backup " << s.sequence << " is intact: " << s.files << " files, "
            << HumanBytes(s.bytes) << " in " << s.chunks << " chunks, all authenticated ("
            << SecondsText(s.seconds) << ").\n";
}

}  // namespace

void AddRestoreCommand(CLI::App& app, CommandRunner& runner) {
  auto [cmd, o] = runner.AddCommand<RestoreOptions>(
      app, "restore", RunRestore,
      "Restore the current backup from a location into an empty directory, checking every byte.\n"
      "Without --key-file, --key or --password, asks for the 64-digit key on the terminal.");
  cmd->add_option("--from", o->from, "Where the backup is (directory, file://, cloud)")->required();
  cmd->add_option("--to", o->to, "Directory to restore into (created if missing)")->required();
  cmd->add_flag("--force", o->force, "Restore into a directory that is not empty");
  cmd->add_option("--backup", o->backup,
                  "Restore this backup instead of the newest ('chatvault backups' lists them)");
  cmd->add_flag("--set-up-device", o->set_up_device,
                "Then back up the restored directory from this device, to the same location\n"
                "with the same key (and the same vault record with --password)");
  o->key.AddFlags(cmd);
}

void AddVerifyCommand(CLI::App& app, CommandRunner& runner) {
  auto [cmd, o] = runner.AddCommand<VerifyOptions>(
      app, "verify", RunVerify,
      "Download and authenticate the whole current backup without writing anything.\n"
      "Defaults to this device's location and key.");
  o->source.AddFlags(cmd, "Where the backup is (default: the configured location)");
  cmd->add_option("--backup", o->backup, "Verify this backup instead of the newest");
}

}  // namespace chatvault::cli

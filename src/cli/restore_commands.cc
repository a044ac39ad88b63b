// chatvault restore / verify: read a backup back with the key from --key, --key-file, --password
// or the terminal. Both protections go through the same restore.
#include <functional>
#include <iostream>
#include <memory>

#include "chatvault/backup/engine.h"
#include "chatvault/storage/provider.h"
#include "cli/commands.h"
#include "cli/device_config.h"
#include "cli/key_source.h"
#include "cli/terminal.h"

namespace chatvault::cli {
namespace {

struct RestoreOptions {
  std::string from;
  std::string to;
  bool force = false;  // restore into a directory that is not empty
  KeySource key;
};

struct RestoreReport : Report {
  backup::RestoreSummary summary;
  std::string to;
};

struct VerifyOptions {
  std::string from;  // empty: this device's location
  KeySource key;     // none given: this device's key file
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

Result<RestoreReport> RunRestore(const Globals& g, const RestoreOptions& o) {
  CV_ASSIGN_OR_RETURN(key::BackupKey key, ResolveKey(g, o.key));
  CV_ASSIGN_OR_RETURN(auto provider, storage::OpenProvider(o.from));
  backup::RestoreOptions options;
  options.allow_nonempty = o.force;
  auto summary = WithProgress(g, options, [&](const backup::RestoreOptions& with_progress) {
    return backup::RunRestore(*provider, key, o.to, with_progress);
  });
  if (!summary.ok()) return summary.status().Annotate("restore failed");
  RestoreReport r;
  r.summary = *summary;
  r.to = o.to;
  return r;
}

// Without --from or a key, verify checks this device's own backup.
Result<VerifyOptions> WithDeviceDefaults(const Globals& g, VerifyOptions o) {
  if (!o.from.empty() && o.key.given()) return o;
  auto config = LoadConfig(g.home);
  if (!config.ok()) {
    return InvalidArgument(
        "verify needs --from LOCATION and --key-file FILE when this device is not set up");
  }
  if (o.from.empty()) o.from = config->location;
  if (!o.key.given()) o.key.file = KeyFilePath(g.home);
  return o;
}

Result<VerifyReport> RunVerify(const Globals& g, const VerifyOptions& given) {
  CV_ASSIGN_OR_RETURN(VerifyOptions o, WithDeviceDefaults(g, given));
  CV_ASSIGN_OR_RETURN(key::BackupKey key, ResolveKey(g, o.key));
  CV_ASSIGN_OR_RETURN(auto provider, storage::OpenProvider(o.from));
  auto summary = WithProgress(g, {}, [&](const backup::RestoreOptions& with_progress) {
    return backup::RunVerify(*provider, key, with_progress);
  });
  if (!summary.ok()) return summary.status().Annotate("verify failed");
  VerifyReport r;
  r.summary = *summary;
  return r;
}

// What restore and verify both say about the backup they read.
nlohmann::json SummaryJson(const backup::RestoreSummary& s) {
  return {{"sequence", s.sequence},
          {"created_unix", s.created_unix},
          {"files", s.files},
          {"bytes", s.bytes},
          {"seconds", s.seconds}};
}

nlohmann::json ToJson(const RestoreReport& r) {
  nlohmann::json out = SummaryJson(r.summary);
  out["to"] = r.to;
  return out;
}

void PrintText(const RestoreReport& r) {
  const backup::RestoreSummary& s = r.summary;
  std::cout << "Restored backup " << s.sequence << ": " << s.files << " files, "
            << HumanBytes(s.bytes) << " into " << r.to << " in " << SecondsText(s.seconds)
            << "; every byte verified.\n";
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
  auto o = std::make_shared<RestoreOptions>();
  CLI::App* cmd = app.add_subcommand(
      "restore",
      "Restore the current backup from a location into an empty directory, checking every byte.\n"
      "Without --key-file, --key or --password, asks for the 64-digit key on the terminal.");
  cmd->add_option("--from", o->from, "Where the backup is (directory, file://, cloud)")->required();
  cmd->add_option("--to", o->to, "Directory to restore into (created if missing)")->required();
  cmd->add_flag("--force", o->force, "Restore into a directory that is not empty");
  o->key.AddFlags(cmd);
  runner.OnRun(cmd, [o](const Globals& g) { return RunRestore(g, *o); });
}

void AddVerifyCommand(CLI::App& app, CommandRunner& runner) {
  auto o = std::make_shared<VerifyOptions>();
  CLI::App* cmd = app.add_subcommand(
      "verify",
      "Download and authenticate the whole current backup without writing anything.\n"
      "Defaults to this device's location and key.");
  cmd->add_option("--from", o->from, "Where the backup is (default: the configured location)");
  o->key.AddFlags(cmd);
  runner.OnRun(cmd, [o](const Globals& g) { return RunVerify(g, *o); });
}

}  // namespace chatvault::cli

// chatvault restore / verify: read a backup back with the key from --key, --key-file, --password
// or the terminal. Both protections go through the same restore.
#include <functional>
#include <iostream>
#include <memory>

#include "chatvault/backup/engine.h"
#include "chatvault/storage/provider.h"
#include "cli/backup_source.h"
#include "cli/commands.h"
#include "cli/device_config.h"
#include "cli/key_source.h"
#include "cli/terminal.h"

namespace chatvault::cli {
namespace {

struct RestoreOptions {
  std::string from;
  std::string to;
  bool force = false;   // restore into a directory that is not empty
  uint64_t backup = 0;  // --backup N; 0: the newest
  KeySource key;
};

struct RestoreReport : Report {
  backup::RestoreSummary summary;
  std::string to;
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
                                     const key::BackupKey& key) {
  backup::RestoreOptions options;
  options.sequence = backup;
  options.min_sequence = KnownSequence(g.home, from, key);
  return options;
}

Result<RestoreReport> RunRestore(const Globals& g, const RestoreOptions& o) {
  CV_ASSIGN_OR_RETURN(key::BackupKey key, ResolveKey(g, o.key));
  CV_ASSIGN_OR_RETURN(auto provider, storage::OpenProvider(o.from));
  backup::RestoreOptions options = EngineOptions(g, o.from, o.backup, key);
  options.allow_nonempty = o.force;
  auto summary = WithProgress(g, options, [&](const backup::RestoreOptions& with_progress) {
    return backup::RunRestore(*provider, key, o.to, with_progress);
  });
  if (!summary.ok()) return summary.status().Annotate("restore failed");
  RestoreReport r;
  r.summary = *summary;
  r.warnings = summary->warnings;
  r.to = o.to;
  return r;
}

Result<VerifyReport> RunVerify(const Globals& g, const VerifyOptions& given) {
  CV_ASSIGN_OR_RETURN(BackupSource source, WithDeviceDefaults(g, given.source, "verify"));
  CV_ASSIGN_OR_RETURN(key::BackupKey key, ResolveKey(g, source.key));
  CV_ASSIGN_OR_RETURN(auto provider, storage::OpenProvider(source.from));
  auto summary = WithProgress(g, EngineOptions(g, source.from, given.backup, key),
                              [&](const backup::RestoreOptions& with_progress) {
                                return backup::RunVerify(*provider, key, with_progress);
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
  cmd->add_option("--backup", o->backup,
                  "Restore this backup instead of the newest ('chatvault backups' lists them)");
  o->key.AddFlags(cmd);
  runner.OnRun(cmd, [o](const Globals& g) { return RunRestore(g, *o); });
}

void AddVerifyCommand(CLI::App& app, CommandRunner& runner) {
  auto o = std::make_shared<VerifyOptions>();
  CLI::App* cmd = app.add_subcommand(
      "verify",
      "Download and authenticate the whole current backup without writing anything.\n"
      "Defaults to this device's location and key.");
  o->source.AddFlags(cmd, "Where the backup is (default: the configured location)");
  cmd->add_option("--backup", o->backup, "Verify this backup instead of the newest");
  runner.OnRun(cmd, [o](const Globals& g) { return RunVerify(g, *o); });
}

}  // namespace chatvault::cli

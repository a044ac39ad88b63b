// chatvault backup: backs up this device's chat data directory with its key.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <ctime>
#include <filesystem>
#include <iostream>

#include "chatvault/backup/engine.h"
#include "chatvault/storage/provider.h"
#include "cli/commands.h"
#include "cli/device_config.h"
#include "cli/key_source.h"
#include "cli/terminal.h"
#include "cli/vault_settings.h"

namespace chatvault::cli {
namespace {

struct BackupOptions {
  std::string location;  // empty: the configured one
  std::string data_dir;  // empty: the configured one
  bool reread = false;
  int keep = 2;
  bool replace_other_backup = false;
  bool allow_shrink = false;
  bool accept_rollback = false;
};

struct BackupReport : Report {
  backup::BackupSummary summary;
  std::string location;  // as the provider describes itself
};

// One backup per device at a time: holds an exclusive lock on <home>/backup.lock while alive.
class BackupLock {
 public:
  ~BackupLock() {
    if (fd_ >= 0) ::close(fd_);
  }
  Status Acquire(const std::string& home) {
    const std::string path = home + "/backup.lock";
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ < 0) return IoError("cannot open " + path);
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      return Conflict("another backup is already running on this device; wait for it to finish");
    }
    return OkStatus();
  }

 private:
  int fd_ = -1;
};

// Snapshot staging files of a run that was killed; safe to delete while we hold the lock.
void RemoveStaleSnapshots(const std::string& temp_dir) {
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(temp_dir, ec)) {
    if (e.path().filename().string().starts_with("chatvault-snapshot-")) {
      std::filesystem::remove(e.path(), ec);
    }
  }
}

bool IsConfiguredLocation(const BackupOptions& o, const DeviceConfig& config) {
  return o.location.empty() || NormalizeLocation(o.location) == config.location;
}

// The engine's options: snapshots are staged in <home>/tmp, the database's page hashes cached in
// <home>/cache, progress drawn on a terminal; at the configured location, this device's record of
// its last backup is the floor (rollback) and its agreement at setup to replace another key's
// backup stands.
backup::BackupOptions EngineOptions(const Globals& g, const BackupOptions& o,
                                    const DeviceConfig& config, ProgressBar& bar) {
  const std::string temp_dir = g.home + "/tmp";
  std::error_code ec;
  std::filesystem::create_directories(temp_dir, ec);
  RemoveStaleSnapshots(temp_dir);
  const bool configured = IsConfiguredLocation(o, config);
  backup::BackupOptions options;
  options.temp_dir = ec ? "" : temp_dir;
  const std::string cache_dir = g.home + "/cache";
  std::filesystem::create_directories(cache_dir, ec);
  options.cache_dir = ec ? "" : cache_dir;
  options.reread_all = o.reread;
  options.keep = o.keep;
  options.allow_shrink = o.allow_shrink;
  options.accept_rollback = o.accept_rollback;
  options.min_sequence = configured ? config.last_sequence : 0;
  options.replace_other_backup =
      o.replace_other_backup || (configured && config.replace_other_backup);
  options.progress = [&bar](const backup::Progress& p) { bar.Update(p); };
  return options;
}

// --replace-other-backup deletes another key's backup: on a terminal the user types REPLACE.
Status ConfirmReplacement(storage::Provider& provider, const key::BackupKey& key,
                          const std::string& location) {
  Status owner = backup::CheckLocation(provider, key, backup::BackupOptions{});
  if (owner.code() != Code::kForeignBackup) return OkStatus();
  if (ConfirmByTyping("The backup at " + location +
                          " was made with a different key. It will be deleted once this backup "
                          "is complete, and nobody can restore it afterwards.",
                      "REPLACE")) {
    return OkStatus();
  }
  return Cancelled("nothing was replaced");
}

// What to do next, after the engine's sentence, for the refusals a user can override.
Status WithHint(const Status& s) {
  switch (s.code()) {
    case Code::kForeignBackup:
      return Status(s.code(), s.message() +
                                  ". If that backup is yours (another device, an earlier "
                                  "setup), restore it with its key or back up elsewhere; to "
                                  "replace it, run 'chatvault backup --replace-other-backup'");
    case Code::kSuspiciousData:
      return Status(s.code(), s.message() +
                                  ". Check the chat data; if the change is intended, run "
                                  "'chatvault backup --allow-shrink'");
    case Code::kRolledBack:
      return Status(s.code(), s.message() +
                                  ". Check the location; 'chatvault backups' lists what it "
                                  "holds. To back up on top of it anyway, run 'chatvault backup "
                                  "--accept-rollback'");
    default: return s;
  }
}

// The configured location's last backup is what `status` reports as this device's, and the
// floor below which the location counts as rolled back.
Status RecordBackup(const Globals& g, DeviceConfig config, const backup::BackupSummary& summary) {
  config.last_sequence = summary.sequence;
  config.last_backup_unix = std::time(nullptr);
  config.replace_other_backup = false;  // the agreement at setup was for one replacement
  return SaveConfig(g.home, config);
}

// In password mode the vault (or every realm) keeps the newest backup's number, signed with the
// device key, so a new phone that recovers K notices a location that went back in time. A vault
// or realm that cannot be told now costs a warning naming it, not the backup: the next backup
// tells it.
std::optional<std::string> TellVault(const Globals& g, const key::BackupKey& key,
                                     uint64_t sequence) {
  auto settings = LoadVaultSettings(g.home);
  Status s = settings.status();
  if (s.ok()) {
    auto vault = ConnectVault(*settings, kQuickVaultRetry);
    s = vault.ok() ? (*vault)->SetBackupSequence(settings->account, key, sequence) : vault.status();
  }
  if (s.ok()) return std::nullopt;
  if (settings.ok() && settings->uses_realms()) {
    return "not every realm was told about backup " + std::to_string(sequence) + " (" +
           s.ToString() +
           "); a new device that hears only from realms that were not told cannot notice a "
           "rollback of the location until a later backup reaches them";
  }
  return "the vault was not told about backup " + std::to_string(sequence) + " (" + s.ToString() +
         "); a new device restoring with the password cannot notice a rollback "
         "of the location until a later backup reaches it";
}

Result<BackupReport> RunBackup(const Globals& g, const BackupOptions& o) {
  CV_ASSIGN_OR_RETURN(DeviceConfig config, LoadReadyConfig(g.home));
  auto key = ResolveKey(g, KeySource::DeviceKeyFile(g.home));
  if (!key.ok()) return key.status().Annotate("reading this device's backup key");
  const std::string location = o.location.empty() ? config.location : o.location;
  CV_ASSIGN_OR_RETURN(auto provider, storage::OpenProvider(location));
  BackupLock lock;
  CV_RETURN_IF_ERROR(lock.Acquire(g.home));
  if (o.replace_other_backup) CV_RETURN_IF_ERROR(ConfirmReplacement(*provider, *key, location));
  ProgressBar bar(!g.quiet && !g.json);
  auto summary = backup::RunBackup(o.data_dir.empty() ? config.data_dir : o.data_dir, *provider,
                                   *key, EngineOptions(g, o, config, bar));
  bar.Finish();
  if (!summary.ok()) return WithHint(summary.status()).Annotate("backup failed");
  BackupReport r;
  r.summary = *summary;
  r.location = provider->Describe();
  r.warnings = summary->warnings;
  if (summary->CompletedWithSkippedFiles()) r.completion = Completion::kWithSkippedFiles;
  if (IsConfiguredLocation(o, config)) {
    CV_RETURN_IF_ERROR(RecordBackup(g, config, *summary));
    if (config.protection == "password") {
      if (auto warning = TellVault(g, *key, summary->sequence)) r.warnings.push_back(*warning);
    }
  }
  return r;
}

nlohmann::json DatabaseJson(const backup::DatabaseBackupSummary& d) {
  return {{"paged", d.paged},
          {"page_size", d.page_size},
          {"pages", d.pages},
          {"pages_changed", d.pages_changed},
          {"pages_packed", d.pages_packed},
          {"chunks_written", d.chunks_written},
          {"packs", d.packs},
          {"packs_written", d.packs_written},
          {"bytes_uploaded", d.bytes_uploaded},
          {"unused_pages", d.unused_pages},
          {"compared_with", d.compared_with},
          {"forced", d.forced}};
}

nlohmann::json ToJson(const BackupReport& r) {
  const backup::BackupSummary& s = r.summary;
  nlohmann::json skipped = nlohmann::json::array();
  for (const backup::SkippedFile& f : s.skipped) {
    skipped.push_back({{"path", f.path}, {"reason", f.reason}});
  }
  return {{"sequence", s.sequence},
          {"location", r.location},
          {"files", s.files},
          {"bytes", s.bytes},
          {"chunks", s.chunks},
          {"new_chunks", s.new_chunks},
          {"files_unchanged", s.files_unchanged},
          {"bytes_uploaded", s.bytes_uploaded},
          {"objects_deleted", s.objects_deleted},
          {"backups_kept", s.backups_kept},
          {"messages", s.messages ? nlohmann::json(*s.messages) : nlohmann::json()},
          {"skipped", skipped},
          {"completed_with_skipped_files", s.CompletedWithSkippedFiles()},
          {"warnings", r.warnings},
          {"seconds", s.seconds},
          {"warning", s.cleanup_warning},
          {"database", DatabaseJson(s.database)}};
}

void PrintText(const BackupReport& r) {
  const backup::BackupSummary& s = r.summary;
  std::cout << "Backup " << s.sequence << " done: " << s.files << " files, " << HumanBytes(s.bytes)
            << ", " << HumanBytes(s.bytes_uploaded) << " uploaded (" << s.new_chunks << " new of "
            << s.chunks << " chunks) in " << SecondsText(s.seconds) << ".\n";
  if (const backup::DatabaseBackupSummary& d = s.database; d.paged) {
    std::cout << "Database: " << d.pages_changed << " of " << d.pages << " pages changed, "
              << HumanBytes(d.bytes_uploaded) << " of it uploaded"
              << (d.forced.empty() ? "" : " (folded more than usual: " + d.forced + ")") << ".\n";
  }
  if (!s.cleanup_warning.empty()) std::cerr << "warning: " << s.cleanup_warning << "\n";
  for (const backup::SkippedFile& f : s.skipped) {
    std::cerr << "warning: skipped " << f.path << ": " << f.reason << "\n";
  }
  if (s.CompletedWithSkippedFiles()) {
    std::cout << "Completed with skipped files: " << s.skipped.size()
              << " could not be read and are not in this backup (listed above).\n";
  }
}

}  // namespace

void AddBackupCommand(CLI::App& app, CommandRunner& runner) {
  auto [cmd, o] = runner.AddCommand<BackupOptions>(
      app, "backup", RunBackup,
      "Back up the chat data directory now. Only chunks the location does not have yet are\n"
      "uploaded; the new backup becomes current only when complete, then older backups' data\n"
      "is removed. Safe to interrupt: run it again to finish.");
  cmd->add_option("--to", o->location, "Back up to this location instead of the configured one");
  cmd->add_option("--data", o->data_dir, "Back up this chat data directory instead");
  cmd->add_flag("--reread", o->reread,
                "Read every media file again (by default a file whose size and mtime\n"
                "match the current backup keeps its stored chunks unread)");
  cmd->add_option("--keep", o->keep,
                  "How many backups to keep at the location, this one included (default 2)")
      ->check(CLI::Range(1, 1000));
  cmd->add_flag("--replace-other-backup", o->replace_other_backup,
                "Replace a backup made with a different key at the location (it is deleted\n"
                "once this backup is complete; on a terminal you type REPLACE to agree)");
  cmd->add_flag("--allow-shrink", o->allow_shrink,
                "Make the backup current even if it looks like lost data (the database fails\n"
                "its check, or more than half of the messages or media files are gone)");
  cmd->add_flag("--accept-rollback", o->accept_rollback,
                "Back up even though the location is older than this device's last backup");
}

}  // namespace chatvault::cli

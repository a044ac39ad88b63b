// chatvault backup: backs up this device's chat data directory with its key.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <ctime>
#include <filesystem>
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

struct BackupOptions {
  std::string location;  // empty: the configured one
  std::string data_dir;  // empty: the configured one
  bool reread = false;
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

// The engine's options: snapshots are staged in <home>/tmp, progress drawn on a terminal.
backup::BackupOptions EngineOptions(const Globals& g, const BackupOptions& o, ProgressBar& bar) {
  const std::string temp_dir = g.home + "/tmp";
  std::error_code ec;
  std::filesystem::create_directories(temp_dir, ec);
  RemoveStaleSnapshots(temp_dir);
  backup::BackupOptions options;
  options.temp_dir = ec ? "" : temp_dir;
  options.reread_all = o.reread;
  options.progress = [&bar](const backup::Progress& p) { bar.Update(p); };
  return options;
}

// The configured location's last backup is what `status` reports as this device's.
Status RecordBackup(const Globals& g, const BackupOptions& o, DeviceConfig config,
                    const backup::BackupSummary& summary) {
  if (!o.location.empty() && NormalizeLocation(o.location) != config.location) return OkStatus();
  config.last_sequence = summary.sequence;
  config.last_backup_unix = std::time(nullptr);
  return SaveConfig(g.home, config);
}

Result<BackupReport> RunBackup(const Globals& g, const BackupOptions& o) {
  CV_ASSIGN_OR_RETURN(DeviceConfig config, LoadReadyConfig(g.home));
  auto key = ResolveKey(g, KeySource::DeviceKeyFile(g.home));
  if (!key.ok()) return key.status().Annotate("reading this device's backup key");
  CV_ASSIGN_OR_RETURN(auto provider,
                      storage::OpenProvider(o.location.empty() ? config.location : o.location));
  BackupLock lock;
  CV_RETURN_IF_ERROR(lock.Acquire(g.home));
  ProgressBar bar(!g.quiet && !g.json);
  auto summary = backup::RunBackup(o.data_dir.empty() ? config.data_dir : o.data_dir, *provider,
                                   *key, EngineOptions(g, o, bar));
  bar.Finish();
  if (!summary.ok()) return summary.status().Annotate("backup failed");
  CV_RETURN_IF_ERROR(RecordBackup(g, o, config, *summary));
  BackupReport r;
  r.summary = *summary;
  r.location = provider->Describe();
  return r;
}

nlohmann::json ToJson(const BackupReport& r) {
  const backup::BackupSummary& s = r.summary;
  return {{"sequence", s.sequence},
          {"location", r.location},
          {"files", s.files},
          {"bytes", s.bytes},
          {"chunks", s.chunks},
          {"new_chunks", s.new_chunks},
          {"files_unchanged", s.files_unchanged},
          {"bytes_uploaded", s.bytes_uploaded},
          {"objects_deleted", s.objects_deleted},
          {"seconds", s.seconds},
          {"warning", s.cleanup_warning}};
}

void PrintText(const BackupReport& r) {
  const backup::BackupSummary& s = r.summary;
  std::cout << "Backup " << s.sequence << " done: " << s.files << " files, " << HumanBytes(s.bytes)
            << ", " << HumanBytes(s.bytes_uploaded) << " uploaded (" << s.new_chunks << " new of "
            << s.chunks << " chunks) in " << SecondsText(s.seconds) << ".\n";
  if (!s.cleanup_warning.empty()) std::cerr << "warning: " << s.cleanup_warning << "\n";
}

}  // namespace

void AddBackupCommand(CLI::App& app, CommandRunner& runner) {
  auto o = std::make_shared<BackupOptions>();
  CLI::App* cmd = app.add_subcommand(
      "backup",
      "Back up the chat data directory now. Only chunks the location does not have yet are\n"
      "uploaded; the new backup becomes current only when complete, then older backups' data\n"
      "is removed. Safe to interrupt: run it again to finish.");
  cmd->add_option("--to", o->location, "Back up to this location instead of the configured one");
  cmd->add_option("--data", o->data_dir, "Back up this chat data directory instead");
  cmd->add_flag("--reread", o->reread,
                "Read every media file again (by default a file whose size and mtime\n"
                "match the current backup keeps its stored chunks unread)");
  runner.OnRun(cmd, [o](const Globals& g) { return RunBackup(g, *o); });
}

}  // namespace chatvault::cli

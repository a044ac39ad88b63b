// chatvault backup / restore / verify: the backup engine behind the CLI.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <ctime>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>

#include "chatvault/backup/engine.h"
#include "chatvault/key/backup_key.h"
#include "chatvault/storage/provider.h"
#include "cli/command_registry.h"
#include "cli/device_config.h"
#include "cli/terminal.h"

namespace chatvault::cli {
namespace {

struct BackupArgs {
  std::string location;
  std::string data_dir;
  bool reread = false;
};

struct RestoreArgs {
  std::string from;
  std::string to;
  std::string key_file;
  std::string key_text;
  bool force = false;
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

std::string Seconds(double s) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(1) << s << " s";
  return out.str();
}

// The key from --key, --key-file, or typed on the terminal (no echo).
Result<key::BackupKey> ResolveKey(const std::string& key_text, const std::string& key_file) {
  if (!key_text.empty()) return key::BackupKey::Parse(key_text);
  if (!key_file.empty()) return key::ReadKeyFile(key_file);
  auto line = ReadLine("Backup key (64 digits): ", /*echo=*/false);
  if (!line) {
    return InvalidArgument("no backup key: pass --key-file FILE or --key \"DIGITS\", or type it");
  }
  return key::BackupKey::Parse(*line);
}

int Backup(Globals& g, const BackupArgs& a) {
  auto config = LoadReadyConfig(g.home);
  if (!config.ok()) return ReportError(g, config.status());
  const std::string location = a.location.empty() ? config->location : a.location;
  const std::string data_dir = a.data_dir.empty() ? config->data_dir : a.data_dir;
  auto key = key::ReadKeyFile(KeyFilePath(g.home));
  if (!key.ok()) return ReportError(g, key.status().Annotate("reading this device's backup key"));
  auto provider = storage::OpenProvider(location);
  if (!provider.ok()) return ReportError(g, provider.status());

  BackupLock lock;
  if (Status s = lock.Acquire(g.home); !s.ok()) return ReportError(g, s);
  const std::string temp_dir = g.home + "/tmp";
  std::error_code ec;
  std::filesystem::create_directories(temp_dir, ec);
  RemoveStaleSnapshots(temp_dir);
  backup::BackupOptions options;
  options.temp_dir = ec ? "" : temp_dir;
  options.reread_all = a.reread;
  ProgressBar bar(!g.quiet && !g.json);
  options.progress = [&bar](const backup::Progress& p) { bar.Update(p); };
  auto summary = backup::RunBackup(data_dir, **provider, *key, options);
  bar.Finish();
  if (!summary.ok()) return ReportError(g, summary.status().Annotate("backup failed"));

  if (a.location.empty() || NormalizeLocation(a.location) == config->location) {
    config->last_sequence = summary->sequence;
    config->last_backup_unix = std::time(nullptr);
    if (Status s = SaveConfig(g.home, *config); !s.ok()) return ReportError(g, s);
  }
  if (g.json) {
    PrintJson({{"sequence", summary->sequence},
               {"location", (*provider)->Describe()},
               {"files", summary->files},
               {"bytes", summary->bytes},
               {"chunks", summary->chunks},
               {"new_chunks", summary->new_chunks},
               {"files_unchanged", summary->files_unchanged},
               {"bytes_uploaded", summary->bytes_uploaded},
               {"objects_deleted", summary->objects_deleted},
               {"seconds", summary->seconds},
               {"warning", summary->cleanup_warning}});
  } else {
    std::cout << "Backup " << summary->sequence << " done: " << summary->files << " files, "
              << HumanBytes(summary->bytes) << ", " << HumanBytes(summary->bytes_uploaded)
              << " uploaded (" << summary->new_chunks << " new of " << summary->chunks
              << " chunks) in " << Seconds(summary->seconds) << ".\n";
    if (!summary->cleanup_warning.empty()) std::cerr << "warning: " << summary->cleanup_warning << "\n";
  }
  return 0;
}

int Restore(Globals& g, const RestoreArgs& a) {
  auto key = ResolveKey(a.key_text, a.key_file);
  if (!key.ok()) return ReportError(g, key.status());
  auto provider = storage::OpenProvider(a.from);
  if (!provider.ok()) return ReportError(g, provider.status());
  backup::RestoreOptions options;
  options.allow_nonempty = a.force;
  ProgressBar bar(!g.quiet && !g.json);
  options.progress = [&bar](const backup::Progress& p) { bar.Update(p); };
  auto summary = backup::RunRestore(**provider, *key, a.to, options);
  bar.Finish();
  if (!summary.ok()) return ReportError(g, summary.status().Annotate("restore failed"));
  if (g.json) {
    PrintJson({{"sequence", summary->sequence},
               {"created_unix", summary->created_unix},
               {"files", summary->files},
               {"bytes", summary->bytes},
               {"seconds", summary->seconds},
               {"to", a.to}});
  } else {
    std::cout << "Restored backup " << summary->sequence << ": " << summary->files << " files, "
              << HumanBytes(summary->bytes) << " into " << a.to << " in "
              << Seconds(summary->seconds) << "; every byte verified.\n";
  }
  return 0;
}

int Verify(Globals& g, const RestoreArgs& a) {
  std::string from = a.from;
  std::string key_file = a.key_file;
  if (from.empty() || (key_file.empty() && a.key_text.empty())) {
    auto config = LoadConfig(g.home);
    if (!config.ok()) {
      return ReportError(g, InvalidArgument("verify needs --from LOCATION and --key-file FILE "
                                            "when this device is not set up"));
    }
    if (from.empty()) from = config->location;
    if (key_file.empty() && a.key_text.empty()) key_file = KeyFilePath(g.home);
  }
  auto key = ResolveKey(a.key_text, key_file);
  if (!key.ok()) return ReportError(g, key.status());
  auto provider = storage::OpenProvider(from);
  if (!provider.ok()) return ReportError(g, provider.status());
  backup::RestoreOptions options;
  ProgressBar bar(!g.quiet && !g.json);
  options.progress = [&bar](const backup::Progress& p) { bar.Update(p); };
  auto summary = backup::RunVerify(**provider, *key, options);
  bar.Finish();
  if (!summary.ok()) return ReportError(g, summary.status().Annotate("verify failed"));
  if (g.json) {
    PrintJson({{"sequence", summary->sequence},
               {"created_unix", summary->created_unix},
               {"files", summary->files},
               {"bytes", summary->bytes},
               {"chunks", summary->chunks},
               {"seconds", summary->seconds}});
  } else {
    std::cout << "Backup " << summary->sequence << " is intact: " << summary->files << " files, "
              << HumanBytes(summary->bytes) << " in " << summary->chunks
              << " chunks, all authenticated (" << Seconds(summary->seconds) << ").\n";
  }
  return 0;
}

const bool kRegistered = RegisterCommands(20, [](CLI::App& app, Globals& g) {
  auto bargs = std::make_shared<BackupArgs>();
  CLI::App* backup = app.add_subcommand(
      "backup",
      "Back up the chat data directory now. Only chunks the location does not have yet are\n"
      "uploaded; the new backup becomes current only when complete, then older backups' data\n"
      "is removed. Safe to interrupt: run it again to finish.");
  backup->add_option("--to", bargs->location, "Back up to this location instead of the configured one");
  backup->add_option("--data", bargs->data_dir, "Back up this chat data directory instead");
  backup->add_flag("--reread", bargs->reread,
                   "Read every media file again (by default a file whose size and mtime\n"
                   "match the current backup keeps its stored chunks unread)");
  backup->callback([&g, bargs] { g.exit_code = Backup(g, *bargs); });

  auto rargs = std::make_shared<RestoreArgs>();
  CLI::App* restore = app.add_subcommand(
      "restore",
      "Restore the current backup from a location into an empty directory, checking every byte.\n"
      "Without --key-file or --key, asks for the 64-digit key on the terminal.");
  restore->add_option("--from", rargs->from, "Where the backup is (directory, file://, cloud)")
      ->required();
  restore->add_option("--to", rargs->to, "Directory to restore into (created if missing)")->required();
  restore->add_option("--key-file", rargs->key_file, "A file holding the 64-digit key");
  restore->add_option("--key", rargs->key_text, "The 64-digit key (spaces and dashes allowed)");
  restore->add_flag("--force", rargs->force, "Restore into a directory that is not empty");
  restore->callback([&g, rargs] {
    if (auto variant = RunVariant("restore")) {
      g.exit_code = *variant;
      return;
    }
    g.exit_code = Restore(g, *rargs);
  });

  auto vargs = std::make_shared<RestoreArgs>();
  CLI::App* verify = app.add_subcommand(
      "verify",
      "Download and authenticate the whole current backup without writing anything.\n"
      "Defaults to this device's location and key.");
  verify->add_option("--from", vargs->from, "Where the backup is (default: the configured location)");
  verify->add_option("--key-file", vargs->key_file, "A file holding the 64-digit key");
  verify->add_option("--key", vargs->key_text, "The 64-digit key");
  verify->callback([&g, vargs] { g.exit_code = Verify(g, *vargs); });
});

}  // namespace
}  // namespace chatvault::cli

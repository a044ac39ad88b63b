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
  int keep = 2;
  bool replace_other_backup = false;
  bool allow_shrink = false;
  bool accept_rollback = false;
};

struct RestoreArgs {
  std::string from;
  std::string to;
  std::string key_file;
  std::string key_text;
  bool force = false;
  uint64_t backup = 0;
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

// The last backup this device committed at `location` with the key whose fingerprint is given,
// so that a location that went back in time is noticed. 0 when this device knows nothing of it.
uint64_t KnownSequence(const std::string& home, const std::string& location,
                       const key::BackupKey& key) {
  auto config = LoadConfig(home);
  if (!config.ok() || NormalizeLocation(location) != config->location ||
      config->key_fingerprint != HexEncode(key.Fingerprint())) {
    return 0;
  }
  return config->last_sequence;
}

// What to do next, after the engine's sentence, for the refusals a user can override.
Status WithHint(const Status& s) {
  switch (s.code()) {
    case Code::kForeignBackup:
      return Status(s.code(),
                    s.message() +
                        ". If that backup is yours (another device, an "
                        "earlier setup), restore it with its key or back up elsewhere; to "
                        "replace it, run 'chatvault backup --replace-other-backup'");
    case Code::kSuspiciousData:
      return Status(s.code(), s.message() +
                                  ". Check the chat data; if the change is intended, "
                                  "run 'chatvault backup --allow-shrink'");
    case Code::kRolledBack:
      return Status(s.code(), s.message() +
                                  ". Check the location; 'chatvault backups' lists what "
                                  "it holds. To back up on top of it anyway, run 'chatvault backup "
                                  "--accept-rollback'");
    default:
      return s;
  }
}

void PrintWarnings(const Globals& g, const std::vector<std::string>& warnings) {
  if (g.json) return;
  for (const auto& w : warnings) std::cerr << "WARNING: " << w << "\n";
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
  const bool configured_location =
      a.location.empty() || NormalizeLocation(a.location) == config->location;
  backup::BackupOptions options;
  options.temp_dir = ec ? "" : temp_dir;
  const std::string cache_dir = g.home + "/cache";
  std::filesystem::create_directories(cache_dir, ec);
  options.cache_dir = ec ? "" : cache_dir;
  options.reread_all = a.reread;
  options.keep = a.keep;
  options.allow_shrink = a.allow_shrink;
  options.accept_rollback = a.accept_rollback;
  options.min_sequence = configured_location ? config->last_sequence : 0;
  options.replace_other_backup =
      a.replace_other_backup || (configured_location && config->replace_other_backup);
  if (a.replace_other_backup) {
    Status owner = backup::CheckLocation(**provider, *key, backup::BackupOptions{});
    if (owner.code() == Code::kForeignBackup &&
        !ConfirmByTyping("The backup at " + location +
                             " was made with a different key. It will "
                             "be deleted once this backup is complete, and nobody can restore it "
                             "afterwards.",
                         "REPLACE")) {
      return ReportError(g, Cancelled("nothing was replaced"));
    }
  }
  ProgressBar bar(!g.quiet && !g.json);
  options.progress = [&bar](const backup::Progress& p) { bar.Update(p); };
  auto summary = backup::RunBackup(data_dir, **provider, *key, options);
  bar.Finish();
  if (!summary.ok()) return ReportError(g, WithHint(summary.status()).Annotate("backup failed"));

  if (configured_location) {
    config->last_sequence = summary->sequence;
    config->last_backup_unix = std::time(nullptr);
    config->replace_other_backup = false;
    if (Status s = SaveConfig(g.home, *config); !s.ok()) return ReportError(g, s);
  }
  nlohmann::json skipped = nlohmann::json::array();
  for (const auto& f : summary->skipped)
    skipped.push_back({{"path", f.path}, {"reason", f.reason}});
  if (g.json) {
    PrintJson(
        {{"sequence", summary->sequence},
         {"location", (*provider)->Describe()},
         {"files", summary->files},
         {"bytes", summary->bytes},
         {"chunks", summary->chunks},
         {"new_chunks", summary->new_chunks},
         {"files_unchanged", summary->files_unchanged},
         {"bytes_uploaded", summary->bytes_uploaded},
         {"objects_deleted", summary->objects_deleted},
         {"backups_kept", summary->backups_kept},
         {"messages", summary->messages ? nlohmann::json(*summary->messages) : nlohmann::json()},
         {"skipped", skipped},
         {"completed_with_skipped_files", summary->CompletedWithSkippedFiles()},
         {"warnings", summary->warnings},
         {"seconds", summary->seconds},
         {"warning", summary->cleanup_warning},
         {"database", DatabaseJson(summary->database)}});
  } else {
    std::cout << "Backup " << summary->sequence << " done: " << summary->files << " files, "
              << HumanBytes(summary->bytes) << ", " << HumanBytes(summary->bytes_uploaded)
              << " uploaded (" << summary->new_chunks << " new of " << summary->chunks
              << " chunks) in " << Seconds(summary->seconds) << ".\n";
    if (const auto& d = summary->database; d.paged) {
      std::cout << "Database: " << d.pages_changed << " of " << d.pages << " pages changed, "
                << HumanBytes(d.bytes_uploaded) << " of it uploaded"
                << (d.forced.empty() ? "" : " (folded more than usual: " + d.forced + ")")
                << ".\n";
    }
    if (!summary->cleanup_warning.empty()) std::cerr << "warning: " << summary->cleanup_warning << "\n";
    PrintWarnings(g, summary->warnings);
    for (const auto& f : summary->skipped) {
      std::cerr << "warning: skipped " << f.path << ": " << f.reason << "\n";
    }
    if (summary->CompletedWithSkippedFiles()) {
      std::cout << "Completed with skipped files: " << summary->skipped.size()
                << " could not be read and are not in this backup (listed above).\n";
    }
  }
  return summary->CompletedWithSkippedFiles() ? kExitCompletedWithSkippedFiles : 0;
}

int Restore(Globals& g, const RestoreArgs& a) {
  auto key = ResolveKey(a.key_text, a.key_file);
  if (!key.ok()) return ReportError(g, key.status());
  auto provider = storage::OpenProvider(a.from);
  if (!provider.ok()) return ReportError(g, provider.status());
  backup::RestoreOptions options;
  options.allow_nonempty = a.force;
  options.sequence = a.backup;
  options.min_sequence = KnownSequence(g.home, a.from, *key);
  ProgressBar bar(!g.quiet && !g.json);
  options.progress = [&bar](const backup::Progress& p) { bar.Update(p); };
  auto summary = backup::RunRestore(**provider, *key, a.to, options);
  bar.Finish();
  if (!summary.ok()) return ReportError(g, summary.status().Annotate("restore failed"));
  PrintWarnings(g, summary->warnings);
  if (g.json) {
    PrintJson({{"sequence", summary->sequence},
               {"created_unix", summary->created_unix},
               {"files", summary->files},
               {"bytes", summary->bytes},
               {"seconds", summary->seconds},
               {"warnings", summary->warnings},
               {"to", a.to}});
  } else {
    std::cout << "Restored backup " << summary->sequence << ": " << summary->files << " files, "
              << HumanBytes(summary->bytes) << " into " << a.to << " in "
              << Seconds(summary->seconds) << "; every byte verified.\n";
  }
  return 0;
}

// --from and --key-file default to this device's location and key.
Status DefaultToThisDevice(const Globals& g, const RestoreArgs& a, const std::string& command,
                           std::string& from, std::string& key_file) {
  from = a.from;
  key_file = a.key_file;
  if (!from.empty() && (!key_file.empty() || !a.key_text.empty())) return OkStatus();
  auto config = LoadConfig(g.home);
  if (!config.ok()) {
    return InvalidArgument(command +
                           " needs --from LOCATION and --key-file FILE when this device "
                           "is not set up");
  }
  if (from.empty()) from = config->location;
  if (key_file.empty() && a.key_text.empty()) key_file = KeyFilePath(g.home);
  return OkStatus();
}

int Verify(Globals& g, const RestoreArgs& a) {
  std::string from, key_file;
  if (Status s = DefaultToThisDevice(g, a, "verify", from, key_file); !s.ok()) {
    return ReportError(g, s);
  }
  auto key = ResolveKey(a.key_text, key_file);
  if (!key.ok()) return ReportError(g, key.status());
  auto provider = storage::OpenProvider(from);
  if (!provider.ok()) return ReportError(g, provider.status());
  backup::RestoreOptions options;
  options.sequence = a.backup;
  options.min_sequence = KnownSequence(g.home, from, *key);
  ProgressBar bar(!g.quiet && !g.json);
  options.progress = [&bar](const backup::Progress& p) { bar.Update(p); };
  auto summary = backup::RunVerify(**provider, *key, options);
  bar.Finish();
  if (!summary.ok()) return ReportError(g, summary.status().Annotate("verify failed"));
  PrintWarnings(g, summary->warnings);
  if (g.json) {
    PrintJson({{"sequence", summary->sequence},
               {"created_unix", summary->created_unix},
               {"files", summary->files},
               {"bytes", summary->bytes},
               {"chunks", summary->chunks},
               {"warnings", summary->warnings},
               {"seconds", summary->seconds}});
  } else {
    std::cout << "Backup " << summary->sequence << " is intact: " << summary->files << " files, "
              << HumanBytes(summary->bytes) << " in " << summary->chunks
              << " chunks, all authenticated (" << Seconds(summary->seconds) << ").\n";
  }
  return 0;
}

std::string DateText(int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M UTC", std::gmtime(&t));
  return buf;
}

int ListBackups(Globals& g, const RestoreArgs& a) {
  std::string from, key_file;
  if (Status s = DefaultToThisDevice(g, a, "backups", from, key_file); !s.ok()) {
    return ReportError(g, s);
  }
  auto key = ResolveKey(a.key_text, key_file);
  if (!key.ok()) return ReportError(g, key.status());
  auto provider = storage::OpenProvider(from);
  if (!provider.ok()) return ReportError(g, provider.status());
  auto contents = backup::ListBackups(**provider, *key);
  if (!contents.ok()) {
    return ReportError(g, contents.status().Annotate("listing the backups failed"));
  }
  if (g.json) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& b : contents->backups) {
      nlohmann::json item = {
          {"sequence", b.sequence},
          {"created_unix", b.created_unix},
          {"messages", b.messages ? nlohmann::json(*b.messages) : nlohmann::json()},
          {"files", b.files},
          {"bytes", b.bytes},
          {"skipped_files", b.skipped_files}};
      if (!b.problem.empty()) item["problem"] = b.problem;
      list.push_back(std::move(item));
    }
    PrintJson({{"location", (*provider)->Describe()},
               {"backups", list},
               {"other_key_backups", contents->other_key_backups},
               {"ignored", contents->ignored}});
    return 0;
  }
  if (contents->backups.empty()) {
    std::cout << "No backup made with this key at " << (*provider)->Describe() << ".\n";
  } else {
    std::cout << "Backups at " << (*provider)->Describe() << " (restore one with 'chatvault "
              << "restore --backup N'):\n";
  }
  for (const auto& b : contents->backups) {
    std::cout << "  " << b.sequence << "  ";
    if (!b.problem.empty()) {
      std::cout << "damaged: " << b.problem << "\n";
      continue;
    }
    std::cout << DateText(b.created_unix) << "  "
              << (b.messages ? std::to_string(*b.messages) : std::string("?")) << " messages, "
              << b.files << " files, " << HumanBytes(b.bytes);
    if (b.skipped_files) std::cout << " (" << b.skipped_files << " files could not be read)";
    std::cout << "\n";
  }
  if (contents->other_key_backups) {
    std::cout << contents->other_key_backups
              << " backup(s) there were made with a different key.\n";
  }
  for (const auto& name : contents->ignored) std::cout << "Not a backup, ignored: " << name << "\n";
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
  backup
      ->add_option("--keep", bargs->keep,
                   "How many backups to keep at the location, this one included (default 2)")
      ->check(CLI::Range(1, 1000));
  backup->add_flag("--replace-other-backup", bargs->replace_other_backup,
                   "Replace a backup made with a different key at the location (it is deleted\n"
                   "once this backup is complete; on a terminal you type REPLACE to agree)");
  backup->add_flag("--allow-shrink", bargs->allow_shrink,
                   "Make the backup current even if it looks like lost data (the database fails\n"
                   "its check, or more than half of the messages or media files are gone)");
  backup->add_flag("--accept-rollback", bargs->accept_rollback,
                   "Back up even though the location is older than this device's last backup");
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
  restore->add_option("--backup", rargs->backup,
                      "Restore this backup instead of the newest ('chatvault backups' lists them)");
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
  verify->add_option("--backup", vargs->backup, "Verify this backup instead of the newest");
  verify->callback([&g, vargs] { g.exit_code = Verify(g, *vargs); });

  auto largs = std::make_shared<RestoreArgs>();
  CLI::App* list =
      app.add_subcommand("backups",
                         "List the backups at a location (number, time, messages, files, size).\n"
                         "Defaults to this device's location and key.");
  list->add_option("--from", largs->from,
                   "Where the backups are (default: the configured location)");
  list->add_option("--key-file", largs->key_file, "A file holding the 64-digit key");
  list->add_option("--key", largs->key_text, "The 64-digit key");
  list->callback([&g, largs] { g.exit_code = ListBackups(g, *largs); });
});

}  // namespace
}  // namespace chatvault::cli

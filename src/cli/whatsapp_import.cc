// chatvault whatsapp import: WhatsApp backups (one file or a whole WhatsApp folder) become one
// chatvault backup.
#include <stdlib.h>

#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "chatvault/backup/engine.h"
#include "chatvault/key/backup_key.h"
#include "chatvault/storage/provider.h"
#include "chatvault/whatsapp/crypt15.h"
#include "cli/commands.h"
#include "cli/device_config.h"
#include "cli/terminal.h"
#include "cli/whatsapp_cli.h"
#include "cli/whatsapp_folder.h"

namespace chatvault::cli {
namespace {

struct ImportOptions {
  std::string in;
  std::string key;  // the WhatsApp key, when `in` is encrypted
  std::string to;
  std::string backup_key_file;  // empty: this device's chatvault key
  bool force = false;
};

struct ImportReport : Report {
  std::string in, to;
  std::string location;  // as the provider describes itself
  bool folder = false;
  struct Imported {
    std::string name;
    std::string format;  // "sqlite", "crypt15", "crypt14" or "crypt12"
  };
  std::vector<Imported> files;  // the databases (and ZIP backups) in the backup
  uint64_t media_files = 0;
  backup::BackupSummary summary;
};

// A private staging directory (0700) that is removed with everything in it, pass or fail.
class StagingDir {
 public:
  static Result<StagingDir> Create(const std::string& home) {
    std::error_code ec;
    std::string base;
    if (!home.empty()) {
      std::filesystem::create_directories(home + "/tmp", ec);
      if (!ec) base = home + "/tmp";
    }
    if (base.empty()) base = std::filesystem::temp_directory_path(ec).string();
    std::string templ = base + "/whatsapp-import-XXXXXX";
    if (::mkdtemp(templ.data()) == nullptr) {
      return IoError("cannot create a staging directory under " + base);
    }
    StagingDir d;
    d.path_ = templ;
    return d;
  }
  StagingDir(StagingDir&& o) noexcept : path_(std::move(o.path_)) { o.path_.clear(); }
  ~StagingDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  StagingDir() = default;
  std::string path_;
};

// The chatvault key the import is encrypted under.
Result<key::BackupKey> ChatvaultKey(const Globals& g, const ImportOptions& o) {
  if (!o.backup_key_file.empty()) return key::ReadKeyFile(o.backup_key_file);
  auto config = LoadReadyConfig(g.home);
  if (!config.ok()) {
    return InvalidArgument(
        "no chatvault key: pass --backup-key-file FILE, or set up this device with 'chatvault "
        "init' (" +
        config.status().message() + ")");
  }
  return key::ReadKeyFile(KeyFilePath(g.home));
}

// A backup is a snapshot of its data directory: importing over one would replace it.
Status CheckLocationIsFree(storage::Provider& provider, const key::BackupKey& key, bool force) {
  auto latest = backup::LatestBackup(provider, key);
  if (latest.ok() && !force) {
    return AlreadyExists(provider.Describe() + " already holds backup " +
                         std::to_string(latest->sequence) +
                         "; importing would replace it with the WhatsApp database. Choose "
                         "another location or pass --force");
  }
  if (!latest.ok() && latest.status().code() != Code::kNotFound) {
    return latest.status().Annotate("checking " + provider.Describe());
  }
  return OkStatus();
}

// Copies a plain database into the staging directory as it is. The engine copies it again with
// the same checks; this copy is the one that must not catch the user's file mid-write.
Status StagePlainDatabase(const std::string& from, const std::string& to) {
  std::error_code ec;
  for (const char* side : {"-wal", "-journal"}) {
    if (std::filesystem::exists(from + side, ec) &&
        std::filesystem::file_size(from + side, ec) > 0) {
      return InvalidArgument(from + " has a pending " + side +
                             " file beside it, so the database "
                             "file alone misses its newest changes; close the app using it (or "
                             "open it once with sqlite3) first");
    }
  }
  const auto before = std::filesystem::last_write_time(from, ec);
  const auto size = std::filesystem::file_size(from, ec);
  if (ec) return IoError("cannot read " + from + ": " + ec.message());
  std::filesystem::copy_file(from, to, ec);
  if (ec) return IoError("cannot stage " + from + ": " + ec.message());
  if (std::filesystem::last_write_time(from, ec) != before ||
      std::filesystem::file_size(from, ec) != size || std::filesystem::file_size(to, ec) != size) {
    return Conflict(from + " changed while it was copied; try again once nothing writes to it");
  }
  return OkStatus();
}

// Decrypts every encrypted file of the plan into `data_dir` under its name (and copies a plain
// database), all before anything is backed up: a failure leaves nothing imported. A wrong key is
// told apart from a folder that mixes backups of two keys.
class Stager {
 public:
  Stager(const ImportPlan& plan, const std::string& data_dir, ProgressBar& bar)
      : plan_(plan), data_dir_(data_dir), bar_(bar) {}

  Result<std::vector<ImportReport::Imported>> Run(const std::string& key_arg) {
    progress_.phase = "decrypt";
    progress_.files_total = plan_.files.size();
    for (const ImportFile& f : plan_.files) progress_.bytes_total += SizeOf(f.path);
    std::optional<whatsapp::WhatsAppKey> key;
    for (const ImportFile& f : plan_.files) {
      const std::string out = data_dir_ + "/" + f.name;
      if (!f.encrypted) {
        CV_RETURN_IF_ERROR(StagePlainDatabase(f.path, out));
        imported_.push_back({f.name, "sqlite"});
      } else {
        if (!key) {
          if (key_arg.empty()) {
            return InvalidArgument(f.path + " is a WhatsApp backup: give its key with --key");
          }
          CV_ASSIGN_OR_RETURN(key, LoadWhatsAppKey(key_arg));
        }
        CV_RETURN_IF_ERROR(Decrypt(f, out, *key));
      }
      ++progress_.files_done;
      done_before_ += SizeOf(f.path);
    }
    CV_RETURN_IF_ERROR(Verdict());
    return imported_;
  }

 private:
  // A wrong key or a damaged file is noted and the next file tried (the verdict needs them all);
  // anything else (no space, unreadable) ends the import at once.
  Status Decrypt(const ImportFile& f, const std::string& out, const whatsapp::WhatsAppKey& key) {
    whatsapp::DecryptOptions options;
    options.progress = [this](uint64_t d, uint64_t) {
      progress_.bytes_done = done_before_ + d;
      bar_.Update(progress_);
    };
    auto r = whatsapp::DecryptBackupFile(f.path, out, key, options);
    if (r.ok()) {
      imported_.push_back({f.name, FormatName(r->format)});
      return OkStatus();
    }
    const Status failure = r.status().Annotate("cannot decrypt " + f.path);
    if (r.status().code() == Code::kWrongKey) {
      wrong_key_.push_back({f.path, failure});
    } else if (r.status().code() == Code::kCorrupted || r.status().code() == Code::kTruncated) {
      damaged_.push_back({f.path, failure});
    } else {
      return NothingImported(failure);
    }
    return OkStatus();
  }

  Status Verdict() const {
    if (wrong_key_.empty() && damaged_.empty()) return OkStatus();
    const size_t total = plan_.files.size();
    if (!plan_.folder) {
      return (wrong_key_.empty() ? damaged_ : wrong_key_).front().second;
    }
    // A file without a checksum (a ZIP backup) fails a wrong key as damage: with no file opened,
    // the key is the likelier culprit.
    if (imported_.empty() && !wrong_key_.empty()) {
      return NothingImported(WrongKey("the key opens none of the " + std::to_string(total) +
                                      " backups in " + plan_.folder_path + " (" +
                                      wrong_key_.front().second.message() + ")"));
    }
    if (!damaged_.empty()) {
      const Status& first = damaged_.front().second;
      return NothingImported(Status(first.code(), first.message() + " (" +
                                                      std::to_string(damaged_.size()) + " of " +
                                                      std::to_string(total) + " backups failed)"));
    }
    std::string names;
    for (const auto& [path, why] : wrong_key_) names += (names.empty() ? "" : ", ") + path;
    return WrongKey("the key opens " + std::to_string(imported_.size()) + " of the " +
                    std::to_string(total) + " backups in " + plan_.folder_path + ", but not " +
                    names +
                    ": the folder mixes backups made with different keys, "
                    "so nothing was imported; move those files out (or import them on their own "
                    "with their key)");
  }

  static uint64_t SizeOf(const std::string& path) {
    std::error_code ec;
    const uintmax_t size = std::filesystem::file_size(path, ec);
    return ec ? 0 : static_cast<uint64_t>(size);
  }

  static Status NothingImported(const Status& why) {
    return Status(why.code(), why.message() + "; nothing was imported");
  }

  const ImportPlan& plan_;
  const std::string data_dir_;
  ProgressBar& bar_;
  backup::Progress progress_;
  uint64_t done_before_ = 0;
  std::vector<ImportReport::Imported> imported_;
  std::vector<std::pair<std::string, Status>> wrong_key_, damaged_;
};

// Imports WhatsApp backups as one chatvault backup: the databases (decrypted first when they are
// .crypt15/.crypt14/.crypt12) are staged under their own names in a private directory, and backed
// up byte for byte with the Media tree, read where it is, to --to under the chatvault key.
Result<ImportReport> RunImport(const Globals& g, const ImportOptions& o) {
  if (o.to.empty()) return InvalidArgument("give the backup location with --to");
  CV_ASSIGN_OR_RETURN(ImportPlan plan, PlanImport(o.in, !o.key.empty()));
  auto key = ChatvaultKey(g, o);
  if (!key.ok()) return key.status().Annotate("reading the chatvault backup key");
  CV_ASSIGN_OR_RETURN(auto provider, storage::OpenProvider(NormalizeLocation(o.to)));
  CV_RETURN_IF_ERROR(CheckLocationIsFree(*provider, *key, o.force));
  CV_ASSIGN_OR_RETURN(StagingDir staging, StagingDir::Create(g.home));
  // data/ holds the staged databases; the engine's copy of msgstore.db goes to work/.
  const std::string data_dir = staging.path() + "/data";
  const std::string work_dir = staging.path() + "/work";
  std::error_code ec;
  std::filesystem::create_directory(data_dir, ec);
  if (!ec) std::filesystem::create_directory(work_dir, ec);
  if (ec) return IoError("cannot create " + data_dir + ": " + ec.message());
  ProgressBar bar(!g.quiet && !g.json);
  ImportReport r;
  auto staged = Stager(plan, data_dir, bar).Run(o.key);
  if (!staged.ok()) {
    bar.Finish();
    return staged.status();
  }
  r.files = std::move(staged).value();
  backup::BackupOptions options;
  options.temp_dir = work_dir;
  options.private_copy = true;
  options.extra_directories = plan.media;
  options.progress = [&bar](const backup::Progress& p) { bar.Update(p); };
  auto summary = backup::RunBackup(data_dir, *provider, *key, options);
  bar.Finish();
  if (!summary.ok()) return summary.status().Annotate("import failed");
  r.in = o.in;
  r.to = o.to;
  r.folder = plan.folder;
  r.location = provider->Describe();
  r.summary = *summary;
  r.media_files = summary->files > r.files.size() ? summary->files - r.files.size() : 0;
  return r;
}

nlohmann::json ToJson(const ImportReport& r) {
  const backup::BackupSummary& s = r.summary;
  nlohmann::json files = nlohmann::json::array();
  for (const auto& f : r.files) files.push_back({{"name", f.name}, {"format", f.format}});
  // input_format predates folders: a single file's format, "folder" for a folder.
  const std::string input_format =
      r.folder || r.files.empty() ? std::string("folder") : r.files.front().format;
  return {
      {"sequence", s.sequence},      {"location", r.location}, {"input_format", input_format},
      {"folder", r.folder},          {"files", files},         {"media_files", r.media_files},
      {"skipped", s.skipped.size()}, {"bytes", s.bytes},       {"bytes_uploaded", s.bytes_uploaded},
      {"seconds", s.seconds}};
}

void PrintText(const ImportReport& r) {
  std::string names;
  for (const auto& f : r.files)
    names += (names.empty() ? "" : ", ") + f.name + " (" + f.format + ")";
  std::cout << "Imported " << r.in << " into " << r.location << " as backup " << r.summary.sequence
            << ": " << names;
  if (r.folder) std::cout << " and " << r.media_files << " media files";
  std::cout << ", " << HumanBytes(r.summary.bytes) << ".\n";
  for (const auto& s : r.summary.skipped) {
    std::cout << "  left out " << s.path << ": " << s.reason << "\n";
  }
  std::cout << "Restore it with 'chatvault restore --from " << r.to << " --to DIR'.\n";
}

}  // namespace

void AddWhatsAppImport(CLI::App* wa, CommandRunner& runner) {
  auto [cmd, o] = runner.AddCommand<ImportOptions>(
      *wa, "import", RunImport,
      "Turn WhatsApp backups into one chatvault backup. INPUT is a WhatsApp folder (a copy of\n"
      "Android/media/com.whatsapp/WhatsApp: every .crypt15/.crypt14/.crypt12 in it, in Databases/\n"
      "and in Backups/, plus the Media/ tree), one backup file, or a decrypted database.\n"
      "Backups are decrypted with --key and kept under their own names (wa.db.crypt15 becomes\n"
      "wa.db), byte for byte as they decrypt. Nothing is imported unless every file opens with\n"
      "the key. The backup goes to --to under the chatvault key of this device (or\n"
      "--backup-key-file). A location that already holds a backup is refused unless --force,\n"
      "because the import becomes its current backup.");
  cmd->add_option("input", o->in,
                  "A WhatsApp folder, a backup such as msgstore.db.crypt15, or msgstore.db")
      ->required();
  cmd->add_option("--key", o->key,
                  "The WhatsApp key, when INPUT is or holds backups (as for decrypt)");
  cmd->add_option("--to", o->to, "Backup location (directory, file://, s3://, ...)")->required();
  cmd->add_option("--backup-key-file", o->backup_key_file,
                  "A file holding the chatvault 64-digit key (default: this device's key)");
  cmd->add_flag("--force", o->force, "Import even though the location already holds a backup");
}

}  // namespace chatvault::cli

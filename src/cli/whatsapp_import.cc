// chatvault whatsapp import: a WhatsApp message database becomes a chatvault backup.
#include <stdlib.h>

#include <filesystem>
#include <iostream>
#include <memory>
#include <string>

#include "chatvault/backup/engine.h"
#include "chatvault/key/backup_key.h"
#include "chatvault/storage/provider.h"
#include "chatvault/whatsapp/crypt15.h"
#include "cli/commands.h"
#include "cli/device_config.h"
#include "cli/terminal.h"
#include "cli/whatsapp_cli.h"

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
  std::string location;      // as the provider describes itself
  std::string input_format;  // "sqlite", "crypt15" or "crypt14"
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

bool LooksEncrypted(const std::string& path) { return !DefaultDecryptOutput(path).empty(); }

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

// Decrypts `o.in` into `staged_db`; returns its format ("crypt15" or "crypt14").
Result<std::string> StageEncrypted(const ImportOptions& o, const std::string& staged_db,
                                   ProgressBar& bar) {
  if (o.key.empty()) {
    return InvalidArgument(o.in + " is a WhatsApp backup: give its key with --key");
  }
  CV_ASSIGN_OR_RETURN(whatsapp::WhatsAppKey key, LoadWhatsAppKey(o.key));
  whatsapp::DecryptOptions options;
  options.progress = [&bar](uint64_t d, uint64_t t) {
    backup::Progress p;
    p.phase = "decrypt";
    p.bytes_done = d;
    p.bytes_total = t;
    bar.Update(p);
  };
  auto r = whatsapp::DecryptBackupFile(o.in, staged_db, key, options);
  if (!r.ok()) return r.status().Annotate("cannot decrypt " + o.in);
  if (r->payload != whatsapp::Payload::kSqlite) {
    return InvalidArgument(o.in +
                           " is a multi-file (ZIP) backup, not a message database; only "
                           "databases can be imported");
  }
  return std::string(FormatName(r->format));
}

// Puts the database alone into `data_dir` as msgstore.db; returns the input's format.
Result<std::string> StageDatabase(const ImportOptions& o, const std::string& data_dir,
                                  ProgressBar& bar) {
  const std::string staged_db = data_dir + "/" + backup::kDatabaseName;
  if (LooksEncrypted(o.in) || !o.key.empty()) return StageEncrypted(o, staged_db, bar);
  std::error_code ec;
  std::filesystem::copy_file(o.in, staged_db, ec);
  if (ec) return IoError("cannot stage " + o.in + ": " + ec.message());
  return std::string("sqlite");
}

// Imports a WhatsApp database as a chatvault backup: the database (decrypted first when it is a
// .crypt15/.crypt14) is staged alone in a private directory and backed up with the backup
// engine to --to under the chatvault key.
Result<ImportReport> RunImport(const Globals& g, const ImportOptions& o) {
  if (o.to.empty()) return InvalidArgument("give the backup location with --to");
  auto key = ChatvaultKey(g, o);
  if (!key.ok()) return key.status().Annotate("reading the chatvault backup key");
  CV_ASSIGN_OR_RETURN(auto provider, storage::OpenProvider(NormalizeLocation(o.to)));
  CV_RETURN_IF_ERROR(CheckLocationIsFree(*provider, *key, o.force));
  CV_ASSIGN_OR_RETURN(StagingDir staging, StagingDir::Create(g.home));
  // data/ is what gets backed up (the database alone); the engine's snapshot goes to work/.
  const std::string data_dir = staging.path() + "/data";
  const std::string work_dir = staging.path() + "/work";
  std::error_code ec;
  std::filesystem::create_directory(data_dir, ec);
  if (!ec) std::filesystem::create_directory(work_dir, ec);
  if (ec) return IoError("cannot create " + data_dir + ": " + ec.message());
  ProgressBar bar(!g.quiet && !g.json);
  ImportReport r;
  CV_ASSIGN_OR_RETURN(r.input_format, StageDatabase(o, data_dir, bar));
  backup::BackupOptions options;
  options.temp_dir = work_dir;
  options.progress = [&bar](const backup::Progress& p) { bar.Update(p); };
  auto summary = backup::RunBackup(data_dir, *provider, *key, options);
  bar.Finish();
  if (!summary.ok()) return summary.status().Annotate("import failed");
  r.in = o.in;
  r.to = o.to;
  r.location = provider->Describe();
  r.summary = *summary;
  return r;
}

nlohmann::json ToJson(const ImportReport& r) {
  const backup::BackupSummary& s = r.summary;
  return {{"sequence", s.sequence},
          {"location", r.location},
          {"input_format", r.input_format},
          {"bytes", s.bytes},
          {"bytes_uploaded", s.bytes_uploaded},
          {"seconds", s.seconds}};
}

void PrintText(const ImportReport& r) {
  std::cout << "Imported " << r.in << " (" << r.input_format << ") into " << r.location
            << " as backup " << r.summary.sequence << ": " << HumanBytes(r.summary.bytes)
            << ". Restore it with 'chatvault restore --from " << r.to << " --to DIR'.\n";
}

}  // namespace

void AddWhatsAppImport(CLI::App* wa, CommandRunner& runner) {
  auto o = std::make_shared<ImportOptions>();
  CLI::App* cmd = wa->add_subcommand(
      "import",
      "Turn a WhatsApp message database into a chatvault backup. INPUT is a decrypted "
      "msgstore.db,\nor a .crypt15/.crypt14 backup together with --key. The database is backed "
      "up alone (no\nmedia) to --to under the chatvault key of this device (or "
      "--backup-key-file). A location\nthat already holds a backup is refused unless --force, "
      "because the import becomes its\ncurrent backup.");
  cmd->add_option("input", o->in, "msgstore.db, or msgstore.db.crypt15 with --key")->required();
  cmd->add_option("--key", o->key, "The WhatsApp key, when INPUT is encrypted (as for decrypt)");
  cmd->add_option("--to", o->to, "Backup location (directory, file://, s3://, ...)")->required();
  cmd->add_option("--backup-key-file", o->backup_key_file,
                  "A file holding the chatvault 64-digit key (default: this device's key)");
  cmd->add_flag("--force", o->force, "Import even though the location already holds a backup");
  runner.OnRun(cmd, [o](const Globals& g) { return RunImport(g, *o); });
}

}  // namespace chatvault::cli

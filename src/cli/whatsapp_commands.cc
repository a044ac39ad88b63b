// chatvault whatsapp decrypt / encrypt / import: WhatsApp's own .crypt15 backups (and .crypt14 for
// reading), opened with the 64-digit key or the phone's key file, and brought into a chatvault
// backup. The format is in docs/WHATSAPP.md.
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>

#include "chatvault/backup/engine.h"
#include "chatvault/key/backup_key.h"
#include "chatvault/storage/provider.h"
#include "chatvault/whatsapp/crypt15.h"
#include "cli/command_registry.h"
#include "cli/device_config.h"
#include "cli/terminal.h"

namespace chatvault::cli {
namespace {

struct WhatsAppArgs {
  std::string key;
  std::string in;
  std::string out;
  bool force = false;
  bool no_md5 = false;
  std::string app_version;
  std::string jid_suffix;
  // import
  std::string to;
  std::string backup_key_file;
};

// Percent progress on one stderr line, redrawn at most five times a second; silent unless stderr
// is a terminal and the user did not ask for --quiet or --json.
class PercentProgress {
 public:
  PercentProgress(const Globals& g, std::string verb)
      : enabled_(!g.quiet && !g.json && ::isatty(STDERR_FILENO) == 1), verb_(std::move(verb)) {}
  ~PercentProgress() { Done(); }
  void operator()(uint64_t done, uint64_t total) {
    if (!enabled_) return;
    const auto now = std::chrono::steady_clock::now();
    if (drawn_ && done < total && now - last_ < std::chrono::milliseconds(200)) return;
    last_ = now;
    drawn_ = true;
    const double pct = total ? 100.0 * static_cast<double>(done) / static_cast<double>(total) : 100;
    std::fprintf(stderr, "\r%s: %5.1f%% (%.1f of %.1f MiB)", verb_.c_str(), pct,
                 static_cast<double>(done) / (1 << 20), static_cast<double>(total) / (1 << 20));
  }
  void Done() {
    if (drawn_) std::fprintf(stderr, "\n");
    drawn_ = false;
  }

 private:
  bool enabled_;
  std::string verb_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point last_{};
};

// --key DIGITS|FILE, or "-" to read the digits from stdin (keeps them out of shell history).
Result<whatsapp::WhatsAppKey> LoadKey(const std::string& arg) {
  if (arg == "-") {
    std::string line;
    if (!std::getline(std::cin, line)) return InvalidArgument("--key -: nothing to read on stdin");
    return whatsapp::WhatsAppKey::Load(line);
  }
  return whatsapp::WhatsAppKey::Load(arg);
}

Status CheckOutput(const std::string& in, const std::string& out, bool force) {
  std::error_code ec;
  if (std::filesystem::exists(out, ec) && !force) {
    return AlreadyExists(out + " already exists; pass --force to replace it");
  }
  if (std::filesystem::equivalent(in, out, ec)) {
    return InvalidArgument("the output would overwrite the input " + in);
  }
  return OkStatus();
}

std::string DefaultDecryptOutput(const std::string& in) {
  for (const char* ext : {".crypt15", ".crypt14"}) {
    const std::string e = ext;
    if (in.size() > e.size() && in.compare(in.size() - e.size(), e.size(), e) == 0) {
      return in.substr(0, in.size() - e.size());
    }
  }
  return "";
}

int Decrypt(Globals& g, const WhatsAppArgs& a) {
  const std::string out = a.out.empty() ? DefaultDecryptOutput(a.in) : a.out;
  if (out.empty()) {
    return ReportError(g, InvalidArgument("give the output file with -o (the input does not end in "
                                          ".crypt15 or .crypt14)"));
  }
  if (Status s = CheckOutput(a.in, out, a.force); !s.ok()) return ReportError(g, s);
  auto key = LoadKey(a.key);
  if (!key.ok()) return ReportError(g, key.status());
  PercentProgress progress(g, "decrypting");
  whatsapp::DecryptOptions options;
  options.progress = [&progress](uint64_t d, uint64_t t) { progress(d, t); };
  auto r = whatsapp::DecryptBackupFile(a.in, out, *key, options);
  progress.Done();
  if (!r.ok()) return ReportError(g, r.status().Annotate("cannot decrypt " + a.in));
  const bool zip = r->payload == whatsapp::Payload::kZip;
  const char* format = r->key_type == whatsapp::KeyType::kHsmControlled ? "crypt15" : "crypt14";
  if (g.json) {
    PrintJson({{"out", out},
               {"format", format},
               {"payload", zip ? "zip" : "sqlite"},
               {"md5", r->had_md5},
               {"input_bytes", r->input_bytes},
               {"output_bytes", r->output_bytes},
               {"app_version", r->app_version}});
  } else {
    std::cout << "Decrypted " << format << " backup " << a.in << " -> " << out << " ("
              << (zip ? "ZIP archive of a multi-file backup" : "SQLite database, integrity checked")
              << ", " << r->output_bytes << " bytes; authenticated"
              << (r->had_md5 ? ", MD5 ok" : "") << ").\n";
  }
  return 0;
}

int Encrypt(Globals& g, const WhatsAppArgs& a) {
  const std::string out = a.out.empty() ? a.in + ".crypt15" : a.out;
  if (Status s = CheckOutput(a.in, out, a.force); !s.ok()) return ReportError(g, s);
  auto key = LoadKey(a.key);
  if (!key.ok()) return ReportError(g, key.status());
  PercentProgress progress(g, "encrypting");
  whatsapp::EncryptOptions options;
  if (!a.app_version.empty()) options.app_version = a.app_version;
  if (!a.jid_suffix.empty()) options.jid_suffix = a.jid_suffix;
  options.write_md5 = !a.no_md5;
  options.progress = [&progress](uint64_t d, uint64_t t) { progress(d, t); };
  auto r = whatsapp::EncryptBackupFile(a.in, out, *key, options);
  progress.Done();
  if (!r.ok()) return ReportError(g, r.status().Annotate("cannot encrypt " + a.in));
  const bool zip = r->payload == whatsapp::Payload::kZip;
  if (g.json) {
    PrintJson({{"out", out},
               {"payload", zip ? "zip" : "sqlite"},
               {"input_bytes", r->input_bytes},
               {"output_bytes", r->output_bytes}});
  } else {
    std::cout << "Wrote " << out << " (" << r->output_bytes << " bytes) from "
              << (zip ? "the ZIP archive " : "the database ") << a.in << ".\n";
  }
  return 0;
}

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

bool LooksEncrypted(const std::string& path) {
  return !DefaultDecryptOutput(path).empty();
}

// Imports a WhatsApp database as a chatvault backup: the database (decrypted first when it is a
// .crypt15/.crypt14) is staged alone in a private directory as msgstore.db and backed up with the
// backup engine to --to under the chatvault key. Because a backup is a snapshot of its data
// directory, a location that already holds a backup is refused unless --force: importing there
// would make the WhatsApp database its current backup.
int Import(Globals& g, const WhatsAppArgs& a) {
  if (a.to.empty()) return ReportError(g, InvalidArgument("give the backup location with --to"));
  auto bkey = [&]() -> Result<key::BackupKey> {
    if (!a.backup_key_file.empty()) return key::ReadKeyFile(a.backup_key_file);
    auto config = LoadReadyConfig(g.home);
    if (!config.ok()) {
      return InvalidArgument("no chatvault key: pass --backup-key-file FILE, or set up this device "
                             "with 'chatvault init' (" + config.status().message() + ")");
    }
    return key::ReadKeyFile(KeyFilePath(g.home));
  }();
  if (!bkey.ok()) return ReportError(g, bkey.status().Annotate("reading the chatvault backup key"));
  auto provider = storage::OpenProvider(NormalizeLocation(a.to));
  if (!provider.ok()) return ReportError(g, provider.status());
  auto latest = backup::LatestBackup(**provider, *bkey);
  if (latest.ok() && !a.force) {
    return ReportError(g, AlreadyExists((*provider)->Describe() + " already holds backup " +
                                        std::to_string(latest->sequence) +
                                        "; importing would replace it with the WhatsApp database. "
                                        "Choose another location or pass --force"));
  }
  if (!latest.ok() && latest.status().code() != Code::kNotFound) {
    return ReportError(g, latest.status().Annotate("checking " + (*provider)->Describe()));
  }

  auto staging = StagingDir::Create(g.home);
  if (!staging.ok()) return ReportError(g, staging.status());
  // data/ is what gets backed up (the database alone); the engine's snapshot goes to work/.
  const std::string data_dir = staging->path() + "/data";
  const std::string work_dir = staging->path() + "/work";
  {
    std::error_code ec;
    std::filesystem::create_directory(data_dir, ec);
    if (!ec) std::filesystem::create_directory(work_dir, ec);
    if (ec) return ReportError(g, IoError("cannot create " + data_dir + ": " + ec.message()));
  }
  const std::string staged_db = data_dir + "/" + backup::kDatabaseName;
  ProgressBar bar(!g.quiet && !g.json);
  std::string format = "sqlite";
  if (LooksEncrypted(a.in) || !a.key.empty()) {
    if (a.key.empty()) {
      return ReportError(g, InvalidArgument(a.in + " is a WhatsApp backup: give its key with --key"));
    }
    auto wkey = LoadKey(a.key);
    if (!wkey.ok()) return ReportError(g, wkey.status());
    whatsapp::DecryptOptions options;
    options.progress = [&bar](uint64_t d, uint64_t t) {
      backup::Progress p;
      p.phase = "decrypt";
      p.bytes_done = d;
      p.bytes_total = t;
      bar.Update(p);
    };
    auto r = whatsapp::DecryptBackupFile(a.in, staged_db, *wkey, options);
    if (!r.ok()) return ReportError(g, r.status().Annotate("cannot decrypt " + a.in));
    if (r->payload != whatsapp::Payload::kSqlite) {
      return ReportError(g, InvalidArgument(a.in + " is a multi-file (ZIP) backup, not a message "
                                            "database; only databases can be imported"));
    }
    format = r->key_type == whatsapp::KeyType::kHsmControlled ? "crypt15" : "crypt14";
  } else {
    std::error_code ec;
    std::filesystem::copy_file(a.in, staged_db, ec);
    if (ec) return ReportError(g, IoError("cannot stage " + a.in + ": " + ec.message()));
  }

  backup::BackupOptions options;
  options.temp_dir = work_dir;
  options.progress = [&bar](const backup::Progress& p) { bar.Update(p); };
  auto summary = backup::RunBackup(data_dir, **provider, *bkey, options);
  bar.Finish();
  if (!summary.ok()) return ReportError(g, summary.status().Annotate("import failed"));
  if (g.json) {
    PrintJson({{"sequence", summary->sequence},
               {"location", (*provider)->Describe()},
               {"input_format", format},
               {"bytes", summary->bytes},
               {"bytes_uploaded", summary->bytes_uploaded},
               {"seconds", summary->seconds}});
  } else {
    std::cout << "Imported " << a.in << " (" << format << ") into " << (*provider)->Describe()
              << " as backup " << summary->sequence << ": " << HumanBytes(summary->bytes)
              << ". Restore it with 'chatvault restore --from " << a.to << " --to DIR'.\n";
  }
  return 0;
}

void AddKeyOption(CLI::App* cmd, WhatsAppArgs& a) {
  cmd->add_option("--key", a.key,
                  "The 64-digit key (hex; spaces allowed), or a key file: encrypted_backup.key, the "
                  "crypt14 'key' file, or a text file with the digits. '-' reads the digits from "
                  "stdin.")
      ->required();
}

const bool kRegistered = RegisterCommands(60, [](CLI::App& app, Globals& g) {
  CLI::App* wa = app.add_subcommand(
      "whatsapp",
      "Open and write WhatsApp's own end-to-end encrypted backups (msgstore.db.crypt15) with the\n"
      "64-digit key WhatsApp showed you, or the phone's encrypted_backup.key file.");
  wa->require_subcommand(1);

  auto d = std::make_shared<WhatsAppArgs>();
  CLI::App* dec = wa->add_subcommand(
      "decrypt",
      "Decrypt a .crypt15 (or .crypt14) backup into a SQLite database, or into a ZIP for\n"
      "multi-file backups (stickers, wallpapers). The output appears only once the file\n"
      "authenticated, its checksum matched and the database passed SQLite's integrity check.\n"
      "Errors: wrong key (exit 4), truncated or damaged file: bad tag, bad MD5 (exit 5),\n"
      "unknown key type (exit 10).");
  AddKeyOption(dec, *d);
  dec->add_option("input", d->in, "The backup, e.g. msgstore.db.crypt15")->required();
  dec->add_option("-o,--output", d->out, "Output file (default: the input without .crypt15)");
  dec->add_flag("--force", d->force, "Replace the output file if it exists");
  dec->callback([&g, d] { g.exit_code = Decrypt(g, *d); });

  auto e = std::make_shared<WhatsAppArgs>();
  CLI::App* enc = wa->add_subcommand(
      "encrypt",
      "Encrypt a SQLite database (or a ZIP of a multi-file backup) into a .crypt15 that WhatsApp's\n"
      "format readers accept: fresh random IV, zlib level 1, AES-256-GCM, MD5 trailer.");
  AddKeyOption(enc, *e);
  enc->add_option("input", e->in, "The database, e.g. msgstore.db")->required();
  enc->add_option("-o,--output", e->out, "Output file (default: the input plus .crypt15)");
  enc->add_flag("--force", e->force, "Replace the output file if it exists");
  enc->add_flag("--no-md5", e->no_md5, "Leave out the trailing MD5 (WhatsApp writes it for databases)");
  enc->add_option("--app-version", e->app_version, "WhatsApp version to record in the header");
  enc->add_option("--jid-suffix", e->jid_suffix,
                  "Last two digits of the phone number, recorded in the header (default 00)");
  enc->callback([&g, e] { g.exit_code = Encrypt(g, *e); });

  auto i = std::make_shared<WhatsAppArgs>();
  CLI::App* imp = wa->add_subcommand(
      "import",
      "Turn a WhatsApp message database into a chatvault backup. INPUT is a decrypted msgstore.db,\n"
      "or a .crypt15/.crypt14 backup together with --key. The database is backed up alone (no\n"
      "media) to --to under the chatvault key of this device (or --backup-key-file). A location\n"
      "that already holds a backup is refused unless --force, because the import becomes its\n"
      "current backup.");
  imp->add_option("input", i->in, "msgstore.db, or msgstore.db.crypt15 with --key")->required();
  imp->add_option("--key", i->key, "The WhatsApp key, when INPUT is encrypted (as for decrypt)");
  imp->add_option("--to", i->to, "Backup location (directory, file://, s3://, ...)")->required();
  imp->add_option("--backup-key-file", i->backup_key_file,
                  "A file holding the chatvault 64-digit key (default: this device's key)");
  imp->add_flag("--force", i->force, "Import even though the location already holds a backup");
  imp->callback([&g, i] { g.exit_code = Import(g, *i); });
});

}  // namespace
}  // namespace chatvault::cli

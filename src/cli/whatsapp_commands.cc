// chatvault whatsapp decrypt / encrypt / import: WhatsApp's own .crypt15 backups (and .crypt14 for
// reading), opened with the 64-digit key or the phone's key file, and brought into a chatvault
// backup. The format is in docs/WHATSAPP.md.
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <utility>

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

// decrypt and encrypt
struct ConvertOptions {
  std::string key;  // the WhatsApp key: digits, a key file, or "-" for stdin
  std::string in;
  std::string out;  // empty: derived from `in`
  bool force = false;
  // encrypt only
  bool no_md5 = false;
  std::string app_version;
  bool app_version_given = false;
  std::string jid_suffix;
  bool jid_suffix_given = false;
};

struct DecryptReport : Report {
  std::string in, out;
  whatsapp::DecryptSummary summary;
};

struct EncryptReport : Report {
  std::string in, out;
  whatsapp::EncryptSummary summary;
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

// Decrypts or encrypts r.in into r.out with `convert` (DecryptBackupFile or EncryptBackupFile)
// and percent progress on stderr; the report gets the summary, a failure names the input. `verb`
// is "decrypt" or "encrypt": the progress line says "decrypting", the error "cannot decrypt IN".
template <typename R, typename Options, typename Convert>
Result<R> ConvertWithProgress(const Globals& g, const std::string& verb, R r,
                              const whatsapp::WhatsAppKey& key, Options options, Convert convert) {
  PercentProgress progress(g, verb + "ing");
  options.progress = [&progress](uint64_t d, uint64_t t) { progress(d, t); };
  auto summary = convert(r.in, r.out, key, options);
  progress.Done();
  if (!summary.ok()) return summary.status().Annotate("cannot " + verb + " " + r.in);
  r.summary = *summary;
  return r;
}

Result<DecryptReport> RunDecrypt(const Globals& g, const ConvertOptions& o) {
  DecryptReport r;
  r.in = o.in;
  r.out = o.out.empty() ? DefaultDecryptOutput(o.in) : o.out;
  if (r.out.empty()) {
    return InvalidArgument(
        "give the output file with -o (the input does not end in .crypt15, .crypt14 or "
        ".crypt12)");
  }
  CV_RETURN_IF_ERROR(CheckOutput(o.in, r.out, o.force));
  CV_ASSIGN_OR_RETURN(whatsapp::WhatsAppKey key, LoadWhatsAppKey(o.key));
  return ConvertWithProgress(g, "decrypt", std::move(r), key, whatsapp::DecryptOptions{},
                             whatsapp::DecryptBackupFile);
}

Result<EncryptReport> RunEncrypt(const Globals& g, const ConvertOptions& o) {
  EncryptReport r;
  r.in = o.in;
  r.out = o.out.empty() ? o.in + ".crypt15" : o.out;
  CV_RETURN_IF_ERROR(CheckOutput(o.in, r.out, o.force));
  whatsapp::EncryptOptions options;
  if (o.app_version_given) options.app_version = o.app_version;
  if (o.jid_suffix_given) options.jid_suffix = o.jid_suffix;
  // Checked before the key is read, so that a typo costs nothing.
  if (Status s = whatsapp::CheckAppVersion(options.app_version); !s.ok()) {
    return s.Annotate("--app-version");
  }
  if (Status s = whatsapp::CheckJidSuffix(options.jid_suffix); !s.ok()) {
    return s.Annotate("--jid-suffix");
  }
  CV_ASSIGN_OR_RETURN(whatsapp::WhatsAppKey key, LoadWhatsAppKey(o.key));
  options.write_md5 = !o.no_md5;
  return ConvertWithProgress(g, "encrypt", std::move(r), key, std::move(options),
                             whatsapp::EncryptBackupFile);
}

const char* PayloadName(whatsapp::Payload payload) {
  return payload == whatsapp::Payload::kZip ? "zip" : "sqlite";
}

nlohmann::json ToJson(const DecryptReport& r) {
  const whatsapp::DecryptSummary& s = r.summary;
  return {{"out", r.out},
          {"format", FormatName(s.format)},
          {"payload", PayloadName(s.payload)},
          {"md5", s.had_md5},
          {"input_bytes", s.input_bytes},
          {"output_bytes", s.output_bytes},
          {"app_version", s.app_version}};
}

void PrintText(const DecryptReport& r) {
  const whatsapp::DecryptSummary& s = r.summary;
  const bool zip = s.payload == whatsapp::Payload::kZip;
  std::cout << "Decrypted " << FormatName(s.format) << " backup " << r.in << " -> " << r.out << " ("
            << (zip ? "ZIP archive of a multi-file backup" : "SQLite database, integrity checked")
            << ", " << s.output_bytes << " bytes; authenticated" << (s.had_md5 ? ", MD5 ok" : "")
            << ").\n";
}

nlohmann::json ToJson(const EncryptReport& r) {
  return {{"out", r.out},
          {"payload", PayloadName(r.summary.payload)},
          {"input_bytes", r.summary.input_bytes},
          {"output_bytes", r.summary.output_bytes}};
}

void PrintText(const EncryptReport& r) {
  const bool zip = r.summary.payload == whatsapp::Payload::kZip;
  std::cout << "Wrote " << r.out << " (" << r.summary.output_bytes << " bytes) from "
            << (zip ? "the ZIP archive " : "the database ") << r.in << ".\n";
}

// The flags decrypt and encrypt share.
void AddConvertFlags(CLI::App* cmd, ConvertOptions& o, const char* input_help,
                     const char* output_help) {
  cmd->add_option("--key", o.key,
                  "The 64-digit key (hex; spaces allowed), or a key file: encrypted_backup.key, "
                  "the crypt14 'key' file, or a text file with the digits. '-' reads the digits "
                  "from stdin.")
      ->required();
  cmd->add_option("input", o.in, input_help)->required();
  cmd->add_option("-o,--output", o.out, output_help);
  cmd->add_flag("--force", o.force, "Replace the output file if it exists");
}

void AddDecrypt(CLI::App* wa, CommandRunner& runner) {
  auto [cmd, o] = runner.AddCommand<ConvertOptions>(
      *wa, "decrypt", RunDecrypt,
      "Decrypt a .crypt15 (or .crypt14, .crypt12) backup into a SQLite database, or into a\n"
      "ZIP for multi-file backups (stickers, wallpapers). The output appears only once the file\n"
      "authenticated, its checksum matched and the database passed SQLite's integrity check.\n"
      "Errors: wrong key (exit 4), truncated or damaged file: bad tag, bad MD5 (exit 5),\n"
      "unknown key type (exit 10).");
  AddConvertFlags(cmd, *o, "The backup, e.g. msgstore.db.crypt15",
                  "Output file (default: the input without .crypt15)");
}

void AddEncrypt(CLI::App* wa, CommandRunner& runner) {
  auto [cmd, o] = runner.AddCommand<ConvertOptions>(
      *wa, "encrypt", RunEncrypt,
      "Encrypt a SQLite database (or a ZIP of a multi-file backup) into a .crypt15 that "
      "WhatsApp's\nformat readers accept: fresh random IV, zlib level 1, AES-256-GCM, MD5 "
      "trailer.");
  AddConvertFlags(cmd, *o, "The database, e.g. msgstore.db",
                  "Output file (default: the input plus .crypt15)");
  cmd->add_flag("--no-md5", o->no_md5,
                "Leave out the trailing MD5 (WhatsApp writes it for databases)");
  cmd->add_option("--app-version", o->app_version,
                  "WhatsApp version to record in the header, like 2.24.24.78: at most 32 digits, "
                  "letters, '.', '-' or '_' (keeps the header within the 255 bytes readers take)")
      ->each([o](const std::string&) { o->app_version_given = true; });
  cmd->add_option("--jid-suffix", o->jid_suffix,
                  "Last two digits of the phone number, recorded in the header (exactly two "
                  "digits; default 00)")
      ->each([o](const std::string&) { o->jid_suffix_given = true; });
}

}  // namespace

// --key DIGITS|FILE, or "-" to read the digits from stdin (keeps them out of shell history).
Result<whatsapp::WhatsAppKey> LoadWhatsAppKey(const std::string& arg) {
  if (arg == "-") {
    std::string line;
    if (!std::getline(std::cin, line)) return InvalidArgument("--key -: nothing to read on stdin");
    return whatsapp::WhatsAppKey::Load(line);
  }
  return whatsapp::WhatsAppKey::Load(arg);
}

std::string DefaultDecryptOutput(const std::string& in) {
  for (const char* ext : {".crypt15", ".crypt14", ".crypt12"}) {
    const std::string e = ext;
    if (in.size() > e.size() && in.compare(in.size() - e.size(), e.size(), e) == 0) {
      return in.substr(0, in.size() - e.size());
    }
  }
  return "";
}

const char* FormatName(whatsapp::BackupFormat format) {
  switch (format) {
    case whatsapp::BackupFormat::kCrypt12: return "crypt12";
    case whatsapp::BackupFormat::kCrypt14: return "crypt14";
    case whatsapp::BackupFormat::kCrypt15: return "crypt15";
  }
  return "crypt15";
}

void AddWhatsAppCommand(CLI::App& app, CommandRunner& runner) {
  CLI::App* wa = app.add_subcommand(
      "whatsapp",
      "Open and write WhatsApp's own end-to-end encrypted backups (msgstore.db.crypt15) with the\n"
      "64-digit key WhatsApp showed you, or the phone's encrypted_backup.key file.");
  wa->require_subcommand(1);
  AddDecrypt(wa, runner);
  AddEncrypt(wa, runner);
  AddWhatsAppImport(wa, runner);
}

}  // namespace chatvault::cli

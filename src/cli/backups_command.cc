// chatvault backups: the backups a location holds (number, time, messages, files, size), so an
// older one can be restored with `restore --backup N`.
#include <iostream>

#include "chatvault/backup/engine.h"
#include "chatvault/storage/provider.h"
#include "cli/backup_source.h"
#include "cli/commands.h"
#include "cli/terminal.h"

namespace chatvault::cli {
namespace {

struct BackupsReport : Report {
  std::string location;  // as the provider describes itself
  backup::LocationContents contents;
};

Result<BackupsReport> RunBackups(const Globals& g, const BackupSource& given) {
  CV_ASSIGN_OR_RETURN(BackupSource source, WithDeviceDefaults(g, given, "backups"));
  CV_ASSIGN_OR_RETURN(key::BackupKey key, ResolveKey(g, source.key));
  CV_ASSIGN_OR_RETURN(auto provider, storage::OpenProvider(source.from));
  auto contents = backup::ListBackups(*provider, key);
  if (!contents.ok()) return contents.status().Annotate("listing the backups failed");
  BackupsReport r;
  r.location = provider->Describe();
  r.contents = std::move(*contents);
  return r;
}

nlohmann::json MessagesJson(const std::optional<uint64_t>& messages) {
  return messages ? nlohmann::json(*messages) : nlohmann::json();
}

nlohmann::json ToJson(const BackupsReport& r) {
  nlohmann::json list = nlohmann::json::array();
  for (const backup::BackupInfo& b : r.contents.backups) {
    nlohmann::json item = {{"sequence", b.sequence},
                           {"created_unix", b.created_unix},
                           {"messages", MessagesJson(b.messages)},
                           {"files", b.files},
                           {"bytes", b.bytes},
                           {"skipped_files", b.skipped_files}};
    if (!b.problem.empty()) item["problem"] = b.problem;
    list.push_back(std::move(item));
  }
  return {{"location", r.location},
          {"backups", list},
          {"other_key_backups", r.contents.other_key_backups},
          {"ignored", r.contents.ignored}};
}

void PrintBackup(const backup::BackupInfo& b) {
  std::cout << "  " << b.sequence << "  ";
  if (!b.problem.empty()) {
    std::cout << "damaged: " << b.problem << "\n";
    return;
  }
  std::cout << TimeText(b.created_unix) << "  "
            << (b.messages ? std::to_string(*b.messages) : std::string("?")) << " messages, "
            << b.files << " files, " << HumanBytes(b.bytes);
  if (b.skipped_files) std::cout << " (" << b.skipped_files << " files could not be read)";
  std::cout << "\n";
}

void PrintText(const BackupsReport& r) {
  const backup::LocationContents& c = r.contents;
  if (c.backups.empty()) {
    std::cout << "No backup made with this key at " << r.location << ".\n";
  } else {
    std::cout << "Backups at " << r.location
              << " (restore one with 'chatvault restore --backup N'):\n";
  }
  for (const backup::BackupInfo& b : c.backups) PrintBackup(b);
  if (c.other_key_backups) {
    std::cout << c.other_key_backups << " backup(s) there were made with a different key.\n";
  }
  for (const std::string& name : c.ignored) std::cout << "Not a backup, ignored: " << name << "\n";
}

}  // namespace

void AddBackupsCommand(CLI::App& app, CommandRunner& runner) {
  auto [cmd, o] = runner.AddCommand<BackupSource>(
      app, "backups", RunBackups,
      "List the backups at a location (number, time, messages, files, size).\n"
      "Defaults to this device's location and key.");
  o->AddFlags(cmd, "Where the backups are (default: the configured location)");
}

}  // namespace chatvault::cli

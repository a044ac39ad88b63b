#include "cli/whatsapp_folder.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "cli/whatsapp_cli.h"

namespace chatvault::cli {
namespace fs = std::filesystem;
namespace {

bool IsSqliteFile(const std::string& path) {
  char magic[16] = {};
  std::ifstream in(path, std::ios::binary);
  return in.read(magic, sizeof magic) && std::memcmp(magic, "SQLite format 3", 16) == 0;
}

Result<ImportPlan> PlanFile(const std::string& input, bool key_given) {
  ImportFile file;
  file.path = input;
  const std::string base = fs::path(input).filename().string();
  const std::string stripped = DefaultDecryptOutput(base);
  file.encrypted = !stripped.empty() || key_given;
  file.name = stripped.empty() ? base : stripped;
  if (!file.encrypted && !IsSqliteFile(input)) {
    return InvalidArgument(input +
                           " is neither a WhatsApp backup (.crypt15, .crypt14, .crypt12) "
                           "nor a SQLite database");
  }
  ImportPlan plan;
  plan.files.push_back(std::move(file));
  return plan;
}

// The encrypted backups directly in `dir` (not below it).
void CollectBackups(const std::string& dir, std::vector<ImportFile>& out) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (!entry.is_regular_file(ec)) continue;
    const std::string base = entry.path().filename().string();
    const std::string stripped = DefaultDecryptOutput(base);
    if (stripped.empty()) continue;
    out.push_back({entry.path().string(), stripped, true});
  }
}

Result<ImportPlan> PlanFolder(const std::string& input) {
  ImportPlan plan;
  plan.folder = true;
  plan.folder_path = input;
  std::error_code ec;
  for (const char* sub : kBackupSubfolders) {
    const std::string dir = *sub ? input + "/" + sub : input;
    if (fs::is_directory(dir, ec)) CollectBackups(dir, plan.files);
  }
  const std::string media = input + "/" + kMediaSubfolder;
  if (fs::is_directory(media, ec)) plan.media.push_back({kMediaSubfolder, media});
  if (plan.files.empty()) {
    return NotFound(input +
                    " holds no WhatsApp backup (no .crypt15, .crypt14 or .crypt12 file in "
                    "it, in Databases/ or in Backups/); give the WhatsApp folder itself (on the "
                    "phone Android/media/com.whatsapp/WhatsApp) or one backup file");
  }
  std::sort(plan.files.begin(), plan.files.end(),
            [](const ImportFile& a, const ImportFile& b) { return a.name < b.name; });
  for (size_t i = 0; i < plan.files.size(); ++i) {
    const ImportFile& f = plan.files[i];
    if (f.name == kMediaSubfolder) {
      return InvalidArgument(f.path + " would be imported as " + f.name +
                             ", the name of the media folder; rename or move it");
    }
    if (i + 1 < plan.files.size() && f.name == plan.files[i + 1].name) {
      return InvalidArgument("both " + f.path + " and " + plan.files[i + 1].path +
                             " would be imported as " + f.name + "; move one of them away");
    }
  }
  return plan;
}

}  // namespace

Result<ImportPlan> PlanImport(const std::string& input, bool key_given) {
  std::error_code ec;
  const fs::file_status st = fs::status(input, ec);
  if (!fs::exists(st)) return NotFound("there is no file or folder " + input);
  if (fs::is_directory(st)) return PlanFolder(input);
  if (!fs::is_regular_file(st)) return InvalidArgument(input + " is not a regular file or folder");
  return PlanFile(input, key_given);
}

}  // namespace chatvault::cli

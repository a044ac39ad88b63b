// What `whatsapp import` takes in: one backup or database file, or a whole WhatsApp folder
// (Android/media/com.whatsapp/WhatsApp, or a copy of it) with its Databases/, Backups/ and Media/.
#pragma once

#include <string>
#include <vector>

#include "chatvault/backup/engine.h"
#include "chatvault/common/status.h"

namespace chatvault::cli {

// One file the import brings into the backup.
struct ImportFile {
  std::string path;  // where it is
  std::string name;  // its name in the backup: its own, without .crypt15/.crypt14/.crypt12
  bool encrypted = false;
};

struct ImportPlan {
  bool folder = false;
  std::string folder_path;
  std::vector<ImportFile> files;  // sorted by name; names are unique
  // The Media tree, backed up where it is under "Media/".
  std::vector<backup::BackupOptions::ExtraDirectory> media;
};

// Where a WhatsApp folder keeps backup files, relative to it ("" is the folder itself).
inline constexpr const char* kBackupSubfolders[] = {"", "Databases", "Backups"};
inline constexpr const char* kMediaSubfolder = "Media";

// A file: encrypted when its name ends in .crypt15/.crypt14/.crypt12 or `key_given`, else it must
// be a SQLite database. A directory: every *.crypt15/14/12 in it, in Databases/ and in Backups/,
// plus Media/ when it is there. kNotFound for a folder with nothing recognisable in it (the
// message says where to look); kInvalidArgument when two files would get the same name.
Result<ImportPlan> PlanImport(const std::string& input, bool key_given);

}  // namespace chatvault::cli

#include "cli/location_check.h"

#include <iostream>

#include "chatvault/backup/engine.h"
#include "chatvault/storage/provider.h"
#include "cli/terminal.h"

namespace chatvault::cli {

Status CheckLocationForNewKey(const Globals& g, const std::string& location,
                              const key::BackupKey& key, bool replace) {
  auto provider = storage::OpenProvider(location);
  Status s = provider.ok() ? backup::CheckLocation(**provider, key, backup::BackupOptions{})
                           : provider.status();
  if (s.code() == Code::kForeignBackup) {
    if (!replace) {
      return Status(s.code(), s.message() +
                                  ". If that backup is yours (a lost or an old phone), restore it "
                                  "with 'chatvault restore --set-up-device' and its key or "
                                  "password: this device then continues it. Or choose another "
                                  "location; to replace it, run init with --replace-other-backup");
    }
    if (!ConfirmByTyping("The backup at " + location +
                             " was made with a different key. It will "
                             "be deleted once the first backup with the new key is complete, and "
                             "nobody can restore it afterwards.",
                         "REPLACE")) {
      return Cancelled("nothing was set up");
    }
    return OkStatus();
  }
  if (!s.ok() && !g.json) {
    std::cerr << "warning: could not look at " << location << " now (" << s.ToString()
              << "); the first backup checks it again\n";
  }
  return OkStatus();
}

}  // namespace chatvault::cli

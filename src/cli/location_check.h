// Setup (init --key, init --password) points a new key at a location: one that holds another
// key's backup is only taken over when the user says so.
#pragma once

#include <string>

#include "chatvault/common/status.h"
#include "chatvault/key/backup_key.h"
#include "cli/globals.h"

namespace chatvault::cli {

// kForeignBackup when `location` holds a backup made with another key and `replace` is not set;
// with `replace`, on a terminal the user also types REPLACE (else kCancelled). A location that
// cannot be reached now is only warned about: the first backup checks again.
Status CheckLocationForNewKey(const Globals& g, const std::string& location,
                              const key::BackupKey& key, bool replace);

}  // namespace chatvault::cli

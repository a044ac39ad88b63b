// Committed backups on a provider: finding the current one, committing a new one, and removing
// what older backups left behind.
#pragma once

#include <chrono>
#include <cstdint>

#include "backup/manifest.h"
#include "chatvault/key/backup_key.h"
#include "chatvault/storage/provider.h"

namespace chatvault::backup {

// The highest sequence number in use by any manifest or pointer (0 if none), so a new backup
// never reuses a name, even one left by a crashed run.
Result<uint64_t> HighestSequence(storage::Provider& provider);

// The current backup: the pointer with the highest sequence, and the manifest it names (hash
// checked). kNotFound if there is no backup; kWrongKey if it was made with another key.
Result<Manifest> LoadCurrentManifest(storage::Provider& provider, const key::BackupKey& key);

// Commit: stores the manifest, then the pointer that makes it current. kConflict if another
// backup took the same sequence number first.
Status CommitBackup(storage::Provider& provider, const key::BackupKey& key, const Manifest& manifest);

// Deletes older pointers, then older manifests, then every chunk `current` does not reference.
// In that order, so that at every moment each remaining pointer's backup is complete or the
// pointer is gone. Then removes what writes interrupted before `started` (the start of the backup
// that committed `current`) left on the provider. Returns the number of objects deleted.
Result<uint64_t> CollectGarbage(storage::Provider& provider, const Manifest& current,
                                std::chrono::system_clock::time_point started);

}  // namespace chatvault::backup

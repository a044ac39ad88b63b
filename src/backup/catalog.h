// Committed backups on a provider: what a location holds as seen with one key, reading a backup's
// manifest, committing a new one, and removing what the kept backups do not need.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "backup/manifest.h"
#include "chatvault/key/backup_key.h"
#include "chatvault/storage/provider.h"

namespace chatvault::backup {

// A pointer object of the engine's name form, classified by what it holds.
struct PointerEntry {
  enum class Kind {
    kOurs,      // authentic under this key, and names its own sequence
    kOtherKey,  // a container made with another key (its header says so)
    kInvalid,   // damaged, renamed or planted: not a backup, never the newest one
  };
  uint64_t sequence = 0;
  Kind kind = Kind::kInvalid;
  Pointer pointer;      // for kOurs
  std::string problem;  // for kInvalid: why it is not a backup
};

// What a location holds, seen with one key. Only names of the engine's form count
// (layout.h SequenceOf); everything else is ignored.
struct LocationSurvey {
  std::string location;                // provider.Describe()
  std::vector<PointerEntry> pointers;  // by sequence
  std::vector<uint64_t> manifests;     // every manifest name, by sequence
  // Manifests above every valid pointer that are not backups (damaged or planted). Orphans of
  // crashed runs authenticate and are not listed here.
  std::vector<uint64_t> invalid_manifests;
  // The highest sequence that backups (of any key) or authentic orphan manifests use: a new
  // backup is numbered above it so that no name is ever reused.
  uint64_t highest_in_use = 0;

  const PointerEntry* NewestOurs() const;
  const PointerEntry* NewestValid() const;  // ours or another key's
  const PointerEntry* Find(uint64_t sequence) const;
  std::vector<const PointerEntry*> Ours() const;  // by sequence
  // Sentences about what a reader of `chosen` should know: newer pointers that are invalid or
  // made with another key.
  std::vector<std::string> WarningsAbove(uint64_t chosen) const;
};

// Lists and classifies the location's pointers (each one is fetched and authenticated) and the
// manifests above the newest valid pointer. Fails only when the provider does.
Result<LocationSurvey> SurveyLocation(storage::Provider& provider, const key::BackupKey& key);

// The manifest a pointer of ours commits, checked against the pointer's hash and sequence.
Result<Manifest> LoadManifest(storage::Provider& provider, const key::BackupKey& key,
                              const PointerEntry& entry);

// The backup a reader wants: `sequence`, or the newest of this key when 0. kNotFound when the
// location holds no such backup, kWrongKey when it holds only other keys' backups, kCorrupted
// when it holds only invalid pointers.
Result<const PointerEntry*> ChooseBackup(const LocationSurvey& survey, uint64_t sequence);

// Commit: stores the manifest, then the pointer that makes it current. kConflict if another
// backup took the same sequence number first.
Status CommitBackup(storage::Provider& provider, const key::BackupKey& key, const Manifest& manifest);

struct Cleanup {
  uint64_t deleted = 0;  // objects removed
  uint64_t kept = 0;     // this key's backups left at the location
  std::string warning;   // set when something had to be left for the next backup to remove
};

// After `current` committed: keeps the `keep` newest backups of this key (current among them)
// and deletes every other pointer below current (older backups of this key, every backup of
// another key, invalid pointers), then every manifest no kept backup uses, then every chunk, pack
// and page hash list no kept backup uses. In that order, so that at every moment each remaining
// pointer's backup is complete or the pointer is gone; current's pointer, the newest valid one, is
// never deleted. When a valid pointer newer than current appears, nothing is deleted. Chunks are
// only deleted when every kept manifest could be read. Then removes what writes interrupted before
// `started` left on the provider. `loaded` holds manifests the caller already has, by sequence.
Result<Cleanup> CollectGarbage(storage::Provider& provider, const key::BackupKey& key,
                               const Manifest& current, int keep,
                               const std::map<uint64_t, const Manifest*>& loaded,
                               std::chrono::system_clock::time_point started);

}  // namespace chatvault::backup

#include "backup/catalog.h"

#include <algorithm>
#include <set>
#include <unordered_set>

#include "backup/crash_point.h"
#include "backup/layout.h"
#include "chatvault/crypto/hash.h"
#include "chatvault/crypto/secret.h"
#include "chatvault/format/container.h"

namespace chatvault::backup {
namespace {

using Kind = PointerEntry::Kind;

Status KeyError(const Status& s, std::string_view what) {
  if (s.code() == Code::kWrongKey) {
    return WrongKey("this backup was made with a different key");
  }
  return Status(s.code(), "the backup's " + std::string(what) + " is damaged: " + s.message());
}

// Fetches and authenticates one pointer. nullopt when it was deleted meanwhile; an error only
// when the provider fails (a provider that cannot be read must not make backups look invalid).
Result<std::optional<PointerEntry>> ClassifyPointer(storage::Provider& provider,
                                                    const key::BackupKey& key, uint64_t sequence) {
  auto sealed = provider.Get(PointerName(sequence));
  if (!sealed.ok()) {
    if (sealed.status().code() == Code::kNotFound) return std::optional<PointerEntry>();
    return sealed.status().Annotate("reading the backup pointer " + PointerName(sequence));
  }
  PointerEntry entry;
  entry.sequence = sequence;
  auto plain = format::DecryptBytes(key, "pointer", *sealed);
  if (!plain.ok()) {
    if (plain.status().code() == Code::kWrongKey) {
      entry.kind = Kind::kOtherKey;
    } else {
      entry.problem = plain.status().message();
    }
    return std::optional<PointerEntry>(std::move(entry));
  }
  auto parsed = ParsePointer(*plain);
  if (!parsed.ok()) {
    entry.problem = parsed.status().message();
  } else if (parsed->sequence != sequence) {
    entry.problem = "it holds the pointer of backup " + std::to_string(parsed->sequence) +
                    " under another name";
  } else {
    entry.kind = Kind::kOurs;
    entry.pointer = *parsed;
  }
  return std::optional<PointerEntry>(std::move(entry));
}

enum class ManifestState { kAuthentic, kInvalid, kGone };

// An orphan manifest (no pointer names it) authenticates when a crashed run left it; then its
// number stays in use. Another key's counts as authentic too: nothing more can be checked.
Result<ManifestState> ClassifyManifest(storage::Provider& provider, const key::BackupKey& key,
                                       uint64_t sequence) {
  auto sealed = provider.Get(ManifestName(sequence));
  if (!sealed.ok()) {
    if (sealed.status().code() == Code::kNotFound) return ManifestState::kGone;
    return sealed.status().Annotate("reading " + ManifestName(sequence));
  }
  auto plain = format::DecryptBytes(key, "manifest", *sealed);
  if (!plain.ok()) {
    return plain.status().code() == Code::kWrongKey ? ManifestState::kAuthentic
                                                    : ManifestState::kInvalid;
  }
  auto parsed = ParseManifest(*plain);
  return parsed.ok() && parsed->sequence == sequence ? ManifestState::kAuthentic
                                                     : ManifestState::kInvalid;
}

// Every object a backup needs: its files' chunks, and for a database backed up page by page its
// packs and the page hash lists of its base chunks and packs (those lists are what lets the next
// backup compare without the device's cache).
void AddLiveObjects(const Manifest& manifest, std::unordered_set<std::string>& live) {
  for (const auto& f : manifest.files) {
    for (const auto& c : f.chunks) {
      if (c.id.empty()) continue;
      live.insert(ChunkName(c.id));
      if (f.pages) live.insert(PageHashesName(c.id));
    }
    if (!f.pages) continue;
    for (const PackRef& p : f.pages->packs) {
      live.insert(PackName(p.id));
      live.insert(PageHashesName(p.id));
    }
  }
}

}  // namespace

const PointerEntry* LocationSurvey::NewestOurs() const {
  for (auto it = pointers.rbegin(); it != pointers.rend(); ++it) {
    if (it->kind == Kind::kOurs) return &*it;
  }
  return nullptr;
}

const PointerEntry* LocationSurvey::NewestValid() const {
  for (auto it = pointers.rbegin(); it != pointers.rend(); ++it) {
    if (it->kind != Kind::kInvalid) return &*it;
  }
  return nullptr;
}

const PointerEntry* LocationSurvey::Find(uint64_t sequence) const {
  for (const auto& p : pointers) {
    if (p.sequence == sequence) return &p;
  }
  return nullptr;
}

std::vector<const PointerEntry*> LocationSurvey::Ours() const {
  std::vector<const PointerEntry*> out;
  for (const auto& p : pointers) {
    if (p.kind == Kind::kOurs) out.push_back(&p);
  }
  return out;
}

std::vector<std::string> LocationSurvey::WarningsAbove(uint64_t chosen) const {
  std::vector<std::string> out;
  for (const auto& p : pointers) {
    if (p.sequence <= chosen) continue;
    if (p.kind == Kind::kInvalid) {
      out.push_back(PointerName(p.sequence) + " at " + location +
                    " is not a valid backup pointer and was ignored (" + p.problem + ")");
    } else if (p.kind == Kind::kOtherKey) {
      out.push_back("backup " + std::to_string(p.sequence) + " at " + location +
                    ", newer than this one, was made with a different key");
    }
  }
  return out;
}

Result<LocationSurvey> SurveyLocation(storage::Provider& provider, const key::BackupKey& key) {
  LocationSurvey survey;
  survey.location = provider.Describe();
  CV_ASSIGN_OR_RETURN(auto pointer_objects, provider.List(kPointerPrefix));
  uint64_t highest_valid = 0;
  for (const auto& o : pointer_objects) {
    auto sequence = SequenceOf(o.name, kPointerPrefix);
    if (!sequence) continue;
    CV_ASSIGN_OR_RETURN(auto entry, ClassifyPointer(provider, key, *sequence));
    if (!entry) continue;
    if (entry->kind != Kind::kInvalid) highest_valid = std::max(highest_valid, *sequence);
    survey.pointers.push_back(std::move(*entry));
  }
  std::sort(survey.pointers.begin(), survey.pointers.end(),
            [](const PointerEntry& a, const PointerEntry& b) { return a.sequence < b.sequence; });

  CV_ASSIGN_OR_RETURN(auto manifest_objects, provider.List(kManifestPrefix));
  survey.highest_in_use = highest_valid;
  for (const auto& o : manifest_objects) {
    auto sequence = SequenceOf(o.name, kManifestPrefix);
    if (!sequence) continue;
    survey.manifests.push_back(*sequence);
    if (*sequence <= highest_valid) continue;
    CV_ASSIGN_OR_RETURN(ManifestState state, ClassifyManifest(provider, key, *sequence));
    if (state == ManifestState::kAuthentic) {
      survey.highest_in_use = std::max(survey.highest_in_use, *sequence);
    } else if (state == ManifestState::kInvalid) {
      survey.invalid_manifests.push_back(*sequence);
    }
  }
  std::sort(survey.manifests.begin(), survey.manifests.end());
  return survey;
}

Result<const PointerEntry*> ChooseBackup(const LocationSurvey& survey, uint64_t sequence) {
  if (sequence != 0) {
    const PointerEntry* entry = survey.Find(sequence);
    if (!entry) {
      return NotFound("there is no backup " + std::to_string(sequence) + " at " + survey.location);
    }
    if (entry->kind == Kind::kOtherKey) {
      return WrongKey("backup " + std::to_string(sequence) + " was made with a different key");
    }
    if (entry->kind == Kind::kInvalid) {
      return Corrupted("the pointer of backup " + std::to_string(sequence) +
                       " is damaged: " + entry->problem);
    }
    return entry;
  }
  if (const PointerEntry* newest = survey.NewestOurs()) return newest;
  if (survey.NewestValid()) return WrongKey("this backup was made with a different key");
  if (!survey.pointers.empty()) {
    const PointerEntry& last = survey.pointers.back();
    return Corrupted("there is no intact backup at " + survey.location + ": the pointer " +
                     PointerName(last.sequence) + " is damaged: " + last.problem);
  }
  return NotFound("there is no backup at " + survey.location);
}

Result<Manifest> LoadManifest(storage::Provider& provider, const key::BackupKey& key,
                              const PointerEntry& entry) {
  const uint64_t sequence = entry.sequence;
  auto sealed_manifest = provider.Get(ManifestName(sequence));
  if (!sealed_manifest.ok()) {
    if (sealed_manifest.status().code() == Code::kNotFound) {
      return Corrupted("the manifest of backup " + std::to_string(sequence) + " is missing");
    }
    return sealed_manifest.status().Annotate("reading the manifest");
  }
  const Bytes digest = crypto::Sha256(*sealed_manifest);
  auto expected = HexDecode(entry.pointer.manifest_sha256);
  if (!expected.ok() || !crypto::ConstantTimeEqual(digest, *expected)) {
    // Tell a wrong key apart from a replaced manifest: the header fingerprint check runs first.
    auto probe = format::DecryptBytes(key, "manifest", *sealed_manifest);
    if (!probe.ok()) return KeyError(probe.status(), "manifest");
    return Corrupted("the manifest of backup " + std::to_string(sequence) +
                     " is not the one its pointer committed");
  }
  auto manifest_bytes = format::DecryptBytes(key, "manifest", *sealed_manifest);
  if (!manifest_bytes.ok()) return KeyError(manifest_bytes.status(), "manifest");
  CV_ASSIGN_OR_RETURN(Manifest manifest, ParseManifest(*manifest_bytes));
  if (manifest.sequence != sequence) {
    return Corrupted("the manifest of backup " + std::to_string(sequence) + " was renamed");
  }
  return manifest;
}

Status CommitBackup(storage::Provider& provider, const key::BackupKey& key,
                    const Manifest& manifest) {
  format::EncryptOptions manifest_options;
  manifest_options.purpose = "manifest";
  CV_ASSIGN_OR_RETURN(Bytes sealed_manifest,
                      format::EncryptBytes(key, manifest_options, SerializeManifest(manifest)));
  Status s = provider.PutIfAbsent(ManifestName(manifest.sequence), sealed_manifest);
  if (s.code() == Code::kAlreadyExists) {
    return Conflict("another backup to " + provider.Describe() +
                    " is running at the same time; try again when it is done");
  }
  CV_RETURN_IF_ERROR(s.ok() ? s : s.Annotate("storing the manifest"));
  CrashPoint("manifest");

  format::EncryptOptions pointer_options;
  pointer_options.purpose = "pointer";
  pointer_options.compression = format::Compression::kNone;
  Pointer pointer{manifest.sequence, HexEncode(crypto::Sha256(sealed_manifest))};
  CV_ASSIGN_OR_RETURN(Bytes sealed_pointer,
                      format::EncryptBytes(key, pointer_options, SerializePointer(pointer)));
  s = provider.PutIfAbsent(PointerName(manifest.sequence), sealed_pointer);
  if (s.code() == Code::kAlreadyExists) {
    return Conflict("another backup to " + provider.Describe() + " committed at the same time");
  }
  if (!s.ok()) return s.Annotate("committing the backup");
  CrashPoint("pointer");
  return OkStatus();
}

Result<Cleanup> CollectGarbage(storage::Provider& provider, const key::BackupKey& key,
                               const Manifest& current, int keep,
                               const std::map<uint64_t, const Manifest*>& loaded,
                               std::chrono::system_clock::time_point started) {
  CV_ASSIGN_OR_RETURN(LocationSurvey survey, SurveyLocation(provider, key));
  const uint64_t now = current.sequence;
  const PointerEntry* newest = survey.NewestValid();
  if (!newest || newest->sequence != now || newest->kind != Kind::kOurs) {
    return Conflict("backup " + std::to_string(now) + " is no longer the newest at " +
                    survey.location +
                    " (another device wrote there meanwhile); nothing was removed");
  }

  // The kept backups, and the chunks they use.
  std::set<uint64_t> kept;
  const auto ours = survey.Ours();
  for (auto it = ours.rbegin();
       it != ours.rend() && kept.size() < static_cast<size_t>(std::max(1, keep)); ++it) {
    kept.insert((*it)->sequence);
  }
  Cleanup out;
  out.kept = kept.size();
  std::unordered_set<std::string> live;
  bool chunks_known = true;
  for (const PointerEntry* entry : ours) {
    if (!kept.contains(entry->sequence)) continue;
    const Manifest* manifest = entry->sequence == now ? &current : nullptr;
    Result<Manifest> fetched = Internal("not fetched");
    if (!manifest) {
      if (auto it = loaded.find(entry->sequence); it != loaded.end()) {
        manifest = it->second;
      } else {
        fetched = LoadManifest(provider, key, *entry);
        if (fetched.ok()) manifest = &*fetched;
      }
    }
    if (!manifest) {
      chunks_known = false;
      out.warning = "the manifest of kept backup " + std::to_string(entry->sequence) +
                    " cannot be read (" + fetched.status().message() + "), so no chunk was removed";
      continue;
    }
    AddLiveObjects(*manifest, live);
  }

  auto remove = [&](const std::string& name) -> Status {
    CV_RETURN_IF_ERROR(provider.Delete(name));
    if (++out.deleted == 1) CrashPoint("cleanup");
    return OkStatus();
  };
  // Pointers first: older backups of this key beyond `keep`, every other key's backup below this
  // one, and whatever is not a backup at all.
  for (const auto& p : survey.pointers) {
    const bool older = p.sequence < now && !kept.contains(p.sequence);
    if (older || p.kind == Kind::kInvalid) CV_RETURN_IF_ERROR(remove(PointerName(p.sequence)));
  }
  for (uint64_t m : survey.manifests) {
    if (m < now && !kept.contains(m)) CV_RETURN_IF_ERROR(remove(ManifestName(m)));
  }
  for (uint64_t m : survey.invalid_manifests) CV_RETURN_IF_ERROR(remove(ManifestName(m)));
  if (chunks_known) {
    for (std::string_view prefix : {kChunkPrefix, kPackPrefix, kPageHashesPrefix}) {
      CV_ASSIGN_OR_RETURN(auto objects, provider.List(prefix));
      for (const auto& o : objects) {
        if (!live.contains(o.name)) CV_RETURN_IF_ERROR(remove(o.name));
      }
    }
  }
  // Every write of this backup has finished; older leftovers belong to crashed runs.
  CV_RETURN_IF_ERROR(provider.RemoveAbandonedWrites(started).status());
  return out;
}

}  // namespace chatvault::backup

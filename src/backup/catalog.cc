#include "backup/catalog.h"

#include <algorithm>
#include <unordered_set>

#include "backup/crash_point.h"
#include "backup/layout.h"
#include "chatvault/crypto/hash.h"
#include "chatvault/crypto/secret.h"
#include "chatvault/format/container.h"

namespace chatvault::backup {
namespace {

Status KeyError(const Status& s, std::string_view what) {
  if (s.code() == Code::kWrongKey) {
    return WrongKey("this backup was made with a different key");
  }
  return Status(s.code(), "the backup's " + std::string(what) + " is damaged: " + s.message());
}

}  // namespace

Result<uint64_t> HighestSequence(storage::Provider& provider) {
  uint64_t highest = 0;
  for (std::string_view prefix : {kManifestPrefix, kPointerPrefix}) {
    CV_ASSIGN_OR_RETURN(auto objects, provider.List(prefix));
    for (const auto& o : objects) {
      if (auto seq = SequenceOf(o.name, prefix)) highest = std::max(highest, *seq);
    }
  }
  return highest;
}

Result<Manifest> LoadCurrentManifest(storage::Provider& provider, const key::BackupKey& key) {
  CV_ASSIGN_OR_RETURN(auto pointers, provider.List(kPointerPrefix));
  uint64_t newest = 0;
  bool found = false;
  for (const auto& o : pointers) {
    if (auto seq = SequenceOf(o.name, kPointerPrefix); seq && (!found || *seq > newest)) {
      newest = *seq;
      found = true;
    }
  }
  if (!found) return NotFound("there is no backup at " + provider.Describe());

  auto sealed_pointer = provider.Get(PointerName(newest));
  if (!sealed_pointer.ok()) return sealed_pointer.status().Annotate("reading the backup pointer");
  auto pointer_bytes = format::DecryptBytes(key, "pointer", *sealed_pointer);
  if (!pointer_bytes.ok()) return KeyError(pointer_bytes.status(), "pointer");
  CV_ASSIGN_OR_RETURN(Pointer pointer, ParsePointer(*pointer_bytes));
  if (pointer.sequence != newest) {
    return Corrupted("the backup pointer " + PointerName(newest) + " was renamed");
  }

  auto sealed_manifest = provider.Get(ManifestName(newest));
  if (!sealed_manifest.ok()) {
    if (sealed_manifest.status().code() == Code::kNotFound) {
      return Corrupted("the manifest of backup " + std::to_string(newest) + " is missing");
    }
    return sealed_manifest.status().Annotate("reading the manifest");
  }
  const Bytes digest = crypto::Sha256(*sealed_manifest);
  auto expected = HexDecode(pointer.manifest_sha256);
  if (!expected.ok() || !crypto::ConstantTimeEqual(digest, *expected)) {
    // Tell a wrong key apart from a replaced manifest: the header fingerprint check runs first.
    auto probe = format::DecryptBytes(key, "manifest", *sealed_manifest);
    if (!probe.ok()) return KeyError(probe.status(), "manifest");
    return Corrupted("the manifest of backup " + std::to_string(newest) +
                     " is not the one its pointer committed");
  }
  auto manifest_bytes = format::DecryptBytes(key, "manifest", *sealed_manifest);
  if (!manifest_bytes.ok()) return KeyError(manifest_bytes.status(), "manifest");
  CV_ASSIGN_OR_RETURN(Manifest manifest, ParseManifest(*manifest_bytes));
  if (manifest.sequence != newest) {
    return Corrupted("the manifest of backup " + std::to_string(newest) + " was renamed");
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

Result<uint64_t> CollectGarbage(storage::Provider& provider, const Manifest& current,
                                std::chrono::system_clock::time_point started) {
  uint64_t deleted = 0;
  auto remove = [&](const std::string& name) -> Status {
    CV_RETURN_IF_ERROR(provider.Delete(name));
    if (++deleted == 1) CrashPoint("cleanup");
    return OkStatus();
  };
  for (std::string_view prefix : {kPointerPrefix, kManifestPrefix}) {
    CV_ASSIGN_OR_RETURN(auto objects, provider.List(prefix));
    for (const auto& o : objects) {
      auto seq = SequenceOf(o.name, prefix);
      if (seq && *seq < current.sequence) CV_RETURN_IF_ERROR(remove(o.name));
    }
  }
  std::unordered_set<std::string> live;
  for (const auto& f : current.files) {
    for (const auto& c : f.chunks) live.insert(ChunkName(c.id));
  }
  CV_ASSIGN_OR_RETURN(auto chunks, provider.List(kChunkPrefix));
  for (const auto& o : chunks) {
    if (!live.contains(o.name)) CV_RETURN_IF_ERROR(remove(o.name));
  }
  // Every write of this backup has finished; older leftovers belong to crashed runs.
  CV_RETURN_IF_ERROR(provider.RemoveAbandonedWrites(started).status());
  return deleted;
}

}  // namespace chatvault::backup

// Object names on the provider (see docs/BACKUP.md).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace chatvault::backup {

inline constexpr std::string_view kChunkPrefix = "chunks/";
inline constexpr std::string_view kManifestPrefix = "manifests/";
inline constexpr std::string_view kPointerPrefix = "current/";
// Packs of database pages, and the keyed page hashes of each base chunk and pack (docs/BACKUP.md).
inline constexpr std::string_view kPackPrefix = "packs/";
inline constexpr std::string_view kPageHashesPrefix = "pagehashes/";

// Chunk sizes. Database chunks are a multiple of every SQLite page size (512 B .. 64 KiB), so an
// unchanged page range maps to an unchanged chunk. Media files up to kMediaChunkSize are one chunk.
inline constexpr size_t kDatabaseChunkSize = 1 << 20;
inline constexpr size_t kMediaChunkSize = 4 << 20;

// "chunks/ab/ab12...": a two-hex-digit fan-out keeps directories small on local disks.
std::string ChunkName(std::string_view id_hex);
std::string PackName(std::string_view id_hex);
// The page hashes of the base chunk or pack with this id.
std::string PageHashesName(std::string_view id_hex);
// "manifests/0000000042", "current/0000000042": zero-padded to exactly 10 digits so that name
// order is sequence order. Sequences run from 1 to kMaxSequence.
inline constexpr uint64_t kMaxSequence = 9999999999;
std::string ManifestName(uint64_t sequence);
std::string PointerName(uint64_t sequence);
// Parses the sequence back out of a manifest or pointer name. nullopt for every name the engine
// does not write (other prefixes, not exactly 10 digits, 0): such objects are ignored, never read
// as backups and never deleted.
std::optional<uint64_t> SequenceOf(std::string_view name, std::string_view prefix);

}  // namespace chatvault::backup

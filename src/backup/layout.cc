#include "backup/layout.h"

#include <cstdio>

namespace chatvault::backup {
namespace {

std::string Padded(uint64_t sequence) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%010llu", static_cast<unsigned long long>(sequence));
  return buf;
}

// "<prefix>ab/ab12...": a two-hex-digit fan-out keeps directories small on local disks.
std::string FannedOut(std::string_view prefix, std::string_view id_hex) {
  return std::string(prefix) + std::string(id_hex.substr(0, 2)) + "/" + std::string(id_hex);
}

}  // namespace

std::string ChunkName(std::string_view id_hex) { return FannedOut(kChunkPrefix, id_hex); }
std::string PackName(std::string_view id_hex) { return FannedOut(kPackPrefix, id_hex); }
std::string PageHashesName(std::string_view id_hex) { return FannedOut(kPageHashesPrefix, id_hex); }

std::string ManifestName(uint64_t sequence) { return std::string(kManifestPrefix) + Padded(sequence); }
std::string PointerName(uint64_t sequence) { return std::string(kPointerPrefix) + Padded(sequence); }

std::optional<uint64_t> SequenceOf(std::string_view name, std::string_view prefix) {
  if (!name.starts_with(prefix)) return std::nullopt;
  const std::string_view digits = name.substr(prefix.size());
  if (digits.size() != 10) return std::nullopt;
  uint64_t v = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (v == 0) return std::nullopt;
  return v;
}

}  // namespace chatvault::backup

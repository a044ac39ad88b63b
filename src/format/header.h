// The container header of docs/FORMAT.md: layout constants, serialisation, and the per-container
// keys derived from K and the header's salt.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "chatvault/common/bytes.h"
#include "chatvault/common/status.h"
#include "chatvault/crypto/secret.h"

namespace chatvault::format::internal {

inline constexpr uint8_t kMagic[8] = {0x89, 'C', 'V', 'A', 'U', 'L', 'T', '\n'};
inline constexpr uint8_t kVersion = 1;
inline constexpr uint8_t kFlagZstd = 0x01;
inline constexpr int kMinSegmentLog = 10;
inline constexpr int kMaxSegmentLog = 24;
inline constexpr int kDefaultSegmentLog = 16;
inline constexpr size_t kMaxPurposeSize = 80;
inline constexpr size_t kFingerprintSize = 16;
inline constexpr size_t kSaltSize = 32;
inline constexpr size_t kHeaderMacSize = 16;
inline constexpr size_t kTagSize = 16;
inline constexpr size_t kNonceSize = 12;
// Offsets of the fixed fields.
inline constexpr size_t kVersionOffset = 8;
inline constexpr size_t kFlagsOffset = 9;
inline constexpr size_t kSegmentLogOffset = 10;
inline constexpr size_t kPurposeLenOffset = 11;
inline constexpr size_t kFingerprintOffset = 12;
inline constexpr size_t kSaltOffset = 28;
inline constexpr size_t kPurposeOffset = 60;
// Header size without the purpose: fixed fields plus header_mac.
inline constexpr size_t kFixedHeaderSize = kPurposeOffset + kHeaderMacSize;
// Segments are numbered with 32 bits' worth of counter at most (docs/FORMAT.md "Limits").
inline constexpr uint64_t kMaxSegments = uint64_t{1} << 32;
// Dropping up to this many bytes from a failed final segment is tried to recognise trailing data.
inline constexpr size_t kTrailingProbe = 256;
// How far around a failed segment the reader looks for a segment that was moved.
inline constexpr uint64_t kReorderWindow = 8;

inline size_t HeaderSize(size_t purpose_size) { return kFixedHeaderSize + purpose_size; }

// "chunk-<id>", "manifest": 1..80 characters of [a-z0-9._-].
Status ValidatePurpose(std::string_view purpose);

struct ContainerKeys {
  crypto::Secret aead_key;  // AES-256-GCM key for the segments
  crypto::Secret mac_key;   // HMAC-SHA256 key for header_mac
};
ContainerKeys DeriveContainerKeys(const crypto::Secret& k, ByteView salt, std::string_view purpose);

// Builds the whole header including header_mac.
Bytes BuildHeader(uint8_t flags, int segment_log, ByteView fingerprint, ByteView salt,
                  std::string_view purpose, const crypto::Secret& mac_key);

// header_mac over `header_without_mac` (everything before the MAC field).
Bytes HeaderMac(const crypto::Secret& mac_key, ByteView header_without_mac);

// nonce_i = 00 00 00 || uint64_be(i) || last.
void SegmentNonce(uint64_t index, bool last, uint8_t out[kNonceSize]);

}  // namespace chatvault::format::internal

#include "format/header.h"

#include <algorithm>
#include <cstring>

#include "chatvault/crypto/hash.h"
#include "chatvault/crypto/hkdf.h"

namespace chatvault::format::internal {

Status ValidatePurpose(std::string_view purpose) {
  if (purpose.empty() || purpose.size() > kMaxPurposeSize) {
    return InvalidArgument("a container purpose must be 1 to 80 characters long");
  }
  for (char c : purpose) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!ok) {
      return InvalidArgument("container purpose \"" + std::string(purpose) +
                             "\" may only hold lowercase letters, digits, '.', '_' and '-'");
    }
  }
  return OkStatus();
}

ContainerKeys DeriveContainerKeys(const crypto::Secret& k, ByteView salt,
                                  std::string_view purpose) {
  crypto::Secret okm = crypto::DeriveSubkey(k, salt, purpose, 64);
  return {crypto::Secret::FromBytes(okm.view().first(32)),
          crypto::Secret::FromBytes(okm.view().subspan(32))};
}

Bytes HeaderMac(const crypto::Secret& mac_key, ByteView header_without_mac) {
  Bytes mac = crypto::HmacSha256(mac_key.view(), header_without_mac);
  mac.resize(kHeaderMacSize);
  return mac;
}

Bytes BuildHeader(uint8_t flags, int segment_log, ByteView fingerprint, ByteView salt,
                  std::string_view purpose, const crypto::Secret& mac_key) {
  // Filled at the offsets of docs/FORMAT.md rather than appended, so the layout is visible here.
  Bytes h(HeaderSize(purpose.size()));
  std::memcpy(h.data(), kMagic, sizeof(kMagic));
  h[kVersionOffset] = kVersion;
  h[kFlagsOffset] = flags;
  h[kSegmentLogOffset] = static_cast<uint8_t>(segment_log);
  h[kPurposeLenOffset] = static_cast<uint8_t>(purpose.size());
  std::copy_n(fingerprint.begin(), kFingerprintSize, h.begin() + kFingerprintOffset);
  std::copy_n(salt.begin(), kSaltSize, h.begin() + kSaltOffset);
  std::copy_n(purpose.begin(), purpose.size(), h.begin() + kPurposeOffset);
  const size_t signed_size = kPurposeOffset + purpose.size();
  const Bytes mac = HeaderMac(mac_key, ByteView(h).first(signed_size));
  std::copy_n(mac.begin(), kHeaderMacSize, h.begin() + signed_size);
  return h;
}

void SegmentNonce(uint64_t index, bool last, uint8_t out[kNonceSize]) {
  out[0] = out[1] = out[2] = 0;
  for (int i = 0; i < 8; ++i) out[3 + i] = static_cast<uint8_t>(index >> (56 - 8 * i));
  out[11] = last ? 1 : 0;
}

}  // namespace chatvault::format::internal

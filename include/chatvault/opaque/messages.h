// OPAQUE (RFC 9807) wire messages for the suite ristretto255-SHA512, OPAQUE-3DH.
//
// Every message has a fixed size. Parse() checks the length and that every group element is a
// canonical, non-identity ristretto255 encoding, so a parsed message is safe to compute with.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "chatvault/common/bytes.h"
#include "chatvault/common/status.h"

namespace chatvault::opaque {

// Sizes of the suite (RFC 9807 section 7 names).
inline constexpr size_t kNoe = 32;    // serialized OPRF group element
inline constexpr size_t kNok = 32;    // OPRF private key
inline constexpr size_t kNpk = 32;    // AKE public key
inline constexpr size_t kNsk = 32;    // AKE private key
inline constexpr size_t kNh = 64;     // hash output (SHA-512)
inline constexpr size_t kNm = 64;     // MAC output (HMAC-SHA512)
inline constexpr size_t kNx = 64;     // KDF output (HKDF-SHA512)
inline constexpr size_t kNn = 32;     // nonces
inline constexpr size_t kNseed = 32;  // key-derivation seeds
inline constexpr size_t kEnvelopeSize = kNn + kNm;

using Element = std::array<uint8_t, 32>;  // a ristretto255 point, canonical encoding

// Serialize() and Parse() of every message below. All of them are fixed-size fields in a fixed
// order, so one serializer and one parser serve them all, each following the message's field
// list in messages.cc; Parse() checks the length and every group element field.
template <typename Message>
struct FixedSizeMessage {
  Bytes Serialize() const;
  static Result<Message> Parse(ByteView in);
};

struct RegistrationRequest : FixedSizeMessage<RegistrationRequest> {
  static constexpr size_t kSize = kNoe;
  Element blinded_message{};
};

struct RegistrationResponse : FixedSizeMessage<RegistrationResponse> {
  static constexpr size_t kSize = kNoe + kNpk;
  Element evaluated_message{};
  Element server_public_key{};
};

// What the server stores per user ("registration upload" in the vectors). Not secret to the
// server, but it lets an attacker who steals it run an offline dictionary attack, bounded only
// by the key stretching function: keep it in the vault's store, never in logs.
struct RegistrationRecord : FixedSizeMessage<RegistrationRecord> {
  static constexpr size_t kSize = kNpk + kNh + kEnvelopeSize;
  Element client_public_key{};
  std::array<uint8_t, kNh> masking_key{};
  std::array<uint8_t, kEnvelopeSize> envelope{};  // envelope_nonce || auth_tag
};

struct KE1 : FixedSizeMessage<KE1> {
  static constexpr size_t kSize = kNoe + kNn + kNpk;
  Element blinded_message{};
  std::array<uint8_t, kNn> client_nonce{};
  Element client_public_keyshare{};
};

struct KE2 : FixedSizeMessage<KE2> {
  static constexpr size_t kMaskedResponseSize = kNpk + kEnvelopeSize;
  static constexpr size_t kSize = kNoe + kNn + kMaskedResponseSize + kNn + kNpk + kNm;
  // credential_response
  Element evaluated_message{};
  std::array<uint8_t, kNn> masking_nonce{};
  std::array<uint8_t, kMaskedResponseSize> masked_response{};
  // auth_response
  std::array<uint8_t, kNn> server_nonce{};
  Element server_public_keyshare{};
  std::array<uint8_t, kNm> server_mac{};
};

struct KE3 : FixedSizeMessage<KE3> {
  static constexpr size_t kSize = kNm;
  std::array<uint8_t, kNm> client_mac{};
};

}  // namespace chatvault::opaque

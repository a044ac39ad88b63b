// AES-256-GCM (OpenSSL 3, AES-NI). This is the raw primitive: it takes a nonce from the caller, so
// only the container formats (format/, whatsapp/) use it, each with its own nonce discipline.
// Everything else encrypts through format/.
#pragma once

#include <memory>

#include "chatvault/common/bytes.h"
#include "chatvault/common/status.h"
#include "chatvault/crypto/secret.h"

namespace chatvault::crypto {

class AesGcm256 {
 public:
  static constexpr size_t kKeySize = 32;
  static constexpr size_t kTagSize = 16;

  // The key schedule is computed once here and reused for every Seal/Open.
  static Result<AesGcm256> Create(ByteView key);
  ~AesGcm256();
  AesGcm256(AesGcm256&&) noexcept;
  AesGcm256& operator=(AesGcm256&&) noexcept;

  // Encrypts `plaintext` into `out` (same size; may alias) and writes the 16-byte tag.
  // `nonce` is 12 bytes normally; other lengths (WhatsApp uses 16) go through GHASH as GCM allows.
  void Seal(ByteView nonce, ByteView aad, ByteView plaintext, uint8_t* out, uint8_t* tag) const;
  // Decrypts into `out` (same size; may alias). Returns kCorrupted if the tag does not verify; `out`
  // is then wiped, so unauthenticated plaintext never escapes.
  Status Open(ByteView nonce, ByteView aad, ByteView ciphertext, ByteView tag, uint8_t* out) const;

  // Convenience forms returning ciphertext || tag, and taking it.
  Bytes SealToBytes(ByteView nonce, ByteView aad, ByteView plaintext) const;
  Result<Bytes> OpenFromBytes(ByteView nonce, ByteView aad, ByteView ciphertext_and_tag) const;

 private:
  AesGcm256();
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace chatvault::crypto

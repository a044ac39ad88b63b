// SHA-2 and HMAC (OpenSSL 3, hardware-accelerated where the CPU allows).
#pragma once

#include <array>
#include <memory>

#include "chatvault/common/bytes.h"
#include "chatvault/crypto/secret.h"

namespace chatvault::crypto {

enum class HashAlg { kSha256, kSha512 };
constexpr size_t DigestSize(HashAlg alg) { return alg == HashAlg::kSha256 ? 32 : 64; }

Bytes Sha256(ByteView data);
Bytes Sha512(ByteView data);
Bytes Hash(HashAlg alg, ByteView data);

// Incremental hash for streams.
class Hasher {
 public:
  explicit Hasher(HashAlg alg);
  ~Hasher();
  Hasher(Hasher&&) noexcept;
  Hasher& operator=(Hasher&&) noexcept;
  void Update(ByteView data);
  Bytes Finish();

 private:
  struct State;
  std::unique_ptr<State> state_;
  HashAlg alg_;
};

// HMAC with any key length (keys longer than the block are hashed, as RFC 2104 says).
Bytes HmacSha256(ByteView key, ByteView data);
Bytes HmacSha512(ByteView key, ByteView data);
Bytes Hmac(HashAlg alg, ByteView key, ByteView data);

// Incremental HMAC, for keyed content ids of large files.
class HmacStream {
 public:
  HmacStream(HashAlg alg, ByteView key);
  ~HmacStream();
  HmacStream(HmacStream&&) noexcept;
  HmacStream& operator=(HmacStream&&) noexcept;
  void Update(ByteView data);
  Bytes Finish();
  // Writes the MAC straight into secret memory (HKDF keys must not pass through plain Bytes).
  void FinishInto(std::span<uint8_t> out);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace chatvault::crypto

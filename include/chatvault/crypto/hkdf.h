// HKDF (RFC 5869) over HMAC-SHA256 or HMAC-SHA512.
#pragma once

#include <string_view>

#include "chatvault/crypto/hash.h"
#include "chatvault/crypto/secret.h"

namespace chatvault::crypto {

Secret HkdfExtract(HashAlg alg, ByteView salt, ByteView ikm);
// `length` must be at most 255 * DigestSize(alg); larger requests abort (a programming error).
Secret HkdfExpand(HashAlg alg, ByteView prk, ByteView info, size_t length);
Secret Hkdf(HashAlg alg, ByteView ikm, ByteView salt, ByteView info, size_t length);

// The project's subkey rule: HKDF-SHA256(K, salt, info = "chatvault/v1/<purpose>").
Secret DeriveSubkey(const Secret& key, ByteView salt, std::string_view purpose, size_t length = 32);

}  // namespace chatvault::crypto

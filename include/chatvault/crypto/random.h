// Randomness from the operating system's CSPRNG (libsodium randombytes).
#pragma once

#include <span>

#include "chatvault/common/bytes.h"
#include "chatvault/crypto/secret.h"

namespace chatvault::crypto {

void RandomFill(std::span<uint8_t> out);
Bytes RandomBytes(size_t n);
Secret RandomSecret(size_t n);

}  // namespace chatvault::crypto

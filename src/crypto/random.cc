#include "chatvault/crypto/random.h"

#include <sodium.h>

#include "crypto/sodium_init.h"

namespace chatvault::crypto {

void RandomFill(std::span<uint8_t> out) {
  EnsureSodium();
  randombytes_buf(out.data(), out.size());
}

Bytes RandomBytes(size_t n) {
  Bytes out(n);
  RandomFill(out);
  return out;
}

Secret RandomSecret(size_t n) {
  Secret s(n);
  RandomFill(s.span());
  return s;
}

}  // namespace chatvault::crypto

#include "chatvault/crypto/signature.h"

#include <sodium.h>

#include <cstdlib>

#include "crypto/sodium_init.h"

namespace chatvault::crypto {

SigningKey SigningKey::FromSeed(const Secret& seed) {
  if (seed.size() != crypto_sign_SEEDBYTES) std::abort();
  EnsureSodium();
  SigningKey key;
  key.secret_key_ = Secret(crypto_sign_SECRETKEYBYTES);
  crypto_sign_seed_keypair(key.verify_key_.data(), key.secret_key_.data(), seed.data());
  return key;
}

Signature SigningKey::Sign(ByteView message) const {
  Signature sig{};
  crypto_sign_detached(sig.data(), nullptr, message.data(), message.size(), secret_key_.data());
  return sig;
}

bool VerifySignature(const VerifyKey& key, ByteView message, ByteView signature) {
  if (signature.size() != crypto_sign_BYTES) return false;
  EnsureSodium();
  return crypto_sign_verify_detached(signature.data(), message.data(), message.size(),
                                     key.data()) == 0;
}

}  // namespace chatvault::crypto

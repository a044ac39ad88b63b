// Shared helpers for the container tests: a fixed key, deterministic data, split writes.
#pragma once

#include <gtest/gtest.h>

#include <random>

#include "chatvault/format/container.h"
#include "format/container_internal.h"

namespace chatvault::format::testing {

inline key::BackupKey TestKey(uint8_t first = 0) {
  Bytes k(32);
  for (size_t i = 0; i < k.size(); ++i) k[i] = static_cast<uint8_t>(first + i);
  return *key::BackupKey::FromBytes(k);
}

// Incompressible bytes from a seeded generator (reproducible failures).
inline Bytes RandomData(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  Bytes b(n);
  for (auto& x : b) x = static_cast<uint8_t>(rng());
  return b;
}

// Chat-like text: compresses well.
inline Bytes TextData(size_t n) {
  static const std::string kWords[] = {"hello ",    "see you ", "at ",  "the ", "station ",
                                       "tomorrow ", "ok ",      "lol ", "\n"};
  std::mt19937 rng(7);
  Bytes b;
  b.reserve(n);
  while (b.size() < n) {
    const std::string& w = kWords[rng() % std::size(kWords)];
    for (char c : w) {
      if (b.size() == n) break;
      b.push_back(static_cast<uint8_t>(c));
    }
  }
  return b;
}

inline internal::EncryptorInternals Small() {
  internal::EncryptorInternals in;
  in.segment_log = 10;  // 1 KiB segments: many segments from little data
  return in;
}

inline Result<Bytes> Encrypt(ByteView plaintext, Compression c = Compression::kNone,
                             const internal::EncryptorInternals& in = Small(),
                             const std::string& purpose = "chunk") {
  EncryptOptions o;
  o.purpose = purpose;
  o.compression = c;
  return internal::EncryptBytesWith(TestKey(), o, in, plaintext);
}

inline Result<Bytes> Decrypt(ByteView container, const std::string& purpose = "chunk") {
  return DecryptBytes(TestKey(), purpose, container);
}

}  // namespace chatvault::format::testing

// The key stretching function (KSF) OPAQUE applies to the OPRF output before deriving the
// envelope keys. It is what makes an offline guess against a stolen record expensive.
//
// The parameters are stored with each registration record (Serialize/Parse) and handed to the
// client at login, so they can be raised later: a user re-registers under the new parameters
// the next time they log in.
#pragma once

#include <cstdint>

#include "chatvault/common/bytes.h"
#include "chatvault/common/status.h"
#include "chatvault/crypto/secret.h"

namespace chatvault::opaque {

enum class KsfAlgorithm : uint8_t {
  kIdentity = 0,  // no stretching: ONLY for the RFC test vectors; never accepted for real records
  kArgon2id = 1,  // Argon2id v1.3, salt = 16 zero bytes, output Nh = 64 bytes (RFC 9807 sec. 4.3)
};

struct KsfParams {
  static constexpr size_t kSize = 1 + 4 + 4 + 4;
  KsfAlgorithm algorithm = KsfAlgorithm::kArgon2id;
  uint32_t memory_kib = 64 * 1024;  // Argon2 m
  uint32_t iterations = 3;          // Argon2 t
  uint32_t parallelism = 1;         // Argon2 p (lanes; >1 uses threads of libargon2)

  // The chatvault default for real users (64 MiB, t = 3, p = 1).
  static KsfParams Default() { return KsfParams{}; }
  static KsfParams IdentityForTests() { return KsfParams{KsfAlgorithm::kIdentity, 0, 0, 0}; }

  // algorithm(1) || memory_kib(4, BE) || iterations(4, BE) || parallelism(4, BE)
  Bytes Serialize() const;
  // Rejects unknown algorithms and Argon2 parameters outside sane bounds (m >= 8*p KiB,
  // m <= 4 GiB, 1 <= t <= 64, 1 <= p <= 16). Identity parses only so vectors can round-trip.
  static Result<KsfParams> Parse(ByteView in);
  Status Validate() const;
};

// Stretch(msg) of RFC 9807. Returns Nh = 64 bytes.
Result<crypto::Secret> Stretch(const KsfParams& params, ByteView msg);
// Argon2id of `msg` with a salt of the caller's (8 bytes or more), `length` bytes out: for a
// password that no OPRF made unique yet (the realms protocol stretches before it blinds).
Result<crypto::Secret> StretchSalted(const KsfParams& params, ByteView msg, ByteView salt,
                                     size_t length);

}  // namespace chatvault::opaque

#include "chatvault/opaque/ksf.h"

#include <argon2.h>

#include <array>
#include <string>

namespace chatvault::opaque {
namespace {
constexpr size_t kStretchedSize = 64;  // Nh
}  // namespace

Bytes KsfParams::Serialize() const {
  Bytes out;
  out.push_back(static_cast<uint8_t>(algorithm));
  AppendU32BE(out, memory_kib);
  AppendU32BE(out, iterations);
  AppendU32BE(out, parallelism);
  return out;
}

Result<KsfParams> KsfParams::Parse(ByteView in) {
  if (in.size() != kSize) return InvalidArgument("KSF parameters must be 13 bytes");
  KsfParams p;
  if (in[0] > static_cast<uint8_t>(KsfAlgorithm::kArgon2id)) {
    return Unsupported("unknown key stretching function " + std::to_string(in[0]));
  }
  p.algorithm = static_cast<KsfAlgorithm>(in[0]);
  p.memory_kib = ReadU32BE(in.data() + 1);
  p.iterations = ReadU32BE(in.data() + 5);
  p.parallelism = ReadU32BE(in.data() + 9);
  CV_RETURN_IF_ERROR(p.Validate());
  return p;
}

Status KsfParams::Validate() const {
  switch (algorithm) {
    case KsfAlgorithm::kIdentity:
      if (memory_kib != 0 || iterations != 0 || parallelism != 0) {
        return InvalidArgument("the identity KSF takes no parameters");
      }
      return OkStatus();
    case KsfAlgorithm::kArgon2id:
      if (parallelism < 1 || parallelism > 16) {
        return InvalidArgument("Argon2id parallelism must be between 1 and 16");
      }
      if (iterations < 1 || iterations > 64) {
        return InvalidArgument("Argon2id iterations must be between 1 and 64");
      }
      if (memory_kib < 8 * parallelism || memory_kib > (4u << 20)) {
        return InvalidArgument("Argon2id memory must be between 8 KiB per lane and 4 GiB");
      }
      return OkStatus();
  }
  return Unsupported("unknown key stretching function");
}

Result<crypto::Secret> Stretch(const KsfParams& params, ByteView msg) {
  // RFC 9807 section 4.3 fixes the salt to 16 zero bytes: the OPRF output is already unique per
  // user and server, so the KSF needs no salt of its own.
  static constexpr std::array<uint8_t, 16> kSalt{};
  return StretchSalted(params, msg, kSalt, kStretchedSize);
}

Result<crypto::Secret> StretchSalted(const KsfParams& params, ByteView msg, ByteView salt,
                                     size_t length) {
  CV_RETURN_IF_ERROR(params.Validate());
  if (params.algorithm == KsfAlgorithm::kIdentity) return crypto::Secret::FromBytes(msg);
  if (salt.size() < 8 || length < 4) return Internal("Argon2id needs a salt of 8+ bytes");
  crypto::Secret out(length);
  const int rc =
      argon2id_hash_raw(params.iterations, params.memory_kib, params.parallelism, msg.data(),
                        msg.size(), salt.data(), salt.size(), out.data(), out.size());
  if (rc != ARGON2_OK) {
    if (rc == ARGON2_MEMORY_ALLOCATION_ERROR) {
      return Unavailable("Argon2id could not allocate " + std::to_string(params.memory_kib) +
                         " KiB of memory");
    }
    return Internal(std::string("Argon2id failed: ") + argon2_error_message(rc));
  }
  return out;
}

}  // namespace chatvault::opaque

#include "opaque/group.h"

#include <sodium.h>

#include <algorithm>
#include <string>

#include "chatvault/crypto/expand_message_xmd.h"
#include "crypto/sodium_init.h"

namespace chatvault::opaque::internal {
namespace {

Bytes MakeContext(OprfMode mode) {
  Bytes c = ToBytes("OPRFV1-");
  c.push_back(static_cast<uint8_t>(mode));
  Append(c, AsBytes("-ristretto255-SHA512"));
  return c;
}

Bytes Dst(std::string_view prefix) { return ModeDst(prefix, OprfMode::kOprf); }

// libsodium's scalar arithmetic modulo the group order: each writes a 32-byte result and cannot
// fail. The result goes into secret memory, as scalars here are keys or key shares.
using ScalarOp = void (*)(unsigned char*, const unsigned char*, const unsigned char*);

crypto::Secret ApplyScalarOp(ScalarOp op, ByteView a, ByteView b) {
  crypto::EnsureSodium();
  crypto::Secret out(kScalarSize);
  op(out.data(), a.data(), b.data());
  return out;
}

}  // namespace

ByteView ContextString(OprfMode mode) {
  static const Bytes kOprfContext = MakeContext(OprfMode::kOprf);
  static const Bytes kVoprfContext = MakeContext(OprfMode::kVoprf);
  return mode == OprfMode::kOprf ? kOprfContext : kVoprfContext;
}

Bytes ModeDst(std::string_view prefix, OprfMode mode) {
  Bytes dst = ToBytes(prefix);
  Append(dst, ContextString(mode));
  return dst;
}

bool IsValidElement(ByteView encoded) {
  crypto::EnsureSodium();
  if (encoded.size() != crypto_core_ristretto255_BYTES) return false;
  // libsodium accepts the identity (all zeros) as a valid encoding; the protocol must not.
  if (sodium_is_zero(encoded.data(), encoded.size())) return false;
  // libsodium 1.0.18 ignores bit 255 when decoding, so 00..80 would be a second encoding of the
  // identity (found by the KE1 fuzzer). A canonical encoding is below p and so never has it set.
  if ((encoded[31] & 0x80) != 0) return false;
  return crypto_core_ristretto255_is_valid_point(encoded.data()) == 1;
}

Status CheckElementEncoding(ByteView encoded, std::string_view what) {
  if (encoded.size() != crypto_core_ristretto255_BYTES) {
    return InvalidArgument(std::string(what) + " must be 32 bytes");
  }
  if (sodium_is_zero(encoded.data(), encoded.size()) ||
      (sodium_is_zero(encoded.data(), 31) && encoded[31] == 0x80)) {
    return InvalidArgument(std::string(what) + " is the identity element");
  }
  if ((encoded[31] & 0x80) != 0) {
    return InvalidArgument(std::string(what) + " is not a canonical ristretto255 encoding");
  }
  return OkStatus();
}

Status CheckElement(ByteView encoded, std::string_view what) {
  CV_RETURN_IF_ERROR(CheckElementEncoding(encoded, what));
  if (!IsValidElement(encoded)) {
    return InvalidArgument(std::string(what) + " is not a canonical ristretto255 encoding");
  }
  return OkStatus();
}

Result<Element> HashToGroup(ByteView msg, OprfMode mode) {
  crypto::EnsureSodium();
  CV_ASSIGN_OR_RETURN(crypto::Secret uniform,
                      crypto::ExpandMessageXmdSha512(msg, ModeDst("HashToGroup-", mode), 64));
  Element out{};
  crypto_core_ristretto255_from_hash(out.data(), uniform.data());
  if (sodium_is_zero(out.data(), out.size())) {
    return InvalidArgument("the input hashes to the identity element");
  }
  return out;
}

Result<crypto::Secret> HashToScalar(ByteView msg, ByteView dst) {
  crypto::EnsureSodium();
  CV_ASSIGN_OR_RETURN(crypto::Secret uniform, crypto::ExpandMessageXmdSha512(msg, dst, 64));
  crypto::Secret scalar(kScalarSize);
  crypto_core_ristretto255_scalar_reduce(scalar.data(), uniform.data());
  return scalar;
}

Result<crypto::Secret> DeriveScalar(ByteView seed, ByteView info) {
  if (info.size() > 0xffff) return InvalidArgument("key derivation info is too long");
  Bytes input(seed.begin(), seed.end());
  AppendU16BE(input, static_cast<uint16_t>(info.size()));
  Append(input, info);
  input.push_back(0);  // counter
  const Bytes dst = Dst("DeriveKeyPair");
  for (int counter = 0; counter < 256; ++counter) {
    input.back() = static_cast<uint8_t>(counter);
    CV_ASSIGN_OR_RETURN(crypto::Secret sk, HashToScalar(input, dst));
    if (sodium_is_zero(sk.data(), sk.size())) continue;
    crypto::Wipe(input);
    return sk;
  }
  crypto::Wipe(input);
  return Internal("key derivation found no non-zero scalar in 256 tries");
}

Result<KeyPair> DeriveKeyPair(ByteView seed, ByteView info) {
  CV_ASSIGN_OR_RETURN(crypto::Secret sk, DeriveScalar(seed, info));
  CV_ASSIGN_OR_RETURN(Element pk, ScalarMultBase(sk.view()));
  return KeyPair{std::move(sk), pk};
}

Status ScalarMultInto(ByteView scalar, ByteView point, std::span<uint8_t> out) {
  crypto::EnsureSodium();
  if (scalar.size() != kScalarSize || out.size() != crypto_scalarmult_ristretto255_BYTES) {
    return Internal("scalar multiplication called with wrong sizes");
  }
  CV_RETURN_IF_ERROR(CheckElementEncoding(point, "group element"));
  // libsodium returns -1 both for an encoding that does not decode and for an identity result.
  if (crypto_scalarmult_ristretto255(out.data(), scalar.data(), point.data()) != 0) {
    crypto::Wipe(out);
    return InvalidArgument(
        "a group element is not a valid ristretto255 point, or multiplying it gave the identity");
  }
  return OkStatus();
}

Result<Element> ScalarMult(ByteView scalar, ByteView point) {
  Element out{};
  CV_RETURN_IF_ERROR(ScalarMultInto(scalar, point, out));
  return out;
}

Result<Element> ScalarMultBase(ByteView scalar) {
  crypto::EnsureSodium();
  if (scalar.size() != kScalarSize) return Internal("scalar must be 32 bytes");
  Element out{};
  if (crypto_scalarmult_ristretto255_base(out.data(), scalar.data()) != 0) {
    return InvalidArgument("the scalar is zero");
  }
  return out;
}

Result<crypto::Secret> ScalarInvert(ByteView scalar) {
  crypto::EnsureSodium();
  if (scalar.size() != kScalarSize) return Internal("scalar must be 32 bytes");
  crypto::Secret inv(kScalarSize);
  if (crypto_core_ristretto255_scalar_invert(inv.data(), scalar.data()) != 0) {
    return InvalidArgument("the scalar is zero and has no inverse");
  }
  return inv;
}

Result<Element> ElementAdd(const Element& a, const Element& b) {
  crypto::EnsureSodium();
  Element out{};
  if (crypto_core_ristretto255_add(out.data(), a.data(), b.data()) != 0) {
    return InvalidArgument("a group element is not a valid ristretto255 point");
  }
  if (sodium_is_zero(out.data(), out.size())) return InvalidArgument("a sum is the identity");
  return out;
}

crypto::Secret ScalarMul(ByteView a, ByteView b) {
  return ApplyScalarOp(crypto_core_ristretto255_scalar_mul, a, b);
}

crypto::Secret ScalarSub(ByteView a, ByteView b) {
  return ApplyScalarOp(crypto_core_ristretto255_scalar_sub, a, b);
}

crypto::Secret ScalarAdd(ByteView a, ByteView b) {
  return ApplyScalarOp(crypto_core_ristretto255_scalar_add, a, b);
}

bool IsCanonicalScalar(ByteView scalar) {
  crypto::EnsureSodium();
  if (scalar.size() != kScalarSize) return false;
  // libsodium 1.0.18 exposes no canonicity check for scalars: reduce a zero-extended copy and
  // compare.
  crypto::Secret wide(64);
  std::copy(scalar.begin(), scalar.end(), wide.data());
  crypto::Secret reduced(kScalarSize);
  crypto_core_ristretto255_scalar_reduce(reduced.data(), wide.data());
  return crypto::ConstantTimeEqual(reduced.view(), scalar);
}

crypto::Secret RandomScalar() {
  crypto::EnsureSodium();
  crypto::Secret s(kScalarSize);
  do {
    crypto_core_ristretto255_scalar_random(s.data());
  } while (sodium_is_zero(s.data(), s.size()));
  return s;
}

}  // namespace chatvault::opaque::internal

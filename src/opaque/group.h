// ristretto255 operations of the OPRF suite ristretto255-SHA512 (RFC 9497 section 4.1) on
// libsodium. Every scalar multiplication result is checked: libsodium reports an identity
// result, which we turn into an error rather than a silent all-zero key.
#pragma once

#include <array>
#include <string_view>

#include "chatvault/common/bytes.h"
#include "chatvault/common/status.h"
#include "chatvault/crypto/secret.h"
#include "chatvault/opaque/messages.h"

namespace chatvault::opaque::internal {

inline constexpr size_t kScalarSize = 32;

// RFC 9497's modes: OPAQUE uses the plain OPRF; the realms protocol (docs/REALMS.md) the
// verifiable one, whose evaluations come with a proof. The mode enters every domain separator.
enum class OprfMode : uint8_t { kOprf = 0, kVoprf = 1 };

// "OPRFV1-" || I2OSP(mode, 1) || "-ristretto255-SHA512"
ByteView ContextString(OprfMode mode = OprfMode::kOprf);
// prefix || ContextString(mode)
Bytes ModeDst(std::string_view prefix, OprfMode mode);

// True for a canonical encoding of a point other than the identity.
bool IsValidElement(ByteView encoded);
// Checks IsValidElement with a clear error naming `what`. Decoding costs a square root, so the
// parsers run it once; code that goes on to multiply the point uses CheckElementEncoding, as
// libsodium's scalar multiplication decodes (and rejects) the point itself.
Status CheckElement(ByteView encoded, std::string_view what);
// The cheap checks only: size, identity, bit 255 (which libsodium 1.0.18 ignores when decoding).
Status CheckElementEncoding(ByteView encoded, std::string_view what);

// HashToGroup / HashToScalar with DST = prefix || ContextString().
Result<Element> HashToGroup(ByteView msg, OprfMode mode = OprfMode::kOprf);
Result<crypto::Secret> HashToScalar(ByteView msg, ByteView dst);

// DeriveKeyPair(seed, info) of RFC 9497 section 3.2.1.
struct KeyPair {
  crypto::Secret private_key;  // 32-byte scalar
  Element public_key{};
};
Result<KeyPair> DeriveKeyPair(ByteView seed, ByteView info);
// Only the private half, for the server's per-user OPRF key whose public key nobody needs
// (saves a base-point multiplication per login).
Result<crypto::Secret> DeriveScalar(ByteView seed, ByteView info);

// q = scalar * point; kInvalidArgument if the point is invalid or the result is the identity.
Result<Element> ScalarMult(ByteView scalar, ByteView point);
// The same, writing into secret memory (DH shared secrets).
Status ScalarMultInto(ByteView scalar, ByteView point, std::span<uint8_t> out);
Result<Element> ScalarMultBase(ByteView scalar);
Result<crypto::Secret> ScalarInvert(ByteView scalar);
// a + b (identity results are errors, as for ScalarMult). Both must be valid points.
Result<Element> ElementAdd(const Element& a, const Element& b);
// Scalar arithmetic modulo the group order.
crypto::Secret ScalarMul(ByteView a, ByteView b);
crypto::Secret ScalarSub(ByteView a, ByteView b);
crypto::Secret ScalarAdd(ByteView a, ByteView b);
// True if the 32 bytes are a scalar already reduced modulo the group order.
bool IsCanonicalScalar(ByteView scalar);
// A uniformly random non-zero scalar.
crypto::Secret RandomScalar();

}  // namespace chatvault::opaque::internal

// The discrete-log-equality proof of RFC 9497 section 2.2 (suite ristretto255-SHA512): that the
// same scalar k takes A to B and every C[i] to D[i], without revealing k. A VOPRF server proves
// with it that it evaluated the client's elements with the key whose public key the client
// knows; the realms protocol (docs/REALMS.md) uses it so a realm's wrong answer is caught.
#pragma once

#include <array>
#include <span>

#include "chatvault/common/status.h"
#include "chatvault/crypto/secret.h"
#include "chatvault/opaque/messages.h"
#include "opaque/group.h"

namespace chatvault::opaque::internal {

inline constexpr size_t kProofSize = 2 * kScalarSize;  // c || s
using Proof = std::array<uint8_t, kProofSize>;

// The group's generator, serialized.
const Element& Generator();

// `r` is the prover's random scalar (a fresh one from RandomScalar(); tests pass the RFC's).
Result<Proof> GenerateProof(ByteView k, const Element& a, const Element& b,
                            std::span<const Element> c, std::span<const Element> d, ByteView r,
                            OprfMode mode);

// kPermissionDenied when the proof does not verify; kInvalidArgument for malformed elements.
Status VerifyProof(const Element& a, const Element& b, std::span<const Element> c,
                   std::span<const Element> d, const Proof& proof, OprfMode mode);

}  // namespace chatvault::opaque::internal

// The OPRF of RFC 9497 in mode 0 (modeOPRF), suite ristretto255-SHA512.
#pragma once

#include "chatvault/common/bytes.h"
#include "chatvault/common/status.h"
#include "chatvault/crypto/secret.h"
#include "chatvault/opaque/messages.h"

namespace chatvault::opaque::internal {

inline constexpr size_t kOprfOutputSize = 64;

// blinded = blind * HashToGroup(input). kInvalidArgument if the input maps to the identity.
Result<Element> OprfBlind(ByteView input, ByteView blind);
// evaluated = sk * blinded.
Result<Element> OprfBlindEvaluate(ByteView private_key, const Element& blinded);
// Hash(I2OSP(len(input),2) || input || I2OSP(32,2) || blind^-1 * evaluated || "Finalize").
Result<crypto::Secret> OprfFinalize(ByteView input, ByteView blind, const Element& evaluated);

}  // namespace chatvault::opaque::internal

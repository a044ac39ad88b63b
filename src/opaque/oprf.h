// The OPRF of RFC 9497, suite ristretto255-SHA512: mode 0 (modeOPRF) for OPAQUE, mode 1
// (modeVOPRF, with proofs in dleq.h) for the realms protocol. The modes differ only in the domain
// separation of HashToGroup; evaluation and Finalize are the same.
#pragma once

#include "chatvault/common/bytes.h"
#include "chatvault/common/status.h"
#include "chatvault/crypto/secret.h"
#include "chatvault/opaque/messages.h"
#include "opaque/group.h"

namespace chatvault::opaque::internal {

inline constexpr size_t kOprfOutputSize = 64;

// blinded = blind * HashToGroup(input). kInvalidArgument if the input maps to the identity.
Result<Element> OprfBlind(ByteView input, ByteView blind, OprfMode mode = OprfMode::kOprf);
// evaluated = sk * blinded.
Result<Element> OprfBlindEvaluate(ByteView private_key, const Element& blinded);
// Hash(I2OSP(len(input),2) || input || I2OSP(32,2) || blind^-1 * evaluated || "Finalize").
Result<crypto::Secret> OprfFinalize(ByteView input, ByteView blind, const Element& evaluated);

}  // namespace chatvault::opaque::internal

// expand_message_xmd of RFC 9380 (section 5.3.1) over SHA-512: the uniform byte string that the
// ristretto255 hash-to-group and hash-to-scalar operations of RFC 9497 / RFC 9807 reduce.
#pragma once

#include "chatvault/common/bytes.h"
#include "chatvault/common/status.h"
#include "chatvault/crypto/secret.h"

namespace chatvault::crypto {

// `len_in_bytes` must be 1..255*64 and msg no longer than the hash can take; a DST longer than
// 255 bytes is first hashed as the RFC requires. The output is a Secret because the message is
// often a password.
Result<Secret> ExpandMessageXmdSha512(ByteView msg, ByteView dst, size_t len_in_bytes);

}  // namespace chatvault::crypto

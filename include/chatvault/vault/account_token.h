// Account tokens: the chat service's proof that the caller owns an account, required to register,
// replace or delete a vault record. token = "<expiry unix seconds>.<hex HMAC-SHA256>" where the
// MAC covers a domain label, the account id and the expiry, under a secret that the chat service
// and keyvaultd share (--token-secret-file).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "chatvault/common/status.h"
#include "chatvault/crypto/secret.h"

namespace chatvault::vault {

// The secret must be at least 32 bytes.
Result<std::string> IssueAccountToken(const crypto::Secret& secret, std::string_view account,
                                      int64_t expiry_unix);

// kPermissionDenied (one sentence saying whether it is malformed, expired or forged) unless the
// token is valid for `account` at `now_unix`. The MAC is compared in constant time.
Status VerifyAccountToken(const crypto::Secret& secret, std::string_view account,
                          std::string_view token, int64_t now_unix);

// Reads a token secret file: raw bytes, at least 32 of them (tools/vault scripts write 64 hex
// digits, which count as their text). Trailing newlines are ignored.
Result<crypto::Secret> ReadTokenSecretFile(const std::string& path);

}  // namespace chatvault::vault

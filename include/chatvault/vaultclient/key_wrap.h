// How the client binds K to its OPAQUE login.
#pragma once

#include <string_view>

#include "chatvault/common/bytes.h"
#include "chatvault/common/status.h"
#include "chatvault/crypto/secret.h"
#include "chatvault/key/backup_key.h"

namespace chatvault::vaultclient {

// AES-256-GCM under HKDF(export_key, salt = account, "chatvault/v1/vault-key-wrap") with a fresh
// random nonce: nonce(12) || ciphertext(32) || tag(16).
Bytes WrapBackupKey(const crypto::Secret& export_key, std::string_view account,
                    const key::BackupKey& key);
// kCorrupted when the blob does not open (tampered, or another registration's export key).
Result<key::BackupKey> UnwrapBackupKey(const crypto::Secret& export_key, std::string_view account,
                                       ByteView wrapped);

}  // namespace chatvault::vaultclient

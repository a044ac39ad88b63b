// The vault protocol's shared definitions (docs/API.md, "Signed requests"): what a device signs
// to prove it holds the backup key K, so the vault (keyvaultd) and the device (vaultclient)
// build the very same bytes.
//
// The device key is an Ed25519 key pair derived from K and the account id; the vault stores only
// its public half. Every request that replaces or deletes a record is signed over a challenge the
// vault issued for the record's current store version and over a digest of the request's
// payload, so a signature is good for one request, against one state of one record.
#pragma once

#include <cstdint>
#include <string_view>

#include "chatvault/common/bytes.h"
#include "chatvault/crypto/signature.h"
#include "chatvault/key/backup_key.h"
#include "chatvault/opaque/ksf.h"
#include "chatvault/opaque/messages.h"

namespace chatvault::vaultproto {

enum class Action : uint8_t {
  kRegisterStart = 1,
  kRegisterFinish = 2,
  kDelete = 3,
  kRealmRegister = 4,  // payload: RealmShare::Serialize() || device key
  kRealmDelete = 5,    // payload empty
};

// seed = HKDF-SHA256(K, salt = account, info = "chatvault/v1/vault-device-key").
crypto::SigningKey DeviceKey(const key::BackupKey& key, std::string_view account);

// "chatvault/v1/vault-request" || action || u16 len(account) || account || u16 len(challenge) ||
// challenge || SHA-256(payload).
Bytes RequestMessage(Action action, std::string_view account, ByteView challenge,
                     ByteView payload);

// The payloads of the signed requests (docs/API.md gives their layout).
Bytes RegisterStartPayload(const opaque::RegistrationRequest& request);
Bytes RegisterFinishPayload(const opaque::RegistrationRecord& record, const opaque::KsfParams& ksf,
                            ByteView wrapped_key, const crypto::VerifyKey& device_key);

// What the device signs to tell a later device which backup it committed last:
// "chatvault/v1/backup-sequence" || u16 len(account) || account || u64 sequence.
Bytes BackupSequenceMessage(std::string_view account, uint64_t sequence);

}  // namespace chatvault::vaultproto

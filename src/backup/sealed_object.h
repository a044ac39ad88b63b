// What chunks, packs and page hash lists share: a keyed id, and storing or fetching an object
// sealed in a container whose purpose names the object, so an object stored under another's
// name (a swap, or an object of another backup) fails authentication.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "chatvault/common/bytes.h"
#include "chatvault/common/status.h"
#include "chatvault/crypto/secret.h"
#include "chatvault/format/container.h"
#include "chatvault/key/backup_key.h"
#include "chatvault/storage/provider.h"

namespace chatvault::backup {

// 64 hex digits: HMAC-SHA256(HKDF(K, `label`), plaintext). Keyed, so the provider cannot test
// whether a known plaintext is in a backup.
class KeyedId {
 public:
  KeyedId(const key::BackupKey& key, std::string_view label);
  std::string Of(ByteView plaintext) const;

 private:
  crypto::Secret id_key_;
};

// Encrypts `plaintext` and stores it as `name` unless that is already there. Returns the bytes
// uploaded, 0 when the object existed. `what` names the object in an upload error ("a chunk").
Result<uint64_t> StoreSealed(storage::Provider& provider, const key::BackupKey& key,
                             const std::string& name, const format::EncryptOptions& options,
                             ByteView plaintext, std::string_view what);

// Downloads `name` and decrypts it for `purpose`. A missing object is kCorrupted, another key is
// kWrongKey; other failures keep the decryptor's code and detail, prefixed by `what`
// ("pack 0123456789abcdef").
Result<Bytes> LoadSealed(storage::Provider& provider, const key::BackupKey& key,
                         const std::string& name, std::string_view purpose,
                         const std::string& what);

// kCorrupted unless `plaintext` has the size the manifest recorded for the object `what`.
Status CheckManifestSize(const Bytes& plaintext, uint64_t size, const std::string& what);

// The first 16 hex digits of an id, enough to name an object in a message.
inline std::string ShortId(const std::string& id) { return id.substr(0, 16); }

}  // namespace chatvault::backup

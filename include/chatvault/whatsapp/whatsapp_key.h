// The keys that open WhatsApp backups.
//
// crypt15 (end-to-end backups): a 32-byte root key, which is exactly the "64-digit key" WhatsApp
// shows (64 hex digits), also stored on the phone as encrypted_backup.key (a Java-serialized byte[32]).
// The file key is HKDF-SHA256(root, salt = 32 zero bytes, info = "backup encryption").
//
// crypt14 (older, server-provided): the phone's "key" file, a Java-serialized byte[131] whose last
// 32 bytes are the AES key itself.
#pragma once

#include <string>
#include <string_view>

#include "chatvault/common/bytes.h"
#include "chatvault/common/status.h"
#include "chatvault/crypto/secret.h"

namespace chatvault::whatsapp {

enum class KeyKind { kCrypt15, kCrypt14 };

inline constexpr size_t kRootKeySize = 32;
inline constexpr size_t kCrypt14KeyPayloadSize = 131;

// HKDF-SHA256 with a zero salt and `info` (no terminator), 32 bytes: WhatsApp's key derivation.
crypto::Secret DeriveFromRoot(const crypto::Secret& root, std::string_view info);

class WhatsAppKey {
 public:
  // A crypt15 root key from its 32 bytes.
  static Result<WhatsAppKey> FromRoot(ByteView root);
  // What the user typed after --key: 64 hex digits (spaces allowed), or the path of a key file:
  // encrypted_backup.key, a crypt14 "key" file, or a text file holding the 64 digits.
  static Result<WhatsAppKey> Load(std::string_view key_or_path);
  // A Java-serialized byte[] key file: 32 bytes is a crypt15 root, 131 bytes a crypt14 key.
  static Result<WhatsAppKey> FromKeyFile(ByteView file);

  KeyKind kind() const { return kind_; }
  // crypt15: the root key (the 64 digits). crypt14: the AES key (last 32 bytes of the payload).
  const crypto::Secret& root() const { return root_; }
  // crypt14 only: the 32-byte server salt that the backup header repeats.
  const Bytes& server_salt() const { return server_salt_; }

  // The AES-256-GCM key for backup files: HKDF "backup encryption" for crypt15, the key itself
  // for crypt14.
  crypto::Secret FileKey() const;

  // The key as encrypted_backup.key (crypt15) or key (crypt14): Java-serialized byte[].
  Bytes ToKeyFile() const;
  WhatsAppKey Clone() const;

  // A crypt14 key from its 131-byte payload (see docs/WHATSAPP.md for the layout).
  static Result<WhatsAppKey> FromCrypt14Payload(ByteView payload);

 private:
  WhatsAppKey() = default;
  KeyKind kind_ = KeyKind::kCrypt15;
  crypto::Secret root_;
  Bytes server_salt_;
  crypto::Secret payload_;  // crypt14: the whole 131 bytes, to write the key file back
};

// Java serialization of a byte[] (ObjectOutputStream of a byte array), the container of both key
// files. Strict: exactly one array object and nothing after it.
Result<crypto::Secret> ParseJavaByteArray(ByteView file);
Bytes SerializeJavaByteArray(ByteView payload);

}  // namespace chatvault::whatsapp

// The plaintext header of a WhatsApp .crypt14/.crypt15 backup: a protobuf varint length followed by a
// BackupPrefix protobuf message. The field numbers and the file layout are described in
// docs/WHATSAPP.md. The parser is a small hand-written protobuf reader with strict bounds, so that
// reading a hostile file cannot run past its buffer or allocate without limit.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "chatvault/common/bytes.h"
#include "chatvault/common/status.h"

namespace chatvault::whatsapp {

// Key_Type in the protobuf: who holds the key. 0 is the older server-provided key (crypt14), 1 the
// end-to-end key the user keeps (crypt15).
enum class KeyType : uint8_t { kWaProvided = 0, kHsmControlled = 1 };

inline constexpr size_t kIvSize = 16;
// Real headers are a few hundred bytes; anything beyond this is not a WhatsApp backup.
inline constexpr size_t kMaxHeaderSize = 64 * 1024;
// Feature flags of the msgstore schema live in BackupExpiry fields 5..39.
inline constexpr uint32_t kFirstFeatureField = 5;
inline constexpr uint32_t kLastFeatureField = 39;

// C14_cipher: the crypt14 key reference and IV.
struct C14Cipher {
  Bytes cipher_version;  // field 1
  Bytes key_version;     // field 2
  Bytes server_salt;     // field 3, 32 bytes: names the key file that opens this backup
  Bytes google_id;       // field 4
  Bytes iv;              // field 5, 16 bytes
};

// BackupExpiry: plaintext facts about the backup (app version, schema features).
struct BackupInfo {
  std::string app_version;           // field 1
  std::string jid_suffix;            // field 3: last two digits of the phone number
  std::optional<int32_t> backup_version;  // field 4
  std::map<uint32_t, bool> features;  // fields 5..39 that were written, with their values
};

struct BackupPrefix {
  KeyType key_type = KeyType::kHsmControlled;
  Bytes c15_iv;                     // crypt15: 16 bytes
  std::optional<C14Cipher> c14;     // crypt14
  std::optional<BackupInfo> info;
};

struct ParsedHeader {
  BackupPrefix prefix;
  // Offset of the ciphertext in the file: length prefix plus message.
  size_t body_offset = 0;
};

// Parses the header at the start of `head` (which may hold more of the file after it).
// kTruncated if `head` ends inside the header, kCorrupted if the protobuf is malformed, kUnsupported
// for an unknown key type, kCorrupted if the IV for the key type is missing or not 16 bytes.
Result<ParsedHeader> ParseHeader(ByteView head);

// Serializes `prefix` as the file writes it: varint length, then the message. Fields are written in
// field-number order; every present feature flag is written, including false ones.
Bytes SerializeHeader(const BackupPrefix& prefix);

}  // namespace chatvault::whatsapp

// The plaintext header of a WhatsApp .crypt14/.crypt15 backup: a protobuf varint length followed by a
// BackupPrefix protobuf message. The field numbers and the file layout are described in
// docs/WHATSAPP.md. The parser is a small hand-written protobuf reader with strict bounds, so that
// reading a hostile file cannot run past its buffer or allocate without limit.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "chatvault/common/bytes.h"
#include "chatvault/common/status.h"

namespace chatvault::whatsapp {

// Key_Type in the protobuf: who holds the key. 0 is the older server-provided key (crypt14), 1 the
// end-to-end key the user keeps (crypt15).
enum class KeyType : uint8_t { kWaProvided = 0, kHsmControlled = 1 };

// The generation of the file format. crypt14 and crypt15 share the protobuf header and differ in
// key type; crypt12 (before mid-2021) has a fixed binary header and a 4-byte trailer instead.
enum class BackupFormat : uint8_t { kCrypt12, kCrypt14, kCrypt15 };

inline constexpr size_t kIvSize = 16;
// Real headers are a few hundred bytes; anything beyond this is not a WhatsApp backup.
inline constexpr size_t kMaxHeaderSize = 64 * 1024;
// Other readers take the header's length as one unsigned byte, so a header chatvault writes is
// never longer (the 2-byte varint of 128..255 reads the same as that byte followed by 01).
inline constexpr size_t kMaxWrittenHeaderSize = 255;
// What encrypt lets a caller record: real app versions are like "2.24.24.78", JID suffixes are
// the last two digits of a phone number. With these bounds every header fits kMaxWrittenHeaderSize.
inline constexpr size_t kMaxAppVersionLength = 32;
inline constexpr size_t kJidSuffixLength = 2;
// crypt12: cipher version (00 01), key version (1), server salt (32), Google id (16), IV (16);
// after the MD5 at the end, 4 bytes naming the end of the phone number.
inline constexpr size_t kCrypt12HeaderSize = 67;
inline constexpr size_t kCrypt12TrailerSize = 4;
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
  BackupPrefix prefix;  // for crypt12, the fixed header's fields as crypt14 cipher data
  BackupFormat format = BackupFormat::kCrypt15;
  // Offset of the ciphertext in the file: length prefix (and 01 byte) plus message.
  size_t body_offset = 0;
  // Bytes at the very end that are neither ciphertext, tag nor MD5 (crypt12's phone digits).
  size_t trailer_size = 0;
};

// Parses the header at the start of `head` (which may hold more of the file after it). Accepts
// the protobuf varint length, a one-byte length followed by a 01 byte (a valid message never
// starts with 01: it would be field 0), and the fixed crypt12 header (starting 00 01).
// kTruncated if `head` ends inside the header, kCorrupted if the protobuf is malformed,
// kUnsupported for an unknown key type, kCorrupted if the IV for the key type is missing or not 16
// bytes.
Result<ParsedHeader> ParseHeader(ByteView head);

// kInvalidArgument unless `version` is 1..kMaxAppVersionLength characters of digits, letters,
// dots, dashes and underscores (what app versions look like).
Status CheckAppVersion(std::string_view version);
// kInvalidArgument unless `suffix` is exactly two ASCII digits.
Status CheckJidSuffix(std::string_view suffix);

// Serializes `prefix` as the file writes it: varint length, then the message. Fields are written in
// field-number order; every present feature flag is written, including false ones.
Bytes SerializeHeader(const BackupPrefix& prefix);

}  // namespace chatvault::whatsapp

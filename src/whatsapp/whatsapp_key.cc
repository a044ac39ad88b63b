#include "chatvault/whatsapp/whatsapp_key.h"

#include <filesystem>
#include <string>

#include "chatvault/common/file.h"
#include "chatvault/crypto/hkdf.h"
#include "chatvault/key/backup_key.h"

namespace chatvault::whatsapp {
namespace {

// ObjectOutputStream framing of a byte[]: stream magic and version, TC_ARRAY, the class
// descriptor of "[B" with its fixed serialVersionUID, no fields, no superclass.
constexpr uint8_t kJavaByteArrayPrefix[] = {
    0xac, 0xed, 0x00, 0x05,                          // magic, version 5
    0x75,                                            // TC_ARRAY
    0x72, 0x00, 0x02, 0x5b, 0x42,                    // TC_CLASSDESC "[B"
    0xac, 0xf3, 0x17, 0xf8, 0x06, 0x08, 0x54, 0xe0,  // serialVersionUID
    0x02, 0x00, 0x00,                                // SC_SERIALIZABLE, 0 fields
    0x78, 0x70,                                      // TC_ENDBLOCKDATA, TC_NULL
};
constexpr size_t kJavaPrefixSize = sizeof(kJavaByteArrayPrefix);

// Offsets inside the 131-byte crypt14 key payload.
constexpr size_t kC14SaltOffset = 3;
constexpr size_t kC14KeyOffset = 99;

constexpr size_t kMaxKeyFileSize = 4096;

}  // namespace

crypto::Secret DeriveFromRoot(const crypto::Secret& root, std::string_view info) {
  const uint8_t zero_salt[32] = {};
  return crypto::Hkdf(crypto::HashAlg::kSha256, root.view(), zero_salt, AsBytes(info), 32);
}

Result<crypto::Secret> ParseJavaByteArray(ByteView file) {
  if (file.size() < kJavaPrefixSize + 4 ||
      !std::equal(kJavaByteArrayPrefix, kJavaByteArrayPrefix + kJavaPrefixSize, file.begin())) {
    return InvalidArgument("the key file is not a Java-serialized byte array (encrypted_backup.key "
                           "or key)");
  }
  const uint32_t length = ReadU32BE(file.data() + kJavaPrefixSize);
  const size_t start = kJavaPrefixSize + 4;
  if (length != file.size() - start) {
    return InvalidArgument("the key file announces " + std::to_string(length) + " key bytes but holds " +
                           std::to_string(file.size() - start));
  }
  return crypto::Secret::FromBytes(file.subspan(start));
}

Bytes SerializeJavaByteArray(ByteView payload) {
  Bytes out(kJavaByteArrayPrefix, kJavaByteArrayPrefix + kJavaPrefixSize);
  AppendU32BE(out, static_cast<uint32_t>(payload.size()));
  Append(out, payload);
  return out;
}

Result<WhatsAppKey> WhatsAppKey::FromRoot(ByteView root) {
  if (root.size() != kRootKeySize) {
    return InvalidArgument("a crypt15 key is 32 bytes (64 hex digits), not " +
                           std::to_string(root.size()));
  }
  WhatsAppKey k;
  k.kind_ = KeyKind::kCrypt15;
  k.root_ = crypto::Secret::FromBytes(root);
  return k;
}

Result<WhatsAppKey> WhatsAppKey::FromCrypt14Payload(ByteView payload) {
  if (payload.size() != kCrypt14KeyPayloadSize) {
    return InvalidArgument("a crypt14 key is 131 bytes, not " + std::to_string(payload.size()));
  }
  WhatsAppKey k;
  k.kind_ = KeyKind::kCrypt14;
  k.root_ = crypto::Secret::FromBytes(payload.subspan(kC14KeyOffset, 32));
  k.server_salt_.assign(payload.begin() + kC14SaltOffset, payload.begin() + kC14SaltOffset + 32);
  k.payload_ = crypto::Secret::FromBytes(payload);
  return k;
}

Result<WhatsAppKey> WhatsAppKey::FromKeyFile(ByteView file) {
  CV_ASSIGN_OR_RETURN(crypto::Secret payload, ParseJavaByteArray(file));
  if (payload.size() == kRootKeySize) return FromRoot(payload.view());
  if (payload.size() == kCrypt14KeyPayloadSize) return FromCrypt14Payload(payload.view());
  return Unsupported("the key file holds a " + std::to_string(payload.size()) +
                     "-byte key; only 32 (crypt15) and 131 (crypt14) are known");
}

Result<WhatsAppKey> WhatsAppKey::Load(std::string_view key_or_path) {
  std::error_code ec;
  const std::filesystem::path path{std::string(key_or_path)};
  if (!key_or_path.empty() && std::filesystem::is_regular_file(path, ec)) {
    if (std::filesystem::file_size(path, ec) > kMaxKeyFileSize) {
      return InvalidArgument("the key file " + path.string() + " is too large to be a key");
    }
    auto read = ReadFileToBytes(path.string());
    if (!read.ok()) return IoError("cannot read the key file: " + read.status().message());
    Bytes data = std::move(read).value();
    Result<WhatsAppKey> key = InvalidArgument("");
    if (data.size() >= 2 && data[0] == 0xac && data[1] == 0xed) {
      key = FromKeyFile(data);
    } else {
      auto text = key::BackupKey::Parse(AsChars(data));
      key = text.ok() ? FromRoot(text->secret().view()) : Result<WhatsAppKey>(text.status());
    }
    crypto::Wipe(data);
    if (!key.ok()) return key.status().Annotate("key file " + path.string());
    return key;
  }
  auto text = key::BackupKey::Parse(key_or_path);
  if (!text.ok()) {
    return InvalidArgument("--key is neither 64 hex digits nor an existing key file (" +
                           text.status().message() + ")");
  }
  return FromRoot(text->secret().view());
}

crypto::Secret WhatsAppKey::FileKey() const {
  if (kind_ == KeyKind::kCrypt14) return root_.Clone();
  return DeriveFromRoot(root_, "backup encryption");
}

Bytes WhatsAppKey::ToKeyFile() const {
  return SerializeJavaByteArray(kind_ == KeyKind::kCrypt14 ? payload_.view() : root_.view());
}

WhatsAppKey WhatsAppKey::Clone() const {
  WhatsAppKey k;
  k.kind_ = kind_;
  k.root_ = root_.Clone();
  k.server_salt_ = server_salt_;
  k.payload_ = payload_.Clone();
  return k;
}

}  // namespace chatvault::whatsapp

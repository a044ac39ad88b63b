#include "backup/page_objects.h"

#include "backup/layout.h"
#include "chatvault/crypto/hash.h"
#include "chatvault/crypto/hkdf.h"
#include "chatvault/format/container.h"

namespace chatvault::backup {
namespace {

Result<uint64_t> Store(storage::Provider& provider, const key::BackupKey& key,
                       const std::string& name, const format::EncryptOptions& options,
                       ByteView plaintext) {
  CV_ASSIGN_OR_RETURN(Bytes sealed, format::EncryptBytes(key, options, plaintext));
  Status s = provider.PutIfAbsent(name, sealed);
  if (s.code() == Code::kAlreadyExists) return uint64_t{0};
  if (!s.ok()) return s.Annotate("uploading " + name + " to " + provider.Describe());
  return static_cast<uint64_t>(sealed.size());
}

// `what` names the object in messages: "pack 0123456789abcdef".
Result<Bytes> Load(storage::Provider& provider, const key::BackupKey& key, const std::string& name,
                   const std::string& purpose, const std::string& what) {
  auto sealed = provider.Get(name);
  if (!sealed.ok()) {
    if (sealed.status().code() == Code::kNotFound) {
      return Corrupted(what + " is missing from the backup");
    }
    return sealed.status();
  }
  auto plain = format::DecryptBytes(key, purpose, *sealed);
  if (!plain.ok()) {
    if (plain.status().code() == Code::kWrongKey) {
      return WrongKey("this backup was made with a different key");
    }
    return plain.status().Annotate(what);
  }
  return std::move(plain).value();
}

std::string Short(const std::string& id) { return id.substr(0, 16); }

}  // namespace

PageObjectCodec::PageObjectCodec(const key::BackupKey& key)
    : key_(key), pack_id_key_(crypto::DeriveSubkey(key.secret(), {}, "pack-id")) {}

std::string PageObjectCodec::PackIdOf(ByteView plaintext) const {
  return HexEncode(crypto::HmacSha256(pack_id_key_.view(), plaintext));
}

Result<uint64_t> PageObjectCodec::StorePack(storage::Provider& provider, const std::string& id,
                                            ByteView plaintext) const {
  format::EncryptOptions options;
  options.purpose = "pack-" + id;
  options.compression = format::Compression::kZstd;
  options.zstd_level = kPackZstdLevel;
  options.zstd_window_log = kZstdWindowLog;
  return Store(provider, key_, PackName(id), options, plaintext);
}

Result<uint64_t> PageObjectCodec::StorePageHashes(storage::Provider& provider,
                                                  const std::string& id, ByteView plaintext) const {
  format::EncryptOptions options;
  options.purpose = "pagehashes-" + id;
  options.compression = format::Compression::kNone;  // keyed hashes do not compress
  return Store(provider, key_, PageHashesName(id), options, plaintext);
}

Result<Bytes> PageObjectCodec::LoadPack(storage::Provider& provider, const std::string& id,
                                        uint64_t size) const {
  CV_ASSIGN_OR_RETURN(Bytes plain,
                      Load(provider, key_, PackName(id), "pack-" + id, "pack " + Short(id)));
  if (plain.size() != size) {
    return Corrupted("pack " + Short(id) + " has " + std::to_string(plain.size()) +
                     " bytes where the manifest says " + std::to_string(size));
  }
  return plain;
}

Result<Bytes> PageObjectCodec::LoadPageHashes(storage::Provider& provider,
                                              const std::string& id) const {
  return Load(provider, key_, PageHashesName(id), "pagehashes-" + id,
              "the page hashes of " + Short(id));
}

}  // namespace chatvault::backup

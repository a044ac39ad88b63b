#include "backup/page_objects.h"

#include "backup/layout.h"
#include "chatvault/format/container.h"

namespace chatvault::backup {

PageObjectCodec::PageObjectCodec(const key::BackupKey& key)
    : key_(key), pack_ids_(key, "pack-id") {}

std::string PageObjectCodec::PackIdOf(ByteView plaintext) const { return pack_ids_.Of(plaintext); }

Result<uint64_t> PageObjectCodec::StorePack(storage::Provider& provider, const std::string& id,
                                            ByteView plaintext) const {
  format::EncryptOptions options;
  options.purpose = "pack-" + id;
  options.compression = format::Compression::kZstd;
  options.zstd_level = kPackZstdLevel;
  options.zstd_window_log = kZstdWindowLog;
  const std::string name = PackName(id);
  return StoreSealed(provider, key_, name, options, plaintext, name);
}

Result<uint64_t> PageObjectCodec::StorePageHashes(storage::Provider& provider,
                                                  const std::string& id, ByteView plaintext) const {
  format::EncryptOptions options;
  options.purpose = "pagehashes-" + id;
  options.compression = format::Compression::kNone;  // keyed hashes do not compress
  const std::string name = PageHashesName(id);
  return StoreSealed(provider, key_, name, options, plaintext, name);
}

Result<Bytes> PageObjectCodec::LoadPack(storage::Provider& provider, const std::string& id,
                                        uint64_t size) const {
  const std::string what = "pack " + ShortId(id);
  CV_ASSIGN_OR_RETURN(Bytes plain, LoadSealed(provider, key_, PackName(id), "pack-" + id, what));
  CV_RETURN_IF_ERROR(CheckManifestSize(plain, size, what));
  return plain;
}

Result<Bytes> PageObjectCodec::LoadPageHashes(storage::Provider& provider,
                                              const std::string& id) const {
  return LoadSealed(provider, key_, PageHashesName(id), "pagehashes-" + id,
                    "the page hashes of " + ShortId(id));
}

}  // namespace chatvault::backup

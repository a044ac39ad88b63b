// Writing a .crypt15: varint length, BackupPrefix (fresh 16-byte IV), AES-256-GCM of the zlib-
// compressed database (level 1, as WhatsApp writes it) or of a ZIP as is, the tag, and for
// databases the MD5 of everything before it. Streams in fixed-size pieces.
#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <filesystem>

#include "chatvault/common/file.h"
#include "chatvault/crypto/random.h"
#include "chatvault/crypto/secret.h"
#include "chatvault/whatsapp/crypt15.h"
#include "whatsapp/gcm_stream.h"
#include "whatsapp/input_file.h"
#include "whatsapp/sqlite_check.h"

namespace chatvault::whatsapp {
namespace {

constexpr size_t kChunk = 1 << 20;
// The msgstore schema features WhatsApp writes into the header (fields 5..37 in current backups).
// A freshly written backup claims all of them; readers only display them.
constexpr uint32_t kLastWrittenFeature = 37;

// Encrypts and writes ciphertext, feeding the MD5 on the way.
class CipherWriter {
 public:
  CipherWriter(AtomicFile& out, GcmStream& gcm, Md5Stream& md5) : out_(out), gcm_(gcm), md5_(md5) {}
  Status Write(ByteView plain) {
    scratch_.resize(plain.size());
    gcm_.Update(plain, scratch_.data());
    md5_.Update(scratch_);
    return out_.Write(scratch_);
  }

 private:
  AtomicFile& out_;
  GcmStream& gcm_;
  Md5Stream& md5_;
  Bytes scratch_;
};

// Streams zlib-compressed input into a CipherWriter.
class Deflater {
 public:
  explicit Deflater(CipherWriter& sink) : sink_(sink), buffer_(256 * 1024) {
    // Level 1, the level WhatsApp uses (its streams start 78 01).
    if (deflateInit(&zs_, 1) != Z_OK) std::abort();
  }
  ~Deflater() { deflateEnd(&zs_); }
  Status Feed(ByteView data, bool finish) {
    zs_.next_in = const_cast<Bytef*>(data.data());
    zs_.avail_in = static_cast<uInt>(data.size());
    const int flush = finish ? Z_FINISH : Z_NO_FLUSH;
    for (;;) {
      zs_.next_out = buffer_.data();
      zs_.avail_out = static_cast<uInt>(buffer_.size());
      const int rc = deflate(&zs_, flush);
      if (rc == Z_STREAM_ERROR) return Internal("zlib compression failed");
      const size_t produced = buffer_.size() - zs_.avail_out;
      if (produced > 0) CV_RETURN_IF_ERROR(sink_.Write(ByteView(buffer_.data(), produced)));
      if (finish ? rc == Z_STREAM_END : (zs_.avail_in == 0 && zs_.avail_out != 0)) break;
    }
    return OkStatus();
  }

 private:
  CipherWriter& sink_;
  z_stream zs_{};
  Bytes buffer_;
};

Result<Payload> DetectInput(const InputFile& in, const std::string& path) {
  uint8_t magic[16] = {};
  if (in.size() < sizeof(magic)) {
    return InvalidArgument(path + " is too short to be a SQLite database or a ZIP archive");
  }
  CV_RETURN_IF_ERROR(in.ReadAt(0, magic, sizeof(magic)));
  if (std::memcmp(magic, kSqliteMagic, sizeof(magic)) == 0) return Payload::kSqlite;
  if (std::memcmp(magic, "PK\x03\x04", 4) == 0) return Payload::kZip;
  return InvalidArgument(path + " is neither a SQLite database nor a ZIP archive");
}

}  // namespace

Result<EncryptSummary> EncryptBackupFile(const std::string& in_path, const std::string& out_path,
                                         const WhatsAppKey& key, const EncryptOptions& options) {
  if (key.kind() != KeyKind::kCrypt15) {
    return InvalidArgument("only crypt15 backups can be written; give the 64-digit key or "
                           "encrypted_backup.key, not a crypt14 key file");
  }
  CV_RETURN_IF_ERROR(CheckAppVersion(options.app_version));
  CV_RETURN_IF_ERROR(CheckJidSuffix(options.jid_suffix));
  CV_ASSIGN_OR_RETURN(InputFile in, InputFile::Open(in_path));
  CV_ASSIGN_OR_RETURN(Payload payload, DetectInput(in, in_path));
  if (payload == Payload::kSqlite) {
    std::error_code ec;
    if (std::filesystem::file_size(in_path + "-wal", ec) > 0 && !ec) {
      return InvalidArgument(in_path + " has an unmerged write-ahead log (" + in_path +
                             "-wal); close the app using it or checkpoint it first, or the newest "
                             "messages would be missing");
    }
    CV_RETURN_IF_ERROR(CheckSqliteFile(in_path, in_path));
  }

  BackupPrefix prefix;
  prefix.key_type = KeyType::kHsmControlled;
  prefix.c15_iv = crypto::RandomBytes(kIvSize);
  BackupInfo info;
  info.app_version = options.app_version;
  info.jid_suffix = options.jid_suffix;
  info.backup_version = 0;
  if (payload == Payload::kSqlite) {
    for (uint32_t f = kFirstFeatureField; f <= kLastWrittenFeature; ++f) info.features[f] = true;
  }
  prefix.info = std::move(info);
  const Bytes header = SerializeHeader(prefix);
  // The checked inputs keep every header within the limit; this guards the constants above.
  const size_t message_size = header.size() - ((header[0] & 0x80) ? 2 : 1);
  if (message_size > kMaxWrittenHeaderSize) {
    return Internal("the backup header came out " + std::to_string(message_size) +
                    " bytes long, more than readers accept");
  }

  CV_ASSIGN_OR_RETURN(AtomicFile out, AtomicFile::Create(out_path));
  Md5Stream md5;
  md5.Update(header);
  CV_RETURN_IF_ERROR(out.Write(header));
  GcmStream gcm = [&] {
    crypto::Secret file_key = key.FileKey();
    return GcmStream::ForEncrypt(file_key.view(), prefix.c15_iv);
  }();
  CipherWriter writer(out, gcm, md5);
  Deflater deflater(writer);

  Bytes buffer(kChunk);
  uint64_t pos = 0;
  const uint64_t size = in.size();
  while (pos < size) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(kChunk, size - pos));
    CV_RETURN_IF_ERROR(in.ReadAt(pos, buffer.data(), n));
    const ByteView piece(buffer.data(), n);
    if (payload == Payload::kSqlite) {
      CV_RETURN_IF_ERROR(deflater.Feed(piece, false));
    } else {
      CV_RETURN_IF_ERROR(writer.Write(piece));
    }
    pos += n;
    if (options.progress) options.progress(pos, size);
  }
  if (payload == Payload::kSqlite) CV_RETURN_IF_ERROR(deflater.Feed({}, true));

  uint8_t tag[16];
  gcm.FinishEncrypt(tag);
  md5.Update(ByteView(tag, 16));
  CV_RETURN_IF_ERROR(out.Write(ByteView(tag, 16)));
  // Multi-file (ZIP) backups never carry the checksum; readers tell the two endings apart.
  if (payload == Payload::kSqlite && options.write_md5) CV_RETURN_IF_ERROR(out.Write(md5.Finish()));

  EncryptSummary summary;
  summary.payload = payload;
  summary.input_bytes = size;
  summary.output_bytes = out.bytes_written();
  CV_RETURN_IF_ERROR(out.Commit());
  return summary;
}

}  // namespace chatvault::whatsapp

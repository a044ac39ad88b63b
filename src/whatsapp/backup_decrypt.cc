// Decrypting a .crypt15/.crypt14 file in one streaming pass.
//
// The file ends either with tag || MD5 (databases) or with the tag alone (multi-file ZIP backups),
// and nothing in the header says which. So the last 32 bytes are held back, the GCM state is forked
// and both endings are tried; the MD5 of everything before the last 16 bytes is computed on the way.
// Together they tell apart a wrong key (MD5 intact, tag fails), a damaged checksum (tag passes, MD5
// fails), a cut-off file (tag fails, compressed stream unfinished) and other damage.
#include <algorithm>
#include <cstring>

#include "chatvault/common/file.h"
#include "chatvault/crypto/secret.h"
#include "chatvault/whatsapp/crypt15.h"
#include "whatsapp/gcm_stream.h"
#include "whatsapp/input_file.h"
#include "whatsapp/payload_sink.h"
#include "whatsapp/sqlite_check.h"

namespace chatvault::whatsapp {
namespace {

constexpr size_t kChunk = 1 << 20;
constexpr size_t kTail = 32;  // tag || MD5, or last ciphertext bytes || tag

Status CheckKeyMatchesBackup(const ParsedHeader& header, const WhatsAppKey& key) {
  const BackupPrefix& prefix = header.prefix;
  if (header.format == BackupFormat::kCrypt12 && key.kind() != KeyKind::kCrypt14) {
    return WrongKey(
        "this is a crypt12 backup, which opens with the phone's \"key\" file; the "
        "key given is a crypt15 key");
  }
  if (prefix.key_type == KeyType::kHsmControlled && key.kind() != KeyKind::kCrypt15) {
    return WrongKey("this is a crypt15 (end-to-end) backup, which opens with the 64-digit key or "
                    "encrypted_backup.key; the key given is a crypt14 key file");
  }
  if (prefix.key_type == KeyType::kWaProvided) {
    if (key.kind() != KeyKind::kCrypt14) {
      return WrongKey("this is a crypt14 backup, which opens with the phone's crypt14 \"key\" file; "
                      "the key given is a crypt15 key");
    }
    const Bytes& salt = prefix.c14->server_salt;
    if (!salt.empty() && salt != key.server_salt()) {
      return WrongKey("the crypt14 key file belongs to another backup (its server salt differs from "
                      "the one in the backup header)");
    }
  }
  return OkStatus();
}

}  // namespace

Result<DecryptSummary> DecryptBackupFile(const std::string& in_path, const std::string& out_path,
                                         const WhatsAppKey& key, const DecryptOptions& options) {
  CV_ASSIGN_OR_RETURN(InputFile in, InputFile::Open(in_path));
  const uint64_t file_size = in.size();

  Bytes head(static_cast<size_t>(std::min<uint64_t>(file_size, kMaxHeaderSize + 10)));
  CV_RETURN_IF_ERROR(in.ReadAt(0, head.data(), head.size()));
  if (head.empty()) return Truncated(in_path + " is empty");
  CV_ASSIGN_OR_RETURN(ParsedHeader header, ParseHeader(head));
  const BackupPrefix& prefix = header.prefix;
  CV_RETURN_IF_ERROR(CheckKeyMatchesBackup(header, key));
  if (file_size - header.body_offset < kTail + header.trailer_size) {
    return Truncated("the file ends right after its header, before any complete encrypted content");
  }
  // crypt12's trailing phone digits are outside the checksum; everything else ends as below.
  const uint64_t size = file_size - header.trailer_size;
  const Bytes& iv = prefix.key_type == KeyType::kHsmControlled ? prefix.c15_iv : prefix.c14->iv;
  GcmStream gcm = [&] {
    crypto::Secret file_key = key.FileKey();
    return GcmStream::ForDecrypt(file_key.view(), iv);
  }();
  Md5Stream md5;
  md5.Update(ByteView(head).first(header.body_offset));

  CV_ASSIGN_OR_RETURN(AtomicFile out, AtomicFile::Create(out_path));
  PayloadSink sink(out);

  // Decrypted bytes are unauthenticated until the end; they only ever reach the temporary file,
  // which is deleted unless everything checks out.
  Bytes buffer(kChunk);
  const uint64_t body_end = size - kTail;
  for (uint64_t pos = header.body_offset; pos < body_end;) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(kChunk, body_end - pos));
    CV_RETURN_IF_ERROR(in.ReadAt(pos, buffer.data(), n));
    ByteView piece(buffer.data(), n);
    md5.Update(piece);
    gcm.Update(piece, buffer.data());
    sink.Feed(piece);
    pos += n;
    if (options.progress) options.progress(pos, file_size);
  }
  crypto::Wipe(buffer);

  uint8_t tail[kTail];
  CV_RETURN_IF_ERROR(in.ReadAt(body_end, tail, kTail));
  const ByteView first16(tail, 16), last16(tail + 16, 16);
  md5.Update(first16);
  const Bytes digest = md5.Finish();
  const bool md5_ok = std::memcmp(digest.data(), last16.data(), 16) == 0;

  GcmStream without_md5 = gcm.Fork();
  uint8_t last_plain[16];
  without_md5.Update(first16, last_plain);
  const bool tag_ok_without_md5 = without_md5.FinishDecrypt(last16);
  const bool tag_ok_with_md5 = gcm.FinishDecrypt(first16);

  DecryptSummary summary;
  if (tag_ok_with_md5) {
    if (!md5_ok) {
      return Corrupted("the MD5 checksum at the end of the file does not match, although the "
                       "encrypted content authenticated: the checksum bytes were damaged");
    }
    summary.had_md5 = true;
  } else if (tag_ok_without_md5) {
    sink.Feed(ByteView(last_plain, 16));
  } else {
    crypto::Wipe(last_plain);
    if (md5_ok) {
      return WrongKey("the key does not open this backup: the file's MD5 checksum is intact, so the "
                      "file is undamaged and the key belongs to another backup");
    }
    if (sink.zlib_incomplete()) {
      return Truncated("the file ends early: its compressed content stops before its end (an "
                       "incomplete copy or download?)");
    }
    return Corrupted("the GCM authentication tag does not verify and the MD5 checksum does not "
                     "match: the file was damaged or modified (a backup without a checksum fails "
                     "this way with a wrong key too)");
  }
  crypto::Wipe(last_plain);
  Status finished = sink.Finish();
  if (!finished.ok()) return finished.Annotate("the backup authenticated, but");

  summary.key_type = prefix.key_type;
  summary.format = header.format;
  summary.payload = sink.payload();
  summary.input_bytes = file_size;
  summary.output_bytes = out.bytes_written();
  if (prefix.info) summary.app_version = prefix.info->app_version;
  if (summary.payload == Payload::kSqlite) {
    CV_RETURN_IF_ERROR(CheckSqliteFile(out.temp_path(), "the decrypted database"));
  }
  CV_RETURN_IF_ERROR(out.Commit());
  return summary;
}

}  // namespace chatvault::whatsapp

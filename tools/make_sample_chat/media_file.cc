#include "make_sample_chat/media_file.h"

#include <fcntl.h>
#include <sodium.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <system_error>

#include "chatvault/crypto/hash.h"
#include "make_sample_chat/chat_text.h"

namespace chatvault::sample {
namespace {

constexpr size_t kChunk = 1 << 20;

constexpr std::array<MediaKindInfo, 5> kInfo = {{
    {"WhatsApp Images", "IMG", ".jpg", "image/jpeg", 1},
    {"WhatsApp Video", "VID", ".mp4", "video/mp4", 3},
    {"WhatsApp Voice Notes", "PTT", ".opus", "audio/ogg; codecs=opus", 2},
    {"WhatsApp Documents", "DOC", ".pdf", "application/pdf", 9},
    {"WhatsApp Stickers", "STK", ".webp", "image/webp", 20},
}};

// The first bytes real files of each kind start with, so tools like `file` recognise them.
Bytes HeaderFor(MediaKind kind, uint64_t size) {
  auto bytes = [](std::string_view s) { return Bytes(s.begin(), s.end()); };
  switch (kind) {
    case MediaKind::kImage:
      return bytes(std::string_view("\xFF\xD8\xFF\xE0\x00\x10JFIF\x00\x01\x01\x00\x00\x48\x00\x48"
                                    "\x00\x00",
                                    20));
    case MediaKind::kVideo: {
      Bytes h = bytes(std::string_view("\x00\x00\x00\x20" "ftypisom\x00\x00\x02\x00"
                                       "isomiso2avc1mp41",
                                       32));
      // One mdat box holding the rest of the file.
      AppendU32BE(h, static_cast<uint32_t>(std::min<uint64_t>(size - 32, 0xFFFFFFFFu)));
      Append(h, AsBytes("mdat"));
      return h;
    }
    case MediaKind::kVoiceNote:
      return bytes(std::string_view("OggS\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00", 14));
    case MediaKind::kDocument:
      return bytes("%PDF-1.4\n% chat attachment\n1 0 obj\n<< /Type /Catalog >>\nstream\n");
    case MediaKind::kSticker: {
      Bytes h = bytes("RIFF");
      const auto riff = static_cast<uint32_t>(size - 8);
      for (int i = 0; i < 4; ++i) h.push_back(static_cast<uint8_t>(riff >> (8 * i)));
      Append(h, AsBytes("WEBPVP8 "));
      return h;
    }
  }
  return {};
}

Status WriteAll(int fd, const uint8_t* data, size_t len, const std::string& path) {
  while (len > 0) {
    const ssize_t n = ::write(fd, data, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return IoError("cannot write " + path + ": " + std::strerror(errno));
    }
    data += n;
    len -= static_cast<size_t>(n);
  }
  return OkStatus();
}

}  // namespace

const MediaKindInfo& InfoFor(MediaKind kind) { return kInfo[static_cast<size_t>(kind)]; }

MediaKind PickMediaKind(Rng& rng) {
  const double r = rng.Unit();
  if (r < 0.58) return MediaKind::kImage;
  if (r < 0.74) return MediaKind::kVideo;
  if (r < 0.90) return MediaKind::kVoiceNote;
  if (r < 0.96) return MediaKind::kDocument;
  return MediaKind::kSticker;
}

Result<Bytes> WriteMediaFile(const std::filesystem::path& path, MediaKind kind, uint64_t size,
                             uint64_t content_seed) {
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  if (ec) return IoError("cannot create " + path.parent_path().string() + ": " + ec.message());
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return IoError("cannot create " + path.string() + ": " + std::strerror(errno));

  // Codec output is indistinguishable from random bytes; ChaCha20 keyed by the seed gives that
  // at memory speed and reproducibly.
  std::array<uint8_t, crypto_stream_chacha20_ietf_KEYBYTES> key{};
  for (size_t i = 0; i < key.size(); i += 8) {
    const uint64_t word = MixSeed(content_seed, i);
    std::memcpy(key.data() + i, &word, 8);
  }
  Rng prose_rng(content_seed);
  crypto::Hasher hasher(crypto::HashAlg::kSha256);
  const Bytes header = HeaderFor(kind, size);
  Bytes buffer;
  buffer.reserve(kChunk);
  uint64_t written = 0;
  uint32_t chunk_index = 0;
  Status status;
  while (written < size && status.ok()) {
    const size_t len = static_cast<size_t>(std::min<uint64_t>(kChunk, size - written));
    buffer.resize(len);
    if (kind == MediaKind::kDocument) {
      std::string text;
      AppendProse(prose_rng, text, len);
      std::memcpy(buffer.data(), text.data(), len);
    } else {
      std::array<uint8_t, crypto_stream_chacha20_ietf_NONCEBYTES> nonce{};
      std::memcpy(nonce.data(), &chunk_index, sizeof chunk_index);
      crypto_stream_chacha20_ietf(buffer.data(), len, nonce.data(), key.data());
    }
    if (written == 0) {
      std::memcpy(buffer.data(), header.data(), std::min(header.size(), len));
    }
    if (kind == MediaKind::kImage && written + len == size && len >= 2) {
      buffer[len - 2] = 0xFF;  // JPEG end-of-image marker
      buffer[len - 1] = 0xD9;
    }
    hasher.Update(buffer);
    status = WriteAll(fd, buffer.data(), len, path.string());
    written += len;
    ++chunk_index;
  }
  if (::close(fd) != 0 && status.ok()) {
    status = IoError("cannot write " + path.string() + ": " + std::strerror(errno));
  }
  if (!status.ok()) return status;
  return hasher.Finish();
}

}  // namespace chatvault::sample

// Media files as a phone keeps them: photos, videos and voice notes are already compressed by
// their codecs, so their bytes look random after a plausible header; documents are plain prose
// and compress well. The content is a pure function of (kind, size, seed).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "chatvault/common/bytes.h"
#include "chatvault/common/status.h"
#include "make_sample_chat/rng.h"

namespace chatvault::sample {

enum class MediaKind { kImage, kVideo, kVoiceNote, kDocument, kSticker };

struct MediaKindInfo {
  std::string_view folder;     // under Media/, e.g. "WhatsApp Images"
  std::string_view prefix;     // file name prefix, e.g. "IMG"
  std::string_view extension;  // e.g. ".jpg"
  std::string_view mime_type;
  int message_type;            // the message.message_type value a messaging app uses
};

const MediaKindInfo& InfoFor(MediaKind kind);

// Mostly photos, then videos and voice notes, a few documents and stickers.
MediaKind PickMediaKind(Rng& rng);

// Writes the file (creating parent folders) and returns its SHA-256.
Result<Bytes> WriteMediaFile(const std::filesystem::path& path, MediaKind kind, uint64_t size,
                             uint64_t content_seed);

}  // namespace chatvault::sample

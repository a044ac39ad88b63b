#include "chatvault/whatsapp/backup_prefix.h"

#include <algorithm>
#include <string>

#include "whatsapp/protobuf_wire.h"

namespace chatvault::whatsapp {
namespace {

using wire::Reader;
using wire::WireType;

Status ParseC14(ByteView msg, C14Cipher& out) {
  Reader r(msg);
  while (!r.done()) {
    CV_ASSIGN_OR_RETURN(auto tag, r.ReadTag());
    if (tag.type != WireType::kLengthDelimited) {
      CV_RETURN_IF_ERROR(r.Skip(tag.type));
      continue;
    }
    CV_ASSIGN_OR_RETURN(ByteView v, r.ReadBytes());
    Bytes value(v.begin(), v.end());
    switch (tag.field) {
      case 1: out.cipher_version = std::move(value); break;
      case 2: out.key_version = std::move(value); break;
      case 3: out.server_salt = std::move(value); break;
      case 4: out.google_id = std::move(value); break;
      case 5: out.iv = std::move(value); break;
      default: break;
    }
  }
  return OkStatus();
}

Status ParseC15(ByteView msg, Bytes& iv) {
  Reader r(msg);
  while (!r.done()) {
    CV_ASSIGN_OR_RETURN(auto tag, r.ReadTag());
    if (tag.field == 1 && tag.type == WireType::kLengthDelimited) {
      CV_ASSIGN_OR_RETURN(ByteView v, r.ReadBytes());
      iv.assign(v.begin(), v.end());
    } else {
      CV_RETURN_IF_ERROR(r.Skip(tag.type));
    }
  }
  return OkStatus();
}

Status ParseInfo(ByteView msg, BackupInfo& info) {
  Reader r(msg);
  while (!r.done()) {
    CV_ASSIGN_OR_RETURN(auto tag, r.ReadTag());
    if ((tag.field == 1 || tag.field == 3) && tag.type == WireType::kLengthDelimited) {
      CV_ASSIGN_OR_RETURN(ByteView v, r.ReadBytes());
      (tag.field == 1 ? info.app_version : info.jid_suffix) = std::string(AsChars(v));
    } else if (tag.field == 4 && tag.type == WireType::kVarint) {
      CV_ASSIGN_OR_RETURN(uint64_t v, r.ReadVarint());
      info.backup_version = static_cast<int32_t>(static_cast<uint32_t>(v));
    } else if (tag.field >= kFirstFeatureField && tag.field <= kLastFeatureField &&
               tag.type == WireType::kVarint) {
      CV_ASSIGN_OR_RETURN(uint64_t v, r.ReadVarint());
      info.features[tag.field] = v != 0;
    } else {
      CV_RETURN_IF_ERROR(r.Skip(tag.type));
    }
  }
  return OkStatus();
}

Status ParsePrefix(ByteView msg, BackupPrefix& prefix) {
  Reader r(msg);
  std::optional<uint64_t> key_type;
  bool has_c15 = false;
  while (!r.done()) {
    CV_ASSIGN_OR_RETURN(auto tag, r.ReadTag());
    if (tag.field == 1 && tag.type == WireType::kVarint) {
      CV_ASSIGN_OR_RETURN(key_type, r.ReadVarint());
    } else if (tag.field == 2 && tag.type == WireType::kLengthDelimited) {
      CV_ASSIGN_OR_RETURN(ByteView v, r.ReadBytes());
      C14Cipher c14;
      CV_RETURN_IF_ERROR(ParseC14(v, c14));
      prefix.c14 = std::move(c14);
    } else if (tag.field == 3 && tag.type == WireType::kLengthDelimited) {
      CV_ASSIGN_OR_RETURN(ByteView v, r.ReadBytes());
      CV_RETURN_IF_ERROR(ParseC15(v, prefix.c15_iv));
      has_c15 = true;
    } else if (tag.field == 4 && tag.type == WireType::kLengthDelimited) {
      CV_ASSIGN_OR_RETURN(ByteView v, r.ReadBytes());
      BackupInfo info;
      CV_RETURN_IF_ERROR(ParseInfo(v, info));
      prefix.info = std::move(info);
    } else {
      CV_RETURN_IF_ERROR(r.Skip(tag.type));
    }
  }
  // An absent key type means the proto default (0), unless only crypt15 cipher data is there.
  if (!key_type.has_value()) key_type = has_c15 && !prefix.c14 ? 1 : 0;
  if (*key_type > 1) {
    return Unsupported("the backup header names key type " + std::to_string(*key_type) +
                       ", which this version does not know (only 0 = crypt14 and 1 = crypt15)");
  }
  prefix.key_type = static_cast<KeyType>(*key_type);
  if (prefix.key_type == KeyType::kHsmControlled) {
    if (!has_c15) return Corrupted("the crypt15 backup header has no IV");
    if (prefix.c15_iv.size() != kIvSize) {
      return Corrupted("the crypt15 backup header's IV is " + std::to_string(prefix.c15_iv.size()) +
                       " bytes instead of 16");
    }
  } else {
    if (!prefix.c14) return Corrupted("the crypt14 backup header has no cipher information");
    if (prefix.c14->iv.size() != kIvSize) {
      return Corrupted("the crypt14 backup header's IV is " + std::to_string(prefix.c14->iv.size()) +
                       " bytes instead of 16");
    }
  }
  return OkStatus();
}

}  // namespace

namespace {

// The fixed crypt12 header; its fields land where a crypt14 header keeps them.
Result<ParsedHeader> ParseCrypt12(ByteView head) {
  if (head.size() < kCrypt12HeaderSize) {
    return Truncated("the file ends inside the crypt12 backup header (" +
                     std::to_string(head.size()) + " of " + std::to_string(kCrypt12HeaderSize) +
                     " bytes)");
  }
  auto field = [&](size_t offset, size_t n) {
    return Bytes(head.begin() + static_cast<ptrdiff_t>(offset),
                 head.begin() + static_cast<ptrdiff_t>(offset + n));
  };
  ParsedHeader parsed;
  parsed.format = BackupFormat::kCrypt12;
  parsed.prefix.key_type = KeyType::kWaProvided;
  parsed.prefix.c14 =
      C14Cipher{field(0, 2), field(2, 1), field(3, 32), field(35, 16), field(51, kIvSize)};
  parsed.body_offset = kCrypt12HeaderSize;
  parsed.trailer_size = kCrypt12TrailerSize;
  return parsed;
}

// Where the protobuf message starts and how long it is.
struct MessageSpan {
  size_t offset = 0;
  uint64_t length = 0;
};

Result<MessageSpan> ReadMessageLength(ByteView head) {
  // A one-byte length followed by 01: what tools that read the 01 as a "feature table" flag
  // write even for short headers. As a varint-length file it would be a message starting with
  // field 0, which no valid header does, so the two readings never compete.
  if (head.size() >= 2 && head[0] < 0x80 && head[1] == 0x01) return MessageSpan{2, head[0]};
  Reader r(head);
  auto length = r.ReadVarint();
  if (!length.ok()) {
    if (length.status().code() == Code::kTruncated) {
      return Truncated("the file ends inside the backup header's length");
    }
    return Corrupted("the backup header's length is malformed: this is not a WhatsApp backup");
  }
  return MessageSpan{r.offset(), *length};
}

}  // namespace

Result<ParsedHeader> ParseHeader(ByteView head) {
  // No protobuf header is 0 bytes long; 00 01 is the cipher version a crypt12 file starts with.
  if (head.size() >= 2 && head[0] == 0x00 && head[1] == 0x01) return ParseCrypt12(head);
  CV_ASSIGN_OR_RETURN(MessageSpan span, ReadMessageLength(head));
  if (span.length == 0 || span.length > kMaxHeaderSize) {
    return Corrupted("the backup header claims " + std::to_string(span.length) +
                     " bytes, which no WhatsApp backup has: this is not a WhatsApp backup");
  }
  if (span.length > head.size() - span.offset) {
    return Truncated("the file ends inside the backup header (" + std::to_string(span.length) +
                     " bytes announced, " + std::to_string(head.size() - span.offset) +
                     " present)");
  }
  ParsedHeader parsed;
  ByteView msg = head.subspan(span.offset, static_cast<size_t>(span.length));
  Status s = ParsePrefix(msg, parsed.prefix);
  if (!s.ok()) {
    // Inside the announced length, running out of bytes means a malformed message, not truncation.
    if (s.code() == Code::kTruncated) return Corrupted("the backup header is malformed: " + s.message());
    return s;
  }
  parsed.format = parsed.prefix.key_type == KeyType::kHsmControlled ? BackupFormat::kCrypt15
                                                                    : BackupFormat::kCrypt14;
  parsed.body_offset = span.offset + static_cast<size_t>(span.length);
  return parsed;
}

Status CheckAppVersion(std::string_view version) {
  if (version.empty() || version.size() > kMaxAppVersionLength) {
    return InvalidArgument("the app version must be 1 to " + std::to_string(kMaxAppVersionLength) +
                           " characters (like 2.24.24.78), so that the header stays within the " +
                           std::to_string(kMaxWrittenHeaderSize) +
                           " bytes WhatsApp's readers accept; it is " +
                           std::to_string(version.size()));
  }
  for (char c : version) {
    const bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    c == '.' || c == '-' || c == '_';
    if (!ok) {
      return InvalidArgument(
          "the app version may only hold digits, letters, '.', '-' and '_' "
          "(like 2.24.24.78)");
    }
  }
  return OkStatus();
}

Status CheckJidSuffix(std::string_view suffix) {
  auto is_digit = [](char c) { return c >= '0' && c <= '9'; };
  const bool ok =
      suffix.size() == kJidSuffixLength && std::all_of(suffix.begin(), suffix.end(), is_digit);
  if (!ok) {
    return InvalidArgument(
        "the JID suffix must be the last two digits of the phone number, like "
        "07");
  }
  return OkStatus();
}

Bytes SerializeHeader(const BackupPrefix& prefix) {
  using wire::Writer;
  Writer msg;
  msg.Varint(1, static_cast<uint64_t>(prefix.key_type));
  if (prefix.c14) {
    Writer c14;
    c14.Bytes(1, prefix.c14->cipher_version);
    c14.Bytes(2, prefix.c14->key_version);
    c14.Bytes(3, prefix.c14->server_salt);
    c14.Bytes(4, prefix.c14->google_id);
    c14.Bytes(5, prefix.c14->iv);
    msg.Bytes(2, c14.data());
  }
  if (prefix.key_type == KeyType::kHsmControlled || !prefix.c15_iv.empty()) {
    Writer c15;
    c15.Bytes(1, prefix.c15_iv);
    msg.Bytes(3, c15.data());
  }
  if (prefix.info) {
    const BackupInfo& in = *prefix.info;
    Writer info;
    info.Bytes(1, AsBytes(in.app_version));
    info.Bytes(3, AsBytes(in.jid_suffix));
    if (in.backup_version) info.Varint(4, static_cast<uint32_t>(*in.backup_version));
    for (const auto& [field, on] : in.features) info.Varint(field, on ? 1 : 0);
    msg.Bytes(4, info.data());
  }
  Bytes out;
  wire::AppendVarint(out, msg.data().size());
  Append(out, msg.data());
  return out;
}

}  // namespace chatvault::whatsapp

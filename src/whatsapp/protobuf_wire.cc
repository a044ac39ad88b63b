#include "whatsapp/protobuf_wire.h"

#include <string>

namespace chatvault::whatsapp::wire {

Result<uint64_t> Reader::ReadVarint() {
  uint64_t value = 0;
  for (int i = 0; i < 10; ++i) {
    if (pos_ >= data_.size()) return Truncated("the data ends inside a varint");
    const uint8_t b = data_[pos_++];
    // The tenth byte may only carry the top bit of a 64-bit value.
    if (i == 9 && b > 1) return Corrupted("a varint overflows 64 bits");
    value |= static_cast<uint64_t>(b & 0x7f) << (7 * i);
    if ((b & 0x80) == 0) return value;
  }
  return Corrupted("a varint is longer than 10 bytes");
}

Result<Tag> Reader::ReadTag() {
  CV_ASSIGN_OR_RETURN(uint64_t key, ReadVarint());
  const uint64_t field = key >> 3;
  const uint8_t type = key & 7;
  if (field == 0 || field > 0x1fffffff) return Corrupted("a protobuf field number is out of range");
  if (type != 0 && type != 1 && type != 2 && type != 5) {
    return Corrupted("protobuf wire type " + std::to_string(type) + " is not allowed here");
  }
  return Tag{static_cast<uint32_t>(field), static_cast<WireType>(type)};
}

Result<ByteView> Reader::ReadBytes() {
  CV_ASSIGN_OR_RETURN(uint64_t len, ReadVarint());
  if (len > data_.size() - pos_) return Truncated("a protobuf field runs past the end of its message");
  ByteView v = data_.subspan(pos_, static_cast<size_t>(len));
  pos_ += static_cast<size_t>(len);
  return v;
}

Status Reader::Skip(WireType type) {
  size_t n = 0;
  switch (type) {
    case WireType::kVarint: return ReadVarint().status();
    case WireType::kLengthDelimited: return ReadBytes().status();
    case WireType::kFixed64: n = 8; break;
    case WireType::kFixed32: n = 4; break;
  }
  if (n > data_.size() - pos_) return Truncated("a protobuf field runs past the end of its message");
  pos_ += n;
  return OkStatus();
}

void AppendVarint(::chatvault::Bytes& out, uint64_t value) {
  while (value >= 0x80) {
    out.push_back(static_cast<uint8_t>(value | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<uint8_t>(value));
}

void Writer::Varint(uint32_t field, uint64_t value) {
  AppendVarint(out_, (static_cast<uint64_t>(field) << 3) | 0);
  AppendVarint(out_, value);
}

void Writer::Bytes(uint32_t field, ByteView value) {
  AppendVarint(out_, (static_cast<uint64_t>(field) << 3) | 2);
  AppendVarint(out_, value.size());
  Append(out_, value);
}

}  // namespace chatvault::whatsapp::wire

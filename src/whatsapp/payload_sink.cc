#include "whatsapp/payload_sink.h"

#include <cstring>

namespace chatvault::whatsapp {
namespace {

constexpr size_t kOutBuffer = 256 * 1024;
constexpr uint8_t kZipMagic[] = {'P', 'K', 0x03, 0x04};

}  // namespace

PayloadSink::PayloadSink(AtomicFile& out) : out_(out) {}

PayloadSink::~PayloadSink() {
  if (zs_open_) inflateEnd(&zs_);
}

void PayloadSink::Decide() {
  if (pending_.size() >= sizeof(kZipMagic) &&
      std::memcmp(pending_.data(), kZipMagic, sizeof(kZipMagic)) == 0) {
    kind_ = Kind::kZip;
    error_ = out_.Write(pending_);
  } else if (pending_.size() >= 2 && (pending_[0] & 0x0f) == 8 &&
             ((pending_[0] << 8) | pending_[1]) % 31 == 0) {
    // A zlib header: deflate method, and the 16-bit header is a multiple of 31 (RFC 1950).
    kind_ = Kind::kZlib;
    if (inflateInit(&zs_) != Z_OK) {
      error_ = Internal("zlib could not start");
      return;
    }
    zs_open_ = true;
    buffer_.resize(kOutBuffer);
    Bytes first = std::move(pending_);
    Inflate(first);
  } else {
    error_ = Corrupted("the decrypted content is neither a zlib-compressed database nor a ZIP");
  }
  pending_.clear();
}

void PayloadSink::Feed(ByteView plaintext) {
  if (!error_.ok() || plaintext.empty()) return;
  if (kind_ == Kind::kUndecided) {
    const size_t take = std::min(plaintext.size(), sizeof(kZipMagic) - pending_.size());
    pending_.insert(pending_.end(), plaintext.begin(), plaintext.begin() + take);
    plaintext = plaintext.subspan(take);
    if (pending_.size() < sizeof(kZipMagic)) return;
    Decide();
    if (!error_.ok()) return;
  }
  if (kind_ == Kind::kZip) {
    error_ = out_.Write(plaintext);
  } else {
    Inflate(plaintext);
  }
}

void PayloadSink::Inflate(ByteView data) {
  if (data.empty()) return;
  if (ended_) {
    error_ = Corrupted("the decrypted content has bytes after the end of its zlib stream");
    return;
  }
  zs_.next_in = const_cast<Bytef*>(data.data());
  zs_.avail_in = static_cast<uInt>(data.size());
  // Loop while input remains or the last call filled the buffer (more output may be pending).
  do {
    zs_.next_out = buffer_.data();
    zs_.avail_out = static_cast<uInt>(buffer_.size());
    const int rc = inflate(&zs_, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
      error_ = Corrupted("the decrypted content is not a valid zlib stream");
      return;
    }
    const size_t produced = buffer_.size() - zs_.avail_out;
    if (produced > 0) {
      error_ = out_.Write(ByteView(buffer_.data(), produced));
      if (!error_.ok()) return;
    }
    if (rc == Z_STREAM_END) ended_ = true;
    if (rc == Z_BUF_ERROR) break;  // no progress possible until more input arrives
  } while (!ended_ && (zs_.avail_in > 0 || zs_.avail_out == 0));
  if (ended_ && zs_.avail_in > 0) {
    error_ = Corrupted("the decrypted content has bytes after the end of its zlib stream");
  }
}

Status PayloadSink::Finish() {
  if (error_.ok() && kind_ == Kind::kUndecided) Decide();
  if (!error_.ok()) return error_;
  if (kind_ == Kind::kZlib && !ended_) {
    return Corrupted("the authenticated content ends before its zlib stream does");
  }
  return OkStatus();
}

}  // namespace chatvault::whatsapp

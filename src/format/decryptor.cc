// Decryptor: parses and authenticates the header, then opens STREAM segments one at a time,
// releasing each segment's plaintext only after its tag verifies. On a failure it spends a few
// extra trial decryptions to say what went wrong (docs/FORMAT.md, "How a reader tells the
// failures apart").
#include <zstd.h>

#include <algorithm>
#include <cstring>
#include <optional>

#include "chatvault/crypto/aes_gcm.h"
#include "chatvault/crypto/secret.h"
#include "chatvault/format/container.h"
#include "format/header.h"
#include "format/segment_buffer.h"
#include "format/stream_latch.h"

namespace chatvault::format {
namespace internal {
namespace {

constexpr int kMaxZstdWindowLog = 23;

struct DCtxDeleter {
  void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
};

std::string Index(uint64_t i) { return std::to_string(i); }

class ContainerDecryptor : public Decryptor {
 public:
  ContainerDecryptor(const key::BackupKey& key, std::string_view expected_purpose, Sink* out)
      : key_(key.Clone()), expected_purpose_(expected_purpose), out_(out) {
    header_.reserve(HeaderSize(kMaxPurposeSize));
  }

  Status Write(ByteView data) override {
    return latch_.Write([&] { return WriteImpl(data); });
  }

  Status Finish() override {
    return latch_.Finish([&] { return FinishImpl(); });
  }

 private:
  // ---- header ----

  size_t HeaderBytesNeeded() const {
    if (header_.size() <= kPurposeLenOffset) return kPurposeLenOffset + 1;
    return HeaderSize(header_[kPurposeLenOffset]);
  }

  // Checks what can be checked as soon as the fixed prefix is in.
  Status CheckPrefix() const {
    if (std::memcmp(header_.data(), kMagic, sizeof(kMagic)) != 0) {
      return Corrupted(
          "this is not a chatvault container (its first bytes are not the format's magic)");
    }
    if (header_[kVersionOffset] != kVersion) {
      return Unsupported("container version " + std::to_string(header_[kVersionOffset]) +
                         " is not supported by this build (it reads version 1)");
    }
    const size_t purpose_size = header_[kPurposeLenOffset];
    if (purpose_size == 0 || purpose_size > kMaxPurposeSize) {
      return Corrupted("the container header was modified (impossible purpose length " +
                       std::to_string(purpose_size) + ")");
    }
    return OkStatus();
  }

  Status ParseHeader() {
    const size_t purpose_size = header_[kPurposeLenOffset];
    const ByteView h(header_);
    const ByteView fingerprint = h.subspan(kFingerprintOffset, kFingerprintSize);
    const ByteView salt = h.subspan(kSaltOffset, kSaltSize);
    const std::string_view purpose = AsChars(h.subspan(kPurposeOffset, purpose_size));
    const ByteView mac = h.subspan(kPurposeOffset + purpose_size, kHeaderMacSize);
    const ByteView signed_part = h.first(kPurposeOffset + purpose_size);

    ContainerKeys keys = DeriveContainerKeys(key_.secret(), salt, purpose);
    const Bytes& own = key_.Fingerprint();
    if (!std::equal(fingerprint.begin(), fingerprint.end(), own.begin(), own.end())) {
      // Either another key, or damage to exactly these bytes: the MAC (keyed by K) decides.
      Bytes repaired(signed_part.begin(), signed_part.end());
      std::copy(own.begin(), own.end(), repaired.begin() + kFingerprintOffset);
      if (crypto::ConstantTimeEqual(HeaderMac(keys.mac_key, repaired), mac)) {
        return Corrupted(
            "the container header was modified (its key fingerprint field is damaged)");
      }
      return WrongKey("this data was encrypted with a different backup key (key fingerprint " +
                      HexEncode(fingerprint.first(4)) + "…, this key's is " +
                      HexEncode(ByteView(own).first(4)) + "…)");
    }
    if (!crypto::ConstantTimeEqual(HeaderMac(keys.mac_key, signed_part), mac)) {
      return Corrupted("the container header was modified (header authentication failed)");
    }
    if (purpose != expected_purpose_) {
      return Corrupted("this container holds a \"" + std::string(purpose) + "\", expected a \"" +
                       expected_purpose_ + "\" (objects were swapped)")
          .WithDetail(Detail::kWrongPurpose);
    }
    const uint8_t flags = header_[kFlagsOffset];
    if ((flags & ~kFlagZstd) != 0) {
      return Unsupported("the container uses features this build does not know (flags " +
                         HexEncode(ByteView(&flags, 1)) + ")");
    }
    const int segment_log = header_[kSegmentLogOffset];
    if (segment_log < kMinSegmentLog || segment_log > kMaxSegmentLog) {
      return Unsupported("the container's segment size 2^" + std::to_string(segment_log) +
                         " is outside what this build supports");
    }
    CV_ASSIGN_OR_RETURN(crypto::AesGcm256 aead, crypto::AesGcm256::Create(keys.aead_key.view()));
    aead_.emplace(std::move(aead));
    segment_size_ = size_t{1} << segment_log;
    unit_size_ = segment_size_ + kTagSize;
    sealed_ = SegmentBuffer(unit_size_, unit_size_);
    plain_.resize(segment_size_);
    if (flags & kFlagZstd) {
      dctx_.reset(ZSTD_createDCtx());
      if (!dctx_) return Internal("out of memory creating a zstd decompressor");
      const size_t rc = ZSTD_DCtx_setParameter(dctx_.get(), ZSTD_d_windowLogMax, kMaxZstdWindowLog);
      if (ZSTD_isError(rc)) return Internal("zstd refused its window limit");
      zout_.resize(ZSTD_DStreamOutSize());
    }
    return OkStatus();
  }

  // ---- segments ----

  Status WriteImpl(ByteView data) {
    while (!aead_ && !data.empty()) {
      const size_t need = HeaderBytesNeeded() - header_.size();
      const size_t take = std::min(need, data.size());
      Append(header_, data.first(take));
      data = data.subspan(take);
      if (header_.size() > kPurposeLenOffset && header_.size() == kPurposeLenOffset + 1) {
        CV_RETURN_IF_ERROR(CheckPrefix());
      }
      if (header_.size() > kPurposeLenOffset && header_.size() == HeaderBytesNeeded()) {
        CV_RETURN_IF_ERROR(ParseHeader());
      }
    }
    return sealed_.Add(data, [this](ByteView unit) { return OpenAndDeliver(unit, false); });
  }

  Status FinishImpl() {
    if (!aead_) {
      if (header_.empty()) return Truncated("the container is empty (not even a header)");
      if (header_.size() > kPurposeLenOffset) CV_RETURN_IF_ERROR(CheckPrefix());
      const size_t n = std::min(header_.size(), sizeof(kMagic));
      if (std::memcmp(header_.data(), kMagic, n) != 0) {
        return Corrupted(
            "this is not a chatvault container (its first bytes are not the format's magic)");
      }
      return Truncated("the data ends inside the container header (" +
                       std::to_string(header_.size()) + " bytes)");
    }
    CV_RETURN_IF_ERROR(OpenAndDeliver(sealed_.held(), true));
    if (dctx_ && !frame_done_) {
      return Corrupted("the compressed payload ends before its zstd frame does");
    }
    return OkStatus();
  }

  bool OpensAs(ByteView unit, uint64_t index, bool last) {
    if (unit.size() < kTagSize || unit.size() > unit_size_ || index >= kMaxSegments) return false;
    uint8_t nonce[kNonceSize];
    SegmentNonce(index, last, nonce);
    const size_t n = unit.size() - kTagSize;
    return aead_
        ->Open(ByteView(nonce, kNonceSize), header_, unit.first(n), unit.subspan(n), plain_.data())
        .ok();
  }

  Status OpenAndDeliver(ByteView unit, bool last) {
    if (index_ >= kMaxSegments) {
      return Corrupted("the container goes on past the limit of 2^32 segments");
    }
    if (!OpensAs(unit, index_, last)) return last ? DiagnoseFinal(unit) : DiagnoseNonFinal(unit);
    const size_t n = unit.size() - kTagSize;
    if (last && n == 0 && index_ > 0) {
      return Corrupted("the container ends with an empty final segment, which no writer produces");
    }
    ++index_;
    return Deliver(ByteView(plain_.data(), n));
  }

  Status Deliver(ByteView plain) {
    if (!dctx_) return out_->Write(plain);
    if (frame_done_ && !plain.empty()) {
      return Corrupted("data follows the end of the compressed payload");
    }
    ZSTD_inBuffer in{plain.data(), plain.size(), 0};
    for (;;) {
      ZSTD_outBuffer o{zout_.data(), zout_.size(), 0};
      const size_t rc = ZSTD_decompressStream(dctx_.get(), &o, &in);
      if (ZSTD_isError(rc)) {
        return Corrupted(std::string("the compressed payload is invalid: ") +
                         ZSTD_getErrorName(rc));
      }
      if (o.pos > 0) CV_RETURN_IF_ERROR(out_->Write(ByteView(zout_.data(), o.pos)));
      if (rc == 0) {
        frame_done_ = true;
        if (in.pos < in.size) return Corrupted("data follows the end of the compressed payload");
        return OkStatus();
      }
      if (in.pos == in.size && o.pos < o.size) return OkStatus();
    }
  }

  // ---- diagnosis (error path only) ----

  // Looks for the segment's bytes authenticating under a nearby index.
  std::optional<Status> OutOfPlace(ByteView unit) {
    const uint64_t i = index_;
    for (uint64_t d = 1; d <= kReorderWindow; ++d) {
      for (bool last : {false, true}) {
        if (OpensAs(unit, i + d, last)) {
          return Corrupted("segment " + Index(i) + " is out of place: position " + Index(i) +
                           " holds segment " + Index(i + d) +
                           " (segments were dropped or reordered)");
        }
        if (d <= i && OpensAs(unit, i - d, last)) {
          return Corrupted("segment " + Index(i) + " is out of place: position " + Index(i) +
                           " holds a copy of segment " + Index(i - d) +
                           " (segments were duplicated or reordered)");
        }
      }
    }
    return std::nullopt;
  }

  // Another container glued on after this one: its magic inside the segment marks the cut.
  std::optional<Status> ContainerAppended(ByteView unit) {
    const uint8_t* begin = unit.data();
    const uint8_t* end = unit.data() + unit.size();
    for (const uint8_t* p = begin + kTagSize; p + sizeof(kMagic) <= end; ++p) {
      p = std::search(p, end, std::begin(kMagic), std::end(kMagic));
      if (p == end) break;
      const size_t cut = static_cast<size_t>(p - begin);
      if (OpensAs(unit.first(cut), index_, true)) {
        return Corrupted("another container follows the final segment (" + Index(index_) +
                         "): the data has trailing bytes");
      }
    }
    return std::nullopt;
  }

  Status DiagnoseNonFinal(ByteView unit) {
    if (OpensAs(unit, index_, true)) {
      return Corrupted("data follows the final segment (" + Index(index_) +
                       "): the container has trailing bytes");
    }
    if (auto s = OutOfPlace(unit)) return *s;
    if (auto s = ContainerAppended(unit)) return *s;
    // A short final segment followed by trailing data long enough to spill past this unit.
    for (size_t t = 1; t <= kTrailingProbe && t + kTagSize <= unit.size(); ++t) {
      if (OpensAs(unit.first(unit.size() - t), index_, true)) {
        return Corrupted("trailing data follows the final segment (" + Index(index_) + ")");
      }
    }
    return Corrupted("segment " + Index(index_) + " was modified (it failed authentication)");
  }

  Status DiagnoseFinal(ByteView unit) {
    if (unit.size() < kTagSize) {
      return Truncated("the data ends inside segment " + Index(index_) +
                       " (the container was cut short)");
    }
    if (OpensAs(unit, index_, false)) {
      return Truncated("the final segment is missing: the data ends after segment " +
                       Index(index_) + " (the container was cut short)");
    }
    if (auto s = OutOfPlace(unit)) return *s;
    if (auto s = ContainerAppended(unit)) return *s;
    const size_t probe = std::min(kTrailingProbe, unit.size() - kTagSize);
    for (size_t d = 1; d <= probe; ++d) {
      if (OpensAs(unit.first(unit.size() - d), index_, true)) {
        return Corrupted(std::to_string(d) + " bytes of trailing data follow the final segment (" +
                         Index(index_) + ")");
      }
    }
    return Corrupted("the last segment (" + Index(index_) +
                     ") failed authentication: it was modified, or the data was cut off inside it");
  }

  key::BackupKey key_;
  std::string expected_purpose_;
  Sink* out_;
  Bytes header_;
  std::optional<crypto::AesGcm256> aead_;
  size_t segment_size_ = 0;
  size_t unit_size_ = 0;
  SegmentBuffer sealed_;  // one sealed segment (ciphertext || tag), kept intact for diagnosis
  Bytes plain_;  // the opened segment; written only by a successful Open
  uint64_t index_ = 0;
  std::unique_ptr<ZSTD_DCtx, DCtxDeleter> dctx_;
  Bytes zout_;
  bool frame_done_ = false;
  StreamLatch latch_{"decryptor"};
};

}  // namespace
}  // namespace internal

Result<std::unique_ptr<Decryptor>> Decryptor::Create(const key::BackupKey& key,
                                                     std::string_view expected_purpose, Sink* out) {
  if (out == nullptr) return InvalidArgument("the decryptor needs an output sink");
  CV_RETURN_IF_ERROR(internal::ValidatePurpose(expected_purpose));
  return std::unique_ptr<Decryptor>(
      std::make_unique<internal::ContainerDecryptor>(key, expected_purpose, out));
}

Result<Bytes> DecryptBytes(const key::BackupKey& key, std::string_view expected_purpose,
                           ByteView ciphertext) {
  Bytes out;
  out.reserve(ciphertext.size());
  BytesSink sink(&out);
  CV_ASSIGN_OR_RETURN(auto dec, Decryptor::Create(key, expected_purpose, &sink));
  CV_RETURN_IF_ERROR(dec->Write(ciphertext));
  CV_RETURN_IF_ERROR(dec->Finish());
  return out;
}

}  // namespace chatvault::format

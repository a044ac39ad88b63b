// Encryptor: header, optional zstd (decided up front or from a trial on the first segment's
// worth of data), then STREAM segments through SegmentSealer.
#include <zstd.h>

#include <algorithm>
#include <optional>

#include "chatvault/crypto/random.h"
#include "chatvault/format/container.h"
#include "format/container_internal.h"
#include "format/header.h"
#include "format/segment_sealer.h"
#include "format/stream_latch.h"

namespace chatvault::format {
namespace internal {
namespace {

constexpr int kMinZstdLevel = 1;
constexpr int kMaxZstdLevel = 19;  // higher levels want windows above what readers accept

struct CCtxDeleter {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};

Status ZstdError(size_t rc) {
  return Internal(std::string("zstd compression failed: ") + ZSTD_getErrorName(rc));
}

// True if `sample` shrinks below 15/16 of its size at `level`.
bool Compresses(ByteView sample, int level) {
  if (sample.empty()) return false;
  Bytes scratch(ZSTD_compressBound(sample.size()));
  const size_t n =
      ZSTD_compress(scratch.data(), scratch.size(), sample.data(), sample.size(), level);
  if (ZSTD_isError(n)) return false;
  return n * 16 < sample.size() * 15;
}

class ContainerEncryptor : public Encryptor {
 public:
  ContainerEncryptor(const key::BackupKey& key, const EncryptOptions& options,
                     const EncryptorInternals& internals, Bytes salt, Sink* out)
      : options_(options), segment_size_(size_t{1} << internals.segment_log), out_(out) {
    ContainerKeys keys = DeriveContainerKeys(key.secret(), salt, options.purpose);
    mac_key_ = std::move(keys.mac_key);
    aead_key_ = std::move(keys.aead_key);
    segment_log_ = internals.segment_log;
    fingerprint_ = key.Fingerprint();
    salt_ = std::move(salt);
  }

  Status Start() {
    switch (options_.compression) {
      case Compression::kNone:
        return Begin(false);
      case Compression::kZstd:
        return Begin(true);
      case Compression::kAuto:
        trial_.reserve(segment_size_);
        return OkStatus();
    }
    return Internal("unknown compression mode");
  }

  Status Write(ByteView plaintext) override {
    return latch_.Write([&] { return WriteImpl(plaintext); });
  }

  Status Finish() override {
    return latch_.Finish([&] { return FinishImpl(); });
  }

 private:
  // Emits the header and sets up the payload path.
  Status Begin(bool compress) {
    CV_ASSIGN_OR_RETURN(crypto::AesGcm256 aead, crypto::AesGcm256::Create(aead_key_.view()));
    aead_key_ = crypto::Secret();
    Bytes header = BuildHeader(compress ? kFlagZstd : 0, segment_log_, fingerprint_, salt_,
                               options_.purpose, mac_key_);
    mac_key_ = crypto::Secret();
    CV_RETURN_IF_ERROR(out_->Write(header));
    sealer_.emplace(std::move(aead), std::move(header), segment_size_, out_);
    if (compress) {
      cctx_.reset(ZSTD_createCCtx());
      if (!cctx_) return Internal("out of memory creating a zstd compressor");
      size_t rc = ZSTD_CCtx_setParameter(cctx_.get(), ZSTD_c_compressionLevel, options_.zstd_level);
      if (ZSTD_isError(rc)) return ZstdError(rc);
      if (options_.zstd_window_log != 0) {
        rc = ZSTD_CCtx_setParameter(cctx_.get(), ZSTD_c_windowLog, options_.zstd_window_log);
        if (ZSTD_isError(rc)) return ZstdError(rc);
      }
      zbuf_.resize(ZSTD_CStreamOutSize());
    }
    return OkStatus();
  }

  Status WriteImpl(ByteView plaintext) {
    if (!sealer_) {
      // kAuto: gather one segment's worth to decide whether zstd pays off.
      const size_t take = std::min(segment_size_ - trial_.size(), plaintext.size());
      Append(trial_, plaintext.first(take));
      plaintext = plaintext.subspan(take);
      if (trial_.size() < segment_size_) return OkStatus();
      CV_RETURN_IF_ERROR(DecideAndFlushTrial());
    }
    return Payload(plaintext);
  }

  Status FinishImpl() {
    if (!sealer_) CV_RETURN_IF_ERROR(DecideAndFlushTrial());
    if (cctx_) CV_RETURN_IF_ERROR(Compress({}, ZSTD_e_end));
    return sealer_->Finish();
  }

  Status DecideAndFlushTrial() {
    CV_RETURN_IF_ERROR(Begin(Compresses(trial_, options_.zstd_level)));
    Bytes trial = std::move(trial_);
    return Payload(trial);
  }

  Status Payload(ByteView plaintext) {
    if (plaintext.empty()) return OkStatus();
    if (cctx_) return Compress(plaintext, ZSTD_e_continue);
    return sealer_->Add(plaintext);
  }

  Status Compress(ByteView plaintext, ZSTD_EndDirective mode) {
    ZSTD_inBuffer in{plaintext.data(), plaintext.size(), 0};
    for (;;) {
      ZSTD_outBuffer out{zbuf_.data(), zbuf_.size(), 0};
      const size_t rc = ZSTD_compressStream2(cctx_.get(), &out, &in, mode);
      if (ZSTD_isError(rc)) return ZstdError(rc);
      CV_RETURN_IF_ERROR(sealer_->Add(ByteView(zbuf_.data(), out.pos)));
      const bool done = mode == ZSTD_e_end ? rc == 0 : in.pos == in.size;
      if (done) return OkStatus();
    }
  }

  EncryptOptions options_;
  size_t segment_size_;
  int segment_log_ = kDefaultSegmentLog;
  Sink* out_;
  crypto::Secret aead_key_;
  crypto::Secret mac_key_;
  Bytes fingerprint_;
  Bytes salt_;
  Bytes trial_;
  std::optional<SegmentSealer> sealer_;
  std::unique_ptr<ZSTD_CCtx, CCtxDeleter> cctx_;
  Bytes zbuf_;
  StreamLatch latch_{"encryptor"};
};

}  // namespace

Result<std::unique_ptr<Encryptor>> CreateEncryptor(const key::BackupKey& key,
                                                   const EncryptOptions& options,
                                                   const EncryptorInternals& internals, Sink* out) {
  if (out == nullptr) return InvalidArgument("the encryptor needs an output sink");
  CV_RETURN_IF_ERROR(ValidatePurpose(options.purpose));
  if (internals.segment_log < kMinSegmentLog || internals.segment_log > kMaxSegmentLog) {
    return InvalidArgument("segment size must be between 2^10 and 2^24 bytes");
  }
  if (options.compression != Compression::kNone &&
      (options.zstd_level < kMinZstdLevel || options.zstd_level > kMaxZstdLevel)) {
    return InvalidArgument("zstd level must be between 1 and 19");
  }
  // Readers refuse windows above 2^23 (docs/FORMAT.md); zstd's own minimum is 2^10.
  if (options.zstd_window_log != 0 &&
      (options.zstd_window_log < 10 || options.zstd_window_log > 23)) {
    return InvalidArgument("the zstd window must be between 2^10 and 2^23 bytes");
  }
  Bytes salt;
  if (internals.salt) {
    if (internals.salt->size() != kSaltSize) return InvalidArgument("a test salt must be 32 bytes");
    salt = *internals.salt;
  } else {
    salt = crypto::RandomBytes(kSaltSize);
  }
  auto enc = std::make_unique<ContainerEncryptor>(key, options, internals, std::move(salt), out);
  CV_RETURN_IF_ERROR(enc->Start());
  return std::unique_ptr<Encryptor>(std::move(enc));
}

Result<Bytes> EncryptBytesWith(const key::BackupKey& key, const EncryptOptions& options,
                               const EncryptorInternals& internals, ByteView plaintext) {
  Bytes out;
  // Uncompressed output is the plaintext plus a header and one tag per segment.
  const size_t segments = plaintext.size() / (size_t{1} << internals.segment_log) + 1;
  out.reserve(plaintext.size() + HeaderSize(options.purpose.size()) + segments * kTagSize);
  BytesSink sink(&out);
  CV_ASSIGN_OR_RETURN(auto enc, CreateEncryptor(key, options, internals, &sink));
  CV_RETURN_IF_ERROR(enc->Write(plaintext));
  CV_RETURN_IF_ERROR(enc->Finish());
  return out;
}

}  // namespace internal

Result<std::unique_ptr<Encryptor>> Encryptor::Create(const key::BackupKey& key,
                                                     const EncryptOptions& options, Sink* out) {
  return internal::CreateEncryptor(key, options, internal::EncryptorInternals{}, out);
}

Result<Bytes> EncryptBytes(const key::BackupKey& key, const EncryptOptions& options,
                           ByteView plaintext) {
  return internal::EncryptBytesWith(key, options, internal::EncryptorInternals{}, plaintext);
}

}  // namespace chatvault::format

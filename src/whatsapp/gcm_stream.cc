#include "whatsapp/gcm_stream.h"

#include <openssl/evp.h>

#include <algorithm>
#include <climits>
#include <cstdlib>

namespace chatvault::whatsapp {
namespace {

void Check(int rc) {
  // EVP fails here only on allocation failure or misuse; neither is recoverable.
  if (rc != 1) std::abort();
}

EVP_CIPHER_CTX* NewGcm(ByteView key, ByteView iv, int encrypt) {
  if (key.size() != 32 || iv.empty()) std::abort();
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  if (ctx == nullptr) std::abort();
  Check(EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), nullptr, nullptr, nullptr, encrypt));
  // A 16-byte IV is allowed by GCM: it is GHASHed into the initial counter block.
  Check(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(iv.size()), nullptr));
  Check(EVP_CipherInit_ex(ctx, nullptr, nullptr, key.data(), iv.data(), encrypt));
  return ctx;
}

}  // namespace

struct GcmStream::State {
  EVP_CIPHER_CTX* ctx = nullptr;
  ~State() { EVP_CIPHER_CTX_free(ctx); }
};

GcmStream::~GcmStream() = default;
GcmStream::GcmStream(GcmStream&&) noexcept = default;
GcmStream& GcmStream::operator=(GcmStream&&) noexcept = default;

GcmStream GcmStream::ForEncrypt(ByteView key, ByteView iv) { return Start(key, iv, 1); }

GcmStream GcmStream::ForDecrypt(ByteView key, ByteView iv) { return Start(key, iv, 0); }

GcmStream GcmStream::Start(ByteView key, ByteView iv, int encrypt) {
  GcmStream s;
  s.state_ = std::make_unique<State>();
  s.state_->ctx = NewGcm(key, iv, encrypt);
  return s;
}

void GcmStream::Update(ByteView in, uint8_t* out) {
  constexpr size_t kMax = 1u << 30;  // EVP takes int lengths
  for (size_t off = 0; off < in.size(); off += kMax) {
    const size_t n = std::min(kMax, in.size() - off);
    int len = 0;
    Check(EVP_CipherUpdate(state_->ctx, out + off, &len, in.data() + off, static_cast<int>(n)));
  }
}

GcmStream GcmStream::Fork() const {
  GcmStream s;
  s.state_ = std::make_unique<State>();
  s.state_->ctx = EVP_CIPHER_CTX_new();
  if (s.state_->ctx == nullptr) std::abort();
  Check(EVP_CIPHER_CTX_copy(s.state_->ctx, state_->ctx));
  return s;
}

void GcmStream::FinishEncrypt(uint8_t tag[16]) {
  int len = 0;
  uint8_t none[16];
  Check(EVP_CipherFinal_ex(state_->ctx, none, &len));
  Check(EVP_CIPHER_CTX_ctrl(state_->ctx, EVP_CTRL_GCM_GET_TAG, 16, tag));
}

bool GcmStream::FinishDecrypt(ByteView tag) {
  if (tag.size() != 16) return false;
  Check(EVP_CIPHER_CTX_ctrl(state_->ctx, EVP_CTRL_GCM_SET_TAG, 16, const_cast<uint8_t*>(tag.data())));
  int len = 0;
  uint8_t none[16];
  // OpenSSL compares the tag in constant time (CRYPTO_memcmp).
  return EVP_CipherFinal_ex(state_->ctx, none, &len) == 1;
}

struct Md5Stream::State {
  EVP_MD_CTX* ctx = nullptr;
  ~State() { EVP_MD_CTX_free(ctx); }
};

Md5Stream::Md5Stream() : state_(std::make_unique<State>()) {
  state_->ctx = EVP_MD_CTX_new();
  if (state_->ctx == nullptr) std::abort();
  // MD5 is only WhatsApp's accidental-damage checksum here; the GCM tag is what authenticates.
  Check(EVP_DigestInit_ex(state_->ctx, EVP_md5(), nullptr));
}
Md5Stream::~Md5Stream() = default;
Md5Stream::Md5Stream(Md5Stream&&) noexcept = default;

void Md5Stream::Update(ByteView data) {
  Check(EVP_DigestUpdate(state_->ctx, data.data(), data.size()));
}

Bytes Md5Stream::Finish() {
  Bytes out(16);
  unsigned int len = 0;
  Check(EVP_DigestFinal_ex(state_->ctx, out.data(), &len));
  return out;
}

}  // namespace chatvault::whatsapp

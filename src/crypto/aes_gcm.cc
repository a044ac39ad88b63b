#include "chatvault/crypto/aes_gcm.h"

#include <openssl/evp.h>

#include <climits>
#include <cstdlib>

namespace chatvault::crypto {

struct AesGcm256::State {
  EVP_CIPHER_CTX* enc = EVP_CIPHER_CTX_new();
  EVP_CIPHER_CTX* dec = EVP_CIPHER_CTX_new();
  ~State() {
    EVP_CIPHER_CTX_free(enc);  // frees and cleanses the key schedule
    EVP_CIPHER_CTX_free(dec);
  }
};

namespace {

const EVP_CIPHER* Cipher() {
  static EVP_CIPHER* cipher = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  if (cipher == nullptr) std::abort();
  return cipher;
}

void Check(int rc) {
  // OpenSSL fails here only on allocation failure or misuse; neither is recoverable.
  if (rc != 1) std::abort();
}

// EVP takes int lengths; feed large buffers in pieces.
template <typename Fn>
void Chunked(ByteView in, uint8_t* out, Fn&& fn) {
  constexpr size_t kMax = 1u << 30;
  for (size_t off = 0; off < in.size(); off += kMax) {
    const size_t n = std::min(kMax, in.size() - off);
    fn(in.data() + off, out + off, static_cast<int>(n));
  }
}

// What GCM does alike when sealing and opening: set the nonce, take in the AAD, then turn `in`
// into `out`. EVP_CipherUpdate is EVP_EncryptUpdate or EVP_DecryptUpdate as `encrypt` says.
void CryptPayload(EVP_CIPHER_CTX* ctx, int encrypt, ByteView nonce, ByteView aad, ByteView in,
                  uint8_t* out) {
  Check(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(nonce.size()), nullptr));
  Check(EVP_CipherInit_ex(ctx, nullptr, nullptr, nullptr, nonce.data(), encrypt));
  int len = 0;
  if (!aad.empty()) {
    Check(EVP_CipherUpdate(ctx, nullptr, &len, aad.data(), static_cast<int>(aad.size())));
  }
  Chunked(in, out, [&](const uint8_t* piece, uint8_t* o, int n) {
    Check(EVP_CipherUpdate(ctx, o, &len, piece, n));
  });
}

}  // namespace

AesGcm256::AesGcm256() : state_(std::make_unique<State>()) {}
AesGcm256::~AesGcm256() = default;
AesGcm256::AesGcm256(AesGcm256&&) noexcept = default;
AesGcm256& AesGcm256::operator=(AesGcm256&&) noexcept = default;

Result<AesGcm256> AesGcm256::Create(ByteView key) {
  if (key.size() != kKeySize) return InvalidArgument("AES-256-GCM needs a 32-byte key");
  AesGcm256 aead;
  if (aead.state_->enc == nullptr || aead.state_->dec == nullptr) std::abort();
  Check(EVP_CipherInit_ex(aead.state_->enc, Cipher(), nullptr, key.data(), nullptr, 1));
  Check(EVP_CipherInit_ex(aead.state_->dec, Cipher(), nullptr, key.data(), nullptr, 0));
  return aead;
}

void AesGcm256::Seal(ByteView nonce, ByteView aad, ByteView plaintext, uint8_t* out,
                     uint8_t* tag) const {
  EVP_CIPHER_CTX* ctx = state_->enc;
  CryptPayload(ctx, /*encrypt=*/1, nonce, aad, plaintext, out);
  int len = 0;
  Check(EVP_EncryptFinal_ex(ctx, out + plaintext.size(), &len));
  Check(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, kTagSize, tag));
}

Status AesGcm256::Open(ByteView nonce, ByteView aad, ByteView ciphertext, ByteView tag,
                       uint8_t* out) const {
  if (tag.size() != kTagSize) return Corrupted("authentication tag has the wrong length");
  EVP_CIPHER_CTX* ctx = state_->dec;
  CryptPayload(ctx, /*encrypt=*/0, nonce, aad, ciphertext, out);
  Check(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, kTagSize, const_cast<uint8_t*>(tag.data())));
  int len = 0;
  if (EVP_DecryptFinal_ex(ctx, out + ciphertext.size(), &len) != 1) {
    Wipe(std::span<uint8_t>(out, ciphertext.size()));
    return Corrupted("authentication failed");
  }
  return OkStatus();
}

Bytes AesGcm256::SealToBytes(ByteView nonce, ByteView aad, ByteView plaintext) const {
  Bytes out(plaintext.size() + kTagSize);
  Seal(nonce, aad, plaintext, out.data(), out.data() + plaintext.size());
  return out;
}

Result<Bytes> AesGcm256::OpenFromBytes(ByteView nonce, ByteView aad,
                                       ByteView ciphertext_and_tag) const {
  if (ciphertext_and_tag.size() < kTagSize) return Truncated("ciphertext shorter than its tag");
  const size_t n = ciphertext_and_tag.size() - kTagSize;
  Bytes out(n);
  CV_RETURN_IF_ERROR(Open(nonce, aad, ciphertext_and_tag.first(n), ciphertext_and_tag.subspan(n), out.data()));
  return out;
}

}  // namespace chatvault::crypto

#include "chatvault/crypto/hash.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <cstdlib>

namespace chatvault::crypto {
namespace {

const EVP_MD* Md(HashAlg alg) {
  // Fetched once: implicit fetches on every call cost more than hashing a short message.
  static EVP_MD* sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  static EVP_MD* sha512 = EVP_MD_fetch(nullptr, "SHA512", nullptr);
  const EVP_MD* md = alg == HashAlg::kSha256 ? sha256 : sha512;
  if (md == nullptr) std::abort();
  return md;
}

EVP_MAC* HmacAlgorithm() {
  static EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  if (mac == nullptr) std::abort();
  return mac;
}

const char* DigestName(HashAlg alg) { return alg == HashAlg::kSha256 ? "SHA256" : "SHA512"; }

}  // namespace

struct Hasher::State {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  ~State() { EVP_MD_CTX_free(ctx); }
};

Hasher::Hasher(HashAlg alg) : state_(std::make_unique<State>()), alg_(alg) {
  if (state_->ctx == nullptr || EVP_DigestInit_ex2(state_->ctx, Md(alg), nullptr) != 1) std::abort();
}
Hasher::~Hasher() = default;
Hasher::Hasher(Hasher&&) noexcept = default;
Hasher& Hasher::operator=(Hasher&&) noexcept = default;

void Hasher::Update(ByteView data) {
  if (EVP_DigestUpdate(state_->ctx, data.data(), data.size()) != 1) std::abort();
}

Bytes Hasher::Finish() {
  Bytes out(DigestSize(alg_));
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(state_->ctx, out.data(), &len) != 1) std::abort();
  return out;
}

Bytes Hash(HashAlg alg, ByteView data) {
  Bytes out(DigestSize(alg));
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &len, Md(alg), nullptr) != 1) std::abort();
  return out;
}
Bytes Sha256(ByteView data) { return Hash(HashAlg::kSha256, data); }
Bytes Sha512(ByteView data) { return Hash(HashAlg::kSha512, data); }

struct HmacStream::State {
  EVP_MAC_CTX* ctx = EVP_MAC_CTX_new(HmacAlgorithm());
  size_t size = 0;
  ~State() { EVP_MAC_CTX_free(ctx); }
};

HmacStream::HmacStream(HashAlg alg, ByteView key) : state_(std::make_unique<State>()) {
  state_->size = DigestSize(alg);
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>(DigestName(alg)), 0),
      OSSL_PARAM_construct_end()};
  // OpenSSL rejects a NULL key pointer even for an empty key.
  static const uint8_t kEmpty[1] = {0};
  const uint8_t* key_ptr = key.empty() ? kEmpty : key.data();
  if (state_->ctx == nullptr || EVP_MAC_init(state_->ctx, key_ptr, key.size(), params) != 1) std::abort();
}
HmacStream::~HmacStream() = default;
HmacStream::HmacStream(HmacStream&&) noexcept = default;
HmacStream& HmacStream::operator=(HmacStream&&) noexcept = default;

void HmacStream::Update(ByteView data) {
  if (EVP_MAC_update(state_->ctx, data.data(), data.size()) != 1) std::abort();
}

Bytes HmacStream::Finish() {
  Bytes out(state_->size);
  FinishInto(out);
  return out;
}

void HmacStream::FinishInto(std::span<uint8_t> out) {
  size_t len = 0;
  if (out.size() != state_->size || EVP_MAC_final(state_->ctx, out.data(), &len, out.size()) != 1) {
    std::abort();
  }
}

Bytes Hmac(HashAlg alg, ByteView key, ByteView data) {
  HmacStream mac(alg, key);
  mac.Update(data);
  return mac.Finish();
}
Bytes HmacSha256(ByteView key, ByteView data) { return Hmac(HashAlg::kSha256, key, data); }
Bytes HmacSha512(ByteView key, ByteView data) { return Hmac(HashAlg::kSha512, key, data); }

}  // namespace chatvault::crypto

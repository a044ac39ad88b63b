#include "vault/sealed_box.h"

#include "chatvault/crypto/aes_gcm.h"
#include "chatvault/crypto/hkdf.h"
#include "chatvault/crypto/random.h"

namespace chatvault::vault {
namespace {

constexpr size_t kNonceSize = 12;

}  // namespace

Result<Bytes> SealBox(const crypto::Secret& key, ByteView aad, ByteView plaintext) {
  CV_ASSIGN_OR_RETURN(crypto::AesGcm256 aead, crypto::AesGcm256::Create(key.view()));
  Bytes out = crypto::RandomBytes(kNonceSize);
  out.resize(kNonceSize + plaintext.size() + crypto::AesGcm256::kTagSize);
  aead.Seal(ByteView(out).first(kNonceSize), aad, plaintext, out.data() + kNonceSize,
            out.data() + kNonceSize + plaintext.size());
  return out;
}

Result<crypto::Secret> OpenBox(const crypto::Secret& key, ByteView aad, ByteView box) {
  if (box.size() < kNonceSize + crypto::AesGcm256::kTagSize) return Corrupted("a sealed box is too short");
  CV_ASSIGN_OR_RETURN(crypto::AesGcm256 aead, crypto::AesGcm256::Create(key.view()));
  const ByteView body = box.subspan(kNonceSize);
  const size_t size = body.size() - crypto::AesGcm256::kTagSize;
  crypto::Secret plain(size);
  CV_RETURN_IF_ERROR(aead.Open(box.first(kNonceSize), aad, body.first(size), body.subspan(size),
                               plain.data()));
  return plain;
}

VaultKeys VaultKeys::Derive(const crypto::Secret& master) {
  auto derive = [&master](std::string_view purpose) {
    return crypto::DeriveSubkey(master, {}, purpose);
  };
  return VaultKeys{derive("vault-record-key"), derive("vault-challenge-key"),
                   derive("vault-login-key"), derive("vault-login-seed-key")};
}

}  // namespace chatvault::vault

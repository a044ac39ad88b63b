#include "chatvault/vaultclient/key_wrap.h"

#include "chatvault/crypto/aes_gcm.h"
#include "chatvault/crypto/hkdf.h"
#include "chatvault/crypto/random.h"

namespace chatvault::vaultclient {
namespace {

constexpr size_t kNonceSize = 12;

Bytes WrapAad(std::string_view account) {
  Bytes aad = ToBytes("chatvault/v1/vault-wrapped-key/");
  Append(aad, AsBytes(account));
  return aad;
}

}  // namespace

Bytes WrapBackupKey(const crypto::Secret& export_key, std::string_view account,
                    const key::BackupKey& key) {
  crypto::Secret kek = crypto::DeriveSubkey(export_key, AsBytes(account), "vault-key-wrap");
  auto aead = crypto::AesGcm256::Create(kek.view());
  Bytes out = crypto::RandomBytes(kNonceSize);
  const Bytes nonce = out;
  Append(out, aead->SealToBytes(nonce, WrapAad(account), key.secret().view()));
  return out;
}

Result<key::BackupKey> UnwrapBackupKey(const crypto::Secret& export_key, std::string_view account,
                                       ByteView wrapped) {
  if (wrapped.size() != kNonceSize + key::kKeySize + crypto::AesGcm256::kTagSize) {
    return Corrupted("the vault returned a wrapped key of the wrong size");
  }
  crypto::Secret kek = crypto::DeriveSubkey(export_key, AsBytes(account), "vault-key-wrap");
  CV_ASSIGN_OR_RETURN(crypto::AesGcm256 aead, crypto::AesGcm256::Create(kek.view()));
  crypto::Secret plain(key::kKeySize);
  const ByteView body = wrapped.subspan(kNonceSize);
  Status s = aead.Open(wrapped.first(kNonceSize), WrapAad(account), body.first(key::kKeySize),
                       body.subspan(key::kKeySize), plain.data());
  if (!s.ok()) return Corrupted("the wrapped key from the vault failed authentication");
  return key::BackupKey::FromBytes(plain.view());
}

}  // namespace chatvault::vaultclient

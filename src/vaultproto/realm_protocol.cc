#include "chatvault/vaultproto/realm_protocol.h"

#include <algorithm>

#include "chatvault/common/byte_reader.h"
#include "chatvault/crypto/aes_gcm.h"
#include "chatvault/crypto/hash.h"
#include "chatvault/crypto/hkdf.h"
#include "chatvault/crypto/random.h"

namespace chatvault::vaultproto::realm {
namespace {

constexpr uint8_t kShareFormat = 1;
constexpr size_t kNonceSize = 12;

Tag Mac(const crypto::Secret& key, ByteView message) {
  const Bytes mac = crypto::HmacSha256(key.view(), message);
  Tag out{};
  std::copy(mac.begin(), mac.end(), out.begin());
  return out;
}

Bytes Label(std::string_view label, const Version& version) {
  Bytes out = ToBytes(label);
  Append(out, version);
  return out;
}

Bytes WrapAad(std::string_view account, const Version& version) {
  Bytes aad = ToBytes("chatvault/v1/realm-wrapped-key/");
  AppendU16BE(aad, static_cast<uint16_t>(account.size()));
  Append(aad, AsBytes(account));
  Append(aad, version);
  return aad;
}

crypto::Secret WrapSecret(const crypto::Secret& encryption_seed,
                          const crypto::Secret& encryption_scalar) {
  crypto::Secret ikm(encryption_seed.size() + encryption_scalar.size());
  std::copy_n(encryption_seed.data(), encryption_seed.size(), ikm.data());
  std::copy_n(encryption_scalar.data(), encryption_scalar.size(),
              ikm.data() + encryption_seed.size());
  return crypto::DeriveSubkey(ikm, {}, "realm-key-wrap");
}

}  // namespace

Version NewVersion(int64_t now_unix_ms) {
  Version v{};
  Bytes time;
  AppendU64BE(time, static_cast<uint64_t>(now_unix_ms));
  std::copy(time.begin(), time.end(), v.begin());
  crypto::RandomFill(std::span<uint8_t>(v).subspan(8));
  return v;
}

Bytes RealmShare::Serialize() const {
  Bytes out;
  out.push_back(kShareFormat);
  Append(out, version);
  out.push_back(threshold);
  out.push_back(realms);
  out.push_back(index);
  Append(out, ksf.Serialize());
  Append(out, oprf_share);
  Append(out, public_key);
  Append(out, verifying_key);
  Append(out, share_signature);
  Append(out, commitment);
  Append(out, unlock_tag);
  Append(out, encryption_share);
  AppendU16BE(out, static_cast<uint16_t>(wrapped_key.size()));
  Append(out, wrapped_key);
  Append(out, share_mac);
  return out;
}

Result<RealmShare> RealmShare::Parse(ByteView in) {
  ByteReader r(in);
  if (r.U8() != kShareFormat) return Unsupported("a realm share has an unknown format");
  RealmShare s;
  r.Into(s.version);
  s.threshold = r.U8();
  s.realms = r.U8();
  s.index = r.U8();
  ByteView ksf = r.Take(opaque::KsfParams::kSize);
  r.Into(s.oprf_share);
  r.Into(s.public_key);
  r.Into(s.verifying_key);
  r.Into(s.share_signature);
  r.Into(s.commitment);
  r.Into(s.unlock_tag);
  r.Into(s.encryption_share);
  ByteView wrapped = r.Take(r.U16());
  r.Into(s.share_mac);
  if (!r.consumed_exactly()) return Corrupted("a realm share has a bad length");
  CV_ASSIGN_OR_RETURN(s.ksf, opaque::KsfParams::Parse(ksf));
  s.wrapped_key.assign(wrapped.begin(), wrapped.end());
  if (s.threshold < 1 || s.realms < s.threshold || s.realms > kMaxRealms || s.index < 1 ||
      s.index > s.realms) {
    return InvalidArgument("a realm share needs 1 <= t <= n <= 8 and 1 <= i <= n");
  }
  return s;
}

Result<StretchedPassword> StretchPassword(std::string_view password, std::string_view account,
                                          const Version& version, const opaque::KsfParams& ksf) {
  Bytes salt_input = ToBytes("chatvault/v1/realm-salt");
  AppendU16BE(salt_input, static_cast<uint16_t>(account.size()));
  Append(salt_input, AsBytes(account));
  Append(salt_input, version);
  const Bytes salt = crypto::Sha256(salt_input);
  CV_ASSIGN_OR_RETURN(crypto::Secret stretched,
                      opaque::StretchSalted(ksf, AsBytes(password), salt, 64));
  if (stretched.size() != 64) return InvalidArgument("realm passwords need Argon2id stretching");
  return StretchedPassword{crypto::Secret::FromBytes(stretched.view().first(32)),
                           crypto::Secret::FromBytes(stretched.view().subspan(32))};
}

UnlockSecrets DeriveUnlock(const crypto::Secret& oprf_output) {
  UnlockSecrets out;
  out.unlock_key = crypto::DeriveSubkey(oprf_output, {}, "realm-unlock-key");
  const crypto::Secret commitment =
      crypto::DeriveSubkey(oprf_output, {}, "realm-unlock-commitment");
  std::copy_n(commitment.data(), kTagSize, out.commitment.begin());
  return out;
}

Tag UnlockTag(const crypto::Secret& unlock_key, const Version& version, uint8_t index) {
  Bytes message = Label("unlock-tag", version);
  message.push_back(index);
  return Mac(unlock_key, message);
}

Tag ShareMac(const crypto::Secret& unlock_key, const Version& version, uint8_t index,
             ByteView encryption_share, ByteView wrapped_key) {
  Bytes message = Label("share", version);
  message.push_back(index);
  Append(message, encryption_share);
  AppendU16BE(message, static_cast<uint16_t>(wrapped_key.size()));
  Append(message, wrapped_key);
  return Mac(unlock_key, message);
}

Bytes ShareStatement(const Version& version, uint8_t threshold, uint8_t realms, uint8_t index,
                     const opaque::Element& public_key) {
  Bytes out = ToBytes("chatvault/v1/realm-share");
  Append(out, version);
  out.push_back(threshold);
  out.push_back(realms);
  out.push_back(index);
  Append(out, public_key);
  return out;
}

Tag UnlockProof(const Tag& unlock_tag, std::string_view session) {
  Bytes message = ToBytes("unlock");
  Append(message, AsBytes(session));
  const Bytes mac = crypto::HmacSha256(unlock_tag, message);
  Tag out{};
  std::copy(mac.begin(), mac.end(), out.begin());
  return out;
}

Bytes WrapKey(const crypto::Secret& encryption_seed, const crypto::Secret& encryption_scalar,
              std::string_view account, const Version& version, const key::BackupKey& key) {
  const crypto::Secret wrap = WrapSecret(encryption_seed, encryption_scalar);
  auto aead = crypto::AesGcm256::Create(wrap.view());
  Bytes out = crypto::RandomBytes(kNonceSize);
  const Bytes nonce = out;
  Append(out, aead->SealToBytes(nonce, WrapAad(account, version), key.secret().view()));
  return out;
}

Result<key::BackupKey> UnwrapKey(const crypto::Secret& encryption_seed,
                                 const crypto::Secret& encryption_scalar, std::string_view account,
                                 const Version& version, ByteView wrapped) {
  if (wrapped.size() != kNonceSize + key::kKeySize + crypto::AesGcm256::kTagSize) {
    return Corrupted("the realms returned a wrapped key of the wrong size");
  }
  const crypto::Secret wrap = WrapSecret(encryption_seed, encryption_scalar);
  CV_ASSIGN_OR_RETURN(crypto::AesGcm256 aead, crypto::AesGcm256::Create(wrap.view()));
  crypto::Secret plain(key::kKeySize);
  const ByteView body = wrapped.subspan(kNonceSize);
  Status s = aead.Open(wrapped.first(kNonceSize), WrapAad(account, version),
                       body.first(key::kKeySize), body.subspan(key::kKeySize), plain.data());
  if (!s.ok()) return Corrupted("the key held by the realms failed authentication");
  return key::BackupKey::FromBytes(plain.view());
}

}  // namespace chatvault::vaultproto::realm

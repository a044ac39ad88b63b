#include "chatvault/vaultproto/signed_request.h"

#include "chatvault/crypto/hash.h"
#include "chatvault/crypto/hkdf.h"

namespace chatvault::vaultproto {
namespace {

void AppendText(Bytes& out, std::string_view text) {
  AppendU16BE(out, static_cast<uint16_t>(text.size()));
  Append(out, AsBytes(text));
}

}  // namespace

crypto::SigningKey DeviceKey(const key::BackupKey& key, std::string_view account) {
  return crypto::SigningKey::FromSeed(
      crypto::DeriveSubkey(key.secret(), AsBytes(account), "vault-device-key"));
}

Bytes RequestMessage(Action action, std::string_view account, ByteView challenge,
                     ByteView payload) {
  Bytes out = ToBytes("chatvault/v1/vault-request");
  out.push_back(static_cast<uint8_t>(action));
  AppendText(out, account);
  AppendU16BE(out, static_cast<uint16_t>(challenge.size()));
  Append(out, challenge);
  Append(out, crypto::Sha256(payload));
  return out;
}

Bytes RegisterStartPayload(const opaque::RegistrationRequest& request) {
  return request.Serialize();
}

Bytes RegisterFinishPayload(const opaque::RegistrationRecord& record, const opaque::KsfParams& ksf,
                            ByteView wrapped_key, const crypto::VerifyKey& device_key) {
  Bytes out = record.Serialize();
  Append(out, ksf.Serialize());
  AppendU16BE(out, static_cast<uint16_t>(wrapped_key.size()));
  Append(out, wrapped_key);
  Append(out, device_key);
  return out;
}

Bytes BackupSequenceMessage(std::string_view account, uint64_t sequence) {
  Bytes out = ToBytes("chatvault/v1/backup-sequence");
  AppendText(out, account);
  AppendU64BE(out, sequence);
  return out;
}

}  // namespace chatvault::vaultproto

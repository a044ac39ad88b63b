#include "opaque/ake.h"

#include "chatvault/crypto/hash.h"
#include "opaque/envelope.h"

namespace chatvault::opaque::internal {
namespace {

using crypto::Secret;

Status AppendPrefixed(Bytes& out, ByteView field, const char* name) {
  if (field.size() > 0xffff)
    return InvalidArgument(std::string(name) + " is longer than 65535 bytes");
  AppendU16BE(out, static_cast<uint16_t>(field.size()));
  Append(out, field);
  return OkStatus();
}

// Expand-Label(secret, label, context, Nx) with "OPAQUE-" prefixed labels; the label and
// context lengths are single bytes, the output length two (RFC 9807 section 6.4.2).
Secret DeriveSecret(ByteView secret, std::string_view label, ByteView transcript_hash) {
  const std::string full_label = "OPAQUE-" + std::string(label);
  Bytes info;
  AppendU16BE(info, static_cast<uint16_t>(kNx));
  info.push_back(static_cast<uint8_t>(full_label.size()));
  Append(info, AsBytes(full_label));
  info.push_back(static_cast<uint8_t>(transcript_hash.size()));
  Append(info, transcript_hash);
  return Expand(secret, info, kNx);
}

}  // namespace

Result<Bytes> Preamble(ByteView context, ByteView client_identity, const KE1& ke1,
                       ByteView server_identity, const KE2& ke2) {
  Bytes out = ToBytes("OPAQUEv1-");
  CV_RETURN_IF_ERROR(AppendPrefixed(out, context, "context"));
  CV_RETURN_IF_ERROR(AppendPrefixed(out, client_identity, "client identity"));
  Append(out, ke1.Serialize());
  CV_RETURN_IF_ERROR(AppendPrefixed(out, server_identity, "server identity"));
  Append(out, ke2.evaluated_message);
  Append(out, ke2.masking_nonce);
  Append(out, ke2.masked_response);
  Append(out, ke2.server_nonce);
  Append(out, ke2.server_public_keyshare);
  return out;
}

AkeKeys DeriveAkeKeys(ByteView ikm, ByteView preamble) {
  const Bytes transcript_hash = crypto::Sha512(preamble);
  Secret prk = Extract({}, ikm);
  AkeKeys k;
  k.handshake_secret = DeriveSecret(prk.view(), "HandshakeSecret", transcript_hash);
  k.session_key = DeriveSecret(prk.view(), "SessionKey", transcript_hash);
  k.server_mac_key = DeriveSecret(k.handshake_secret.view(), "ServerMAC", {});
  k.client_mac_key = DeriveSecret(k.handshake_secret.view(), "ClientMAC", {});
  return k;
}

Bytes ServerMac(const AkeKeys& keys, ByteView preamble) {
  return crypto::HmacSha512(keys.server_mac_key.view(), crypto::Sha512(preamble));
}

Bytes ClientMac(const AkeKeys& keys, ByteView preamble, ByteView server_mac) {
  crypto::Hasher h(crypto::HashAlg::kSha512);
  h.Update(preamble);
  h.Update(server_mac);
  return crypto::HmacSha512(keys.client_mac_key.view(), h.Finish());
}

}  // namespace chatvault::opaque::internal

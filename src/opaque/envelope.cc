#include "opaque/envelope.h"

#include <algorithm>

#include "chatvault/crypto/hash.h"
#include "chatvault/crypto/hkdf.h"
#include "opaque/oprf.h"

namespace chatvault::opaque::internal {
namespace {

using crypto::HashAlg;
using crypto::Secret;

Bytes Concat(ByteView a, std::string_view label) {
  Bytes out(a.begin(), a.end());
  Append(out, AsBytes(label));
  return out;
}

Status CheckIdentity(ByteView id, const char* which) {
  if (id.size() > 0xffff)
    return InvalidArgument(std::string(which) + " is longer than 65535 bytes");
  return OkStatus();
}

}  // namespace

Secret Expand(ByteView prk, ByteView info, size_t length) {
  return crypto::HkdfExpand(HashAlg::kSha512, prk, info, length);
}

Secret Extract(ByteView salt, ByteView ikm) {
  return crypto::HkdfExtract(HashAlg::kSha512, salt, ikm);
}

Result<Secret> DeriveOprfKey(ByteView oprf_seed, ByteView credential_identifier) {
  Secret seed = Expand(oprf_seed, Concat(credential_identifier, "OprfKey"), kNok);
  return DeriveScalar(seed.view(), AsBytes("OPAQUE-DeriveKeyPair"));
}

Result<KeyPair> DeriveDiffieHellmanKeyPair(ByteView seed) {
  return DeriveKeyPair(seed, AsBytes("OPAQUE-DeriveDiffieHellmanKeyPair"));
}

Result<Secret> RandomizedPassword(ByteView password, ByteView blind, const Element& evaluated,
                                  const KsfParams& ksf) {
  CV_ASSIGN_OR_RETURN(Secret oprf_output, OprfFinalize(password, blind, evaluated));
  CV_ASSIGN_OR_RETURN(Secret stretched, Stretch(ksf, oprf_output.view()));
  Secret ikm(oprf_output.size() + stretched.size());
  std::copy_n(oprf_output.data(), oprf_output.size(), ikm.data());
  std::copy_n(stretched.data(), stretched.size(), ikm.data() + oprf_output.size());
  return Extract({}, ikm.view());
}

Bytes CleartextCredentials::Serialize() const {
  Bytes out(server_public_key.begin(), server_public_key.end());
  AppendU16BE(out, static_cast<uint16_t>(server_identity.size()));
  Append(out, server_identity);
  AppendU16BE(out, static_cast<uint16_t>(client_identity.size()));
  Append(out, client_identity);
  return out;
}

Result<CleartextCredentials> MakeCleartextCredentials(const Element& server_public_key,
                                                      const Element& client_public_key,
                                                      const Identities& ids) {
  CV_RETURN_IF_ERROR(CheckIdentity(ids.server, "server identity"));
  CV_RETURN_IF_ERROR(CheckIdentity(ids.client, "client identity"));
  CleartextCredentials c;
  c.server_public_key = server_public_key;
  c.server_identity =
      ids.server.empty() ? Bytes(server_public_key.begin(), server_public_key.end()) : ids.server;
  c.client_identity =
      ids.client.empty() ? Bytes(client_public_key.begin(), client_public_key.end()) : ids.client;
  return c;
}

namespace {

struct EnvelopeKeys {
  Secret auth_key;
  Secret export_key;
  KeyPair client;
};

Result<EnvelopeKeys> DeriveEnvelopeKeys(const Secret& rp, ByteView envelope_nonce) {
  EnvelopeKeys k;
  k.auth_key = Expand(rp.view(), Concat(envelope_nonce, "AuthKey"), kNh);
  k.export_key = Expand(rp.view(), Concat(envelope_nonce, "ExportKey"), kNh);
  Secret seed = Expand(rp.view(), Concat(envelope_nonce, "PrivateKey"), kNseed);
  CV_ASSIGN_OR_RETURN(k.client, DeriveDiffieHellmanKeyPair(seed.view()));
  return k;
}

Bytes AuthTag(const Secret& auth_key, ByteView envelope_nonce, const CleartextCredentials& c) {
  Bytes input(envelope_nonce.begin(), envelope_nonce.end());
  Append(input, c.Serialize());
  return crypto::HmacSha512(auth_key.view(), input);
}

}  // namespace

Result<StoredEnvelope> StoreEnvelope(const Secret& randomized_password,
                                     const Element& server_public_key, const Identities& ids,
                                     ByteView envelope_nonce) {
  if (envelope_nonce.size() != kNn) return Internal("envelope nonce must be 32 bytes");
  CV_ASSIGN_OR_RETURN(EnvelopeKeys keys, DeriveEnvelopeKeys(randomized_password, envelope_nonce));
  CV_ASSIGN_OR_RETURN(CleartextCredentials creds,
                      MakeCleartextCredentials(server_public_key, keys.client.public_key, ids));
  StoredEnvelope out;
  const Bytes tag = AuthTag(keys.auth_key, envelope_nonce, creds);
  std::copy(envelope_nonce.begin(), envelope_nonce.end(), out.envelope.begin());
  std::copy(tag.begin(), tag.end(), out.envelope.begin() + kNn);
  out.client_public_key = keys.client.public_key;
  out.masking_key = Expand(randomized_password.view(), AsBytes("MaskingKey"), kNh);
  out.export_key = std::move(keys.export_key);
  out.auth_key = std::move(keys.auth_key);
  return out;
}

Result<RecoveredEnvelope> RecoverEnvelope(const Secret& randomized_password,
                                          const Element& server_public_key, ByteView envelope,
                                          const Identities& ids) {
  if (envelope.size() != kEnvelopeSize) return Internal("envelope must be 96 bytes");
  const ByteView nonce = envelope.first(kNn);
  const ByteView tag = envelope.subspan(kNn);
  CV_ASSIGN_OR_RETURN(EnvelopeKeys keys, DeriveEnvelopeKeys(randomized_password, nonce));
  CV_ASSIGN_OR_RETURN(CleartextCredentials creds,
                      MakeCleartextCredentials(server_public_key, keys.client.public_key, ids));
  const Bytes expected = AuthTag(keys.auth_key, nonce, creds);
  if (!crypto::ConstantTimeEqual(expected, tag)) {
    return PermissionDenied("wrong password, or the server's response was tampered with");
  }
  RecoveredEnvelope out;
  out.client_private_key = std::move(keys.client.private_key);
  out.client_public_key = keys.client.public_key;
  out.credentials = std::move(creds);
  out.export_key = std::move(keys.export_key);
  return out;
}

std::array<uint8_t, KE2::kMaskedResponseSize> XorCredentialPad(
    ByteView masking_key, ByteView masking_nonce,
    const std::array<uint8_t, KE2::kMaskedResponseSize>& data) {
  Bytes info(masking_nonce.begin(), masking_nonce.end());
  Append(info, AsBytes("CredentialResponsePad"));
  Secret pad = Expand(masking_key, info, KE2::kMaskedResponseSize);
  std::array<uint8_t, KE2::kMaskedResponseSize> out{};
  for (size_t i = 0; i < out.size(); ++i) out[i] = data[i] ^ pad.data()[i];
  return out;
}

}  // namespace chatvault::opaque::internal

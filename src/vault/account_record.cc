#include "chatvault/vault/account_record.h"

#include <cstring>

#include "chatvault/crypto/aes_gcm.h"
#include "chatvault/crypto/random.h"

namespace chatvault::vault {
namespace {

constexpr uint8_t kFormatVersion = 1;
constexpr size_t kHeaderSize = 1 + 1 + kGenerationSize + 4 + kVerifierSize;
constexpr size_t kNonceSize = 12;

Bytes SealAad(std::string_view store_key) {
  Bytes aad = ToBytes("chatvault/v1/vault-record/");
  Append(aad, AsBytes(store_key));
  return aad;
}

}  // namespace

Bytes AccountRecord::Serialize() const {
  Bytes out;
  out.push_back(kFormatVersion);
  out.push_back(static_cast<uint8_t>(state));
  Append(out, generation);
  AppendU32BE(out, failed_guesses);
  Append(out, verifier);
  if (active()) {
    Append(out, opaque_record.Serialize());
    Append(out, ksf.Serialize());
    AppendU16BE(out, static_cast<uint16_t>(wrapped_key.size()));
    Append(out, wrapped_key);
  }
  return out;
}

Result<AccountRecord> AccountRecord::Parse(ByteView in) {
  if (in.size() < kHeaderSize) return Corrupted("an account record is too short");
  if (in[0] != kFormatVersion) return Unsupported("an account record has an unknown format version");
  AccountRecord r;
  if (in[1] != static_cast<uint8_t>(State::kActive) && in[1] != static_cast<uint8_t>(State::kTombstone)) {
    return Corrupted("an account record has an unknown state");
  }
  r.state = static_cast<State>(in[1]);
  size_t at = 2;
  std::memcpy(r.generation.data(), in.data() + at, kGenerationSize);
  at += kGenerationSize;
  r.failed_guesses = ReadU32BE(in.data() + at);
  at += 4;
  std::memcpy(r.verifier.data(), in.data() + at, kVerifierSize);
  at += kVerifierSize;
  if (!r.active()) {
    if (at != in.size()) return Corrupted("a tombstone record has trailing bytes");
    return r;
  }
  constexpr size_t kFixed = opaque::RegistrationRecord::kSize + opaque::KsfParams::kSize + 2;
  if (in.size() < at + kFixed) return Corrupted("an account record is too short");
  CV_ASSIGN_OR_RETURN(r.opaque_record,
                      opaque::RegistrationRecord::Parse(in.subspan(at, opaque::RegistrationRecord::kSize)));
  at += opaque::RegistrationRecord::kSize;
  CV_ASSIGN_OR_RETURN(r.ksf, opaque::KsfParams::Parse(in.subspan(at, opaque::KsfParams::kSize)));
  at += opaque::KsfParams::kSize;
  const size_t wrapped = ReadU16BE(in.data() + at);
  at += 2;
  if (in.size() != at + wrapped) return Corrupted("an account record has a bad wrapped-key length");
  r.wrapped_key.assign(in.begin() + at, in.end());
  return r;
}

std::string AccountStoreKey(std::string_view account) { return "acct/" + std::string(account); }

Result<Bytes> RecordSealer::Seal(std::string_view store_key, ByteView plaintext) const {
  CV_ASSIGN_OR_RETURN(crypto::AesGcm256 aead, crypto::AesGcm256::Create(key_.view()));
  Bytes nonce = crypto::RandomBytes(kNonceSize);
  Bytes out = nonce;
  Append(out, aead.SealToBytes(nonce, SealAad(store_key), plaintext));
  return out;
}

Result<Bytes> RecordSealer::Open(std::string_view store_key, ByteView sealed) const {
  if (sealed.size() < kNonceSize + crypto::AesGcm256::kTagSize) {
    return Corrupted("a sealed account record is too short");
  }
  CV_ASSIGN_OR_RETURN(crypto::AesGcm256 aead, crypto::AesGcm256::Create(key_.view()));
  auto opened = aead.OpenFromBytes(sealed.first(kNonceSize), SealAad(store_key),
                                   sealed.subspan(kNonceSize));
  if (!opened.ok()) return Corrupted("a sealed account record failed authentication");
  return opened;
}

}  // namespace chatvault::vault

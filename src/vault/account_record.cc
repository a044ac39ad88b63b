#include "chatvault/vault/account_record.h"

#include "chatvault/common/byte_reader.h"
#include "vault/sealed_box.h"

namespace chatvault::vault {
namespace {

// Format 2: device keys and numbered guesses. Format 1 (a hash of a fixed proof) is not read:
// its proof could be replayed, so its records must be registered again.
constexpr uint8_t kFormatVersion = 2;

Bytes SealAad(std::string_view store_key) {
  Bytes aad = ToBytes("chatvault/v1/vault-record/");
  Append(aad, AsBytes(store_key));
  return aad;
}

bool KnownState(uint8_t state) {
  return state >= static_cast<uint8_t>(AccountRecord::State::kActive) &&
         state <= static_cast<uint8_t>(AccountRecord::State::kDeleted);
}

}  // namespace

Bytes AccountRecord::Serialize() const {
  Bytes out;
  out.push_back(kFormatVersion);
  out.push_back(static_cast<uint8_t>(state));
  Append(out, generation);
  guesses.Serialize(out);
  Append(out, device_key);
  Append(out, registration_id);
  AppendU64BE(out, backup_sequence.sequence);
  Append(out, backup_sequence.signature);
  if (active()) {
    Append(out, opaque_record.Serialize());
    Append(out, ksf.Serialize());
    AppendU16BE(out, static_cast<uint16_t>(wrapped_key.size()));
    Append(out, wrapped_key);
  }
  return out;
}

Result<AccountRecord> AccountRecord::Parse(ByteView in) {
  ByteReader r(in);
  const uint8_t version = r.U8();
  if (r.ok() && version != kFormatVersion) {
    return Unsupported("an account record has format " + std::to_string(version) +
                       ", which this keyvaultd does not read (register it again)");
  }
  const uint8_t state = r.U8();
  if (r.ok() && !KnownState(state)) return Corrupted("an account record has an unknown state");
  AccountRecord rec;
  rec.state = static_cast<State>(state);
  r.Into(rec.generation);
  if (!r.ok()) return Corrupted("an account record is too short");
  CV_ASSIGN_OR_RETURN(rec.guesses, GuessCounter::Parse(in, r.position()));
  r.Into(rec.device_key);
  r.Into(rec.registration_id);
  rec.backup_sequence.sequence = r.U64();
  r.Into(rec.backup_sequence.signature);
  if (!r.ok()) return Corrupted("an account record is too short");
  if (!rec.active()) {
    if (!r.at_end()) return Corrupted("an inactive account record has trailing bytes");
    return rec;
  }
  ByteView opaque_bytes = r.Take(opaque::RegistrationRecord::kSize);
  ByteView ksf_bytes = r.Take(opaque::KsfParams::kSize);
  ByteView wrapped = r.Take(r.U16());
  if (!r.ok() || !r.at_end()) return Corrupted("an account record has a bad length");
  CV_ASSIGN_OR_RETURN(rec.opaque_record, opaque::RegistrationRecord::Parse(opaque_bytes));
  CV_ASSIGN_OR_RETURN(rec.ksf, opaque::KsfParams::Parse(ksf_bytes));
  rec.wrapped_key.assign(wrapped.begin(), wrapped.end());
  return rec;
}

AccountRecord AccountRecord::Tombstone() const {
  AccountRecord tomb;
  tomb.state = State::kTombstone;
  tomb.generation = generation;
  tomb.guesses = guesses;
  tomb.device_key = device_key;
  return tomb;
}

std::string AccountStoreKey(std::string_view account) { return "acct/" + std::string(account); }

Result<Bytes> RecordSealer::Seal(std::string_view store_key, ByteView plaintext) const {
  return SealBox(key_, SealAad(store_key), plaintext);
}

Result<Bytes> RecordSealer::Open(std::string_view store_key, ByteView sealed) const {
  auto opened = OpenBox(key_, SealAad(store_key), sealed);
  if (!opened.ok()) return Corrupted("a sealed account record failed authentication");
  return Bytes(opened->view().begin(), opened->view().end());
}

}  // namespace chatvault::vault

#include "vault/realm_record.h"

#include <algorithm>

#include "chatvault/common/byte_reader.h"

namespace chatvault::vault {
namespace {

// Format 2 adds the backup sequence; format 1 records (written before realms kept it) are read
// as holding none.
constexpr uint8_t kFormat = 2;
constexpr uint8_t kFormatWithoutSequence = 1;

bool KnownState(uint8_t s) { return s >= 1 && s <= 3; }

}  // namespace

RealmRecord RealmRecord::Tombstone() const {
  RealmRecord tomb;
  tomb.state = State::kTombstone;
  tomb.version = version;
  tomb.guesses = guesses;
  tomb.device_key = device_key;
  return tomb;
}

Bytes RealmRecord::Serialize() const {
  Bytes out;
  out.push_back(kFormat);
  out.push_back(static_cast<uint8_t>(state));
  Append(out, version);
  guesses.Serialize(out);
  Append(out, device_key);
  Append(out, registration_id);
  AppendU64BE(out, backup_sequence.sequence);
  Append(out, backup_sequence.signature);
  if (active()) Append(out, share.Serialize());
  return out;
}

Result<RealmRecord> RealmRecord::Parse(ByteView in) {
  constexpr size_t kHead = 2 + vaultproto::realm::kVersionSize;
  if (in.size() < kHead) return Corrupted("a realm record is too short");
  if (in[0] != kFormat && in[0] != kFormatWithoutSequence) {
    return Unsupported("a realm record has an unknown format");
  }
  if (!KnownState(in[1])) return Corrupted("a realm record has an unknown state");
  RealmRecord r;
  r.state = static_cast<State>(in[1]);
  std::copy_n(in.begin() + 2, r.version.size(), r.version.begin());
  size_t at = kHead;
  CV_ASSIGN_OR_RETURN(r.guesses, GuessCounter::Parse(in, &at));
  if (in.size() - at < r.device_key.size() + r.registration_id.size()) {
    return Corrupted("a realm record is too short");
  }
  std::copy_n(in.begin() + at, r.device_key.size(), r.device_key.begin());
  at += r.device_key.size();
  std::copy_n(in.begin() + at, r.registration_id.size(), r.registration_id.begin());
  at += r.registration_id.size();
  if (in[0] == kFormat) {
    ByteReader sequence(in.subspan(at));
    r.backup_sequence.sequence = sequence.U64();
    sequence.Into(r.backup_sequence.signature);
    if (!sequence.ok()) return Corrupted("a realm record is too short");
    at += *sequence.position();
  }
  if (!r.active()) {
    if (at != in.size()) return Corrupted("an inactive realm record has trailing bytes");
    return r;
  }
  CV_ASSIGN_OR_RETURN(r.share, vaultproto::realm::RealmShare::Parse(in.subspan(at)));
  return r;
}

std::string RealmStoreKey(std::string_view account) { return "realm/" + std::string(account); }

}  // namespace chatvault::vault

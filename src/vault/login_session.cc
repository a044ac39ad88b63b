#include "vault/login_session.h"

#include <algorithm>
#include <cstring>

#include "vault/sealed_box.h"

namespace chatvault::vault {
namespace {

constexpr uint8_t kSessionVersion = 2;
// version || fake || u64 expiry || generation || u64 serial || u16 len(state) || state || account
constexpr size_t kFixedSize = 1 + 1 + 8 + kGenerationSize + 8 + 2;
constexpr size_t kMaxStateSize = 256;

Bytes SessionAad(SessionPurpose purpose) {
  Bytes aad = ToBytes("chatvault/v1/vault-login-session/");
  aad.push_back(static_cast<uint8_t>(purpose));
  return aad;
}

}  // namespace

Result<std::string> LoginSessionSealer::Seal(SessionPurpose purpose, const LoginSession& session,
                                             int64_t now_unix) const {
  if (session.server_state.size() > kMaxStateSize) {
    return Internal("a login session's server state is too large");
  }
  Bytes head;
  head.push_back(kSessionVersion);
  head.push_back(session.fake ? 1 : 0);
  AppendU64BE(head, static_cast<uint64_t>(now_unix + ttl_.count()));
  Append(head, session.generation);
  AppendU64BE(head, session.serial);
  AppendU16BE(head, static_cast<uint16_t>(session.server_state.size()));
  crypto::Secret plain(head.size() + session.server_state.size() + session.account.size());
  uint8_t* p = std::copy(head.begin(), head.end(), plain.data());
  p = std::copy_n(session.server_state.data(), session.server_state.size(), p);
  std::copy(session.account.begin(), session.account.end(), p);
  CV_ASSIGN_OR_RETURN(Bytes box, SealBox(key_, SessionAad(purpose), plain.view()));
  return HexEncode(box);
}

Result<LoginSession> LoginSessionSealer::Open(SessionPurpose purpose, std::string_view text,
                                              int64_t now_unix) const {
  const Status unknown = NotFound("this login session is unknown or expired; start again");
  if (text.size() > kMaxSessionText) return unknown;
  auto box = HexDecode(text);
  if (!box.ok()) return unknown;
  auto plain = OpenBox(key_, SessionAad(purpose), *box);
  if (!plain.ok() || plain->size() < kFixedSize || plain->data()[0] != kSessionVersion) {
    return unknown;
  }
  const uint8_t* p = plain->data() + 1;
  const uint8_t* end = plain->data() + plain->size();
  LoginSession session;
  session.fake = *p++ == 1;
  const uint64_t expiry = ReadU64BE(p);
  p += 8;
  if (expiry < static_cast<uint64_t>(now_unix)) return unknown;
  std::memcpy(session.generation.data(), p, kGenerationSize);
  p += kGenerationSize;
  session.serial = ReadU64BE(p);
  p += 8;
  const size_t state_size = ReadU16BE(p);
  p += 2;
  if (static_cast<size_t>(end - p) < state_size) return unknown;
  session.server_state = crypto::Secret::FromBytes({p, state_size});
  p += state_size;
  session.account.assign(reinterpret_cast<const char*>(p), end - p);
  return session;
}

}  // namespace chatvault::vault

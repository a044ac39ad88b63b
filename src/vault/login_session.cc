#include "vault/login_session.h"

#include <algorithm>
#include <cstring>

#include "chatvault/opaque/server.h"
#include "vault/sealed_box.h"

namespace chatvault::vault {
namespace {

constexpr uint8_t kSessionVersion = 1;
// version || fake || u64 expiry || generation || u64 serial || server state || account
constexpr size_t kFixedSize = 1 + 1 + 8 + kGenerationSize + 8 + opaque::ServerLogin::kStateSize;

ByteView SessionAad() { return AsBytes("chatvault/v1/vault-login-session"); }

}  // namespace

Result<std::string> LoginSessionSealer::Seal(const LoginSession& session, int64_t now_unix) const {
  if (session.server_state.size() != opaque::ServerLogin::kStateSize) {
    return Internal("a login session's server state has the wrong size");
  }
  crypto::Secret plain(kFixedSize + session.account.size());
  uint8_t* p = plain.data();
  *p++ = kSessionVersion;
  *p++ = session.fake ? 1 : 0;
  Bytes numbers;
  AppendU64BE(numbers, static_cast<uint64_t>(now_unix + ttl_.count()));
  p = std::copy(numbers.begin(), numbers.end(), p);
  p = std::copy(session.generation.begin(), session.generation.end(), p);
  numbers.clear();
  AppendU64BE(numbers, session.serial);
  p = std::copy(numbers.begin(), numbers.end(), p);
  p = std::copy_n(session.server_state.data(), session.server_state.size(), p);
  std::copy(session.account.begin(), session.account.end(), p);
  CV_ASSIGN_OR_RETURN(Bytes box, SealBox(key_, SessionAad(), plain.view()));
  return HexEncode(box);
}

Result<LoginSession> LoginSessionSealer::Open(std::string_view text, int64_t now_unix) const {
  const Status unknown = NotFound("this login session is unknown or expired; start again");
  if (text.size() > kMaxSessionText) return unknown;
  auto box = HexDecode(text);
  if (!box.ok()) return unknown;
  auto plain = OpenBox(key_, SessionAad(), *box);
  if (!plain.ok() || plain->size() <= kFixedSize || plain->data()[0] != kSessionVersion) {
    return unknown;
  }
  const uint8_t* p = plain->data() + 1;
  LoginSession session;
  session.fake = *p++ == 1;
  const uint64_t expiry = ReadU64BE(p);
  p += 8;
  if (expiry < static_cast<uint64_t>(now_unix)) return unknown;
  std::memcpy(session.generation.data(), p, kGenerationSize);
  p += kGenerationSize;
  session.serial = ReadU64BE(p);
  p += 8;
  session.server_state = crypto::Secret::FromBytes({p, opaque::ServerLogin::kStateSize});
  p += opaque::ServerLogin::kStateSize;
  session.account.assign(reinterpret_cast<const char*>(p), plain->data() + plain->size() - p);
  return session;
}

}  // namespace chatvault::vault

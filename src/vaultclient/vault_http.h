// The JSON-over-HTTPS conversation a vault client has with one vault or realm: a transport (curl,
// or the vault's routes in process for tests), retries of requests that are safe to repeat, and
// the vault's error codes as Status codes. Shared by the single-vault client and the realms client.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "chatvault/common/status.h"
#include "chatvault/key/backup_key.h"
#include "chatvault/opaque/ksf.h"
#include "chatvault/vaultclient/vault_client.h"

namespace chatvault::vaultclient::internal {

using nlohmann::json;

// A hex field of a reply (kCorrupted when missing or malformed).
Result<Bytes> HexField(const json& j, const char* name);
// A hex field of exactly N bytes.
template <size_t N>
Result<std::array<uint8_t, N>> FixedField(const json& j, const char* name) {
  CV_ASSIGN_OR_RETURN(Bytes b, HexField(j, name));
  if (b.size() != N) {
    return Corrupted(std::string("the vault's reply has a '") + name + "' of the wrong size");
  }
  std::array<uint8_t, N> out{};
  std::copy(b.begin(), b.end(), out.begin());
  return out;
}
template <typename Message>
Result<Message> MessageField(const json& j, const char* name) {
  CV_ASSIGN_OR_RETURN(Bytes b, HexField(j, name));
  auto m = Message::Parse(b);
  if (!m.ok()) return Corrupted(std::string("the vault sent an invalid '") + name + "'");
  return m;
}
Result<opaque::KsfParams> KsfField(const json& j);
uint32_t Attempts(const json& j);
std::string AttemptsText(uint32_t n);

// The request that tells a vault or realm the newest backup, signed with the device key from
// `key`: {"account", "sequence", "signature"}.
json BackupSequenceBody(std::string_view account, const key::BackupKey& key, uint64_t sequence);
// The backup sequence in a recovery reply, if any, once its signature checks out under the device
// key from `key`; kCorrupted when it is malformed or no device holding the key signed it.
Result<std::optional<uint64_t>> BackupSequenceField(const json& reply, std::string_view account,
                                                    const key::BackupKey& key);

// JSON requests to one vault. Every vault request is safe to repeat (docs/API.md, "Retries"), so
// a failure to connect, a dropped connection and a 503 are retried with the same body.
class VaultHttp {
 public:
  VaultHttp(std::unique_ptr<VaultTransport> transport, std::chrono::milliseconds retry_for)
      : transport_(std::move(transport)), retry_for_(retry_for) {}

  // The reply of a 200, else the vault's error as a Status. `retried` tells whether the request
  // was sent more than once (an earlier attempt may have taken effect).
  Result<json> Post(const std::string& path, const json& body, bool* retried = nullptr);
  Status Health();
  // Ends the retries of every request now waiting and of every later one (kCancelled): the
  // owner is going away and nobody waits for their answers.
  void StopRetrying() { stop_retrying_ = true; }
  // "the vault at https://host:port", for messages.
  std::string Describe() const { return transport_->Describe(); }

 private:
  Result<VaultTransport::Reply> SendWithRetry(const std::string& path, const std::string& body,
                                              bool* retried);
  Result<json> Decode(const VaultTransport::Reply& reply) const;

  std::unique_ptr<VaultTransport> transport_;
  std::chrono::milliseconds retry_for_;
  std::atomic<bool> stop_retrying_{false};
};

}  // namespace chatvault::vaultclient::internal

// A whole vault in the test process: VaultService over an in-memory record store with fault
// injection, reached through its real JSON routes by real VaultClients. No TLS, no HSM, no
// process: the fast seam for testing the guess counter and the replay rules. Every request a
// client sends is recorded so tests can replay it as an attacker would.
#pragma once

#include <atomic>
#include <deque>
#include <mutex>
#include <string>

#include "chatvault/crypto/random.h"
#include "chatvault/vault/account_token.h"
#include "chatvault/vault/metrics.h"
#include "chatvault/vault/vault_service.h"
#include "chatvault/vaultclient/vault_client.h"
#include "support/memory_record_store.h"
#include "support/temp_dir.h"
#include "vault/api_routes.h"

namespace chatvault::testing {

struct SentRequest {
  std::string path;
  std::string body;
};

// The audit log of an in-process vault: real JSON lines in a temp file, and a switch that makes
// writing them fail.
class TestAuditLog final : public vault::AuditLog {
 public:
  explicit TestAuditLog(const crypto::Secret& master)
      : log_(std::move(vault::JsonLinesAuditLog::Open(
                           dir_.Sub("audit.jsonl"), false,
                           vault::VaultService::AuditAccountKey(master), "test-instance")
                           .value())),
        account_key_(vault::VaultService::AuditAccountKey(master)) {}
  Status Record(const vault::AuditEvent& event) override {
    if (failing_) return IoError("the test audit log is failing");
    return log_->Record(event);
  }
  void SetFailing(bool failing) { failing_ = failing; }
  std::string path() const { return dir_.Sub("audit.jsonl"); }
  std::string AccountHash(const std::string& account) const {
    return vault::JsonLinesAuditLog::AccountHash(account_key_, account);
  }

 private:
  TempDir dir_;
  std::unique_ptr<vault::JsonLinesAuditLog> log_;
  crypto::Secret account_key_;
  std::atomic<bool> failing_{false};
};

class InProcessVault {
 public:
  static constexpr int64_t kStartTime = 1'800'000'000;

  InProcessVault()
      : token_keys_(vault::TokenKeys::Single("k1", crypto::RandomSecret(32)).value()),
        master_(crypto::RandomSecret(32)),
        audit_(master_),
        service_(store_, opaque::ServerSetup::Generate(), master_, token_keys_.Clone(),
                 Options(&now_), metrics_, &audit_),
        routes_(&service_, nullptr, metrics_) {}

  TestAuditLog& audit() { return audit_; }

  MemoryRecordStore& store() { return store_; }
  vault::Metrics& metrics() { return metrics_; }
  void Advance(int64_t seconds) { now_ += seconds; }

  std::string Token(const std::string& account) { return *token_keys_.Issue(account, now_ + 3600); }

  // A client whose requests reach the routes in this process.
  std::unique_ptr<vaultclient::VaultClient> Client(vaultclient::ClientOptions options = {});

  // Sends a request as an attacker would, bypassing any client.
  vault::ApiReply Send(const SentRequest& request) {
    return routes_.Handle(vault::ApiRequest{"POST", request.path, request.body, ""});
  }

  // Every request clients sent, oldest first.
  std::vector<SentRequest> Sent() {
    std::lock_guard<std::mutex> lock(mu_);
    return std::vector<SentRequest>(sent_.begin(), sent_.end());
  }
  SentRequest LastSent(const std::string& path) {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = sent_.rbegin(); it != sent_.rend(); ++it) {
      if (it->path == path) return *it;
    }
    return {};
  }

  // The next `count` requests to `path` are handled, but the client never hears the answer.
  void LoseRepliesTo(const std::string& path, int count = 1) {
    std::lock_guard<std::mutex> lock(mu_);
    lose_path_ = path;
    lose_left_ = count;
  }

 private:
  class Transport;

  static vault::VaultOptions Options(const int64_t* now) {
    vault::VaultOptions options;
    options.ksf = opaque::KsfParams{opaque::KsfAlgorithm::kArgon2id, 64, 1, 1};
    options.now_unix = [now] { return *now; };
    return options;
  }

  Result<vaultclient::VaultTransport::Reply> Deliver(const std::string& path,
                                                     const std::string& body) {
    bool lose = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      sent_.push_back({path, body});
      if (lose_left_ > 0 && path == lose_path_) {
        --lose_left_;
        lose = true;
      }
    }
    vault::ApiReply reply = routes_.Handle(vault::ApiRequest{"POST", path, body, ""});
    if (lose) return Unavailable("the connection dropped before the answer arrived");
    return vaultclient::VaultTransport::Reply{reply.status, reply.body};
  }

  int64_t now_ = kStartTime;
  MemoryRecordStore store_;
  vault::Metrics metrics_;
  vault::TokenKeys token_keys_;
  crypto::Secret master_;
  TestAuditLog audit_;
  vault::VaultService service_;
  vault::ApiRoutes routes_;
  std::mutex mu_;
  std::deque<SentRequest> sent_;
  std::string lose_path_;
  int lose_left_ = 0;
};

class InProcessVault::Transport final : public vaultclient::VaultTransport {
 public:
  explicit Transport(InProcessVault& vault) : vault_(vault) {}
  Result<Reply> Send(const std::string& method, const std::string& path,
                     const std::string& body) override {
    if (method != "POST") {
      vault::ApiReply reply = vault_.routes_.Handle(vault::ApiRequest{method, path, body, ""});
      return Reply{reply.status, reply.body};
    }
    return vault_.Deliver(path, body);
  }
  std::string Describe() const override { return "the in-process vault"; }

 private:
  InProcessVault& vault_;
};

inline std::unique_ptr<vaultclient::VaultClient> InProcessVault::Client(
    vaultclient::ClientOptions options) {
  options.allow_weak_ksf = true;
  options.retry_for = std::chrono::milliseconds(2000);
  return vaultclient::VaultClient::Over(std::make_unique<Transport>(*this), std::move(options));
}

}  // namespace chatvault::testing

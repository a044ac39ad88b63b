// n realms in the test process, each a RealmService over its own in-memory store with its own
// master secret (as independent operators with their own HSMs) and its own audit log, reached by a
// real RealmClient through the realms' JSON routes. Each realm can be made to fail the way a real
// one might: be down, lose its answers, or answer wrongly.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chatvault/crypto/random.h"
#include "chatvault/vault/account_token.h"
#include "chatvault/vault/realm_service.h"
#include "chatvault/vaultclient/realm_client.h"
#include "support/memory_record_store.h"
#include "vault/api_routes.h"
#include "vault/in_process_vault.h"

namespace chatvault::testing {

class InProcessRealms {
 public:
  // How a realm misbehaves; changes a reply before the client sees it.
  using Tamper = std::function<void(const std::string& path, nlohmann::json& reply)>;

  struct Realm {
    Realm(const vault::TokenKeys& token_keys, const int64_t* now)
        : master(crypto::RandomSecret(32)),
          audit(master),
          service(store, master, token_keys.Clone(), Options(now), metrics, &audit),
          routes(nullptr, &service, metrics) {}
    MemoryRecordStore store;
    vault::Metrics metrics;
    crypto::Secret master;
    TestAuditLog audit;
    vault::RealmService service;
    vault::ApiRoutes routes;
    std::atomic<bool> down{false};
    Tamper tamper;
  };

  explicit InProcessRealms(int n)
      : token_keys_(vault::TokenKeys::Single("k1", crypto::RandomSecret(32)).value()) {
    for (int i = 0; i < n; ++i) realms_.push_back(std::make_unique<Realm>(token_keys_, &now_));
  }

  Realm& realm(size_t i) { return *realms_[i]; }
  size_t size() const { return realms_.size(); }
  void Advance(int64_t seconds) { now_ += seconds; }
  int64_t now() const { return now_; }
  std::string Token(const std::string& account) { return *token_keys_.Issue(account, now_ + 3600); }

  std::unique_ptr<vaultclient::RealmClient> Client(int threshold,
                                                   vaultclient::RealmOptions options = {}) {
    options.client.allow_weak_ksf = true;
    // Short unless the test asks for the client's patience (then a down realm is retried long).
    if (options.client.retry_for == vaultclient::ClientOptions{}.retry_for) {
      options.client.retry_for = std::chrono::milliseconds(300);
    }
    options.ksf = opaque::KsfParams{opaque::KsfAlgorithm::kArgon2id, 64, 1, 1};
    std::vector<std::unique_ptr<vaultclient::VaultTransport>> transports;
    for (auto& r : realms_)
      transports.push_back(std::make_unique<Transport>(*r, transports.size()));
    return std::move(
        vaultclient::RealmClient::Over(std::move(transports), threshold, std::move(options))
            .value());
  }

  // A request as an attacker sends it, straight to realm `i`.
  vault::ApiReply Send(size_t i, const std::string& path, const nlohmann::json& body) {
    return realms_[i]->routes.Handle(vault::ApiRequest{"POST", path, body.dump(), ""});
  }

 private:
  static vault::VaultOptions Options(const int64_t* now) {
    vault::VaultOptions options;
    options.max_guesses = 7;
    options.now_unix = [now] { return *now; };
    return options;
  }

  class Transport final : public vaultclient::VaultTransport {
   public:
    Transport(Realm& realm, size_t index) : realm_(realm), index_(index) {}
    Result<Reply> Send(const std::string& method, const std::string& path,
                       const std::string& body) override {
      if (realm_.down) return Unavailable("realm " + std::to_string(index_ + 1) + " is down");
      vault::ApiReply reply = realm_.routes.Handle(vault::ApiRequest{method, path, body, ""});
      if (realm_.tamper) {
        nlohmann::json j = nlohmann::json::parse(reply.body);
        realm_.tamper(path, j);
        reply.body = j.dump();
      }
      return Reply{reply.status, reply.body};
    }
    std::string Describe() const override { return "realm " + std::to_string(index_ + 1); }

   private:
    Realm& realm_;
    size_t index_;
  };

  int64_t now_ = 1'800'000'000;
  vault::TokenKeys token_keys_;
  std::vector<std::unique_ptr<Realm>> realms_;
};

}  // namespace chatvault::testing

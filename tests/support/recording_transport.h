// A vault transport for tests against real keyvaultd processes: sends each request over HTTPS
// to the next of one or more instances in turn (so a login's two requests land on different
// instances), and records every POST so a test can replay it as an attacker who captured it.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "chatvault/vaultclient/vault_client.h"

namespace chatvault::testing {

struct CapturedRequest {
  std::string path;
  std::string body;
};

class RecordingTransport final : public vaultclient::VaultTransport {
 public:
  struct Log {
    std::mutex mu;
    std::vector<CapturedRequest> sent;
    CapturedRequest Last(const std::string& path) {
      std::lock_guard<std::mutex> lock(mu);
      for (auto it = sent.rbegin(); it != sent.rend(); ++it) {
        if (it->path == path) return *it;
      }
      return {};
    }
  };

  RecordingTransport(const std::vector<std::string>& urls, const std::string& ca_file,
                     std::shared_ptr<Log> log)
      : log_(std::move(log)) {
    for (const std::string& url : urls) {
      instances_.push_back(std::move(vaultclient::HttpsTransport({url, ca_file}).value()));
    }
  }

  Result<Reply> Send(const std::string& method, const std::string& path,
                     const std::string& body) override {
    if (method == "POST") {
      std::lock_guard<std::mutex> lock(log_->mu);
      log_->sent.push_back({path, body});
    }
    return instances_[next_++ % instances_.size()]->Send(method, path, body);
  }
  std::string Describe() const override { return instances_.front()->Describe(); }

 private:
  std::shared_ptr<Log> log_;
  std::vector<std::unique_ptr<vaultclient::VaultTransport>> instances_;
  size_t next_ = 0;
};

}  // namespace chatvault::testing

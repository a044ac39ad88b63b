// Several real keyvaultd processes sharing one etcd cluster, plus a minimal HTTPS client for the
// vault API, for the vault-level fault tests. Uses the vault's own tools for the SoftHSM2 token
// and TLS certificate; every instance uses the same token, as a real fleet shares one HSM key.
#pragma once

#ifndef CPPHTTPLIB_OPENSSL_SUPPORT
#define CPPHTTPLIB_OPENSSL_SUPPORT
#endif
#include <httplib.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "chatvault/common/bytes.h"
#include "support/temp_dir.h"

extern char** environ;

namespace chatvault::etcd::testing {

struct HttpReply {
  int status = 0;  // 0: no answer at all (connection failed)
  nlohmann::json body;
};

class VaultFleet {
 public:
  // Prepares the HSM token, certificate and token secret; no instance runs yet.
  static std::unique_ptr<VaultFleet> Prepare() {
    std::unique_ptr<VaultFleet> fleet(new VaultFleet);
    const std::string tools = std::string(CHATVAULT_SOURCE_DIR) + "/tools/vault/";
    const std::string d = fleet->dir_.path();
    if (std::system((tools + "make-softhsm-token.sh " + d + "/hsm >/dev/null").c_str()) != 0 ||
        std::system((tools + "make-test-cert.sh " + d + "/tls >/dev/null").c_str()) != 0) {
      return nullptr;
    }
    ::setenv("SOFTHSM2_CONF", (d + "/hsm/softhsm2.conf").c_str(), 1);
    std::ofstream(d + "/token-secret") << "etcd-fault-test-token-secret-0123456789abcdef\n";
    return fleet;
  }

  ~VaultFleet() {
    for (size_t i = 0; i < pids_.size(); ++i) Stop(i);
  }

  // Starts one keyvaultd on `store_spec`; returns its index, or -1 if it did not come up.
  int Start(const std::string& store_spec) {
    const std::string d = dir_.path();
    const size_t index = pids_.size();
    const std::string port_file = d + "/port-" + std::to_string(index);
    std::vector<std::string> args = {std::string(CHATVAULT_BINARY_DIR) + "/src/vault/keyvaultd",
                                     "serve",
                                     "--listen",
                                     "127.0.0.1:0",
                                     "--port-file",
                                     port_file,
                                     "--store",
                                     store_spec,
                                     "--tls-cert",
                                     d + "/tls/cert.pem",
                                     "--tls-key",
                                     d + "/tls/key.pem",
                                     "--pkcs11-module",
                                     ReadFile(d + "/hsm/module"),
                                     "--hsm-pin-file",
                                     d + "/hsm/pin",
                                     "--token-secret-file",
                                     d + "/token-secret",
                                     "--ksf-memory-kib",
                                     "64",
                                     "--ksf-iterations",
                                     "1",
                                     "--threads",
                                     "32"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = 0;
    if (::posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), environ) != 0) return -1;
    pids_.push_back(pid);
    ports_.push_back(0);
    for (int i = 0; i < 300; ++i) {  // up to 30 s: the first start creates the HSM keys
      const std::string port = ReadFile(port_file);
      if (!port.empty()) {
        ports_[index] = std::atoi(port.c_str());
        return static_cast<int>(index);
      }
      int status = 0;
      if (::waitpid(pid, &status, WNOHANG) == pid) {
        pids_[index] = 0;
        return -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return -1;
  }

  void Stop(size_t i) {
    if (pids_[i] <= 0) return;
    ::kill(pids_[i], SIGTERM);
    int status = 0;
    for (int t = 0; t < 50 && ::waitpid(pids_[i], &status, WNOHANG) == 0; ++t) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ::kill(pids_[i], SIGKILL);
    ::waitpid(pids_[i], &status, 0);
    pids_[i] = 0;
  }

  size_t size() const { return ports_.size(); }
  std::string Url(size_t i) const { return "https://127.0.0.1:" + std::to_string(ports_[i]); }
  std::string CaFile() const { return dir_.path() + "/tls/cert.pem"; }

  std::string IssueToken(const std::string& account) {
    const std::string command = std::string(CHATVAULT_BINARY_DIR) +
                                "/src/vault/keyvaultd issue-token --token-secret-file " +
                                dir_.path() + "/token-secret --account " + account;
    std::string out;
    if (FILE* p = ::popen(command.c_str(), "r")) {
      char buf[512];
      size_t n;
      while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
      ::pclose(p);
    }
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
    return out;
  }

  HttpReply Post(size_t instance, const std::string& path, const nlohmann::json& body) {
    httplib::SSLClient client("127.0.0.1", ports_[instance]);
    client.set_ca_cert_path((dir_.path() + "/tls/cert.pem").c_str());
    client.enable_server_certificate_verification(true);
    client.set_connection_timeout(10);
    client.set_read_timeout(30);
    HttpReply reply;
    auto res = client.Post(path.c_str(), body.dump(), "application/json");
    if (!res) return reply;
    reply.status = res->status;
    reply.body = nlohmann::json::parse(res->body, nullptr, /*allow_exceptions=*/false);
    return reply;
  }

 private:
  VaultFleet() = default;

  static std::string ReadFile(const std::string& path) {
    std::ifstream in(path);
    std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    return s;
  }

  chatvault::testing::TempDir dir_;
  std::vector<pid_t> pids_;
  std::vector<int> ports_;
};

}  // namespace chatvault::etcd::testing

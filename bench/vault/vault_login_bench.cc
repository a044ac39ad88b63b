// Durable OPAQUE logins per second against a real keyvaultd (SoftHSM2 token, SQLite store with
// synchronous=FULL, HTTPS on loopback), with concurrent clients on keep-alive connections. Each
// login is KE1 -> KE2 (guess counted with a durable compare-and-set) -> KE3 (counter reset with
// another durable write) -> wrapped key. The peer is a plain HTTPS round trip to the same server
// (GET /v1/health), so the ratio shows what OPAQUE and durability cost on top of the transport.
//
// The accounts use tiny Argon2id parameters: the KSF runs on the client, and on a 2-core box the
// clients share the CPU with the server, so real parameters would measure Argon2, not the vault.
#include <benchmark/benchmark.h>
#include <httplib.h>

#include <cstdlib>
#include <iostream>
#include <mutex>

#include "chatvault/vaultclient/vault_client.h"
#include "vault/keyvaultd_process.h"

namespace chatvault::vaultclient {
namespace {

constexpr int kAccounts = 64;  // one per client thread, so threads do not fight over one counter
constexpr const char* kPassword = "bench pass 1";

struct Vault {
  testing::KeyvaultdProcess process{std::string(testing::KeyvaultdProcess::kTestFlags) +
                                    " --threads 128"};
  Vault() {
    if (std::string err = process.Start(); !err.empty()) {
      std::cerr << err << "\n";
      std::abort();
    }
    auto c = VaultClient::Connect({process.url(), process.ca_file()}, ClientOptions{true}).value();
    for (int i = 0; i < kAccounts; ++i) {
      const std::string account = "bench" + std::to_string(i);
      Status s = c->Register(account, process.Token(account), kPassword, key::BackupKey::Generate());
      if (!s.ok()) {
        std::cerr << "registering " << account << ": " << s.ToString() << "\n";
        std::abort();
      }
    }
  }
};

Vault& TheVault() {
  static Vault* vault = new Vault;  // stopped by the atexit below
  static const bool stop_at_exit = [] {
    std::atexit([] { TheVault().process.Stop(); });
    return true;
  }();
  (void)stop_at_exit;
  return *vault;
}

void BM_DurableOpaqueLogin(benchmark::State& state) {
  Vault& vault = TheVault();
  auto client = VaultClient::Connect({vault.process.url(), vault.process.ca_file()},
                                     ClientOptions{true}).value();
  const std::string account = "bench" + std::to_string(state.thread_index() % kAccounts);
  for (auto _ : state) {
    auto got = client->Recover(account, kPassword);
    if (!got.ok()) {
      state.SkipWithError(got.status().ToString().c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_HttpsRoundTrip(benchmark::State& state) {
  Vault& vault = TheVault();
  httplib::Client http(vault.process.url());
  http.set_ca_cert_path(vault.process.ca_file().c_str());
  http.enable_server_certificate_verification(true);
  http.set_keep_alive(true);
  http.set_tcp_nodelay(true);
  for (auto _ : state) {
    auto res = http.Get("/v1/health");
    if (!res || res->status != 200) {
      state.SkipWithError("health request failed");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK(BM_HttpsRoundTrip)->ThreadRange(1, 16)->UseRealTime()->MinTime(2.0);
BENCHMARK(BM_DurableOpaqueLogin)->ThreadRange(1, 16)->UseRealTime()->MinTime(2.0);

}  // namespace
}  // namespace chatvault::vaultclient

BENCHMARK_MAIN();

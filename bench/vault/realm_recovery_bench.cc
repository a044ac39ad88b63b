// Threshold recovery (docs/REALMS.md) against the single vault's OPAQUE login, in one run: a
// keyvaultd for the single vault and three keyvaultd realms (each its own SoftHSM2 token and
// SQLite store, HTTPS on loopback), one client. Reported per recovery: wall time (the run's
// real time per iteration), the CPU each keyvaultd spent (realm_cpu_us: the busiest realm,
// realms_cpu_us: all three together; vault_cpu_us for the single vault).
//
// Argon2id is tiny here: it runs on the client, the same for both, and would hide what the
// servers and the protocol cost. A real recovery adds the device's Argon2id (64 MiB, 3 passes).
#include <benchmark/benchmark.h>

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include "chatvault/vaultclient/realm_client.h"
#include "chatvault/vaultclient/vault_client.h"
#include "vault/keyvaultd_process.h"
#include "vault/process_cpu.h"

namespace chatvault::vaultclient {
namespace {

constexpr const char* kPassword = "bench pass 1";
const opaque::KsfParams kTinyKsf{opaque::KsfAlgorithm::kArgon2id, 64, 1, 1};

double ProcessCpuMicros(const testing::KeyvaultdProcess& process) {
  std::ifstream pid_file(process.dir() + "/pid");
  std::string pid;
  pid_file >> pid;
  return bench::ProcessCpuMicros(pid);
}

void StartOrDie(testing::KeyvaultdProcess& process) {
  if (std::string err = process.Start(); !err.empty()) {
    std::cerr << err << "\n";
    std::abort();
  }
}

struct Setup {
  testing::KeyvaultdProcess vault;
  std::vector<std::unique_ptr<testing::KeyvaultdProcess>> realms;
  Setup() {
    StartOrDie(vault);
    for (int i = 0; i < 3; ++i) {
      realms.push_back(std::make_unique<testing::KeyvaultdProcess>());
      StartOrDie(*realms.back());
    }
    const key::BackupKey key = key::BackupKey::Generate();
    ClientOptions weak;
    weak.allow_weak_ksf = true;
    if (!VaultClient::Connect({vault.url(), vault.ca_file()}, weak)
             .value()
             ->Register("bench", vault.Token("bench"), kPassword, key)
             .ok() ||
        !Realms()->Register("bench", Tokens(), kPassword, key).ok()) {
      std::cerr << "registration failed\n";
      std::abort();
    }
  }
  std::vector<std::string> Tokens() const {
    std::vector<std::string> tokens;
    for (const auto& r : realms) tokens.push_back(r->Token("bench"));
    return tokens;
  }
  std::unique_ptr<RealmClient> Realms() const {
    RealmsConfig config;
    config.threshold = 2;
    for (const auto& r : realms) config.realms.push_back({r->url(), r->ca_file()});
    RealmOptions options;
    options.client.allow_weak_ksf = true;
    options.ksf = kTinyKsf;
    return std::move(RealmClient::Connect(config, options).value());
  }
  ~Setup() {
    vault.Stop();
    for (auto& r : realms) r->Stop();
  }
};

Setup& TheSetup() {
  static Setup* setup = new Setup;
  static const bool stop_at_exit = [] {
    std::atexit([] { delete &TheSetup(); });
    return true;
  }();
  (void)stop_at_exit;
  return *setup;
}

void BM_SingleVaultLogin(benchmark::State& state) {
  Setup& setup = TheSetup();
  ClientOptions weak;
  weak.allow_weak_ksf = true;
  auto client = VaultClient::Connect({setup.vault.url(), setup.vault.ca_file()}, weak).value();
  const double before = ProcessCpuMicros(setup.vault);
  for (auto _ : state) {
    if (!client->Recover("bench", kPassword).ok()) state.SkipWithError("login failed");
  }
  state.counters["vault_cpu_us"] =
      (ProcessCpuMicros(setup.vault) - before) / static_cast<double>(state.iterations());
}

void BM_RealmRecovery2of3(benchmark::State& state) {
  Setup& setup = TheSetup();
  auto client = setup.Realms();
  std::vector<double> before;
  for (const auto& r : setup.realms) before.push_back(ProcessCpuMicros(*r));
  for (auto _ : state) {
    if (!client->Recover("bench", kPassword).ok()) state.SkipWithError("recovery failed");
  }
  double busiest = 0, total = 0;
  for (size_t i = 0; i < setup.realms.size(); ++i) {
    const double cpu =
        (ProcessCpuMicros(*setup.realms[i]) - before[i]) / static_cast<double>(state.iterations());
    busiest = std::max(busiest, cpu);
    total += cpu;
  }
  state.counters["realm_cpu_us"] = busiest;
  state.counters["realms_cpu_us"] = total;
}

BENCHMARK(BM_SingleVaultLogin)->UseRealTime()->Unit(benchmark::kMillisecond)->MinTime(3.0);
BENCHMARK(BM_RealmRecovery2of3)->UseRealTime()->Unit(benchmark::kMillisecond)->MinTime(3.0);

}  // namespace
}  // namespace chatvault::vaultclient

BENCHMARK_MAIN();

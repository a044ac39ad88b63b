// Durable OPAQUE logins per second against a real keyvaultd (SoftHSM2 token, SQLite store with
// synchronous=FULL, HTTPS on loopback), with concurrent clients on keep-alive connections. Each
// login is KE1 -> KE2 (guess counted with a durable compare-and-set) -> KE3 (counter reset with
// another durable write) -> wrapped key. The peer is a plain HTTPS round trip to the same server
// (GET /v1/health), so the ratio shows what OPAQUE and durability cost on top of the transport.
//
// The accounts use tiny Argon2id parameters: the KSF runs on the client, and on a 2-core box the
// clients share the CPU with the server, so real parameters would measure Argon2, not the vault.
//
// Because the clients (OPAQUE, TLS) run on the same cores, items_per_second is what this box
// achieves with clients and server together, not what the server could serve. The server_*
// counters state the server's own cost: keyvaultd's CPU time (utime + stime from /proc) over
// the run, per login or request; server_busy_cores is how many cores it kept busy; and
// server_capacity_per_s is how many per second its CPU cost would allow on all of this
// machine's cores if the clients ran elsewhere (an upper bound: it ignores fsync waits).
#include <benchmark/benchmark.h>
#include <httplib.h>

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>
#include <thread>

#include "chatvault/vaultclient/vault_client.h"
#include "vault/keyvaultd_process.h"

namespace chatvault::vaultclient {
namespace {

// The test vaults ask for tiny Argon2id parameters, which a real client refuses.
ClientOptions WeakKsfAllowed() {
  ClientOptions options;
  options.allow_weak_ksf = true;
  return options;
}

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
    auto c = VaultClient::Connect({process.url(), process.ca_file()}, WeakKsfAllowed()).value();
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

// CPU time (user + system, all threads) that process `pid` has used so far, in microseconds.
double ProcessCpuMicros(const std::string& pid) {
  std::ifstream in("/proc/" + pid + "/stat");
  const std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // The command name (field 2) may hold spaces; the fields after its ')' are plain numbers.
  std::istringstream rest(stat.substr(stat.rfind(')') + 1));
  std::string skipped;
  for (int field = 3; field <= 13; ++field) rest >> skipped;
  unsigned long long utime = 0, stime = 0;
  rest >> utime >> stime;
  return static_cast<double>(utime + stime) * 1e6 / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// Measures keyvaultd's CPU time across a benchmark run. Only thread 0 measures: the benchmark
// library holds every thread at a barrier before the first and after the last iteration, so
// thread 0's readings bracket all threads' requests.
class ServerCpu {
 public:
  ServerCpu(benchmark::State& state, const std::string& pid) : state_(state), pid_(pid) {
    if (state_.thread_index() != 0) return;
    cpu_us_ = ProcessCpuMicros(pid_);
    start_ = std::chrono::steady_clock::now();
  }

  void Report() {
    if (state_.thread_index() != 0 || state_.iterations() == 0) return;
    const double cpu_us = ProcessCpuMicros(pid_) - cpu_us_;
    const double wall_us =
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start_)
            .count();
    const double ops = static_cast<double>(state_.iterations()) * state_.threads();
    const double per_op = cpu_us / ops;
    state_.counters["server_cpu_us"] = per_op;
    state_.counters["server_busy_cores"] = cpu_us / wall_us;
    state_.counters["server_capacity_per_s"] =
        per_op > 0 ? std::thread::hardware_concurrency() * 1e6 / per_op : 0;
  }

 private:
  benchmark::State& state_;
  std::string pid_;
  double cpu_us_ = 0;
  std::chrono::steady_clock::time_point start_;
};

std::string ServerPid(const Vault& vault) {
  std::ifstream in(vault.process.dir() + "/pid");
  std::string pid;
  in >> pid;
  return pid;
}

void BM_DurableOpaqueLogin(benchmark::State& state) {
  Vault& vault = TheVault();
  auto client = VaultClient::Connect({vault.process.url(), vault.process.ca_file()},
                                     WeakKsfAllowed()).value();
  const std::string account = "bench" + std::to_string(state.thread_index() % kAccounts);
  ServerCpu server_cpu(state, ServerPid(vault));
  for (auto _ : state) {
    auto got = client->Recover(account, kPassword);
    if (!got.ok()) {
      state.SkipWithError(got.status().ToString().c_str());
      break;
    }
  }
  server_cpu.Report();
  state.SetItemsProcessed(state.iterations());
}

void BM_HttpsRoundTrip(benchmark::State& state) {
  Vault& vault = TheVault();
  httplib::Client http(vault.process.url());
  http.set_ca_cert_path(vault.process.ca_file().c_str());
  http.enable_server_certificate_verification(true);
  http.set_keep_alive(true);
  http.set_tcp_nodelay(true);
  ServerCpu server_cpu(state, ServerPid(vault));
  for (auto _ : state) {
    auto res = http.Get("/v1/health");
    if (!res || res->status != 200) {
      state.SkipWithError("health request failed");
      break;
    }
  }
  server_cpu.Report();
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK(BM_HttpsRoundTrip)->ThreadRange(1, 16)->UseRealTime()->MinTime(2.0);
BENCHMARK(BM_DurableOpaqueLogin)->ThreadRange(1, 16)->UseRealTime()->MinTime(2.0);

}  // namespace
}  // namespace chatvault::vaultclient

BENCHMARK_MAIN();

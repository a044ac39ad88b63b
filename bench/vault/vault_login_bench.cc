// Durable OPAQUE logins per second against real keyvaultd processes, and what each login costs
// the vault in CPU, next to the OPAQUE server's own crypto for one login measured in the same
// run on the same core (the peer: the issue-13 target is keyvaultd's whole CPU per login at
// most 1.5x of it).
//
// Two deployments, each started once and measured with 1 to 32 client threads on keep-alive
// connections (bench/README.md):
//   single  one keyvaultd, SQLite store (WAL, synchronous=FULL), clients connect to it directly;
//   fleet   three keyvaultd on a 3-member etcd cluster behind nginx (tools/vault/start-fleet.sh),
//           clients connect to nginx, which balances round robin.
// A login is KE1 -> KE2 (the guess counted with a durable compare-and-set) -> KE3 (checked, the
// counter settled with another durable write) -> wrapped key.
//
// Pinning: with two or more cores, every server process (keyvaultd, nginx, etcd) runs on the
// cores but the last, and the client threads on the last one, so the clients' OPAQUE and TLS do
// not land in the servers' CPU time and the servers do not get the clients' core. The OPAQUE
// peer runs on the servers' cores too. keyvaultd's CPU is utime + stime from /proc/<pid>/stat,
// summed over its instances, before and after each run.
//
// The accounts use tiny Argon2id parameters: the KSF runs on the client, and the client's core
// would otherwise measure Argon2, not the vault.
#include <benchmark/benchmark.h>
#include <httplib.h>
#include <sched.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <thread>
#include <vector>

#include "chatvault/crypto/random.h"
#include "chatvault/opaque/client.h"
#include "chatvault/opaque/server.h"
#include "chatvault/vaultclient/vault_client.h"
#include "support/temp_dir.h"
#include "vault/keyvaultd_process.h"
#include "vault/login_session.h"
#include "vault/process_cpu.h"

namespace chatvault::vaultclient {
namespace {

constexpr int kAccounts = 64;  // one per client thread, so threads do not fight over one counter
constexpr const char* kPassword = "bench pass 1";
constexpr const char* kTestFlags = "--ksf-memory-kib 64 --ksf-iterations 1";

// ---- Pinning ---------------------------------------------------------------------------------

int Cores() { return static_cast<int>(std::thread::hardware_concurrency()); }

void PinTo(int first, int last) {
  cpu_set_t set;
  CPU_ZERO(&set);
  for (int c = first; c <= last; ++c) CPU_SET(c, &set);
  sched_setaffinity(0, sizeof set, &set);
}
// The servers get every core but the last; with one core, everyone shares it.
void PinServerSide() {
  if (Cores() >= 2) PinTo(0, Cores() - 2);
}
void PinClientSide() {
  if (Cores() >= 2) PinTo(Cores() - 1, Cores() - 1);
}
std::string Pinning() {
  if (Cores() < 2) return "one core: clients and servers share it";
  return "servers on cores 0-" + std::to_string(Cores() - 2) + ", clients on core " +
         std::to_string(Cores() - 1);
}

// ---- Processes and their CPU -------------------------------------------------------------------

std::string ReadLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

// The CPU of a group of processes (keyvaultd instances, nginx's master and workers, etcd).
struct ProcessGroup {
  std::vector<std::string> pids;
  double CpuMicros() const {
    double total = 0;
    for (const std::string& pid : pids) total += bench::ProcessCpuMicros(pid);
    return total;
  }
};

// nginx's workers are children of the master whose PID the fleet records.
std::vector<std::string> WithChildren(const std::string& pid) {
  std::vector<std::string> all = {pid};
  std::istringstream children(testing::RunCommand("pgrep -P " + pid));
  for (std::string child; children >> child;) all.push_back(child);
  return all;
}

// ---- Deployments -------------------------------------------------------------------------------

// CHATVAULT_BENCH_KEYVAULTD_FLAGS: more keyvaultd flags, to compare settings.
std::string ExtraFlags() {
  const char* flags = std::getenv("CHATVAULT_BENCH_KEYVAULTD_FLAGS");
  return flags ? flags : "";
}

class Deployment {
 public:
  virtual ~Deployment() = default;
  virtual std::string url() const = 0;
  virtual std::string ca() const = 0;
  virtual std::string Token(const std::string& account) const = 0;
  virtual std::map<std::string, ProcessGroup> Groups() const = 0;  // "keyvaultd" first

  void RegisterAccounts() {
    auto c = Client();
    for (int i = 0; i < kAccounts; ++i) {
      const std::string account = "bench" + std::to_string(i);
      Status s = c->Register(account, Token(account), kPassword, key::BackupKey::Generate());
      if (!s.ok()) {
        std::cerr << "registering " << account << ": " << s.ToString() << "\n";
        std::abort();
      }
    }
  }

  std::unique_ptr<VaultClient> Client() const {
    ClientOptions options;
    options.allow_weak_ksf = true;
    return std::move(VaultClient::Connect({url(), ca()}, std::move(options)).value());
  }
};

class SingleVault final : public Deployment {
 public:
  SingleVault() {
    if (std::string err = process_.Start(); !err.empty()) {
      std::cerr << err << "\n";
      std::abort();
    }
  }
  ~SingleVault() override { process_.Stop(); }
  std::string url() const override { return process_.url(); }
  std::string ca() const override { return process_.ca_file(); }
  std::string Token(const std::string& account) const override { return process_.Token(account); }
  std::map<std::string, ProcessGroup> Groups() const override {
    return {{"keyvaultd", {{std::to_string(process_.pid())}}}};
  }

 private:
  testing::KeyvaultdProcess process_{std::string(kTestFlags) + " " + ExtraFlags()};
};

class Fleet final : public Deployment {
 public:
  Fleet() {
    int rc = 0;
    url_ = testing::RunCommand(std::string("KEYVAULTD_FLAGS='") + kTestFlags + " " + ExtraFlags() +
                                   "' " + CHATVAULT_SOURCE_DIR + "/tools/vault/start-fleet.sh " +
                                   CHATVAULT_BINARY_DIR + "/src/vault/keyvaultd " + dir() + " 3 " +
                                   std::to_string(::getpid()),
                               &rc);
    if (rc != 0) {
      std::cerr << "the fleet did not start: " << url_ << "\n";
      std::abort();
    }
  }
  ~Fleet() override {
    testing::RunCommand(std::string(CHATVAULT_SOURCE_DIR) + "/tools/vault/stop-fleet.sh " + dir());
  }
  std::string url() const override { return url_; }
  std::string ca() const override { return dir() + "/ca/ca.pem"; }
  std::string Token(const std::string& account) const override {
    return testing::RunCommand(std::string(CHATVAULT_BINARY_DIR) +
                               "/src/vault/keyvaultd issue-token --token-keys-file " + dir() +
                               "/token-keys --account " + account);
  }
  std::map<std::string, ProcessGroup> Groups() const override {
    std::map<std::string, ProcessGroup> groups;
    for (int i = 1; i <= 3; ++i) {
      groups["keyvaultd"].pids.push_back(ReadLine(dir() + "/kv" + std::to_string(i) + "/pid"));
      groups["etcd"].pids.push_back(ReadLine(dir() + "/etcd/m" + std::to_string(i) + ".pid"));
    }
    groups["nginx"].pids = WithChildren(ReadLine(dir() + "/nginx/pid"));
    return groups;
  }

 private:
  std::string dir() const { return dir_.Sub("fleet"); }
  testing::TempDir dir_;
  std::string url_;
};

std::map<std::string, std::unique_ptr<Deployment>>& Deployments() {
  static auto* deployments = new std::map<std::string, std::unique_ptr<Deployment>>;
  return *deployments;
}

// ---- The OPAQUE peer ---------------------------------------------------------------------------

// CPU microseconds of the OPAQUE server's work for one login (bench/opaque ServerLogin: parse
// KE1, KE2, serialize, parse KE3, check it), measured on the servers' core.
double g_opaque_login_us = 0;

double ThreadCpuMicros() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) * 1e6 + static_cast<double>(t.tv_nsec) / 1e3;
}

void BM_OpaqueServerLogin(benchmark::State& state) {
  PinServerSide();
  const Bytes user = ToBytes("bench-user");
  const Bytes password = ToBytes("correct horse battery staple");
  opaque::ServerSetup server = opaque::ServerSetup::Generate(AsBytes("vault"));
  const opaque::Identities ids{{}, ToBytes("vault")};
  auto reg = opaque::ClientRegistration::Start(password);
  auto response = server.CreateRegistrationResponse(reg->request(), user);
  const auto record =
      std::move(*reg).Finish(*response, ids, opaque::KsfParams::IdentityForTests())->record;
  auto login = opaque::ClientLogin::Start(password);
  const Bytes ke1_wire = login->ke1().Serialize();
  auto first = server.StartLogin(record, user, login->ke1());
  auto finished =
      std::move(*login).Finish(first->ke2(), ids, opaque::KsfParams::IdentityForTests());
  const Bytes ke3_wire = finished->ke3.Serialize();
  const double cpu_before = ThreadCpuMicros();
  for (auto _ : state) {
    auto ke1 = opaque::KE1::Parse(ke1_wire);
    auto s = server.StartLogin(record, user, *ke1);
    benchmark::DoNotOptimize(s->ke2().Serialize());
    auto ke3 = opaque::KE3::Parse(ke3_wire);
    benchmark::DoNotOptimize(std::move(*s).Finish(*ke3));
  }
  g_opaque_login_us = (ThreadCpuMicros() - cpu_before) / static_cast<double>(state.iterations());
  state.counters["cpu_us"] = g_opaque_login_us;
  PinClientSide();
}

// What the stateless login adds to a login: sealing the state between KE2 and KE3 for the
// client to carry, and opening it again (AES-256-GCM and hex, on the servers' core).
void BM_LoginSessionSealOpen(benchmark::State& state) {
  PinServerSide();
  vault::LoginSessionSealer sealer(crypto::RandomSecret(32), std::chrono::seconds(600));
  vault::LoginSession session;
  session.account = "bench12";
  session.serial = 7;
  session.server_state = crypto::RandomSecret(opaque::ServerLogin::kStateSize);
  for (auto _ : state) {
    auto sealed = sealer.Seal(vault::SessionPurpose::kOpaqueLogin, session, 1'800'000'000);
    benchmark::DoNotOptimize(
        sealer.Open(vault::SessionPurpose::kOpaqueLogin, *sealed, 1'800'000'000));
  }
  PinClientSide();
}

// ---- The vault benchmarks ----------------------------------------------------------------------

// Measures the servers' CPU across a run. Only thread 0 measures: the benchmark library holds
// every thread at a barrier before the first and after the last iteration, so its readings
// bracket all threads' requests.
class ServerCpu {
 public:
  ServerCpu(benchmark::State& state, const Deployment& deployment) : state_(state) {
    if (state_.thread_index() != 0) return;
    groups_ = deployment.Groups();
    for (const auto& [name, group] : groups_) before_[name] = group.CpuMicros();
    start_ = std::chrono::steady_clock::now();
  }

  void Report() {
    if (state_.thread_index() != 0 || state_.iterations() == 0) return;
    const double wall_us =
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start_)
            .count();
    const double ops = static_cast<double>(state_.iterations()) * state_.threads();
    double all = 0;
    for (const auto& [name, group] : groups_) {
      const double used = group.CpuMicros() - before_[name];
      all += used;
      state_.counters[name + "_cpu_us"] = used / ops;
    }
    const double vault = (groups_["keyvaultd"].CpuMicros() - before_["keyvaultd"]) / ops;
    if (g_opaque_login_us > 0) state_.counters["vault_x_opaque"] = vault / g_opaque_login_us;
    state_.counters["server_cores_busy"] = all / wall_us;
  }

 private:
  benchmark::State& state_;
  std::map<std::string, ProcessGroup> groups_;
  std::map<std::string, double> before_;
  std::chrono::steady_clock::time_point start_;
};

void DurableLogin(benchmark::State& state, const std::string& name) {
  Deployment& deployment = *Deployments().at(name);
  auto client = deployment.Client();
  const std::string account = "bench" + std::to_string(state.thread_index() % kAccounts);
  ServerCpu server_cpu(state, deployment);
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

// The transport's cost alone: GET /v1/health, no OPAQUE and no durable write.
void HttpsRoundTrip(benchmark::State& state, const std::string& name) {
  Deployment& deployment = *Deployments().at(name);
  httplib::Client http(deployment.url());
  http.set_ca_cert_path(deployment.ca().c_str());
  http.enable_server_certificate_verification(true);
  http.set_keep_alive(true);
  http.set_tcp_nodelay(true);
  ServerCpu server_cpu(state, deployment);
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

}  // namespace
}  // namespace chatvault::vaultclient

// --deployments=single,fleet (default both) picks what to start, before the library's flags.
int main(int argc, char** argv) {
  using namespace chatvault::vaultclient;
  std::string wanted = "single,fleet";
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    if (std::strncmp(argv[i], "--deployments=", 14) == 0) {
      wanted = argv[i] + 14;
    } else {
      args.push_back(argv[i]);
    }
  }
  int args_count = static_cast<int>(args.size());
  benchmark::Initialize(&args_count, args.data());
  std::cerr << "pinning: " << Pinning() << "\n";
  PinServerSide();  // the servers inherit this
  if (wanted.find("single") != std::string::npos) {
    Deployments()["single"] = std::make_unique<SingleVault>();
  }
  if (wanted.find("fleet") != std::string::npos) {
    Deployments()["fleet"] = std::make_unique<Fleet>();
  }
  PinClientSide();
  for (auto& [name, deployment] : Deployments()) deployment->RegisterAccounts();

  // CHATVAULT_BENCH_SECONDS stretches every run, e.g. to profile keyvaultd under load meanwhile.
  const char* seconds = std::getenv("CHATVAULT_BENCH_SECONDS");
  const double login_seconds = seconds ? std::atof(seconds) : 3.0;
  const double round_trip_seconds = seconds ? std::atof(seconds) : 2.0;
  benchmark::RegisterBenchmark("BM_OpaqueServerLogin", BM_OpaqueServerLogin);
  benchmark::RegisterBenchmark("BM_LoginSessionSealOpen", BM_LoginSessionSealOpen);
  for (const auto& [name, deployment] : Deployments()) {
    benchmark::RegisterBenchmark(("BM_HttpsRoundTrip/" + name).c_str(), HttpsRoundTrip, name)
        ->ThreadRange(1, 16)
        ->UseRealTime()
        ->MinTime(round_trip_seconds);
    benchmark::RegisterBenchmark(("BM_DurableLogin/" + name).c_str(), DurableLogin, name)
        ->ThreadRange(1, 32)
        ->UseRealTime()
        ->MinTime(login_seconds);
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  Deployments().clear();  // stops every server
  return 0;
}

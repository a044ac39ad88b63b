// Cost of each OPAQUE step. The number that matters for the vault is ServerLogin (KE2 + KE3
// check) per login; RistrettoScalarMult is the peer it is measured against (a login costs a
// handful of these).
#include <benchmark/benchmark.h>
#include <sodium.h>

#include "chatvault/opaque/client.h"
#include "chatvault/opaque/server.h"

namespace chatvault::opaque {
namespace {

const Bytes kUser = ToBytes("bench-user");
const Bytes kPassword = ToBytes("correct horse battery staple");
const KsfParams kFast = KsfParams::IdentityForTests();
// The server below is set up with the identity "vault"; clients must name it the same way, or
// every login fails its MAC check (and the benchmarks read a failed result).
const Identities kIds{{}, ToBytes("vault")};

struct Fixture {
  ServerSetup server = ServerSetup::Generate(AsBytes("vault"));
  RegistrationRecord record;
  Fixture() {
    auto reg = ClientRegistration::Start(kPassword);
    auto resp = server.CreateRegistrationResponse(reg->request(), kUser);
    record = std::move(*reg).Finish(*resp, kIds, kFast)->record;
  }
};

Fixture& Shared() {
  static Fixture f;
  return f;
}

void RistrettoScalarMult(benchmark::State& state) {
  if (sodium_init() < 0) state.SkipWithError("sodium_init failed");
  uint8_t s[32], p[32], q[32];
  crypto_core_ristretto255_scalar_random(s);
  crypto_scalarmult_ristretto255_base(p, s);
  for (auto _ : state) {
    benchmark::DoNotOptimize(crypto_scalarmult_ristretto255(q, s, p));
  }
}
BENCHMARK(RistrettoScalarMult);

void ClientRegistrationStart(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(ClientRegistration::Start(kPassword));
}
BENCHMARK(ClientRegistrationStart);

void ServerRegistrationResponse(benchmark::State& state) {
  Fixture& f = Shared();
  auto reg = ClientRegistration::Start(kPassword);
  for (auto _ : state) {
    benchmark::DoNotOptimize(f.server.CreateRegistrationResponse(reg->request(), kUser));
  }
}
BENCHMARK(ServerRegistrationResponse);

void ClientRegistrationFinishIdentityKsf(benchmark::State& state) {
  Fixture& f = Shared();
  for (auto _ : state) {
    state.PauseTiming();
    auto reg = ClientRegistration::Start(kPassword);
    auto resp = f.server.CreateRegistrationResponse(reg->request(), kUser);
    state.ResumeTiming();
    benchmark::DoNotOptimize(std::move(*reg).Finish(*resp, kIds, kFast));
  }
}
// Benchmarks that pause the timer get a fixed count: the paused setup would otherwise make the
// library run them for minutes.
BENCHMARK(ClientRegistrationFinishIdentityKsf)->Iterations(300);

// The real client cost is dominated by Argon2id with the default parameters (64 MiB, t = 3).
void ClientArgon2idDefault(benchmark::State& state) {
  const Bytes msg(64, 1);
  for (auto _ : state) benchmark::DoNotOptimize(Stretch(KsfParams::Default(), msg));
}
BENCHMARK(ClientArgon2idDefault)->Unit(benchmark::kMillisecond)->Iterations(3);

void ClientLoginStart(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(ClientLogin::Start(kPassword));
}
BENCHMARK(ClientLoginStart);

void ServerKE2(benchmark::State& state) {
  Fixture& f = Shared();
  auto login = ClientLogin::Start(kPassword);
  for (auto _ : state) {
    benchmark::DoNotOptimize(f.server.StartLogin(f.record, kUser, login->ke1()));
  }
}
BENCHMARK(ServerKE2);

void ServerFakeKE2(benchmark::State& state) {
  Fixture& f = Shared();
  auto login = ClientLogin::Start(kPassword);
  for (auto _ : state) {
    benchmark::DoNotOptimize(f.server.StartFakeLogin(AsBytes("nobody"), login->ke1()));
  }
}
BENCHMARK(ServerFakeKE2);

void ClientLoginFinishIdentityKsf(benchmark::State& state) {
  Fixture& f = Shared();
  for (auto _ : state) {
    state.PauseTiming();
    auto login = ClientLogin::Start(kPassword);
    auto s = f.server.StartLogin(f.record, kUser, login->ke1());
    state.ResumeTiming();
    benchmark::DoNotOptimize(std::move(*login).Finish(s->ke2(), kIds, kFast));
  }
}
BENCHMARK(ClientLoginFinishIdentityKsf)->Iterations(300);

void ServerKE3Check(benchmark::State& state) {
  Fixture& f = Shared();
  for (auto _ : state) {
    state.PauseTiming();
    auto login = ClientLogin::Start(kPassword);
    auto s = f.server.StartLogin(f.record, kUser, login->ke1());
    auto c = std::move(*login).Finish(s->ke2(), kIds, kFast);
    state.ResumeTiming();
    benchmark::DoNotOptimize(std::move(*s).Finish(c->ke3));
  }
}
BENCHMARK(ServerKE3Check)->Iterations(300);

// Everything the vault does for one login: parse KE1, KE2, serialize, parse KE3, check it.
void ServerLogin(benchmark::State& state) {
  Fixture& f = Shared();
  auto login = ClientLogin::Start(kPassword);
  const Bytes ke1_wire = login->ke1().Serialize();
  auto s0 = f.server.StartLogin(f.record, kUser, login->ke1());
  auto c = std::move(*login).Finish(s0->ke2(), kIds, kFast);
  const Bytes ke3_wire = c->ke3.Serialize();  // fails the MAC check (other session): same work
  for (auto _ : state) {
    auto ke1 = KE1::Parse(ke1_wire);
    auto s = f.server.StartLogin(f.record, kUser, *ke1);
    benchmark::DoNotOptimize(s->ke2().Serialize());
    auto ke3 = KE3::Parse(ke3_wire);
    benchmark::DoNotOptimize(std::move(*s).Finish(*ke3));
  }
}
BENCHMARK(ServerLogin);

}  // namespace
}  // namespace chatvault::opaque

BENCHMARK_MAIN();

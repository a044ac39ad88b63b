// Durable logins per second on the replicated etcd store versus the embedded SQLite store, in
// the same run on the same machine. A login touches the store the way keyvaultd does: read the
// record, count the guess with a compare-and-set (durable before KE2 is sent), then reset the
// counter with another compare-and-set after a valid KE3. Each thread logs in to its own
// account, so the numbers measure the store, not contention on one key.
//
// Prints the ratio etcd/SQLite per thread count at the end. Run on an idle machine:
//   build/bench/etcd/etcd_store_bench --benchmark_min_time=2
#include <benchmark/benchmark.h>

#include <cstdio>
#include <map>
#include <memory>
#include <string>

#include "chatvault/etcd/etcd_record_store.h"
#include "chatvault/vaultstore/sqlite_record_store.h"
#include "etcd/etcd_cluster.h"
#include "support/temp_dir.h"

namespace {

using chatvault::Bytes;
using chatvault::vaultstore::RecordStore;

std::unique_ptr<chatvault::etcd::testing::EtcdCluster> g_cluster;
std::unique_ptr<chatvault::testing::TempDir> g_sqlite_dir;

std::unique_ptr<RecordStore> OpenEtcd() {
  auto options = chatvault::etcd::ParseEtcdSpec(g_cluster->Spec("bench"));
  if (!options.ok()) return nullptr;
  auto store = chatvault::etcd::OpenEtcdRecordStore(*options);
  return store.ok() ? std::move(store).value() : nullptr;
}

std::unique_ptr<RecordStore> OpenSqlite() {
  auto store = chatvault::vaultstore::OpenSqliteRecordStore(g_sqlite_dir->Sub("records.db"));
  return store.ok() ? std::move(store).value() : nullptr;
}

// A record the size of a real one (OPAQUE record, wrapped key, counter, sealing overhead).
Bytes Record(uint8_t counter) {
  Bytes r(400, 0x5a);
  r[0] = counter;
  return r;
}

bool Login(RecordStore& store, const std::string& account) {
  auto read = store.Get(account);
  if (!read.ok()) return false;
  uint64_t version = read->has_value() ? (*read)->version : 0;
  auto counted = store.CompareAndSet(account, version, Record(1));
  if (!counted.ok()) return false;
  auto reset = store.CompareAndSet(account, *counted, Record(0));
  return reset.ok();
}

void RunLogins(benchmark::State& state, std::unique_ptr<RecordStore> (*open)()) {
  // One client per thread, like one keyvaultd instance per thread.
  auto store = open();
  if (!store) {
    state.SkipWithError("cannot open the store");
    return;
  }
  const std::string account = "acct/" + std::to_string(state.thread_index());
  for (auto _ : state) {
    if (!Login(*store, account)) {
      state.SkipWithError("a login failed");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_LoginEtcd(benchmark::State& state) { RunLogins(state, OpenEtcd); }
void BM_LoginSqlite(benchmark::State& state) { RunLogins(state, OpenSqlite); }

BENCHMARK(BM_LoginSqlite)->Threads(1)->Threads(8)->UseRealTime();
BENCHMARK(BM_LoginEtcd)->Threads(1)->Threads(8)->UseRealTime();

// Remembers logins/s per benchmark so main can print the ratios.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& run : runs) {
      auto it = run.counters.find("items_per_second");
      if (it != run.counters.end() && !run.error_occurred) {
        rates_[run.benchmark_name()] = it->second.value;
      }
    }
    ConsoleReporter::ReportRuns(runs);
  }
  void PrintRatios() const {
    for (const char* threads : {"threads:1", "threads:8"}) {
      const std::string suffix = std::string("/real_time/") + threads;
      auto e = rates_.find("BM_LoginEtcd" + suffix);
      auto s = rates_.find("BM_LoginSqlite" + suffix);
      if (e == rates_.end() || s == rates_.end() || s->second == 0) continue;
      std::printf("logins/s with %s: etcd (3 members) %.0f, sqlite %.0f, ratio etcd/sqlite %.2f\n",
                  threads, e->second, s->second, e->second / s->second);
    }
  }

 private:
  std::map<std::string, double> rates_;
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  chatvault::etcd::RegisterEtcdRecordStore();
  g_cluster = chatvault::etcd::testing::EtcdCluster::Start();
  if (!g_cluster) {
    std::fprintf(stderr, "etcd_store_bench: the etcd cluster did not start\n");
    return 1;
  }
  g_sqlite_dir = std::make_unique<chatvault::testing::TempDir>();
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  reporter.PrintRatios();
  g_cluster.reset();
  g_sqlite_dir.reset();
  benchmark::Shutdown();
  return 0;
}

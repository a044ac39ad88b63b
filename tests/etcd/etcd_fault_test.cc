// Faults on a real 3-member etcd cluster: many concurrent writers on different members, the
// leader killed mid-load, a member cut off by iptables, and the loss of quorum. The workload
// (append_log.h) appends unique ids with read + compare-and-set, so a lost acknowledged write,
// a write applied twice, or a conflict that was really applied all show up in the final record.
#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

#include "chatvault/etcd/etcd_record_store.h"
#include "chatvault/vaultstore/store_registry.h"
#include "etcd/append_log.h"
#include "etcd/etcd_cluster.h"
#include "support/status_matchers.h"

namespace chatvault::etcd {
namespace {

using ::chatvault::testing::IsOk;
using std::chrono::seconds;
using testing::AppendStats;
using vaultstore::RecordStore;

constexpr char kKey[] = "counter";

std::unique_ptr<RecordStore> Open(const std::string& spec) {
  EXPECT_TRUE(RegisterEtcdRecordStore());
  auto store = vaultstore::OpenRecordStore(spec);
  EXPECT_THAT(store, IsOk());
  return store.ok() ? std::move(store).value() : nullptr;
}

// `writers` threads, each with its own client (and so its own connections), append
// `per_writer` ids. `during` runs on the test thread once a third of the ids are in.
struct LoadResult {
  std::set<std::string> ids;
  AppendStats stats;
  bool finished = true;
};

template <typename Fault>
LoadResult RunLoad(testing::EtcdCluster& cluster, const std::string& prefix, int writers,
                   int per_writer, Fault during) {
  LoadResult result;
  std::atomic<int> done{0};
  std::vector<AppendStats> stats(writers);
  std::vector<char> finished(writers, 1);
  std::vector<std::thread> threads;
  const auto give_up = std::chrono::steady_clock::now() + seconds(90);
  for (int w = 0; w < writers; ++w) {
    for (int i = 0; i < per_writer; ++i)
      result.ids.insert("w" + std::to_string(w) + "." + std::to_string(i));
  }
  for (int w = 0; w < writers; ++w) {
    threads.emplace_back([&, w] {
      // Writers start on different members, so requests reach followers and the leader alike.
      auto store = Open(cluster.Spec(prefix, "attempt_ms=1000&timeout_ms=4000"));
      if (!store) return;
      for (int i = 0; i < per_writer; ++i) {
        const std::string id = "w" + std::to_string(w) + "." + std::to_string(i);
        if (!testing::AppendId(*store, kKey, id, give_up, stats[w])) {
          finished[w] = 0;
          return;
        }
        ++done;
      }
    });
  }
  const int total = writers * per_writer;
  while (done < total / 3 && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  during();
  for (auto& t : threads) t.join();
  for (int w = 0; w < writers; ++w) {
    result.finished = result.finished && finished[w];
    result.stats.acknowledged += stats[w].acknowledged;
    result.stats.confirmed_by_read += stats[w].confirmed_by_read;
    result.stats.conflicts += stats[w].conflicts;
    result.stats.unavailable += stats[w].unavailable;
    for (auto& v : stats[w].violations) result.stats.violations.push_back(v);
  }
  return result;
}

void ExpectExactlyOnce(testing::EtcdCluster& cluster, const std::string& prefix,
                       const LoadResult& load) {
  EXPECT_TRUE(load.finished) << "some writers could not finish within the time limit";
  for (const auto& v : load.stats.violations) ADD_FAILURE() << v;
  auto store = Open(cluster.Spec(prefix));
  ASSERT_NE(store, nullptr);
  auto final_record = store->Get(kKey);
  ASSERT_THAT(final_record, IsOk());
  ASSERT_TRUE(final_record->has_value());
  EXPECT_EQ(testing::CheckExactlyOnce((*final_record)->value, load.ids), "");
  std::printf(
      "  %zu ids: %d acknowledged, %d confirmed by a later read, %d conflicts retried, "
      "%d unavailable retried\n",
      load.ids.size(), load.stats.acknowledged, load.stats.confirmed_by_read, load.stats.conflicts,
      load.stats.unavailable);
}

std::unique_ptr<testing::EtcdCluster> StartCluster() {
  auto cluster = testing::EtcdCluster::Start();
  EXPECT_NE(cluster, nullptr) << "the etcd cluster did not start";
  return cluster;
}

TEST(EtcdFaults, ConcurrentWritersLoseNothingAndApplyNothingTwice) {
  auto cluster = StartCluster();
  ASSERT_NE(cluster, nullptr);
  auto load = RunLoad(*cluster, "concurrent", 8, 12, [] {});
  ExpectExactlyOnce(*cluster, "concurrent", load);
  EXPECT_EQ(load.stats.acknowledged, 8 * 12);  // nothing failed, so every write was acknowledged
  EXPECT_GT(load.stats.conflicts, 0);          // 8 writers on one key must have collided
}

TEST(EtcdFaults, LeaderKilledMidLoad) {
  auto cluster = StartCluster();
  ASSERT_NE(cluster, nullptr);
  int killed = 0;
  auto load = RunLoad(*cluster, "leaderkill", 6, 12, [&] {
    killed = cluster->Leader();
    ASSERT_GT(killed, 0);
    ASSERT_TRUE(cluster->Kill(killed));
  });
  ASSERT_GT(killed, 0);
  const int new_leader = cluster->Leader();
  EXPECT_GT(new_leader, 0);
  EXPECT_NE(new_leader, killed);
  ExpectExactlyOnce(*cluster, "leaderkill", load);
  // The killed member comes back with its old data and catches up.
  ASSERT_TRUE(cluster->Restart(killed));
  auto only_it = Open(cluster->MemberSpec(killed, "leaderkill", "timeout_ms=15000"));
  ASSERT_NE(only_it, nullptr);
  auto through_it = only_it->Get(kKey);
  ASSERT_THAT(through_it, IsOk());
  ASSERT_TRUE(through_it->has_value());
  EXPECT_EQ(testing::CheckExactlyOnce((*through_it)->value, load.ids), "");
}

TEST(EtcdFaults, PartitionedLeaderIsRoutedAroundAndServesNoStaleReads) {
  auto cluster = StartCluster();
  ASSERT_NE(cluster, nullptr);
  int cut = 0;
  auto load = RunLoad(*cluster, "partition", 6, 12, [&] {
    cut = cluster->Leader();
    ASSERT_GT(cut, 0);
    ASSERT_TRUE(cluster->Partition(cut));
  });
  ASSERT_GT(cut, 0);
  ExpectExactlyOnce(*cluster, "partition", load);
  // Through the cut-off member alone, the answer is "unavailable", never the old value.
  auto isolated = Open(cluster->MemberSpec(cut, "partition", "attempt_ms=500&timeout_ms=1500"));
  ASSERT_NE(isolated, nullptr);
  auto stale = isolated->Get(kKey);
  ASSERT_FALSE(stale.ok()) << "a member cut off from the majority answered a read";
  EXPECT_EQ(stale.status().code(), Code::kUnavailable);
  EXPECT_EQ(isolated->CompareAndSet("other", 0, Bytes{1}).status().code(), Code::kUnavailable);
  EXPECT_EQ(isolated->Health().code(), Code::kUnavailable);
  // Healed, it serves the current value again.
  ASSERT_TRUE(cluster->Heal(cut));
  auto healed = Open(cluster->MemberSpec(cut, "partition", "timeout_ms=15000"));
  auto fresh = healed->Get(kKey);
  ASSERT_THAT(fresh, IsOk());
  ASSERT_TRUE(fresh->has_value());
  EXPECT_EQ(testing::CheckExactlyOnce((*fresh)->value, load.ids), "");
}

TEST(EtcdFaults, NoQuorumIsUnavailableNeverAWrongAnswer) {
  auto cluster = StartCluster();
  ASSERT_NE(cluster, nullptr);
  auto store = Open(cluster->Spec("noquorum", "attempt_ms=500&timeout_ms=1500"));
  ASSERT_NE(store, nullptr);
  auto v1 = store->CompareAndSet(kKey, 0, Bytes{'a'});
  ASSERT_THAT(v1, IsOk());

  ASSERT_TRUE(cluster->Kill(1));
  ASSERT_TRUE(cluster->Partition(2));  // one crashed, one cut off: only member 3 is reachable
  auto got = store->Get(kKey);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), Code::kUnavailable) << got.status().ToString();
  auto absent = store->Get("never-written");
  EXPECT_EQ(absent.status().code(), Code::kUnavailable) << "an unknown key must not read as absent";
  auto write = store->CompareAndSet(kKey, *v1, Bytes{'b'});
  ASSERT_FALSE(write.ok());
  EXPECT_EQ(write.status().code(), Code::kUnavailable) << write.status().ToString();
  EXPECT_EQ(store->CompareAndDelete(kKey, *v1).code(), Code::kUnavailable);
  EXPECT_EQ(store->Health().code(), Code::kUnavailable);

  // Quorum back: the store works again, and the write that was refused did not happen.
  ASSERT_TRUE(cluster->Restart(1));
  ASSERT_TRUE(cluster->Heal(2));
  auto recovered = Open(cluster->Spec("noquorum", "timeout_ms=15000"));
  ASSERT_THAT(recovered->Health(), IsOk());
  auto after = recovered->Get(kKey);
  ASSERT_THAT(after, IsOk());
  ASSERT_TRUE(after->has_value());
  EXPECT_EQ((*after)->value, Bytes{'a'});
  EXPECT_EQ((*after)->version, *v1);
  EXPECT_THAT(recovered->CompareAndSet(kKey, *v1, Bytes{'c'}), IsOk());
}

}  // namespace
}  // namespace chatvault::etcd

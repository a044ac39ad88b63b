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

// The record, as read through `store`, holds each id of the load exactly once.
void ExpectEveryIdOnceThrough(std::unique_ptr<RecordStore> store, const LoadResult& load) {
  ASSERT_NE(store, nullptr);
  auto record = store->Get(kKey);
  ASSERT_THAT(record, IsOk());
  ASSERT_TRUE(record->has_value());
  EXPECT_EQ(testing::CheckExactlyOnce((*record)->value, load.ids), "");
}

void ExpectExactlyOnce(testing::EtcdCluster& cluster, const std::string& prefix,
                       const LoadResult& load) {
  EXPECT_TRUE(load.finished) << "some writers could not finish within the time limit";
  for (const auto& v : load.stats.violations) ADD_FAILURE() << v;
  ExpectEveryIdOnceThrough(Open(cluster.Spec(prefix)), load);
  std::printf(
      "  %zu ids: %d acknowledged, %d confirmed by a later read, %d conflicts retried, "
      "%d unavailable retried\n",
      load.ids.size(), load.stats.acknowledged, load.stats.confirmed_by_read, load.stats.conflicts,
      load.stats.unavailable);
}

// Six writers append twelve ids each under `prefix`; a third of the way in, `strike` (Kill or
// Partition) hits the member that leads at that moment. `struck` is its number, 0 if there was
// no leader.
struct StruckLoad {
  LoadResult load;
  int struck = 0;
};
StruckLoad RunLoadStrikingTheLeader(testing::EtcdCluster& cluster, const std::string& prefix,
                                    bool (testing::EtcdCluster::*strike)(int)) {
  StruckLoad result;
  result.load = RunLoad(cluster, prefix, 6, 12, [&] {
    result.struck = cluster.Leader();
    ASSERT_GT(result.struck, 0);
    ASSERT_TRUE((cluster.*strike)(result.struck));
  });
  return result;
}

// Each test starts a 3-member cluster of its own.
class EtcdFaults : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster_ = testing::EtcdCluster::Start();
    ASSERT_NE(cluster_, nullptr) << "the etcd cluster did not start";
  }

  std::unique_ptr<testing::EtcdCluster> cluster_;
};

TEST_F(EtcdFaults, ConcurrentWritersLoseNothingAndApplyNothingTwice) {
  auto load = RunLoad(*cluster_, "concurrent", 8, 12, [] {});
  ExpectExactlyOnce(*cluster_, "concurrent", load);
  EXPECT_EQ(load.stats.acknowledged, 8 * 12);  // nothing failed, so every write was acknowledged
  EXPECT_GT(load.stats.conflicts, 0);          // 8 writers on one key must have collided
}

TEST_F(EtcdFaults, LeaderKilledMidLoad) {
  const auto [load, killed] =
      RunLoadStrikingTheLeader(*cluster_, "leaderkill", &testing::EtcdCluster::Kill);
  ASSERT_GT(killed, 0);
  const int new_leader = cluster_->Leader();
  EXPECT_GT(new_leader, 0);
  EXPECT_NE(new_leader, killed);
  ExpectExactlyOnce(*cluster_, "leaderkill", load);
  // The killed member comes back with its old data and catches up.
  ASSERT_TRUE(cluster_->Restart(killed));
  ExpectEveryIdOnceThrough(Open(cluster_->MemberSpec(killed, "leaderkill", "timeout_ms=15000")),
                           load);
}

TEST_F(EtcdFaults, PartitionedLeaderIsRoutedAroundAndServesNoStaleReads) {
  const auto [load, cut] =
      RunLoadStrikingTheLeader(*cluster_, "partition", &testing::EtcdCluster::Partition);
  ASSERT_GT(cut, 0);
  ExpectExactlyOnce(*cluster_, "partition", load);
  // Through the cut-off member alone, the answer is "unavailable", never the old value.
  auto isolated = Open(cluster_->MemberSpec(cut, "partition", "attempt_ms=500&timeout_ms=1500"));
  ASSERT_NE(isolated, nullptr);
  auto stale = isolated->Get(kKey);
  ASSERT_FALSE(stale.ok()) << "a member cut off from the majority answered a read";
  EXPECT_EQ(stale.status().code(), Code::kUnavailable);
  EXPECT_EQ(isolated->CompareAndSet("other", 0, Bytes{1}).status().code(), Code::kUnavailable);
  EXPECT_EQ(isolated->Health().code(), Code::kUnavailable);
  // Healed, it serves the current value again.
  ASSERT_TRUE(cluster_->Heal(cut));
  ExpectEveryIdOnceThrough(Open(cluster_->MemberSpec(cut, "partition", "timeout_ms=15000")), load);
}

TEST_F(EtcdFaults, NoQuorumIsUnavailableNeverAWrongAnswer) {
  auto store = Open(cluster_->Spec("noquorum", "attempt_ms=500&timeout_ms=1500"));
  ASSERT_NE(store, nullptr);
  auto v1 = store->CompareAndSet(kKey, 0, Bytes{'a'});
  ASSERT_THAT(v1, IsOk());

  ASSERT_TRUE(cluster_->Kill(1));
  ASSERT_TRUE(cluster_->Partition(2));  // one crashed, one cut off: only member 3 is reachable
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
  ASSERT_TRUE(cluster_->Restart(1));
  ASSERT_TRUE(cluster_->Heal(2));
  auto recovered = Open(cluster_->Spec("noquorum", "timeout_ms=15000"));
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

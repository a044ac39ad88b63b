// RecordStore semantics against a real 3-member etcd cluster on loopback: the shared contract
// (support/record_store_conformance.h), then what only the etcd store has: a key prefix per
// vault, and values written by others in the cluster.
#include "chatvault/etcd/etcd_record_store.h"

#include <gtest/gtest.h>

#include "chatvault/vaultstore/store_registry.h"
#include "etcd/etcd_cluster.h"
#include "support/record_store_conformance.h"
#include "support/status_matchers.h"

namespace chatvault::etcd {
namespace {

using ::chatvault::testing::IsOk;
using ::chatvault::testing::RecordStoreConformance;
using ::chatvault::testing::RecordStoreTarget;
using ::chatvault::testing::RecordStoreTargetName;
using vaultstore::RecordStore;

Bytes B(std::string_view s) { return Bytes(s.begin(), s.end()); }

// One cluster per test process (under ctest each test is a process of its own), started on
// first use and stopped once the process's tests are done; never started where no test used it.
struct SharedClusterSlot {
  bool tried = false;
  std::unique_ptr<testing::EtcdCluster> cluster;
};
SharedClusterSlot& Slot() {
  static SharedClusterSlot slot;
  return slot;
}
testing::EtcdCluster* SharedCluster() {
  if (!Slot().tried) {
    Slot().tried = true;
    Slot().cluster = testing::EtcdCluster::Start();
  }
  return Slot().cluster.get();
}
class StopSharedCluster : public ::testing::Environment {
 public:
  void TearDown() override { Slot().cluster.reset(); }
};
const auto* const kStopper = ::testing::AddGlobalTestEnvironment(new StopSharedCluster);

// The store under the prefix t/<location> of the shared cluster; nullptr if it is not there.
std::unique_ptr<RecordStore> OpenUnder(const std::string& location) {
  EXPECT_NE(SharedCluster(), nullptr) << "the etcd cluster did not start";
  EXPECT_TRUE(RegisterEtcdRecordStore());
  if (SharedCluster() == nullptr) return nullptr;
  auto store = vaultstore::OpenRecordStore(SharedCluster()->Spec("t/" + location));
  EXPECT_THAT(store, IsOk());
  if (!store.ok()) return nullptr;
  return std::move(store).value();
}

INSTANTIATE_TEST_SUITE_P(Etcd, RecordStoreConformance,
                         ::testing::Values(RecordStoreTarget{"etcd", OpenUnder}),
                         RecordStoreTargetName);

class EtcdRecordStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // A prefix per test, so tests never see each other's keys.
    location_ = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    store_ = OpenUnder(location_);
    ASSERT_NE(store_, nullptr);
  }

  std::string location_;
  std::unique_ptr<RecordStore> store_;
};

TEST_F(EtcdRecordStoreTest, ForeignValueIsReportedCorruptedNotTrusted) {
  ASSERT_TRUE(SharedCluster()->Etcdctl("put t/" + location_ + "/foreign not-a-record"));
  auto got = store_->Get("foreign");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), Code::kCorrupted);
}

// Two vaults on one cluster under prefixes where one is the start of the other: neither reads
// nor lists the other's keys.
TEST_F(EtcdRecordStoreTest, PrefixesKeepVaultsApart) {
  auto other = OpenUnder(location_ + "-other");
  ASSERT_NE(other, nullptr);
  ASSERT_THAT(store_->CompareAndSet("shared-name", 0, B("mine")), IsOk());
  ASSERT_THAT(store_->CompareAndSet("acct/a", 0, B("mine")), IsOk());
  ASSERT_THAT(other->CompareAndSet("acct/c", 0, B("theirs")), IsOk());
  auto got = other->Get("shared-name");
  ASSERT_THAT(got, IsOk());
  EXPECT_FALSE(got->has_value());
  auto keys = store_->ListKeys("acct/");
  ASSERT_THAT(keys, IsOk());
  EXPECT_EQ(*keys, (std::vector<std::string>{"acct/a"}));
}

}  // namespace
}  // namespace chatvault::etcd

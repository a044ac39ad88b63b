// RecordStore semantics against a real 3-member etcd cluster on loopback.
#include "chatvault/etcd/etcd_record_store.h"

#include <gtest/gtest.h>

#include "chatvault/vaultstore/store_registry.h"
#include "etcd/etcd_cluster.h"
#include "support/status_matchers.h"

namespace chatvault::etcd {
namespace {

using ::chatvault::testing::IsOk;
using vaultstore::RecordStore;

Bytes B(std::string_view s) { return Bytes(s.begin(), s.end()); }

class EtcdRecordStoreTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { cluster_ = testing::EtcdCluster::Start().release(); }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(cluster_, nullptr) << "the etcd cluster did not start";
    ASSERT_TRUE(RegisterEtcdRecordStore());
    // A prefix per test, so tests never see each other's keys.
    prefix_ = std::string("t/") + ::testing::UnitTest::GetInstance()->current_test_info()->name();
    auto store = vaultstore::OpenRecordStore(cluster_->Spec(prefix_));
    ASSERT_THAT(store, IsOk());
    store_ = std::move(store).value();
  }

  static testing::EtcdCluster* cluster_;
  std::string prefix_;
  std::unique_ptr<RecordStore> store_;
};
testing::EtcdCluster* EtcdRecordStoreTest::cluster_ = nullptr;

TEST_F(EtcdRecordStoreTest, AbsentKeyReadsAsNothingAndClusterIsHealthy) {
  EXPECT_THAT(store_->Health(), IsOk());
  auto got = store_->Get("acct/alice");
  ASSERT_THAT(got, IsOk());
  EXPECT_FALSE(got->has_value());
}

TEST_F(EtcdRecordStoreTest, CompareAndSetNeedsTheCurrentVersion) {
  auto v1 = store_->CompareAndSet("acct/alice", 0, B("one"));
  ASSERT_THAT(v1, IsOk());
  EXPECT_GT(*v1, 0u);
  // Creating again must lose: the key exists now.
  auto again = store_->CompareAndSet("acct/alice", 0, B("other"));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), Code::kConflict);

  auto got = store_->Get("acct/alice");
  ASSERT_THAT(got, IsOk());
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->value, B("one"));
  EXPECT_EQ((*got)->version, *v1);

  auto v2 = store_->CompareAndSet("acct/alice", *v1, B("two"));
  ASSERT_THAT(v2, IsOk());
  EXPECT_GT(*v2, *v1);
  // The old version is spent: a second writer holding it must lose.
  auto stale = store_->CompareAndSet("acct/alice", *v1, B("stale"));
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.status().code(), Code::kConflict);
  got = store_->Get("acct/alice");
  ASSERT_THAT(got, IsOk());
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->value, B("two"));
  EXPECT_EQ((*got)->version, *v2);
}

TEST_F(EtcdRecordStoreTest, DeleteNeedsTheCurrentVersionAndVersionsNeverRepeat) {
  auto v1 = store_->CompareAndSet("k", 0, B("x"));
  ASSERT_THAT(v1, IsOk());
  auto v2 = store_->CompareAndSet("k", *v1, B("y"));
  ASSERT_THAT(v2, IsOk());
  EXPECT_EQ(store_->CompareAndDelete("k", *v1).code(), Code::kConflict);
  EXPECT_EQ(store_->CompareAndDelete("k", 0).code(), Code::kInvalidArgument);
  ASSERT_THAT(store_->CompareAndDelete("k", *v2), IsOk());
  auto got = store_->Get("k");
  ASSERT_THAT(got, IsOk());
  EXPECT_FALSE(got->has_value());
  EXPECT_EQ(store_->CompareAndDelete("k", *v2).code(), Code::kConflict);
  // Recreated: a reader still holding v2 must not be able to write over it.
  auto v3 = store_->CompareAndSet("k", 0, B("z"));
  ASSERT_THAT(v3, IsOk());
  EXPECT_GT(*v3, *v2);
  EXPECT_EQ(store_->CompareAndSet("k", *v2, B("w")).status().code(), Code::kConflict);
}

TEST_F(EtcdRecordStoreTest, EmptyAndBinaryValuesRoundTrip) {
  Bytes binary;
  for (int i = 0; i < 256; ++i) binary.push_back(static_cast<uint8_t>(i));
  auto v = store_->CompareAndSet("bin", 0, binary);
  ASSERT_THAT(v, IsOk());
  auto e = store_->CompareAndSet("empty", 0, Bytes());
  ASSERT_THAT(e, IsOk());
  auto got = store_->Get("bin");
  ASSERT_THAT(got, IsOk());
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->value, binary);
  got = store_->Get("empty");
  ASSERT_THAT(got, IsOk());
  ASSERT_TRUE(got->has_value());
  EXPECT_TRUE((*got)->value.empty());
}

TEST_F(EtcdRecordStoreTest, ForeignValueIsReportedCorruptedNotTrusted) {
  ASSERT_TRUE(cluster_->Etcdctl("put " + prefix_ + "/foreign not-a-record"));
  auto got = store_->Get("foreign");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), Code::kCorrupted);
}

TEST_F(EtcdRecordStoreTest, PrefixesKeepVaultsApart) {
  auto other = vaultstore::OpenRecordStore(cluster_->Spec(prefix_ + "-other"));
  ASSERT_THAT(other, IsOk());
  ASSERT_THAT(store_->CompareAndSet("shared-name", 0, B("mine")), IsOk());
  auto got = (*other)->Get("shared-name");
  ASSERT_THAT(got, IsOk());
  EXPECT_FALSE(got->has_value());
}

}  // namespace
}  // namespace chatvault::etcd

namespace chatvault::etcd {
namespace {

// The audit-log replay lists the accounts; only this store's keys under the prefix come back,
// in order.
TEST_F(EtcdRecordStoreTest, ListKeysReturnsThisStoresKeysUnderAPrefixInOrder) {
  for (const char* key : {"acct/b", "acct/a", "acctx", "vault/server-secrets/v1", "acct/a:b"}) {
    ASSERT_THAT(store_->CompareAndSet(key, 0, B("v")), IsOk()) << key;
  }
  auto other = vaultstore::OpenRecordStore(cluster_->Spec(prefix_ + "-other"));
  ASSERT_THAT(other, IsOk());
  ASSERT_THAT((*other)->CompareAndSet("acct/c", 0, B("v")), IsOk());
  auto keys = store_->ListKeys("acct/");
  ASSERT_THAT(keys, IsOk());
  EXPECT_EQ(*keys, (std::vector<std::string>{"acct/a", "acct/a:b", "acct/b"}));
  auto none = store_->ListKeys("nothing/");
  ASSERT_THAT(none, IsOk());
  EXPECT_TRUE(none->empty());
}

}  // namespace
}  // namespace chatvault::etcd

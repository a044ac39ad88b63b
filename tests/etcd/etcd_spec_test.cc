#include <gtest/gtest.h>

#include "chatvault/etcd/etcd_record_store.h"
#include "chatvault/vaultstore/store_registry.h"
#include "support/status_matchers.h"

namespace chatvault::etcd {
namespace {

using ::chatvault::testing::IsOk;

TEST(EtcdSpec, ParsesEndpointsPrefixAndOptions) {
  auto options = ParseEtcdSpec(
      "etcd://10.0.0.1:2379,db2.example:2479/vault-eu?timeout_ms=2500&attempt_ms=700");
  ASSERT_THAT(options, IsOk());
  ASSERT_EQ(options->endpoints.size(), 2u);
  EXPECT_EQ(options->endpoints[0], "10.0.0.1:2379");
  EXPECT_EQ(options->endpoints[1], "db2.example:2479");
  EXPECT_EQ(options->key_prefix, "vault-eu/");
  EXPECT_EQ(options->operation_timeout.count(), 2500);
  EXPECT_EQ(options->attempt_timeout.count(), 700);
}

TEST(EtcdSpec, DefaultsToTheChatvaultPrefix) {
  auto options = ParseEtcdSpec("etcd://127.0.0.1:2379");
  ASSERT_THAT(options, IsOk());
  EXPECT_EQ(options->key_prefix, "chatvault/vault/");
  EXPECT_TRUE(options->ca_file.empty());
}

TEST(EtcdSpec, RejectsMalformedSpecs) {
  for (const char* bad : {"etcd://", "etcd://host", "etcd://host:", "etcd://host:0",
                          "etcd://host:99999", "etcd://a:1,,b:2", "etcd://a:1?timeout_ms=-5",
                          "etcd://a:1?colour=blue", "sqlite:/x", "etcd:/a:1"}) {
    auto options = ParseEtcdSpec(bad);
    EXPECT_FALSE(options.ok()) << bad;
    if (!options.ok()) EXPECT_EQ(options.status().code(), Code::kInvalidArgument) << bad;
  }
}

TEST(EtcdSpec, TlsNeedsCertAndKeyTogether) {
  auto store = vaultstore::OpenRecordStore("etcd://127.0.0.1:2379?cert=/nonexistent.pem");
  ASSERT_TRUE(RegisterEtcdRecordStore());
  store = vaultstore::OpenRecordStore("etcd://127.0.0.1:2379?cert=/nonexistent.pem");
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), Code::kInvalidArgument);
}

TEST(EtcdSpec, SchemeIsRegisteredWithTheStoreRegistry) {
  ASSERT_TRUE(RegisterEtcdRecordStore());
  // Opening does not contact the cluster, so this works with nothing listening.
  auto store = vaultstore::OpenRecordStore("etcd://127.0.0.1:9/test?timeout_ms=300");
  ASSERT_THAT(store, IsOk());
  // Nothing listens on port 9: the answer must be "unavailable", never "absent".
  auto got = (*store)->Get("nobody");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), Code::kUnavailable);
  EXPECT_EQ((*store)->Health().code(), Code::kUnavailable);
}

}  // namespace
}  // namespace chatvault::etcd

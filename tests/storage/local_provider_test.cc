#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <vector>

#include "chatvault/storage/local_provider.h"
#include "support/provider_conformance.h"
#include "support/status_matchers.h"
#include "support/temp_dir.h"

namespace chatvault::storage {
namespace {

using chatvault::testing::ConformanceTarget;
using ::chatvault::testing::IsOk;
using ::chatvault::testing::IsOkAndHolds;
using chatvault::testing::ProviderConformance;
using chatvault::testing::TempDir;

// Each provider keeps its temp dir alive for as long as it lives.
class OwningLocalProvider : public Provider {
 public:
  OwningLocalProvider() : inner_(OpenLocalProvider(dir_.Sub("store"))) {}
  std::string Describe() const override { return inner_->Describe(); }
  Status PutIfAbsent(std::string_view n, ByteView d) override { return inner_->PutIfAbsent(n, d); }
  Status Put(std::string_view n, ByteView d) override { return inner_->Put(n, d); }
  Result<Bytes> Get(std::string_view n) override { return inner_->Get(n); }
  Result<std::vector<ObjectInfo>> List(std::string_view p) override { return inner_->List(p); }
  Status Delete(std::string_view n) override { return inner_->Delete(n); }

 private:
  TempDir dir_;
  std::unique_ptr<Provider> inner_;
};

INSTANTIATE_TEST_SUITE_P(Local, ProviderConformance,
                         ::testing::Values(ConformanceTarget{
                             "local", [] { return std::make_unique<OwningLocalProvider>(); }}),
                         chatvault::testing::ConformanceTargetName);

TEST(LocalProvider, LeavesNoTempFilesAndListSkipsStaleOnes) {
  TempDir dir;
  auto p = OpenLocalProvider(dir.path());
  ASSERT_THAT(p->PutIfAbsent("chunks/aa/1", ToBytes("x")), IsOk());
  ASSERT_THAT(p->Put("current", ToBytes("y")), IsOk());
  EXPECT_EQ(p->PutIfAbsent("chunks/aa/1", ToBytes("z")).code(), Code::kAlreadyExists);
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir.path())) {
    EXPECT_NE(e.path().filename().string().rfind(".tmp-", 0), 0u) << e.path();
  }
  // A temp file left by a crash is not an object.
  std::ofstream(dir.Sub("chunks/aa/.tmp-deadbeef")) << "partial";
  auto listed = p->List("chunks/");
  ASSERT_THAT(listed, IsOk());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].name, "chunks/aa/1");
}

// Temp files of writes a crash interrupted go once the caller says no write of its own is in
// flight; those started after the cut-off, and every object, stay.
TEST(LocalProvider, RemovesAbandonedTempFilesStartedBeforeTheCutOff) {
  namespace fs = std::filesystem;
  TempDir dir;
  auto p = OpenLocalProvider(dir.path());
  ASSERT_THAT(p->PutIfAbsent("chunks/aa/1", ToBytes("x")), IsOk());
  ASSERT_THAT(p->Put("current/0000000001", ToBytes("y")), IsOk());
  std::ofstream(dir.Sub("chunks/aa/.tmp-old")) << "partial";
  std::ofstream(dir.Sub("current/.tmp-old")) << "partial";
  std::ofstream(dir.Sub("chunks/aa/.tmp-new")) << "in flight";
  const auto an_hour_ago = fs::file_time_type::clock::now() - std::chrono::hours(1);
  fs::last_write_time(dir.Sub("chunks/aa/.tmp-old"), an_hour_ago);
  fs::last_write_time(dir.Sub("current/.tmp-old"), an_hour_ago);

  auto removed = p->RemoveAbandonedWrites(std::chrono::system_clock::now() - std::chrono::minutes(1));
  ASSERT_THAT(removed, IsOk());
  EXPECT_EQ(*removed, 2u);
  EXPECT_FALSE(fs::exists(dir.Sub("chunks/aa/.tmp-old")));
  EXPECT_FALSE(fs::exists(dir.Sub("current/.tmp-old")));
  EXPECT_TRUE(fs::exists(dir.Sub("chunks/aa/.tmp-new")));
  EXPECT_THAT(p->Get("chunks/aa/1"), IsOk());
  EXPECT_THAT(p->Get("current/0000000001"), IsOk());
}

TEST(LocalProvider, ObjectsArePrivateFiles) {
  TempDir dir;
  auto p = OpenLocalProvider(dir.Sub("new/nested"));
  ASSERT_THAT(p->PutIfAbsent("manifests/1", ToBytes("m")), IsOk());
  struct stat st;
  ASSERT_EQ(::stat(dir.Sub("new/nested/manifests/1").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST(OpenProvider, PlainPathsAndFileUrlsAreLocal) {
  TempDir dir;
  auto a = OpenProvider(dir.path());
  ASSERT_THAT(a, IsOk());
  ASSERT_THAT((*a)->PutIfAbsent("obj", ToBytes("1")), IsOk());
  auto b = OpenProvider("file://" + dir.path());
  ASSERT_THAT(b, IsOk());
  EXPECT_THAT((*b)->Get("obj"), IsOkAndHolds(ToBytes("1")));
  EXPECT_EQ((*b)->Describe(), "local:" + dir.path());
  EXPECT_EQ(OpenProvider("file://relative").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(OpenProvider("").status().code(), Code::kInvalidArgument);
}

TEST(OpenProvider, UnknownSchemesAreUnsupportedAndRegisteredOnesAreUsed) {
  EXPECT_EQ(OpenProvider("nosuch://bucket/x").status().code(), Code::kUnsupported);
  TempDir dir;
  std::string seen;
  RegisterScheme("testscheme", [&](std::string_view location) -> Result<std::unique_ptr<Provider>> {
    seen = std::string(location);
    return OpenLocalProvider(dir.path());
  });
  auto p = OpenProvider("testscheme://bucket/prefix");
  ASSERT_THAT(p, IsOk());
  EXPECT_EQ(seen, "testscheme://bucket/prefix");
  RegisterScheme("rclone", [&](std::string_view location) -> Result<std::unique_ptr<Provider>> {
    seen = std::string(location);
    return OpenLocalProvider(dir.path());
  });
  ASSERT_THAT(OpenProvider("rclone:gdrive:backups"), IsOk());
  EXPECT_EQ(seen, "rclone:gdrive:backups");
}

}  // namespace
}  // namespace chatvault::storage

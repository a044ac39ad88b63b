// The WebDAV provider against nginx with the dav and dav-ext modules (started by tools/cloud),
// behind HTTP basic auth: the shared conformance suite, wrong password, injected failures.
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>

#include "chatvault/cloud/webdav_provider.h"
#include "chatvault/crypto/random.h"
#include "cloud/crash_once.h"
#include "cloud/fault_proxy.h"
#include "cloud/shared_server.h"
#include "cloud/webdav_server.h"
#include "support/provider_conformance.h"
#include "support/status_matchers.h"

namespace chatvault::cloud {
namespace {

using chatvault::testing::ConformanceTarget;
using chatvault::testing::CrashOnce;
using chatvault::testing::FaultProxy;
using ::chatvault::testing::IsOk;
using ::chatvault::testing::IsOkAndHolds;
using chatvault::testing::ProviderConformance;
using chatvault::testing::RegisterSharedServer;
using chatvault::testing::RequestSeen;
using chatvault::testing::WebDavServer;

constexpr char kUser[] = "alice";
constexpr char kPassword[] = "webdav-test-password-42";

auto& shared_server = RegisterSharedServer<WebDavServer>(
    "nginx (tools/cloud/start-webdav-server.sh)", kUser, kPassword);

WebDavOptions FastOptions(int port, std::string* base_dir = nullptr) {
  WebDavOptions o;
  const std::string dir = "backups/t-" + HexEncode(crypto::RandomBytes(6));
  if (base_dir) *base_dir = dir;
  o.base_url = "http://127.0.0.1:" + std::to_string(port) + "/" + dir;
  o.user = kUser;
  o.password = crypto::Secret::FromBytes(AsBytes(kPassword));
  o.retry.max_attempts = 8;
  o.retry.initial_delay = std::chrono::milliseconds(50);
  o.retry.max_delay = std::chrono::milliseconds(400);
  o.retry.request_timeout = std::chrono::milliseconds(20'000);
  return o;
}

INSTANTIATE_TEST_SUITE_P(
    WebDav, ProviderConformance,
    ::testing::Values(ConformanceTarget{
        "webdav_nginx",
        [] { return OpenWebDavProvider(FastOptions(shared_server->process.port())); }}),
    chatvault::testing::ConformanceTargetName);

Bytes Pattern(size_t n, uint8_t seed) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(i * 17 + seed + (i >> 10));
  return b;
}

// Files on the server's disk under `dir`, hidden temp files included.
std::vector<std::string> FilesOnDisk(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       it != std::filesystem::recursive_directory_iterator(); ++it) {
    if (it->is_regular_file()) out.push_back(it->path().filename().string());
  }
  return out;
}

TEST(WebDavProvider, WrongPasswordIsRefused) {
  WebDavOptions o = FastOptions(shared_server->process.port());
  o.password = crypto::Secret::FromBytes(AsBytes("guess"));
  auto p = OpenWebDavProvider(std::move(o));
  Status s = p->Put("current", ToBytes("x"));
  EXPECT_EQ(s.code(), Code::kPermissionDenied) << s.ToString();
  EXPECT_EQ(s.message().find("guess"), std::string::npos);
  EXPECT_EQ(s.message().find(kPassword), std::string::npos);
}

TEST(WebDavProvider, PublishesThroughATempNameAndLeavesNoneBehind) {
  FaultProxy proxy(shared_server->process.port());
  std::string dir;
  auto p = OpenWebDavProvider(FastOptions(proxy.port(), &dir));
  ASSERT_THAT(p->PutIfAbsent("chunks/ab/x", ToBytes("data")), IsOk());
  EXPECT_EQ(p->PutIfAbsent("chunks/ab/x", ToBytes("other")).code(), Code::kAlreadyExists);
  bool moved = false;
  for (const auto& r : proxy.Seen()) {
    if (r.method == "PUT") EXPECT_NE(r.target.find("/.tmp-"), std::string::npos) << r.target;
    if (r.method == "MOVE") moved = true;
  }
  EXPECT_TRUE(moved);
  EXPECT_EQ(FilesOnDisk(shared_server->DataDir() + "/" + dir), std::vector<std::string>{"x"});
}

TEST(WebDavProvider, Retries500sAndSlowResponses) {
  FaultProxy proxy(shared_server->process.port());
  proxy.FailEveryOtherAndDelayTheRest(std::chrono::milliseconds(300));
  auto p = OpenWebDavProvider(FastOptions(proxy.port()));
  const Bytes data = Pattern(200'000, 5);
  Status put = p->Put("manifests/0001", data);
  ASSERT_THAT(put, IsOk());
  EXPECT_THAT(p->Get("manifests/0001"), IsOkAndHolds(data));
  auto listed = p->List("");
  ASSERT_THAT(listed, IsOk());
  ASSERT_EQ(listed->size(), 1u);
}

// nginx dies while the object's bytes are in flight and comes back on the same port: the retry
// completes, the object is whole, and no temp file is visible as an object.
TEST(WebDavProvider, ServerKilledMidUploadThenRestartedLosesNothing) {
  WebDavServer server(kUser, kPassword);
  ASSERT_TRUE(server.Start());
  FaultProxy proxy(server.process.port());
  CrashOnce crash(server, proxy, [](const RequestSeen& r) { return r.method == "PUT"; });
  WebDavOptions o = FastOptions(proxy.port());
  o.retry.max_attempts = 12;
  auto p = OpenWebDavProvider(std::move(o));
  const Bytes data = Pattern(2 << 20, 9);
  Status put = p->PutIfAbsent("chunks/kk/killed", data);
  ASSERT_TRUE(crash.WaitForRestart());
  ASSERT_THAT(put, IsOk());
  EXPECT_THAT(p->Get("chunks/kk/killed"), IsOkAndHolds(data));
  auto listed = p->List("chunks/");
  ASSERT_THAT(listed, IsOk());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].size, data.size());
}

TEST(WebDavOptions, LocationAndCredentials) {
  ::setenv("CHATVAULT_WEBDAV_USER", "envuser", 1);
  ::setenv("CHATVAULT_WEBDAV_PASSWORD", "envpass", 1);
  auto o = WebDavOptionsFromLocation("webdavs://cloud.example.org/remote.php/dav/files/bob/");
  ASSERT_THAT(o, IsOk());
  EXPECT_EQ(o->base_url, "https://cloud.example.org/remote.php/dav/files/bob");
  EXPECT_EQ(o->user, "envuser");
  EXPECT_EQ(AsChars(o->password.view()), "envpass");
  o = WebDavOptionsFromLocation("webdav://bob:s%40cret@127.0.0.1:8080/x");
  ASSERT_THAT(o, IsOk());
  EXPECT_EQ(o->base_url, "http://127.0.0.1:8080/x");  // credentials never stay in the URL
  EXPECT_EQ(o->user, "bob");
  EXPECT_EQ(AsChars(o->password.view()), "s@cret");
  auto p = OpenWebDavProvider(std::move(*o));
  EXPECT_EQ(p->Describe().find("cret"), std::string::npos);
  EXPECT_EQ(WebDavOptionsFromLocation("http://x/y").status().code(), Code::kInvalidArgument);
  ::unsetenv("CHATVAULT_WEBDAV_USER");
  ::unsetenv("CHATVAULT_WEBDAV_PASSWORD");
}

}  // namespace
}  // namespace chatvault::cloud

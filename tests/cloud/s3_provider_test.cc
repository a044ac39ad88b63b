// The S3 provider against a real S3 server (s3rver from npm, started by tools/cloud) that
// checks every SigV4 signature: the shared conformance suite in both addressing styles, a wrong
// secret being refused, multipart uploads, and injected failures.
#include <gtest/gtest.h>

#include <memory>

#include "chatvault/cloud/s3_provider.h"
#include "chatvault/crypto/random.h"
#include "cloud/crash_once.h"
#include "cloud/fault_proxy.h"
#include "cloud/server_process.h"
#include "cloud/shared_server.h"
#include "support/provider_conformance.h"
#include "support/status_matchers.h"
#include "support/temp_dir.h"

namespace chatvault::cloud {
namespace {

using chatvault::testing::CloudScript;
using chatvault::testing::ConformanceTarget;
using chatvault::testing::CrashOnce;
using chatvault::testing::Fault;
using chatvault::testing::FaultProxy;
using ::chatvault::testing::IsOk;
using ::chatvault::testing::IsOkAndHolds;
using chatvault::testing::ProviderConformance;
using chatvault::testing::RegisterSharedServer;
using chatvault::testing::RequestSeen;
using chatvault::testing::ServerProcess;
using chatvault::testing::TempDir;

constexpr char kKeyId[] = "CHATVAULTTESTKEY";
constexpr char kSecret[] = "chatvault-test-secret-0123456789";
constexpr char kBucket[] = "backups";

// An S3 server in its own temp dir.
struct S3Server {
  TempDir dir;
  ServerProcess process;
  bool Start(int fixed_port = 0) {
    std::string cmd = std::string("CHATVAULT_S3_KEY_ID=") + kKeyId + " CHATVAULT_S3_SECRET=" + kSecret;
    if (fixed_port) cmd += " CHATVAULT_S3_PORT=" + std::to_string(fixed_port);
    cmd += " " + CloudScript("start-s3-server.sh") + " " + dir.Sub("s3") + " " + kBucket;
    return process.Start(cmd);
  }
};

auto& shared_server =
    RegisterSharedServer<S3Server>("the S3 test server (tools/cloud/start-s3-server.sh)");

S3Options FastOptions(int port, S3AddressingStyle style = S3AddressingStyle::kPath) {
  S3Options o;
  o.bucket = kBucket;
  o.prefix = "t-" + HexEncode(crypto::RandomBytes(6));  // a fresh location per test
  o.region = "us-east-1";
  o.access_key_id = kKeyId;
  o.secret_access_key = crypto::Secret::FromBytes(AsBytes(kSecret));
  o.style = style;
  if (style == S3AddressingStyle::kPath) {
    o.endpoint = "http://127.0.0.1:" + std::to_string(port);
  } else {
    // Virtual-host style needs the bucket in the host name; pin that name to loopback.
    o.endpoint = "http://s3.amazonaws.com:" + std::to_string(port);
    o.resolve.push_back(std::string(kBucket) + ".s3.amazonaws.com:" + std::to_string(port) + ":127.0.0.1");
  }
  o.retry.max_attempts = 8;
  o.retry.initial_delay = std::chrono::milliseconds(50);
  o.retry.max_delay = std::chrono::milliseconds(400);
  o.retry.request_timeout = std::chrono::milliseconds(20'000);
  return o;
}

// Only path style runs the suite: s3rver puts the bucket into the canonical URI of virtual-host
// requests when it checks SigV4, so it rejects correctly signed virtual-host requests. The test
// below checks how virtual-host requests are addressed instead.
INSTANTIATE_TEST_SUITE_P(S3, ProviderConformance,
                         ::testing::Values(ConformanceTarget{"s3_path_style",
                                                             [] {
                                                               return OpenS3Provider(FastOptions(
                                                                   shared_server->process.port()));
                                                             }}),
                         chatvault::testing::ConformanceTargetName);

TEST(S3Provider, VirtualHostStylePutsTheBucketInTheHostName) {
  FaultProxy proxy(shared_server->process.port());
  S3Options o = FastOptions(proxy.port(), S3AddressingStyle::kVirtual);
  const std::string prefix = o.prefix;
  auto p = OpenS3Provider(std::move(o));
  (void)p->Get("chunks/ab/cd");
  const auto seen = proxy.Seen();
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen[0].host, std::string(kBucket) + ".s3.amazonaws.com:" + std::to_string(proxy.port()));
  EXPECT_EQ(seen[0].target, "/" + prefix + "/chunks/ab/cd");
}

Bytes Pattern(size_t n, uint8_t seed) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(i * 31 + seed + (i >> 11));
  return b;
}

TEST(S3Provider, WrongSecretIsRefusedByTheServer) {
  S3Options o = FastOptions(shared_server->process.port());
  o.secret_access_key = crypto::Secret::FromBytes(AsBytes("not-the-secret"));
  auto p = OpenS3Provider(std::move(o));
  Status s = p->Put("current", ToBytes("x"));
  EXPECT_EQ(s.code(), Code::kPermissionDenied) << s.ToString();
  EXPECT_NE(s.message().find("SignatureDoesNotMatch"), std::string::npos) << s.message();
  // Neither the real nor the wrong secret may appear in what users see.
  EXPECT_EQ(s.message().find("not-the-secret"), std::string::npos);
  EXPECT_EQ(s.message().find(kSecret), std::string::npos);
}

TEST(S3Provider, UnknownKeyIdIsRefused) {
  S3Options o = FastOptions(shared_server->process.port());
  o.access_key_id = "SOMEONEELSE";
  auto p = OpenS3Provider(std::move(o));
  EXPECT_EQ(p->Get("anything").status().code(), Code::kPermissionDenied);
}

TEST(S3Provider, MultipartUploadRoundTripsAndHonoursPutIfAbsent) {
  S3Options o = FastOptions(shared_server->process.port());
  o.part_size = 5 << 20;
  o.multipart_threshold = 5 << 20;
  auto p = OpenS3Provider(std::move(o));
  const Bytes big = Pattern((11 << 20) + 123, 7);  // three parts, the last one short
  ASSERT_THAT(p->PutIfAbsent("chunks/mp/big", big), IsOk());
  EXPECT_THAT(p->Get("chunks/mp/big"), IsOkAndHolds(big));
  EXPECT_EQ(p->PutIfAbsent("chunks/mp/big", Pattern(6 << 20, 9)).code(), Code::kAlreadyExists);
}

TEST(S3Provider, ListFollowsContinuationTokens) {
  // Pages of two keys force several continuation round trips over seven objects.
  S3Options o = FastOptions(shared_server->process.port());
  o.list_page_size = 2;
  auto p = OpenS3Provider(std::move(o));
  std::vector<std::string> names;
  for (int i = 6; i >= 0; --i) {
    names.insert(names.begin(), "chunks/0" + std::to_string(i));
    ASSERT_THAT(p->PutIfAbsent(names.front(), Bytes(static_cast<size_t>(i), 'x')), IsOk());
  }
  ASSERT_THAT(p->PutIfAbsent("other/x", ToBytes("x")), IsOk());
  auto listed = p->List("chunks/");
  ASSERT_THAT(listed, IsOk());
  ASSERT_EQ(listed->size(), names.size());
  for (size_t i = 0; i < names.size(); ++i) {
    EXPECT_EQ((*listed)[i].name, names[i]);
    EXPECT_EQ((*listed)[i].size, i);
  }
}

TEST(S3Provider, Retries500sAndSlowResponses) {
  FaultProxy proxy(shared_server->process.port());
  proxy.FailEveryOtherAndDelayTheRest(std::chrono::milliseconds(300));
  auto p = OpenS3Provider(FastOptions(proxy.port()));
  const Bytes data = Pattern(100'000, 3);
  ASSERT_THAT(p->PutIfAbsent("manifests/0001", data), IsOk());
  EXPECT_THAT(p->Get("manifests/0001"), IsOkAndHolds(data));
  EXPECT_GE(proxy.Seen().size(), 6u);  // HEAD, PUT, GET each failed once first
}

TEST(S3Provider, GivesUpWithUnavailableWhenTheServerStaysDown) {
  FaultProxy proxy(shared_server->process.port());
  proxy.SetPolicy([](const RequestSeen&) { return Fault::kFail500; });
  S3Options o = FastOptions(proxy.port());
  o.retry.max_attempts = 3;
  auto p = OpenS3Provider(std::move(o));
  Status s = p->Put("current", ToBytes("x"));
  EXPECT_EQ(s.code(), Code::kUnavailable) << s.ToString();
  EXPECT_EQ(proxy.Seen().size(), 3u);
}

// The server dies while the second part of a multipart upload is in flight and comes back a
// moment later on the same port with the same disk: the upload resumes and nothing is lost.
TEST(S3Provider, ServerKilledMidUploadThenRestartedLosesNothing) {
  S3Server server;
  ASSERT_TRUE(server.Start());
  FaultProxy proxy(server.process.port());
  CrashOnce crash(server, proxy, [](const RequestSeen& r) {
    return r.method == "PUT" && r.target.find("partNumber=2") != std::string::npos;
  });
  S3Options o = FastOptions(proxy.port());
  o.part_size = 5 << 20;
  o.multipart_threshold = 5 << 20;
  o.retry.max_attempts = 12;
  auto p = OpenS3Provider(std::move(o));
  const Bytes big = Pattern((10 << 20) + 5, 11);
  Status put = p->PutIfAbsent("chunks/kk/killed", big);
  ASSERT_TRUE(crash.WaitForRestart());
  ASSERT_THAT(put, IsOk());
  EXPECT_THAT(p->Get("chunks/kk/killed"), IsOkAndHolds(big));
  // Part 1 went up once: the retry resumed the upload rather than starting over.
  int part1 = 0;
  for (const auto& r : proxy.Seen()) {
    if (r.method == "PUT" && r.target.find("partNumber=1&") != std::string::npos) part1++;
  }
  EXPECT_EQ(part1, 1);
}

TEST(S3Options, LocationAndEnvironment) {
  ::setenv("AWS_ACCESS_KEY_ID", "AKID", 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", "shh", 1);
  ::setenv("AWS_REGION", "eu-west-3", 1);
  ::unsetenv("AWS_ENDPOINT_URL");
  ::unsetenv("AWS_ENDPOINT_URL_S3");
  ::unsetenv("CHATVAULT_S3_ADDRESSING");
  auto o = S3OptionsFromLocation("s3://my-bucket/phone/chats/");
  ASSERT_THAT(o, IsOk());
  EXPECT_EQ(o->bucket, "my-bucket");
  EXPECT_EQ(o->prefix, "phone/chats");
  EXPECT_EQ(o->region, "eu-west-3");
  EXPECT_EQ(o->endpoint, "https://s3.eu-west-3.amazonaws.com");
  EXPECT_EQ(o->style, S3AddressingStyle::kVirtual);
  ::setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9000/", 1);
  o = S3OptionsFromLocation("s3://b");
  ASSERT_THAT(o, IsOk());
  EXPECT_EQ(o->endpoint, "http://127.0.0.1:9000");
  EXPECT_EQ(o->style, S3AddressingStyle::kPath);
  EXPECT_EQ(S3OptionsFromLocation("s3://").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(S3OptionsFromLocation("s3://Bad_Bucket/x").status().code(), Code::kInvalidArgument);
  ::unsetenv("AWS_ACCESS_KEY_ID");
  ::unsetenv("AWS_SECRET_ACCESS_KEY");
  ::setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials", 1);
  ::setenv("AWS_CONFIG_FILE", "/nonexistent/config", 1);
  EXPECT_EQ(S3OptionsFromLocation("s3://b").status().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace chatvault::cloud

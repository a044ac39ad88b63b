// The rclone provider with a real `rclone rcd` and a temporary rclone config: a "local" remote
// and a "webdav" remote pointing at the loopback nginx, each through the conformance suite.
#include <gtest/gtest.h>

#include <fstream>
#include <memory>

#include "chatvault/cloud/rclone_provider.h"
#include "chatvault/crypto/random.h"
#include "cloud/shared_server.h"
#include "cloud/webdav_server.h"
#include "support/provider_conformance.h"
#include "support/status_matchers.h"
#include "support/temp_dir.h"

namespace chatvault::cloud {
namespace {

using chatvault::testing::ConformanceTarget;
using ::chatvault::testing::IsOk;
using chatvault::testing::ProviderConformance;
using chatvault::testing::RegisterSharedServer;
using chatvault::testing::TempDir;
using chatvault::testing::WebDavServer;

constexpr char kDavUser[] = "rcuser";
constexpr char kDavPassword[] = "rclone-dav-password";

// rclone's test remotes: "disk", a folder in a temp dir, and "dav", an nginx WebDAV server; the
// rclone config naming them is in the temp dir too.
struct Remotes {
  WebDavServer dav{kDavUser, kDavPassword};
  TempDir dir;
  std::string config;
  bool Start() {
    if (!dav.Start()) return false;
    // rclone keeps passwords in its config obscured, not in clear; `rclone obscure` does that.
    std::string obscured;
    FILE* p = ::popen((std::string("rclone obscure ") + kDavPassword).c_str(), "r");
    if (!p) return false;
    char line[256] = {0};
    if (std::fgets(line, sizeof line, p)) obscured = line;
    ::pclose(p);
    while (!obscured.empty() && obscured.back() == '\n') obscured.pop_back();
    config = dir.Sub("rclone.conf");
    std::ofstream out(config);
    out << "[disk]\ntype = local\n\n"
        << "[dav]\ntype = webdav\nurl = http://127.0.0.1:" << dav.process.port()
        << "/\nvendor = other\n"
        << "user = " << kDavUser << "\npass = " << obscured << "\n";
    return !obscured.empty() && out.good();
  }
};

auto& shared_remotes = RegisterSharedServer<Remotes>("rclone's test remotes");

std::unique_ptr<storage::Provider> Open(const std::string& remote) {
  RcloneOptions o;
  o.remote = remote;
  o.config_path = shared_remotes->config;
  o.retry.max_attempts = 4;
  o.retry.initial_delay = std::chrono::milliseconds(50);
  auto p = OpenRcloneProvider(std::move(o));
  EXPECT_THAT(p, IsOk());
  return p.ok() ? std::move(*p) : nullptr;
}

std::string Fresh() { return "t-" + HexEncode(crypto::RandomBytes(6)); }

INSTANTIATE_TEST_SUITE_P(
    Rclone, ProviderConformance,
    ::testing::Values(
        ConformanceTarget{
            "rclone_local",
            [] { return Open("disk:" + shared_remotes->dir.Sub("local/" + Fresh())); }},
        ConformanceTarget{"rclone_webdav", [] { return Open("dav:backups/" + Fresh()); }}),
    chatvault::testing::ConformanceTargetName);

TEST(RcloneProvider, UnknownRemoteIsAClearError) {
  auto p = Open("nosuchremote:x");
  ASSERT_NE(p, nullptr);
  Status s = p->Put("current", ToBytes("x"));
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("nosuchremote"), std::string::npos) << s.message();
}

TEST(RcloneProvider, MissingRcloneBinaryIsUnavailable) {
  RcloneOptions o;
  o.remote = "disk:/x";
  o.rclone_path = "/nonexistent/rclone";
  auto p = OpenRcloneProvider(std::move(o));
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), Code::kUnavailable);
}

TEST(RcloneOptions, Location) {
  auto o = RcloneOptionsFromLocation("rclone:gdrive:backups/phone");
  ASSERT_THAT(o, IsOk());
  EXPECT_EQ(o->remote, "gdrive:backups/phone");
  EXPECT_EQ(RcloneOptionsFromLocation("rclone:").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(RcloneOptionsFromLocation("rclone:nocolon").status().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace chatvault::cloud

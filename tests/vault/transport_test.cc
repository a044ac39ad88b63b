// The vault's transport under the cheap attacks of issue 16, against a real keyvaultd process:
// oversized, compressed and slow requests, idle and slow connections, connection floods, a
// second vault on the same port, /metrics access, and all of it at once under a memory limit.
// The attacks are those of tools/vault/attack (vault-attack), which reruns them against a
// deployed vault. Deadlines are shortened with keyvaultd's flags so the tests can wait them out.
#include <gtest/gtest.h>
#include <httplib.h>
#include <openssl/ssl.h>
#include <signal.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <future>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>
#include <vector>

#include "chatvault/common/bytes.h"
#include "chatvault/opaque/client.h"
#include "chatvault/vaultclient/vault_client.h"
#include "support/status_matchers.h"
#include "vault/attack/attacks.h"
#include "vault/keyvaultd_process.h"
#include "vault/vault_metrics.h"

namespace chatvault::vaultattack {
namespace {

using chatvault::testing::KeyvaultdProcess;
using chatvault::testing::RunCommand;
using Clock = std::chrono::steady_clock;
using ::chatvault::testing::IsOk;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr const char* kPassword = "correct horse 42";

double Since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::string ErrorCode(const std::string& body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (!j.is_object() || !j.contains("error")) return "(not a JSON error: " + body + ")";
  return j["error"].value("code", "");
}

// Attack settings (designated initializers that skip a member trip -Wmissing-field-initializers).
HoldOptions SlowHeaders(int connections, milliseconds interval, milliseconds duration,
                        std::vector<std::string> sources = {}, bool reconnect = true) {
  HoldOptions o;
  o.connections = connections;
  o.interval = interval;
  o.duration = duration;
  o.sources = std::move(sources);
  o.reconnect = reconnect;
  return o;
}

HoldOptions IdleTcp(int connections, milliseconds duration, std::vector<std::string> sources = {}) {
  HoldOptions o = SlowHeaders(connections, duration, duration, std::move(sources));
  o.tls = false;
  return o;
}

BodyOptions Body(size_t bytes, bool chunked, std::string content_encoding = "") {
  BodyOptions o;
  o.bytes = bytes;
  o.chunked = chunked;
  o.content_encoding = std::move(content_encoding);
  return o;
}

class TransportTest : public ::testing::Test {
 protected:
  // A vault with the test KSF parameters and `flags`.
  void StartVault(const std::string& flags = "") {
    vault_ =
        std::make_unique<KeyvaultdProcess>(std::string(KeyvaultdProcess::kTestFlags) + " " + flags);
    ASSERT_EQ(vault_->Start(), "");
    auto target = ParseTarget(vault_->url(), vault_->ca_file());
    ASSERT_THAT(target, IsOk());
    target_ = *target;
  }

  // Resident memory of the vault process, in KiB (`field`: VmRSS now, VmHWM at its peak).
  long MemoryKib(const char* field = "VmRSS") const {
    std::ifstream in("/proc/" + std::to_string(vault_->pid()) + "/status");
    for (std::string line; std::getline(in, line);) {
      if (line.rfind(field, 0) == 0) return std::atol(line.c_str() + std::strlen(field) + 1);
    }
    return -1;
  }

  bool VaultAlive() const { return ::kill(vault_->pid(), 0) == 0; }

  std::unique_ptr<httplib::Client> Http(int port = 0) const {
    auto c = std::make_unique<httplib::Client>(
        port == 0 ? vault_->url() : "https://127.0.0.1:" + std::to_string(port));
    c->set_ca_cert_path(vault_->ca_file().c_str());
    c->enable_server_certificate_verification(true);
    c->set_connection_timeout(10);
    c->set_read_timeout(20);
    return c;
  }

  httplib::Headers Bearer() const {
    return {{"Authorization", "Bearer " + vault_->metrics_token()}};
  }

  uint64_t Metric(const std::string& name, int port = 0) {
    return chatvault::testing::MetricIn(Http(port)->Get("/metrics", Bearer()), name);
  }

  // The rightful user: registers `account` and gets the key back with the right password.
  // Returns the seconds both took, or -1 (with the failure recorded) if either failed.
  double RightPasswordLogin(const std::string& account) {
    const auto start = Clock::now();
    vaultclient::ClientOptions options;
    options.allow_weak_ksf = true;  // the test vault asks for tiny Argon2id parameters
    auto client = vaultclient::VaultClient::Connect({vault_->url(), vault_->ca_file()}, options);
    if (!client.ok()) {
      ADD_FAILURE() << client.status().ToString();
      return -1;
    }
    const key::BackupKey key = key::BackupKey::Generate();
    if (Status s = (*client)->Register(account, vault_->Token(account), kPassword, key); !s.ok()) {
      ADD_FAILURE() << "register: " << s.ToString();
      return -1;
    }
    auto got = (*client)->Recover(account, kPassword);
    if (!got.ok()) {
      ADD_FAILURE() << "recover: " << got.status().ToString();
      return -1;
    }
    EXPECT_EQ(got->key.Hex(), key.Hex());
    return Since(start);
  }

  // The port the log says the metrics listener got.
  int MetricsPortFromLog() const {
    static const std::regex kLine(R"(/metrics on https://127\.0\.0\.1:(\d+) only)");
    std::smatch m;
    const std::string log = vault_->Log();
    return std::regex_search(log, m, kLine) ? std::stoi(m[1]) : -1;
  }

  std::unique_ptr<KeyvaultdProcess> vault_;
  Target target_;
};

// Issue 16: a 100 MB chunked body was read whole (400, +97 MB); six such requests killed a vault
// in 1 GiB. The limit now holds for chunks: 413 after 16 KiB, and memory stays where it was.
TEST_F(TransportTest, ChunkedBodiesOverTheLimitAre413AndCostNoMemory) {
  StartVault();
  const long before = MemoryKib();
  std::vector<std::future<RequestReport>> attacks;
  for (int i = 0; i < 6; ++i) {
    attacks.push_back(std::async(std::launch::async, [this] {
      return OversizedBody(target_, Body(size_t{100} << 20, true));
    }));
  }
  for (auto& attack : attacks) {
    const RequestReport r = attack.get();
    EXPECT_EQ(r.status, 413) << r.ToJson();
    EXPECT_EQ(ErrorCode(r.reply), "too_large");
    EXPECT_LT(r.bytes_sent, size_t{32} << 20) << "the vault kept reading a refused body";
  }
  const RequestReport declared = OversizedBody(target_, Body(size_t{100} << 20, false));
  EXPECT_EQ(declared.status, 413) << declared.ToJson();
  const long after = MemoryKib();
  EXPECT_LT(after - before, 32 * 1024) << "KiB before " << before << ", after " << after;
  EXPECT_GT(RightPasswordLogin("alice"), 0);
  EXPECT_GE(Metric("transport_refusals_total"), 7u);
}

// A 200 KB gzip body expanded to 200 MB. Compressed bodies are refused unread, whatever the coding.
TEST_F(TransportTest, CompressedBodiesAreRefusedWith415) {
  StartVault();
  for (bool chunked : {true, false}) {
    const RequestReport bomb = OversizedBody(target_, Body(200u << 20, chunked, "gzip"));
    EXPECT_EQ(bomb.status, 415) << bomb.ToJson();
    EXPECT_EQ(ErrorCode(bomb.reply), "unsupported_encoding");
  }
  auto post = [this](const std::string& fields, const std::string& body) {
    return SendRaw(target_, "POST /v1/recover/start HTTP/1.1\r\nHost: v\r\n" + fields +
                                "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
                                body);
  };
  for (const char* coding : {"br", "deflate", "GZIP", "identity, gzip", "x-unknown"}) {
    const RequestReport r = post(std::string("Content-Encoding: ") + coding + "\r\n", "{}");
    EXPECT_EQ(r.status, 415) << coding << " " << r.ToJson();
  }
  // identity is no encoding at all: the request reaches the routes (which want fields).
  const RequestReport identity = post("Content-Encoding: identity\r\n", "{}");
  EXPECT_EQ(identity.status, 400) << identity.ToJson();
  EXPECT_EQ(ErrorCode(identity.reply), "bad_request");
  const RequestReport transfer =
      SendRaw(target_,
              "POST /v1/recover/start HTTP/1.1\r\nHost: v\r\nTransfer-Encoding: gzip, chunked\r\n"
              "\r\n2\r\n{}\r\n0\r\n\r\n");
  EXPECT_EQ(transfer.status, 501) << transfer.ToJson();
  EXPECT_EQ(ErrorCode(transfer.reply), "not_implemented");
}

TEST_F(TransportTest, OversizedHeadersAndTooManyFieldsAre431) {
  StartVault("--max-header-bytes 8192 --max-header-fields 64");
  const RequestReport big = OversizedHeader(target_, {.fields = 1, .field_bytes = 16 * 1024});
  EXPECT_EQ(big.status, 431) << big.ToJson();
  EXPECT_EQ(ErrorCode(big.reply), "headers_too_large");
  const RequestReport many = OversizedHeader(target_, {.fields = 100, .field_bytes = 4});
  EXPECT_EQ(many.status, 431) << many.ToJson();
  const RequestReport line =
      SendRaw(target_, "GET /" + std::string(10000, 'x') + " HTTP/1.1\r\nHost: v\r\n\r\n");
  EXPECT_EQ(line.status, 431) << line.ToJson();
  const RequestReport fine = OversizedHeader(target_, {.fields = 40, .field_bytes = 4});
  EXPECT_EQ(fine.status, 200) << fine.ToJson();
}

// Issue 16: 64 TLS connections sending a header byte every 4 s took every thread; a restore with
// the right password failed and health checks timed out. Now they cost no worker, each is cut
// at the header deadline, and the rightful user gets in meanwhile.
TEST_F(TransportTest, SlowHeadersBlockNeitherLoginsNorHealthChecks) {
  StartVault("--threads 4 --header-timeout 3 --handshake-timeout 3");
  const HoldOptions slow = SlowHeaders(64, milliseconds(1000), seconds(14));
  auto attack = std::async(std::launch::async, [&] { return HoldConnections(target_, slow); });
  auto probe = std::async(std::launch::async,
                          [&] { return ProbeHealth(target_, seconds(13), milliseconds(1000)); });
  std::this_thread::sleep_for(seconds(3));  // the attack is in place
  const double login = RightPasswordLogin("alice");
  EXPECT_GT(login, 0);
  EXPECT_LT(login, 10) << "a right-password login took " << login << " s under attack";
  const HoldReport held = attack.get();
  const ProbeReport health = probe.get();
  EXPECT_GE(held.opened, 64) << held.ToJson();
  EXPECT_GE(held.closed_by_vault, 64) << held.ToJson();
  EXPECT_LT(held.longest_open_s, 3 + 1 + 2.5) << "a slow header outlived its deadline";
  EXPECT_EQ(health.failed, 0) << health.ToJson();
  EXPECT_GE(health.answered, 8) << health.ToJson();
  EXPECT_LT(health.slowest_s, 3) << health.ToJson();
  EXPECT_GE(Metric("transport_timeouts_total"), 64u);
}

// Issue 16: 80 idle TCP connections made every request take about 10 s.
TEST_F(TransportTest, IdleConnectionsDoNotSlowRequests) {
  StartVault("--handshake-timeout 2");
  const HoldOptions idle = IdleTcp(80, seconds(9));
  auto attack = std::async(std::launch::async, [&] { return HoldConnections(target_, idle); });
  std::this_thread::sleep_for(seconds(1));
  auto client = vaultclient::VaultClient::Connect({vault_->url(), vault_->ca_file()});
  ASSERT_THAT(client, IsOk());
  double slowest = 0;
  for (int i = 0; i < 10; ++i) {
    const auto start = Clock::now();
    Status s = (*client)->Health();
    EXPECT_THAT(s, IsOk());
    slowest = std::max(slowest, Since(start));
    std::this_thread::sleep_for(milliseconds(300));
  }
  EXPECT_LT(slowest, 2.0) << "a health check took " << slowest << " s beside idle connections";
  EXPECT_GT(RightPasswordLogin("alice"), 0);
  const HoldReport held = attack.get();
  EXPECT_GE(held.closed_by_vault, 80) << held.ToJson();
  EXPECT_LT(held.longest_open_s, 2 + 2.5) << held.ToJson();
}

// One deadline for the whole body: a byte every half second would keep a per-read timeout of
// any length alive forever.
TEST_F(TransportTest, ATricklingBodyIsCutAtTheBodyDeadline) {
  StartVault("--body-timeout 2");
  HoldOptions trickle = SlowHeaders(8, milliseconds(500), seconds(7), {}, false);
  trickle.slow_body = true;
  const HoldReport held = HoldConnections(target_, trickle);
  EXPECT_EQ(held.opened, 8) << held.ToJson();
  EXPECT_EQ(held.closed_by_vault, 8) << held.ToJson();
  EXPECT_LT(held.longest_open_s, 2 + 2.0) << held.ToJson();
}

TEST_F(TransportTest, EachAddressHasItsConnectionCap) {
  StartVault("--max-connections-per-address 8 --header-timeout 30");
  const HoldOptions flood = SlowHeaders(12, milliseconds(500), seconds(5), {"127.0.0.2"}, false);
  auto attack = std::async(std::launch::async, [&] { return HoldConnections(target_, flood); });
  std::this_thread::sleep_for(milliseconds(1500));
  // Another address still gets its own 8, and the rightful user theirs.
  const HoldOptions neighbour = SlowHeaders(8, milliseconds(500), seconds(2), {"127.0.0.3"}, false);
  const HoldReport other = HoldConnections(target_, neighbour);
  EXPECT_EQ(other.opened, 8) << other.ToJson();
  EXPECT_EQ(other.refused, 0) << other.ToJson();
  EXPECT_GT(RightPasswordLogin("alice"), 0);
  const HoldReport held = attack.get();
  EXPECT_EQ(held.opened, 8) << held.ToJson();
  EXPECT_EQ(held.refused, 4) << held.ToJson();
  EXPECT_GE(Metric("connections_refused_total"), 4u);
}

// At the total cap a new connection takes the slot of the longest-idle kept-alive one (its client
// reconnects cheaply); with nothing idle, the new one is reset before any TLS work.
TEST_F(TransportTest, AtTheTotalCapIdleConnectionsMakeRoomThenNewOnesAreReset) {
  StartVault("--max-connections 4 --header-timeout 30 --metrics-listen 127.0.0.1:0");
  const int metrics_port = MetricsPortFromLog();
  ASSERT_GT(metrics_port, 0) << vault_->Log();
  auto tls = TlsClientContext::Create(target_);
  ASSERT_THAT(tls, IsOk());
  auto kept = RawConnection::Open(target_, "127.0.0.1", milliseconds(5000));
  ASSERT_THAT(kept, IsOk());
  ASSERT_TRUE((*kept)->Handshake(**tls, milliseconds(5000)).ok());
  ASSERT_TRUE((*kept)->Write("GET /v1/health HTTP/1.1\r\nHost: v\r\n\r\n").ok());
  ASSERT_EQ((*kept)->ReadReply(milliseconds(10000)), 200);  // now idle, kept alive

  const HoldOptions flood = SlowHeaders(4, milliseconds(500), seconds(5), {"127.0.0.2"}, false);
  auto attack = std::async(std::launch::async, [&] { return HoldConnections(target_, flood); });
  EXPECT_TRUE((*kept)->ClosedByPeer(milliseconds(4000))) << "the idle connection kept its slot";
  std::this_thread::sleep_for(milliseconds(500));
  // Reset at once: the connect itself may already see it, else the TLS handshake does.
  auto late = RawConnection::Open(target_, "127.0.0.3", milliseconds(5000));
  EXPECT_FALSE(late.ok() && (*late)->Handshake(**tls, milliseconds(5000)).ok())
      << "over the cap, yet served";
  EXPECT_GE(Metric("connections_evicted_total", metrics_port), 1u);
  EXPECT_GE(Metric("connections_refused_total", metrics_port), 1u);
  const HoldReport held = attack.get();
  EXPECT_EQ(held.opened, 4) << held.ToJson();
  EXPECT_EQ(held.refused, 0) << held.ToJson();
  // The attack is over: its slots are free again once the vault has seen its connections close.
  bool served = false;
  for (int i = 0; i < 50 && !served; ++i) {
    auto res = Http()->Get("/v1/health");
    served = res && res->status == 200;
    if (!served) std::this_thread::sleep_for(milliseconds(100));
  }
  EXPECT_TRUE(served);
  EXPECT_GT(RightPasswordLogin("alice"), 0);
}

// Handlers wait for the store; when every worker is busy and the queue is full, a request is
// answered 503 at once rather than left waiting without bound.
TEST_F(TransportTest, AFullWorkerQueueAnswers503WithRetryAfter) {
  StartVault("--threads 1 --max-queued-requests 0");
  auto tls = TlsClientContext::Create(target_);
  ASSERT_THAT(tls, IsOk());
  const std::string ke1 =
      HexEncode(opaque::ClientLogin::Start(AsBytes("x1")).value().ke1().Serialize());
  const std::string body = R"({"account":"nobody","ke1":")" + ke1 + "\"}";
  const std::string request = "POST /v1/recover/start HTTP/1.1\r\nHost: v\r\nContent-Length: " +
                              std::to_string(body.size()) + "\r\n\r\n" + body;
  constexpr int kClients = 32;
  std::vector<std::unique_ptr<RawConnection>> connections;
  for (int i = 0; i < kClients; ++i) {
    auto c = RawConnection::Open(target_, "", milliseconds(5000));
    ASSERT_THAT(c, IsOk());
    ASSERT_TRUE((*c)->Handshake(**tls, milliseconds(5000)).ok());
    connections.push_back(std::move(c).value());
  }
  std::vector<std::thread> senders;
  for (auto& c : connections) {
    senders.emplace_back(
        [connection = c.get(), &request] { EXPECT_TRUE(connection->Write(request).ok()); });
  }
  for (auto& t : senders) t.join();
  int ok = 0, busy = 0;
  for (auto& c : connections) {
    std::string reply, head;
    const int status = c->ReadReply(milliseconds(20000), &reply, &head);
    if (status == 200) ++ok;
    if (status == 503) {
      ++busy;
      EXPECT_EQ(ErrorCode(reply), "unavailable");
      EXPECT_NE(head.find("\r\nRetry-After: 1"), std::string::npos) << head;
    }
    EXPECT_TRUE(status == 200 || status == 503) << status << " " << reply;
  }
  EXPECT_GE(ok, 1);
  EXPECT_GE(busy, 1) << "32 requests at once never found the only worker busy";
  EXPECT_EQ(Metric("busy_replies_total"), static_cast<uint64_t>(busy));
}

// Issue 13: a second keyvaultd on a port in use started, and clients were split between them.
TEST_F(TransportTest, ASecondVaultOnAPortInUseRefusesToStart) {
  StartVault();
  const std::string d = vault_->dir();
  auto second = [&](const std::string& listen_flags) {
    int rc = 0;
    const std::string out = RunCommand(
        "SOFTHSM2_CONF=" + d + "/hsm/softhsm2.conf timeout 60 " + KeyvaultdProcess::Binary() +
            " serve " + listen_flags + " --store sqlite:" + d + "/second.db --tls-cert " + d +
            "/tls/cert.pem --tls-key " + d + "/tls/key.pem --pkcs11-module $(cat " + d +
            "/hsm/module) --hsm-pin-file " + d + "/hsm/pin --token-secret-file " + d +
            "/token-secret --ksf-memory-kib 64 --ksf-iterations 1 2>&1",
        &rc);
    return std::make_pair(rc, out);
  };
  const std::string taken = "127.0.0.1:" + std::to_string(vault_->port());
  auto [rc, out] = second("--listen " + taken);
  EXPECT_NE(rc, 0) << out;
  EXPECT_NE(rc, 124) << "the second vault kept running";
  EXPECT_NE(out.find("another process already listens on " + taken), std::string::npos) << out;
  auto [metrics_rc, metrics_out] = second("--listen 127.0.0.1:0 --metrics-listen " + taken);
  EXPECT_NE(metrics_rc, 0) << metrics_out;
  EXPECT_NE(metrics_out.find("another process already listens on " + taken), std::string::npos)
      << metrics_out;
  const std::string listeners =
      RunCommand("ss -Hltn 'sport = :" + std::to_string(vault_->port()) + "' | wc -l");
  EXPECT_EQ(listeners, "1");
  EXPECT_GT(RightPasswordLogin("alice"), 0);
}

TEST_F(TransportTest, MetricsNeedTheBearerToken) {
  StartVault();  // start-keyvaultd.sh gives it a token file
  auto http = Http();
  auto none = http->Get("/metrics");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 401);
  EXPECT_EQ(ErrorCode(none->body), "unauthorized");
  EXPECT_EQ(none->get_header_value("WWW-Authenticate"), "Bearer");
  std::string wrong = vault_->metrics_token();
  wrong.back() = wrong.back() == '0' ? '1' : '0';
  auto forged = http->Get("/metrics", {{"Authorization", "Bearer " + wrong}});
  ASSERT_TRUE(forged);
  EXPECT_EQ(forged->status, 401);
  EXPECT_EQ(none->body.find("keyvaultd_"), std::string::npos);
  auto right = http->Get("/metrics", Bearer());
  ASSERT_TRUE(right);
  EXPECT_EQ(right->status, 200);
  EXPECT_NE(right->body.find("\nkeyvaultd_connections_open "), std::string::npos) << right->body;
  EXPECT_NE(right->body.find("keyvaultd_registrations_total "), std::string::npos);
}

TEST_F(TransportTest, MetricsAreOffWithoutATokenOrAListener) {
  ::setenv("KEYVAULTD_NO_METRICS_TOKEN", "1", 1);
  StartVault();
  ::unsetenv("KEYVAULTD_NO_METRICS_TOKEN");
  auto res = Http()->Get("/metrics", Bearer());
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
  EXPECT_EQ(ErrorCode(res->body), "no_such_route");
  EXPECT_NE(vault_->Log().find("/metrics off"), std::string::npos) << vault_->Log();
}

TEST_F(TransportTest, MetricsOnTheirOwnListenerOnly) {
  StartVault("--metrics-listen 127.0.0.1:0");
  const int port = MetricsPortFromLog();
  ASSERT_GT(port, 0) << vault_->Log();
  auto api = Http()->Get("/metrics", Bearer());
  ASSERT_TRUE(api);
  EXPECT_EQ(api->status, 404) << "metrics still on the API listener";
  auto with = Http(port)->Get("/metrics", Bearer());
  ASSERT_TRUE(with);
  EXPECT_EQ(with->status, 200);
  auto without = Http(port)->Get("/metrics");
  ASSERT_TRUE(without);
  EXPECT_EQ(without->status, 401);
  auto route = Http(port)->Get("/v1/health");
  ASSERT_TRUE(route);
  EXPECT_EQ(route->status, 404) << "the metrics listener serves the API";
}

// A TLS handshake per request costs more CPU than the request: one connection serves many
// requests, up to the configured count, and an idle one is closed after the idle limit.
TEST_F(TransportTest, KeptAliveConnectionsServeManyRequestsWithinTheirLimits) {
  StartVault("--idle-timeout 2.5 --max-requests-per-connection 50");
  const uint64_t accepted = Metric("connections_accepted_total");
  auto http = Http();
  http->set_keep_alive(true);
  for (int i = 0; i < 120; ++i) {
    auto res = http->Get("/v1/health");
    ASSERT_TRUE(res && res->status == 200) << i;
  }
  // 120 requests at 50 per connection: 3 connections, plus the two metrics reads.
  EXPECT_EQ(Metric("connections_accepted_total") - accepted, 3u + 1u);

  auto tls = TlsClientContext::Create(target_);
  ASSERT_THAT(tls, IsOk());
  auto c = RawConnection::Open(target_, "", milliseconds(5000));
  ASSERT_TRUE(c.ok() && (*c)->Handshake(**tls, milliseconds(5000)).ok());
  ASSERT_TRUE((*c)->Write("GET /v1/health HTTP/1.1\r\nHost: v\r\n\r\n").ok());
  ASSERT_EQ((*c)->ReadReply(milliseconds(5000)), 200);
  const auto idle_since = Clock::now();
  EXPECT_TRUE((*c)->ClosedByPeer(milliseconds(8000)));
  EXPECT_GT(Since(idle_since), 2.0) << "closed before the idle limit";
}

TEST_F(TransportTest, ExpectContinueAndPipelinedRequests) {
  StartVault();
  auto tls = TlsClientContext::Create(target_);
  ASSERT_THAT(tls, IsOk());
  auto c = RawConnection::Open(target_, "", milliseconds(5000));
  ASSERT_TRUE(c.ok() && (*c)->Handshake(**tls, milliseconds(5000)).ok());
  ASSERT_TRUE((*c)->Write("POST /v1/recover/start HTTP/1.1\r\nHost: v\r\nContent-Length: 2\r\n"
                          "Expect: 100-continue\r\n\r\n")
                  .ok());
  EXPECT_EQ((*c)->ReadReply(milliseconds(5000)), 100);
  ASSERT_TRUE((*c)->Write("{}").ok());
  EXPECT_EQ((*c)->ReadReply(milliseconds(5000)), 400);
  const std::string health = "GET /v1/health HTTP/1.1\r\nHost: v\r\n\r\n";
  ASSERT_TRUE((*c)->Write(health + health + health).ok());
  for (int i = 0; i < 3; ++i) EXPECT_EQ((*c)->ReadReply(milliseconds(5000)), 200) << i;
  // A HEAD reply carries no body, or the next reply on the connection would be misread.
  ASSERT_TRUE((*c)->Write("HEAD /v1/health HTTP/1.1\r\nHost: v\r\n\r\n" + health).ok());
  std::string body;
  EXPECT_EQ((*c)->ReadReply(milliseconds(5000), &body), 404);
  EXPECT_EQ(body, "");
  EXPECT_EQ((*c)->ReadReply(milliseconds(5000)), 200);
}

// TLS as before: 1.2 and newer only.
TEST_F(TransportTest, TlsBelow1Point2IsRefused) {
  StartVault();
  auto handshake = [this](int max_version) {
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_security_level(ctx, 0);  // let this client offer old versions at all
    SSL_CTX_set_cipher_list(ctx, "DEFAULT:@SECLEVEL=0");
    SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION);
    SSL_CTX_set_max_proto_version(ctx, max_version);
    auto c = RawConnection::Open(target_, "", milliseconds(5000));
    bool ok = false;
    if (c.ok()) {
      SSL* ssl = SSL_new(ctx);
      SSL_set_fd(ssl, (*c)->fd());
      ok = SSL_connect(ssl) == 1;
      SSL_free(ssl);
    }
    SSL_CTX_free(ctx);
    return ok;
  };
  EXPECT_FALSE(handshake(TLS1_1_VERSION));
  EXPECT_FALSE(handshake(TLS1_VERSION));
  EXPECT_TRUE(handshake(TLS1_2_VERSION));
}

// SIGTERM: no new connection, idle ones closed at once, the process gone in well under the
// 10 s after which stop-keyvaultd.sh would kill it.
TEST_F(TransportTest, StoppingClosesWaitingConnectionsPromptly) {
  StartVault("--header-timeout 60");
  const HoldOptions waiting = SlowHeaders(20, milliseconds(500), seconds(20), {}, false);
  auto attack = std::async(std::launch::async, [&] { return HoldConnections(target_, waiting); });
  std::this_thread::sleep_for(seconds(2));
  const auto start = Clock::now();
  vault_->Stop();
  EXPECT_LT(Since(start), 5.0);
  EXPECT_NE(vault_->Log().find("keyvaultd: stopped"), std::string::npos) << vault_->Log();
  const HoldReport held = attack.get();
  EXPECT_EQ(held.closed_by_vault, 20) << held.ToJson();
}

std::string FirstLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

// A number from a cgroup file: the whole file, or the value after `key` ("oom_kill 0").
uint64_t CgroupValue(const std::string& path, const std::string& key = "") {
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    if (key.empty()) return std::strtoull(line.c_str(), nullptr, 10);
    if (line.rfind(key + " ", 0) == 0)
      return std::strtoull(line.c_str() + key.size() + 1, nullptr, 10);
  }
  return 0;
}

// Every attack above at once, against a vault whose memory a cgroup caps (or, on a machine
// without one, whose peak RSS is held to the same ceiling). It must survive, stay under the
// ceiling, and still give the rightful user their key.
TEST_F(TransportTest, AMemoryLimitedVaultSurvivesEveryAttackAtOnce) {
  constexpr uint64_t kLimit = uint64_t{256} << 20;
  ::setenv("KEYVAULTD_MEMORY_LIMIT", std::to_string(kLimit).c_str(), 1);
  // ASan holds freed memory in quarantine (256 MiB by default): the sanitizer's, not the vault's.
  const char* asan = std::getenv("ASAN_OPTIONS");
  const std::string saved = asan ? asan : "";
  ::setenv("ASAN_OPTIONS", (saved + (saved.empty() ? "" : ":") + "quarantine_size_mb=16").c_str(),
           1);
  StartVault("--header-timeout 3 --handshake-timeout 3 --body-timeout 3");
  saved.empty() ? ::unsetenv("ASAN_OPTIONS") : ::setenv("ASAN_OPTIONS", saved.c_str(), 1);
  ::unsetenv("KEYVAULTD_MEMORY_LIMIT");
  const std::string cgroup = FirstLine(vault_->dir() + "/cgroup");  // "v1 PATH", "v2 PATH" or ""

  std::vector<std::future<std::string>> attacks;
  auto launch = [&](auto attack) {
    attacks.push_back(std::async(std::launch::async, [attack] { return attack(); }));
  };
  const Target t = target_;
  for (int i = 0; i < 6; ++i) {
    launch([t] { return OversizedBody(t, Body(size_t{100} << 20, true)).ToJson(); });
  }
  for (int i = 0; i < 2; ++i) {
    launch([t] { return OversizedBody(t, Body(200u << 20, false, "gzip")).ToJson(); });
  }
  for (int i = 0; i < 4; ++i) {
    launch([t] { return OversizedHeader(t, {.fields = 1, .field_bytes = 64 * 1024}).ToJson(); });
  }
  // From addresses of their own, so the per-address cap does not shield the vault's memory.
  launch([t] {
    return HoldConnections(t, SlowHeaders(64, milliseconds(1000), seconds(12), {"127.0.0.2"}))
        .ToJson();
  });
  launch([t] { return HoldConnections(t, IdleTcp(80, seconds(12), {"127.0.0.3"})).ToJson(); });
  std::this_thread::sleep_for(seconds(3));
  const double login = RightPasswordLogin("alice");
  EXPECT_GT(login, 0);
  EXPECT_LT(login, 10);
  for (auto& attack : attacks) {
    const std::string report = attack.get();
    EXPECT_EQ(report.find("\"status\":0"), std::string::npos) << "no answer: " << report;
  }
  ASSERT_TRUE(VaultAlive()) << vault_->Log();
  EXPECT_GT(RightPasswordLogin("bob"), 0);

  uint64_t peak = 0, oom_kills = 0;
  if (cgroup.rfind("v1 ", 0) == 0) {
    peak = CgroupValue(cgroup.substr(3) + "/memory.max_usage_in_bytes");
    oom_kills = CgroupValue(cgroup.substr(3) + "/memory.oom_control", "oom_kill");
  } else if (cgroup.rfind("v2 ", 0) == 0) {
    peak = CgroupValue(cgroup.substr(3) + "/memory.peak");
    oom_kills = CgroupValue(cgroup.substr(3) + "/memory.events", "oom_kill");
  } else {
    peak = static_cast<uint64_t>(MemoryKib("VmHWM")) * 1024;  // no cgroup here: the same ceiling
  }
  EXPECT_EQ(oom_kills, 0u);
  EXPECT_GT(peak, 0u);
  EXPECT_LT(peak, kLimit);
  std::cerr << "memory-limited vault (" << (cgroup.empty() ? "no cgroup, peak RSS" : cgroup)
            << "): peak " << (peak >> 20) << " MiB of " << (kLimit >> 20) << " MiB\n";
}

}  // namespace
}  // namespace chatvault::vaultattack

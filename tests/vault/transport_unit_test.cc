// The transport's parts on their own: connection caps and idle eviction, the bounded worker
// pool, the request parser's limits and the /metrics access rule. The whole transport is tested
// against a real keyvaultd in transport_test.cc.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <thread>

#include "support/status_matchers.h"
#include "support/temp_dir.h"
#include "vault/connection_table.h"
#include "vault/metrics_access.h"
#include "vault/request_parser.h"
#include "vault/worker_pool.h"

namespace chatvault::vault {
namespace {

using ::chatvault::testing::IsOk;

struct FakeConnection : TrackedConnection {
  void Evict() override { ++evicted; }
  void Drain() override { ++drained; }
  int evicted = 0;
  int drained = 0;
};

std::string V4(uint8_t last) {
  const uint8_t a[4] = {10, 0, 0, last};
  return ConnectionTable::SourceKey(a, 4);
}

// A connection from 10.0.0.<last>, admitted and then attached as the server does on accept.
struct Accepted {
  ConnectionTable::Id id;
  std::shared_ptr<FakeConnection> connection;
};
Accepted Accept(ConnectionTable& table, uint8_t last) {
  Accepted accepted{table.Admit(V4(last)), std::make_shared<FakeConnection>()};
  table.Attach(accepted.id, accepted.connection);
  return accepted;
}

TEST(ConnectionTable, EachSourceHasItsCap) {
  ConnectionTable table({/*total=*/100, /*per_source=*/2});
  EXPECT_NE(table.Admit(V4(1)), 0u);
  EXPECT_NE(table.Admit(V4(1)), 0u);
  EXPECT_EQ(table.Admit(V4(1)), 0u);  // nothing idle to make room
  EXPECT_NE(table.Admit(V4(2)), 0u);  // another source is not affected
  EXPECT_EQ(table.open(), 3u);
  EXPECT_EQ(table.refused(), 1u);
}

TEST(ConnectionTable, AtTheCapTheLongestIdleConnectionMakesRoom) {
  ConnectionTable table({/*total=*/3, /*per_source=*/3});
  const Accepted a = Accept(table, 1), b = Accept(table, 2), c = Accept(table, 3);
  EXPECT_EQ(table.Admit(V4(4)), 0u);  // full, nobody idle
  table.SetIdle(b.id);
  table.SetIdle(a.id);  // b has waited longer than a
  const auto id = table.Admit(V4(4));
  EXPECT_NE(id, 0u);
  EXPECT_EQ(b.connection->evicted, 1);
  EXPECT_EQ(a.connection->evicted, 0);
  EXPECT_FALSE(table.SetBusy(b.id));  // b must close: its slot is gone
  table.Release(b.id);                // and its late release frees nothing twice
  EXPECT_EQ(table.open(), 3u);
  EXPECT_TRUE(table.SetBusy(a.id));  // a woke up first: it keeps its slot
  EXPECT_EQ(table.Admit(V4(5)), 0u);
  EXPECT_EQ(table.evicted(), 1u);
  EXPECT_EQ(table.refused(), 2u);
}

TEST(ConnectionTable, ASourceAtItsCapEvictsOnlyItsOwnIdleConnection) {
  ConnectionTable table({/*total=*/10, /*per_source=*/1});
  const Accepted mine = Accept(table, 1), other = Accept(table, 2);
  table.SetIdle(other.id);
  EXPECT_EQ(table.Admit(V4(1)), 0u);  // the other source's idle connection is not ours to take
  EXPECT_EQ(other.connection->evicted, 0);
  table.SetIdle(mine.id);
  EXPECT_NE(table.Admit(V4(1)), 0u);
  EXPECT_EQ(mine.connection->evicted, 1);
}

TEST(ConnectionTable, DrainReachesEveryConnectionAndRefusesNewOnes) {
  ConnectionTable table({10, 10});
  auto a = std::make_shared<FakeConnection>();
  auto b = std::make_shared<FakeConnection>();
  EXPECT_TRUE(table.Attach(table.Admit(V4(1)), a));
  EXPECT_TRUE(table.Attach(table.Admit(V4(1)), b));
  const auto late = table.Admit(V4(3));  // admitted, its connection not yet made
  table.DrainAll();
  EXPECT_EQ(a->drained + b->drained, 2);
  EXPECT_EQ(table.Admit(V4(2)), 0u);
  EXPECT_FALSE(table.Attach(late, std::make_shared<FakeConnection>()));  // it must drain itself
}

TEST(ConnectionTable, IPv6CountsPerSlash64AndMappedIPv4AsIPv4) {
  uint8_t x[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1};
  uint8_t y[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 9, 9, 9, 9, 9, 9, 9, 9};
  uint8_t z[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1};
  uint8_t mapped[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 7};
  EXPECT_EQ(ConnectionTable::SourceKey(x, 16), ConnectionTable::SourceKey(y, 16));
  EXPECT_NE(ConnectionTable::SourceKey(x, 16), ConnectionTable::SourceKey(z, 16));
  EXPECT_EQ(ConnectionTable::SourceKey(mapped, 16), V4(7));
  EXPECT_NE(V4(7), V4(8));
}

using std::chrono::milliseconds;

// A task that blocks until released, to fill the pool deterministically.
class Gate {
 public:
  void Wait() {
    std::unique_lock<std::mutex> lock(mu_);
    ++waiting_;
    changed_.notify_all();
    changed_.wait(lock, [this] { return open_; });
  }
  void AwaitWaiting(int n) {
    std::unique_lock<std::mutex> lock(mu_);
    changed_.wait(lock, [&] { return waiting_ >= n; });
  }
  void Open() {
    std::lock_guard<std::mutex> lock(mu_);
    open_ = true;
    changed_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable changed_;
  int waiting_ = 0;
  bool open_ = false;
};

TEST(WorkerPool, RefusesOnceEveryThreadIsBusyAndTheQueueIsFull) {
  WorkerPool pool(/*threads=*/2, /*max_queued=*/1);
  Gate gate;
  std::atomic<int> ran{0};
  auto blocked = [&] {
    gate.Wait();
    ++ran;
  };
  EXPECT_TRUE(pool.TryPost(blocked));
  EXPECT_TRUE(pool.TryPost(blocked));
  gate.AwaitWaiting(2);
  EXPECT_TRUE(pool.TryPost(blocked));  // waits in the queue
  EXPECT_EQ(pool.queued(), 1u);
  EXPECT_FALSE(pool.TryPost(blocked));  // refused at once, never run
  gate.Open();
  for (int i = 0; i < 2000 && ran.load() < 3; ++i) std::this_thread::sleep_for(milliseconds(5));
  pool.Shutdown();
  EXPECT_EQ(ran.load(), 3);
}

TEST(WorkerPool, WithoutAQueueOnlyFreeThreadsTakeWork) {
  WorkerPool pool(/*threads=*/1, /*max_queued=*/0);
  Gate gate;
  EXPECT_TRUE(pool.TryPost([&] { gate.Wait(); }));
  EXPECT_FALSE(pool.TryPost([] {}));
  gate.Open();
  std::atomic<bool> done{false};
  for (int i = 0; i < 2000 && !pool.TryPost([&] { done = true; }); ++i) {
    std::this_thread::sleep_for(milliseconds(5));
  }
  for (int i = 0; i < 2000 && !done.load(); ++i) std::this_thread::sleep_for(milliseconds(5));
  pool.Shutdown();
  EXPECT_TRUE(done.load());
}

namespace http = boost::beast::http;

// Feeds `bytes` to the parser as one buffer; returns the parser's verdict.
boost::beast::error_code Feed(RequestParser& parser, const std::string& bytes) {
  parser.eager(true);
  boost::beast::error_code ec;
  size_t used = 0;
  while (used < bytes.size() && !parser.is_done()) {
    const size_t n = parser.put(boost::asio::buffer(bytes.data() + used, bytes.size() - used), ec);
    used += n;
    if (ec == http::error::need_more) {
      ec = {};
      break;
    }
    if (ec || n == 0) break;
  }
  return ec;
}

TEST(RequestParser, KeepsMethodPathBodyAndTheFieldsTheTransportNeeds) {
  RequestParser parser({8192, 16, 1024});
  const auto ec = Feed(parser,
                       "POST /v1/recover/start?x=1 HTTP/1.1\r\nHost: v\r\n"
                       "Content-Encoding: identity\r\nAuthorization: Bearer t0k\r\n"
                       "Expect: 100-continue\r\nContent-Length: 2\r\n\r\n{}");
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_TRUE(parser.is_done());
  EXPECT_EQ(parser.method(), "POST");
  EXPECT_EQ(parser.path(), "/v1/recover/start");
  EXPECT_EQ(parser.body(), "{}");
  EXPECT_EQ(parser.content_encoding(), "identity");
  EXPECT_EQ(parser.authorization(), "Bearer t0k");
  EXPECT_TRUE(parser.expects_continue());
}

TEST(RequestParser, AChunkedBodyMeetsTheSameLimit) {
  RequestParser parser({8192, 16, 1024});
  std::string request = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 8; ++i) request += "100\r\n" + std::string(256, 'a') + "\r\n";  // 2 KiB
  EXPECT_EQ(Feed(parser, request), http::error::body_limit);
  EXPECT_LE(parser.body().size(), 1024u);
}

TEST(RequestParser, ADeclaredLengthOverTheLimitIsRefusedBeforeItsBody) {
  RequestParser parser({8192, 16, 1024});
  EXPECT_EQ(Feed(parser, "POST / HTTP/1.1\r\nContent-Length: 104857600\r\n\r\n"),
            http::error::body_limit);
  EXPECT_TRUE(parser.body().empty());
}

TEST(RequestParser, TooManyFieldsAndTooLongAHeaderAreRefused) {
  std::string many = "GET / HTTP/1.1\r\n";
  for (int i = 0; i < 17; ++i) many += "X-" + std::to_string(i) + ": 1\r\n";
  RequestParser counted({8192, 16, 1024});
  EXPECT_EQ(Feed(counted, many + "\r\n"), http::error::header_limit);
  EXPECT_TRUE(counted.too_many_fields());

  RequestParser sized({1024, 16, 1024});
  EXPECT_EQ(Feed(sized, "GET / HTTP/1.1\r\nX-Big: " + std::string(2048, 'b') + "\r\n\r\n"),
            http::error::header_limit);
  EXPECT_FALSE(sized.too_many_fields());
}

TEST(RequestParser, TrailerFieldsCountToo) {
  std::string request = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n";
  for (int i = 0; i < 20; ++i) request += "T-" + std::to_string(i) + ": 1\r\n";
  RequestParser parser({8192, 16, 1024});
  EXPECT_EQ(Feed(parser, request + "\r\n"), http::error::header_limit);
}

std::string WriteFile(const testing::TempDir& dir, const std::string& text) {
  const std::string path = dir.Sub("token");
  std::ofstream(path) << text;
  return path;
}

TEST(MetricsAccess, OffUnlessATokenOrAListenerIsGiven) {
  auto off = MetricsAccess::Load("", /*own_listener=*/false);
  ASSERT_THAT(off, IsOk());
  EXPECT_EQ(off->Check(false, ""), MetricsAccess::Decision::kNoSuchRoute);
  EXPECT_EQ(off->Check(false, "Bearer anything-at-all-here"),
            MetricsAccess::Decision::kNoSuchRoute);
}

TEST(MetricsAccess, TheBearerTokenMustMatchExactly) {
  testing::TempDir dir;
  auto access = MetricsAccess::Load(WriteFile(dir, "0123456789abcdef0123\n"), false);
  ASSERT_THAT(access, IsOk());
  using D = MetricsAccess::Decision;
  EXPECT_EQ(access->Check(false, "Bearer 0123456789abcdef0123"), D::kServe);
  EXPECT_EQ(access->Check(false, "bearer 0123456789abcdef0123"), D::kServe);
  EXPECT_EQ(access->Check(false, ""), D::kUnauthorized);
  EXPECT_EQ(access->Check(false, "Bearer 0123456789abcdef012"), D::kUnauthorized);
  EXPECT_EQ(access->Check(false, "Bearer 0123456789abcdef01234"), D::kUnauthorized);
  EXPECT_EQ(access->Check(false, "Basic 0123456789abcdef0123"), D::kUnauthorized);
  EXPECT_EQ(access->Check(false, "0123456789abcdef0123"), D::kUnauthorized);
}

TEST(MetricsAccess, AMetricsListenerTakesMetricsOffTheApiListener) {
  testing::TempDir dir;
  auto open = MetricsAccess::Load("", /*own_listener=*/true);
  ASSERT_THAT(open, IsOk());
  EXPECT_EQ(open->Check(true, ""), MetricsAccess::Decision::kServe);
  EXPECT_EQ(open->Check(false, ""), MetricsAccess::Decision::kNoSuchRoute);
  auto guarded = MetricsAccess::Load(WriteFile(dir, "0123456789abcdef0123"), true);
  ASSERT_THAT(guarded, IsOk());
  EXPECT_EQ(guarded->Check(true, ""), MetricsAccess::Decision::kUnauthorized);
  EXPECT_EQ(guarded->Check(true, "Bearer 0123456789abcdef0123"), MetricsAccess::Decision::kServe);
  EXPECT_EQ(guarded->Check(false, "Bearer 0123456789abcdef0123"),
            MetricsAccess::Decision::kNoSuchRoute);
}

TEST(MetricsAccess, AShortOrMissingTokenFileIsRefused) {
  testing::TempDir dir;
  EXPECT_EQ(MetricsAccess::Load(WriteFile(dir, "short\n"), false).status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(MetricsAccess::Load(dir.Sub("missing"), false).status().code(), Code::kIo);
}

}  // namespace
}  // namespace chatvault::vault

// Why Beast and not cpp-httplib (which served the vault before): cpp-httplib gives each
// connection a thread for as long as it is open, so 64 clients sending a byte every few seconds
// took every thread, and its payload limit did not cover chunked bodies (a 100 MB chunked body
// was read whole). Beast on Asio reads every connection asynchronously with deadlines per
// operation, and its parser holds the body to a limit for every transfer encoding.
#include "chatvault/vault/http_server.h"

#include <sched.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <exception>
#include <iostream>
#include <thread>
#include <vector>

#include "vault/api_routes.h"
#include "vault/connection_table.h"
#include "vault/metrics_access.h"
#include "vault/tls_context.h"
#include "vault/tls_listener.h"
#include "vault/transport_metrics.h"
#include "vault/worker_pool.h"

namespace chatvault::vault {
namespace {

namespace net = boost::asio;

// How long a stopping server waits for the requests it is answering; stop-keyvaultd.sh and
// systemd's default stop timeout kill it later than this.
constexpr std::chrono::seconds kDrainDeadline{8};
// The metrics listener serves one scraper or two, never the public.
constexpr ConnectionCaps kMetricsCaps{64, 16};

// One I/O thread per core keyvaultd may run on: the cores of its CPU affinity (taskset,
// systemd's CPUAffinity=), not of the machine. Two I/O threads sharing one core only take turns
// at the scheduler's lock and wake each other.
int IoThreads(int asked) {
  if (asked > 0) return asked;
  cpu_set_t allowed;
  if (sched_getaffinity(0, sizeof allowed, &allowed) == 0 && CPU_COUNT(&allowed) > 0) {
    return CPU_COUNT(&allowed);
  }
  const unsigned cores = std::thread::hardware_concurrency();
  return cores == 0 ? 2 : static_cast<int>(cores);
}

class BeastHttpsServer final : public HttpServer {
 public:
  BeastHttpsServer(VaultService& service, RealmService* realm, Metrics& metrics,
                   const HttpServerOptions& options, std::unique_ptr<TlsContextHolder> tls,
                   MetricsAccess access)
      : options_(options),
        tls_(std::move(tls)),
        routes_(&service, realm, metrics),
        metrics_access_(std::move(access)),
        api_table_({options.limits.max_connections, options.limits.max_connections_per_address}),
        metrics_table_(kMetricsCaps),
        api_context_{routes_,         metrics,
                     counters_,       latency_,
                     pool_,           api_table_,
                     metrics_access_, options_.limits,
                     false,           [this] { return RenderTransport(); }},
        metrics_context_{routes_,
                         metrics,
                         counters_,
                         latency_,
                         pool_,
                         metrics_table_,
                         metrics_access_,
                         options_.limits,
                         true,
                         [this] { return RenderTransport(); }},
        io_(IoThreads(options.io_threads)),
        pool_(static_cast<size_t>(options.threads), options.limits.max_queued_requests),
        drain_timer_(io_) {}

  Status Bind() {
    CV_ASSIGN_OR_RETURN(api_,
                        TlsListener::Bind(io_, *tls_, options_.host, options_.port, api_context_));
    if (options_.metrics_port >= 0) {
      CV_ASSIGN_OR_RETURN(metrics_, TlsListener::Bind(io_, *tls_, options_.metrics_host,
                                                      options_.metrics_port, metrics_context_));
    }
    return OkStatus();
  }

  int BoundPort() const override { return api_->port(); }
  Status ReloadTls() override { return tls_->Reload(); }
  std::string DescribeCertificate() const override { return tls_->Describe(); }
  int64_t CertificateNotAfter() const override { return tls_->NotAfterUnix(); }
  int BoundMetricsPort() const override { return metrics_ ? metrics_->port() : -1; }

  Status Run() override {
    api_->Start();
    if (metrics_) metrics_->Start();
    std::vector<std::thread> threads;
    for (int i = 1; i < IoThreads(options_.io_threads); ++i)
      threads.emplace_back([this] { Serve(); });
    Serve();
    for (std::thread& t : threads) t.join();
    pool_.Shutdown();
    return OkStatus();
  }

  void Stop() override {
    if (stopping_.exchange(true)) return;
    net::post(io_, [this] {
      api_->Close();
      if (metrics_) metrics_->Close();
      api_table_.DrainAll();
      metrics_table_.DrainAll();
      WatchDrain(std::chrono::steady_clock::now() + kDrainDeadline);
    });
  }

 private:
  // Runs the I/O loop; a handler that throws (it should not) costs its connection, not the
  // server.
  void Serve() {
    while (true) {
      try {
        io_.run();
        return;
      } catch (const std::exception& e) {
        std::cerr << "keyvaultd: a connection failed unexpectedly: " << e.what() << "\n";
      }
    }
  }

  // The I/O threads return by themselves once every connection is closed; past the deadline
  // the ones still open are abandoned.
  void WatchDrain(std::chrono::steady_clock::time_point deadline) {
    if (api_table_.open() == 0 && metrics_table_.open() == 0) return;
    if (std::chrono::steady_clock::now() >= deadline) return io_.stop();
    drain_timer_.expires_after(std::chrono::milliseconds(50));
    drain_timer_.async_wait([this, deadline](boost::system::error_code ec) {
      if (!ec) WatchDrain(deadline);
    });
  }

  std::string RenderTransport() const {
    TransportCounters::Gauges gauges;
    gauges.connections_open = api_table_.open();
    gauges.connections_refused = api_table_.refused();
    gauges.connections_evicted = api_table_.evicted();
    gauges.requests_queued = pool_.queued();
    return counters_.RenderPrometheus(gauges) + latency_.RenderPrometheus();
  }

  const HttpServerOptions options_;
  std::unique_ptr<TlsContextHolder> tls_;
  ApiRoutes routes_;
  TransportCounters counters_;
  LatencyHistograms latency_;
  const MetricsAccess metrics_access_;
  ConnectionTable api_table_;
  ConnectionTable metrics_table_;
  const SessionContext api_context_;
  const SessionContext metrics_context_;
  // Destroyed before everything above: connections still queued in it release their slots in
  // the tables and use the contexts as they go.
  net::io_context io_;
  WorkerPool pool_;  // destroyed first: tasks it drops own connections of io_
  net::steady_timer drain_timer_;
  std::shared_ptr<TlsListener> api_;
  std::shared_ptr<TlsListener> metrics_;
  std::atomic<bool> stopping_{false};
};

}  // namespace

Result<std::unique_ptr<HttpServer>> HttpServer::Create(VaultService& service, RealmService* realm,
                                                       Metrics& metrics,
                                                       const HttpServerOptions& options) {
  if (options.threads < 1 || options.limits.max_connections < 1 ||
      options.limits.max_connections_per_address < 1) {
    return InvalidArgument("the server needs at least one worker and one connection");
  }
  CV_ASSIGN_OR_RETURN(auto tls, TlsContextHolder::Load(options.cert_file, options.key_file));
  CV_ASSIGN_OR_RETURN(MetricsAccess access,
                      MetricsAccess::Load(options.metrics_token_file, options.metrics_port >= 0));
  auto server = std::make_unique<BeastHttpsServer>(service, realm, metrics, options, std::move(tls),
                                                   std::move(access));
  CV_RETURN_IF_ERROR(server->Bind());
  return std::unique_ptr<HttpServer>(std::move(server));
}

}  // namespace chatvault::vault

#include "vault/transport_metrics.h"

namespace chatvault::vault {
namespace {

void Line(std::string& out, const char* type, const char* name, const char* help, uint64_t value) {
  out += "# HELP keyvaultd_" + std::string(name) + " " + help + "\n";
  out += "# TYPE keyvaultd_" + std::string(name) + " " + type + "\n";
  out += "keyvaultd_" + std::string(name) + " " + std::to_string(value) + "\n";
}

}  // namespace

std::string TransportCounters::RenderPrometheus(const Gauges& g) const {
  std::string out;
  Line(out, "gauge", "connections_open", "Open client connections.", g.connections_open);
  Line(out, "counter", "connections_accepted_total", "Client connections accepted.",
       connections_accepted);
  Line(out, "counter", "connections_refused_total",
       "Connections closed at once: connection cap reached and none idle.", g.connections_refused);
  Line(out, "counter", "connections_evicted_total",
       "Idle kept-alive connections closed to make room for new ones.", g.connections_evicted);
  Line(out, "counter", "tls_failures_total", "TLS handshakes that failed or timed out.",
       tls_failures);
  Line(out, "counter", "transport_timeouts_total",
       "Requests or replies that missed their header, body or write deadline.", timeouts);
  Line(out, "counter", "busy_replies_total", "503 replies: every worker busy, queue full.",
       busy_replies);
  Line(out, "counter", "transport_refusals_total",
       "Requests refused by the transport (size, encoding, malformed).", refused_requests);
  Line(out, "gauge", "requests_queued", "Complete requests waiting for a worker.",
       g.requests_queued);
  return out;
}

}  // namespace chatvault::vault

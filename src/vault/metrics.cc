#include "chatvault/vault/metrics.h"

namespace chatvault::vault {
namespace {

void Counter(std::string& out, const char* name, const char* help, uint64_t value) {
  out += "# HELP keyvaultd_" + std::string(name) + " " + help + "\n";
  out += "# TYPE keyvaultd_" + std::string(name) + " counter\n";
  out += "keyvaultd_" + std::string(name) + " " + std::to_string(value) + "\n";
}

}  // namespace

std::string Metrics::RenderPrometheus() const {
  std::string out;
  Counter(out, "registrations_total", "Records registered or replaced.", registrations);
  Counter(out, "guesses_counted_total", "Password guesses counted (KE2 sent for a real record).",
          guesses_counted);
  Counter(out, "fake_logins_total", "Fake KE2 replies for unknown accounts.", fake_logins);
  Counter(out, "recoveries_total", "Successful recoveries (valid KE3).", recoveries);
  Counter(out, "wrong_passwords_total", "Failed recoveries (invalid KE3).", wrong_passwords);
  Counter(out, "lockouts_total", "Records destroyed at the guess limit.", lockouts);
  Counter(out, "deletions_total", "Records deleted by their owner.", deletions);
  Counter(out, "store_conflicts_total", "Compare-and-set retries against the record store.",
          store_conflicts);
  Counter(out, "rejected_requests_total", "Requests rejected as malformed or unauthorised.",
          rejected_requests);
  Counter(out, "store_errors_total", "Record store failures.", store_errors);
  Counter(out, "reloads_total", "Files reloaded on SIGHUP (certificate, token keys, audit log).",
          reloads);
  Counter(out, "reload_failures_total",
          "Reloads that failed on SIGHUP; the previous file stays in use.", reload_failures);
  out +=
      "# HELP keyvaultd_tls_certificate_expiry_seconds When the served TLS certificate "
      "expires (Unix time).\n"
      "# TYPE keyvaultd_tls_certificate_expiry_seconds gauge\n"
      "keyvaultd_tls_certificate_expiry_seconds " +
      std::to_string(tls_not_after_unix.load()) + "\n";
  return out;
}

}  // namespace chatvault::vault

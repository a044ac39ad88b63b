// Reads one counter of a running keyvaultd's /metrics (with the token start-keyvaultd.sh made):
// how tests see what the vault counted, such as guesses a flow must not have spent.
#pragma once

#include <gtest/gtest.h>
#include <httplib.h>

#include <cstdint>
#include <string>

#include "vault/keyvaultd_process.h"

namespace chatvault::testing {

// The value of keyvaultd_<name> in a /metrics reply; a failed test and 0 when the reply is
// missing or not 200, or has no such counter.
inline uint64_t MetricIn(const httplib::Result& res, const std::string& name) {
  EXPECT_TRUE(res && res->status == 200);
  if (!res) return 0;
  const std::string needle = "\nkeyvaultd_" + name + " ";
  const size_t at = res->body.find(needle);
  EXPECT_NE(at, std::string::npos) << name;
  return at == std::string::npos ? 0 : std::stoull(res->body.substr(at + needle.size()));
}

// The value of keyvaultd_<name>, read from the vault's API port.
inline uint64_t VaultMetric(const KeyvaultdProcess& vault, const std::string& name) {
  httplib::Client client(vault.url());
  client.set_ca_cert_path(vault.ca_file().c_str());
  client.enable_server_certificate_verification(true);
  return MetricIn(client.Get("/metrics", {{"Authorization", "Bearer " + vault.metrics_token()}}),
                  name);
}

}  // namespace chatvault::testing

// A server crash in the middle of a request, for the providers' restart tests: when the first
// request that `at` picks reaches the FaultProxy, the server is killed (SIGKILL) and the request
// dropped part-way; 500 ms later the server starts again on the port it had, over the same files.
// `Server` has a ServerProcess `process` and a `bool Start(int fixed_port)`.
#pragma once

#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <thread>
#include <utility>

#include "cloud/fault_proxy.h"

namespace chatvault::testing {

template <typename Server>
class CrashOnce {
 public:
  using Picker = std::function<bool(const RequestSeen&)>;

  CrashOnce(Server& server, FaultProxy& proxy, Picker at)
      : server_(server), port_(server.process.port()) {
    proxy.SetPolicy([this, at = std::move(at)](const RequestSeen& r) {
      if (!at(r) || crashed_.exchange(true)) return Fault::kNone;
      server_.process.Stop(SIGKILL);
      restarter_ = std::thread([this] {
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        EXPECT_TRUE(server_.Start(port_));
      });
      return Fault::kDropMidRequest;
    });
  }
  ~CrashOnce() { WaitForRestart(); }
  CrashOnce(const CrashOnce&) = delete;
  CrashOnce& operator=(const CrashOnce&) = delete;

  // Waits until the crashed server has been started again; false if no request crashed it.
  bool WaitForRestart() {
    if (restarter_.joinable()) restarter_.join();
    return crashed_.load();
  }

 private:
  Server& server_;
  const int port_;
  std::atomic<bool> crashed_{false};
  std::thread restarter_;
};

}  // namespace chatvault::testing

// One test server for a whole test program, shared by its tests: started on first use (a program
// whose selected tests need none starts none) and destroyed when the program's tests are done,
// pass or fail, so no server outlives its tests. `Server` has a `bool Start()` and stops itself
// and removes its files in its destructor (as a ServerProcess and a TempDir member do).
//
//   auto& shared_server = RegisterSharedServer<S3Server>("the S3 test server");
//   ... shared_server->process.port() ...
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

namespace chatvault::testing {

template <typename Server>
class SharedServer : public ::testing::Environment {
 public:
  using Make = std::function<std::unique_ptr<Server>()>;

  SharedServer(std::string what, Make make) : what_(std::move(what)), make_(std::move(make)) {}

  Server* operator->() {
    std::lock_guard<std::mutex> lock(mu_);
    if (!server_) {
      server_ = make_();
      if (!server_->Start()) ADD_FAILURE() << "could not start " << what_;
    }
    return server_.get();
  }

  // After each run of all tests (--gtest_repeat starts a fresh server for the next).
  void TearDown() override {
    std::lock_guard<std::mutex> lock(mu_);
    server_.reset();
  }

 private:
  std::string what_;  // for the failure message, e.g. the start script's name
  Make make_;
  std::mutex mu_;
  std::unique_ptr<Server> server_;
};

// Registers the shared server with gtest (which owns it) at static initialisation, before
// RUN_ALL_TESTS, as gtest requires of environments. The server is made of `args` on first use.
template <typename Server, typename... Args>
SharedServer<Server>& RegisterSharedServer(std::string what, Args... args) {
  auto* shared = new SharedServer<Server>(std::move(what),
                                          [args...] { return std::make_unique<Server>(args...); });
  ::testing::AddGlobalTestEnvironment(shared);
  return *shared;
}

}  // namespace chatvault::testing

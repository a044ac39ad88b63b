// A real etcd cluster on loopback for tests, started and controlled by the project's scripts in
// tools/etcd/ (ephemeral ports, members stopped by PID). Destroying it stops every member and
// deletes its data; if the test process dies instead, the scripts' watchdog does the same.
#pragma once

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include "support/temp_dir.h"

namespace chatvault::etcd::testing {

class EtcdCluster {
 public:
  // nullptr (and the script's complaint on stderr) if the cluster would not start.
  static std::unique_ptr<EtcdCluster> Start(int members = 3) {
    std::unique_ptr<EtcdCluster> cluster(new EtcdCluster(members));
    std::string endpoints;
    if (!cluster->Run(
            "start-cluster.sh",
            cluster->dir_.path() + " " + std::to_string(members) + " " + std::to_string(::getpid()),
            &endpoints)) {
      return nullptr;
    }
    while (!endpoints.empty() && (endpoints.back() == '\n' || endpoints.back() == ' ')) {
      endpoints.pop_back();
    }
    cluster->endpoints_ = endpoints;
    return cluster;
  }

  ~EtcdCluster() { Run("stop-cluster.sh", dir_.path()); }

  const std::string& endpoints() const { return endpoints_; }
  int members() const { return members_; }
  // "etcd://a,b,c/<prefix>/?..." for OpenRecordStore; `query` without the '?'.
  std::string Spec(const std::string& prefix, const std::string& query = "") const {
    return "etcd://" + endpoints_ + "/" + prefix + (query.empty() ? "" : "?" + query);
  }
  // The spec naming only member i (1-based), to look at the cluster through that member alone.
  std::string MemberSpec(int i, const std::string& prefix, const std::string& query = "") const {
    return "etcd://127.0.0.1:" + ReadFile("m" + std::to_string(i) + ".client") + "/" + prefix +
           (query.empty() ? "" : "?" + query);
  }

  bool Kill(int i) { return Run("kill-member.sh", Member(i)); }
  bool Restart(int i) { return Run("restart-member.sh", Member(i)); }
  bool Partition(int i) { return Run("partition-member.sh", Member(i)); }
  bool Heal(int i) { return Run("heal-member.sh", Member(i)); }

  // The member that leads now, waiting up to `wait` for an election to finish; 0 if none.
  int Leader(std::chrono::seconds wait = std::chrono::seconds(15)) {
    const auto give_up = std::chrono::steady_clock::now() + wait;
    do {
      std::string out;
      if (Run("leader.sh", dir_.path(), &out)) return std::atoi(out.c_str());
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    } while (std::chrono::steady_clock::now() < give_up);
    return 0;
  }

  // Runs etcdctl against the whole cluster (for writing raw values the store did not write).
  bool Etcdctl(const std::string& args) {
    const std::string command =
        "ETCDCTL_API=3 etcdctl --endpoints=" + endpoints_ + " " + args + " >/dev/null";
    return std::system(command.c_str()) == 0;
  }

 private:
  explicit EtcdCluster(int members) : members_(members) {}

  std::string Member(int i) const { return dir_.path() + " " + std::to_string(i); }

  std::string ReadFile(const std::string& name) const {
    std::string text;
    if (FILE* f = std::fopen((dir_.path() + "/" + name).c_str(), "r")) {
      char buf[256];
      size_t n = std::fread(buf, 1, sizeof(buf), f);
      text.assign(buf, n);
      std::fclose(f);
    }
    while (!text.empty() && text.back() == '\n') text.pop_back();
    return text;
  }

  static bool Run(const std::string& script, const std::string& args, std::string* out = nullptr) {
    const std::string command =
        std::string(CHATVAULT_SOURCE_DIR) + "/tools/etcd/" + script + " " + args;
    FILE* pipe = ::popen(command.c_str(), "r");
    if (!pipe) return false;
    char buf[512];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof(buf), pipe)) > 0) {
      if (out) out->append(buf, n);
    }
    return ::pclose(pipe) == 0;
  }

  int members_;
  chatvault::testing::TempDir dir_;
  std::string endpoints_;
};

}  // namespace chatvault::etcd::testing

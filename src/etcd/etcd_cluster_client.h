// Connections to every member of one etcd cluster, and the retry loop that moves a request to
// the next member when one stops answering (dead, partitioned, or between leaders).
#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "chatvault/common/status.h"
#include "chatvault/etcd/etcd_record_store.h"
#include "etcd_kv.grpc.pb.h"

namespace chatvault::etcd {

struct Member {
  std::string address;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<etcdserverpb::KV::Stub> kv;
};

class ClusterClient {
 public:
  static Result<std::unique_ptr<ClusterClient>> Connect(const EtcdOptions& options);

  // One call on one member; the context already carries the attempt's deadline.
  using Attempt = std::function<grpc::Status(Member&, grpc::ClientContext&)>;

  // Runs `attempt` on members in turn, starting with the last one that answered, until one
  // answers or the operation time runs out (then kUnavailable, naming the last error).
  // `on_retry` runs before every attempt after the first, so a write can remember that an
  // earlier attempt may have been applied even though its answer was lost.
  Status Call(std::string_view what, const Attempt& attempt,
              const std::function<void()>& on_retry = {});

  // A shorter budget for health checks, so a dead cluster is reported quickly.
  Status CallWithin(std::chrono::milliseconds budget, std::string_view what, const Attempt& attempt,
                    const std::function<void()>& on_retry = {});

 private:
  explicit ClusterClient(const EtcdOptions& options) : options_(options) {}

  EtcdOptions options_;
  std::vector<Member> members_;
  std::atomic<size_t> preferred_{0};
};

}  // namespace chatvault::etcd

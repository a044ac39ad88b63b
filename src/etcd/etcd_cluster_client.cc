#include "etcd_cluster_client.h"

#include <thread>

#include "chatvault/common/file.h"
#include "chatvault/crypto/random.h"

namespace chatvault::etcd {
namespace {

using Clock = std::chrono::steady_clock;

Result<std::string> ReadPemFile(const std::string& path) {
  auto text = ReadFileToString(path);
  if (!text.ok()) return IoError("cannot read the etcd TLS file: " + text.status().message());
  return text;
}

Result<std::shared_ptr<grpc::ChannelCredentials>> MakeCredentials(const EtcdOptions& options) {
  if (options.ca_file.empty() && options.cert_file.empty() && options.key_file.empty()) {
    return grpc::InsecureChannelCredentials();
  }
  if (options.cert_file.empty() != options.key_file.empty()) {
    return InvalidArgument("etcd client TLS needs both cert= and key=, or neither");
  }
  grpc::SslCredentialsOptions ssl;
  if (!options.ca_file.empty()) {
    CV_ASSIGN_OR_RETURN(ssl.pem_root_certs, ReadPemFile(options.ca_file));
  }
  if (!options.cert_file.empty()) {
    CV_ASSIGN_OR_RETURN(ssl.pem_cert_chain, ReadPemFile(options.cert_file));
    CV_ASSIGN_OR_RETURN(ssl.pem_private_key, ReadPemFile(options.key_file));
  }
  return grpc::SslCredentials(ssl);
}

// Codes after which another member may well answer. Anything else (bad request, auth) would
// fail the same way everywhere.
bool WorthRetrying(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::UNKNOWN:
    case grpc::StatusCode::ABORTED:
    case grpc::StatusCode::INTERNAL:
    case grpc::StatusCode::CANCELLED:
      return true;
    default:
      return false;
  }
}

}  // namespace

Result<std::unique_ptr<ClusterClient>> ClusterClient::Connect(const EtcdOptions& options) {
  if (options.endpoints.empty())
    return InvalidArgument("the etcd store needs at least one endpoint");
  CV_ASSIGN_OR_RETURN(auto credentials, MakeCredentials(options));
  std::unique_ptr<ClusterClient> client(new ClusterClient(options));
  for (const std::string& address : options.endpoints) {
    grpc::ChannelArguments args;
    // gRPC's default reconnect backoff grows to two minutes; a member that comes back after a
    // restart or partition should be used again within a second.
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
    args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
    // Notice a silently dead peer (partition, frozen process) on idle connections too.
    args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 10000);
    args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 3000);
    Member member;
    member.address = address;
    member.channel = grpc::CreateCustomChannel(address, credentials, args);
    member.kv = etcdserverpb::KV::NewStub(member.channel);
    client->members_.push_back(std::move(member));
  }
  // Spread several vault instances over the members instead of all starting on the first.
  uint8_t start = 0;
  crypto::RandomFill(std::span<uint8_t>(&start, 1));
  client->preferred_ = start % client->members_.size();
  return client;
}

Status ClusterClient::Call(std::string_view what, const Attempt& attempt,
                           const std::function<void()>& on_retry) {
  return CallWithin(options_.operation_timeout, what, attempt, on_retry);
}

Status ClusterClient::CallWithin(std::chrono::milliseconds budget, std::string_view what,
                                 const Attempt& attempt, const std::function<void()>& on_retry) {
  const Clock::time_point give_up = Clock::now() + std::min(budget, options_.operation_timeout);
  const size_t n = members_.size();
  size_t index = preferred_.load();
  std::string last_error = "no member was tried";
  for (int round = 0;; ++round) {
    for (size_t i = 0; i < n; ++i, index = (index + 1) % n) {
      const Clock::time_point now = Clock::now();
      if (now >= give_up) {
        return Unavailable("etcd cluster cannot " + std::string(what) +
                           " now (no quorum reachable): " + last_error);
      }
      if (round > 0 || i > 0) {
        if (on_retry) on_retry();
      }
      Member& member = members_[index];
      grpc::ClientContext context;
      // gRPC wants a wall-clock deadline; the budget itself is kept on the monotonic clock.
      const auto attempt_budget = std::min(give_up, now + options_.attempt_timeout) - now;
      context.set_deadline(std::chrono::system_clock::now() +
                           std::chrono::duration_cast<std::chrono::milliseconds>(attempt_budget));
      const grpc::Status status = attempt(member, context);
      if (status.ok()) {
        preferred_ = index;
        return OkStatus();
      }
      last_error = member.address + ": " + status.error_message();
      if (!WorthRetrying(status.error_code())) {
        return Unavailable("etcd refused to " + std::string(what) + ": " + last_error);
      }
    }
    // Every member failed once: most likely an election is running. Give it a moment.
    std::this_thread::sleep_for(std::chrono::milliseconds(std::min(100 * (round + 1), 500)));
  }
}

}  // namespace chatvault::etcd

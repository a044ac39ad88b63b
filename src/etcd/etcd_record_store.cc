#include "chatvault/etcd/etcd_record_store.h"

#include <limits>

#include "etcd_cluster_client.h"
#include "stored_value.h"

namespace chatvault::etcd {
namespace {

using etcdserverpb::Compare;

constexpr uint64_t kMaxRevision = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());

class EtcdRecordStore final : public vaultstore::RecordStore {
 public:
  EtcdRecordStore(std::unique_ptr<ClusterClient> client, std::string prefix)
      : client_(std::move(client)), prefix_(std::move(prefix)) {}

  Result<std::optional<vaultstore::Versioned>> Get(std::string_view key) override {
    etcdserverpb::RangeRequest request;
    request.set_key(FullKey(key));  // linearizable, never serializable: a quorum read
    etcdserverpb::RangeResponse response;
    CV_RETURN_IF_ERROR(client_->Call("read a record", [&](Member& m, grpc::ClientContext& ctx) {
      return m.kv->Range(&ctx, request, &response);
    }));
    if (response.kvs_size() == 0) return std::optional<vaultstore::Versioned>();
    return ToVersioned(response.kvs(0));
  }

  Result<uint64_t> CompareAndSet(std::string_view key, uint64_t expected_version,
                                 ByteView value) override {
    if (expected_version > kMaxRevision) return InvalidArgument("record version out of range");
    const std::string full_key = FullKey(key);
    const WriteId id = NewWriteId();
    etcdserverpb::RequestOp put;
    put.mutable_request_put()->set_key(full_key);
    put.mutable_request_put()->set_value(EncodeStoredValue(id, value));
    CV_ASSIGN_OR_RETURN(GuardedOutcome txn,
                        RunGuarded("write a record", full_key, expected_version, std::move(put)));
    // The txn's revision is the mod_revision its put gave the key.
    if (txn.response.succeeded()) return static_cast<uint64_t>(txn.response.header().revision());

    const etcdserverpb::KeyValue* current = CurrentFromFailure(txn.response);
    if (txn.earlier_attempt_lost) {
      // The guard failed on a retry. If the key holds our write id, the lost attempt was the one
      // applied; otherwise we cannot tell whether it applied and was then overwritten.
      if (current != nullptr) {
        auto stored = DecodeStoredValue(current->value());
        if (stored.ok() && stored->id == id) return static_cast<uint64_t>(current->mod_revision());
      }
      return Unavailable(
          "the etcd cluster lost the answer to a record write and it cannot be "
          "confirmed; read the record again");
    }
    return Conflict("the record changed since it was read (another writer got there first)");
  }

  Status CompareAndDelete(std::string_view key, uint64_t expected_version) override {
    if (expected_version == 0) return InvalidArgument("deleting needs the version that was read");
    if (expected_version > kMaxRevision) return InvalidArgument("record version out of range");
    const std::string full_key = FullKey(key);
    etcdserverpb::RequestOp del;
    del.mutable_request_delete_range()->set_key(full_key);
    CV_ASSIGN_OR_RETURN(GuardedOutcome txn,
                        RunGuarded("delete a record", full_key, expected_version, std::move(del)));
    if (txn.response.succeeded()) return OkStatus();
    if (txn.earlier_attempt_lost && CurrentFromFailure(txn.response) == nullptr) {
      // Gone now, but maybe by another deleter holding the same version; a delete leaves no
      // write id behind to tell.
      return Unavailable(
          "the etcd cluster lost the answer to a record delete and it cannot be "
          "confirmed; read the record again");
    }
    return Conflict("the record changed since it was read (another writer got there first)");
  }

  // Pages of keys under the prefix, all read at the revision of the first page: a consistent
  // list however long, in messages far below gRPC's size limit. For operators' tools.
  Result<std::vector<std::string>> ListKeys(std::string_view prefix) override {
    constexpr int64_t kPage = 10000;
    std::string start = FullKey(prefix);
    const std::string end = PrefixEnd(start);
    int64_t revision = 0;
    std::vector<std::string> keys;
    while (true) {
      etcdserverpb::RangeRequest request;
      request.set_key(start);
      request.set_range_end(end);
      request.set_keys_only(true);
      request.set_limit(kPage);
      request.set_revision(revision);
      etcdserverpb::RangeResponse response;
      CV_RETURN_IF_ERROR(
          client_->Call("list the records", [&](Member& m, grpc::ClientContext& ctx) {
            return m.kv->Range(&ctx, request, &response);
          }));
      if (revision == 0) revision = response.header().revision();
      for (const auto& kv : response.kvs()) keys.push_back(kv.key().substr(prefix_.size()));
      if (!response.more() || response.kvs_size() == 0) return keys;
      start = response.kvs(response.kvs_size() - 1).key() + std::string(1, '\0');
    }
  }

  // A linearizable read needs the leader and a quorum, which is exactly what writes need.
  Status Health() override {
    etcdserverpb::RangeRequest request;
    request.set_key(prefix_);
    request.set_count_only(true);
    etcdserverpb::RangeResponse response;
    return client_->CallWithin(
        std::chrono::milliseconds(3000), "serve reads and writes",
        [&](Member& m, grpc::ClientContext& ctx) { return m.kv->Range(&ctx, request, &response); });
  }

 private:
  std::string FullKey(std::string_view key) const { return prefix_ + std::string(key); }

  // The first key after every key that starts with `prefix` (etcd's range_end for a prefix).
  static std::string PrefixEnd(std::string prefix) {
    while (!prefix.empty()) {
      if (static_cast<unsigned char>(prefix.back()) < 0xff) {
        prefix.back() = static_cast<char>(prefix.back() + 1);
        return prefix;
      }
      prefix.pop_back();
    }
    return std::string(1, '\0');  // every key
  }

  // A guarded transaction's answer, and whether an earlier attempt of it was lost in transit:
  // then a failed guard may be our own write, applied by the lost attempt.
  struct GuardedOutcome {
    etcdserverpb::TxnResponse response;
    bool earlier_attempt_lost = false;
  };

  // Applies `op` to `full_key` only if the key is still at `expected_version`; when it is not,
  // the response carries the key as it is now (CurrentFromFailure).
  Result<GuardedOutcome> RunGuarded(std::string_view what, const std::string& full_key,
                                    uint64_t expected_version, etcdserverpb::RequestOp op) {
    etcdserverpb::TxnRequest request;
    AddVersionGuard(request, full_key, expected_version);
    *request.add_success() = std::move(op);
    request.add_failure()->mutable_request_range()->set_key(full_key);
    GuardedOutcome out;
    CV_RETURN_IF_ERROR(client_->Call(
        what,
        [&](Member& m, grpc::ClientContext& ctx) {
          return m.kv->Txn(&ctx, request, &out.response);
        },
        [&] { out.earlier_attempt_lost = true; }));
    return out;
  }

  static void AddVersionGuard(etcdserverpb::TxnRequest& request, const std::string& key,
                              uint64_t expected_version) {
    Compare* guard = request.add_compare();
    guard->set_key(key);
    guard->set_result(Compare::EQUAL);
    if (expected_version == 0) {
      guard->set_target(Compare::VERSION);  // version 0: the key does not exist
      guard->set_version(0);
    } else {
      guard->set_target(Compare::MOD);
      guard->set_mod_revision(static_cast<int64_t>(expected_version));
    }
  }

  static const etcdserverpb::KeyValue* CurrentFromFailure(const etcdserverpb::TxnResponse& r) {
    if (r.responses_size() == 0 || !r.responses(0).has_response_range()) return nullptr;
    const auto& range = r.responses(0).response_range();
    return range.kvs_size() == 0 ? nullptr : &range.kvs(0);
  }

  static Result<std::optional<vaultstore::Versioned>> ToVersioned(
      const etcdserverpb::KeyValue& kv) {
    CV_ASSIGN_OR_RETURN(StoredValue stored, DecodeStoredValue(kv.value()));
    vaultstore::Versioned v;
    v.value = std::move(stored.value);
    v.version = static_cast<uint64_t>(kv.mod_revision());
    return std::optional<vaultstore::Versioned>(std::move(v));
  }

  std::unique_ptr<ClusterClient> client_;
  std::string prefix_;
};

}  // namespace

Result<std::unique_ptr<vaultstore::RecordStore>> OpenEtcdRecordStore(EtcdOptions options) {
  if (options.key_prefix.empty()) return InvalidArgument("the etcd key prefix must not be empty");
  CV_ASSIGN_OR_RETURN(std::unique_ptr<ClusterClient> client, ClusterClient::Connect(options));
  return std::unique_ptr<vaultstore::RecordStore>(
      new EtcdRecordStore(std::move(client), options.key_prefix));
}

}  // namespace chatvault::etcd

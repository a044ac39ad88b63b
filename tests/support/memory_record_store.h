// An in-memory RecordStore for in-process vault tests, with the faults a real store shows: a lost
// compare-and-set race, a store that cannot answer, and a write that was applied although its
// caller was told it failed (an etcd leader dying after the commit).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "chatvault/common/mutex.h"
#include "chatvault/vaultstore/record_store.h"

namespace chatvault::testing {

class MemoryRecordStore final : public vaultstore::RecordStore {
 public:
  enum class Fault {
    kNone,
    kConflict,           // the write loses a race (nothing written)
    kUnavailable,        // the write fails (nothing written)
    kAppliedButUnknown,  // the write happens, but the caller hears kUnavailable
  };

  // The next `count` writes fail with `fault`.
  void FailNextWrites(Fault fault, int count = 1) {
    MutexLock lock(mu_);
    fault_ = fault;
    faults_left_ = count;
  }
  void SetReadsUnavailable(bool unavailable) {
    MutexLock lock(mu_);
    reads_unavailable_ = unavailable;
  }
  int writes() const {
    MutexLock lock(mu_);
    return writes_;
  }

  Result<std::optional<vaultstore::Versioned>> Get(std::string_view key) override {
    MutexLock lock(mu_);
    if (reads_unavailable_) return Unavailable("the test store is unavailable");
    auto it = values_.find(std::string(key));
    if (it == values_.end()) return std::optional<vaultstore::Versioned>();
    return std::optional(it->second);
  }

  Result<uint64_t> CompareAndSet(std::string_view key, uint64_t expected_version,
                                 ByteView value) override {
    MutexLock lock(mu_);
    const Fault fault = TakeFault();
    if (fault == Fault::kConflict) return Conflict("the test store lost a race");
    if (fault == Fault::kUnavailable) return Unavailable("the test store is unavailable");
    auto it = values_.find(std::string(key));
    const uint64_t current = it == values_.end() ? 0 : it->second.version;
    if (current != expected_version) return Conflict("the version moved");
    vaultstore::Versioned& slot = values_[std::string(key)];
    slot.value.assign(value.begin(), value.end());
    slot.version = ++clock_;
    ++writes_;
    if (fault == Fault::kAppliedButUnknown) return Unavailable("the test store lost the answer");
    return slot.version;
  }

  Status CompareAndDelete(std::string_view key, uint64_t expected_version) override {
    if (expected_version == 0) return InvalidArgument("deleting needs the version that was read");
    MutexLock lock(mu_);
    auto it = values_.find(std::string(key));
    if (it == values_.end() || it->second.version != expected_version) {
      return Conflict("the version moved");
    }
    values_.erase(it);
    ++writes_;
    return OkStatus();
  }

  Status Health() override { return OkStatus(); }

  Result<std::vector<std::string>> ListKeys(std::string_view prefix) override {
    MutexLock lock(mu_);
    std::vector<std::string> keys;
    for (auto it = values_.lower_bound(std::string(prefix));
         it != values_.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
      keys.push_back(it->first);
    }
    return keys;
  }

 private:
  Fault TakeFault() CV_REQUIRES(mu_) {
    if (faults_left_ <= 0) return Fault::kNone;
    --faults_left_;
    return fault_;
  }

  mutable Mutex mu_;
  std::map<std::string, vaultstore::Versioned> values_ CV_GUARDED_BY(mu_);
  uint64_t clock_ CV_GUARDED_BY(mu_) = 0;
  int writes_ CV_GUARDED_BY(mu_) = 0;
  Fault fault_ CV_GUARDED_BY(mu_) = Fault::kNone;
  int faults_left_ CV_GUARDED_BY(mu_) = 0;
  bool reads_unavailable_ CV_GUARDED_BY(mu_) = false;
};

}  // namespace chatvault::testing

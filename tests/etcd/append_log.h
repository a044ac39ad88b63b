// A workload that makes lost and doubled writes visible: each "increment" appends a unique id
// to one shared record with read + compare-and-set, retrying until it can prove the id is in.
// The checks are done by the caller on the final record: every id exactly once.
#pragma once

#include <chrono>
#include <set>
#include <string>
#include <vector>

#include "chatvault/vaultstore/record_store.h"

namespace chatvault::etcd::testing {

struct AppendStats {
  int acknowledged = 0;       // CompareAndSet said OK
  int confirmed_by_read = 0;  // CompareAndSet said unavailable, a later read found the id
  int conflicts = 0;
  int unavailable = 0;
  std::vector<std::string> violations;  // the store lied: described in words
};

inline std::vector<std::string> SplitIds(const Bytes& value) {
  std::vector<std::string> ids;
  std::string current;
  for (uint8_t c : value) {
    if (c == ',') {
      ids.push_back(current);
      current.clear();
    } else {
      current.push_back(static_cast<char>(c));
    }
  }
  return ids;
}

inline bool Contains(const Bytes& value, const std::string& id) {
  for (const std::string& x : SplitIds(value)) {
    if (x == id) return true;
  }
  return false;
}

// Appends `id` to the record at `key`. Returns false if `give_up` passed first.
inline bool AppendId(vaultstore::RecordStore& store, const std::string& key, const std::string& id,
                     std::chrono::steady_clock::time_point give_up, AppendStats& stats) {
  bool maybe_applied = false;
  while (std::chrono::steady_clock::now() < give_up) {
    auto read = store.Get(key);
    if (!read.ok()) {
      if (read.status().code() != Code::kUnavailable) {
        stats.violations.push_back("read failed: " + read.status().ToString());
      }
      continue;
    }
    const Bytes current = read->has_value() ? (*read)->value : Bytes();
    const uint64_t version = read->has_value() ? (*read)->version : 0;
    if (Contains(current, id)) {
      // Only an unconfirmed (kUnavailable) write may turn out applied; a kConflict may not.
      if (!maybe_applied) stats.violations.push_back(id + ": reported as a conflict but applied");
      ++stats.confirmed_by_read;
      return true;
    }
    Bytes next = current;
    next.insert(next.end(), id.begin(), id.end());
    next.push_back(',');
    auto written = store.CompareAndSet(key, version, next);
    if (written.ok()) {
      if (*written <= version) stats.violations.push_back(id + ": version did not increase");
      ++stats.acknowledged;
      return true;
    }
    if (written.status().code() == Code::kConflict) {
      ++stats.conflicts;
    } else if (written.status().code() == Code::kUnavailable) {
      ++stats.unavailable;
      maybe_applied = true;
    } else {
      stats.violations.push_back(id + ": unexpected error " + written.status().ToString());
    }
  }
  return false;
}

// Every id in `expected` exactly once in `value`, nothing else.
inline std::string CheckExactlyOnce(const Bytes& value, const std::set<std::string>& expected) {
  std::multiset<std::string> seen;
  for (const std::string& id : SplitIds(value)) seen.insert(id);
  std::string problems;
  for (const std::string& id : std::set<std::string>(seen.begin(), seen.end())) {
    if (seen.count(id) > 1) problems += id + " applied twice; ";
    if (!expected.count(id)) problems += id + " was never written; ";
  }
  for (const std::string& id : expected) {
    if (!seen.count(id)) problems += id + " was acknowledged but is lost; ";
  }
  return problems;
}

}  // namespace chatvault::etcd::testing

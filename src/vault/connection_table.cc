#include "vault/connection_table.h"

#include <algorithm>
#include <cstring>

namespace chatvault::vault {

std::string ConnectionTable::SourceKey(const uint8_t* address, size_t size) {
  static const uint8_t kMappedV4[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (size == 16 && std::memcmp(address, kMappedV4, sizeof kMappedV4) == 0) {
    address += 12;
    size = 4;
  }
  if (size == 16) size = 8;  // the /64 prefix
  return std::string(reinterpret_cast<const char*>(address), size);
}

ConnectionTable::Id ConnectionTable::Admit(const std::string& source) {
  std::vector<std::shared_ptr<TrackedConnection>> victims;
  Id id = 0;
  {
    MutexLock lock(mu_);
    auto open_from = [&]() CV_REQUIRES(mu_) {
      auto it = sources_.find(source);
      return it == sources_.end() ? size_t{0} : it->second.open;
    };
    bool room = !draining_;
    if (room && open_from() >= caps_.per_source) room = TakeIdleLocked(&source, victims);
    if (room && entries_.size() >= caps_.total) room = TakeIdleLocked(nullptr, victims);
    if (!room) {
      ++refused_;
    } else {
      id = next_id_++;
      entries_.emplace(id, Entry{source, {}, 0});
      ++sources_[source].open;
    }
  }
  // Outside the lock: dropping the last reference may destroy a connection, which calls Release.
  for (auto& victim : victims) victim->Evict();
  return id;
}

bool ConnectionTable::TakeIdleLocked(const std::string* source,
                                     std::vector<std::shared_ptr<TrackedConnection>>& victims) {
  const std::map<uint64_t, Id>* order = &idle_;
  if (source) {
    auto it = sources_.find(*source);
    if (it == sources_.end()) return false;
    order = &it->second.idle;
  }
  if (order->empty()) return false;
  auto it = entries_.find(order->begin()->second);
  // A connection object already gone is closing on its own; its slot is freed all the same.
  if (auto victim = it->second.connection.lock()) victims.push_back(std::move(victim));
  RemoveLocked(it);
  ++evicted_;
  return true;
}

void ConnectionTable::ClearIdleLocked(Entry& entry) {
  if (entry.idle_since == 0) return;
  idle_.erase(entry.idle_since);
  sources_[entry.source].idle.erase(entry.idle_since);
  entry.idle_since = 0;
}

void ConnectionTable::RemoveLocked(std::unordered_map<Id, Entry>::iterator it) {
  ClearIdleLocked(it->second);
  auto source = sources_.find(it->second.source);
  if (source != sources_.end() && --source->second.open == 0) sources_.erase(source);
  entries_.erase(it);
}

bool ConnectionTable::Attach(Id id, std::weak_ptr<TrackedConnection> connection) {
  MutexLock lock(mu_);
  auto it = entries_.find(id);
  if (it != entries_.end()) it->second.connection = std::move(connection);
  return !draining_;
}

void ConnectionTable::SetIdle(Id id) {
  MutexLock lock(mu_);
  auto it = entries_.find(id);
  if (it == entries_.end() || it->second.idle_since != 0) return;
  const uint64_t since = next_idle_++;
  it->second.idle_since = since;
  idle_.emplace(since, id);
  sources_[it->second.source].idle.emplace(since, id);
}

bool ConnectionTable::SetBusy(Id id) {
  MutexLock lock(mu_);
  auto it = entries_.find(id);
  if (it == entries_.end()) return false;
  ClearIdleLocked(it->second);
  return true;
}

void ConnectionTable::Release(Id id) {
  MutexLock lock(mu_);
  auto it = entries_.find(id);
  if (it != entries_.end()) RemoveLocked(it);
}

void ConnectionTable::DrainAll() {
  std::vector<std::shared_ptr<TrackedConnection>> all;
  {
    MutexLock lock(mu_);
    draining_ = true;
    for (auto& [id, entry] : entries_) {
      if (auto c = entry.connection.lock()) all.push_back(std::move(c));
    }
  }
  for (auto& c : all) c->Drain();
}

size_t ConnectionTable::open() const {
  MutexLock lock(mu_);
  return entries_.size();
}

uint64_t ConnectionTable::refused() const {
  MutexLock lock(mu_);
  return refused_;
}

uint64_t ConnectionTable::evicted() const {
  MutexLock lock(mu_);
  return evicted_;
}

}  // namespace chatvault::vault

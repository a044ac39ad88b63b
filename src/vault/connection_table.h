// The vault's open connections, counted in total and per source, so that neither one address nor
// everyone together can hold more than a fixed number. When a cap is reached, the connection that
// has waited longest between two requests (kept alive, idle) is closed to make room: a client
// reconnects cheaply, while one that is mid-request keeps its place. Only when none is idle is
// the new connection refused.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "chatvault/common/mutex.h"

namespace chatvault::vault {

// What the table may do to a connection it tracks. Both are asynchronous requests: the
// connection closes on its own thread and then calls Release.
class TrackedConnection {
 public:
  virtual ~TrackedConnection() = default;
  // Its slot was given to a newer connection: close now (it was idle when chosen).
  virtual void Evict() = 0;
  // The server stops: finish the request in flight, if any, then close.
  virtual void Drain() = 0;
};

struct ConnectionCaps {
  size_t total = 2048;
  size_t per_source = 128;
};

class ConnectionTable {
 public:
  using Id = uint64_t;  // 0 is never a valid id
  explicit ConnectionTable(ConnectionCaps caps) : caps_(caps) {}

  // A slot for a new connection from `source`, or 0 when its cap is full and nothing idle can
  // make room. Idle connections chosen to make room are told to Evict().
  Id Admit(const std::string& source);
  // Called once the connection object exists, so Evict/Drain can reach it. False when the table
  // is draining already: the caller drains the connection itself.
  bool Attach(Id id, std::weak_ptr<TrackedConnection> connection);
  // Between two requests: the connection may be evicted from now on.
  void SetIdle(Id id);
  // A request started arriving. False when the connection was evicted meanwhile: close it.
  bool SetBusy(Id id);
  // The connection is closed; its slot is free (a no-op after an eviction).
  void Release(Id id);
  // Tells every connection to Drain(); later Admit calls are refused.
  void DrainAll();

  size_t open() const;
  uint64_t refused() const;
  uint64_t evicted() const;

  // The source key of an address: IPv4 addresses count alone; IPv6 addresses count per /64,
  // the block one subscriber usually gets; IPv4-mapped IPv6 addresses count as IPv4.
  static std::string SourceKey(const uint8_t* address, size_t size);

 private:
  struct Entry {
    std::string source;
    std::weak_ptr<TrackedConnection> connection;
    uint64_t idle_since = 0;  // 0: busy; else a sequence number, smaller = idle for longer
  };
  struct Source {
    size_t open = 0;
    std::map<uint64_t, Id> idle;  // idle_since -> id, oldest first
  };

  // Frees the slot of the longest-idle connection (of `source`, or of anyone when null) and
  // adds it to `victims`, to be evicted once the lock is released. False when none is idle.
  bool TakeIdleLocked(const std::string* source,
                      std::vector<std::shared_ptr<TrackedConnection>>& victims) CV_REQUIRES(mu_);
  void RemoveLocked(std::unordered_map<Id, Entry>::iterator it) CV_REQUIRES(mu_);
  void ClearIdleLocked(Entry& entry) CV_REQUIRES(mu_);

  const ConnectionCaps caps_;
  mutable Mutex mu_;
  std::unordered_map<Id, Entry> entries_ CV_GUARDED_BY(mu_);
  std::unordered_map<std::string, Source> sources_ CV_GUARDED_BY(mu_);
  // Every source's idle connections, oldest first.
  std::map<uint64_t, Id> idle_ CV_GUARDED_BY(mu_);
  Id next_id_ CV_GUARDED_BY(mu_) = 1;
  uint64_t next_idle_ CV_GUARDED_BY(mu_) = 1;
  uint64_t refused_ CV_GUARDED_BY(mu_) = 0;
  uint64_t evicted_ CV_GUARDED_BY(mu_) = 0;
  bool draining_ CV_GUARDED_BY(mu_) = false;
};

}  // namespace chatvault::vault

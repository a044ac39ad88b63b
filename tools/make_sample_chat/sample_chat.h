// The sample chat store used by tests, the demo and the benchmarks: a msgstore.db shaped like a
// messaging app's (jids, chats, messages, media references, thumbnails, indices; WAL, 4 KiB
// pages) and the media files it references, under Media/.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

#include "chatvault/common/status.h"

namespace chatvault::sample {

inline constexpr char kDatabaseName[] = "msgstore.db";

// Called now and then with (done, total) for progress output; may be empty.
using Progress = std::function<void(uint64_t done, uint64_t total)>;

struct GenerateOptions {
  std::filesystem::path out;
  uint64_t messages = 2000;
  uint64_t media_count = 20;
  uint64_t media_min = 50 << 10;
  uint64_t media_max = 5 << 20;
  uint64_t seed = 1;
  Progress progress;
};

struct Summary {
  uint64_t messages = 0;         // rows in message after the run
  uint64_t media_files = 0;      // media files referenced after the run
  uint64_t media_bytes = 0;      // bytes written (generate) or added (mutate)
  uint64_t database_bytes = 0;   // size of msgstore.db
  uint64_t changed_messages = 0;   // mutate: texts edited
  uint64_t inserted_messages = 0;  // mutate and keep-writing: new rows
  uint64_t deleted_media = 0;      // mutate
  uint64_t transactions = 0;       // keep-writing
};

// Creates a new chat store in options.out (which must not hold a msgstore.db yet).
Result<Summary> Generate(const GenerateOptions& options);

// The options of both changes that add media to an existing store (mutate and day).
struct ChangeOptions {
  std::filesystem::path dir;
  uint64_t media_min = 50 << 10;
  uint64_t media_max = 5 << 20;
  uint64_t seed = 1;
};

// Changes about `percent` of an existing store, like a day or two of use: edits and inserts
// messages (half each) and deletes and adds media (half each). Deterministic per store and seed.
struct MutateOptions : ChangeOptions {
  double percent = 1.0;
};
Result<Summary> Mutate(const MutateOptions& options);

// One day of use: `messages` new messages in transactions of 1 to 20 (`media` of them with a media
// file), then edits of `edit_share` and deletions of `delete_share` of that many older messages
// (with their media). Deterministic for the store and seed; each day on the same store differs.
struct DayOptions : ChangeOptions {
  uint64_t messages = 300;
  uint64_t media = 3;
  double edit_share = 0.05;
  double delete_share = 0.02;
};
Result<Summary> Day(const DayOptions& options);

// Inserts messages in small transactions into dir/msgstore.db until `seconds` pass (0: forever) or
// `stop` becomes true. `on_first_commit` runs once, after the first transaction is durable.
struct KeepWritingOptions {
  std::filesystem::path dir;
  double seconds = 0;
  uint64_t max_batch = 20;     // messages per transaction: 1..max_batch
  uint64_t interval_ms = 5;    // pause between transactions
  uint64_t seed = 1;
  const std::atomic<bool>* stop = nullptr;
  std::function<void()> on_first_commit;
};
Result<Summary> KeepWriting(const KeepWritingOptions& options);

}  // namespace chatvault::sample

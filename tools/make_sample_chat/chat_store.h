// Writes messages, media and thumbnails into an open msgstore.db the way a messaging app would.
// Shared by generate, mutate and keep-writing so all three produce the same shape of data.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "chatvault/common/status.h"
#include "make_sample_chat/rng.h"
#include "make_sample_chat/sqlite_db.h"

namespace chatvault::sample {

// The tables and indices, on a fresh database with 4 KiB pages in WAL mode.
Status CreateSchema(Database& db);

struct ChatRef {
  int64_t id = 0;
  bool group = false;
  std::vector<int64_t> members;  // jid row ids of the other participants
};

// Creates contacts, one-to-one chats and groups.
Result<std::vector<ChatRef>> CreateChats(Database& db, Rng& rng, uint64_t chat_count);
Result<std::vector<ChatRef>> LoadChats(Database& db);

class ChatWriter {
 public:
  // `dir` is the chat data directory (media paths are relative to it); the database must hold
  // the schema. Call Init() before the first message.
  ChatWriter(Database& db, std::filesystem::path dir, std::vector<ChatRef> chats, Rng& rng,
             uint64_t media_min, uint64_t media_max);

  Status Init();
  // Continues after the newest message: used by mutate and keep-writing.
  Status ResumeAfterNewest(int64_t mean_gap_ms);
  // Average time between messages for the next ones.
  void SetMeanGap(int64_t mean_gap_ms) { mean_gap_ms_ = mean_gap_ms; }

  // Adds one message (and its media file when `with_media`) to a random chat.
  Status AddMessage(bool with_media);

  uint64_t media_bytes() const { return media_bytes_; }
  uint64_t messages_added() const { return messages_added_; }

 private:
  Result<std::string> NewMediaPath(int kind_index, bool from_me);
  std::string RandomKeyId(bool from_me);

  Database& db_;
  std::filesystem::path dir_;
  std::vector<ChatRef> chats_;
  Rng& rng_;
  uint64_t media_min_;
  uint64_t media_max_;
  int64_t next_id_ = 1;
  int64_t timestamp_ms_ = 1609459200000;  // 2021-01-01
  int64_t mean_gap_ms_ = 60000;
  std::map<std::string, int> name_counters_;  // "IMG-20240101" -> last WA number used
  uint64_t media_bytes_ = 0;
  uint64_t messages_added_ = 0;
  Statement insert_message_;
  Statement insert_media_;
  Statement insert_thumbnail_;
  Statement touch_chat_;
};

}  // namespace chatvault::sample

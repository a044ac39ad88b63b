#include "make_sample_chat/chat_store.h"

#include <sodium.h>

#include <array>
#include <cmath>
#include <ctime>
#include <set>
#include <system_error>

#include "make_sample_chat/chat_text.h"
#include "make_sample_chat/media_file.h"

namespace chatvault::sample {
namespace {

// A reduced copy of the layout messaging apps use: enough columns and indices that the database
// pages look and churn like the real thing.
constexpr char kSchema[] = R"sql(
CREATE TABLE props (_id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT UNIQUE, value TEXT);
CREATE TABLE jid (_id INTEGER PRIMARY KEY AUTOINCREMENT, user TEXT NOT NULL, server TEXT NOT NULL,
  agent INTEGER, device INTEGER, type INTEGER, raw_string TEXT);
CREATE UNIQUE INDEX jid_key_index ON jid (user, server, agent, device);
CREATE TABLE chat (_id INTEGER PRIMARY KEY AUTOINCREMENT, jid_row_id INTEGER UNIQUE, hidden INTEGER,
  subject TEXT, created_timestamp INTEGER, display_message_row_id INTEGER,
  last_message_row_id INTEGER, last_read_message_row_id INTEGER, unseen_message_count INTEGER,
  archived INTEGER, sort_timestamp INTEGER, group_type INTEGER);
CREATE TABLE group_participant_user (_id INTEGER PRIMARY KEY AUTOINCREMENT,
  group_jid_row_id INTEGER NOT NULL, user_jid_row_id INTEGER NOT NULL, rank INTEGER);
CREATE UNIQUE INDEX group_participant_user_index
  ON group_participant_user (group_jid_row_id, user_jid_row_id);
CREATE TABLE message (_id INTEGER PRIMARY KEY AUTOINCREMENT, chat_row_id INTEGER NOT NULL,
  from_me INTEGER NOT NULL, key_id TEXT NOT NULL, sender_jid_row_id INTEGER, status INTEGER,
  broadcast INTEGER, recipient_count INTEGER, origination_flags INTEGER, origin INTEGER,
  timestamp INTEGER, received_timestamp INTEGER, receipt_server_timestamp INTEGER,
  message_type INTEGER, text_data TEXT, starred INTEGER, lookup_tables INTEGER,
  message_add_on_flags INTEGER, sort_id INTEGER NOT NULL DEFAULT 0);
CREATE UNIQUE INDEX message_key_index ON message (chat_row_id, from_me, key_id, sender_jid_row_id);
CREATE INDEX message_sort_id_index ON message (chat_row_id, sort_id);
CREATE INDEX message_starred_index ON message (starred) WHERE starred = 1;
CREATE TABLE message_media (message_row_id INTEGER PRIMARY KEY, chat_row_id INTEGER,
  transferred INTEGER, file_path TEXT, file_size INTEGER, media_key BLOB,
  media_key_timestamp INTEGER, width INTEGER, height INTEGER, mime_type TEXT, file_length INTEGER,
  media_name TEXT, file_hash TEXT, enc_file_hash TEXT, media_duration INTEGER, media_caption TEXT,
  direct_path TEXT);
CREATE INDEX message_media_chat_index ON message_media (chat_row_id);
CREATE INDEX message_media_file_hash_index ON message_media (file_hash);
CREATE TABLE message_thumbnail (message_row_id INTEGER PRIMARY KEY, thumbnail BLOB);
INSERT INTO props (key, value) VALUES ('db_schema_version', '1'), ('generator', 'make-sample-chat');
)sql";

std::string Base64(const uint8_t* data, size_t len) {
  std::string out(sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), data, len, sodium_base64_VARIANT_ORIGINAL);
  out.resize(out.size() - 1);  // drop the terminating NUL
  return out;
}

Bytes RandomBytes(Rng& rng, size_t len) {
  Bytes out(len);
  for (size_t i = 0; i < len; ++i) out[i] = static_cast<uint8_t>(rng.Next() >> 56);
  return out;
}

std::string PhoneNumber(Rng& rng) {
  static constexpr std::array<const char*, 6> kPrefixes = {"4915", "4917", "3361", "4477",
                                                           "1415", "3934"};
  std::string number = kPrefixes[rng.Uniform(0, kPrefixes.size() - 1)];
  while (number.size() < 12) number += static_cast<char>('0' + rng.Uniform(0, 9));
  return number;
}

std::string DayOf(int64_t timestamp_ms, const char* format) {
  const std::time_t seconds = static_cast<std::time_t>(timestamp_ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, format, &tm);
  return buf;
}

}  // namespace

Status CreateSchema(Database& db) {
  CV_RETURN_IF_ERROR(db.Exec("PRAGMA page_size = 4096"));
  CV_RETURN_IF_ERROR(db.Exec("PRAGMA journal_mode = WAL"));
  return db.Exec(kSchema);
}

Result<std::vector<ChatRef>> CreateChats(Database& db, Rng& rng, uint64_t chat_count) {
  CV_ASSIGN_OR_RETURN(Statement insert_jid,
                      db.Prepare("INSERT OR IGNORE INTO jid (user, server, agent, device, type, "
                                 "raw_string) VALUES (?, ?, 0, 0, ?, ?)"));
  CV_ASSIGN_OR_RETURN(Statement insert_chat,
                      db.Prepare("INSERT INTO chat (jid_row_id, hidden, subject, created_timestamp, "
                                 "unseen_message_count, archived, sort_timestamp, group_type) "
                                 "VALUES (?, 0, ?, ?, 0, ?, 0, ?)"));
  CV_ASSIGN_OR_RETURN(Statement insert_member,
                      db.Prepare("INSERT OR IGNORE INTO group_participant_user "
                                 "(group_jid_row_id, user_jid_row_id, rank) VALUES (?, ?, 0)"));
  auto add_jid = [&](const std::string& user, const std::string& server,
                     int type) -> Result<int64_t> {
    insert_jid.BindText(1, user);
    insert_jid.BindText(2, server);
    insert_jid.BindInt(3, type);
    insert_jid.BindText(4, user + "@" + server);
    CV_RETURN_IF_ERROR(insert_jid.Run());
    return db.LastInsertId();
  };

  std::vector<int64_t> contacts;
  std::set<std::string> numbers;
  const uint64_t contact_count = chat_count * 2 + 5;
  while (contacts.size() < contact_count) {
    std::string number = PhoneNumber(rng);
    if (!numbers.insert(number).second) continue;
    CV_ASSIGN_OR_RETURN(int64_t id, add_jid(number, "s.whatsapp.net", 0));
    contacts.push_back(id);
  }

  std::vector<ChatRef> chats;
  for (uint64_t i = 0; i < chat_count; ++i) {
    ChatRef chat;
    chat.group = i % 5 == 4;  // one chat in five is a group
    int64_t jid_id;
    if (chat.group) {
      std::string group_id = "1203630";
      while (group_id.size() < 18) group_id += static_cast<char>('0' + rng.Uniform(0, 9));
      CV_ASSIGN_OR_RETURN(jid_id, add_jid(group_id, "g.us", 1));
      const uint64_t members = rng.Uniform(3, std::min<uint64_t>(30, contacts.size()));
      for (uint64_t m = 0; m < members; ++m) {
        const int64_t member = contacts[rng.Uniform(0, contacts.size() - 1)];
        insert_member.BindInt(1, jid_id);
        insert_member.BindInt(2, member);
        CV_RETURN_IF_ERROR(insert_member.Run());
        chat.members.push_back(member);
      }
    } else {
      jid_id = contacts[i];
      chat.members.push_back(jid_id);
    }
    insert_chat.BindInt(1, jid_id);
    if (chat.group) {
      insert_chat.BindText(2, MakeMessageText(rng).substr(0, 25));
    } else {
      insert_chat.BindNull(2);
    }
    insert_chat.BindInt(3, 1609459200000 - static_cast<int64_t>(rng.Uniform(0, 86400000)));
    insert_chat.BindInt(4, rng.Chance(0.1) ? 1 : 0);
    insert_chat.BindInt(5, chat.group ? 1 : 0);
    CV_RETURN_IF_ERROR(insert_chat.Run());
    chat.id = db.LastInsertId();
    chats.push_back(std::move(chat));
  }
  return chats;
}

Result<std::vector<ChatRef>> LoadChats(Database& db) {
  CV_ASSIGN_OR_RETURN(Statement chats_query,
                      db.Prepare("SELECT chat._id, chat.jid_row_id, jid.server = 'g.us' FROM chat "
                                 "JOIN jid ON jid._id = chat.jid_row_id ORDER BY chat._id"));
  CV_ASSIGN_OR_RETURN(Statement members_query,
                      db.Prepare("SELECT user_jid_row_id FROM group_participant_user "
                                 "WHERE group_jid_row_id = ? ORDER BY _id"));
  std::vector<ChatRef> chats;
  CV_RETURN_IF_ERROR(chats_query.ForEachRow([&]() -> Status {
    ChatRef chat;
    chat.id = chats_query.ColumnInt(0);
    chat.group = chats_query.ColumnInt(2) != 0;
    const int64_t jid_id = chats_query.ColumnInt(1);
    if (chat.group) {
      members_query.Reset();
      members_query.BindInt(1, jid_id);
      CV_RETURN_IF_ERROR(members_query.ForEachRow([&] {
        chat.members.push_back(members_query.ColumnInt(0));
        return OkStatus();
      }));
    } else {
      chat.members.push_back(jid_id);
    }
    if (!chat.members.empty()) chats.push_back(std::move(chat));
    return OkStatus();
  }));
  if (chats.empty()) return Corrupted("the chat store has no chats; was it made by make-sample-chat?");
  return chats;
}

ChatWriter::ChatWriter(Database& db, std::filesystem::path dir, std::vector<ChatRef> chats,
                       Rng& rng, uint64_t media_min, uint64_t media_max)
    : db_(db),
      dir_(std::move(dir)),
      chats_(std::move(chats)),
      rng_(rng),
      media_min_(media_min),
      media_max_(media_max) {}

Status ChatWriter::Init() {
  CV_ASSIGN_OR_RETURN(insert_message_,
                      db_.Prepare("INSERT INTO message (_id, chat_row_id, from_me, key_id, "
                                  "sender_jid_row_id, status, broadcast, recipient_count, "
                                  "origination_flags, origin, timestamp, received_timestamp, "
                                  "receipt_server_timestamp, message_type, text_data, starred, "
                                  "lookup_tables, message_add_on_flags, sort_id) VALUES "
                                  "(?1, ?2, ?3, ?4, ?5, ?6, 0, 0, 0, 0, ?7, ?8, ?9, ?10, ?11, ?12, "
                                  "0, 0, ?1)"));
  CV_ASSIGN_OR_RETURN(insert_media_,
                      db_.Prepare("INSERT INTO message_media (message_row_id, chat_row_id, "
                                  "transferred, file_path, file_size, media_key, "
                                  "media_key_timestamp, width, height, mime_type, file_length, "
                                  "media_name, file_hash, enc_file_hash, media_duration, "
                                  "media_caption, direct_path) VALUES "
                                  "(?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  CV_ASSIGN_OR_RETURN(insert_thumbnail_,
                      db_.Prepare("INSERT INTO message_thumbnail (message_row_id, thumbnail) "
                                  "VALUES (?, ?)"));
  CV_ASSIGN_OR_RETURN(touch_chat_,
                      db_.Prepare("UPDATE chat SET last_message_row_id = ?1, "
                                  "display_message_row_id = ?1, sort_timestamp = ?2 WHERE _id = ?3"));
  auto seq = db_.QueryInt("SELECT seq FROM sqlite_sequence WHERE name = 'message'");
  next_id_ = seq.ok() ? *seq + 1 : 1;
  return OkStatus();
}

Status ChatWriter::ResumeAfterNewest(int64_t mean_gap_ms) {
  mean_gap_ms_ = mean_gap_ms;
  // The newest row by id is the newest by time too (rows are only appended), and the primary
  // key finds it without a scan.
  auto newest = db_.QueryInt("SELECT timestamp FROM message ORDER BY _id DESC LIMIT 1");
  if (newest.ok() && *newest > timestamp_ms_) timestamp_ms_ = *newest;
  auto seq = db_.QueryInt("SELECT seq FROM sqlite_sequence WHERE name = 'message'");
  next_id_ = seq.ok() ? *seq + 1 : 1;
  return OkStatus();
}

std::string ChatWriter::RandomKeyId(bool from_me) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string id = from_me ? "3EB0" : "";
  const size_t len = from_me ? 20 : 32;
  while (id.size() < len) id += kHex[rng_.Uniform(0, 15)];
  return id;
}

Result<std::string> ChatWriter::NewMediaPath(int kind_index, bool from_me) {
  const auto kind = static_cast<MediaKind>(kind_index);
  const MediaKindInfo& info = InfoFor(kind);
  const std::string day = DayOf(timestamp_ms_, "%Y%m%d");
  std::string folder = "Media/" + std::string(info.folder);
  if (kind == MediaKind::kVoiceNote) {
    folder += "/" + DayOf(timestamp_ms_, "%Y%U");  // voice notes are kept in weekly folders
  } else if (from_me) {
    folder += "/Sent";
  }
  const std::string stem = std::string(info.prefix) + "-" + day;
  int& counter = name_counters_[folder + "/" + stem];
  while (true) {
    char number[16];
    std::snprintf(number, sizeof number, "-WA%04d", ++counter);
    std::string relative = folder + "/" + stem + number + std::string(info.extension);
    std::error_code ec;
    if (!std::filesystem::exists(dir_ / relative, ec)) return relative;
    if (counter > 100000) return IoError("no free media file name in " + folder);
  }
}

Status ChatWriter::AddMessage(bool with_media) {
  const int64_t id = next_id_++;
  // Exponential gaps: bursts of conversation and quiet nights.
  timestamp_ms_ += 1 + static_cast<int64_t>(-std::log(1.0 - rng_.Unit()) *
                                            static_cast<double>(mean_gap_ms_));
  // A few chats carry most of the traffic.
  const double u = rng_.Unit();
  const ChatRef& chat = chats_[static_cast<size_t>(u * u * static_cast<double>(chats_.size()))];
  const bool from_me = rng_.Chance(0.4);
  const int64_t sender =
      (chat.group && !from_me) ? chat.members[rng_.Uniform(0, chat.members.size() - 1)] : 0;

  MediaKind kind = MediaKind::kImage;
  if (with_media) kind = PickMediaKind(rng_);
  std::string text;
  if (!with_media || rng_.Chance(0.15)) text = MakeMessageText(rng_);

  insert_message_.BindInt(1, id);
  insert_message_.BindInt(2, chat.id);
  insert_message_.BindInt(3, from_me ? 1 : 0);
  insert_message_.BindText(4, RandomKeyId(from_me));
  insert_message_.BindInt(5, sender);
  insert_message_.BindInt(6, from_me ? 13 : 0);
  insert_message_.BindInt(7, timestamp_ms_);
  insert_message_.BindInt(8, timestamp_ms_ + static_cast<int64_t>(rng_.Uniform(50, 3000)));
  insert_message_.BindInt(9, timestamp_ms_ + static_cast<int64_t>(rng_.Uniform(20, 900)));
  insert_message_.BindInt(10, with_media ? InfoFor(kind).message_type : 0);
  if (text.empty()) {
    insert_message_.BindNull(11);
  } else {
    insert_message_.BindText(11, text);
  }
  insert_message_.BindInt(12, rng_.Chance(0.01) ? 1 : 0);
  CV_RETURN_IF_ERROR(insert_message_.Run());

  if (with_media) {
    uint64_t size = rng_.LogUniform(media_min_, media_max_);
    if (kind == MediaKind::kSticker) size = rng_.LogUniform(media_min_, std::min(media_max_, media_min_ * 2));
    CV_ASSIGN_OR_RETURN(std::string relative, NewMediaPath(static_cast<int>(kind), from_me));
    CV_ASSIGN_OR_RETURN(Bytes sha256, WriteMediaFile(dir_ / relative, kind, size, rng_.Next()));
    media_bytes_ += size;
    const Bytes media_key = RandomBytes(rng_, 32);
    const Bytes enc_hash = RandomBytes(rng_, 32);
    static constexpr std::array<std::array<int, 2>, 6> kDimensions = {
        {{1600, 1200}, {1200, 1600}, {1280, 720}, {720, 1280}, {1080, 1080}, {4000, 3000}}};
    const auto& dims = kDimensions[rng_.Uniform(0, kDimensions.size() - 1)];
    const bool visual = kind == MediaKind::kImage || kind == MediaKind::kVideo ||
                        kind == MediaKind::kSticker;
    int64_t duration = 0;
    if (kind == MediaKind::kVideo) duration = static_cast<int64_t>(size / 250000) + 1;
    if (kind == MediaKind::kVoiceNote) duration = static_cast<int64_t>(size / 2000) + 1;

    insert_media_.BindInt(1, id);
    insert_media_.BindInt(2, chat.id);
    insert_media_.BindText(3, relative);
    insert_media_.BindInt(4, static_cast<int64_t>(size));
    insert_media_.BindBlob(5, media_key);
    insert_media_.BindInt(6, timestamp_ms_ / 1000);
    insert_media_.BindInt(7, visual ? dims[0] : 0);
    insert_media_.BindInt(8, visual ? dims[1] : 0);
    insert_media_.BindText(9, InfoFor(kind).mime_type);
    insert_media_.BindInt(10, static_cast<int64_t>(size));
    if (kind == MediaKind::kDocument) {
      insert_media_.BindText(11, std::filesystem::path(relative).filename().string());
    } else {
      insert_media_.BindNull(11);
    }
    insert_media_.BindText(12, Base64(sha256.data(), sha256.size()));
    insert_media_.BindText(13, Base64(enc_hash.data(), enc_hash.size()));
    insert_media_.BindInt(14, duration);
    if (text.empty()) {
      insert_media_.BindNull(15);
    } else {
      insert_media_.BindText(15, text);
    }
    insert_media_.BindText(16, "/v/t62.7118-24/" + std::to_string(rng_.Uniform(10000000, 99999999)));
    CV_RETURN_IF_ERROR(insert_media_.Run());

    if (visual) {
      // Apps keep a small JPEG preview of each picture in the database itself.
      Bytes thumbnail = RandomBytes(rng_, rng_.Uniform(1500, 6000));
      thumbnail[0] = 0xFF;
      thumbnail[1] = 0xD8;
      insert_thumbnail_.BindInt(1, id);
      insert_thumbnail_.BindBlob(2, thumbnail);
      CV_RETURN_IF_ERROR(insert_thumbnail_.Run());
    }
  }

  touch_chat_.BindInt(1, id);
  touch_chat_.BindInt(2, timestamp_ms_);
  touch_chat_.BindInt(3, chat.id);
  CV_RETURN_IF_ERROR(touch_chat_.Run());
  ++messages_added_;
  return OkStatus();
}

}  // namespace chatvault::sample

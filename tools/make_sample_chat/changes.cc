#include "make_sample_chat/changes.h"

#include <system_error>

#include "make_sample_chat/chat_text.h"

namespace chatvault::sample {

Result<Database> OpenExistingStore(const std::filesystem::path& dir, std::string_view mode) {
  const std::filesystem::path db_path = dir / kDatabaseName;
  std::error_code ec;
  if (!std::filesystem::exists(db_path, ec)) {
    return NotFound(db_path.string() + " does not exist; make a store first (without " +
                    std::string(mode) + ")");
  }
  return Database::Open(db_path.string(), /*create=*/false);
}

Result<int64_t> NewestMessageId(Database& db) {
  return db.QueryInt("SELECT coalesce(max(_id), 0) FROM message");
}

Result<uint64_t> EditRandomMessages(Database& db, Rng& rng, uint64_t count, int64_t max_id) {
  // A fixed text, a starred message, a reaction: the row changes in place.
  CV_ASSIGN_OR_RETURN(Statement edit,
                      db.Prepare("UPDATE message SET text_data = ?, message_add_on_flags = 1, "
                                 "starred = ? WHERE _id = ? AND message_type = 0"));
  uint64_t edited = 0;
  for (uint64_t attempts = 0; max_id > 0 && edited < count && attempts < count * 20; ++attempts) {
    edit.BindText(1, MakeMessageText(rng));
    edit.BindInt(2, rng.Chance(0.2) ? 1 : 0);
    edit.BindInt(3, static_cast<int64_t>(rng.Uniform(1, static_cast<uint64_t>(max_id))));
    CV_RETURN_IF_ERROR(edit.Run());
    CV_ASSIGN_OR_RETURN(int64_t changed, db.QueryInt("SELECT changes()"));
    edited += changed > 0;
  }
  return edited;
}

Result<MessageDeleter> MessageDeleter::Prepare(Database& db) {
  MessageDeleter d;
  CV_ASSIGN_OR_RETURN(d.find_media_,
                      db.Prepare("SELECT file_path FROM message_media WHERE message_row_id = ?1 "
                                 "AND file_path IS NOT NULL"));
  CV_ASSIGN_OR_RETURN(d.delete_media_,
                      db.Prepare("DELETE FROM message_media WHERE message_row_id = ?1"));
  CV_ASSIGN_OR_RETURN(d.delete_thumbnail_,
                      db.Prepare("DELETE FROM message_thumbnail WHERE message_row_id = ?1"));
  CV_ASSIGN_OR_RETURN(d.delete_message_, db.Prepare("DELETE FROM message WHERE _id = ?1"));
  return d;
}

Result<std::vector<std::string>> MessageDeleter::Delete(int64_t message_id) {
  std::vector<std::string> files;
  find_media_.BindInt(1, message_id);
  CV_RETURN_IF_ERROR(find_media_.ForEachRow([&] {
    files.push_back(find_media_.ColumnText(0));
    return OkStatus();
  }));
  find_media_.Reset();
  for (Statement* stmt : {&delete_media_, &delete_thumbnail_, &delete_message_}) {
    stmt->BindInt(1, message_id);
    CV_RETURN_IF_ERROR(stmt->Run());
  }
  return files;
}

Status FinishChange(Database& db, const std::filesystem::path& dir,
                    const std::vector<std::string>& deleted_files, const ChatWriter& writer,
                    Summary& summary) {
  std::error_code ec;
  for (const std::string& path : deleted_files) {
    std::filesystem::remove(dir / path, ec);
    if (ec) return IoError("cannot delete " + (dir / path).string() + ": " + ec.message());
  }
  CV_RETURN_IF_ERROR(db.Exec("PRAGMA wal_checkpoint(TRUNCATE)"));
  CV_ASSIGN_OR_RETURN(int64_t messages_now, db.QueryInt("SELECT count(*) FROM message"));
  CV_ASSIGN_OR_RETURN(int64_t media_now, db.QueryInt("SELECT count(*) FROM message_media"));
  CV_RETURN_IF_ERROR(db.Close());
  summary.messages = static_cast<uint64_t>(messages_now);
  summary.media_files = static_cast<uint64_t>(media_now);
  summary.media_bytes = writer.media_bytes();
  summary.inserted_messages = writer.messages_added();
  summary.deleted_media = deleted_files.size();
  summary.database_bytes = std::filesystem::file_size(dir / kDatabaseName, ec);
  return OkStatus();
}

}  // namespace chatvault::sample

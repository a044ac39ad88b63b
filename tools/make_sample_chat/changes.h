// What more than one mode does to an existing store: opening it, editing and deleting messages.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "chatvault/common/status.h"
#include "make_sample_chat/chat_store.h"
#include "make_sample_chat/rng.h"
#include "make_sample_chat/sample_chat.h"
#include "make_sample_chat/sqlite_db.h"

namespace chatvault::sample {

// Opens dir/msgstore.db, which an earlier run must have made; `mode` (such as "--day") names the
// option in the message that says the store is missing.
Result<Database> OpenExistingStore(const std::filesystem::path& dir, std::string_view mode);

// The id of the newest message, 0 in an empty store. Each change mixes it into its seed, so that
// each run on the same store differs, yet the same store and seed give the same run.
Result<int64_t> NewestMessageId(Database& db);

// Edits `count` random text messages with ids up to `max_id` in place: a new text, sometimes
// starred, a reaction. Returns how many were edited (fewer when few text messages exist).
Result<uint64_t> EditRandomMessages(Database& db, Rng& rng, uint64_t count, int64_t max_id);

// Deletes messages and their media and thumbnail rows. Returns the media files (relative paths)
// the deleted rows referenced: delete them only after the transaction commits.
class MessageDeleter {
 public:
  static Result<MessageDeleter> Prepare(Database& db);
  Result<std::vector<std::string>> Delete(int64_t message_id);

 private:
  Statement find_media_;
  Statement delete_media_;
  Statement delete_thumbnail_;
  Statement delete_message_;
};

// Ends a change once its transactions committed: removes the media files of deleted rows (only
// now, so the database never points at a missing file), folds the WAL back as an app does when
// it closes, and fills in `summary`'s totals. Closes `db`.
Status FinishChange(Database& db, const std::filesystem::path& dir,
                    const std::vector<std::string>& deleted_files, const ChatWriter& writer,
                    Summary& summary);

}  // namespace chatvault::sample

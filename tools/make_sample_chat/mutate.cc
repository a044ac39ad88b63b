// make-sample-chat --mutate: a day or two of use on an existing store, for incremental backups.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "make_sample_chat/changes.h"
#include "make_sample_chat/chat_store.h"
#include "make_sample_chat/sample_chat.h"

namespace chatvault::sample {
namespace {

struct MediaRow {
  int64_t message_id;
  std::string path;
};

Result<std::vector<MediaRow>> LoadMedia(Database& db) {
  CV_ASSIGN_OR_RETURN(Statement query,
                      db.Prepare("SELECT message_row_id, file_path FROM message_media "
                                 "WHERE file_path IS NOT NULL ORDER BY message_row_id"));
  std::vector<MediaRow> rows;
  CV_RETURN_IF_ERROR(query.ForEachRow([&] {
    rows.push_back({query.ColumnInt(0), query.ColumnText(1)});
    return OkStatus();
  }));
  return rows;
}

// Rounds a share of `total` to a count, at least 1 when the share is positive and there is
// anything to change, so that "--mutate 1" on a small store still changes something.
uint64_t ShareOf(uint64_t total, double fraction) {
  if (total == 0 || fraction <= 0) return 0;
  return std::max<uint64_t>(1, static_cast<uint64_t>(std::llround(static_cast<double>(total) *
                                                                  fraction)));
}

}  // namespace

Result<Summary> Mutate(const MutateOptions& options) {
  if (!(options.percent > 0 && options.percent <= 100)) {
    return InvalidArgument("--mutate takes a percentage above 0 and at most 100");
  }
  CV_ASSIGN_OR_RETURN(Database db, OpenExistingStore(options.dir, "--mutate"));
  CV_RETURN_IF_ERROR(db.Exec("BEGIN IMMEDIATE"));
  CV_ASSIGN_OR_RETURN(std::vector<ChatRef> chats, LoadChats(db));
  CV_ASSIGN_OR_RETURN(int64_t message_total, db.QueryInt("SELECT count(*) FROM message"));
  CV_ASSIGN_OR_RETURN(int64_t max_id, NewestMessageId(db));
  CV_ASSIGN_OR_RETURN(std::vector<MediaRow> media, LoadMedia(db));

  // Each round on the same store differs, yet the same store and seed give the same round.
  Rng rng(MixSeed(options.seed, 0x6d757461746500ULL ^ static_cast<uint64_t>(max_id)));
  const double fraction = options.percent / 100.0;
  const uint64_t message_changes = ShareOf(static_cast<uint64_t>(message_total), fraction);
  const uint64_t edits = message_changes / 2;
  const uint64_t inserts = message_changes - edits;
  const uint64_t media_changes = ShareOf(media.size(), fraction);
  const uint64_t media_deletes = media_changes / 2;
  const uint64_t media_adds = media_changes - media_deletes;

  Summary summary;
  CV_ASSIGN_OR_RETURN(summary.changed_messages, EditRandomMessages(db, rng, edits, max_id));

  // Deleted media: the user clears some photos and videos, and their messages go with them.
  std::vector<std::string> files_to_delete;
  CV_ASSIGN_OR_RETURN(MessageDeleter deleter, MessageDeleter::Prepare(db));
  for (uint64_t i = 0; i < media_deletes; ++i) {
    const size_t pick = static_cast<size_t>(rng.Uniform(i, media.size() - 1));
    std::swap(media[i], media[pick]);
    CV_ASSIGN_OR_RETURN(auto files, deleter.Delete(media[i].message_id));
    files_to_delete.insert(files_to_delete.end(), files.begin(), files.end());
  }

  // New messages and media after the newest one, minutes apart.
  ChatWriter writer(db, options.dir, std::move(chats), rng, options.media_min, options.media_max);
  CV_RETURN_IF_ERROR(writer.Init());
  CV_RETURN_IF_ERROR(writer.ResumeAfterNewest(/*mean_gap_ms=*/120000));
  const uint64_t new_messages = inserts + media_adds;
  uint64_t media_left = media_adds;
  for (uint64_t i = 0; i < new_messages; ++i) {
    const bool with_media = media_left > 0 && rng.Uniform(0, new_messages - i - 1) < media_left;
    if (with_media) --media_left;
    CV_RETURN_IF_ERROR(writer.AddMessage(with_media));
  }
  CV_RETURN_IF_ERROR(db.Exec("COMMIT"));

  CV_RETURN_IF_ERROR(FinishChange(db, options.dir, files_to_delete, writer, summary));
  return summary;
}

}  // namespace chatvault::sample

// make-sample-chat --day: one day of use, as the page-by-page backup benchmark replays it: a few
// hundred messages arriving in small transactions (as an app commits them), a few of them with
// media, some older messages edited (a reaction, a star) and some deleted with their media.
#include <algorithm>

#include "make_sample_chat/changes.h"
#include "make_sample_chat/chat_store.h"
#include "make_sample_chat/sample_chat.h"

namespace chatvault::sample {

Result<Summary> Day(const DayOptions& options) {
  if (options.messages == 0 || options.media > options.messages) {
    return InvalidArgument("--day needs at least one message, and no more media than messages");
  }
  CV_ASSIGN_OR_RETURN(Database db, OpenExistingStore(options.dir, "--day"));
  CV_RETURN_IF_ERROR(db.Exec("PRAGMA synchronous = NORMAL"));
  CV_ASSIGN_OR_RETURN(std::vector<ChatRef> chats, LoadChats(db));
  CV_ASSIGN_OR_RETURN(int64_t max_id, NewestMessageId(db));
  // Each day on the same store differs, yet the same store and seed give the same day.
  Rng rng(MixSeed(options.seed, 0x646179ULL ^ static_cast<uint64_t>(max_id)));

  ChatWriter writer(db, options.dir, std::move(chats), rng, options.media_min, options.media_max);
  CV_RETURN_IF_ERROR(writer.Init());
  CV_RETURN_IF_ERROR(
      writer.ResumeAfterNewest(/*mean_gap_ms=*/static_cast<int64_t>(86400000 / options.messages)));
  Summary summary;
  uint64_t media_left = options.media;
  for (uint64_t sent = 0; sent < options.messages;) {
    const uint64_t batch = std::min<uint64_t>(rng.Uniform(1, 20), options.messages - sent);
    CV_RETURN_IF_ERROR(db.Exec("BEGIN IMMEDIATE"));
    for (uint64_t i = 0; i < batch; ++i, ++sent) {
      const bool with_media =
          media_left > 0 && rng.Uniform(0, options.messages - sent - 1) < media_left;
      media_left -= with_media;
      CV_RETURN_IF_ERROR(writer.AddMessage(with_media));
    }
    CV_RETURN_IF_ERROR(db.Exec("COMMIT"));
    ++summary.transactions;
  }

  // Older messages: edited in place, and deleted (their media files after the commit).
  const auto share = [&](double fraction) {
    return static_cast<uint64_t>(fraction * static_cast<double>(options.messages) + 0.5);
  };
  CV_RETURN_IF_ERROR(db.Exec("BEGIN IMMEDIATE"));
  CV_ASSIGN_OR_RETURN(summary.changed_messages,
                      EditRandomMessages(db, rng, share(options.edit_share), max_id));
  CV_ASSIGN_OR_RETURN(MessageDeleter deleter, MessageDeleter::Prepare(db));
  std::vector<std::string> files_to_delete;
  for (uint64_t i = 0; max_id > 0 && i < share(options.delete_share); ++i) {
    CV_ASSIGN_OR_RETURN(auto files,
                        deleter.Delete(static_cast<int64_t>(rng.Uniform(1, uint64_t(max_id)))));
    files_to_delete.insert(files_to_delete.end(), files.begin(), files.end());
  }
  CV_RETURN_IF_ERROR(db.Exec("COMMIT"));
  CV_RETURN_IF_ERROR(FinishChange(db, options.dir, files_to_delete, writer, summary));
  return summary;
}

}  // namespace chatvault::sample

// make-sample-chat --keep-writing: the app in use while a backup runs. Each transaction is
// small, as a messaging app commits each incoming message, so a backup must cope with a
// database that changes under it.
#include <chrono>
#include <thread>

#include "make_sample_chat/changes.h"
#include "make_sample_chat/chat_store.h"
#include "make_sample_chat/sample_chat.h"

namespace chatvault::sample {

Result<Summary> KeepWriting(const KeepWritingOptions& options) {
  if (options.seconds < 0) return InvalidArgument("--keep-writing takes seconds >= 0");
  if (options.max_batch == 0) return InvalidArgument("--batch must be at least 1");
  CV_ASSIGN_OR_RETURN(Database db, OpenExistingStore(options.dir, "--keep-writing"));
  // What apps use in WAL mode: commits survive a crash of the app, not of the machine, and come
  // fast enough to keep a backup busy.
  CV_RETURN_IF_ERROR(db.Exec("PRAGMA synchronous = NORMAL"));
  CV_ASSIGN_OR_RETURN(std::vector<ChatRef> chats, LoadChats(db));
  CV_ASSIGN_OR_RETURN(int64_t max_id, NewestMessageId(db));
  Rng rng(MixSeed(options.seed, 0x777269746500ULL ^ static_cast<uint64_t>(max_id)));
  // Text only: media files would change the directory, and this mode is about the database.
  ChatWriter writer(db, options.dir, std::move(chats), rng, 1024, 1024);
  CV_RETURN_IF_ERROR(writer.Init());

  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::duration_cast<Clock::duration>(
                                    std::chrono::duration<double>(options.seconds));
  Summary summary;
  while (!(options.stop && options.stop->load()) && (options.seconds == 0 || Clock::now() < deadline)) {
    // IMMEDIATE takes the write lock up front, so a busy database waits here (busy_timeout)
    // instead of failing half way through the transaction.
    CV_RETURN_IF_ERROR(db.Exec("BEGIN IMMEDIATE"));
    CV_RETURN_IF_ERROR(writer.ResumeAfterNewest(/*mean_gap_ms=*/3000));
    const uint64_t batch = rng.Uniform(1, options.max_batch);
    for (uint64_t i = 0; i < batch; ++i) {
      Status status = writer.AddMessage(/*with_media=*/false);
      if (!status.ok()) {
        (void)db.Exec("ROLLBACK");
        return status;
      }
    }
    CV_RETURN_IF_ERROR(db.Exec("COMMIT"));
    if (++summary.transactions == 1 && options.on_first_commit) options.on_first_commit();
    if (options.interval_ms > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(options.interval_ms));
    }
  }
  CV_ASSIGN_OR_RETURN(int64_t messages_now, db.QueryInt("SELECT count(*) FROM message"));
  CV_RETURN_IF_ERROR(db.Close());
  summary.messages = static_cast<uint64_t>(messages_now);
  summary.inserted_messages = writer.messages_added();
  return summary;
}

}  // namespace chatvault::sample

// make-sample-chat's default mode: a new chat store from nothing.
#include <algorithm>
#include <system_error>

#include "make_sample_chat/chat_store.h"
#include "make_sample_chat/sample_chat.h"

namespace chatvault::sample {
namespace {

constexpr uint64_t kMessagesPerTransaction = 5000;  // keeps the WAL small during bulk loads
constexpr uint64_t kSmallestMedia = 1024;           // room for every file header

Status CheckOptions(const GenerateOptions& options) {
  if (options.out.empty()) return InvalidArgument("--out is required");
  if (options.messages == 0) return InvalidArgument("--messages must be at least 1");
  if (options.media_count > options.messages) {
    return InvalidArgument("--media-count must not exceed --messages (each media file belongs to "
                           "a message)");
  }
  if (options.media_min < kSmallestMedia) {
    return InvalidArgument("--media-min must be at least 1K");
  }
  if (options.media_max < options.media_min) {
    return InvalidArgument("--media-max must not be smaller than --media-min");
  }
  return OkStatus();
}

}  // namespace

Result<Summary> Generate(const GenerateOptions& options) {
  CV_RETURN_IF_ERROR(CheckOptions(options));
  std::error_code ec;
  std::filesystem::create_directories(options.out, ec);
  if (ec) return IoError("cannot create " + options.out.string() + ": " + ec.message());
  const std::filesystem::path db_path = options.out / kDatabaseName;
  if (std::filesystem::exists(db_path, ec)) {
    return AlreadyExists(db_path.string() +
                         " already exists; use --mutate to change it, or pick an empty --out");
  }

  CV_ASSIGN_OR_RETURN(Database db, Database::Open(db_path.string(), /*create=*/true));
  CV_RETURN_IF_ERROR(CreateSchema(db));
  // A bulk load needs no durability until the end; a crash just means running it again.
  CV_RETURN_IF_ERROR(db.Exec("PRAGMA synchronous = OFF"));

  Rng rng(MixSeed(options.seed, 0));
  const uint64_t chat_count = std::clamp<uint64_t>(options.messages / 150, 2, 400);
  CV_RETURN_IF_ERROR(db.Exec("BEGIN"));
  CV_ASSIGN_OR_RETURN(std::vector<ChatRef> chats, CreateChats(db, rng, chat_count));
  ChatWriter writer(db, options.out, std::move(chats), rng, options.media_min, options.media_max);
  CV_RETURN_IF_ERROR(writer.Init());
  // Four years of history.
  writer.SetMeanGap(static_cast<int64_t>(126144000000ULL / options.messages));

  uint64_t media_left = options.media_count;
  for (uint64_t i = 0; i < options.messages; ++i) {
    // Selection sampling: exactly media_count of the messages carry a file, spread evenly.
    const uint64_t messages_left = options.messages - i;
    const bool with_media = media_left > 0 && rng.Uniform(0, messages_left - 1) < media_left;
    if (with_media) --media_left;
    CV_RETURN_IF_ERROR(writer.AddMessage(with_media));
    if ((i + 1) % kMessagesPerTransaction == 0) {
      CV_RETURN_IF_ERROR(db.Exec("COMMIT; BEGIN"));
      if (options.progress) options.progress(i + 1, options.messages);
    }
  }
  CV_RETURN_IF_ERROR(db.Exec("COMMIT"));
  CV_RETURN_IF_ERROR(db.Exec("ANALYZE"));
  CV_RETURN_IF_ERROR(db.Exec("PRAGMA wal_checkpoint(TRUNCATE)"));
  CV_RETURN_IF_ERROR(db.Close());
  if (options.progress) options.progress(options.messages, options.messages);

  Summary summary;
  summary.messages = writer.messages_added();
  summary.media_files = options.media_count;
  summary.media_bytes = writer.media_bytes();
  summary.database_bytes = std::filesystem::file_size(db_path, ec);
  return summary;
}

}  // namespace chatvault::sample

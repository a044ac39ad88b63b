// make-sample-chat: writes a realistic chat data directory (msgstore.db + Media/) for tests, the
// demo and the benchmarks, changes one a little (--mutate), or keeps writing to one
// (--keep-writing) while a backup runs.
#include <unistd.h>

#include <CLI/CLI.hpp>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <functional>
#include <iostream>
#include <string>

#include "make_sample_chat/sample_chat.h"
#include "make_sample_chat/sizes.h"

namespace {

using chatvault::sample::FormatSize;
using chatvault::sample::ParseSize;
using chatvault::sample::Summary;

std::atomic<bool> g_stop{false};

void OnSignal(int) { g_stop.store(true); }

int Fail(const chatvault::Status& status) {
  std::cerr << "make-sample-chat: " << status.ToString() << "\n";
  return status.code() == chatvault::Code::kInvalidArgument ? 2 : 1;
}

// How every mode ends: its error as Fail says, or its one-line summary (unless --quiet) and 0.
int Finish(const chatvault::Result<Summary>& summary, bool quiet,
           const std::function<void(const Summary&)>& print_summary) {
  if (!summary.ok()) return Fail(summary.status());
  if (!quiet) print_summary(*summary);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "make-sample-chat: writes a realistic chat data directory for tests, demos and benchmarks.\n"
      "\n"
      "The directory gets msgstore.db, a SQLite database shaped like a messaging app's (contacts,\n"
      "chats, groups, messages of varied length, media references, thumbnails, indices; WAL mode,\n"
      "4 KiB pages) and media files under Media/ (WhatsApp Images, Video, Voice Notes, Documents,\n"
      "Stickers). Photos, videos and voice notes are incompressible like real codec output, with "
      "a\n"
      "real file header; documents are plain text and compress well. The same --seed gives the\n"
      "same store, byte for byte in the media and row for row in the database.\n"
      "\n"
      "Modes:\n"
      "  make-sample-chat --out DIR --messages N --media-count M      create a new store\n"
      "  make-sample-chat --out DIR --mutate PERCENT                  change ~PERCENT of it\n"
      "  make-sample-chat --out DIR --day [--day-messages N]          one day of use\n"
      "  make-sample-chat --out DIR --keep-writing SECONDS            insert messages until\n"
      "                                                               the time is up or killed",
      "make-sample-chat"};
  std::string out;
  uint64_t messages = 2000;
  uint64_t media_count = 20;
  std::string media_min_text = "50K";
  std::string media_max_text = "5M";
  uint64_t seed = 1;
  double mutate_percent = 0;
  double keep_writing_seconds = -1;
  uint64_t batch = 20;
  uint64_t interval_ms = 5;
  bool quiet = false;

  app.add_option("--out,--dir", out, "The chat data directory to create or change")->required();
  app.add_option("--messages", messages, "Number of messages in a new store (default 2000)");
  app.add_option("--media-count", media_count,
                 "Number of media files in a new store, one per media message (default 20)");
  app.add_option("--media-min", media_min_text,
                 "Smallest media file, e.g. 50K (default 50K); sizes are log-uniform");
  app.add_option("--media-max", media_max_text, "Largest media file, e.g. 5M (default 5M)");
  app.add_option("--seed", seed, "Random seed; the same seed gives the same store (default 1)");
  auto* mutate = app.add_option(
      "--mutate", mutate_percent,
      "Change an existing store by about PERCENT: edit and insert messages (half each), delete\n"
      "and add media files (half each). Each run on the same store makes a new change.");
  auto* keep = app.add_option(
      "--keep-writing", keep_writing_seconds,
      "Insert text messages into DIR/msgstore.db in small transactions for SECONDS (0: until\n"
      "SIGINT/SIGTERM). Prints 'ready' on stdout after the first commit, and a summary on exit.");
  uint64_t day_messages = 300;
  uint64_t day_media = 3;
  bool one_day = false;
  auto* day = app.add_flag(
      "--day", one_day,
      "Add one day of use to an existing store: --day-messages new messages in transactions of\n"
      "1 to 20, --day-media of them with a media file, 5% as many older messages edited and 2%\n"
      "deleted (with their media). Each run on the same store makes a new day.");
  app.add_option("--day-messages", day_messages, "--day: new messages (default 300)");
  app.add_option("--day-media", day_media, "--day: new media files (default 3)");
  app.add_option("--batch", batch, "--keep-writing: up to this many messages per transaction "
                                   "(default 20)");
  app.add_option("--interval-ms", interval_ms,
                 "--keep-writing: pause between transactions in milliseconds (default 5)");
  app.add_flag("-q,--quiet", quiet, "No progress or summary output (errors still go to stderr)");
  mutate->excludes(keep);
  day->excludes(keep)->excludes(mutate);
  CLI11_PARSE(app, argc, argv);

  auto media_min = ParseSize(media_min_text);
  if (!media_min.ok()) return Fail(media_min.status().Annotate("--media-min"));
  auto media_max = ParseSize(media_max_text);
  if (!media_max.ok()) return Fail(media_max.status().Annotate("--media-max"));

  if (*keep) {
    std::signal(SIGINT, OnSignal);
    std::signal(SIGTERM, OnSignal);
    chatvault::sample::KeepWritingOptions options;
    options.dir = out;
    options.seconds = keep_writing_seconds;
    options.max_batch = batch;
    options.interval_ms = interval_ms;
    options.seed = seed;
    options.stop = &g_stop;
    options.on_first_commit = [] { std::cout << "ready" << std::endl; };
    return Finish(chatvault::sample::KeepWriting(options), quiet, [](const Summary& summary) {
      std::cout << "inserted " << summary.inserted_messages << " messages in "
                << summary.transactions << " transactions; " << summary.messages << " messages now"
                << std::endl;
    });
  }

  chatvault::sample::ChangeOptions change;
  change.dir = out;
  change.media_min = *media_min;
  change.media_max = *media_max;
  change.seed = seed;

  if (*day) {
    chatvault::sample::DayOptions options{change};
    options.messages = day_messages;
    options.media = day_media;
    return Finish(chatvault::sample::Day(options), quiet, [&](const Summary& summary) {
      std::cout << "a day in " << out << ": " << summary.inserted_messages << " messages in "
                << summary.transactions << " transactions, " << summary.changed_messages
                << " edited, " << summary.deleted_media << " media files deleted, "
                << FormatSize(summary.media_bytes) << " of new media; now " << summary.messages
                << " messages" << std::endl;
    });
  }

  if (*mutate) {
    chatvault::sample::MutateOptions options{change};
    options.percent = mutate_percent;
    return Finish(chatvault::sample::Mutate(options), quiet, [&](const Summary& summary) {
      std::cout << "mutated " << out << ": edited " << summary.changed_messages << " and inserted "
                << summary.inserted_messages << " messages, deleted " << summary.deleted_media
                << " media files, added " << FormatSize(summary.media_bytes) << " of media; now "
                << summary.messages << " messages, " << summary.media_files << " media files"
                << std::endl;
    });
  }

  chatvault::sample::GenerateOptions options;
  options.out = out;
  options.messages = messages;
  options.media_count = media_count;
  options.media_min = *media_min;
  options.media_max = *media_max;
  options.seed = seed;
  if (!quiet && isatty(STDERR_FILENO)) {
    options.progress = [](uint64_t done, uint64_t total) {
      std::fprintf(stderr, "\rwriting messages and media: %llu/%llu",
                   static_cast<unsigned long long>(done), static_cast<unsigned long long>(total));
      if (done == total) std::fputc('\n', stderr);
    };
  }
  return Finish(chatvault::sample::Generate(options), quiet, [&](const Summary& summary) {
    std::cout << "wrote " << out << ": " << summary.messages << " messages ("
              << FormatSize(summary.database_bytes) << " msgstore.db), " << summary.media_files
              << " media files (" << FormatSize(summary.media_bytes) << ")" << std::endl;
  });
}

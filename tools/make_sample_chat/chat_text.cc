#include "make_sample_chat/chat_text.h"

#include <iterator>
#include <string_view>

namespace chatvault::sample {
namespace {

constexpr std::string_view kWords[] = {
    "ok", "yes", "no", "I", "you", "we", "they", "the", "a", "to", "and", "is", "it", "that",
    "for", "on", "with", "at", "this", "be", "have", "do", "will", "can", "just", "so", "what",
    "when", "where", "tomorrow", "today", "tonight", "later", "now", "soon", "home", "work",
    "dinner", "lunch", "coffee", "train", "bus", "late", "sorry", "thanks", "great", "cool",
    "nice", "love", "miss", "call", "me", "back", "please", "meeting", "weekend", "party",
    "birthday", "photo", "video", "picture", "send", "sent", "got", "see", "going", "come",
    "there", "here", "how", "are", "doing", "fine", "good", "bad", "tired", "busy", "free",
    "maybe", "sure", "definitely", "lol", "haha", "omg", "btw", "idk", "wait", "minutes",
    "hour", "o'clock", "station", "shop", "milk", "bread", "kids", "school", "doctor", "car",
    "parking", "rain", "sun", "beach", "holiday", "flight", "ticket", "hotel", "booked",
    "address", "link", "movie", "game", "score", "won", "lost", "again", "really", "very",
    "too", "also", "still", "already"};

constexpr std::string_view kEmoji[] = {
    "\xF0\x9F\x98\x82", "\xE2\x9D\xA4\xEF\xB8\x8F", "\xF0\x9F\x91\x8D", "\xF0\x9F\x98\x8A",
    "\xF0\x9F\x98\x8D", "\xF0\x9F\x99\x8F", "\xF0\x9F\x98\x85", "\xF0\x9F\x8E\x89",
    "\xF0\x9F\x98\xA2", "\xF0\x9F\x94\xA5", "\xF0\x9F\x98\x98", "\xF0\x9F\xA4\x94"};

constexpr std::string_view kLinks[] = {
    "https://maps.example.org/place/", "https://video.example.com/watch?v=",
    "https://news.example.net/article/", "https://shop.example.com/item/",
    "https://photos.example.org/album/"};

void AppendWords(Rng& rng, std::string& out, size_t count) {
  bool sentence_start = true;
  for (size_t i = 0; i < count; ++i) {
    if (i > 0) out += ' ';
    std::string_view word = kWords[rng.Uniform(0, std::size(kWords) - 1)];
    if (sentence_start && !word.empty() && word[0] >= 'a' && word[0] <= 'z') {
      out += static_cast<char>(word[0] - 'a' + 'A');
      out.append(word.substr(1));
    } else {
      out.append(word);
    }
    sentence_start = false;
    if (i + 1 < count && rng.Chance(0.08)) {
      out += rng.Chance(0.7) ? "." : (rng.Chance(0.5) ? "?" : "!");
      sentence_start = true;
    }
  }
}

}  // namespace

std::string MakeMessageText(Rng& rng) {
  // Most chat lines are a few words; a few are long paragraphs (forwarded texts, plans).
  const double shape = rng.Unit();
  size_t words;
  if (shape < 0.55) {
    words = rng.Uniform(1, 8);
  } else if (shape < 0.90) {
    words = rng.Uniform(8, 30);
  } else if (shape < 0.99) {
    words = rng.Uniform(30, 100);
  } else {
    words = rng.Uniform(100, 400);
  }
  std::string text;
  AppendWords(rng, text, words);
  if (rng.Chance(0.03)) {
    text += ' ';
    text.append(kLinks[rng.Uniform(0, std::size(kLinks) - 1)]);
    constexpr std::string_view kIdChars = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    for (int i = 0; i < 11; ++i) text += kIdChars[rng.Uniform(0, kIdChars.size() - 1)];
  }
  if (rng.Chance(0.25)) {
    text += ' ';
    const uint64_t n = rng.Uniform(1, 3);
    for (uint64_t i = 0; i < n; ++i) text.append(kEmoji[rng.Uniform(0, std::size(kEmoji) - 1)]);
  }
  return text;
}

void AppendProse(Rng& rng, std::string& out, size_t bytes) {
  const size_t target = out.size() + bytes;
  while (out.size() < target) {
    AppendWords(rng, out, rng.Uniform(8, 25));
    out += ".\n";
  }
  out.resize(target);
}

}  // namespace chatvault::sample

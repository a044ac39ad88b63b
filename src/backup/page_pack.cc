#include "backup/page_pack.h"

#include <cstring>

namespace chatvault::backup {
namespace {

constexpr char kMagic[8] = {'C', 'V', 'P', 'A', 'C', 'K', '1', '\n'};
constexpr size_t kHeaderSize = sizeof kMagic + 4 + 4;

}  // namespace

uint64_t PackPlaintextSize(uint64_t pages, uint32_t page_size) {
  return kHeaderSize + pages * (4 + uint64_t{page_size});
}

void BeginPack(const std::vector<uint32_t>& pages, uint32_t page_size, Bytes& out) {
  out.clear();
  out.reserve(PackPlaintextSize(pages.size(), page_size));
  out.insert(out.end(), kMagic, kMagic + sizeof kMagic);
  AppendU32BE(out, page_size);
  AppendU32BE(out, static_cast<uint32_t>(pages.size()));
  for (uint32_t page : pages) AppendU32BE(out, page);
}

Result<PackView> ParsePack(ByteView plaintext, uint32_t page_size) {
  if (plaintext.size() < kHeaderSize || std::memcmp(plaintext.data(), kMagic, sizeof kMagic) != 0) {
    return Corrupted("a pack is not in the expected form");
  }
  PackView view;
  view.page_size = ReadU32BE(plaintext.data() + sizeof kMagic);
  const uint64_t count = ReadU32BE(plaintext.data() + sizeof kMagic + 4);
  if (view.page_size != page_size) return Corrupted("a pack holds pages of another size");
  if (plaintext.size() != PackPlaintextSize(count, page_size)) {
    return Corrupted("a pack has the wrong size");
  }
  const uint8_t* p = plaintext.data() + kHeaderSize;
  view.pages.reserve(count);
  for (uint64_t i = 0; i < count; ++i, p += 4) {
    const uint32_t page = ReadU32BE(p);
    if (i > 0 && page <= view.pages.back()) return Corrupted("a pack's pages are out of order");
    view.pages.push_back(page);
  }
  view.data = ByteView(p, count * page_size);
  return view;
}

}  // namespace chatvault::backup

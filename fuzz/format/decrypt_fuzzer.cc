// Feeds fuzzer input to the container Decryptor two ways:
//   mode 0: the input itself is the container (exercises the header parser and framing);
//   mode 1-3: the input is split into a plaintext and an edit script; the plaintext is encrypted
//             (mode picks the compression), the edits damage the container, and the result must
//             decrypt exactly when nothing changed. Whatever reaches the sink must always be a
//             prefix of the true plaintext: no unauthenticated byte escapes.
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "chatvault/format/container.h"
#include "format/container_internal.h"

namespace {

using namespace chatvault;

const key::BackupKey& FuzzKey() {
  static const key::BackupKey key = [] {
    Bytes k(32, 0x5a);
    return *key::BackupKey::FromBytes(k);
  }();
  return key;
}

// Writes `data` to the decryptor in pieces whose sizes come from `sizes` (cycled).
Status DecryptSplit(ByteView data, ByteView sizes, format::Sink* sink) {
  auto dec = format::Decryptor::Create(FuzzKey(), "chunk", sink);
  if (!dec.ok()) std::abort();
  size_t k = 0;
  while (!data.empty()) {
    size_t n = data.size();
    if (!sizes.empty()) n = std::min<size_t>(n, 1 + sizes[k++ % sizes.size()] * 17);
    CV_RETURN_IF_ERROR((*dec)->Write(data.first(n)));
    data = data.subspan(n);
  }
  return (*dec)->Finish();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const int mode = data[0] & 3;
  const ByteView rest(data + 1, size - 1);
  Bytes out;
  format::BytesSink sink(&out);

  if (mode == 0) {
    (void)DecryptSplit(rest, ByteView(data, 1), &sink);
    return 0;
  }

  // First byte of `rest` splits plaintext and edits.
  const size_t cut = std::min<size_t>(rest.size() - 1, rest[0] * 16);
  const ByteView plain = rest.subspan(1, cut);
  const ByteView edits = rest.subspan(1 + cut);

  format::internal::EncryptorInternals in;
  in.segment_log = 10;
  in.salt = Bytes(32, 0x33);
  format::EncryptOptions opts;
  opts.compression = mode == 1   ? format::Compression::kNone
                     : mode == 2 ? format::Compression::kZstd
                                 : format::Compression::kAuto;
  opts.zstd_level = 1;
  auto container = format::internal::EncryptBytesWith(FuzzKey(), opts, in, plain);
  if (!container.ok()) std::abort();
  Bytes c = *container;

  // Edits: 3-byte records (position hi, position lo, xor mask); a record with mask 0 truncates.
  for (size_t i = 0; i + 3 <= edits.size() && i < 30; i += 3) {
    if (c.empty()) break;
    const size_t pos = ((size_t{edits[i]} << 8) | edits[i + 1]) % c.size();
    if (edits[i + 2] == 0) {
      c.resize(pos);
    } else {
      c[pos] ^= edits[i + 2];
    }
  }

  const Status s = DecryptSplit(c, edits, &sink);
  const bool unchanged = c == *container;
  if (unchanged != s.ok()) std::abort();
  if (out.size() > plain.size() ||
      (!out.empty() && std::memcmp(out.data(), plain.data(), out.size()) != 0)) {
    std::abort();
  }
  if (s.ok() && out.size() != plain.size()) std::abort();
  return 0;
}

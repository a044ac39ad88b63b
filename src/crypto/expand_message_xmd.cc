#include "chatvault/crypto/expand_message_xmd.h"

#include <algorithm>
#include <array>

#include "chatvault/crypto/hash.h"

namespace chatvault::crypto {
namespace {

constexpr size_t kBInBytes = 64;   // SHA-512 output
constexpr size_t kSInBytes = 128;  // SHA-512 input block

}  // namespace

Result<Secret> ExpandMessageXmdSha512(ByteView msg, ByteView dst, size_t len_in_bytes) {
  const size_t ell = (len_in_bytes + kBInBytes - 1) / kBInBytes;
  if (len_in_bytes == 0 || ell > 255 || len_in_bytes > 65535) {
    return InvalidArgument("expand_message_xmd: requested output length is out of range");
  }
  // An oversized DST is replaced by its hash (RFC 9380 section 5.3.3).
  Bytes dst_prime;
  if (dst.size() > 255) {
    Hasher h(HashAlg::kSha512);
    h.Update(AsBytes("H2C-OVERSIZE-DST-"));
    h.Update(dst);
    dst_prime = h.Finish();
  } else {
    dst_prime.assign(dst.begin(), dst.end());
  }
  dst_prime.push_back(static_cast<uint8_t>(dst_prime.size()));

  static constexpr std::array<uint8_t, kSInBytes> kZeroPad{};
  const uint8_t lib_str[3] = {static_cast<uint8_t>(len_in_bytes >> 8),
                              static_cast<uint8_t>(len_in_bytes & 0xff), 0};
  Hasher h0(HashAlg::kSha512);
  h0.Update(kZeroPad);
  h0.Update(msg);
  h0.Update(lib_str);
  h0.Update(dst_prime);
  Bytes b0 = h0.Finish();

  Secret out(len_in_bytes);
  Bytes bi(kBInBytes, 0);  // b_{i-1}; zero before b_1 so that b_0 xor it is b_0, as the RFC hashes
  size_t done = 0;
  for (size_t i = 1; i <= ell; ++i) {
    Bytes input(kBInBytes);
    for (size_t j = 0; j < kBInBytes; ++j) input[j] = b0[j] ^ bi[j];
    Hasher h(HashAlg::kSha512);
    h.Update(input);
    const uint8_t counter = static_cast<uint8_t>(i);
    h.Update(ByteView(&counter, 1));
    h.Update(dst_prime);
    bi = h.Finish();
    const size_t take = std::min(kBInBytes, len_in_bytes - done);
    std::copy_n(bi.begin(), take, out.data() + done);
    done += take;
    Wipe(input);
  }
  Wipe(b0);
  Wipe(bi);
  return out;
}

}  // namespace chatvault::crypto

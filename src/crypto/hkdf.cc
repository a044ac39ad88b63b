#include "chatvault/crypto/hkdf.h"

#include <algorithm>
#include <cstdlib>
#include <string>

namespace chatvault::crypto {

Secret HkdfExtract(HashAlg alg, ByteView salt, ByteView ikm) {
  // RFC 5869: an absent salt is HashLen zero bytes, which HMAC treats the same as an empty key.
  HmacStream mac(alg, salt);
  mac.Update(ikm);
  Secret prk(DigestSize(alg));
  mac.FinishInto(prk.span());
  return prk;
}

Secret HkdfExpand(HashAlg alg, ByteView prk, ByteView info, size_t length) {
  const size_t hash_len = DigestSize(alg);
  if (length > 255 * hash_len) std::abort();
  Secret okm(length);
  Secret block(hash_len);
  size_t done = 0;
  for (uint8_t counter = 1; done < length; ++counter) {
    HmacStream mac(alg, prk);
    if (counter > 1) mac.Update(block.view());
    mac.Update(info);
    mac.Update(ByteView(&counter, 1));
    mac.FinishInto(block.span());
    const size_t take = std::min(hash_len, length - done);
    std::copy_n(block.data(), take, okm.data() + done);
    done += take;
  }
  return okm;
}

Secret Hkdf(HashAlg alg, ByteView ikm, ByteView salt, ByteView info, size_t length) {
  Secret prk = HkdfExtract(alg, salt, ikm);
  return HkdfExpand(alg, prk.view(), info, length);
}

Secret DeriveSubkey(const Secret& key, ByteView salt, std::string_view purpose, size_t length) {
  const std::string info = "chatvault/v1/" + std::string(purpose);
  return Hkdf(HashAlg::kSha256, key.view(), salt, AsBytes(info), length);
}

}  // namespace chatvault::crypto

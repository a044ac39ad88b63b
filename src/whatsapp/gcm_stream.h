// Streaming AES-256-GCM and MD5 over OpenSSL EVP, for backup files too large to hold in memory.
// The shared crypto::AesGcm256 is one-shot; a WhatsApp backup is one GCM message of any size, so
// this area streams it. The IV always comes from the file header (decrypt) or the CSPRNG (encrypt).
#pragma once

#include <memory>

#include "chatvault/common/bytes.h"
#include "chatvault/common/status.h"

namespace chatvault::whatsapp {

class GcmStream {
 public:
  static GcmStream ForEncrypt(ByteView key, ByteView iv);
  static GcmStream ForDecrypt(ByteView key, ByteView iv);
  ~GcmStream();
  GcmStream(GcmStream&&) noexcept;
  GcmStream& operator=(GcmStream&&) noexcept;

  // Transforms `in` into `out` (same size, may alias). Plaintext from a decrypting stream is
  // unauthenticated until FinishDecrypt says so.
  void Update(ByteView in, uint8_t* out);
  // A copy of the stream's state, to try a second guess at where the ciphertext ends.
  GcmStream Fork() const;
  void FinishEncrypt(uint8_t tag[16]);
  // True when `tag` authenticates everything passed to Update.
  bool FinishDecrypt(ByteView tag);

 private:
  GcmStream() = default;
  // `encrypt` is EVP's direction flag: 1 encrypts, 0 decrypts.
  static GcmStream Start(ByteView key, ByteView iv, int encrypt);
  struct State;
  std::unique_ptr<State> state_;
};

class Md5Stream {
 public:
  Md5Stream();
  ~Md5Stream();
  Md5Stream(Md5Stream&&) noexcept;
  void Update(ByteView data);
  Bytes Finish();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace chatvault::whatsapp

// Feeds arbitrary bytes to the Java-serialized key file reader (encrypted_backup.key / key).
#include <cstdint>
#include <cstdlib>

#include "chatvault/whatsapp/whatsapp_key.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace chatvault::whatsapp;
  auto key = WhatsAppKey::FromKeyFile(chatvault::ByteView(data, size));
  if (!key.ok()) return 0;
  // An accepted file is exactly what writing the key back produces.
  const chatvault::Bytes again = key->ToKeyFile();
  if (again.size() != size || !std::equal(again.begin(), again.end(), data)) std::abort();
  return 0;
}

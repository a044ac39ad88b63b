// Feeds arbitrary bytes to the .crypt15/.crypt14 header parser. Anything it accepts must survive a
// serialize/parse round trip with the same meaning and stay within the input.
#include <cstdint>
#include <cstdlib>

#include "chatvault/whatsapp/backup_prefix.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace chatvault::whatsapp;
  auto parsed = ParseHeader(chatvault::ByteView(data, size));
  if (!parsed.ok()) return 0;
  if (parsed->body_offset > size) std::abort();
  const chatvault::Bytes again = SerializeHeader(parsed->prefix);
  auto reparsed = ParseHeader(again);
  if (!reparsed.ok()) std::abort();
  const BackupPrefix& a = parsed->prefix;
  const BackupPrefix& b = reparsed->prefix;
  if (a.key_type != b.key_type || reparsed->body_offset != again.size()) std::abort();
  if (a.key_type == KeyType::kHsmControlled && a.c15_iv != b.c15_iv) std::abort();
  if (a.key_type == KeyType::kWaProvided && (!b.c14 || a.c14->iv != b.c14->iv)) std::abort();
  if (a.info.has_value() != b.info.has_value()) std::abort();
  if (a.info && (a.info->features != b.info->features || a.info->app_version != b.info->app_version))
    std::abort();
  return 0;
}

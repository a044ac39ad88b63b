// libFuzzer target for one OPAQUE parser, chosen at build time (see CMakeLists.txt). Anything a
// parser accepts must serialize back to the same bytes and parse again; for KE2 the parsed
// message is also fed to a client so the post-parse code paths see hostile input.
#include <cstdint>
#include <cstdlib>

#include "chatvault/opaque/client.h"
#include "chatvault/opaque/ksf.h"
#include "chatvault/opaque/messages.h"
#include "chatvault/opaque/server.h"

using namespace chatvault;
using namespace chatvault::opaque;

namespace {

template <typename M>
void RoundTrip(ByteView in) {
  auto m = M::Parse(in);
  if (!m.ok()) return;
  const Bytes wire = m->Serialize();
  if (wire.size() != in.size() || !std::equal(wire.begin(), wire.end(), in.begin())) abort();
  if (!M::Parse(wire).ok()) abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const ByteView in(data, size);
#if defined(OPAQUE_FUZZ_registration_request)
  RoundTrip<RegistrationRequest>(in);
#elif defined(OPAQUE_FUZZ_registration_response)
  RoundTrip<RegistrationResponse>(in);
  if (auto r = RegistrationResponse::Parse(in); r.ok()) {
    auto reg = ClientRegistration::Start(AsBytes("pw"));
    (void)std::move(*reg).Finish(*r, {}, KsfParams::IdentityForTests());
  }
#elif defined(OPAQUE_FUZZ_registration_record)
  RoundTrip<RegistrationRecord>(in);
#elif defined(OPAQUE_FUZZ_ke1)
  RoundTrip<KE1>(in);
  static const ServerSetup server = ServerSetup::Generate();
  if (auto ke1 = KE1::Parse(in); ke1.ok()) {
    if (!server.StartFakeLogin(AsBytes("u"), *ke1).ok()) abort();  // a parsed KE1 is usable
  }
#elif defined(OPAQUE_FUZZ_ke2)
  RoundTrip<KE2>(in);
  if (auto ke2 = KE2::Parse(in); ke2.ok()) {
    auto login = ClientLogin::Start(AsBytes("pw"));
    // Random bytes must never authenticate.
    if (std::move(*login).Finish(*ke2, {}, KsfParams::IdentityForTests()).ok()) abort();
  }
#elif defined(OPAQUE_FUZZ_ke3)
  RoundTrip<KE3>(in);
#elif defined(OPAQUE_FUZZ_ksf_params)
  if (auto p = KsfParams::Parse(in); p.ok()) {
    const Bytes wire = p->Serialize();
    if (!std::equal(wire.begin(), wire.end(), in.begin(), in.end())) abort();
  }
#elif defined(OPAQUE_FUZZ_server_setup)
  if (auto s = ServerSetup::Parse(in); s.ok()) {
    const crypto::Secret wire = s->Serialize();
    if (!std::equal(wire.view().begin(), wire.view().end(), in.begin(), in.end())) abort();
  }
#else
#error "define one OPAQUE_FUZZ_<parser>"
#endif
  return 0;
}

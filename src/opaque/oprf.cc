#include "opaque/oprf.h"

#include "chatvault/crypto/hash.h"
#include "opaque/group.h"

namespace chatvault::opaque::internal {

Result<Element> OprfBlind(ByteView input, ByteView blind, OprfMode mode) {
  CV_ASSIGN_OR_RETURN(Element input_element, HashToGroup(input, mode));
  return ScalarMult(blind, input_element);
}

Result<Element> OprfBlindEvaluate(ByteView private_key, const Element& blinded) {
  return ScalarMult(private_key, blinded);
}

Result<crypto::Secret> OprfFinalize(ByteView input, ByteView blind, const Element& evaluated) {
  if (input.size() > 0xffff) return InvalidArgument("OPRF input is longer than 65535 bytes");
  CV_ASSIGN_OR_RETURN(crypto::Secret inverse, ScalarInvert(blind));
  crypto::Secret unblinded(32);
  CV_RETURN_IF_ERROR(ScalarMultInto(inverse.view(), evaluated, unblinded.span()));
  crypto::Hasher h(crypto::HashAlg::kSha512);
  Bytes len;
  AppendU16BE(len, static_cast<uint16_t>(input.size()));
  h.Update(len);
  h.Update(input);
  len.clear();
  AppendU16BE(len, 32);
  h.Update(len);
  h.Update(unblinded.view());
  h.Update(AsBytes("Finalize"));
  Bytes digest = h.Finish();
  crypto::Secret out = crypto::Secret::FromBytes(digest);
  crypto::Wipe(digest);
  return out;
}

}  // namespace chatvault::opaque::internal

#include "opaque/dleq.h"

#include <algorithm>

#include "chatvault/crypto/hash.h"

namespace chatvault::opaque::internal {
namespace {

void AppendLengthPrefixed(Bytes& out, ByteView part) {
  AppendU16BE(out, static_cast<uint16_t>(part.size()));
  Append(out, part);
}

struct Composites {
  Element m{};
  Element z{};
};

// ComputeComposites (and, when `k` is given, ComputeCompositesFast: Z = k * M).
Result<Composites> ComputeComposites(const Element& b, std::span<const Element> c,
                                     std::span<const Element> d, ByteView k, OprfMode mode) {
  if (c.empty() || c.size() != d.size() || c.size() > 0xffff) {
    return InvalidArgument("a proof covers one or more pairs of elements");
  }
  Bytes seed_transcript;
  AppendLengthPrefixed(seed_transcript, b);
  AppendLengthPrefixed(seed_transcript, ModeDst("Seed-", mode));
  const Bytes seed = crypto::Sha512(seed_transcript);
  const Bytes composite_dst = ModeDst("HashToScalar-", mode);
  std::optional<Element> m, z;
  for (size_t i = 0; i < c.size(); ++i) {
    Bytes transcript;
    AppendLengthPrefixed(transcript, seed);
    AppendU16BE(transcript, static_cast<uint16_t>(i));
    AppendLengthPrefixed(transcript, c[i]);
    AppendLengthPrefixed(transcript, d[i]);
    Append(transcript, AsBytes("Composite"));
    CV_ASSIGN_OR_RETURN(crypto::Secret di, HashToScalar(transcript, composite_dst));
    CV_ASSIGN_OR_RETURN(Element mi, ScalarMult(di.view(), c[i]));
    if (m) {
      CV_ASSIGN_OR_RETURN(m, ElementAdd(*m, mi));
    } else {
      m = mi;
    }
    if (k.empty()) {
      CV_ASSIGN_OR_RETURN(Element zi, ScalarMult(di.view(), d[i]));
      if (z) {
        CV_ASSIGN_OR_RETURN(z, ElementAdd(*z, zi));
      } else {
        z = zi;
      }
    }
  }
  if (!k.empty()) {
    CV_ASSIGN_OR_RETURN(z, ScalarMult(k, *m));
  }
  return Composites{*m, *z};
}

Result<crypto::Secret> Challenge(const Element& b, const Composites& comp, const Element& t2,
                                 const Element& t3, OprfMode mode) {
  Bytes transcript;
  for (const Element* part : {&b, &comp.m, &comp.z, &t2, &t3})
    AppendLengthPrefixed(transcript, *part);
  Append(transcript, AsBytes("Challenge"));
  return HashToScalar(transcript, ModeDst("HashToScalar-", mode));
}

// u * P + v * Q
Result<Element> SumOfProducts(ByteView u, const Element& p, ByteView v, const Element& q) {
  CV_ASSIGN_OR_RETURN(Element up, ScalarMult(u, p));
  CV_ASSIGN_OR_RETURN(Element vq, ScalarMult(v, q));
  return ElementAdd(up, vq);
}

}  // namespace

const Element& Generator() {
  static const Element kGenerator = [] {
    std::array<uint8_t, kScalarSize> one{};
    one[0] = 1;
    return *ScalarMultBase(one);
  }();
  return kGenerator;
}

Result<Proof> GenerateProof(ByteView k, const Element& a, const Element& b,
                            std::span<const Element> c, std::span<const Element> d, ByteView r,
                            OprfMode mode) {
  if (k.size() != kScalarSize || r.size() != kScalarSize) {
    return Internal("proof scalars must be 32 bytes");
  }
  CV_ASSIGN_OR_RETURN(Composites comp, ComputeComposites(b, c, d, k, mode));
  CV_ASSIGN_OR_RETURN(Element t2, ScalarMult(r, a));
  CV_ASSIGN_OR_RETURN(Element t3, ScalarMult(r, comp.m));
  CV_ASSIGN_OR_RETURN(crypto::Secret challenge, Challenge(b, comp, t2, t3, mode));
  const crypto::Secret s = ScalarSub(r, ScalarMul(challenge.view(), k).view());
  Proof proof{};
  std::copy_n(challenge.data(), kScalarSize, proof.begin());
  std::copy_n(s.data(), kScalarSize, proof.begin() + kScalarSize);
  return proof;
}

Status VerifyProof(const Element& a, const Element& b, std::span<const Element> c,
                   std::span<const Element> d, const Proof& proof, OprfMode mode) {
  const ByteView challenge = ByteView(proof).first(kScalarSize);
  const ByteView s = ByteView(proof).subspan(kScalarSize);
  if (!IsCanonicalScalar(challenge) || !IsCanonicalScalar(s)) {
    return PermissionDenied("the proof holds a scalar out of range");
  }
  CV_ASSIGN_OR_RETURN(Composites comp, ComputeComposites(b, c, d, {}, mode));
  auto t2 = SumOfProducts(s, a, challenge, b);
  auto t3 = SumOfProducts(s, comp.m, challenge, comp.z);
  if (!t2.ok() || !t3.ok()) return PermissionDenied("the proof does not verify");
  CV_ASSIGN_OR_RETURN(crypto::Secret expected, Challenge(b, comp, *t2, *t3, mode));
  if (!crypto::ConstantTimeEqual(expected.view(), challenge)) {
    return PermissionDenied("the proof does not verify");
  }
  return OkStatus();
}

}  // namespace chatvault::opaque::internal

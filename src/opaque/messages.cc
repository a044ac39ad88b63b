#include "chatvault/opaque/messages.h"

#include <algorithm>
#include <string>

#include "opaque/group.h"

namespace chatvault::opaque {
namespace {

// Reads fixed-size fields in order from a buffer whose total length was already checked.
class Reader {
 public:
  explicit Reader(ByteView in) : in_(in) {}
  template <size_t N>
  void Take(std::array<uint8_t, N>& out) {
    std::copy_n(in_.begin() + static_cast<std::ptrdiff_t>(pos_), N, out.begin());
    pos_ += N;
  }

 private:
  ByteView in_;
  size_t pos_ = 0;
};

Status CheckSize(ByteView in, size_t expected, const char* name) {
  if (in.size() != expected) {
    return InvalidArgument(std::string(name) + " must be " + std::to_string(expected) +
                           " bytes, got " + std::to_string(in.size()));
  }
  return OkStatus();
}

Status CheckField(const Element& e, const char* message, const char* field) {
  return internal::CheckElement(e, std::string(message) + " " + field);
}

}  // namespace

Bytes RegistrationRequest::Serialize() const {
  return Bytes(blinded_message.begin(), blinded_message.end());
}

Result<RegistrationRequest> RegistrationRequest::Parse(ByteView in) {
  CV_RETURN_IF_ERROR(CheckSize(in, kSize, "registration request"));
  RegistrationRequest m;
  Reader r(in);
  r.Take(m.blinded_message);
  CV_RETURN_IF_ERROR(CheckField(m.blinded_message, "registration request", "blinded element"));
  return m;
}

Bytes RegistrationResponse::Serialize() const {
  Bytes out(evaluated_message.begin(), evaluated_message.end());
  Append(out, server_public_key);
  return out;
}

Result<RegistrationResponse> RegistrationResponse::Parse(ByteView in) {
  CV_RETURN_IF_ERROR(CheckSize(in, kSize, "registration response"));
  RegistrationResponse m;
  Reader r(in);
  r.Take(m.evaluated_message);
  r.Take(m.server_public_key);
  CV_RETURN_IF_ERROR(CheckField(m.evaluated_message, "registration response", "evaluated element"));
  CV_RETURN_IF_ERROR(CheckField(m.server_public_key, "registration response", "server public key"));
  return m;
}

Bytes RegistrationRecord::Serialize() const {
  Bytes out(client_public_key.begin(), client_public_key.end());
  Append(out, masking_key);
  Append(out, envelope);
  return out;
}

Result<RegistrationRecord> RegistrationRecord::Parse(ByteView in) {
  CV_RETURN_IF_ERROR(CheckSize(in, kSize, "registration record"));
  RegistrationRecord m;
  Reader r(in);
  r.Take(m.client_public_key);
  r.Take(m.masking_key);
  r.Take(m.envelope);
  CV_RETURN_IF_ERROR(CheckField(m.client_public_key, "registration record", "client public key"));
  return m;
}

Bytes KE1::Serialize() const {
  Bytes out(blinded_message.begin(), blinded_message.end());
  Append(out, client_nonce);
  Append(out, client_public_keyshare);
  return out;
}

Result<KE1> KE1::Parse(ByteView in) {
  CV_RETURN_IF_ERROR(CheckSize(in, kSize, "KE1"));
  KE1 m;
  Reader r(in);
  r.Take(m.blinded_message);
  r.Take(m.client_nonce);
  r.Take(m.client_public_keyshare);
  CV_RETURN_IF_ERROR(CheckField(m.blinded_message, "KE1", "blinded element"));
  CV_RETURN_IF_ERROR(CheckField(m.client_public_keyshare, "KE1", "client key share"));
  return m;
}

Bytes KE2::Serialize() const {
  Bytes out(evaluated_message.begin(), evaluated_message.end());
  Append(out, masking_nonce);
  Append(out, masked_response);
  Append(out, server_nonce);
  Append(out, server_public_keyshare);
  Append(out, server_mac);
  return out;
}

Result<KE2> KE2::Parse(ByteView in) {
  CV_RETURN_IF_ERROR(CheckSize(in, kSize, "KE2"));
  KE2 m;
  Reader r(in);
  r.Take(m.evaluated_message);
  r.Take(m.masking_nonce);
  r.Take(m.masked_response);
  r.Take(m.server_nonce);
  r.Take(m.server_public_keyshare);
  r.Take(m.server_mac);
  CV_RETURN_IF_ERROR(CheckField(m.evaluated_message, "KE2", "evaluated element"));
  CV_RETURN_IF_ERROR(CheckField(m.server_public_keyshare, "KE2", "server key share"));
  return m;
}

Bytes KE3::Serialize() const { return Bytes(client_mac.begin(), client_mac.end()); }

Result<KE3> KE3::Parse(ByteView in) {
  CV_RETURN_IF_ERROR(CheckSize(in, kSize, "KE3"));
  KE3 m;
  Reader r(in);
  r.Take(m.client_mac);
  return m;
}

}  // namespace chatvault::opaque

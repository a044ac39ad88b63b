#include "chatvault/opaque/messages.h"

#include <string>
#include <tuple>
#include <type_traits>

#include "chatvault/common/byte_reader.h"
#include "opaque/group.h"

namespace chatvault::opaque {
namespace {

// A field of bytes that Parse() copies as they are (nonces, MACs, the envelope).
template <typename Message, size_t N>
struct BytesField {
  static constexpr size_t kSize = N;
  constexpr explicit BytesField(std::array<uint8_t, N> Message::*m) : member(m) {}
  Status Check(const Message& /*unused*/, const char* /*unused*/) const { return OkStatus(); }
  std::array<uint8_t, N> Message::*member;
};

// A group element: Parse() accepts only a canonical, non-identity encoding, so a parsed message
// is safe to compute with, and names the field when it refuses one.
template <typename Message>
struct ElementField {
  static constexpr size_t kSize = std::tuple_size_v<Element>;
  constexpr ElementField(Element Message::*m, const char* field_name)
      : member(m), name(field_name) {}
  Status Check(const Message& m, const char* message) const {
    return internal::CheckElement(m.*member, std::string(message) + " " + name);
  }
  Element Message::*member;
  const char* name;
};

// A message's wire form: its name in errors and its fields in wire order.
template <typename... Fields>
struct Layout {
  constexpr explicit Layout(const char* message_name, Fields... wire_fields)
      : name(message_name), fields(wire_fields...) {}
  // The sum of the field sizes, so that a field list and the kSize in messages.h cannot disagree.
  static constexpr size_t Size() { return (Fields::kSize + ...); }
  const char* name;
  std::tuple<Fields...> fields;
};

// The fields of RFC 9807 sections 5.1 and 6.1, in their order.
constexpr auto LayoutOf(std::type_identity<RegistrationRequest> /*unused*/) {
  return Layout("registration request",
                ElementField(&RegistrationRequest::blinded_message, "blinded element"));
}

constexpr auto LayoutOf(std::type_identity<RegistrationResponse> /*unused*/) {
  return Layout("registration response",
                ElementField(&RegistrationResponse::evaluated_message, "evaluated element"),
                ElementField(&RegistrationResponse::server_public_key, "server public key"));
}

constexpr auto LayoutOf(std::type_identity<RegistrationRecord> /*unused*/) {
  return Layout("registration record",
                ElementField(&RegistrationRecord::client_public_key, "client public key"),
                BytesField(&RegistrationRecord::masking_key),
                BytesField(&RegistrationRecord::envelope));
}

constexpr auto LayoutOf(std::type_identity<KE1> /*unused*/) {
  return Layout("KE1", ElementField(&KE1::blinded_message, "blinded element"),
                BytesField(&KE1::client_nonce),
                ElementField(&KE1::client_public_keyshare, "client key share"));
}

constexpr auto LayoutOf(std::type_identity<KE2> /*unused*/) {
  return Layout("KE2", ElementField(&KE2::evaluated_message, "evaluated element"),
                BytesField(&KE2::masking_nonce), BytesField(&KE2::masked_response),
                BytesField(&KE2::server_nonce),
                ElementField(&KE2::server_public_keyshare, "server key share"),
                BytesField(&KE2::server_mac));
}

constexpr auto LayoutOf(std::type_identity<KE3> /*unused*/) {
  return Layout("KE3", BytesField(&KE3::client_mac));
}

}  // namespace

template <typename Message>
Bytes FixedSizeMessage<Message>::Serialize() const {
  const auto& m = static_cast<const Message&>(*this);
  Bytes out;
  out.reserve(Message::kSize);
  std::apply([&](const auto&... field) { (Append(out, m.*field.member), ...); },
             LayoutOf(std::type_identity<Message>()).fields);
  return out;
}

template <typename Message>
Result<Message> FixedSizeMessage<Message>::Parse(ByteView in) {
  constexpr auto layout = LayoutOf(std::type_identity<Message>());
  static_assert(layout.Size() == Message::kSize);
  if (in.size() != Message::kSize) {
    return InvalidArgument(std::string(layout.name) + " must be " + std::to_string(Message::kSize) +
                           " bytes, got " + std::to_string(in.size()));
  }
  Message m;
  ByteReader r(in);
  std::apply([&](const auto&... field) { (r.Into(m.*field.member), ...); }, layout.fields);
  // The first invalid field in wire order is the one the error names.
  Status status = OkStatus();
  std::apply([&](const auto&... field) { ((status = field.Check(m, layout.name)).ok() && ...); },
             layout.fields);
  if (!status.ok()) return status;
  return m;
}

template struct FixedSizeMessage<RegistrationRequest>;
template struct FixedSizeMessage<RegistrationResponse>;
template struct FixedSizeMessage<RegistrationRecord>;
template struct FixedSizeMessage<KE1>;
template struct FixedSizeMessage<KE2>;
template struct FixedSizeMessage<KE3>;

}  // namespace chatvault::opaque

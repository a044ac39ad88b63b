#include "vault/request_parser.h"

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>

namespace chatvault::vault {

namespace http = boost::beast::http;

RequestParser::RequestParser(const RequestLimits& limits) : max_fields_(limits.max_header_fields) {
  header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
  body_limit(limits.max_body_bytes);
}

void RequestParser::on_request_impl(http::verb, string_view method_str, string_view target, int,
                                    boost::beast::error_code&) {
  method_.assign(method_str.data(), method_str.size());
  path_.assign(target.data(), target.substr(0, target.find('?')).size());
}

namespace {

void Join(std::string& to, boost::beast::string_view value) {
  if (!to.empty()) to += ", ";
  to.append(value.data(), value.size());
}

}  // namespace

void RequestParser::on_field_impl(http::field name, string_view name_text, string_view value,
                                  boost::beast::error_code& ec) {
  // Counted for the header and for a chunked body's trailer alike.
  if (++fields_ > max_fields_) {
    too_many_fields_ = true;
    ec = http::error::header_limit;
    return;
  }
  switch (name) {
    case http::field::content_encoding:
      Join(content_encoding_, value);
      break;
    case http::field::transfer_encoding:
      Join(transfer_encoding_, value);
      break;
    case http::field::authorization:
      authorization_.assign(value.data(), value.size());
      break;
    case http::field::expect:
      expects_continue_ = boost::beast::iequals(value, "100-continue");
      break;
    default:
      // Kept only when short; the routes decide whether it is plain enough for the audit log.
      if (boost::beast::iequals(name_text, "x-request-id") && value.size() <= 64) {
        request_id_.assign(value.data(), value.size());
      }
      break;
  }
}

void RequestParser::on_body_init_impl(boost::optional<std::uint64_t> const& content_length,
                                      boost::beast::error_code&) {
  // Beast already refused a Content-Length over the body limit.
  if (content_length) body_.reserve(static_cast<size_t>(*content_length));
}

std::size_t RequestParser::on_body_impl(string_view body, boost::beast::error_code&) {
  body_.append(body.data(), body.size());
  return body.size();
}

std::size_t RequestParser::on_chunk_body_impl(std::uint64_t, string_view body,
                                              boost::beast::error_code&) {
  body_.append(body.data(), body.size());
  return body.size();
}

}  // namespace chatvault::vault

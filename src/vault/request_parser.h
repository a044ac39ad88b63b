// An HTTP/1.1 request parser that keeps only what the vault needs: method, target, body and the
// few fields the transport decides on. Beast parses the framing (Content-Length or chunked) and
// holds the body to a limit for both; this class adds a cap on the number of fields and never
// stores the others, so a client cannot make a request cost more memory than its limits.
#pragma once

#include <boost/beast/http/basic_parser.hpp>
#include <cstddef>
#include <string>

namespace chatvault::vault {

struct RequestLimits {
  size_t max_header_bytes = 8 * 1024;
  size_t max_header_fields = 64;
  size_t max_body_bytes = 16 * 1024;
};

class RequestParser final : public boost::beast::http::basic_parser<true> {
 public:
  explicit RequestParser(const RequestLimits& limits);

  const std::string& method() const { return method_; }
  // The target without its query string.
  const std::string& path() const { return path_; }
  std::string& body() { return body_; }
  // Content-Encoding and Transfer-Encoding exactly as sent ("" when absent), all fields of one
  // name joined by ", ".
  const std::string& content_encoding() const { return content_encoding_; }
  const std::string& transfer_encoding() const { return transfer_encoding_; }
  const std::string& authorization() const { return authorization_; }
  const std::string& request_id() const { return request_id_; }
  bool expects_continue() const { return expects_continue_; }
  // The field count went over the limit (reported as error::header_limit).
  bool too_many_fields() const { return too_many_fields_; }

 private:
  using string_view = boost::beast::string_view;
  void on_request_impl(boost::beast::http::verb method, string_view method_str, string_view target,
                       int version, boost::beast::error_code& ec) override;
  void on_response_impl(int, string_view, int, boost::beast::error_code&) override {}
  void on_field_impl(boost::beast::http::field name, string_view name_string, string_view value,
                     boost::beast::error_code& ec) override;
  void on_header_impl(boost::beast::error_code&) override {}
  void on_body_init_impl(boost::optional<std::uint64_t> const& content_length,
                         boost::beast::error_code& ec) override;
  std::size_t on_body_impl(string_view body, boost::beast::error_code& ec) override;
  void on_chunk_header_impl(std::uint64_t, string_view, boost::beast::error_code&) override {}
  std::size_t on_chunk_body_impl(std::uint64_t, string_view body,
                                 boost::beast::error_code& ec) override;
  void on_finish_impl(boost::beast::error_code&) override {}

  const size_t max_fields_;
  size_t fields_ = 0;
  bool too_many_fields_ = false;
  bool expects_continue_ = false;
  std::string method_;
  std::string path_;
  std::string content_encoding_;
  std::string transfer_encoding_;
  std::string authorization_;
  std::string request_id_;
  std::string body_;
};

}  // namespace chatvault::vault

// The vault's server-side TLS settings: TLS 1.2 or newer, the operator's certificate chain and
// key, OpenSSL's buffers released while a connection waits, and a bounded session cache.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <string>

#include "chatvault/common/status.h"

namespace chatvault::vault {

Result<std::unique_ptr<boost::asio::ssl::context>> MakeServerTlsContext(
    const std::string& cert_file, const std::string& key_file);

}  // namespace chatvault::vault

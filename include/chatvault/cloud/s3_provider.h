// S3 and S3-compatible object stores (AWS, MinIO, Ceph, Backblaze B2, Wasabi, ...).
// Location: s3://bucket/optional/prefix
// Credentials and endpoint come from the environment as the AWS tools define them
// (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION or AWS_DEFAULT_REGION,
// AWS_ENDPOINT_URL), else from the shared credentials file (AWS_SHARED_CREDENTIALS_FILE or
// ~/.aws/credentials, profile AWS_PROFILE or "default").
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "chatvault/cloud/retry.h"
#include "chatvault/common/status.h"
#include "chatvault/crypto/secret.h"
#include "chatvault/storage/provider.h"

namespace chatvault::cloud {

enum class S3AddressingStyle {
  kPath,     // https://endpoint/bucket/key  (default for a custom endpoint)
  kVirtual,  // https://bucket.endpoint/key  (default for AWS itself)
};

struct S3Options {
  std::string bucket;
  std::string prefix;      // object names are stored as prefix + "/" + name ("" = bucket root)
  std::string endpoint;    // "https://s3.eu-west-1.amazonaws.com", "http://127.0.0.1:9000"
  std::string region = "us-east-1";
  S3AddressingStyle style = S3AddressingStyle::kPath;
  std::string access_key_id;
  crypto::Secret secret_access_key;
  crypto::Secret session_token;  // empty unless temporary credentials
  // Objects larger than this go up in parts of part_size bytes (S3 needs parts >= 5 MiB).
  uint64_t multipart_threshold = 64ull << 20;
  uint64_t part_size = 16ull << 20;
  // Keys per ListObjectsV2 page (S3's maximum and default is 1000).
  int list_page_size = 1000;
  RetryPolicy retry;
  // Extra "host:port:address" pins (curl's --resolve), for endpoints not in DNS.
  std::vector<std::string> resolve;
};

// Reads everything but bucket/prefix from the environment or the shared credentials file, and
// bucket/prefix from `location` ("s3://bucket/prefix"). Unavailable-free: only parsing happens
// here; the first request is the first network use.
Result<S3Options> S3OptionsFromLocation(std::string_view location);

std::unique_ptr<storage::Provider> OpenS3Provider(S3Options options);

}  // namespace chatvault::cloud

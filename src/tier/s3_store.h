// The cold tier: an S3-compatible object store through libcurl's SigV4 signing
// (CURLOPT_AWS_SIGV4 "aws:amz:REGION:s3"), path-style URLs (http://endpoint/bucket/key).
//
// Debian 12's curl 7.88 needs three things done by hand, all done here: the
// x-amz-content-sha256 header (the body's SHA-256; curl fills it only from 8.0), query
// strings written already canonical (sorted, URI-encoded, `?uploads=`), and no custom
// X-Amz-Date or removed headers (an empty `Expect:` makes 7.88 sign a header it never
// sends). Bodies go through CURLOPT_POSTFIELDS so curl signs the same bytes it sends.
//
// Objects above `multipart_threshold` are uploaded in `part_size` parts (S3's minimum part
// is 5 MiB); a failed multipart upload is aborted. Connection errors, 5xx and 429 are
// retried `max_attempts` times with exponential backoff (base `backoff_ms`, jittered),
// then surfaced with the last status. A 403 SignatureDoesNotMatch / InvalidAccessKeyId
// becomes an error naming the credentials problem and the access key id, never the secret.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "tier/object_store.h"

namespace prescale::tier {

struct S3Options {
  std::string endpoint;  // http://127.0.0.1:9000 (empty: https://s3.REGION.amazonaws.com)
  std::string bucket;
  std::string region;      // empty: $AWS_REGION, $AWS_DEFAULT_REGION, then us-east-1
  std::string access_key;  // empty: $AWS_ACCESS_KEY_ID
  std::string secret_key;  // empty: $AWS_SECRET_ACCESS_KEY
  bool create_bucket = true;
  std::uint64_t multipart_threshold = 16ull << 20;
  std::uint64_t part_size = 8ull << 20;
  int max_attempts = 4;
  int backoff_ms = 100;
  int timeout_ms = 30000;
};

// Fills the empty fields of `o` from the standard AWS_* environment variables
// (AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL for the endpoint).
S3Options with_environment(S3Options o);

// S3's URI encoding (RFC 3986 unreserved kept; '/' kept when `keep_slash`).
std::string uri_encode(const std::string& s, bool keep_slash);

struct S3Counters {
  std::uint64_t requests = 0, retries = 0, multipart_uploads = 0;
};

class S3Store : public ObjectStore {
 public:
  // Checks the options, and with create_bucket makes sure the bucket exists (which also
  // checks the credentials: a wrong secret fails here with a clear error).
  static core::Result<std::unique_ptr<S3Store>> open(const S3Options& options);
  ~S3Store() override;

  core::Status put(const std::string& key, const std::string& data) override;
  core::Result<std::optional<std::string>> get(const std::string& key) override;
  core::Status del(const std::string& key) override;
  core::Result<std::optional<ObjectInfo>> stat(const std::string& key) override;
  core::Result<std::vector<std::string>> list(const std::string& prefix) override;
  std::string describe() const override { return "s3://" + opt_.bucket + " at " + opt_.endpoint; }

  S3Counters counters() const;

  struct Response {
    long status = 0;
    std::string body;
    std::string etag;
    long long content_length = -1;
  };

 private:
  explicit S3Store(S3Options o) : opt_(std::move(o)) {}
  // One signed request with retries. `query` is already canonical ("" or "a=1&b=2").
  core::Result<Response> request(const std::string& method, const std::string& path,
                                 const std::string& query, std::string_view body);
  core::Status put_multipart(const std::string& key, const std::string& data);
  std::string object_path(const std::string& key) const;
  void* take_handle();
  void give_handle(void* h);

  S3Options opt_;
  mutable std::mutex mu_;
  std::vector<void*> handles_;  // idle CURL easy handles (their connections stay warm)
  S3Counters counters_;
};

}  // namespace prescale::tier

// `prescale tier bench`: each tier side by side with its own reference, in the same run,
// as JSON with ratios (docs/benchmarks.md):
//   redis - RedisStore put/get vs `redis-benchmark -t set,get` on the same server, value
//           size, connection count (-c) and no pipelining (-P 1): both sides issue one
//           synchronous request per connection at a time.
//   nvme  - DirStore put (temp file, fdatasync, rename, directory fsync) vs raw sequential
//           appends of the same size with an fdatasync each, in the same directory; also the
//           full TieredStore put (catalog commit, synchronous=FULL) for context.
//   s3    - S3Store put/get against the S3 server (a local S3Proxy unless configured), and
//           one multipart upload.
#pragma once

#include <string>
#include <vector>

#include "core/result.h"

namespace prescale::tier {

struct BenchOptions {
  std::string source_dir;
  std::string redis_url;    // "" = start a local redis-server
  std::string s3_endpoint;  // "" = start a local S3Proxy
  std::string dir = "out/tier-bench";
  std::vector<std::size_t> sizes = {64 << 10, 1 << 20};
  int connections = 1;
  double scale = 1.0;  // multiplies the operation counts
  std::vector<std::string> tiers = {"redis", "nvme", "s3"};
};

// The JSON document.
core::Result<std::string> run_bench(const BenchOptions& options);

}  // namespace prescale::tier

// The configuration of `prescale tier serve|worker|put|get|...` (YAML, docs/tier.md), and
// building a TieredStore from it.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/result.h"
#include "tier/dir_store.h"
#include "tier/redis_store.h"
#include "tier/s3_store.h"
#include "tier/tiered_store.h"

namespace prescale::tier {

struct TierConfig {
  std::string source;  // the file it came from
  TieredOptions store;
  std::string listen = "127.0.0.1";
  int port = 8090;
  int tick_ms = 1000;
  std::string scenario;  // prices from this scenario's tier table ("" = the built-in defaults)

  bool has_redis = false;
  RedisOptions redis;
  std::string redis_password_file;
  std::string adopt_prefix;  // existing Redis keys under this prefix join the catalog

  std::string dir;
  DirSync dir_sync = DirSync::kFull;

  bool has_s3 = false;
  S3Options s3;
  std::string s3_secret_file;

  // serve: the HTTP API's limits (docs/tier.md "HTTP API").
  std::uint64_t max_body_bytes = 64ull << 20;  // larger PUT bodies get 413
  // PUT bodies past this are spooled to a temp file of the directory tier as they arrive, and
  // from there linked into place (or compressed piece by piece): a large body never sits in
  // memory whole. 0 = every body is spooled.
  std::uint64_t body_buffer_bytes = 1ull << 20;
  int http_threads = 32;   // connections served at once (more wait for a thread)
  int http_timeout_s = 5;  // per read/write on a connection; idle keep-alive: 2 s
};

// Strict: unknown keys, wrong types and out-of-range values are errors naming file:line.
// Relative paths are resolved against the file's directory. Secrets come from files or the
// environment (REDIS_PASSWORD, AWS_SECRET_ACCESS_KEY), never from the YAML itself.
core::Result<TierConfig> load_tier_config(const std::string& path);
// The same from the file's text; `path` names it in errors and relative paths in it are
// resolved against path's directory, as if the text had been read from there.
core::Result<TierConfig> parse_tier_config(std::string_view text, const std::string& path);

// Opens the configured tiers and the catalog (no recovery yet).
core::Result<std::unique_ptr<TieredStore>> open_store(const TierConfig& config);

}  // namespace prescale::tier

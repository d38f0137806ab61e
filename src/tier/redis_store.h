// The hot tier: a Redis server through hiredis, one string value per key.
//
// URL: redis://[[user]:password@]host[:port][/db] (defaults 127.0.0.1:6379, db 0). A
// password in the URL is overridden by RedisOptions::password (read from a file or the
// REDIS_PASSWORD environment variable by the caller); it is never logged or described.
// The store keeps one connection, guarded by a mutex; a broken connection is dropped and
// re-established on the next call, and after a failed connect the store fails fast for
// `retry_after_ms` so that a caller falling through to another tier is not slowed down.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "tier/object_store.h"

struct redisContext;

namespace prescale::tier {

struct RedisOptions {
  std::string url = "redis://127.0.0.1:6379";
  std::string password;  // overrides the URL's; empty = the URL's (or none)
  int connect_timeout_ms = 500;
  int command_timeout_ms = 5000;
  int retry_after_ms = 500;
};

struct RedisAddress {
  std::string host = "127.0.0.1";
  int port = 6379;
  int db = 0;
  std::string user, password;
};

// Parses a redis:// URL; the error names what was expected.
core::Result<RedisAddress> parse_redis_url(const std::string& url);

class RedisStore : public ObjectStore, public ForeignKeys {
 public:
  // Parses the URL and connects once (an unreachable server is not an error here: calls
  // fail until it is reachable).
  static core::Result<std::unique_ptr<RedisStore>> open(const RedisOptions& options);
  ~RedisStore() override;

  core::Status put(const std::string& key, const std::string& data) override;
  core::Result<std::optional<std::string>> get(const std::string& key) override;
  core::Status del(const std::string& key) override;
  core::Result<std::optional<ObjectInfo>> stat(const std::string& key) override;
  core::Result<std::vector<std::string>> list(const std::string& prefix) override;
  std::string describe() const override;

  // Adoption of keys other programs wrote (the Spark job's hashes): HGETALL or GET, and RENAME.
  ForeignKeys* foreign_keys() override { return this; }
  core::Result<std::optional<std::map<std::string, std::string>>> read_fields(
      const std::string& key) override;
  core::Result<bool> rename(const std::string& from, const std::string& to) override;

  // Pipelined SETs (benchmarks and bulk loads): all or the first error.
  core::Status put_many(const std::vector<std::pair<std::string, const std::string*>>& items);

 private:
  explicit RedisStore(RedisOptions o, RedisAddress a) : opt_(std::move(o)), addr_(std::move(a)) {}
  core::Status connect_locked();
  // Runs one command (argv form) and returns its reply (freed by the caller through
  // ReplyPtr), reconnecting once on a broken connection.
  struct Reply;
  core::Result<std::unique_ptr<Reply>> command(const std::vector<std::string_view>& argv);

  RedisOptions opt_;
  RedisAddress addr_;
  std::mutex mu_;
  redisContext* ctx_ = nullptr;
  std::chrono::steady_clock::time_point down_until_{};
};

}  // namespace prescale::tier

// The durable catalog of the tiered store (SQLite, WAL mode, synchronous=FULL): where each
// object lives, its size, checksum and access statistics, plus the intents table that
// makes every multi-step change (put, migrate, delete) recoverable after a crash.
//
// Schema (docs/tier.md):
//   objects(key BLOB PRIMARY KEY, version, tier, codec, size, stored_size, sha256,
//           rate, last_access_ms, created_ms, burst)
//   intents(id INTEGER PRIMARY KEY AUTOINCREMENT, kind, key, version, src_tier, dst_tier,
//           created_ms)
//   usage(tier PRIMARY KEY, byte_seconds, puts, gets, deletes)
//   counters(name PRIMARY KEY, value)            -- 'migrations' committed
// An object's physical copy is named (key, version); versions are intent ids, so they
// never repeat. The catalog row is the single truth: a copy that is not the row's
// (version, tier) is garbage, removed through its intent or by the orphan scan.
//
// Why synchronous=FULL: the migration deletes the source copy right after the commit that
// points the row at the destination. Under NORMAL, WAL commits can roll back on power loss
// (not on a process crash), which would resurrect a row pointing at a deleted copy. FULL
// fsyncs the WAL on every commit. Thread-safe (one connection behind a mutex).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"

struct sqlite3;

namespace prescale::tier {

struct ObjectRow {
  std::string key;
  std::int64_t version = 0;
  int tier = 0;   // core::Tier
  int codec = 0;  // tier::Codec
  std::uint64_t size = 0;
  std::uint64_t stored_size = 0;
  std::string sha256;
  double rate = 0;  // decayed access count at last_access_ms (placement.h)
  std::int64_t last_access_ms = 0;
  std::int64_t created_ms = 0;
  bool burst = false;  // written in burst mode, not yet written back
  // A Redis copy is never the only one: while `tier` is Redis (the copy reads go to),
  // `backing` names the durable tier (NVMe or S3) that holds the same version too, with its
  // codec and stored size. -1 = no second copy (then `tier` is NVMe or S3; a Redis row
  // without backing exists only in catalogs written before the second copy was kept).
  int backing = -1;
  int backing_codec = 0;
  std::uint64_t backing_stored_size = 0;

  // True when (version, tier) is a copy this row names (the read copy or the backing one).
  bool holds(std::int64_t v, int t) const { return version == v && (tier == t || backing == t); }
};

enum class IntentKind { kPut = 0, kMigrate = 1, kDrop = 2 };

struct Intent {
  std::int64_t id = 0;
  IntentKind kind = IntentKind::kPut;
  std::string key;
  std::int64_t version = 0;
  int src_tier = -1;  // -1: none
  int dst_tier = -1;
  std::int64_t created_ms = 0;
};

struct TierUsage {
  double byte_seconds = 0;
  std::uint64_t puts = 0, gets = 0, deletes = 0;
  std::uint64_t objects = 0, stored_bytes = 0;  // now (from objects)
};

class Catalog {
 public:
  static core::Result<std::unique_ptr<Catalog>> open(const std::string& path);
  ~Catalog();

  // A put is about to write (key, version = the returned id) into `dst_tier`, and into
  // `cache_tier` too (Redis, or -1).
  core::Result<std::int64_t> begin_put(const std::string& key, int dst_tier, std::int64_t now_ms,
                                       int cache_tier = -1);
  // Points `row.key` at the new copy and retires the put intent in one transaction. The
  // previous copy (if any) becomes a drop intent, returned for the caller to execute. Fails
  // (commits nothing) when the intent is gone: someone else resolved it.
  core::Result<std::optional<Intent>> commit_put(std::int64_t intent_id, const ObjectRow& row);
  // Removes the row; its copy becomes a drop intent (returned), none when absent.
  core::Result<std::optional<Intent>> remove(const std::string& key, std::int64_t now_ms);
  // A migration of (key, version) from src to dst is about to copy.
  core::Result<std::int64_t> begin_migrate(const std::string& key, std::int64_t version, int src,
                                           int dst, std::int64_t now_ms);
  // Moves the row to dst if it still is (version, src) without a backing copy. A move into
  // Redis keeps the source as the backing copy (the intent is retired, nothing to drop);
  // any other move turns the intent into a drop of the source. When the row changed
  // meanwhile the intent becomes a drop of the destination copy.
  struct Migrated {
    bool moved = false;
    std::optional<Intent> drop;  // to execute (run_drop), if any
  };
  core::Result<Migrated> commit_migrate(std::int64_t intent_id, int codec,
                                        std::uint64_t stored_size);
  // Points a (version) row read from Redis back at its backing copy and returns the drop of
  // the Redis copy; empty when the row is no longer (version, Redis with a backing).
  core::Result<std::optional<Intent>> uncache(const std::string& key, std::int64_t version,
                                              std::int64_t now_ms);
  core::Status clear_intent(std::int64_t id);
  // Migrations committed since the catalog was created (counted in the commit itself).
  core::Result<std::uint64_t> migrations();
  core::Result<std::vector<Intent>> intents();

  core::Result<std::optional<ObjectRow>> get(const std::string& key);
  // Rows whose key starts with `prefix`, ordered by key.
  core::Result<std::vector<ObjectRow>> list(const std::string& prefix);
  // Stores the in-memory access statistics (one transaction).
  struct Access {
    std::string key;
    double rate;
    std::int64_t last_access_ms;
  };
  core::Status record_access(const std::vector<Access>& accesses);
  core::Status clear_burst(const std::string& key, std::int64_t version);

  // Adds request counts and resident byte-seconds (bytes now x dt) to the usage table.
  core::Status add_usage(const std::vector<TierUsage>& delta, double dt_s);
  core::Result<std::vector<TierUsage>> usage();

 private:
  explicit Catalog(sqlite3* db) : db_(db) {}
  core::Status exec(const char* sql);
  core::Result<std::optional<ObjectRow>> get_locked(const std::string& key);
  core::Result<std::optional<Intent>> intent_locked(std::int64_t id);

  std::mutex mu_;
  sqlite3* db_;
};

}  // namespace prescale::tier

// TieredStore: one ObjectStore over three tiers (Redis hot, a directory warm, S3 cold) with
// a durable catalog, temperature-driven placement, burst mode, per-tier compression, and a
// migration protocol that survives a crash at any point (docs/tier.md has the argument).
//
// Physical copies are named  key_prefix + key + "@" + version  in every tier; the catalog
// row of a key names the one live (version, tier). Every change follows
//   write intent -> write/copy (and verify) -> commit the catalog -> delete the loser ->
//   clear the intent
// and recover() resolves leftover intents by the catalog (keep the copy the row names,
// delete the others), then removes orphans (copies no row names) from every tier.
//
// Thread-safety: put/get/del/stat/list may be called from many threads while one thread
// calls tick() (the migrator). Time comes from options.clock (tests inject one).
#pragma once

#include <array>
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>

#include "sim/scenario.h"
#include "tier/body.h"
#include "tier/catalog.h"
#include "tier/codec.h"
#include "tier/object_store.h"
#include "tier/placement.h"

namespace prescale::tier {

struct TieredOptions {
  std::string catalog_path;
  std::string key_prefix = "pt/";  // physical names start with this in every tier
  Temperature temperature;
  PlacementRules rules;
  int write_tier = kDir;  // where ordinary writes land (burst mode: Redis)
  std::array<Codec, 3> codecs{Codec::kNone, Codec::kNone, Codec::kZstd};
  bool verify_reads = true;               // check SHA-256 on every get
  int max_moves_per_tick = 64;            // migrations per tick() at most
  std::int64_t stale_intent_ms = 60'000;  // tick() resolves older intents nobody owns
  // tick() deletes orphan copies (no row names them, no pending intent covers them) this often;
  // recover() does at start. 0 = only at start.
  std::int64_t orphan_sweep_ms = 600'000;
  // Prices per tier (GB-hour, per-1000 requests): the simulator's table (sim::TierSpec).
  std::array<sim::TierSpec, 3> prices = sim::default_scenario().shuffle.tiers;
  std::function<std::int64_t()> clock;  // ms; default: the system clock
  // Redis keys under this prefix written by other programs (the Spark job's hashes
  // prescale:hot:agg:SENSOR:WINDOW_START_MS) are adopted by tick(): stored as objects of the
  // same name (a hash becomes a JSON object of its fields) and removed from Redis. "" = off.
  std::string adopt_prefix;
  // Called at named points of the protocol (crash tests kill the process there).
  std::function<void(const char* point)> crash_hook;
};

struct RecoveryReport {
  int intents = 0;         // pending intents resolved
  int copies_deleted = 0;  // by those intents
  int orphans = 0;         // copies no catalog row names, deleted
  int temp_files = 0;      // directory temp files deleted
};

struct TickReport {
  int moves = 0, failed = 0, demotions = 0, promotions = 0, adopted = 0;
  int orphans = 0;  // deleted by this tick's sweep
  std::string last_error;
};

struct TierStats {
  std::uint64_t objects = 0, stored_bytes = 0, puts = 0, gets = 0, deletes = 0;
  double gb_hours = 0, cost_usd = 0;
  bool configured = false;
};

struct StoreStats {
  std::array<TierStats, 3> tiers;
  std::uint64_t migrations = 0;       // committed, ever (durable, from the catalog)
  std::uint64_t migrations_here = 0;  // committed by this process
  std::uint64_t fallthroughs = 0, migration_failures = 0, checksum_failures = 0;
  std::uint64_t cache_fallbacks = 0;  // reads served by the backing copy (Redis copy gone/down)
  bool burst = false;
  double cost_usd = 0;
  std::string to_json() const;
  std::string prometheus() const;
};

class TieredStore : public ObjectStore {
 public:
  // `tiers[i]` may be null (tier i not configured); the directory tier is required.
  static core::Result<std::unique_ptr<TieredStore>> open(
      TieredOptions options, std::array<std::unique_ptr<ObjectStore>, 3> tiers);

  // The key check of every call: check_key() and at most kMaxKeyEscaped bytes once escaped
  // for a file name (DirStore::encode_name), so that every tier can hold every key.
  static core::Status check_object_key(const std::string& key);

  core::Status put(const std::string& key, const std::string& data) override;
  // put() of a body as it was received (new_body()): a spooled one is linked into the
  // directory tier, or compressed piece by piece, never read into memory whole (except for a
  // Redis copy in burst mode, which Redis holds in memory anyway, and by the lz4 codec).
  core::Status put(const std::string& key, const Body& body);
  // A body for put(): kept in memory up to `memory_limit` bytes, then spooled to a temp file
  // of the directory tier.
  std::unique_ptr<Body> new_body(std::uint64_t memory_limit);
  core::Result<std::optional<std::string>> get(const std::string& key) override;
  // get() in pieces, as they are read and decompressed (memory: a piece, except for Redis
  // copies and lz4, which are whole); false when there is no such object. The last piece is
  // handed on only once the copy's checksum holds: an error after some pieces means the
  // reader must drop what it got (the HTTP API then cuts the connection).
  core::Result<bool> get_to(const std::string& key, const PieceSink& sink);
  core::Status del(const std::string& key) override;
  // size = the object's raw size.
  core::Result<std::optional<ObjectInfo>> stat(const std::string& key) override;
  core::Result<std::vector<std::string>> list(const std::string& prefix) override;
  std::string describe() const override { return "tiered:" + opt_.catalog_path; }

  core::Result<std::optional<ObjectRow>> row(const std::string& key) { return catalog_->get(key); }
  core::Result<std::vector<ObjectRow>> rows(const std::string& prefix) {
    return catalog_->list(prefix);
  }

  // Resolves pending intents and removes orphans. Call once at start, before serving.
  core::Result<RecoveryReport> recover();
  // Counts copies in the tiers that no catalog row names (nothing is deleted).
  core::Result<int> count_orphans();
  // One migrator step: store access statistics and usage, resolve stale intents, sweep
  // orphans (every orphan_sweep_ms), adopt, place, migrate.
  core::Result<TickReport> tick();
  // Only the first part of tick(): store access statistics and request counters, and with
  // `residency` the resident byte-seconds since the last call (only the long-running
  // migrator process should account residency; a one-shot command passes false).
  core::Status tick_access_only(bool residency = true);
  // Adopts the Redis keys under options.adopt_prefix (tick() calls it); returns how many.
  core::Result<int> adopt();
  // Moves one object now (tests, `tier` commands). Returns false if it changed meanwhile.
  core::Result<bool> migrate(const std::string& key, int dst);

  void set_burst(bool on) { burst_ = on; }
  bool burst() const { return burst_; }
  StoreStats stats();
  ObjectStore* tier(int t) { return tiers_[static_cast<size_t>(t)].get(); }
  const TieredOptions& options() const { return opt_; }

  std::string physical(const std::string& key, std::int64_t version) const;
  // Inverse of physical(); false for foreign names.
  bool parse_physical(const std::string& name, std::string* key, std::int64_t* version) const;

 private:
  TieredStore(TieredOptions o, std::unique_ptr<Catalog> c,
              std::array<std::unique_ptr<ObjectStore>, 3> t);
  std::int64_t now() const { return opt_.clock(); }
  void hit(const char* point) {
    if (opt_.crash_hook) opt_.crash_hook(point);
  }
  core::Status put_into(int tier, const std::string& key, const Body& body, bool cache);
  // Streams the copy of `r` in `tier` (stored with `codec`) to `sink`, decompressed, holding
  // back the last piece (`hold_all`: every piece) until the SHA-256 of all is checked, so a
  // reader never gets the whole of a corrupt copy. False when the copy is absent (nothing
  // handed on). `corrupt` tells a bad checksum or codec frame from an unreachable tier or a
  // failing sink; `sent`, whether any byte reached the sink.
  core::Result<bool> stream_copy(const ObjectRow& r, int tier, int codec, bool hold_all,
                                 const PieceSink& sink, bool* corrupt, bool* sent);
  core::Status run_drop(const Intent& drop);
  // Copies no row names in any tier (skip_pending: nor a pending intent); `remove` deletes them.
  core::Result<int> orphans(bool remove, bool skip_pending);
  core::Status resolve(const Intent& intent, int* deleted);
  void note_access(const std::string& key, double count, std::int64_t last);
  enum class Request { kPut, kGet, kDelete };  // what a tier is billed per request for
  void count(int tier, Request request);
  PlacementRules rules() const;

  TieredOptions opt_;
  std::unique_ptr<Catalog> catalog_;
  std::array<std::unique_ptr<ObjectStore>, 3> tiers_;
  std::atomic<bool> burst_{false};

  std::mutex mu_;                                              // guards the fields below
  std::unordered_map<std::string, Catalog::Access> accesses_;  // not yet stored
  std::array<TierUsage, 3> pending_usage_{};
  std::set<std::int64_t> in_flight_;  // intents owned by a running call
  std::int64_t last_usage_ms_ = 0;
  std::int64_t last_sweep_ms_ = 0;  // tick() and recover() only (one thread)
  std::uint64_t fallthroughs_ = 0, migrations_ = 0, migration_failures_ = 0, bad_checksums_ = 0;
  std::uint64_t cache_fallbacks_ = 0;
};

}  // namespace prescale::tier

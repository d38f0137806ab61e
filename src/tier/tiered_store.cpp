#include "tier/tiered_store.h"

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "core/prometheus.h"
#include "tier/dir_store.h"

namespace prescale::tier {

namespace {

const char* kTierNames[3] = {"redis", "nvme", "s3"};

using core::wall_ms;

// Marks an intent as owned by the running call for its lifetime.
class Owned {
 public:
  Owned(std::mutex& mu, std::set<std::int64_t>& set, std::int64_t id)
      : mu_(mu), set_(set), id_(id) {
    std::lock_guard<std::mutex> lock(mu_);
    set_.insert(id_);
  }
  ~Owned() {
    std::lock_guard<std::mutex> lock(mu_);
    set_.erase(id_);
  }

 private:
  std::mutex& mu_;
  std::set<std::int64_t>& set_;
  std::int64_t id_;
};

}  // namespace

TieredStore::TieredStore(TieredOptions o, std::unique_ptr<Catalog> c,
                         std::array<std::unique_ptr<ObjectStore>, 3> t)
    : opt_(std::move(o)), catalog_(std::move(c)), tiers_(std::move(t)) {
  if (!opt_.clock) opt_.clock = wall_ms;
  for (size_t i = 0; i < 3; ++i) opt_.rules.configured[i] = tiers_[i] != nullptr;
  last_usage_ms_ = opt_.clock();
  last_sweep_ms_ = last_usage_ms_;
}

core::Result<std::unique_ptr<TieredStore>> TieredStore::open(
    TieredOptions options, std::array<std::unique_ptr<ObjectStore>, 3> tiers) {
  if (!tiers[kDir]) return core::Error{"tier: the directory (nvme) tier is required"};
  if (options.catalog_path.empty()) return core::Error{"tier: catalog: expected a file path"};
  auto cat = Catalog::open(options.catalog_path);
  if (!cat.ok()) return cat.error();
  return std::unique_ptr<TieredStore>(
      new TieredStore(std::move(options), std::move(*cat), std::move(tiers)));
}

std::string TieredStore::physical(const std::string& key, std::int64_t version) const {
  return opt_.key_prefix + key + "@" + std::to_string(version);
}

bool TieredStore::parse_physical(const std::string& name, std::string* key,
                                 std::int64_t* version) const {
  if (name.compare(0, opt_.key_prefix.size(), opt_.key_prefix) != 0) return false;
  const auto at = name.rfind('@');
  if (at == std::string::npos || at < opt_.key_prefix.size() || at + 1 >= name.size()) return false;
  std::int64_t v = 0;
  for (size_t i = at + 1; i < name.size(); ++i) {
    if (name[i] < '0' || name[i] > '9') return false;
    v = v * 10 + (name[i] - '0');
  }
  *key = name.substr(opt_.key_prefix.size(), at - opt_.key_prefix.size());
  *version = v;
  return true;
}

PlacementRules TieredStore::rules() const {
  PlacementRules r = opt_.rules;
  r.burst = burst_;
  return r;
}

void TieredStore::count(int tier, Request request) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& u = pending_usage_[static_cast<size_t>(tier)];
  switch (request) {
    case Request::kPut:
      ++u.puts;
      break;
    case Request::kGet:
      ++u.gets;
      break;
    case Request::kDelete:
      ++u.deletes;
      break;
  }
}

void TieredStore::note_access(const std::string& key, double count, std::int64_t last) {
  std::lock_guard<std::mutex> lock(mu_);
  accesses_[key] = Catalog::Access{key, count, last};
}

core::Status TieredStore::check_object_key(const std::string& key) {
  if (auto st = check_key(key); !st.ok()) return st;
  const size_t escaped = DirStore::encode_name(key).size();
  if (escaped > kMaxKeyEscaped)
    return core::Error{"key: expected at most " + std::to_string(kMaxKeyEscaped) +
                       " bytes once escaped for a file name (each byte outside [A-Za-z0-9_.-] "
                       "takes 3); this key takes " +
                       std::to_string(escaped)};
  return core::Status::Ok();
}

namespace {

// Writes a spooled body as `codec` stores it: linked into place when the store can and the
// codec keeps the bytes as they are, else read back and compressed piece by piece (memory:
// a piece, unless the store gathers them: Redis, S3; or the codec does: lz4).
core::Status write_spooled(ObjectStore* s, const std::string& name, Codec codec, const Body& body,
                           std::uint64_t* stored_size) {
  if (codec == Codec::kNone) {
    auto linked = s->put_fresh_link(name, body.spool_path());
    if (!linked.ok()) return linked.error();
    if (*linked) {
      *stored_size = body.size();
      return core::Status::Ok();
    }
  }
  return s->put_fresh_pieces(name, [&](const PieceSink& sink) {
    StreamCompressor c(codec, body.size(), sink);
    auto st = body.read([&c](std::string_view piece) { return c.update(piece); });
    if (st.ok()) st = c.finish();
    *stored_size = c.stored_bytes();
    return st;
  });
}

// Writes `body` as `codec` stores it under `name` in `s`; `stored` keeps the compressed bytes
// of an in-memory body (for a second copy with the same codec).
core::Status write_body(ObjectStore* s, const std::string& name, Codec codec, const Body& body,
                        std::string* stored, std::uint64_t* stored_size) {
  if (body.spooled()) return write_spooled(s, name, codec, body, stored_size);
  *stored = compress(codec, body.memory());
  *stored_size = stored->size();
  return s->put_fresh(name, *stored);
}

}  // namespace

core::Status TieredStore::put_into(int tier, const std::string& key, const Body& body, bool cache) {
  const std::int64_t t = now();
  auto id = catalog_->begin_put(key, tier, t, cache ? kRedis : -1);
  if (!id.ok()) return id.error();
  Owned own(mu_, in_flight_, *id);
  hit("put:intent");
  const Codec codec = opt_.codecs[static_cast<size_t>(tier)];
  const std::string name = physical(key, *id);
  std::string stored;
  std::uint64_t stored_size = 0;
  auto st =
      write_body(tiers_[static_cast<size_t>(tier)].get(), name, codec, body, &stored, &stored_size);
  if (!st.ok()) {
    // The copy may or may not exist: delete it; if that fails too the intent stays and
    // recovery (or a later tick) deletes it.
    if (tiers_[static_cast<size_t>(tier)]->del(name).ok()) (void)catalog_->clear_intent(*id);
    return st;
  }
  count(tier, Request::kPut);
  hit("put:written");
  ObjectRow row;
  row.key = key;
  row.version = *id;
  row.tier = tier;
  row.codec = static_cast<int>(codec);
  row.size = body.size();
  row.stored_size = stored_size;
  if (cache) {
    // The hot copy for reads, next to the durable one just written: losing it (a Redis
    // restart) costs a slower read, never the object.
    const Codec rc = opt_.codecs[kRedis];
    std::uint64_t hot_size = stored_size;
    core::Status hot = core::Status::Ok();
    if (rc == codec && !body.spooled()) {
      hot = tiers_[kRedis]->put_fresh(name, stored);
    } else {
      std::string unused;
      hot = write_body(tiers_[kRedis].get(), name, rc, body, &unused, &hot_size);
    }
    if (hot.ok()) {
      count(kRedis, Request::kPut);
      hit("put:cached");
      row.backing = tier;
      row.backing_codec = row.codec;
      row.backing_stored_size = row.stored_size;
      row.tier = kRedis;
      row.codec = static_cast<int>(rc);
      row.stored_size = hot_size;
    } else {
      (void)tiers_[kRedis]->del(name);  // else the intent (or the orphan scan) removes it
      std::lock_guard<std::mutex> lock(mu_);
      ++fallthroughs_;
    }
  }
  row.sha256 = body.sha256();
  auto old = catalog_->get(key);
  row.rate = opt_.temperature.on_access(old.ok() && *old ? (*old)->rate : 0.0,
                                        old.ok() && *old ? (*old)->last_access_ms : t, t);
  row.last_access_ms = t;
  row.created_ms = t;
  row.burst = burst_ && row.tier == kRedis;
  auto drop = catalog_->commit_put(*id, row);
  if (!drop.ok()) return drop.error();
  hit("put:committed");
  if (*drop) return run_drop(**drop);
  return core::Status::Ok();
}

core::Status TieredStore::run_drop(const Intent& drop) {
  Owned own(mu_, in_flight_, drop.id);
  for (int t : {drop.src_tier, drop.dst_tier}) {
    if (t < 0 || t > 2) continue;
    ObjectStore* s = tiers_[static_cast<size_t>(t)].get();
    if (!s) continue;
    auto st = s->del(physical(drop.key, drop.version));
    if (!st.ok()) return core::Status::Ok();  // the intent stays; recovery finishes it
    count(t, Request::kDelete);
  }
  hit("drop:deleted");
  return catalog_->clear_intent(drop.id);
}

core::Status TieredStore::put(const std::string& key, const std::string& data) {
  const Body body(data);
  return put(key, body);
}

std::unique_ptr<Body> TieredStore::new_body(std::uint64_t memory_limit) {
  return std::make_unique<Body>(tiers_[kDir] ? tiers_[kDir]->temp_path() : "", memory_limit);
}

core::Status TieredStore::put(const std::string& key, const Body& body) {
  if (auto st = check_object_key(key); !st.ok()) return st;
  if (!body.finished()) return core::Error{"put " + key + ": the body is not finished"};
  const PlacementRules r = rules();
  int tier = write_tier(r, opt_.write_tier);
  // Writes meant for Redis (burst mode, write_tier: redis) land on the first durable tier
  // and get a Redis copy on top: a Redis copy is never an object's only copy.
  const bool cache = tier == kRedis;
  if (cache) tier = kDir;
  std::string errors;
  for (; tier <= kS3; ++tier) {
    if (!tiers_[static_cast<size_t>(tier)]) continue;
    auto st = put_into(tier, key, body, cache);
    if (st.ok()) return st;
    errors += (errors.empty() ? "" : "; ") + st.message();
    std::lock_guard<std::mutex> lock(mu_);
    ++fallthroughs_;
  }
  return core::Error{"put " + key + ": every tier failed: " + errors};
}

core::Result<bool> TieredStore::stream_copy(const ObjectRow& r, int tier, int codec, bool hold_all,
                                            const PieceSink& sink, bool* corrupt, bool* sent) {
  *corrupt = false;
  ObjectStore* s = tiers_[static_cast<size_t>(tier)].get();
  if (!s)
    return core::Error{"get " + r.key + ": lives in the unconfigured tier " + kTierNames[tier]};
  Sha256 hash;
  std::string held;  // not yet handed on: the newest piece, or everything with hold_all
  bool sink_failed = false;
  auto hand_on = [&]() -> core::Status {
    if (held.empty()) return core::Status::Ok();
    *sent = true;
    auto st = sink(held);
    held.clear();
    sink_failed = !st.ok();
    return st;
  };
  StreamDecompressor raw(static_cast<Codec>(codec), r.size, [&](std::string_view piece) {
    hash.update(piece);
    if (!hold_all)
      if (auto st = hand_on(); !st.ok()) return st;
    held.append(piece);
    return core::Status::Ok();
  });
  bool codec_failed = false;
  auto found = s->get_pieces(physical(r.key, r.version), [&](std::string_view stored) {
    auto st = raw.update(stored);
    codec_failed = !st.ok() && !sink_failed;
    return st;
  });
  // A failure of the decompressor (not of the tier or the reader) is a corrupt copy.
  auto failed = [&](const std::string& what, bool bad_copy) {
    *corrupt = bad_copy && !sink_failed;
    return core::Error{"get " + r.key + ": " + what};
  };
  if (!found.ok()) return failed(found.error().message, codec_failed);
  if (!*found) return false;
  count(tier, Request::kGet);
  if (auto st = raw.finish(); !st.ok()) return failed(st.message(), true);
  if (opt_.verify_reads && hash.hex() != r.sha256) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++bad_checksums_;
    }
    return failed(std::string("checksum mismatch in ") + kTierNames[tier] + " (corrupt copy)",
                  true);
  }
  if (auto st = hand_on(); !st.ok()) return st.error();
  return true;
}

core::Result<std::optional<std::string>> TieredStore::get(const std::string& key) {
  std::string out;
  auto found = get_to(key, [&out](std::string_view piece) {
    out.append(piece);
    return core::Status::Ok();
  });
  if (!found.ok()) return found.error();
  if (!*found) return std::optional<std::string>();
  return std::optional<std::string>(std::move(out));
}

core::Result<bool> TieredStore::get_to(const std::string& key, const PieceSink& sink) {
  if (auto st = check_object_key(key); !st.ok()) return st.error();
  // A concurrent migration may delete the copy between reading the row and the copy:
  // read the row again then.
  for (int attempt = 0; attempt < 4; ++attempt) {
    auto row = catalog_->get(key);
    if (!row.ok()) return row.error();
    if (!*row) return false;
    const ObjectRow& r = **row;
    const bool cached = r.tier == kRedis && r.backing >= 0;
    bool corrupt = false, sent = false;
    // A Redis copy is held whole until verified (Redis hands it over whole anyway), so that a
    // bad one can still be answered from the backing copy.
    auto found = stream_copy(r, r.tier, r.codec, cached, sink, &corrupt, &sent);
    if (cached && !sent && (!found.ok() || !*found)) {
      // The Redis copy is gone (Redis restarted without it), corrupt, or Redis is down: the
      // backing copy has the same bytes. A lost or corrupt Redis copy is given up (the row
      // points at the backing copy again; the migrator promotes the object anew if it stays
      // hot); while Redis is merely unreachable the row is left alone.
      const bool lost = (found.ok() && !*found) || corrupt;
      bool backing_corrupt = false;
      found = stream_copy(r, r.backing, r.backing_codec, false, sink, &backing_corrupt, &sent);
      {
        std::lock_guard<std::mutex> lock(mu_);
        ++cache_fallbacks_;
      }
      if (lost && found.ok() && *found) {
        auto drop = catalog_->uncache(key, r.version, now());
        if (drop.ok() && *drop) (void)run_drop(**drop);
      }
    }
    if (!found.ok()) return found.error();
    if (!*found) continue;  // nothing was handed on
    const std::int64_t t = now();
    double c = r.rate;
    std::int64_t last = r.last_access_ms;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = accesses_.find(key);
      if (it != accesses_.end()) {
        c = it->second.rate;
        last = it->second.last_access_ms;
      }
    }
    note_access(key, opt_.temperature.on_access(c, last, t), t);
    return true;
  }
  return core::Error{"get " + key + ": the catalog names a copy that is missing (lost)"};
}

core::Status TieredStore::del(const std::string& key) {
  if (auto st = check_object_key(key); !st.ok()) return st;
  auto drop = catalog_->remove(key, now());
  if (!drop.ok()) return drop.error();
  if (*drop) return run_drop(**drop);
  return core::Status::Ok();
}

core::Result<std::optional<ObjectInfo>> TieredStore::stat(const std::string& key) {
  auto row = catalog_->get(key);
  if (!row.ok()) return row.error();
  if (!*row) return std::optional<ObjectInfo>();
  return std::optional<ObjectInfo>(ObjectInfo{key, (*row)->size});
}

core::Result<std::vector<std::string>> TieredStore::list(const std::string& prefix) {
  auto rows = catalog_->list(prefix);
  if (!rows.ok()) return rows.error();
  std::vector<std::string> out;
  for (auto& r : *rows) out.push_back(std::move(r.key));
  return out;
}

core::Result<bool> TieredStore::migrate(const std::string& key, int dst) {
  auto row = catalog_->get(key);
  if (!row.ok()) return row.error();
  if (!*row || (*row)->tier == dst) return false;
  const ObjectRow r = **row;
  if (r.tier == kRedis && r.backing >= 0) {
    // Leaving Redis: point the row back at the backing copy and drop the Redis one; no copy.
    auto drop = catalog_->uncache(key, r.version, now());
    if (!drop.ok()) return drop.error();
    if (!*drop) return false;  // changed meanwhile
    hit("uncache:committed");
    (void)run_drop(**drop);  // a failed delete leaves the intent for recovery
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++migrations_;
    }
    if (dst == r.backing) return true;
    auto m = migrate(key, dst);  // now an ordinary move out of the backing tier
    if (!m.ok()) return m.error();
    return true;
  }
  ObjectStore* from = tiers_[static_cast<size_t>(r.tier)].get();
  ObjectStore* to = tiers_[static_cast<size_t>(dst)].get();
  if (!from || !to) return core::Error{"migrate " + key + ": tier not configured"};
  auto id = catalog_->begin_migrate(key, r.version, r.tier, dst, now());
  if (!id.ok()) return id.error();
  Owned own(mu_, in_flight_, *id);
  hit("migrate:intent");
  const std::string name = physical(key, r.version);
  auto fail = [&](const std::string& why) -> core::Result<bool> {
    // Undo the copy; the row still names the source, so this is safe. A failed delete
    // leaves the intent for recovery.
    std::lock_guard<std::mutex> lock(mu_);
    ++migration_failures_;
    return core::Error{"migrate " + key + " " + kTierNames[r.tier] + "->" + kTierNames[dst] + ": " +
                       why};
  };
  auto undo = [&] {
    if (to->del(name).ok()) (void)catalog_->clear_intent(*id);
  };
  auto src = from->get(name);
  if (!src.ok()) {
    undo();
    return fail(src.error().message);
  }
  count(r.tier, Request::kGet);
  if (!*src) {  // superseded or deleted meanwhile
    undo();
    return false;
  }
  auto raw = decompress(static_cast<Codec>(r.codec), **src, r.size);
  if (!raw.ok() || sha256_hex(*raw) != r.sha256) {
    undo();
    std::lock_guard<std::mutex> lock(mu_);
    ++bad_checksums_;
    return core::Error{"migrate " + key + ": the source copy fails its checksum"};
  }
  const Codec codec = opt_.codecs[static_cast<size_t>(dst)];
  const std::string stored = compress(codec, *raw);
  if (auto st = to->put_fresh(name, stored); !st.ok()) {
    undo();
    return fail(st.message());
  }
  count(dst, Request::kPut);
  hit("migrate:copied");
  // Verify by reading the copy back.
  auto back = to->get(name);
  if (!back.ok() || !*back) {
    undo();
    return fail(back.ok() ? "the copy is missing on read-back" : back.error().message);
  }
  count(dst, Request::kGet);
  auto back_raw = decompress(codec, **back, r.size);
  if (!back_raw.ok() || sha256_hex(*back_raw) != r.sha256) {
    undo();
    return fail("the copy fails its checksum on read-back");
  }
  hit("migrate:verified");
  auto moved = catalog_->commit_migrate(*id, static_cast<int>(codec), stored.size());
  if (!moved.ok()) return moved.error();
  hit("migrate:committed");
  // The drop names the loser: the source if moved (none when Redis got a copy: the source
  // stays as its backing), else the copy just made.
  if (moved->drop)
    if (auto st = run_drop(*moved->drop); !st.ok()) return st.error();
  if (moved->moved) {
    std::lock_guard<std::mutex> lock(mu_);
    ++migrations_;
  }
  return moved->moved;
}

core::Status TieredStore::resolve(const Intent& in, int* deleted) {
  auto row = catalog_->get(in.key);
  if (!row.ok()) return row.error();
  for (int t : {in.src_tier, in.dst_tier}) {
    if (t < 0 || t > 2 || !tiers_[static_cast<size_t>(t)]) continue;
    const bool live = *row && (*row)->holds(in.version, t);
    if (live) continue;
    auto st = tiers_[static_cast<size_t>(t)]->del(physical(in.key, in.version));
    if (!st.ok())
      return core::Error{"recovery of intent " + std::to_string(in.id) + ": " + st.message()};
    ++*deleted;
  }
  return catalog_->clear_intent(in.id);
}

core::Result<int> TieredStore::orphans(bool remove, bool skip_pending) {
  int n = 0;
  for (int t = 0; t < 3; ++t) {
    ObjectStore* s = tiers_[static_cast<size_t>(t)].get();
    if (!s) continue;
    auto names = s->list(opt_.key_prefix);
    if (!names.ok()) return names.error();
    // Read after the listing: a copy listed while its put or migration was under way has an
    // intent now, or is named by a row (or was deleted by its own call) by now.
    std::set<std::pair<std::string, std::int64_t>> pending;
    if (skip_pending) {
      auto intents = catalog_->intents();
      if (!intents.ok()) return intents.error();
      for (const auto& in : *intents) pending.emplace(in.key, in.version);
    }
    for (const auto& name : *names) {
      std::string key;
      std::int64_t v = 0;
      if (!parse_physical(name, &key, &v)) continue;
      auto row = catalog_->get(key);
      if (!row.ok()) return row.error();
      if (*row && (*row)->holds(v, t)) continue;
      if (pending.count({key, v})) continue;
      if (remove)
        if (auto st = s->del(name); !st.ok()) return st.error();
      ++n;
    }
  }
  return n;
}

core::Result<int> TieredStore::count_orphans() { return orphans(false, false); }

core::Result<RecoveryReport> TieredStore::recover() {
  RecoveryReport rep;
  auto intents = catalog_->intents();
  if (!intents.ok()) return intents.error();
  for (const auto& in : *intents) {
    if (auto st = resolve(in, &rep.copies_deleted); !st.ok()) return st.error();
    ++rep.intents;
  }
  auto swept = orphans(true, false);
  if (!swept.ok()) return swept.error();
  rep.orphans = *swept;
  auto temps = tiers_[kDir]->remove_temp_files();
  if (temps.ok()) rep.temp_files = *temps;
  last_sweep_ms_ = now();
  return rep;
}

core::Status TieredStore::tick_access_only(bool residency) {
  const std::int64_t t = now();
  std::vector<Catalog::Access> acc;
  std::vector<TierUsage> usage;
  double dt_s = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [k, a] : accesses_) acc.push_back(a);
    accesses_.clear();
    usage.assign(pending_usage_.begin(), pending_usage_.end());
    pending_usage_ = {};
    dt_s = static_cast<double>(t - last_usage_ms_) / 1000.0;
    last_usage_ms_ = t;
  }
  if (auto st = catalog_->record_access(acc); !st.ok()) return st;
  return catalog_->add_usage(usage, residency ? std::max(0.0, dt_s) : 0.0);
}

core::Result<TickReport> TieredStore::tick() {
  TickReport rep;
  const std::int64_t t = now();
  // 1. Store the access statistics and the usage counters gathered since the last tick.
  if (auto st = tick_access_only(); !st.ok()) return st.error();
  // 2. Intents older than stale_intent_ms that no running call owns (a failed cleanup).
  auto intents = catalog_->intents();
  if (!intents.ok()) return intents.error();
  for (const auto& in : *intents) {
    bool owned;
    {
      std::lock_guard<std::mutex> lock(mu_);
      owned = in_flight_.count(in.id) > 0;
    }
    if (owned || t - in.created_ms < opt_.stale_intent_ms) continue;
    int deleted = 0;
    (void)resolve(in, &deleted);
  }
  // 3. Every orphan_sweep_ms: copies no row names and no pending intent covers (a write that
  // landed after its intent was resolved, e.g. an S3 PUT finished by the server after the
  // client died), which recovery would otherwise only find at the next start.
  if (opt_.orphan_sweep_ms > 0 && t - last_sweep_ms_ >= opt_.orphan_sweep_ms) {
    last_sweep_ms_ = t;
    auto n = orphans(true, true);
    if (n.ok())
      rep.orphans = *n;
    else
      rep.last_error = n.error().message;
  }
  // 4. Adopt keys other programs wrote under adopt_prefix.
  if (!opt_.adopt_prefix.empty()) {
    auto n = adopt();
    if (n.ok())
      rep.adopted = *n;
    else
      rep.last_error = n.error().message;
  }
  // 5. Place and migrate: demotions first (they free the budgets), coldest first.
  auto rows = catalog_->list("");
  if (!rows.ok()) return rows.error();
  std::vector<Candidate> cands;
  cands.reserve(rows->size());
  for (const auto& r : *rows)
    cands.push_back(Candidate{r.key, r.tier, r.size,
                              opt_.temperature.per_hour(r.rate, r.last_access_ms, t), r.burst,
                              r.backing});
  const std::vector<int> target = place(cands, rules());
  std::vector<size_t> moves;
  for (size_t i = 0; i < cands.size(); ++i)
    if (target[i] != cands[i].tier) moves.push_back(i);
  std::stable_sort(moves.begin(), moves.end(), [&](size_t a, size_t b) {
    const bool da = target[a] > cands[a].tier, db = target[b] > cands[b].tier;
    if (da != db) return da;
    return da ? cands[a].per_hour < cands[b].per_hour : cands[a].per_hour > cands[b].per_hour;
  });
  for (size_t i : moves) {
    if (rep.moves + rep.failed >= opt_.max_moves_per_tick) break;
    auto m = migrate(cands[i].key, target[i]);
    if (!m.ok()) {
      ++rep.failed;
      rep.last_error = m.error().message;
      continue;
    }
    if (*m) {
      ++rep.moves;
      (target[i] > cands[i].tier ? rep.demotions : rep.promotions)++;
    }
  }
  return rep;
}

// Adoption, crash-safe without an intent: RENAME the foreign key to a claim name outside
// the prefix (atomic; a later write by its owner creates a fresh key, adopted next time),
// put its content, then DEL the claim. Claims left by a crash are finished first; putting
// the same content twice only makes a new version of the same bytes.
core::Result<int> TieredStore::adopt() {
  ObjectStore* redis = tiers_[kRedis].get();
  ForeignKeys* foreign = redis ? redis->foreign_keys() : nullptr;
  if (!foreign) return 0;
  const std::string claims = "tier-adopting:" + opt_.key_prefix;
  auto pending = redis->list(claims);
  if (!pending.ok()) return pending.error();
  auto fresh = redis->list(opt_.adopt_prefix);
  if (!fresh.ok()) return fresh.error();
  std::set<std::string> todo(pending->begin(), pending->end());
  for (const auto& k : *fresh) {
    if (k.compare(0, opt_.key_prefix.size(), opt_.key_prefix) == 0) continue;  // ours
    auto moved = foreign->rename(k, claims + k);
    if (!moved.ok()) return moved.error();
    if (*moved) todo.insert(claims + k);
  }
  int n = 0;
  for (const auto& claim : todo) {
    const std::string key = claim.substr(claims.size());
    auto fields = foreign->read_fields(claim);
    if (!fields.ok()) return fields.error();
    if (*fields) {
      const auto& f = **fields;
      std::string value;
      if (f.size() == 1 && f.begin()->first.empty()) {
        value = f.begin()->second;
      } else {
        nlohmann::json j(f);  // sorted fields: the same hash gives the same bytes
        value = j.dump();
      }
      if (auto st = put(key, value); !st.ok()) return st.error();
      ++n;
    }
    if (auto st = redis->del(claim); !st.ok()) return st.error();
  }
  return n;
}

StoreStats TieredStore::stats() {
  StoreStats s;
  s.burst = burst_;
  auto u = catalog_->usage();
  std::array<TierUsage, 3> pending;
  {
    std::lock_guard<std::mutex> lock(mu_);
    pending = pending_usage_;
    s.fallthroughs = fallthroughs_;
    s.migrations_here = migrations_;
    s.migration_failures = migration_failures_;
    s.checksum_failures = bad_checksums_;
    s.cache_fallbacks = cache_fallbacks_;
  }
  if (auto m = catalog_->migrations(); m.ok()) s.migrations = *m;
  for (size_t t = 0; t < 3; ++t) {
    TierStats& x = s.tiers[t];
    x.configured = tiers_[t] != nullptr;
    if (u.ok()) {
      const TierUsage& y = (*u)[t];
      x.objects = y.objects;
      x.stored_bytes = y.stored_bytes;
      x.puts = y.puts + pending[t].puts;
      x.gets = y.gets + pending[t].gets;
      x.deletes = y.deletes + pending[t].deletes;
      x.gb_hours = y.byte_seconds / 1e9 / 3600.0;
    }
    const sim::TierSpec& p = opt_.prices[t];
    x.cost_usd = x.gb_hours * p.price_gb_hour +
                 static_cast<double>(x.puts) / 1000.0 * p.put_per_1000 +
                 static_cast<double>(x.gets) / 1000.0 * p.get_per_1000;
    s.cost_usd += x.cost_usd;
  }
  return s;
}

std::string StoreStats::to_json() const {
  nlohmann::json j;
  for (size_t t = 0; t < 3; ++t) {
    const TierStats& x = tiers[t];
    j["tiers"][kTierNames[t]] = {{"configured", x.configured},
                                 {"objects", x.objects},
                                 {"stored_bytes", x.stored_bytes},
                                 {"puts", x.puts},
                                 {"gets", x.gets},
                                 {"deletes", x.deletes},
                                 {"gb_hours", x.gb_hours},
                                 {"cost_usd", x.cost_usd}};
  }
  j["fallthroughs"] = fallthroughs;
  j["migrations"] = migrations;
  j["migration_failures"] = migration_failures;
  j["checksum_failures"] = checksum_failures;
  j["cache_fallbacks"] = cache_fallbacks;
  j["burst"] = burst;
  j["cost_usd"] = cost_usd;
  return j.dump();
}

std::string StoreStats::prometheus() const {
  core::PrometheusWriter w;
  auto per_tier = [&](const char* name, const char* type, const char* help, auto field) {
    w.family(name, type, help);
    for (size_t t = 0; t < 3; ++t)
      if (tiers[t].configured) w.sample(name, field(tiers[t]), "tier", kTierNames[t]);
  };
  per_tier("prescale_tier_objects", "gauge", "Objects resident in the tier",
           [](const TierStats& x) { return x.objects; });
  per_tier("prescale_tier_stored_bytes", "gauge", "Bytes resident in the tier (after compression)",
           [](const TierStats& x) { return x.stored_bytes; });
  per_tier("prescale_tier_puts_total", "counter", "Write requests to the tier",
           [](const TierStats& x) { return x.puts; });
  per_tier("prescale_tier_gets_total", "counter", "Read requests to the tier",
           [](const TierStats& x) { return x.gets; });
  per_tier("prescale_tier_gb_hours_total", "counter", "Resident GB-hours in the tier",
           [](const TierStats& x) { return x.gb_hours; });
  per_tier("prescale_tier_cost_usd_total", "counter",
           "Storage and request cost of the tier (the simulator's price table)",
           [](const TierStats& x) { return x.cost_usd; });
  w.counter("prescale_tier_fallthroughs_total", "Writes that fell through to a colder tier",
            fallthroughs);
  w.counter("prescale_tier_migrations_total", "Committed migrations", migrations);
  w.counter("prescale_tier_migration_failures_total", "Migrations that failed and were undone",
            migration_failures);
  w.counter("prescale_tier_checksum_failures_total", "Copies that failed their checksum",
            checksum_failures);
  w.counter("prescale_tier_cache_fallbacks_total",
            "Reads served by the durable copy because the Redis copy was gone or unreachable",
            cache_fallbacks);
  w.gauge("prescale_tier_burst", "1 while burst mode is on", burst ? 1 : 0);
  return w.str();
}

}  // namespace prescale::tier

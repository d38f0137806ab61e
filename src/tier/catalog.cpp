#include "tier/catalog.h"

#include <sqlite3.h>

namespace prescale::tier {

namespace {

// A prepared statement that finalizes itself; binds by position from 1.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &s_, nullptr) != SQLITE_OK) s_ = nullptr;
  }
  ~Stmt() {
    if (s_) sqlite3_finalize(s_);
  }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  bool ok() const { return s_ != nullptr; }
  Stmt& bind(int i, std::int64_t v) {
    sqlite3_bind_int64(s_, i, v);
    return *this;
  }
  Stmt& bind(int i, int v) { return bind(i, static_cast<std::int64_t>(v)); }
  Stmt& bind(int i, double v) {
    sqlite3_bind_double(s_, i, v);
    return *this;
  }
  Stmt& bind_blob(int i, const std::string& v) {
    sqlite3_bind_blob(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& bind_text(int i, const std::string& v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  // SQLITE_ROW, SQLITE_DONE or an error code.
  int step() { return sqlite3_step(s_); }
  std::int64_t i64(int c) const { return sqlite3_column_int64(s_, c); }
  double dbl(int c) const { return sqlite3_column_double(s_, c); }
  std::string str(int c) const {
    const void* p = sqlite3_column_blob(s_, c);
    return p ? std::string(static_cast<const char*>(p),
                           static_cast<size_t>(sqlite3_column_bytes(s_, c)))
             : std::string();
  }
  bool null(int c) const { return sqlite3_column_type(s_, c) == SQLITE_NULL; }
  std::string error() const { return sqlite3_errmsg(db_); }

 private:
  sqlite3* db_;
  sqlite3_stmt* s_ = nullptr;
};

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS objects(
  key BLOB PRIMARY KEY, version INTEGER NOT NULL, tier INTEGER NOT NULL, codec INTEGER NOT NULL,
  size INTEGER NOT NULL, stored_size INTEGER NOT NULL, sha256 TEXT NOT NULL,
  rate REAL NOT NULL, last_access_ms INTEGER NOT NULL, created_ms INTEGER NOT NULL,
  burst INTEGER NOT NULL DEFAULT 0, backing INTEGER NOT NULL DEFAULT -1,
  backing_codec INTEGER NOT NULL DEFAULT 0, backing_stored_size INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS intents(
  id INTEGER PRIMARY KEY AUTOINCREMENT, kind INTEGER NOT NULL, key BLOB NOT NULL,
  version INTEGER NOT NULL, src_tier INTEGER NOT NULL, dst_tier INTEGER NOT NULL,
  created_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS usage(
  tier INTEGER PRIMARY KEY, byte_seconds REAL NOT NULL, puts INTEGER NOT NULL,
  gets INTEGER NOT NULL, deletes INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS counters(name TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO counters(name, value) VALUES('migrations', 0);
)sql";

constexpr const char* kRowColumns =
    "key, version, tier, codec, size, stored_size, sha256, rate, last_access_ms, created_ms, "
    "burst, backing, backing_codec, backing_stored_size";

ObjectRow read_row(const Stmt& s) {
  ObjectRow r;
  r.key = s.str(0);
  r.version = s.i64(1);
  r.tier = static_cast<int>(s.i64(2));
  r.codec = static_cast<int>(s.i64(3));
  r.size = static_cast<std::uint64_t>(s.i64(4));
  r.stored_size = static_cast<std::uint64_t>(s.i64(5));
  r.sha256 = s.str(6);
  r.rate = s.dbl(7);
  r.last_access_ms = s.i64(8);
  r.created_ms = s.i64(9);
  r.burst = s.i64(10) != 0;
  r.backing = static_cast<int>(s.i64(11));
  r.backing_codec = static_cast<int>(s.i64(12));
  r.backing_stored_size = static_cast<std::uint64_t>(s.i64(13));
  return r;
}

Intent read_intent(const Stmt& s) {
  Intent i;
  i.id = s.i64(0);
  i.kind = static_cast<IntentKind>(s.i64(1));
  i.key = s.str(2);
  i.version = s.i64(3);
  i.src_tier = static_cast<int>(s.i64(4));
  i.dst_tier = static_cast<int>(s.i64(5));
  i.created_ms = s.i64(6);
  return i;
}

// A transaction that rolls back unless committed.
class Txn {
 public:
  explicit Txn(sqlite3* db) : db_(db) {
    ok_ = sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_OK;
  }
  ~Txn() {
    if (ok_ && !done_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  bool ok() const { return ok_; }
  core::Status commit() {
    done_ = true;
    if (sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
      const std::string err = sqlite3_errmsg(db_);
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
      return core::Error{"catalog: commit failed: " + err};
    }
    return core::Status::Ok();
  }

 private:
  sqlite3* db_;
  bool ok_ = false, done_ = false;
};

core::Error sql_error(sqlite3* db, const std::string& what) {
  return core::Error{"catalog: " + what + ": " + sqlite3_errmsg(db)};
}

}  // namespace

core::Result<std::unique_ptr<Catalog>> Catalog::open(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
      SQLITE_OK) {
    const std::string err = db ? sqlite3_errmsg(db) : "out of memory";
    if (db) sqlite3_close(db);
    return core::Error{path + ": cannot open the catalog: " + err};
  }
  std::unique_ptr<Catalog> c(new Catalog(db));
  sqlite3_busy_timeout(db, 5000);
  for (const char* sql : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", kSchema}) {
    if (auto st = c->exec(sql); !st.ok()) return core::Error{path + ": " + st.message()};
  }
  // Catalogs from before the backing copy: add its columns (rows keep -1: no second copy).
  bool has_backing = false;
  {
    Stmt info(db, "SELECT 1 FROM pragma_table_info('objects') WHERE name = 'backing'");
    has_backing = info.ok() && info.step() == SQLITE_ROW;
  }
  if (!has_backing) {
    for (const char* sql :
         {"ALTER TABLE objects ADD COLUMN backing INTEGER NOT NULL DEFAULT -1",
          "ALTER TABLE objects ADD COLUMN backing_codec INTEGER NOT NULL DEFAULT 0",
          "ALTER TABLE objects ADD COLUMN backing_stored_size INTEGER NOT NULL DEFAULT 0"}) {
      if (auto st = c->exec(sql); !st.ok()) return core::Error{path + ": " + st.message()};
    }
  }
  return c;
}

Catalog::~Catalog() { sqlite3_close(db_); }

core::Status Catalog::exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    return core::Error{"catalog: " + msg};
  }
  return core::Status::Ok();
}

core::Result<std::int64_t> Catalog::begin_put(const std::string& key, int dst_tier,
                                              std::int64_t now_ms, int cache_tier) {
  std::lock_guard<std::mutex> lock(mu_);
  Txn t(db_);
  if (!t.ok()) return sql_error(db_, "begin");
  Stmt s(db_,
         "INSERT INTO intents(kind, key, version, src_tier, dst_tier, created_ms) "
         "VALUES(0, ?1, 0, ?4, ?2, ?3)");
  s.bind_blob(1, key).bind(2, dst_tier).bind(3, now_ms).bind(4, cache_tier);
  if (s.step() != SQLITE_DONE) return sql_error(db_, "insert intent");
  const std::int64_t id = sqlite3_last_insert_rowid(db_);
  Stmt u(db_, "UPDATE intents SET version = ?1 WHERE id = ?1");
  u.bind(1, id);
  if (u.step() != SQLITE_DONE) return sql_error(db_, "update intent");
  if (auto st = t.commit(); !st.ok()) return st.error();
  return id;
}

core::Result<std::optional<ObjectRow>> Catalog::get_locked(const std::string& key) {
  Stmt s(db_, (std::string("SELECT ") + kRowColumns + " FROM objects WHERE key = ?1").c_str());
  s.bind_blob(1, key);
  const int rc = s.step();
  if (rc == SQLITE_ROW) return std::optional<ObjectRow>(read_row(s));
  if (rc == SQLITE_DONE) return std::optional<ObjectRow>();
  return sql_error(db_, "read object");
}

core::Result<std::optional<Intent>> Catalog::intent_locked(std::int64_t id) {
  Stmt s(db_,
         "SELECT id, kind, key, version, src_tier, dst_tier, created_ms FROM intents WHERE id = "
         "?1");
  s.bind(1, id);
  const int rc = s.step();
  if (rc == SQLITE_ROW) return std::optional<Intent>(read_intent(s));
  if (rc == SQLITE_DONE) return std::optional<Intent>();
  return sql_error(db_, "read intent");
}

namespace {

// Inserts a drop intent for (key, version) in `tier` and `tier2` (-1: none); returns it.
core::Result<Intent> add_drop(sqlite3* db, const std::string& key, std::int64_t version, int tier,
                              int tier2, std::int64_t now_ms) {
  Stmt s(db,
         "INSERT INTO intents(kind, key, version, src_tier, dst_tier, created_ms) "
         "VALUES(2, ?1, ?2, ?3, ?5, ?4)");
  s.bind_blob(1, key).bind(2, version).bind(3, tier).bind(4, now_ms).bind(5, tier2);
  if (s.step() != SQLITE_DONE) return sql_error(db, "insert drop intent");
  Intent i;
  i.id = sqlite3_last_insert_rowid(db);
  i.kind = IntentKind::kDrop;
  i.key = key;
  i.version = version;
  i.src_tier = tier;
  i.dst_tier = tier2;
  i.created_ms = now_ms;
  return i;
}

}  // namespace

core::Result<std::optional<Intent>> Catalog::commit_put(std::int64_t intent_id,
                                                        const ObjectRow& row) {
  std::lock_guard<std::mutex> lock(mu_);
  Txn t(db_);
  if (!t.ok()) return sql_error(db_, "begin");
  auto old = get_locked(row.key);
  if (!old.ok()) return old.error();
  Stmt up(db_, (std::string("INSERT OR REPLACE INTO objects(") + kRowColumns +
                ") VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)")
                   .c_str());
  up.bind_blob(1, row.key)
      .bind(2, row.version)
      .bind(3, row.tier)
      .bind(4, row.codec)
      .bind(5, static_cast<std::int64_t>(row.size))
      .bind(6, static_cast<std::int64_t>(row.stored_size))
      .bind_text(7, row.sha256)
      .bind(8, row.rate)
      .bind(9, row.last_access_ms)
      .bind(10, row.created_ms)
      .bind(11, row.burst ? 1 : 0)
      .bind(12, row.backing)
      .bind(13, row.backing_codec)
      .bind(14, static_cast<std::int64_t>(row.backing_stored_size));
  if (up.step() != SQLITE_DONE) return sql_error(db_, "write object");
  Stmt del(db_, "DELETE FROM intents WHERE id = ?1");
  del.bind(1, intent_id);
  if (del.step() != SQLITE_DONE) return sql_error(db_, "retire intent");
  // Someone resolved our intent (a put slower than stale_intent_ms, seen by another
  // process's migrator): the copy may be gone, so the row must not point at it.
  if (sqlite3_changes(db_) != 1)
    return core::Error{"catalog: put intent " + std::to_string(intent_id) + " of " + row.key +
                       " was resolved meanwhile (the write took longer than stale_intent_ms); "
                       "not committed"};
  std::optional<Intent> drop;
  if (*old) {
    auto d = add_drop(db_, row.key, (*old)->version, (*old)->tier, (*old)->backing, row.created_ms);
    if (!d.ok()) return d.error();
    drop = *d;
  }
  if (auto st = t.commit(); !st.ok()) return st.error();
  return drop;
}

core::Result<std::optional<Intent>> Catalog::remove(const std::string& key, std::int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  Txn t(db_);
  if (!t.ok()) return sql_error(db_, "begin");
  auto old = get_locked(key);
  if (!old.ok()) return old.error();
  if (!*old) return std::optional<Intent>();
  Stmt del(db_, "DELETE FROM objects WHERE key = ?1");
  del.bind_blob(1, key);
  if (del.step() != SQLITE_DONE) return sql_error(db_, "delete object");
  auto d = add_drop(db_, key, (*old)->version, (*old)->tier, (*old)->backing, now_ms);
  if (!d.ok()) return d.error();
  if (auto st = t.commit(); !st.ok()) return st.error();
  return std::optional<Intent>(*d);
}

core::Result<std::int64_t> Catalog::begin_migrate(const std::string& key, std::int64_t version,
                                                  int src, int dst, std::int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt s(db_,
         "INSERT INTO intents(kind, key, version, src_tier, dst_tier, created_ms) "
         "VALUES(1, ?1, ?2, ?3, ?4, ?5)");
  s.bind_blob(1, key).bind(2, version).bind(3, src).bind(4, dst).bind(5, now_ms);
  if (s.step() != SQLITE_DONE) return sql_error(db_, "insert migrate intent");
  return sqlite3_last_insert_rowid(db_);
}

core::Result<Catalog::Migrated> Catalog::commit_migrate(std::int64_t intent_id, int codec,
                                                        std::uint64_t stored_size) {
  std::lock_guard<std::mutex> lock(mu_);
  Txn t(db_);
  if (!t.ok()) return sql_error(db_, "begin");
  auto in = intent_locked(intent_id);
  if (!in.ok()) return in.error();
  if (!*in) return core::Error{"catalog: migrate intent " + std::to_string(intent_id) + " is gone"};
  const Intent& i = **in;
  // Into Redis the source stays as the backing copy (SET reads the old column values).
  const bool cache = i.dst_tier == 0;
  Stmt up(db_, cache ? "UPDATE objects SET tier = ?1, codec = ?2, stored_size = ?3, burst = 0, "
                       "backing = tier, backing_codec = codec, backing_stored_size = stored_size "
                       "WHERE key = ?4 AND version = ?5 AND tier = ?6 AND backing = -1"
                     : "UPDATE objects SET tier = ?1, codec = ?2, stored_size = ?3, burst = 0 "
                       "WHERE key = ?4 AND version = ?5 AND tier = ?6 AND backing = -1");
  up.bind(1, i.dst_tier)
      .bind(2, codec)
      .bind(3, static_cast<std::int64_t>(stored_size))
      .bind_blob(4, i.key)
      .bind(5, i.version)
      .bind(6, i.src_tier);
  if (up.step() != SQLITE_DONE) return sql_error(db_, "move object");
  Migrated out;
  out.moved = sqlite3_changes(db_) == 1;
  if (out.moved) {
    Stmt n(db_, "UPDATE counters SET value = value + 1 WHERE name = 'migrations'");
    if (n.step() != SQLITE_DONE) return sql_error(db_, "count migration");
  }
  if (out.moved && cache) {
    Stmt del(db_, "DELETE FROM intents WHERE id = ?1");
    del.bind(1, intent_id);
    if (del.step() != SQLITE_DONE) return sql_error(db_, "retire intent");
  } else {
    // The intent now names only the copy that lost.
    Intent drop = i;
    drop.kind = IntentKind::kDrop;
    drop.src_tier = out.moved ? i.src_tier : i.dst_tier;
    drop.dst_tier = -1;
    Stmt ch(db_, "UPDATE intents SET kind = 2, src_tier = ?1, dst_tier = -1 WHERE id = ?2");
    ch.bind(1, drop.src_tier).bind(2, intent_id);
    if (ch.step() != SQLITE_DONE) return sql_error(db_, "update intent");
    out.drop = drop;
  }
  if (auto st = t.commit(); !st.ok()) return st.error();
  return out;
}

core::Result<std::optional<Intent>> Catalog::uncache(const std::string& key, std::int64_t version,
                                                     std::int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  Txn t(db_);
  if (!t.ok()) return sql_error(db_, "begin");
  Stmt up(db_,
          "UPDATE objects SET tier = backing, codec = backing_codec, "
          "stored_size = backing_stored_size, backing = -1, burst = 0 "
          "WHERE key = ?1 AND version = ?2 AND tier = 0 AND backing >= 0");
  up.bind_blob(1, key).bind(2, version);
  if (up.step() != SQLITE_DONE) return sql_error(db_, "uncache object");
  if (sqlite3_changes(db_) != 1) return std::optional<Intent>();
  Stmt n(db_, "UPDATE counters SET value = value + 1 WHERE name = 'migrations'");
  if (n.step() != SQLITE_DONE) return sql_error(db_, "count migration");
  auto d = add_drop(db_, key, version, 0, -1, now_ms);
  if (!d.ok()) return d.error();
  if (auto st = t.commit(); !st.ok()) return st.error();
  return std::optional<Intent>(*d);
}

core::Result<std::uint64_t> Catalog::migrations() {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt s(db_, "SELECT value FROM counters WHERE name = 'migrations'");
  if (s.step() != SQLITE_ROW) return sql_error(db_, "read counters");
  return static_cast<std::uint64_t>(s.i64(0));
}

core::Status Catalog::clear_intent(std::int64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt s(db_, "DELETE FROM intents WHERE id = ?1");
  s.bind(1, id);
  if (s.step() != SQLITE_DONE) return sql_error(db_, "clear intent");
  return core::Status::Ok();
}

core::Result<std::vector<Intent>> Catalog::intents() {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt s(db_,
         "SELECT id, kind, key, version, src_tier, dst_tier, created_ms FROM intents ORDER BY id");
  std::vector<Intent> out;
  int rc;
  while ((rc = s.step()) == SQLITE_ROW) out.push_back(read_intent(s));
  if (rc != SQLITE_DONE) return sql_error(db_, "list intents");
  return out;
}

core::Result<std::optional<ObjectRow>> Catalog::get(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  return get_locked(key);
}

core::Result<std::vector<ObjectRow>> Catalog::list(const std::string& prefix) {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt s(db_, (std::string("SELECT ") + kRowColumns + " FROM objects WHERE key >= ?1 ORDER BY key")
                  .c_str());
  s.bind_blob(1, prefix);
  std::vector<ObjectRow> out;
  int rc;
  while ((rc = s.step()) == SQLITE_ROW) {
    ObjectRow r = read_row(s);
    if (r.key.compare(0, prefix.size(), prefix) != 0) break;
    out.push_back(std::move(r));
  }
  if (rc != SQLITE_DONE && rc != SQLITE_ROW) return sql_error(db_, "list objects");
  return out;
}

core::Status Catalog::record_access(const std::vector<Access>& accesses) {
  if (accesses.empty()) return core::Status::Ok();
  std::lock_guard<std::mutex> lock(mu_);
  Txn t(db_);
  if (!t.ok()) return sql_error(db_, "begin");
  for (const auto& a : accesses) {
    Stmt u(db_, "UPDATE objects SET rate = ?1, last_access_ms = ?2 WHERE key = ?3");
    u.bind(1, a.rate).bind(2, a.last_access_ms).bind_blob(3, a.key);
    if (u.step() != SQLITE_DONE) return sql_error(db_, "record access");
  }
  return t.commit();
}

core::Status Catalog::clear_burst(const std::string& key, std::int64_t version) {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt s(db_, "UPDATE objects SET burst = 0 WHERE key = ?1 AND version = ?2");
  s.bind_blob(1, key).bind(2, version);
  if (s.step() != SQLITE_DONE) return sql_error(db_, "clear burst");
  return core::Status::Ok();
}

core::Status Catalog::add_usage(const std::vector<TierUsage>& delta, double dt_s) {
  std::lock_guard<std::mutex> lock(mu_);
  Txn t(db_);
  if (!t.ok()) return sql_error(db_, "begin");
  for (size_t tier = 0; tier < delta.size(); ++tier) {
    // Both copies of a cached object are resident (the Redis one and its backing).
    Stmt bytes(db_,
               "SELECT COALESCE(SUM(CASE WHEN tier = ?1 THEN stored_size ELSE 0 END + "
               "CASE WHEN backing = ?1 THEN backing_stored_size ELSE 0 END), 0) FROM objects");
    bytes.bind(1, static_cast<int>(tier));
    const double resident = bytes.step() == SQLITE_ROW ? static_cast<double>(bytes.i64(0)) : 0;
    Stmt s(db_,
           "INSERT INTO usage(tier, byte_seconds, puts, gets, deletes) VALUES(?1, ?2, ?3, ?4, ?5) "
           "ON CONFLICT(tier) DO UPDATE SET byte_seconds = byte_seconds + ?2, puts = puts + ?3, "
           "gets = gets + ?4, deletes = deletes + ?5");
    s.bind(1, static_cast<int>(tier))
        .bind(2, resident * dt_s)
        .bind(3, static_cast<std::int64_t>(delta[tier].puts))
        .bind(4, static_cast<std::int64_t>(delta[tier].gets))
        .bind(5, static_cast<std::int64_t>(delta[tier].deletes));
    if (s.step() != SQLITE_DONE) return sql_error(db_, "add usage");
  }
  return t.commit();
}

core::Result<std::vector<TierUsage>> Catalog::usage() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<TierUsage> out(3);
  Stmt s(db_, "SELECT tier, byte_seconds, puts, gets, deletes FROM usage");
  while (s.step() == SQLITE_ROW) {
    const auto t = static_cast<size_t>(s.i64(0));
    if (t >= out.size()) continue;
    out[t].byte_seconds = s.dbl(1);
    out[t].puts = static_cast<std::uint64_t>(s.i64(2));
    out[t].gets = static_cast<std::uint64_t>(s.i64(3));
    out[t].deletes = static_cast<std::uint64_t>(s.i64(4));
  }
  Stmt n(db_,
         "SELECT tier, COUNT(*), COALESCE(SUM(stored_size), 0) FROM objects GROUP BY tier "
         "UNION ALL SELECT backing, COUNT(*), COALESCE(SUM(backing_stored_size), 0) FROM objects "
         "WHERE backing >= 0 GROUP BY backing");
  while (n.step() == SQLITE_ROW) {
    const auto t = static_cast<size_t>(n.i64(0));
    if (t >= out.size()) continue;
    out[t].objects += static_cast<std::uint64_t>(n.i64(1));
    out[t].stored_bytes += static_cast<std::uint64_t>(n.i64(2));
  }
  return out;
}

}  // namespace prescale::tier

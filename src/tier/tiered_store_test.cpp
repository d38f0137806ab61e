#include "tier/tiered_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "tier/dir_store.h"
#include "tier/mem_store.h"

namespace prescale::tier {
namespace {

// Forwards to a store the test owns, so the "servers" outlive a crashed TieredStore. While
// `*down` is set, writes of fresh copies fail (a full disk).
class Borrowed : public ObjectStore {
 public:
  explicit Borrowed(ObjectStore* s, const std::atomic<bool>* down = nullptr) : s_(s), down_(down) {}
  core::Status put(const std::string& k, const std::string& d) override { return s_->put(k, d); }
  core::Status put_fresh(const std::string& k, const std::string& d) override {
    if (down_ && *down_) return core::Error{"no space left"};
    return s_->put_fresh(k, d);
  }
  core::Status put_fresh_pieces(
      const std::string& k, const std::function<core::Status(const PieceSink&)>& pieces) override {
    if (down_ && *down_) return core::Error{"no space left"};
    return s_->put_fresh_pieces(k, pieces);
  }
  core::Result<bool> put_fresh_link(const std::string& k, const std::string& file) override {
    if (down_ && *down_) return core::Error{"no space left"};
    return s_->put_fresh_link(k, file);
  }
  std::string temp_path() override { return s_->temp_path(); }
  core::Result<std::optional<std::string>> get(const std::string& k) override { return s_->get(k); }
  core::Result<bool> get_pieces(const std::string& k, const PieceSink& sink) override {
    return s_->get_pieces(k, sink);
  }
  core::Status del(const std::string& k) override { return s_->del(k); }
  core::Result<std::optional<ObjectInfo>> stat(const std::string& k) override {
    return s_->stat(k);
  }
  core::Result<std::vector<std::string>> list(const std::string& p) override { return s_->list(p); }
  std::string describe() const override { return s_->describe(); }
  core::Result<int> remove_temp_files() override { return s_->remove_temp_files(); }

 private:
  ObjectStore* s_;
  const std::atomic<bool>* down_;
};

struct Crash {};

class TieredStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = (std::filesystem::temp_directory_path() /
             ("prescale-tiered-" + std::to_string(::getpid()) + "-" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name()))
                .string();
    std::filesystem::remove_all(root_);
    std::filesystem::create_directories(root_);
    auto d = DirStore::open(root_ + "/nvme", DirSync::kNone);
    dir_ = std::move(*d);
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(root_);
  }
  TieredOptions options() {
    TieredOptions o;
    o.catalog_path = root_ + "/catalog.db";
    o.temperature.half_life_s = 60;
    o.rules.hot_per_hour = 100;
    o.rules.warm_per_hour = 10;
    o.rules.redis_budget_bytes = 1 << 20;
    o.rules.dir_budget_bytes = 1 << 20;
    o.codecs = {Codec::kLz4, Codec::kNone, Codec::kZstd};
    o.clock = [this] { return now_ms_; };
    o.stale_intent_ms = stale_intent_ms_;
    o.crash_hook = [this](const char* p) {
      if (crash_at_ == p) {
        crash_at_.clear();
        if (options_hook_) {
          auto f = std::move(options_hook_);
          options_hook_ = nullptr;
          f();  // something else happens at this point instead of a crash
          return;
        }
        throw Crash{};
      }
    };
    return o;
  }
  void open() {
    store_.reset();
    std::array<std::unique_ptr<ObjectStore>, 3> t;
    t[kRedis] = std::make_unique<Borrowed>(&redis_);
    t[kDir] = std::make_unique<Borrowed>(dir_.get(), &dir_down_);
    t[kS3] = std::make_unique<Borrowed>(&s3_);
    auto s = TieredStore::open(options(), std::move(t));
    ASSERT_TRUE(s.ok()) << s.error().message;
    store_ = std::move(*s);
  }
  std::string get(const std::string& key) {
    auto g = store_->get(key);
    if (!g.ok()) return "ERROR " + g.error().message;
    return *g ? **g : "ABSENT";
  }
  size_t copies() { return redis_.size() + s3_.size() + dir_->list("")->size(); }

  std::string root_;
  MemStore redis_{"redis"}, s3_{"s3"};
  std::unique_ptr<DirStore> dir_;
  std::unique_ptr<TieredStore> store_;
  std::int64_t now_ms_ = 1'000'000;
  std::string crash_at_;
  std::function<void()> options_hook_;
  std::atomic<bool> dir_down_{false};
  std::int64_t stale_intent_ms_ = 60'000;
};

TEST_F(TieredStoreTest, PutGetDeleteAcrossTiersWithCompression) {
  open();
  const std::string big(200'000, 'z');
  ASSERT_TRUE(store_->put("a", big).ok());
  EXPECT_EQ(store_->row("a")->value().tier, kDir);
  for (int dst : {kS3, kRedis, kDir, kS3}) {
    auto m = store_->migrate("a", dst);
    ASSERT_TRUE(m.ok()) << m.error().message;
    EXPECT_TRUE(*m);
    EXPECT_EQ(get("a"), big);
    // In Redis the source stays as the durable backing copy; elsewhere exactly one copy.
    EXPECT_EQ(copies(), dst == kRedis ? 2u : 1u) << "after the migration to " << dst;
  }
  EXPECT_LT(store_->row("a")->value().stored_size, 1000u) << "zstd in S3";
  ASSERT_TRUE(store_->del("a").ok());
  EXPECT_EQ(get("a"), "ABSENT");
  EXPECT_EQ(copies(), 0u);
}

TEST_F(TieredStoreTest, RedisDownInBurstModeFallsThroughToDiskAndLosesNothing) {
  open();
  store_->set_burst(true);
  ASSERT_TRUE(store_->put("before", "1").ok());
  EXPECT_EQ(store_->row("before")->value().tier, kRedis);
  redis_.down = true;
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(store_->put("k" + std::to_string(i), "v").ok());
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(store_->row("k" + std::to_string(i))->value().tier, kDir);
    EXPECT_EQ(get("k" + std::to_string(i)), "v");
  }
  EXPECT_EQ(store_->stats().fallthroughs, 20u);
  redis_.down = false;
  EXPECT_EQ(get("before"), "1");
}

// A body as the HTTP API receives it: `data` in pieces of 10,000 bytes, spooled past 4 KB.
std::unique_ptr<Body> received(TieredStore* store, const std::string& data) {
  auto body = store->new_body(4096);
  for (size_t i = 0; i < data.size(); i += 10'000)
    EXPECT_TRUE(body->append(std::string_view(data).substr(i, 10'000)).ok());
  EXPECT_TRUE(body->finish().ok());
  return body;
}

std::string pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 7919) % 251);
  return s;
}

TEST_F(TieredStoreTest, ASpooledBodyIsLinkedIntoTheDirectoryTierNotCopied) {
  open();
  const std::string data = pattern(300'000);
  auto body = received(store_.get(), data);
  ASSERT_TRUE(body->spooled());
  ASSERT_TRUE(store_->put("big", *body).ok());
  const ObjectRow row = *store_->row("big").value();
  EXPECT_EQ(row.tier, kDir);
  EXPECT_EQ(row.size, data.size());
  EXPECT_EQ(row.stored_size, data.size());
  EXPECT_EQ(row.sha256, sha256_hex(data));
  struct stat copy {
  }, spool{};
  ASSERT_EQ(
      ::stat(
          (root_ + "/nvme/" + DirStore::encode_name(store_->physical("big", row.version))).c_str(),
          &copy),
      0);
  ASSERT_EQ(::stat(body->spool_path().c_str(), &spool), 0);
  EXPECT_EQ(copy.st_ino, spool.st_ino) << "the spool file itself, under a second name";
  EXPECT_EQ(copy.st_nlink, 2u);
  const std::string spool_path = body->spool_path();
  body.reset();
  EXPECT_FALSE(std::filesystem::exists(spool_path));
  EXPECT_EQ(get("big"), data);
  EXPECT_EQ(copies(), 1u) << "no temp file is listed as a copy";
}

TEST_F(TieredStoreTest, ASpooledBodyIsCompressedPieceByPieceWhereItsTierCompresses) {
  open();
  const std::string data = pattern(2'500'000);
  // The directory tier is full: the put falls through to S3 (zstd), from the same spool.
  dir_down_ = true;
  auto body = received(store_.get(), data);
  ASSERT_TRUE(store_->put("cold", *body).ok());
  ObjectRow row = *store_->row("cold").value();
  EXPECT_EQ(row.tier, kS3);
  EXPECT_LT(row.stored_size, data.size() / 10);
  EXPECT_EQ(get("cold"), data);
  EXPECT_EQ(store_->stats().fallthroughs, 1u);
  // Burst mode: the durable copy is linked, the Redis copy (lz4) made from the spool.
  dir_down_ = false;
  store_->set_burst(true);
  body = received(store_.get(), data);
  ASSERT_TRUE(store_->put("hot", *body).ok());
  row = *store_->row("hot").value();
  EXPECT_EQ(row.tier, kRedis);
  EXPECT_EQ(row.backing, kDir);
  EXPECT_LT(row.stored_size, data.size() / 10);
  EXPECT_EQ(get("hot"), data);
  redis_.down = true;
  EXPECT_EQ(get("hot"), data) << "from the linked backing copy";
}

TEST_F(TieredStoreTest, TickDemotesColdestFirstAndPromotesWhatGetsHot) {
  open();
  for (const char* k : {"a", "b", "c"}) ASSERT_TRUE(store_->put(k, std::string(1000, 'x')).ok());
  // "a" is read a lot, "b" a little, "c" never.
  for (int i = 0; i < 30; ++i) {
    now_ms_ += 1000;
    (void)get("a");
    if (i % 10 == 0) (void)get("b");
  }
  auto t = store_->tick();
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(store_->row("a")->value().tier, kRedis);
  EXPECT_EQ(store_->row("c")->value().tier, kDir) << "one write 30 s ago is still warm";
  // Ten minutes later everything is cold: all demoted to S3.
  now_ms_ += 600'000;
  ASSERT_TRUE(store_->tick().ok());
  for (const char* k : {"a", "b", "c"}) EXPECT_EQ(store_->row(k)->value().tier, kS3) << k;
  EXPECT_EQ(copies(), 3u);
  auto s = store_->stats();
  EXPECT_GT(s.tiers[kS3].puts, 0u);
  EXPECT_GT(s.tiers[kDir].gb_hours, 0.0);
}

TEST_F(TieredStoreTest, ACorruptCopyIsDetectedNotReturned) {
  open();
  ASSERT_TRUE(store_->put("k", "good data").ok());
  const auto row = store_->row("k")->value();
  ASSERT_TRUE(dir_->put(store_->physical("k", row.version), "evil data").ok());
  EXPECT_NE(get("k").find("checksum"), std::string::npos) << get("k");
}

TEST_F(TieredStoreTest, ALargeObjectIsReadInPiecesAndACorruptOneNeverWhole) {
  open();
  const std::string data = pattern(2'500'000);
  ASSERT_TRUE(store_->put("big", data).ok());
  std::string got;
  size_t pieces = 0;
  auto collect = [&](std::string_view p) {
    got.append(p);
    ++pieces;
    return core::Status::Ok();
  };
  auto found = store_->get_to("big", collect);
  ASSERT_TRUE(found.ok() && *found);
  EXPECT_EQ(got, data);
  EXPECT_EQ(pieces, 3u) << "the directory tier's file, in pieces of 1 MB";
  // In S3 (zstd): decompressed as it streams.
  ASSERT_TRUE(store_->migrate("big", kS3).value());
  got.clear();
  pieces = 0;
  found = store_->get_to("big", collect);
  ASSERT_TRUE(found.ok() && *found);
  EXPECT_EQ(got, data);
  EXPECT_GT(pieces, 3u);
  // One byte changed in the middle: pieces before the end may go out, the whole never does.
  ASSERT_TRUE(store_->migrate("big", kDir).value());
  const auto row = store_->row("big")->value();
  std::string bad = data;
  bad[1'500'000] ^= 1;
  ASSERT_TRUE(dir_->put(store_->physical("big", row.version), bad).ok());
  got.clear();
  found = store_->get_to("big", collect);
  ASSERT_FALSE(found.ok());
  EXPECT_NE(found.error().message.find("checksum mismatch"), std::string::npos);
  EXPECT_LT(got.size(), data.size()) << "the last piece is held back until the checksum holds";
  EXPECT_EQ(store_->stats().checksum_failures, 1u);
}

TEST_F(TieredStoreTest, ACorruptRedisCopyIsAnsweredFromItsBackingCopy) {
  open();
  const std::string data = pattern(300'000);
  store_->set_burst(true);
  ASSERT_TRUE(store_->put("hot", data).ok());
  const auto row = store_->row("hot")->value();
  ASSERT_EQ(row.tier, kRedis);
  ASSERT_TRUE(redis_.put(store_->physical("hot", row.version), compress(Codec::kLz4, "x")).ok());
  std::string got;
  auto found = store_->get_to("hot", [&](std::string_view p) {
    got.append(p);
    return core::Status::Ok();
  });
  ASSERT_TRUE(found.ok()) << found.error().message;
  EXPECT_EQ(got, data) << "nothing of the bad copy went out before the good one";
  EXPECT_EQ(store_->row("hot")->value().tier, kDir) << "the bad Redis copy is given up";
}

// A crash at every point of the protocol: after restart and recovery the key holds the old
// or the new value (never garbage), no intent is left and no orphan copy remains.
TEST_F(TieredStoreTest, ACrashAtAnyPointLosesNothingAndLeavesNoOrphan) {
  struct Case {
    const char* point;
    bool migrate;  // else an overwrite
  };
  const Case cases[] = {
      {"put:intent", false},      {"put:written", false},      {"put:committed", false},
      {"drop:deleted", false},    {"migrate:intent", true},    {"migrate:copied", true},
      {"migrate:verified", true}, {"migrate:committed", true}, {"drop:deleted", true}};
  int n = 0;
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.point) + (c.migrate ? " (migration)" : " (overwrite)"));
    open();
    const std::string key = "key" + std::to_string(n++);
    ASSERT_TRUE(store_->put(key, "old").ok());
    crash_at_ = c.point;
    bool crashed = false;
    try {
      if (c.migrate)
        (void)store_->migrate(key, kS3);
      else
        (void)store_->put(key, "new");
    } catch (const Crash&) {
      crashed = true;
    }
    EXPECT_TRUE(crashed);
    open();  // the process restarts
    auto rep = store_->recover();
    ASSERT_TRUE(rep.ok()) << rep.error().message;
    const std::string v = get(key);
    EXPECT_TRUE(v == "old" || (!c.migrate && v == "new")) << v;
    EXPECT_TRUE(store_->recover()->intents == 0);
    EXPECT_EQ(*store_->count_orphans(), 0);
    EXPECT_EQ(copies(), static_cast<size_t>(n)) << "one copy per key";
  }
}

// Copies that no row names can appear while serving (an S3 PUT the server finished after its
// client died and recovery had run): tick() sweeps them every orphan_sweep_ms, and leaves alone
// a copy whose write is still pending (its intent names it).
TEST_F(TieredStoreTest, TickSweepsOrphansButNotACopyWhoseWriteIsPending) {
  stale_intent_ms_ = 1'000'000'000;  // the crashed put below stays pending
  open();
  ASSERT_TRUE(store_->put("a", "1").ok());
  crash_at_ = "put:written";
  EXPECT_THROW((void)store_->put("b", "2"), Crash);
  ASSERT_TRUE(s3_.put(store_->physical("a", 999'999), "late").ok());
  ASSERT_EQ(*store_->count_orphans(), 2) << "b's pending copy and the stray one";
  auto early = store_->tick();
  ASSERT_TRUE(early.ok());
  EXPECT_EQ(early->orphans, 0) << "not before orphan_sweep_ms";
  now_ms_ += 600'000;
  auto swept = store_->tick();
  ASSERT_TRUE(swept.ok()) << swept.error().message;
  EXPECT_EQ(swept->orphans, 1);
  EXPECT_FALSE(s3_.get(store_->physical("a", 999'999))->has_value());
  EXPECT_EQ(*store_->count_orphans(), 1) << "b's copy stays while its intent is pending";
  EXPECT_EQ(get("a"), "1");
}

TEST_F(TieredStoreTest, RecoveryRemovesOrphansNoCatalogRowNames) {
  open();
  ASSERT_TRUE(store_->put("k", "v").ok());
  ASSERT_TRUE(s3_.put(store_->physical("ghost", 42), "x").ok());
  ASSERT_TRUE(redis_.put(store_->physical("k", 999), "stale").ok());
  ASSERT_TRUE(redis_.put("foreign-key", "not ours").ok());
  EXPECT_EQ(*store_->count_orphans(), 2);
  auto rep = store_->recover();
  ASSERT_TRUE(rep.ok());
  EXPECT_EQ(rep->orphans, 2);
  EXPECT_EQ(*store_->count_orphans(), 0);
  EXPECT_EQ(get("k"), "v");
  EXPECT_TRUE(*redis_.get("foreign-key")) << "keys outside the prefix are not touched";
}

TEST_F(TieredStoreTest, APutWhoseIntentWasResolvedMeanwhileIsNotCommitted) {
  open();
  ASSERT_TRUE(store_->put("k", "old").ok());
  // Another process's migrator resolves the intent while this put is still writing.
  options_hook_ = [this] { (void)store_->recover(); };
  crash_at_ = "put:written";
  auto st = store_->put("k", "new");
  // The directory attempt is not committed (its copy was deleted); the put falls through to
  // the next tier and commits there.
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(store_->row("k")->value().tier, kS3);
  EXPECT_EQ(store_->stats().fallthroughs, 1u);
  EXPECT_EQ(get("k"), "new");
  EXPECT_EQ(*store_->count_orphans(), 0);
  EXPECT_EQ(copies(), 1u);
}

// Issue 15: a Redis restart without persistence (or with AOF everysec losing the last
// second) must never lose an acknowledged object, whether it got to Redis by promotion or by a
// burst write.
TEST_F(TieredStoreTest, ARedisCopyIsNeverTheOnlyOneSoLosingRedisLosesNothing) {
  open();
  ASSERT_TRUE(store_->put("promoted", "hot bytes").ok());
  ASSERT_TRUE(*store_->migrate("promoted", kRedis));
  store_->set_burst(true);
  ASSERT_TRUE(store_->put("burst", "burst bytes").ok());
  for (const char* k : {"promoted", "burst"}) {
    const auto r = store_->row(k)->value();
    EXPECT_EQ(r.tier, kRedis) << k;
    EXPECT_EQ(r.backing, kDir) << k << ": the durable copy stays on disk";
  }
  // Redis is down: reads are served by the backing copy, the rows are left alone.
  redis_.down = true;
  EXPECT_EQ(get("promoted"), "hot bytes");
  EXPECT_EQ(store_->row("promoted")->value().tier, kRedis);
  redis_.down = false;
  // Redis comes back empty.
  const auto names = redis_.list("");
  for (const auto& name : *names) ASSERT_TRUE(redis_.del(name).ok());
  EXPECT_EQ(get("promoted"), "hot bytes");
  EXPECT_EQ(get("burst"), "burst bytes");
  EXPECT_EQ(store_->row("promoted")->value().tier, kDir) << "the lost Redis copy is given up";
  EXPECT_EQ(store_->stats().cache_fallbacks, 3u);
  EXPECT_EQ(*store_->count_orphans(), 0);
  // Leaving Redis is not a copy: the Redis copy is dropped, the backing copy is the object.
  store_->set_burst(false);
  ASSERT_TRUE(store_->put("again", "v").ok());
  ASSERT_TRUE(*store_->migrate("again", kRedis));
  ASSERT_TRUE(*store_->migrate("again", kS3));
  EXPECT_EQ(store_->row("again")->value().tier, kS3);
  EXPECT_EQ(get("again"), "v");
  EXPECT_EQ(copies(), 3u) << "one copy per key";
}

TEST_F(TieredStoreTest, KeysThatCannotBeAFileNameAreRefusedInEveryMode) {
  open();
  std::string e50;
  for (int i = 0; i < 50; ++i) e50 += "\xc3\xa9";  // 50 x U+00E9: 100 bytes, 300 escaped
  for (bool burst : {false, true}) {
    SCOPED_TRACE(burst ? "burst" : "normal");
    store_->set_burst(burst);
    for (const std::string& key : {e50, std::string(1024, 'a'), std::string(201, 'a')}) {
      auto st = store_->put(key, "x");
      ASSERT_FALSE(st.ok());
      EXPECT_EQ(st.message().rfind("key:", 0), 0u) << st.message();
      EXPECT_NE(st.message().find("at most 200 bytes once escaped"), std::string::npos);
    }
    ASSERT_TRUE(store_->put(std::string(200, 'a'), "x").ok()) << "200 plain bytes fit";
  }
  EXPECT_EQ(redis_.size(), 1u) << "only the valid burst write reached Redis";
}

TEST(TierCatalog, APendingIntentSurvivesAReopenAndCommitsAreDurable) {
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("prescale-catalog-" + std::to_string(::getpid()) + ".db"))
                               .string();
  std::filesystem::remove(path);
  std::int64_t id = 0;
  {
    auto c = Catalog::open(path);
    ASSERT_TRUE(c.ok()) << c.error().message;
    auto a = (*c)->begin_put("a", kDir, 1);
    ASSERT_TRUE(a.ok());
    ObjectRow row;
    row.key = "a";
    row.version = *a;
    row.tier = kDir;
    row.sha256 = "x";
    ASSERT_TRUE((*c)->commit_put(*a, row).ok());
    auto b = (*c)->begin_put("b", kRedis, 2);
    ASSERT_TRUE(b.ok());
    id = *b;
  }
  auto c = Catalog::open(path);
  ASSERT_TRUE(c.ok());
  auto in = (*c)->intents();
  ASSERT_TRUE(in.ok());
  ASSERT_EQ(in->size(), 1u);
  EXPECT_EQ((*in)[0].id, id);
  EXPECT_EQ((*in)[0].key, "b");
  EXPECT_EQ((*in)[0].dst_tier, kRedis);
  auto a = (*c)->get("a");
  ASSERT_TRUE(a.ok() && *a);
  EXPECT_EQ((*a)->tier, kDir);
  EXPECT_GT(id, (*a)->version) << "versions never repeat";
  std::filesystem::remove(path);
  std::filesystem::remove(path + "-wal");
  std::filesystem::remove(path + "-shm");
}

}  // namespace
}  // namespace prescale::tier

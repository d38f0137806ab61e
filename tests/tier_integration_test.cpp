// The tiers against real servers started on loopback by the test: redis-server and S3Proxy
// (which checks SigV4 signatures), plus the `prescale tier` binary end to end.
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "stack_fixture.h"
#include "tier/config.h"
#include "tier/dir_store.h"
#include "tier/redis_store.h"
#include "tier/s3_store.h"
#include "tier/tiered_store.h"

namespace prescale::tier {
namespace {

using prescale::testing::Child;
using prescale::testing::free_port;
using prescale::testing::read_text;
using prescale::testing::Stack;

std::string redis_url(const Stack& s) {
  return "redis://127.0.0.1:" + std::to_string(s.redis_port());
}

int redis_cli(const Stack& s, const std::string& args) {
  const std::string cmd = "redis-cli -h 127.0.0.1 -p " + std::to_string(s.redis_port()) + " " +
                          args + " >/dev/null 2>&1";
  return std::system(cmd.c_str());
}

S3Options s3_options(const Stack& s) {
  S3Options o;
  o.endpoint = s.s3_endpoint();
  o.bucket = "it-bucket";
  o.region = "us-east-1";
  o.access_key = Stack::s3_access_key();
  o.secret_key = Stack::s3_secret_key();
  return o;
}

TEST(TierRedisStoreIT, PutGetStatListDeleteAuthAndReconnect) {
  Stack stack(PRESCALE_SOURCE_DIR);
  ASSERT_EQ(stack.start_redis(), "");
  RedisOptions o;
  o.url = redis_url(stack);
  auto s = RedisStore::open(o);
  ASSERT_TRUE(s.ok()) << s.error().message;
  const std::string big(1 << 20, 'b');
  ASSERT_TRUE((*s)->put("it/a", "alpha").ok());
  ASSERT_TRUE((*s)->put("it/big", big).ok());
  ASSERT_TRUE((*s)->put("other", "x").ok());
  EXPECT_EQ(**(*s)->get("it/a"), "alpha");
  EXPECT_EQ(**(*s)->get("it/big"), big);
  EXPECT_EQ((*(*s)->stat("it/big"))->size, big.size());
  EXPECT_FALSE(*(*s)->get("it/none"));
  auto l = (*s)->list("it/");
  ASSERT_TRUE(l.ok());
  std::sort(l->begin(), l->end());
  EXPECT_EQ(*l, (std::vector<std::string>{"it/a", "it/big"}));
  ASSERT_TRUE((*s)->del("it/a").ok());
  EXPECT_FALSE(*(*s)->get("it/a"));

  // The server drops our connection: the next call reconnects by itself.
  ASSERT_EQ(redis_cli(stack, "CLIENT KILL TYPE normal"), 0);
  EXPECT_EQ(**(*s)->get("other"), "x");

  // AUTH: a wrong password is a clear error that does not echo the password.
  ASSERT_EQ(redis_cli(stack, "CONFIG SET requirepass right-horse"), 0);
  RedisOptions bad = o;
  bad.password = "wrong-horse";
  auto b = RedisStore::open(bad);
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.error().message.find("AUTH"), std::string::npos) << b.error().message;
  EXPECT_EQ(b.error().message.find("wrong-horse"), std::string::npos) << b.error().message;
  RedisOptions good = o;
  good.url = "redis://:right-horse@127.0.0.1:" + std::to_string(stack.redis_port()) + "/2";
  auto g = RedisStore::open(good);
  ASSERT_TRUE(g.ok()) << g.error().message;
  ASSERT_TRUE((*g)->put("db2", "v").ok());
  EXPECT_EQ((*g)->describe().find("right-horse"), std::string::npos);
}

TEST(TierS3StoreIT, AgainstS3ProxyWithSigV4MultipartAndWrongCredentials) {
  Stack stack(PRESCALE_SOURCE_DIR);
  ASSERT_EQ(stack.start_s3(), "");
  auto o = s3_options(stack);
  o.multipart_threshold = 6 << 20;
  o.part_size = 5 << 20;
  auto s = S3Store::open(o);
  ASSERT_TRUE(s.ok()) << s.error().message;
  const std::string odd = "dir/with space+plus=eq&amp~tilde/ünï@1";
  ASSERT_TRUE((*s)->put(odd, "odd").ok());
  ASSERT_TRUE((*s)->put("dir/empty", "").ok());
  EXPECT_EQ(**(*s)->get(odd), "odd");
  EXPECT_EQ(**(*s)->get("dir/empty"), "");
  EXPECT_EQ((*(*s)->stat(odd))->size, 3u);
  EXPECT_FALSE(*(*s)->get("dir/none"));
  EXPECT_FALSE(*(*s)->stat("dir/none"));
  auto l = (*s)->list("dir/");
  ASSERT_TRUE(l.ok()) << l.error().message;
  std::sort(l->begin(), l->end());
  EXPECT_EQ(*l, (std::vector<std::string>{"dir/empty", odd}));

  // 13 MB: three parts (5 + 5 + 3).
  std::string big(13 << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 31 + (i >> 12));
  ASSERT_TRUE((*s)->put("big", big).ok());
  EXPECT_EQ((*s)->counters().multipart_uploads, 1u);
  auto back = (*s)->get("big");
  ASSERT_TRUE(back.ok() && *back);
  EXPECT_TRUE(**back == big) << "multipart object read back differs";
  ASSERT_TRUE((*s)->del("big").ok());
  EXPECT_FALSE(*(*s)->get("big"));

  // A wrong secret: a clear error naming the credentials, not the secret.
  auto wrong = o;
  wrong.secret_key = "not-the-secret-123";
  auto w = S3Store::open(wrong);
  ASSERT_FALSE(w.ok());
  EXPECT_NE(w.error().message.find("rejected the credentials"), std::string::npos)
      << w.error().message;
  EXPECT_NE(w.error().message.find("SignatureDoesNotMatch"), std::string::npos)
      << w.error().message;
  EXPECT_EQ(w.error().message.find("not-the-secret-123"), std::string::npos);
  auto unknown = o;
  unknown.access_key = "NOBODY";
  auto u = S3Store::open(unknown);
  ASSERT_FALSE(u.ok());
  EXPECT_NE(u.error().message.find("rejected the credentials"), std::string::npos)
      << u.error().message;
}

// A fake S3 endpoint that fails the first `failures` requests with 503.
struct FlakyS3 {
  httplib::Server http;
  std::thread thread;
  std::atomic<int> requests{0};
  int failures;
  int port;
  explicit FlakyS3(int f) : failures(f), port(free_port()) {
    auto handler = [this](const httplib::Request&, httplib::Response& res) {
      if (++requests <= failures) {
        res.status = 503;
        res.set_content("<Error><Code>SlowDown</Code></Error>", "application/xml");
      } else {
        res.status = 200;
      }
    };
    http.Put(".*", handler);
    http.Get(".*", handler);
    http.bind_to_port("127.0.0.1", port);
    thread = std::thread([this] { http.listen_after_bind(); });
    while (!http.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ~FlakyS3() {
    http.stop();
    thread.join();
  }
};

TEST(TierS3StoreIT, ServerErrorsAreRetriedWithBackoffThenSurfaced) {
  S3Options o;
  o.bucket = "b";
  o.access_key = "k";
  o.secret_key = "s";
  o.create_bucket = false;
  o.max_attempts = 4;
  o.backoff_ms = 10;
  {
    FlakyS3 flaky(2);
    o.endpoint = "http://127.0.0.1:" + std::to_string(flaky.port);
    auto s = S3Store::open(o);
    ASSERT_TRUE(s.ok());
    auto st = (*s)->put("k", "v");
    EXPECT_TRUE(st.ok()) << st.message();
    EXPECT_EQ(flaky.requests, 3);
    EXPECT_EQ((*s)->counters().retries, 2u);
  }
  {
    FlakyS3 down(1000);
    o.endpoint = "http://127.0.0.1:" + std::to_string(down.port);
    auto s = S3Store::open(o);
    ASSERT_TRUE(s.ok());
    auto st = (*s)->put("k", "v");
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(down.requests, 4);
    EXPECT_NE(st.message().find("after 4 attempts"), std::string::npos) << st.message();
    EXPECT_NE(st.message().find("503 SlowDown"), std::string::npos) << st.message();
  }
  o.endpoint = "http://127.0.0.1:" + std::to_string(free_port());  // nobody listens
  auto s = S3Store::open(o);
  ASSERT_TRUE(s.ok());
  auto st = (*s)->put("k", "v");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("connection error"), std::string::npos) << st.message();
}

TEST(TierStoreIT, RedisStoppedMidRunWritesFallThroughAndNothingIsLost) {
  Stack stack(PRESCALE_SOURCE_DIR);
  ASSERT_EQ(stack.start_redis(), "");
  ASSERT_EQ(stack.start_s3(), "");
  const std::string dir = stack.run_dir() + "/tier";
  std::array<std::unique_ptr<ObjectStore>, 3> tiers;
  RedisOptions ro;
  ro.url = redis_url(stack);
  ro.connect_timeout_ms = 200;
  tiers[kRedis] = std::move(*RedisStore::open(ro));
  tiers[kDir] = std::move(*DirStore::open(dir + "/nvme"));
  auto s3 = S3Store::open(s3_options(stack));
  ASSERT_TRUE(s3.ok()) << s3.error().message;
  tiers[kS3] = std::move(*s3);
  TieredOptions o;
  o.catalog_path = dir + "/catalog.db";
  o.rules.hot_per_hour = 1e9;  // nothing is hot: after the burst everything is written back
  o.rules.warm_per_hour = 0;   // ... to disk
  auto store = TieredStore::open(o, std::move(tiers));
  ASSERT_TRUE(store.ok()) << store.error().message;
  auto& s = **store;
  auto value = [](int i) { return std::string(10'000 + i, static_cast<char>('a' + i % 26)); };

  // A burst: writes land in Redis; when it ends they are written back to disk.
  s.set_burst(true);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(s.put("k" + std::to_string(i), value(i)).ok());
  EXPECT_EQ(s.row("k0")->value().tier, kRedis);
  s.set_burst(false);
  auto t = s.tick();
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(t->demotions, 20) << t->last_error;
  EXPECT_EQ(s.row("k0")->value().tier, kDir);

  // Another burst, and Redis goes away in the middle of it.
  s.set_burst(true);
  for (int i = 20; i < 30; ++i) ASSERT_TRUE(s.put("k" + std::to_string(i), value(i)).ok());
  ASSERT_TRUE(s.tick().ok());  // burst: stays in Redis
  s.set_burst(false);
  ASSERT_TRUE(s.tick().ok());  // written back
  s.set_burst(true);
  stack.stop_service("redis");
  for (int i = 30; i < 50; ++i) {
    auto st = s.put("k" + std::to_string(i), value(i));
    ASSERT_TRUE(st.ok()) << st.message();
    EXPECT_EQ(s.row("k" + std::to_string(i))->value().tier, kDir);
  }
  EXPECT_EQ(s.stats().fallthroughs, 20u);
  for (int i = 0; i < 50; ++i) {
    auto g = s.get("k" + std::to_string(i));
    ASSERT_TRUE(g.ok()) << i << ": " << g.error().message;
    ASSERT_TRUE(*g) << i;
    EXPECT_TRUE(**g == value(i)) << i;
  }
  // The migrator keeps working without Redis (a failed move is undone and retried later).
  s.set_burst(false);
  auto last = s.tick();
  ASSERT_TRUE(last.ok()) << last.error().message;
}

// The Spark job writes window aggregates as Redis hashes prescale:hot:agg:SENSOR:WINDOW_MS;
// the store adopts them into its catalog (so the migrator ages them) and removes them.
TEST(TierStoreIT, AdoptsTheSparkJobsRedisHashes) {
  Stack stack(PRESCALE_SOURCE_DIR);
  ASSERT_EQ(stack.start_redis(), "");
  ASSERT_EQ(redis_cli(stack, "HSET prescale:hot:agg:s1:60000 count 3 mean 1.5 max 2"), 0);
  ASSERT_EQ(redis_cli(stack, "HSET prescale:hot:agg:s2:60000 count 1 mean 7 max 7"), 0);
  ASSERT_EQ(redis_cli(stack, "SET unrelated:key x"), 0);
  // A claim a crashed adopter left behind is finished too.
  ASSERT_EQ(redis_cli(stack, "HSET tier-adopting:pt/prescale:hot:agg:s3:0 count 9"), 0);
  const std::string dir = stack.run_dir() + "/adopt";
  std::array<std::unique_ptr<ObjectStore>, 3> tiers;
  RedisOptions ro;
  ro.url = redis_url(stack);
  tiers[kRedis] = std::move(*RedisStore::open(ro));
  tiers[kDir] = std::move(*DirStore::open(dir + "/nvme"));
  TieredOptions o;
  o.catalog_path = dir + "/catalog.db";
  o.adopt_prefix = "prescale:hot:agg:";
  auto store = TieredStore::open(o, std::move(tiers));
  ASSERT_TRUE(store.ok()) << store.error().message;
  auto t = (*store)->tick();
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(t->adopted, 3) << t->last_error;
  auto g = (*store)->get("prescale:hot:agg:s1:60000");
  ASSERT_TRUE(g.ok() && *g);
  EXPECT_EQ(**g, R"({"count":"3","max":"2","mean":"1.5"})");
  EXPECT_EQ(**(*store)->get("prescale:hot:agg:s3:0"), R"({"count":"9"})");
  EXPECT_EQ(redis_cli(stack, "--raw EXISTS prescale:hot:agg:s1:60000 | grep -qx 0"), 0);
  auto l = (*store)->list("prescale:hot:agg:");
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->size(), 3u);
  t = (*store)->tick();
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->adopted, 0) << "its own copies are not adopted again";
  EXPECT_EQ(redis_cli(stack, "--raw EXISTS unrelated:key | grep -qx 1"), 0);
}

TEST(TierCliIT, ServeHttpApiAndShortCrashTest) {
  Stack stack(PRESCALE_SOURCE_DIR);
  ASSERT_EQ(stack.start_redis(), "");
  const std::string dir = stack.run_dir() + "/serve";
  std::filesystem::create_directories(dir);
  const int port = free_port();
  {
    std::ofstream y(dir + "/tier.yaml");
    y << "catalog: catalog.db\nport: " << port << "\ntick_ms: 50\n"
      << "nvme:\n  dir: nvme\n  codec: lz4\nredis:\n  url: " << redis_url(stack) << "\n";
  }
  {
    std::ofstream bad(dir + "/bad.yaml");
    bad << "catalog: c.db\nnvme:\n  dir: d\n  budget_mb: lots\n";
  }
  Child check({PRESCALE_BIN, "tier", "ls", "--config", dir + "/bad.yaml"}, "/dev/null",
              dir + "/bad.out", dir + "/bad.err");
  EXPECT_EQ(check.wait(20), 2);
  EXPECT_NE(read_text(dir + "/bad.err").find("bad.yaml:4: nvme.budget_mb"), std::string::npos)
      << read_text(dir + "/bad.err");

  Child serve({PRESCALE_BIN, "tier", "serve", "--config", dir + "/tier.yaml"}, "/dev/null",
              dir + "/serve.out", dir + "/serve.err");
  httplib::Client cli("127.0.0.1", port);
  bool up = false;
  for (int i = 0; i < 200 && !up; ++i) {
    auto r = cli.Get("/healthz");
    up = r && r->status == 200;
    if (!up) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(up) << read_text(dir + "/serve.err");
  auto put = cli.Put("/objects/sensor/1/agg", "payload-1", "application/octet-stream");
  ASSERT_TRUE(put);
  EXPECT_EQ(put->status, 204) << put->body;
  auto get = cli.Get("/objects/sensor/1/agg");
  ASSERT_TRUE(get);
  EXPECT_EQ(get->status, 200);
  EXPECT_EQ(get->body, "payload-1");
  EXPECT_EQ(cli.Get("/objects/nothing")->status, 404);
  EXPECT_EQ(cli.Get("/objects?prefix=sensor/")->body, "sensor/1/agg\n");
  EXPECT_EQ(cli.Post("/burst?on=1")->status, 204);
  auto stats = nlohmann::json::parse(cli.Get("/stats")->body);
  EXPECT_EQ(stats["tiers"]["nvme"]["objects"], 1);
  EXPECT_EQ(stats["burst"], true);
  EXPECT_NE(cli.Get("/metrics")->body.find("prescale_tier_objects{tier=\"nvme\"} 1"),
            std::string::npos);
  EXPECT_EQ(cli.Delete("/objects/sensor/1/agg")->status, 204);
  EXPECT_EQ(cli.Get("/objects/sensor/1/agg")->status, 404);
  serve.signal(SIGTERM);
  EXPECT_EQ(serve.wait(20), 0) << read_text(dir + "/serve.err");

  Child crash({PRESCALE_BIN, "tier", "crashtest", "--rounds", "20", "--format", "json"},
              "/dev/null", dir + "/crash.out", dir + "/crash.err");
  ASSERT_EQ(crash.wait(300), 0) << read_text(dir + "/crash.out") << read_text(dir + "/crash.err");
  auto j = nlohmann::json::parse(read_text(dir + "/crash.out"));
  EXPECT_EQ(j["rounds"], 20);
  EXPECT_EQ(j["lost"], 0);
  EXPECT_EQ(j["corrupted"], 0);
  EXPECT_EQ(j["orphans"], 0);
  EXPECT_GT(j["acked_puts"].get<int>(), 0);
}

}  // namespace
}  // namespace prescale::tier

#include "tier/placement.h"

#include <gtest/gtest.h>

#include <cmath>

namespace prescale::tier {
namespace {

TEST(TierTemperature, HalvesEveryHalfLife) {
  Temperature t{60};
  EXPECT_DOUBLE_EQ(t.at(8, 0, 60'000), 4);
  EXPECT_DOUBLE_EQ(t.at(8, 0, 120'000), 2);
  EXPECT_DOUBLE_EQ(t.on_access(8, 0, 60'000), 5);
  EXPECT_DOUBLE_EQ(t.at(8, 10'000, 5'000), 8) << "a clock going backwards does not heat";
}

TEST(TierTemperature, SteadyRateConvergesToThatRatePerHour) {
  Temperature t{600};
  double c = 0;
  std::int64_t last = 0;
  for (std::int64_t ms = 0; ms <= 6 * 3600 * 1000; ms += 10'000) {  // one access per 10 s
    c = t.on_access(c, last, ms);
    last = ms;
  }
  EXPECT_NEAR(t.per_hour(c, last, last), 360, 360 * 0.02);
}

struct PlaceCase {
  const char* name;
  PlacementRules rules;
  std::vector<Candidate> objects;
  std::vector<int> expected;
};

PlacementRules rules(std::uint64_t redis, std::uint64_t dir, bool burst = false) {
  PlacementRules r;
  r.hot_per_hour = 100;
  r.warm_per_hour = 10;
  r.redis_budget_bytes = redis;
  r.dir_budget_bytes = dir;
  r.burst = burst;
  return r;
}

TEST(TierPlacement, Table) {
  PlacementRules no_s3 = rules(100, 100);
  no_s3.configured = {true, true, false};
  PlacementRules no_redis = rules(100, 100);
  no_redis.configured = {false, true, true};
  const PlaceCase cases[] = {
      {"hot objects go to Redis, warm ones to disk, cold ones to S3",
       rules(1000, 1000),
       {{"h", kDir, 10, 500}, {"w", kDir, 10, 50}, {"c", kDir, 10, 1}},
       {kRedis, kDir, kS3}},
      {"when Redis is full the coldest hot object is demoted to disk first",
       rules(20, 1000),
       {{"a", kRedis, 10, 300}, {"b", kRedis, 10, 200}, {"c", kRedis, 10, 150}},
       {kRedis, kRedis, kDir}},
      {"when the disk is full the coldest warm object goes to S3",
       rules(0, 20),
       {{"a", kDir, 10, 50}, {"b", kDir, 10, 20}, {"c", kDir, 10, 11}},
       {kDir, kDir, kS3}},
      {"a cold object already in Redis is demoted even with room to spare",
       rules(1000, 1000),
       {{"a", kRedis, 10, 0.5}},
       {kS3}},
      {"a hot object in S3 is promoted to Redis",
       rules(1000, 1000),
       {{"a", kS3, 10, 1000}},
       {kRedis}},
      {"in burst mode a burst-written object keeps its Redis place though cold",
       rules(1000, 1000, true),
       {{"a", kRedis, 10, 0.1, true}, {"b", kRedis, 10, 0.1, false}},
       {kRedis, kS3}},
      {"burst mode still enforces the Redis budget: the overflow is written back to disk",
       rules(10, 1000, true),
       {{"a", kRedis, 10, 5, true}, {"b", kRedis, 10, 0.1, true}},
       {kRedis, kDir}},
      {"without S3 the disk takes everything colder, budget or not",
       no_s3,
       {{"a", kDir, 80, 50}, {"b", kDir, 80, 0}},
       {kDir, kDir}},
      {"without Redis hot objects stay on disk", no_redis, {{"a", kS3, 10, 1000}}, {kDir}},
      {"an object larger than the Redis budget goes to disk even when hot",
       rules(5, 1000),
       {{"a", kDir, 10, 1000}},
       {kDir}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(place(c.objects, c.rules), c.expected);
  }
}

TEST(TierPlacement, WriteTierIsRedisInBurstModeAndFallsToTheNextConfigured) {
  PlacementRules r = rules(1, 1);
  EXPECT_EQ(write_tier(r, kDir), kDir);
  r.burst = true;
  EXPECT_EQ(write_tier(r, kDir), kRedis);
  r.configured = {false, true, true};
  EXPECT_EQ(write_tier(r, kDir), kDir);
}

}  // namespace
}  // namespace prescale::tier

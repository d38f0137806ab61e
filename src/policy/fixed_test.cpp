#include "policy/fixed.h"

#include <gtest/gtest.h>

namespace prescale::policy {
namespace {

TEST(FixedTest, HoldsItsAllocationWhateverTheLoad) {
  core::ParamTable params;
  FixedPolicy p(PolicyEnv{}, params);
  core::Observation o;
  for (double load : {0.0, 1e5, 1e7}) {
    o.input_rps = load;
    const auto d = p.decide(o);
    EXPECT_EQ(d.target_executors, 15);
    EXPECT_EQ(d.tier, core::Tier::kNvme);
  }
}

TEST(FixedTest, ParametersSetCountTierAndCodec) {
  core::ParamTable params;
  params.set("executors", "7");
  params.set("tier", "redis");
  params.set("compression", "zstd");
  FixedPolicy p(PolicyEnv{}, params);
  EXPECT_TRUE(params.finish().ok());
  const auto d = p.decide(core::Observation{});
  EXPECT_EQ(d.target_executors, 7);
  EXPECT_EQ(d.tier, core::Tier::kRedis);
  EXPECT_EQ(d.compression, core::Compression::kZstd);
}

}  // namespace
}  // namespace prescale::policy

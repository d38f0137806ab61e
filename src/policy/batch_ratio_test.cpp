#include "policy/batch_ratio.h"

#include <gtest/gtest.h>

#include <vector>

namespace prescale::policy {
namespace {

PolicyEnv TestEnv() {
  PolicyEnv env;
  env.min_executors = 1;
  env.max_executors = 20;
  return env;
}

core::Observation Obs(double time_s, int active, int pending, double batch_ms) {
  core::Observation obs;
  obs.time_s = time_s;
  obs.active_executors = active;
  obs.pending_executors = pending;
  obs.batch_duration_ms = batch_ms;
  obs.trigger_ms = 500;
  return obs;
}

// t=0 acts on a calm batch (ratio 0.6: no change); t=5..55 accumulate `batch_ms`;
// t=60 acts on the mean of the 12 observations t=5..60.
std::vector<core::Observation> Interval(int active, int pending, double batch_ms) {
  std::vector<core::Observation> trace = {Obs(0, active, pending, 300)};
  for (int t = 5; t <= 60; t += 5) trace.push_back(Obs(t, active, pending, batch_ms));
  return trace;
}

struct RatioCase {
  const char* name;
  int active;
  int pending;
  double batch_ms;
  int expected_before;  // at t=55
  int expected;         // at t=60
};

TEST(BatchRatioPolicy, ActsOnTheMeanBatchRatioEveryInterval) {
  const RatioCase cases[] = {
      // 1000 / 500 = 2.0 >= 0.9 -> 4 registered + round(2.0) = 6.
      {"adds round(ratio) executors when batches take longer than 0.9 of the trigger", 4, 0, 1000,
       4, 6},
      // 1250 / 500 = 2.5 -> floor(2.5 + 0.5) = 3 -> 7.
      {"rounds the ratio half up", 4, 0, 1250, 4, 7},
      // 450 / 500 = 0.9 >= 0.9 -> max(round(0.9), 1) = 1 -> 5.
      {"adds at least one executor at exactly the scale-up ratio", 4, 0, 450, 4, 5},
      // 2 pending do not count: 4 registered + 2 = 6, not 8.
      {"adds on top of the registered executors only", 4, 2, 1000, 6, 6},
      // 150 / 500 = 0.3 <= 0.3 -> kill one: 4 -> 3.
      {"removes one executor when batches take at most 0.3 of the trigger", 4, 0, 150, 4, 3},
      // 300 / 500 = 0.6: between the ratios -> no change.
      {"holds between the two ratios", 4, 0, 300, 4, 4},
      // 1 registered = minExecutors: nothing to kill.
      {"never removes the last executor above the minimum", 1, 0, 100, 1, 1},
      // 10000 / 500 = 20 -> 18 + 20 = 38 -> bounded by max 20.
      {"bounds the request by the maximum executors", 18, 0, 10000, 18, 20},
  };
  for (const RatioCase& c : cases) {
    SCOPED_TRACE(c.name);
    core::ParamTable params("policies.batch-ratio");
    BatchRatioPolicy policy(TestEnv(), params);
    ASSERT_TRUE(params.finish().ok()) << params.finish().message();
    const std::vector<core::Observation> trace = Interval(c.active, c.pending, c.batch_ms);
    int at55 = -1;
    int at60 = -1;
    for (const auto& obs : trace) {
      const int target = policy.decide(obs).target_executors;
      if (obs.time_s == 55) at55 = target;
      if (obs.time_s == 60) at60 = target;
    }
    EXPECT_EQ(at55, c.expected_before);
    EXPECT_EQ(at60, c.expected);
  }
}

TEST(BatchRatioPolicy, AveragesEveryBatchOfTheInterval) {
  // scalingInterval 10 s: t=0 acts on 300 ms (0.6, no change). t=5: 200 ms, t=10: 800 ms:
  // mean (200 + 800) / 2 = 500 ms -> ratio 1.0 -> +1 -> 5.
  core::ParamTable params("policies.batch-ratio");
  params.set("scaling_interval_s", "10");
  BatchRatioPolicy policy(TestEnv(), params);
  ASSERT_TRUE(params.finish().ok()) << params.finish().message();
  EXPECT_EQ(policy.decide(Obs(0, 4, 0, 300)).target_executors, 4);
  EXPECT_EQ(policy.decide(Obs(5, 4, 0, 200)).target_executors, 4);
  EXPECT_EQ(policy.decide(Obs(10, 4, 0, 800)).target_executors, 5);
}

TEST(BatchRatioPolicy, IgnoresIntervalsWithoutCompletedBatches) {
  // No batch ran (duration 0): nothing to average, so no kill despite a "ratio" of 0.
  core::ParamTable params("policies.batch-ratio");
  BatchRatioPolicy policy(TestEnv(), params);
  EXPECT_EQ(policy.decide(Obs(0, 4, 0, 0)).target_executors, 4);
  EXPECT_EQ(policy.decide(Obs(60, 4, 0, 0)).target_executors, 4);
}

TEST(BatchRatioPolicy, HoldsWhenMetricsAreUnavailable) {
  core::ParamTable params("policies.batch-ratio");
  BatchRatioPolicy policy(TestEnv(), params);
  core::Observation obs = Obs(0, 4, 0, 5000);
  obs.metrics_available = false;
  EXPECT_EQ(policy.decide(obs).target_executors, 4);
  EXPECT_EQ(policy.name(), "batch-ratio");
}

TEST(BatchRatioPolicy, IsDeterministicAfterReset) {
  core::ParamTable params("policies.batch-ratio");
  BatchRatioPolicy policy(TestEnv(), params);
  std::vector<core::Observation> trace;
  for (int i = 0; i < 300; ++i) {
    trace.push_back(Obs(5.0 * i, 1 + (i % 12), i % 2, 100.0 + 97.0 * ((i * 7) % 13)));
  }
  std::vector<int> first;
  for (const auto& obs : trace) first.push_back(policy.decide(obs).target_executors);
  policy.reset();
  std::vector<int> second;
  for (const auto& obs : trace) second.push_back(policy.decide(obs).target_executors);
  EXPECT_EQ(first, second);
}

}  // namespace
}  // namespace prescale::policy

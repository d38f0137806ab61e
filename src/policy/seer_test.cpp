#include "policy/seer.h"

#include <gtest/gtest.h>

#include "policy/policy_test_util.h"

#include <string>
#include <utility>
#include <vector>

namespace prescale::policy {
namespace {

struct TrendCase {
  const char* name;
  std::vector<double> x;
  std::vector<double> y;
  double at;
  double expected;
};

TEST(LinearTrendForecast, FitsLeastSquaresLine) {
  const TrendCase cases[] = {
      // Exact line y = 100 + 20 x -> at 20: 500.
      {"extrapolates an exact line", {0, 5, 10}, {100, 200, 300}, 20, 500},
      // Points (0,0), (1,2), (2,1): x̄ = 1, ȳ = 1, sxy = (-1)(-1) + 0 + (1)(0) = 1,
      // sxx = 2 -> slope 0.5 -> at 4: 1 + 0.5 * 3 = 2.5.
      {"fits noisy points by least squares", {0, 1, 2}, {0, 2, 1}, 4, 2.5},
      {"returns the value of a single point", {3}, {7}, 100, 7},
      {"returns the mean when all times are equal", {1, 1}, {2, 4}, 10, 3},
      {"returns zero without points", {}, {}, 5, 0},
  };
  for (const TrendCase& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_DOUBLE_EQ(
        linear_trend_forecast(c.x.data(), c.y.data(), static_cast<int>(c.x.size()), c.at),
        c.expected);
  }
}

PolicyEnv TestEnv() {
  PolicyEnv env;
  env.min_executors = 1;
  env.max_executors = 40;
  env.cold_start_s = 60;
  env.executor_capacity_rps = 100;
  env.default_tier = core::Tier::kS3;
  return env;
}

core::Observation Obs(double time_s, double input_rps) {
  core::Observation obs;
  obs.time_s = time_s;
  obs.input_rps = input_rps;
  obs.active_executors = 3;
  return obs;
}

struct SeerCase {
  const char* name;
  std::vector<std::pair<std::string, std::string>> params;
  std::vector<double> rates;  // one observation every 5 s from t=0
  int expected;               // decision after the last observation
};

TEST(SeerPolicy, ScalesToTheExtrapolatedLoad) {
  // k = 1 / (100 rps * 0.9) = 1 / 90.
  const SeerCase cases[] = {
      // Slope 100 per 5 s = 20 rps/s; at t=25 + 60: 600 + 1200 = 1800 -> 1800 / 90 = 20.
      {"extrapolates a rising trend one cold start ahead", {}, {100, 200, 300, 400, 500, 600}, 20},
      // 450 / 90 = 5.
      {"provisions a flat load at the target utilisation", {}, {450, 450, 450, 450, 450, 450}, 5},
      // 100 - 1200 < 0 -> 0 executors -> clamped to the minimum 1.
      {"never predicts a negative load", {}, {600, 500, 400, 300, 200, 100}, 1},
      // Window 2: (20, 200), (25, 300): 20 rps/s -> 300 + 1200 = 1500 -> 16.67 -> 17.
      {"fits only the last `window` observations",
       {{"window", "2"}},
       {100, 100, 100, 100, 200, 300},
       17},
      // Horizon 0: the fitted line at t=25 is 600 -> 600 / 90 = 6.67 -> 7.
      {"uses the configured horizon", {{"horizon_s", "0"}}, {100, 200, 300, 400, 500, 600}, 7},
      // One observation: 900 / 90 = 10.
      {"uses the latest rate before it has a trend", {}, {900}, 10},
      // k = 1 / (100 * 0.5): 450 / 50 = 9.
      {"divides by the target utilisation", {{"target_util", "0.5"}}, {450}, 9},
  };
  for (const SeerCase& c : cases) {
    SCOPED_TRACE(c.name);
    core::ParamTable params = test_util::make_params("policies.seer", c.params);
    SeerPolicy policy(TestEnv(), params);
    ASSERT_TRUE(params.finish().ok()) << params.finish().message();
    int target = -1;
    for (size_t i = 0; i < c.rates.size(); ++i) {
      target = policy.decide(Obs(5.0 * i, c.rates[i])).target_executors;
    }
    EXPECT_EQ(target, c.expected);
  }
}

TEST(SeerPolicy, UsesTheWarmTierAndHoldsWithoutCapacity) {
  core::ParamTable params("policies.seer");
  SeerPolicy policy(TestEnv(), params);
  EXPECT_EQ(policy.name(), "seer");
  EXPECT_EQ(policy.decide(Obs(0, 450)).tier, core::Tier::kNvme);

  PolicyEnv no_capacity = TestEnv();
  no_capacity.executor_capacity_rps = 0;
  core::ParamTable p2("policies.seer");
  SeerPolicy blind(no_capacity, p2);
  EXPECT_EQ(blind.decide(Obs(0, 450)).target_executors, 3);
}

TEST(SeerPolicy, IsDeterministicAfterReset) {
  core::ParamTable params("policies.seer");
  SeerPolicy policy(TestEnv(), params);
  std::vector<core::Observation> trace;
  for (int i = 0; i < 300; ++i) trace.push_back(Obs(5.0 * i, 500.0 + 37.0 * ((i * 11) % 17)));
  std::vector<int> first;
  for (const auto& obs : trace) first.push_back(policy.decide(obs).target_executors);
  policy.reset();
  std::vector<int> second;
  for (const auto& obs : trace) second.push_back(policy.decide(obs).target_executors);
  EXPECT_EQ(first, second);
}

}  // namespace
}  // namespace prescale::policy

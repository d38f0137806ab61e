#include "policy/phpa.h"

#include <gtest/gtest.h>

#include "policy/policy_test_util.h"

#include <string>
#include <utility>
#include <vector>

namespace prescale::policy {
namespace {

struct HoltWintersCase {
  const char* name;
  std::vector<double> y;
  int season;
  double expected;
};

TEST(HoltWintersAdditive, ForecastsLevelTrendAndSeason) {
  std::vector<double> scratch(8);
  const HoltWintersCase cases[] = {
      // Level 5, no trend, no season: stays 5.
      {"forecasts a constant series as its level", std::vector<double>(12, 5.0), 3, 5},
      // Season [1, 2, 3]: level 2, trend 0, seasonal [-1, 0, 1] reproduce the series
      // exactly, so every update leaves the state unchanged; the value after 12 values is
      // the season's first: 2 - 1 = 1.
      {"repeats a clean season", {1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3}, 3, 1},
      // After 13 values the next is the season's second: 2 + 0 = 2.
      {"continues the season where the history stops",
       {1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3, 1},
       3,
       2},
      // Fewer than two seasons: no fit, the last value.
      {"falls back to the last value without two seasons", {4, 9, 7}, 3, 7},
  };
  for (const HoltWintersCase& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_NEAR(holt_winters_additive_forecast(c.y.data(), static_cast<int>(c.y.size()), c.season,
                                               0.9, 0.9, 0.9, 1, scratch.data()),
                c.expected, 1e-9);
  }
}

PolicyEnv TestEnv() {
  PolicyEnv env;
  env.min_executors = 1;
  env.max_executors = 40;
  env.cores_per_executor = 4;
  env.cold_start_s = 60;
  return env;
}

core::Observation Obs(double time_s, int active, double cpu) {
  core::Observation obs;
  obs.time_s = time_s;
  obs.active_executors = active;
  obs.cpu_util = cpu;
  obs.input_rps = 1000;
  return obs;
}

core::Observation WithForecast(core::Observation obs, bool burst, double forecast_rps) {
  obs.burst_signal = burst;
  obs.forecast_rps = forecast_rps;
  return obs;
}

using Step = test_util::DecisionStep;

struct PhpaCase {
  const char* name;
  std::vector<std::pair<std::string, std::string>> params;
  std::vector<Step> steps;
};

TEST(PhpaPolicy, TakesTheMaximumOfTheHpaValueAndTheForecasts) {
  const PhpaCase cases[] = {
      {"scales ahead of the HPA when the replica trend rises",
       {},
       // t=0: 80% -> the HPA keeps 4 (history (0, 4)). t=15: 100% -> HPA ceil(1.25 * 4) = 5;
       // OLS through (0, 4), (15, 5) at 15 + 60 s look-ahead: 4.5 + (1/15) * 67.5 = 9.
       {{Obs(0, 4, 0.80), 4}, {Obs(15, 4, 1.0), 9}}},
      {"keeps the HPA value when the trend falls, then stabilises the drop for 300 s",
       {},
       // t=15: HPA ceil(0.5 * 10) = 5, forecast 7.5 - (1/3) * 67.5 = -15 -> 5; the
       // downscale window still holds 10. t=300: history (0,10), (15,5), (300,5): OLS at
       // 360 = 6.667 - 0.009186 * 255 = 4.32 -> 5; the window (0, 300] holds only 5s.
       {{Obs(0, 10, 0.80), 10}, {Obs(15, 10, 0.40), 10}, {Obs(300, 10, 0.40), 5}}},
      {"adds the edge forecast as one more model",
       {},
       // HPA 4 (80%); edge = ceil(4 * (0.8 / 0.8) * 2000 / 1000) = 8.
       {{WithForecast(Obs(0, 4, 0.80), true, 2000), 8}}},
      {"uses a forecast rate even without a burst signal",
       {},
       {{WithForecast(Obs(0, 4, 0.80), false, 2000), 8}}},
      {"ignores the edge when there is no forecast",
       {},
       {{WithForecast(Obs(0, 4, 0.80), false, 0), 4}}},
      {"ignores the edge forecast when disabled",
       {{"use_edge_forecast", "false"}},
       {{WithForecast(Obs(0, 4, 0.80), true, 2000), 4}}},
      {"holds between syncs",
       {},
       // t=5 and t=10 are not syncs even though cpu is at 100%.
       {{Obs(0, 4, 0.80), 4}, {Obs(5, 4, 1.0), 4}, {Obs(10, 4, 1.0), 4}}},
  };
  for (const PhpaCase& c : cases) {
    SCOPED_TRACE(c.name);
    core::ParamTable params = test_util::make_params("policies.phpa", c.params);
    PhpaPolicy policy(TestEnv(), params);
    ASSERT_TRUE(params.finish().ok()) << params.finish().message();
    test_util::expect_targets(policy, c.steps);
  }
}

TEST(PhpaPolicy, HoltWintersForecastsTheNextPeakOfASeason) {
  // Target 50%, 4 executors: 100% -> ceil(2.0 * 4) = 8, 50% -> 4 (ratio 1). The proposal
  // cycles 8, 4, 4 every 45 s (season of 3 syncs). With 12 values (4 seasons, also
  // statsmodels' minimum 10 + 2 * 1) the model sees the pattern: at sync 11 the HPA says 4
  // but the next value is a season start: level 5.33 + seasonal 2.67 = 8.
  core::ParamTable params("policies.phpa");
  params.set("model", "holt-winters");
  params.set("hw_season_length", "3");
  params.set("hw_stored_seasons", "4");
  params.set("target_cpu_percent", "50");
  params.set("downscale_stabilization_s", "0");
  PhpaPolicy policy(TestEnv(), params);
  ASSERT_TRUE(params.finish().ok()) << params.finish().message();
  std::vector<int> decisions;
  for (int i = 0; i < 12; ++i) {
    decisions.push_back(policy.decide(Obs(15.0 * i, 4, i % 3 == 0 ? 1.0 : 0.5)).target_executors);
  }
  EXPECT_EQ(decisions[9], 8);   // a peak: the HPA alone says 8
  EXPECT_EQ(decisions[10], 4);  // 11 values: no forecast yet, the HPA says 4
  EXPECT_EQ(decisions[11], 8);  // forecast of the coming peak
}

TEST(PhpaPolicy, HoldsWhenMetricsAreUnavailable) {
  core::ParamTable params("policies.phpa");
  PhpaPolicy policy(TestEnv(), params);
  core::Observation obs = Obs(0, 4, 1.0);
  obs.metrics_available = false;
  EXPECT_EQ(policy.decide(obs).target_executors, 4);
  EXPECT_EQ(policy.name(), "phpa");
}

TEST(PhpaPolicy, IsDeterministicAfterReset) {
  for (const char* model : {"linear", "holt-winters"}) {
    SCOPED_TRACE(model);
    core::ParamTable params("policies.phpa");
    params.set("model", model);
    PhpaPolicy policy(TestEnv(), params);
    std::vector<core::Observation> trace;
    for (int i = 0; i < 400; ++i) {
      core::Observation obs = Obs(5.0 * i, 2 + (i % 9), 0.2 + 0.08 * ((i * 5) % 11));
      obs.pending_executors = i % 2;
      trace.push_back(WithForecast(obs, i % 50 > 40, 1500.0 * (i % 3)));
    }
    std::vector<int> first;
    for (const auto& obs : trace) first.push_back(policy.decide(obs).target_executors);
    policy.reset();
    std::vector<int> second;
    for (const auto& obs : trace) second.push_back(policy.decide(obs).target_executors);
    EXPECT_EQ(first, second);
  }
}

}  // namespace
}  // namespace prescale::policy

#include "policy/ds2.h"

#include <gtest/gtest.h>

#include "policy/policy_test_util.h"

#include <cmath>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace prescale::policy {
namespace {

Ds2Config FlinkDefaults() { return Ds2Config{}; }

Ds2Config Tuned() {
  Ds2Config c;
  c.catch_up_duration_s = 300;
  c.restart_time_s = 120;
  return c;
}

TEST(Ds2TargetCapacity, FollowsGetTargetProcessingCapacity) {
  const Ds2Config c = FlinkDefaults();
  // lag/catchUp + input*restart/catchUp + input/u
  //   = 18000/1800 + 700*300/1800 + 700/0.7 = 10 + 116.67 + 1000 = 1126.67 -> 1127.
  EXPECT_EQ(ds2_target_capacity(c, 700, 18000, 0.7, true), 1127);
  // Without the restart term: 10 + 1000 = 1010.
  EXPECT_EQ(ds2_target_capacity(c, 700, 18000, 0.7, false), 1010);
  // Utilisation 0 means infinite capacity (never scale down on it).
  EXPECT_TRUE(std::isinf(ds2_target_capacity(c, 700, 0, 0.0, true)));
  // Catch-up 0 disables both catch-up terms: 700 / 0.7 = 1000.
  Ds2Config no_catch_up = c;
  no_catch_up.catch_up_duration_s = 0;
  EXPECT_EQ(ds2_target_capacity(no_catch_up, 700, 18000, 0.7, true), 1000);
}

struct EvalCase {
  const char* name;
  Ds2Config config;
  Ds2Metrics metrics;
  bool expected_within;
  int expected_parallelism;
};

TEST(Ds2Evaluate, ScalesToTheTargetCapacityOutsideTheThresholds) {
  const double inf = INFINITY;
  const EvalCase cases[] = {
      // up = round(700 / 1.0) = 700; down = round(700*300/1800 + 700/0.4) = round(1866.67)
      // = 1867; TPR 1000 lies inside -> no scaling (new parallelism would be
      // ceil(1117 / 1000 * 10) = 12, target round(116.67 + 1000) = 1117).
      {"holds while the true processing rate lies between the thresholds",
       FlinkDefaults(),
       {700, 700, 1000, 0, 10},
       true,
       12},
      // up = 1400 > TPR 1000 -> scale; target = round(1400*300/1800 + 1400/0.7)
      // = round(233.33 + 2000) = 2233 -> ceil(2.233 * 10) = 23.
      {"scales up by target capacity / true processing rate",
       FlinkDefaults(),
       {1400, 1000, 1000, 0, 10},
       false,
       23},
      // Tuned: target = round(60000/300 + 1400*120/300 + 2000) = 200 + 560 + 2000 = 2760
      // -> ceil(27.6) = 28. (lag 60000 / 1000 read per s = 60 s: not a backlog.)
      {"adds the lag and restart catch-up rates to the target",
       Tuned(),
       {1400, 1000, 1000, 60000, 10},
       false,
       28},
      // down = round(200*300/1800 + 200/0.4) = round(533.33) = 533 < TPR 1000 -> scale;
      // target = round(33.33 + 285.71) = 319 -> factor 0.319 bounded to 1 - 0.6 = 0.4 ->
      // ceil(4.0) = 4.
      {"scales down by at most the scale-down max factor",
       FlinkDefaults(),
       {200, 200, 1000, 0, 10},
       false,
       4},
      // lag 80000 / 200 = 400 s > 300 s: processing backlog -> lower utilisation 0 ->
      // down threshold +inf; up = round(80000/1800 + 200/1.0) = 244 <= 1000 -> inside.
      {"does not scale down while processing a backlog",
       FlinkDefaults(),
       {200, 200, 1000, 80000, 10},
       true,
       4},
      // lag 20000 / 200 = 100 s: not a backlog; down = round(11.11 + 33.33 + 500) = 544
      // < 1000 -> scale; target = round(11.11 + 33.33 + 285.71) = 330 -> 0.4 -> 4.
      {"may scale down with a small lag", FlinkDefaults(), {200, 200, 1000, 20000, 10}, false, 4},
      // Nothing processed: TPR +inf > down threshold 0 -> outside; factor 0 -> 0.4 -> 4.
      {"scales down when no data flows", FlinkDefaults(), {0, 0, inf, 0, 10}, false, 4},
  };
  for (const EvalCase& c : cases) {
    SCOPED_TRACE(c.name);
    const Ds2Evaluation e = ds2_evaluate(c.config, c.metrics);
    EXPECT_EQ(e.within_target, c.expected_within);
    EXPECT_EQ(e.new_parallelism, c.expected_parallelism);
  }
}

// --- Ds2Policy timing ---------------------------------------------------------------------

PolicyEnv TestEnv() {
  PolicyEnv env;
  env.min_executors = 1;
  env.max_executors = 40;
  env.step_s = 5;
  return env;
}

struct Load {
  double input_rps;
  double lag;
};

// Each executor processes up to 100 records/s, so the true processing rate is always
// 100 * active: processed = min(input, 100 * active), busy = processed / (100 * active).
constexpr double kExecutorRate = 100;

// Runs the policy every 5 s from t=0 to `until`, feeding back its decision as the active
// executors, with the load given by `load(t)`. Returns the decision at every step.
std::vector<std::pair<double, int>> RunLoop(Ds2Policy& policy, double until, int initial,
                                            const std::function<Load(double)>& load) {
  std::vector<std::pair<double, int>> out;
  int active = initial;
  for (double t = 0; t <= until + 1e-9; t += 5) {
    const Load l = load(t);
    const double capacity = kExecutorRate * active;
    core::Observation obs;
    obs.time_s = t;
    obs.active_executors = active;
    obs.input_rps = l.input_rps;
    obs.processed_rps = std::min(l.input_rps, capacity);
    obs.busy_fraction = obs.processed_rps / capacity;
    obs.backlog_records = l.lag;
    active = policy.decide(obs).target_executors;
    out.emplace_back(t, active);
  }
  return out;
}

int At(const std::vector<std::pair<double, int>>& run, double t) {
  for (const auto& [time, target] : run) {
    if (std::abs(time - t) < 1e-9) return target;
  }
  return -1;
}

struct TimingCase {
  const char* name;
  std::vector<std::pair<std::string, std::string>> params;
  double until;
  std::function<Load(double)> load;
  std::vector<std::pair<double, int>> expected;  // (t, target)
};

TEST(Ds2Policy, StabilisesFillsTheWindowAndDelaysScaleDowns) {
  // Overload on 10 executors: 1400 rps arrive, 1000 processed at 100% busy -> TPR 1000,
  // target 2233 -> 23 (see above). On 23 executors: 1400 processed at 61% busy ->
  // TPR 2300, inside [up 1400, down round(233.33 + 1400 / 0.4) = 3733]: it stays.
  const auto overload = [](double) { return Load{1400, 0}; };
  const TimingCase cases[] = {
      {"waits for the stabilisation interval and a full metrics window",
       {{"metrics_window_s", "60"}},
       800,
       overload,
       // Samples from t=300 (stabilisation), window full at 300 + 60 = 360.
       {{295, 10}, {355, 10}, {360, 23}, {715, 23}, {800, 23}}},
      {"uses the 15-minute default window",
       {},
       1300,
       overload,
       // 300 + 900 = 1200.
       {{1195, 10}, {1200, 23}}},
      {"stabilises again after a rescale",
       {{"metrics_window_s", "60"}},
       1200,
       [](double t) {
         return t < 400 ? Load{1400, 0} : Load{5000, 0};
       },
       // t=360 -> 23. From t=400 an overload on 23 executors (TPR 2300, target
       // round(5000*300/1800 + 5000/0.7) = round(833.33 + 7142.86) = 7976 ->
       // ceil(7976 / 2300 * 23) = ceil(79.76) = 80 -> clamped to 40), but no decision
       // before 360 + 300 (stabilisation) + 60 (window) = 720.
       {{360, 23}, {715, 23}, {720, 40}}},
      {"delays a scale-down by the scale-down interval",
       {{"metrics_window_s", "60"}, {"scale_down_interval_s", "120"}},
       600,
       [](double) {
         return Load{200, 0};
       },
       // TPR 200 / 0.2 = 1000 on 10 executors; down threshold 533 -> scale to 4. First
       // triggered at t=360, executed at 360 + 120 = 480.
       {{360, 10}, {420, 10}, {475, 10}, {480, 4}}},
  };
  for (const TimingCase& c : cases) {
    SCOPED_TRACE(c.name);
    core::ParamTable params = test_util::make_params("policies.ds2", c.params);
    Ds2Policy policy(TestEnv(), params);
    ASSERT_TRUE(params.finish().ok()) << params.finish().message();
    const auto run = RunLoop(policy, c.until, 10, c.load);
    for (const auto& [t, expected] : c.expected) {
      SCOPED_TRACE(testing::Message() << "t=" << t);
      EXPECT_EQ(At(run, t), expected);
    }
  }
}

TEST(Ds2Policy, NamesAndDefaultsOfTheTwoVariants) {
  core::ParamTable p1("policies.ds2");
  Ds2Policy ds2(TestEnv(), p1);
  EXPECT_EQ(ds2.name(), "ds2");
  core::ParamTable p2("policies.ds2-tuned");
  p2.set("metrics_window_s", "60");
  Ds2Policy tuned(TestEnv(), p2, /*tuned=*/true);
  EXPECT_EQ(tuned.name(), "ds2-tuned");
  // Tuned target with 60000 records of lag: 2760 -> 28 executors (see above).
  const auto run = RunLoop(tuned, 400, 10, [](double) { return Load{1400, 60000}; });
  EXPECT_EQ(At(run, 360), 28);
}

TEST(Ds2Policy, HoldsWhenMetricsAreUnavailable) {
  core::ParamTable params("policies.ds2");
  Ds2Policy policy(TestEnv(), params);
  core::Observation obs;
  obs.active_executors = 7;
  obs.metrics_available = false;
  EXPECT_EQ(policy.decide(obs).target_executors, 7);
}

TEST(Ds2Policy, IsDeterministicAfterReset) {
  core::ParamTable params("policies.ds2-tuned");
  params.set("metrics_window_s", "120");
  params.set("stabilization_interval_s", "60");
  Ds2Policy policy(TestEnv(), params, true);
  const auto load = [](double t) {
    return Load{500 + 400 * std::sin(t / 200), t > 1000 ? 5e4 : 0};
  };
  const auto first = RunLoop(policy, 3000, 6, load);
  policy.reset();
  const auto second = RunLoop(policy, 3000, 6, load);
  EXPECT_EQ(first, second);
}

}  // namespace
}  // namespace prescale::policy

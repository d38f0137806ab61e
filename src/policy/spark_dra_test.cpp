#include "policy/spark_dra.h"

#include <gtest/gtest.h>

#include "policy/policy_test_util.h"

#include <string>
#include <utility>
#include <vector>

namespace prescale::policy {
namespace {

PolicyEnv TestEnv(int max_executors, int tasks_per_batch, double step_s) {
  PolicyEnv env;
  env.min_executors = 1;
  env.max_executors = max_executors;
  env.cores_per_executor = 4;
  env.tasks_per_batch = tasks_per_batch;
  env.step_s = step_s;
  return env;
}

// A step of `step_s` seconds ending at `time_s`; `backlogged` makes the batch overrun.
core::Observation Obs(double time_s, double step_s, int active, bool backlogged,
                      double input_rps = 1000) {
  core::Observation obs;
  obs.time_s = time_s;
  obs.step_s = step_s;
  obs.active_executors = active;
  obs.input_rps = input_rps;
  obs.trigger_ms = 500;
  obs.batch_duration_ms = backlogged ? 800 : 300;
  return obs;
}

using Step = test_util::DecisionStep;

struct DraCase {
  const char* name;
  PolicyEnv env;
  std::vector<std::pair<std::string, std::string>> params;
  std::vector<Step> steps;
};

TEST(SparkDraPolicy, AddsInDoublingRoundsAndRemovesIdleExecutors) {
  const DraCase cases[] = {
      {"adds 1, 2, 4 executors in successive 1 s rounds while tasks stay backlogged",
       TestEnv(100, 200, 1),
       {},
       // 1 s steps. t=1: backlog since t=0, first round at 0 + 1 = 1: 4 + 1 = 5.
       // t=2: +2 = 7. t=3: +4 = 11. (maxNeeded = ceil(200 / 4) = 50.)
       {{Obs(0, 1, 4, false), 4},
        {Obs(1, 1, 4, true), 5},
        {Obs(2, 1, 5, true), 7},
        {Obs(3, 1, 7, true), 11}}},
      {"resets the increment to 1 when the backlog clears",
       TestEnv(100, 200, 1),
       {},
       // t=1: 5, t=2: 7 (next increment 4). t=3: queue empty -> increment 1.
       // t=4: backlog again from t=3, round at 3 + 1 = 4: 7 + 1 = 8.
       {{Obs(1, 1, 4, true), 5},
        {Obs(2, 1, 5, true), 7},
        {Obs(3, 1, 7, false), 7},
        {Obs(4, 1, 7, true), 8}}},
      {"waits for the schedulerBacklogTimeout before the first round",
       TestEnv(100, 200, 1),
       {{"scheduler_backlog_timeout_s", "2"}},
       // Backlog from t=0: first round at 0 + 2 = 2, then every 2 s (the sustained
       // timeout defaults to the backlog timeout): t=4: 5 + 2 = 7.
       {{Obs(1, 1, 4, true), 4},
        {Obs(2, 1, 4, true), 5},
        {Obs(3, 1, 5, true), 5},
        {Obs(4, 1, 5, true), 7}}},
      {"applies every round of a 5 s step at once",
       TestEnv(100, 200, 5),
       {},
       // Backlog over [0, 5]: rounds at 1, 2, 3, 4, 5: 4 +1 +2 +4 +8 +16 = 35.
       {{Obs(5, 5, 4, true), 35}}},
      {"caps the target at the executors all tasks could use",
       TestEnv(100, 200, 5),
       {},
       // t=5: 35 (next increment 32). t=10: 35 + 32 = 67 -> min(67, ceil(200 / 4) = 50).
       {{Obs(5, 5, 4, true), 35}, {Obs(10, 5, 35, true), 50}}},
      {"caps the target at the maximum executors",
       TestEnv(20, 200, 5),
       {},
       // 4 -> 5 -> 7 -> 11 -> 19 -> min(35, 50) clamped to 20.
       {{Obs(5, 5, 4, true), 20}}},
      {"removes executors that got no task for the idle timeout",
       TestEnv(20, 40, 5),
       {},
       // 40 tasks fill ceil(40 / 4) = 10 executors: 4 of 14 are idle in every batch. The
       // observations at t=0..55 cover 60 s of idleness -> at t=55 remove 4 -> 10.
       {{Obs(0, 5, 14, false), 14},
        {Obs(5, 5, 14, false), 14},
        {Obs(10, 5, 14, false), 14},
        {Obs(15, 5, 14, false), 14},
        {Obs(20, 5, 14, false), 14},
        {Obs(25, 5, 14, false), 14},
        {Obs(30, 5, 14, false), 14},
        {Obs(35, 5, 14, false), 14},
        {Obs(40, 5, 14, false), 14},
        {Obs(45, 5, 14, false), 14},
        {Obs(50, 5, 14, false), 14},
        {Obs(55, 5, 14, false), 10},
        {Obs(60, 5, 10, false), 10}}},
      {"never removes executors while every batch spreads over all of them",
       TestEnv(20, 200, 5),
       {},
       // 200 tasks need 50 executors' slots: none of the 14 is ever idle.
       {{Obs(0, 5, 14, false), 14}, {Obs(60, 5, 14, false), 14}, {Obs(120, 5, 14, false), 14}}},
      {"removes all idle executors down to the minimum when no data arrives",
       TestEnv(20, 200, 5),
       {{"executor_idle_timeout_s", "10"}},
       // No input: all 6 idle; 10 s = 2 observations -> at t=5 remove 6 - min 1 = 5.
       {{Obs(0, 5, 6, false, 0), 6}, {Obs(5, 5, 6, false, 0), 1}}},
  };
  for (const DraCase& c : cases) {
    SCOPED_TRACE(c.name);
    core::ParamTable params = test_util::make_params("policies.spark-dra", c.params);
    SparkDraPolicy policy(c.env, params);
    ASSERT_TRUE(params.finish().ok()) << params.finish().message();
    test_util::expect_targets(policy, c.steps);
  }
}

TEST(SparkDraPolicy, HoldsWhenMetricsAreUnavailable) {
  core::ParamTable params("policies.spark-dra");
  SparkDraPolicy policy(TestEnv(20, 200, 5), params);
  core::Observation obs = Obs(5, 5, 4, true);
  obs.metrics_available = false;
  EXPECT_EQ(policy.decide(obs).target_executors, 4);
  EXPECT_EQ(policy.name(), "spark-dra");
}

TEST(SparkDraPolicy, IsDeterministicAfterReset) {
  core::ParamTable params("policies.spark-dra");
  SparkDraPolicy policy(TestEnv(20, 40, 5), params);
  std::vector<core::Observation> trace;
  for (int i = 0; i < 300; ++i) {
    trace.push_back(Obs(5.0 * i, 5, 2 + (i % 15), (i / 10) % 3 == 0, (i / 50) % 2 ? 0 : 500));
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

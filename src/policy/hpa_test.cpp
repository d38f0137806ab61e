#include "policy/hpa.h"

#include <gtest/gtest.h>

#include "policy/policy_test_util.h"

#include <optional>
#include <vector>

namespace prescale::policy {
namespace {

PolicyEnv TestEnv() {
  PolicyEnv env;
  env.min_executors = 1;
  env.max_executors = 20;
  env.cores_per_executor = 4;
  return env;
}

core::Observation Obs(double time_s, int active, int pending, double cpu) {
  core::Observation obs;
  obs.time_s = time_s;
  obs.step = static_cast<int>(time_s / 5);
  obs.active_executors = active;
  obs.pending_executors = pending;
  obs.cpu_util = cpu;
  return obs;
}

// --- HpaCalculator::resource_replicas -----------------------------------------------------

struct ResourceCase {
  const char* name;
  int current;
  int ready;
  int unready;
  double cpu;
  int target_percent;
  std::optional<int> expected;
};

TEST(HpaCalculator, ResourceReplicasFollowsReplicaCalculator) {
  const ResourceCase cases[] = {
      // 90% / 80% = 1.125, outside 0.1 -> ceil(1.125 * 4) = ceil(4.5) = 5.
      {"scales up by the ratio when all pods are ready", 4, 4, 0, 0.90, 80, 5},
      // 87% / 80% = 1.0875, |1 - 1.0875| <= 0.1 -> current.
      {"holds inside the +10% tolerance band", 4, 4, 0, 0.87, 80, 4},
      // 72% / 80% = 0.9, |1 - 0.9| <= 0.1 -> current.
      {"holds inside the -10% tolerance band", 4, 4, 0, 0.72, 80, 4},
      // 40% / 80% = 0.5 -> ceil(0.5 * 10) = 5.
      {"scales down by the ratio", 10, 10, 0, 0.40, 80, 5},
      // usage 0.7199 * 10 * 4000 m = 28796 m of 40000 m -> 71.99% -> 71% (integer percent);
      // 71 / 80 = 0.8875, outside the band -> ceil(8.875) = 9. Without truncation 0.899875
      // would have been inside the band.
      {"truncates utilisation to a whole percent before the tolerance check", 10, 10, 0, 0.7199, 80,
       9},
      // Ratio 100 / 80 = 1.25 > 1 with 2 pending: re-run with them at 0%:
      // 16000 m * 100 / 24000 m = 66% -> 0.825 < 1: direction reversed -> current.
      {"holds when counting pending executors as idle reverses the direction", 6, 4, 2, 1.0, 80, 6},
      // 10 ready at 100% (ratio 1.25 would give 13), 2 pending at 0%:
      // 40000 * 100 / 48000 = 83% -> 1.0375, inside the band -> current.
      {"holds when the pending executors bring the ratio into tolerance", 12, 10, 2, 1.0, 80, 12},
      // 4 ready at 100%, 1 pending, target 50%: ratio 2.0 > 1; re-run:
      // 16000 * 100 / 20000 = 80% -> 1.6 -> ceil(1.6 * 5 pods counted) = 8.
      {"still scales up over all pods when the dampened ratio stays above 1", 5, 4, 1, 1.0, 50, 8},
      // Ratio 20 / 80 = 0.25 < 1: pending pods are not rebalanced on a scale-down:
      // ceil(0.25 * 4) = 1.
      {"ignores pending executors on a scale-down", 6, 4, 2, 0.20, 80, 1},
      {"gives no proposal when no executor is ready", 3, 0, 3, 0.0, 80, std::nullopt},
  };
  HpaCalculator calc;
  calc.request_millicores = 4000;
  for (const ResourceCase& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(calc.resource_replicas(c.current, c.ready, c.unready, c.cpu, c.target_percent),
              c.expected);
  }
}

struct ExternalCase {
  const char* name;
  int status_replicas;
  double metric_total;
  double target;
  int expected;
};

TEST(HpaCalculator, ExternalPerPodReplicasFollowsReplicaCalculator) {
  const ExternalCase cases[] = {
      // 100 / (10 * 4) = 2.5 -> ceil(100 / 10) = 10.
      {"proposes total / target outside the tolerance", 4, 100, 10, 10},
      // 42 / (10 * 4) = 1.05, inside the band -> status replicas.
      {"keeps the replica count inside the tolerance", 4, 42, 10, 4},
      // No replicas: the ratio is infinite -> ceil(5 / 10) = 1.
      {"proposes from zero replicas", 0, 5, 10, 1},
      // 0 / 100 = 0 -> ceil(0) = 0.
      {"proposes zero for an empty metric", 10, 0, 10, 0},
  };
  HpaCalculator calc;
  for (const ExternalCase& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(calc.external_per_pod_replicas(c.status_replicas, c.metric_total, c.target),
              c.expected);
  }
}

// --- HpaBehavior ---------------------------------------------------------------------------

struct Step {
  double time_s;
  int current;
  std::optional<int> proposal;
  int expected;
};

struct BehaviorCase {
  const char* name;
  std::vector<Step> steps;
};

TEST(HpaBehavior, ReconcileAppliesWindowsAndRateLimits) {
  const BehaviorCase cases[] = {
      {"limits a scale-up to max(+4 pods, +100%) per 15 s: 2 wanting 20 gets 6",
       // pods: 2 + 4 = 6; percent: ceil(2 * 2) = 4; Max -> 6.
       {{0, 2, 20, 6}}},
      {"limits a scale-up to max(+4 pods, +100%) per 15 s: 10 wanting 40 gets 20",
       // pods: 10 + 4 = 14; percent: 10 * 2 = 20; Max -> 20.
       {{0, 10, 40, 20}}},
      {"starts a fresh period every 15 s",
       // t=0: 2 -> 6 (event +4 at 0). t=15: the event is not after 15 - 15 = 0, so the
       // period starts at 6: max(6 + 4, 12) = 12. t=30: from 12: max(16, 24) = 20.
       {{0, 2, 20, 6}, {15, 6, 20, 12}, {30, 12, 20, 20}}},
      {"counts replicas added earlier in the same period",
       // t=0: 2 -> 6. t=5: +4 within (-10, 5] -> period start 2 -> limit 6: no change.
       {{0, 2, 20, 6}, {5, 6, 20, 6}}},
      {"scales down only when every recommendation of the last 300 s is lower",
       // t=0 records the initial 10 and 10; from t=15 the metric wants 4, but the window
       // (t-300, t] still holds a 10 until t=300, when only the 4s remain.
       {{0, 10, 10, 10}, {15, 10, 4, 10}, {150, 10, 4, 10}, {285, 10, 4, 10}, {300, 10, 4, 4}}},
      {"scales down to the highest recommendation left in the window",
       // At t=300 the window (0, 300] holds 8 (t=15) and 6s -> 8; at t=315 only 6s -> 6.
       {{0, 10, 10, 10}, {15, 10, 8, 10}, {30, 10, 6, 10}, {300, 10, 6, 8}, {315, 8, 6, 6}}},
      {"scales up at once even while a scale-down is being stabilised",
       // Scale-up window is 0 s: the 12 wins immediately; limit max(14, 20) = 20.
       {{0, 10, 10, 10}, {15, 10, 4, 10}, {30, 10, 12, 12}}},
      {"holds when every metric failed", {{0, 5, std::nullopt, 5}, {15, 5, 9, 9}}},
      {"clamps to maxReplicas", {{0, 18, 40, 20}}},
      {"corrects a replica count above maxReplicas without metrics", {{0, 25, std::nullopt, 20}}},
  };
  for (const BehaviorCase& c : cases) {
    SCOPED_TRACE(c.name);
    HpaBehavior behavior(HpaBehaviorConfig::Defaults(/*min=*/1, /*max=*/20));
    for (const Step& s : c.steps) {
      SCOPED_TRACE(testing::Message() << "t=" << s.time_s);
      EXPECT_EQ(behavior.reconcile(s.time_s, s.current, s.proposal), s.expected);
    }
  }
}

TEST(HpaBehavior, ScaleDownRateLimitUsesPeriodStart) {
  // A 50% / 15 s scale-down policy without stabilisation: 10 -> 5 at t=0; at t=5 the
  // period started at 5 + 5 deleted = 10, so the floor is 10 * 0.5 = 5: no further drop;
  // at t=15 the period restarts at 5 -> floor int(2.5) = 2.
  HpaBehaviorConfig config = HpaBehaviorConfig::Defaults(1, 20);
  config.scale_down.stabilization_window_s = 0;
  config.scale_down.policies = {{HpaScalingPolicy::Type::kPercent, 50, 15}};
  HpaBehavior behavior(config);
  EXPECT_EQ(behavior.reconcile(0, 10, 1), 5);
  EXPECT_EQ(behavior.reconcile(5, 5, 1), 5);
  EXPECT_EQ(behavior.reconcile(15, 5, 1), 2);
}

// --- HpaPolicy -----------------------------------------------------------------------------

using PolicyStep = test_util::DecisionStep;

struct PolicyCase {
  const char* name;
  std::vector<PolicyStep> steps;
};

core::Observation Unavailable(core::Observation obs) {
  obs.metrics_available = false;
  return obs;
}

TEST(HpaPolicy, SyncsEveryFifteenSeconds) {
  const PolicyCase cases[] = {
      {"acts at the first call and holds between syncs",
       // t=0: 90% -> ceil(1.125 * 4) = 5. t=5, t=10: no sync. t=15: 100% on 5 ready ->
       // ceil(1.25 * 5) = 7 (limit max(5 + 4, 10) = 10).
       {{Obs(0, 4, 0, 0.90), 5},
        {Obs(5, 4, 1, 1.0), 5},
        {Obs(10, 5, 0, 1.0), 5},
        {Obs(15, 5, 0, 1.0), 7}}},
      {"holds when metrics are unavailable",
       // t=0 fails (hold at the current 4); the next sync at t=15 scales to 5.
       {{Unavailable(Obs(0, 4, 0, 0.90)), 4}, {Obs(5, 4, 0, 0.90), 4}, {Obs(15, 4, 0, 0.90), 5}}},
      {"dampens a scale-up while executors are still pending",
       // t=0: 4 ready at 100% -> ceil(1.25 * 4) = 5. t=15: 4 ready at 100% + 1 pending:
       // 16000 * 100 / 20000 = 80% -> ratio 1.0: inside the band -> hold 5.
       {{Obs(0, 4, 0, 1.0), 5}, {Obs(15, 4, 1, 1.0), 5}}},
      {"never goes below the minimum executors",
       // 8% / 80% = 0.1 -> ceil(0.1 * 2) = 1; with min 1 -> 1.
       {{Obs(0, 2, 0, 0.08), 2}, {Obs(300, 2, 0, 0.08), 1}}},
  };
  for (const PolicyCase& c : cases) {
    SCOPED_TRACE(c.name);
    core::ParamTable params("policies.hpa");
    HpaPolicy policy(TestEnv(), params);
    ASSERT_TRUE(params.finish().ok()) << params.finish().message();
    test_util::expect_targets(policy, c.steps);
  }
}

TEST(HpaPolicy, ReadsParametersAndTier) {
  core::ParamTable params("policies.hpa");
  params.set("target_cpu_percent", "50");
  params.set("tier", "redis");
  HpaPolicy policy(TestEnv(), params);
  ASSERT_TRUE(params.finish().ok()) << params.finish().message();
  EXPECT_EQ(policy.name(), "hpa");
  // 90% / 50% = 1.8 -> ceil(1.8 * 4) = ceil(7.2) = 8.
  const core::Decision d = policy.decide(Obs(0, 4, 0, 0.90));
  EXPECT_EQ(d.target_executors, 8);
  EXPECT_EQ(d.tier, core::Tier::kRedis);
  EXPECT_EQ(d.compression, core::Compression::kNone);
}

TEST(HpaPolicy, IsDeterministicAfterReset) {
  core::ParamTable params("policies.hpa");
  HpaPolicy policy(TestEnv(), params);
  std::vector<core::Observation> trace;
  for (int i = 0; i < 200; ++i) {
    const double cpu = 0.3 + 0.6 * ((i * 37) % 11) / 10.0;
    trace.push_back(Obs(5.0 * i, 2 + (i % 7), i % 3, cpu));
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

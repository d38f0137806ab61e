#include "policy/keda.h"

#include <gtest/gtest.h>

#include "policy/policy_test_util.h"

#include <string>
#include <utility>
#include <vector>

namespace prescale::policy {
namespace {

PolicyEnv TestEnv(int min_executors) {
  PolicyEnv env;
  env.min_executors = min_executors;
  env.max_executors = 50;
  env.kafka_partitions = 24;
  env.records_per_message = 100;
  return env;
}

// `lag_messages` Kafka messages of 100 records each.
core::Observation Obs(double time_s, int active, int pending, double lag_messages) {
  core::Observation obs;
  obs.time_s = time_s;
  obs.active_executors = active;
  obs.pending_executors = pending;
  obs.kafka_lag_records = lag_messages * 100;
  return obs;
}

struct LagMetricCase {
  const char* name;
  long long total_lag;
  bool allow_idle;
  long long expected;
};

TEST(KafkaLagMetric, CapsAtThePartitionCount) {
  const LagMetricCase cases[] = {
      // 1000 / 10 = 100 > 24 partitions -> 24 * 10 = 240 (-> 24 replicas).
      {"caps the lag at partitions x lagThreshold", 1000, false, 240},
      {"lets idle consumers exceed the partitions when allowed", 1000, true, 1000},
      // 245 / 10 = 24 (integer division) is not > 24: uncapped, so the HPA proposes
      // ceil(24.5) = 25 replicas, one more than the partitions, as upstream does.
      {"uses integer division for the cap test", 245, false, 245},
      {"passes an empty lag through", 0, false, 0},
  };
  for (const LagMetricCase& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(kafka_lag_metric(c.total_lag, 10, 24, c.allow_idle), c.expected);
  }
}

using Step = test_util::DecisionStep;

struct KedaCase {
  const char* name;
  int env_min;
  std::vector<std::pair<std::string, std::string>> params;
  std::vector<Step> steps;
};

TEST(KedaPolicy, ActivatesScalesAndCoolsDown) {
  const KedaCase cases[] = {
      {"activates from zero only at a polling tick when lag exceeds the activation threshold",
       0,
       {},
       // t=0: lag 0, 0 replicas: inactive, nothing to do. t=5: lag, but the next poll is at
       // t=30: hold 0. t=30: active -> max(minReplicaCount 0, 1) = 1.
       {{Obs(0, 0, 0, 0), 0}, {Obs(5, 0, 0, 5), 0}, {Obs(30, 0, 0, 5), 1}}},
      {"respects activationLagThreshold",
       0,
       {{"activation_lag_threshold", "5"}},
       // 5 messages are not > 5: stays at zero; 6 are.
       {{Obs(0, 0, 0, 5), 0}, {Obs(30, 0, 0, 6), 1}}},
      {"proposes ceil(lag / lagThreshold) through the HPA",
       1,
       {},
       // t=0: 4 replicas, 100 messages -> ratio 100 / 40 = 2.5 -> ceil(100 / 10) = 10;
       // rate limit max(4 + 4, 8) = 8.
       {{Obs(0, 4, 0, 100), 8}}},
      {"caps the replicas at the partition count",
       1,
       {},
       // 1000 messages -> capped at 240 -> proposal 24; from 12: max(16, 24) = 24.
       {{Obs(0, 12, 0, 1000), 24}}},
      {"holds between HPA syncs",
       1,
       {},
       // t=0: 4 replicas, 42 messages: 42 / 40 = 1.05 -> tolerance -> 4. t=5, t=10: no
       // sync even though lag grew. t=15: 200 / 40 = 5 -> 20; limit max(8, 8) = 8.
       {{Obs(0, 4, 0, 42), 4},
        {Obs(5, 4, 0, 200), 4},
        {Obs(10, 4, 0, 200), 4},
        {Obs(15, 4, 0, 200), 8}}},
      {"scales to zero only after the cooldown since the last activity",
       0,
       {},
       // Polls and syncs every 30 s here. t=0: active (5 msgs); the HPA proposes
       // ceil(5 / 10) = 1 but its 300 s window keeps 3. From t=30 the lag is 0. t=300: the
       // window (0, 300] only holds 0s -> the HPA goes to its minReplicas 1; the poll at
       // t=300 sees 0 + 300, not before 300. t=330: 0 + 300 < 330 -> scale to zero.
       {{Obs(0, 3, 0, 5), 3},
        {Obs(30, 3, 0, 0), 3},
        {Obs(270, 3, 0, 0), 3},
        {Obs(300, 3, 0, 0), 1},
        {Obs(330, 1, 0, 0), 0}}},
      {"scales to zero at once when it was never active",
       0,
       {},
       // LastActiveTime is nil: no cooldown applies.
       {{Obs(0, 2, 0, 0), 0}}},
      {"clamps scale-to-zero to the cluster's minimum executors", 1, {}, {{Obs(0, 2, 0, 0), 1}}},
      {"keeps minReplicaCount instead of scaling to zero",
       0,
       {{"min_replica_count", "2"}},
       // No scale to zero; the HPA (minReplicas 2) holds 3 inside its 300 s window.
       {{Obs(0, 3, 0, 0), 3}, {Obs(30, 3, 0, 0), 3}}},
  };
  for (const KedaCase& c : cases) {
    SCOPED_TRACE(c.name);
    core::ParamTable params = test_util::make_params("policies.keda", c.params);
    KedaPolicy policy(TestEnv(c.env_min), params);
    ASSERT_TRUE(params.finish().ok()) << params.finish().message();
    test_util::expect_targets(policy, c.steps);
  }
}

TEST(KedaPolicy, HoldsWhenMetricsAreUnavailable) {
  core::ParamTable params("policies.keda");
  KedaPolicy policy(TestEnv(1), params);
  core::Observation obs = Obs(0, 4, 0, 1000);
  obs.metrics_available = false;
  EXPECT_EQ(policy.decide(obs).target_executors, 4);
  EXPECT_EQ(policy.name(), "keda");
}

TEST(KedaPolicy, IsDeterministicAfterReset) {
  core::ParamTable params("policies.keda");
  KedaPolicy policy(TestEnv(0), params);
  std::vector<core::Observation> trace;
  for (int i = 0; i < 300; ++i) {
    const double lag = (i / 40) % 2 == 0 ? 0 : 30.0 * ((i * 13) % 7);
    trace.push_back(Obs(5.0 * i, i % 9, i % 2, lag));
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

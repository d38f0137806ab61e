// keda: KEDA's Apache Kafka scaler driving a Kubernetes HPA.
//
// Source: kedacore/keda
//   pkg/scalers/kafka_scaler.go            (lagThreshold, activationLagThreshold,
//                                           allowIdleConsumers, getTotalLag's partition cap,
//                                           GetMetricsAndActivity)
//   pkg/scaling/executor/scale_scaledobjects.go (0 -> 1 activation, scale to zero after
//                                           cooldownPeriod, LastActiveTime)
//   keda-docs content/docs/2.x/reference/scaledobject-spec.md (pollingInterval 30 s,
//                                           cooldownPeriod 300 s, minReplicaCount 0,
//                                           maxReplicaCount 100)
// and the HPA of hpa.h for everything between 1 and maxReplicaCount.
//
// How it decides:
//   * The metric is the consumer group's total lag in Kafka MESSAGES:
//     ceil(obs.kafka_lag_records / env.records_per_message). Unless allowIdleConsumers,
//     the scaler caps it: if totalLag / lagThreshold (integer division) exceeds the
//     partition count, totalLag = partitions * lagThreshold.
//   * KEDA exposes it as an External metric with an AverageValue target lagThreshold; the
//     HPA (every sync_period_s) proposes ceil(totalLag / lagThreshold) outside the 10%
//     tolerance (GetExternalPerPodMetricReplicas) and normalises it with the default
//     behaviour (300 s downscale window, max(+4, +100%) per 15 s), minReplicas =
//     max(minReplicaCount, 1).
//   * Every polling_interval_s KEDA checks activity (lag > activationLagThreshold). At 0
//     replicas an active scaler scales to max(minReplicaCount, 1); with minReplicaCount 0
//     an inactive scaler scales to zero once the last activity is older than the cooldown
//     (immediately if it was never active: LastActiveTime is nil).
//
// Parameters (upstream defaults unless noted):
//   lag_threshold              10
//   activation_lag_threshold    0
//   allow_idle_consumers    false
//   polling_interval_s         30
//   cooldown_period_s         300
//   min_replica_count           0   (the decision is still clamped to env.min_executors)
//   max_replica_count  env.max_executors   (KEDA's own default is 100)
//   sync_period_s, tolerance and the HPA behaviour parameters of hpa.h
//   tier               env.default_tier
#pragma once

#include <string_view>

#include "core/params.h"
#include "core/types.h"
#include "policy/hpa.h"
#include "policy/policy.h"

namespace prescale::policy {

// The metric value getTotalLag reports: the total lag, capped at partitions * threshold
// when totalLag / threshold (integer division) exceeds the partition count and idle
// consumers are not allowed.
long long kafka_lag_metric(long long total_lag, long long lag_threshold, long long partitions,
                           bool allow_idle_consumers);

class KedaPolicy final : public Policy {
 public:
  KedaPolicy(const PolicyEnv& env, core::ParamTable& params);

  std::string_view name() const override { return "keda"; }
  void reset() override;
  core::Decision decide(const core::Observation& obs) override;

 private:
  long long lag_messages(const core::Observation& obs) const;

  PolicyEnv env_;
  long long lag_threshold_;
  long long activation_lag_threshold_;
  bool allow_idle_consumers_;
  double polling_interval_s_;
  double cooldown_period_s_;
  int min_replica_count_;
  HpaCalculator calculator_;
  HpaBehavior behavior_;
  core::Tier tier_;

  bool started_ = false;
  bool polled_once_ = false;
  double last_poll_s_ = 0;
  bool synced_once_ = false;
  double last_sync_s_ = 0;
  bool ever_active_ = false;
  double last_active_s_ = 0;
  int target_ = 0;
  const char* reason_ = "";
};

}  // namespace prescale::policy

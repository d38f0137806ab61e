// batch-ratio: Spark Streaming's own dynamic allocation (SPARK-12133), with the Structured
// Streaming trigger interval as the batch interval — what SPARK-24815 proposed for
// Structured Streaming.
//
// Source: apache/spark
//   streaming/src/main/scala/org/apache/spark/streaming/scheduler/ExecutorAllocationManager.scala
//       (manageAllocation, requestExecutors, killExecutor, onBatchCompleted)
//   core/src/main/scala/org/apache/spark/internal/config/Streaming.scala (defaults)
//
// Every scalingInterval:
//   ratio = (sum of batch processing times / number of completed batches) / batch interval
//   (the mean is a Long division of milliseconds, as upstream);
//   ratio >= scalingUpRatio   -> request (registered executors + max(round(ratio), 1)),
//                                bounded by [min, max] (requestExecutors uses the count of
//                                registered executors, i.e. obs.active_executors);
//   ratio <= scalingDownRatio -> kill one executor if more than minExecutors are
//                                registered (the requested total drops by one);
// then the batch statistics are cleared. Intervals without a completed batch do nothing.
//
// Observation mapping: each observation with obs.batch_duration_ms > 0 counts as one
// completed batch of that processing time (a step with no batch has no duration); the
// batch interval is obs.trigger_ms. The first decision acts on the first observation
// (the host loop's convention; upstream's RecurringTimer first fires one interval after
// start, when it has batches to look at).
//
// Parameters (Spark defaults):
//   scaling_interval_s    60   spark.streaming.dynamicAllocation.scalingInterval
//   scaling_up_ratio     0.9   spark.streaming.dynamicAllocation.scalingUpRatio
//   scaling_down_ratio   0.3   spark.streaming.dynamicAllocation.scalingDownRatio
//   tier    env.default_tier
// Min/max executors come from the environment (upstream minExecutors defaults to
// max(1, number of receivers) = 1 for Structured Streaming).
#pragma once

#include <cstdint>
#include <string_view>

#include "core/params.h"
#include "core/types.h"
#include "policy/policy.h"

namespace prescale::policy {

class BatchRatioPolicy final : public Policy {
 public:
  BatchRatioPolicy(const PolicyEnv& env, core::ParamTable& params);

  std::string_view name() const override { return "batch-ratio"; }
  void reset() override;
  core::Decision decide(const core::Observation& obs) override;

 private:
  void manage_allocation(const core::Observation& obs);

  PolicyEnv env_;
  double scaling_interval_s_;
  double scaling_up_ratio_;
  double scaling_down_ratio_;
  core::Tier tier_;

  bool started_ = false;
  bool acted_once_ = false;
  double last_action_s_ = 0;
  std::int64_t batch_time_sum_ms_ = 0;
  std::int64_t batch_count_ = 0;
  int target_ = 0;
  const char* reason_ = "";
};

}  // namespace prescale::policy

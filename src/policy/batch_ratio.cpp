#include "policy/batch_ratio.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace prescale::policy {

BatchRatioPolicy::BatchRatioPolicy(const PolicyEnv& env, core::ParamTable& params)
    : env_(env),
      scaling_interval_s_(params.get_double("scaling_interval_s", 60, 1, 86400)),
      scaling_up_ratio_(params.get_double("scaling_up_ratio", 0.9, 1e-6, 100)),
      scaling_down_ratio_(params.get_double("scaling_down_ratio", 0.3, 1e-6, 100)),
      tier_(read_tier(params, env.default_tier)) {
  reset();
}

void BatchRatioPolicy::reset() {
  started_ = false;
  acted_once_ = false;
  last_action_s_ = 0;
  batch_time_sum_ms_ = 0;
  batch_count_ = 0;
  target_ = 0;
  reason_ = "";
}

void BatchRatioPolicy::manage_allocation(const core::Observation& obs) {
  reason_ = "batch-ratio: ratio within bounds";
  if (batch_count_ > 0 && obs.trigger_ms > 0) {
    const std::int64_t average_ms = batch_time_sum_ms_ / batch_count_;  // Long division
    const double ratio = static_cast<double>(average_ms) / obs.trigger_ms;
    if (ratio >= scaling_up_ratio_) {
      // Scala's math.round(Double): floor(x + 0.5).
      const int add = std::max(static_cast<int>(std::floor(ratio + 0.5)), 1);
      target_ =
          std::max(std::min(env_.max_executors, obs.active_executors + add), env_.min_executors);
      reason_ = "batch-ratio: batches too slow, requesting executors";
    } else if (ratio <= scaling_down_ratio_) {
      if (obs.active_executors > 0 && obs.active_executors > env_.min_executors) {
        target_ = obs.total_executors() - 1;
        reason_ = "batch-ratio: batches fast, killing one executor";
      }
    }
  } else {
    reason_ = "batch-ratio: no completed batch in the interval";
  }
  batch_time_sum_ms_ = 0;
  batch_count_ = 0;
}

core::Decision BatchRatioPolicy::decide(const core::Observation& obs) {
  if (!started_) {
    started_ = true;
    target_ = obs.total_executors();
  }
  if (!obs.metrics_available) {
    reason_ = "batch-ratio: metrics unavailable, holding";
    return core::Decision{clamp_executors(target_, env_), tier_, core::Compression::kNone, reason_};
  }
  if (obs.batch_duration_ms > 0) {  // onBatchCompleted
    batch_time_sum_ms_ += std::llround(obs.batch_duration_ms);
    ++batch_count_;
  }
  if (!acted_once_ || obs.time_s - last_action_s_ >= scaling_interval_s_ - kTimeEpsilon) {
    acted_once_ = true;
    last_action_s_ = obs.time_s;
    manage_allocation(obs);
  } else {
    reason_ = "batch-ratio: between scaling intervals";
  }
  return core::Decision{clamp_executors(target_, env_), tier_, core::Compression::kNone, reason_};
}

}  // namespace prescale::policy

#include "policy/seer.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace prescale::policy {

double linear_trend_forecast(const double* x, const double* y, int n, double at) {
  if (n <= 0) return 0;
  double x_mean = 0, y_mean = 0;
  for (int i = 0; i < n; ++i) {
    x_mean += x[i];
    y_mean += y[i];
  }
  x_mean /= n;
  y_mean /= n;
  double sxy = 0, sxx = 0;
  for (int i = 0; i < n; ++i) {
    sxy += (x[i] - x_mean) * (y[i] - y_mean);
    sxx += (x[i] - x_mean) * (x[i] - x_mean);
  }
  if (sxx <= 0) return y_mean;
  return y_mean + (sxy / sxx) * (at - x_mean);
}

SeerPolicy::SeerPolicy(const PolicyEnv& env, core::ParamTable& params)
    : env_(env),
      window_(params.get_int("window", 6, 1, 100000)),
      horizon_s_(params.get_double("horizon_s", env.cold_start_s, 0, 86400)),
      target_util_(params.get_double("target_util", 0.9, 0.01, 1)),
      tier_(read_tier(params, core::Tier::kNvme)) {
  times_.resize(window_);
  rates_.resize(window_);
  x_scratch_.resize(window_);
  y_scratch_.resize(window_);
  reset();
}

void SeerPolicy::reset() {
  head_ = 0;
  count_ = 0;
  started_ = false;
  target_ = 0;
}

core::Decision SeerPolicy::decide(const core::Observation& obs) {
  if (!started_) {
    started_ = true;
    target_ = obs.total_executors();
  }
  if (!obs.metrics_available) {
    return core::Decision{clamp_executors(target_, env_), tier_, core::Compression::kNone,
                          "seer: metrics unavailable, holding"};
  }
  times_[head_] = obs.time_s;
  rates_[head_] = obs.input_rps;
  head_ = (head_ + 1) % window_;
  count_ = std::min(count_ + 1, window_);

  if (env_.executor_capacity_rps <= 0) {
    return core::Decision{clamp_executors(target_, env_), tier_, core::Compression::kNone,
                          "seer: no executor capacity configured, holding"};
  }
  for (int i = 0; i < count_; ++i) {  // oldest first
    const int idx = (head_ - count_ + i + 2 * window_) % window_;
    x_scratch_[i] = times_[idx];
    y_scratch_[i] = rates_[idx];
  }
  const double predicted = std::max(0.0, linear_trend_forecast(x_scratch_.data(), y_scratch_.data(),
                                                               count_, obs.time_s + horizon_s_));
  const double k = 1.0 / (env_.executor_capacity_rps * target_util_);
  const double wanted = std::ceil(predicted * k - 1e-9);
  target_ = static_cast<int>(std::min(wanted, static_cast<double>(env_.max_executors)));
  return core::Decision{clamp_executors(target_, env_), tier_, core::Compression::kNone,
                        "seer: linear load forecast"};
}

}  // namespace prescale::policy

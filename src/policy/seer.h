// seer: the seed report's linear predictive baseline ("Seer").
//
// Source: the seed report's table (see /work/shared/baselines.md, "The seed's own
// baselines"): executors = predicted load * k, no storage intelligence (warm tier).
//
// Every step: the input rate of the last `window` observations is fitted with a
// least-squares line over time and extrapolated `horizon_s` past the newest observation
// (never below 0); executors = ceil(predicted_rps * k) with
// k = 1 / (env.executor_capacity_rps * target_util). With fewer than two observations the
// prediction is the latest rate. Without a configured executor capacity (<= 0) it holds.
//
// Parameters:
//   window        6                 observations in the fit
//   horizon_s     env.cold_start_s  how far ahead to extrapolate
//   target_util   0.9               planned utilisation of an executor
//   tier          nvme              (the seed's warm tier; no storage logic)
#pragma once

#include <string_view>
#include <vector>

#include "core/params.h"
#include "core/types.h"
#include "policy/policy.h"

namespace prescale::policy {

// Least-squares line through (x[i], y[i]), i < n, evaluated at `at`. With n == 1, or
// when all x are equal, returns the mean of y; with n == 0 returns 0.
double linear_trend_forecast(const double* x, const double* y, int n, double at);

class SeerPolicy final : public Policy {
 public:
  SeerPolicy(const PolicyEnv& env, core::ParamTable& params);

  std::string_view name() const override { return "seer"; }
  void reset() override;
  core::Decision decide(const core::Observation& obs) override;

 private:
  PolicyEnv env_;
  int window_;
  double horizon_s_;
  double target_util_;
  core::Tier tier_;

  std::vector<double> times_;  // ring buffers of the last `window_` observations
  std::vector<double> rates_;
  std::vector<double> x_scratch_;  // the window in time order, for the fit
  std::vector<double> y_scratch_;
  int head_ = 0;
  int count_ = 0;
  bool started_ = false;
  int target_ = 0;
};

}  // namespace prescale::policy

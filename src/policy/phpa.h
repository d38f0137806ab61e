// phpa: the Predictive Horizontal Pod Autoscaler (jthomperoo/predictive-horizontal-pod-
// autoscaler), given the same edge forecast as prescale's learned controller.
//
// Source: jthomperoo/predictive-horizontal-pod-autoscaler
//   docs/user-guide/models.md, docs/reference/models.md   (Linear, HoltWinters models)
//   docs/reference/configuration.md                      (decisionType: maximum)
//   docs/user-guide/sync-period.md                        (interval 15000 ms)
//   docs/user-guide/downscale-stabilization.md            (300 s)
//   algorithms/linear_regression/linear_regression.py     (OLS of replicas over time,
//       predicted at now + lookAhead, ceil)
//   algorithms/holt_winters/holt_winters.py               (additive trend and season,
//       one step ahead, ceil; needs >= 10 + 2 * (seasonLength // 2) values)
// and the HPA replica calculation of hpa.h (PHPA embeds the same calculator).
//
// Every sync: compute the HPA's replica proposal from CPU (HpaCalculator), append it to
// the replica history, forecast the replica count with the model, and take the maximum
// of the current proposal and the forecasts (decisionType "maximum"). The result goes
// through PHPA's downscale stabilisation (the maximum of the recommendations of the last
// 300 s; no scale-up rate limit) and its min/max replicas.
//
// Edge forecast (prescale addition, so that the comparison with the learned controller
// separates "the value of forecasting" from "the value of the controller"): with
// use_edge_forecast, whenever the gateways send a burst signal or a positive forecast,
// one more "model" proposes
//   replicas_edge = ceil(active * (cpu_util / target) * forecast_rps / max(input_rps, 1))
// i.e. the HPA's own arithmetic applied to the forecast input rate instead of the
// current one; it joins the maximum.
//
// Holt-Winters fitting: upstream calls statsmodels' ExponentialSmoothing with the given
// alpha/beta/gamma and its "estimated" initial state; here the initial state is the
// classic heuristic (level = mean of the first season, trend = mean season-over-season
// slope, seasonal = first season minus level). It needs two full seasons of history.
//
// Parameters (upstream defaults where upstream has one):
//   sync_period_s             15    CPA interval 15000 ms
//   target_cpu_percent        80    (same target as hpa)
//   tolerance                0.1
//   min_replicas   env.min_executors
//   max_replicas   env.max_executors
//   downscale_stabilization_s 300
//   model                 linear    linear | holt-winters
//   look_ahead_s   env.cold_start_s (linear lookAhead; upstream has no default)
//   history_size              10    linear stored values (upstream has no default)
//   hw_alpha, hw_beta, hw_gamma  0.9   (values of the upstream example)
//   hw_season_length           6    (upstream example; in syncs)
//   hw_stored_seasons          4    (upstream example)
//   use_edge_forecast       true
//   tier          env.default_tier
#pragma once

#include <string_view>
#include <vector>

#include "core/params.h"
#include "core/types.h"
#include "policy/hpa.h"
#include "policy/policy.h"

namespace prescale::policy {

// Additive Holt-Winters (additive trend, additive season of `season` values) over
// y[0..n-1], forecast `steps` ahead of the last value. `seasonal_scratch` must hold
// `season` values. Requires n >= 2 * season (returns the last value otherwise).
double holt_winters_additive_forecast(const double* y, int n, int season, double alpha, double beta,
                                      double gamma, int steps, double* seasonal_scratch);

class PhpaPolicy final : public Policy {
 public:
  enum class Model { kLinear, kHoltWinters };

  PhpaPolicy(const PolicyEnv& env, core::ParamTable& params);

  std::string_view name() const override { return "phpa"; }
  void reset() override;
  core::Decision decide(const core::Observation& obs) override;

 private:
  // The model's forecast of the replica count, or -1 without enough history.
  int forecast(double now_s);
  // The edge model's replica count, or -1 when there is no forecast to use.
  int edge_replicas(const core::Observation& obs) const;

  PolicyEnv env_;
  HpaCalculator calculator_;
  HpaBehavior behavior_;
  double sync_period_s_;
  int target_cpu_percent_;
  Model model_;
  double look_ahead_s_;
  double hw_alpha_;
  double hw_beta_;
  double hw_gamma_;
  int hw_season_;
  bool use_edge_forecast_;
  core::Tier tier_;

  std::vector<double> history_time_;  // ring buffer of (time, proposed replicas)
  std::vector<double> history_replicas_;
  std::vector<double> x_scratch_;  // history in time order
  std::vector<double> y_scratch_;
  std::vector<double> season_scratch_;
  int history_head_ = 0;
  int history_count_ = 0;

  bool synced_once_ = false;
  double last_sync_s_ = 0;
  int target_ = 0;
  const char* reason_ = "";
};

}  // namespace prescale::policy

#include "policy/phpa.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>

#include "policy/seer.h"

namespace prescale::policy {

namespace {

// Below this input rate the edge model divides by 1 record/s instead.
constexpr double kMinInputRps = 1.0;

// PHPA applies only its downscale stabilisation, then min/max: no rate policies.
HpaBehaviorConfig PhpaBehavior(core::ParamTable& params, const PolicyEnv& env) {
  HpaBehaviorConfig c;
  c.sync_period_s = params.get_double("sync_period_s", 15, 1, 3600);
  c.min_replicas = params.get_int("min_replicas", env.min_executors, 0, env.max_executors);
  c.max_replicas =
      params.get_int("max_replicas", env.max_executors, std::max(1, c.min_replicas), 100000);
  c.scale_up.stabilization_window_s = 0;
  c.scale_down.stabilization_window_s =
      params.get_double("downscale_stabilization_s", 300, 0, 86400);
  return c;
}

int ceil_to_int(double x) {
  if (!(x > -1e9)) return -1000000000;
  if (!(x < 1e9)) return 1000000000;
  return static_cast<int>(std::ceil(x - kTimeEpsilon));
}

}  // namespace

double holt_winters_additive_forecast(const double* y, int n, int season, double alpha, double beta,
                                      double gamma, int steps, double* seasonal) {
  if (n <= 0) return 0;
  if (season <= 0 || n < 2 * season) return y[n - 1];
  // Heuristic initial state from the first two seasons.
  double level = 0;
  for (int i = 0; i < season; ++i) level += y[i];
  level /= season;
  double trend = 0;
  for (int i = 0; i < season; ++i) trend += (y[season + i] - y[i]) / season;
  trend /= season;
  for (int i = 0; i < season; ++i) seasonal[i] = y[i] - level;
  // Smooth over every observation.
  for (int t = 0; t < n; ++t) {
    const double s = seasonal[t % season];
    const double previous_level = level;
    level = alpha * (y[t] - s) + (1 - alpha) * (level + trend);
    trend = beta * (level - previous_level) + (1 - beta) * trend;
    seasonal[t % season] = gamma * (y[t] - level) + (1 - gamma) * s;
  }
  const int h = std::max(1, steps);
  return level + h * trend + seasonal[(n + h - 1) % season];
}

PhpaPolicy::PhpaPolicy(const PolicyEnv& env, core::ParamTable& params)
    : env_(env),
      behavior_(PhpaBehavior(params, env)),
      sync_period_s_(behavior_.config().sync_period_s),
      target_cpu_percent_(params.get_int("target_cpu_percent", 80, 1, 100)),
      model_(params.get_choice("model", "linear", {"linear", "holt-winters"}) == "holt-winters"
                 ? Model::kHoltWinters
                 : Model::kLinear),
      look_ahead_s_(params.get_double("look_ahead_s", env.cold_start_s, 0, 86400)),
      hw_alpha_(params.get_double("hw_alpha", 0.9, 0, 1)),
      hw_beta_(params.get_double("hw_beta", 0.9, 0, 1)),
      hw_gamma_(params.get_double("hw_gamma", 0.9, 0, 1)),
      hw_season_(params.get_int("hw_season_length", 6, 1, 10000)),
      use_edge_forecast_(params.get_bool("use_edge_forecast", true)),
      tier_(read_tier(params, env.default_tier)) {
  calculator_.tolerance = params.get_double("tolerance", 0.1, 0, 1);
  calculator_.request_millicores = 1000LL * std::max(1, env.cores_per_executor);
  const int history_size = params.get_int("history_size", 10, 2, 100000);
  const int stored_seasons = params.get_int("hw_stored_seasons", 4, 2, 10000);
  const int capacity = model_ == Model::kLinear ? history_size : hw_season_ * stored_seasons;
  history_time_.resize(capacity);
  history_replicas_.resize(capacity);
  x_scratch_.resize(capacity);
  y_scratch_.resize(capacity);
  season_scratch_.resize(hw_season_);
  reset();
}

void PhpaPolicy::reset() {
  behavior_.reset();
  history_head_ = 0;
  history_count_ = 0;
  synced_once_ = false;
  last_sync_s_ = 0;
  target_ = 0;
  reason_ = "";
}

int PhpaPolicy::forecast(double now_s) {
  const int cap = static_cast<int>(history_time_.size());
  for (int i = 0; i < history_count_; ++i) {  // oldest first
    const int idx = (history_head_ - history_count_ + i + 2 * cap) % cap;
    x_scratch_[i] = history_time_[idx];
    y_scratch_[i] = history_replicas_[idx];
  }
  if (model_ == Model::kLinear) {
    if (history_count_ < 2) return -1;
    return ceil_to_int(linear_trend_forecast(x_scratch_.data(), y_scratch_.data(), history_count_,
                                             now_s + look_ahead_s_));
  }
  // statsmodels needs 10 + 2 * (season // 2) values; the heuristic start two seasons.
  const int needed = std::max(10 + 2 * (hw_season_ / 2), 2 * hw_season_);
  if (history_count_ < needed) return -1;
  return ceil_to_int(holt_winters_additive_forecast(y_scratch_.data(), history_count_, hw_season_,
                                                    hw_alpha_, hw_beta_, hw_gamma_, 1,
                                                    season_scratch_.data()));
}

int PhpaPolicy::edge_replicas(const core::Observation& obs) const {
  if (!use_edge_forecast_ || obs.active_executors <= 0) return -1;
  if (!obs.burst_signal && !(obs.forecast_rps > 0)) return -1;
  const double target = target_cpu_percent_ / 100.0;
  const double replicas = obs.active_executors * (obs.cpu_util / target) * obs.forecast_rps /
                          std::max(obs.input_rps, kMinInputRps);
  return ceil_to_int(replicas);
}

core::Decision PhpaPolicy::decide(const core::Observation& obs) {
  const int current = obs.total_executors();
  const double now = obs.time_s;
  const bool due = !synced_once_ || now - last_sync_s_ >= sync_period_s_ - kTimeEpsilon;
  if (!synced_once_) target_ = current;
  if (!due) {
    reason_ = "phpa: between syncs";
  } else if (!obs.metrics_available) {
    synced_once_ = true;
    last_sync_s_ = now;
    target_ = behavior_.reconcile(now, current, std::nullopt);
    reason_ = "phpa: metrics unavailable, holding";
  } else {
    synced_once_ = true;
    last_sync_s_ = now;
    const std::optional<int> proposal = calculator_.resource_replicas(
        current, obs.active_executors, obs.pending_executors, obs.cpu_util, target_cpu_percent_);
    if (!proposal.has_value()) {
      target_ = behavior_.reconcile(now, current, std::nullopt);
      reason_ = "phpa: no ready executor, holding";
    } else {
      // Store the evaluation, then forecast from the history including it.
      const int cap = static_cast<int>(history_time_.size());
      history_time_[history_head_] = now;
      history_replicas_[history_head_] = *proposal;
      history_head_ = (history_head_ + 1) % cap;
      history_count_ = std::min(history_count_ + 1, cap);

      int desired = *proposal;
      reason_ = "phpa: current cpu";
      const int predicted = forecast(now);
      if (predicted > desired) {
        desired = predicted;
        reason_ = "phpa: replica forecast";
      }
      const int edge = edge_replicas(obs);
      if (edge > desired) {
        desired = edge;
        reason_ = "phpa: edge load forecast";
      }
      target_ = behavior_.reconcile(now, current, desired);
      if (target_ == current && desired < current) reason_ = "phpa: downscale stabilised";
    }
  }
  return core::Decision{clamp_executors(target_, env_), tier_, core::Compression::kNone, reason_};
}

}  // namespace prescale::policy

#include "policy/ds2.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <limits>
#include <string>

namespace prescale::policy {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Java's Math.round(double): floor(x + 0.5).
double java_round(double x) { return std::floor(x + 0.5); }

}  // namespace

double ds2_target_capacity(const Ds2Config& config, double input_rate, double lag,
                           double utilization, bool with_restart) {
  const double catch_up = config.catch_up_duration_s;
  const double lag_catch_up_rate = catch_up == 0 ? 0 : lag / catch_up;
  const double u = std::min(1.0, std::max(0.0, utilization));
  if (u == 0) return kInf;
  const double restart_catch_up_rate =
      (!with_restart || catch_up == 0) ? 0 : input_rate * config.restart_time_s / catch_up;
  const double input_at_utilization = input_rate / u;
  return java_round(lag_catch_up_rate + restart_catch_up_rate + input_at_utilization);
}

Ds2Evaluation ds2_evaluate(const Ds2Config& config, const Ds2Metrics& m) {
  Ds2Evaluation e;
  // isProcessingBacklog: lag / (the source's records-in rate) > threshold (0/0 is NaN:
  // not backlogged; x/0 is +inf: backlogged).
  const double lag_seconds = m.processed_rate > 0 ? m.lag / m.processed_rate
                             : m.lag > 0          ? kInf
                                                  : std::numeric_limits<double>::quiet_NaN();
  e.processing_backlog = lag_seconds > config.backlog_lag_threshold_s;
  const double upper =
      e.processing_backlog ? 1.0 : config.target_utilization + config.utilization_boundary;
  const double lower =
      e.processing_backlog ? 0.0 : config.target_utilization - config.utilization_boundary;
  e.scale_up_threshold = ds2_target_capacity(config, m.input_rate, m.lag, upper, false);
  e.scale_down_threshold = ds2_target_capacity(config, m.input_rate, m.lag, lower, true);
  e.target_capacity =
      ds2_target_capacity(config, m.input_rate, m.lag, config.target_utilization, true);

  double scale_factor = e.target_capacity / m.true_processing_rate;
  const double min_factor = 1 - config.scale_down_max_factor;
  const double max_factor = 1 + config.scale_up_max_factor;
  if (scale_factor < min_factor) {
    scale_factor = min_factor;
  } else if (scale_factor > max_factor) {
    scale_factor = max_factor;
  }
  const double wanted = std::ceil(scale_factor * static_cast<double>(m.parallelism));
  e.new_parallelism = static_cast<int>(std::min(wanted, static_cast<double>(INT_MAX)));
  // allChangedVerticesWithinUtilizationTarget: outside when TPR < up or TPR > down.
  e.within_target = !(m.true_processing_rate < e.scale_up_threshold ||
                      m.true_processing_rate > e.scale_down_threshold);
  return e;
}

Ds2Policy::Ds2Policy(const PolicyEnv& env, core::ParamTable& params, bool tuned)
    : env_(env),
      tuned_(tuned),
      metrics_window_s_(params.get_double("metrics_window_s", 900, 1, 86400)),
      stabilization_interval_s_(params.get_double("stabilization_interval_s", 300, 0, 86400)),
      interval_s_(params.get_double("interval_s", 60, 0.001, 86400)),
      scale_down_interval_s_(params.get_double("scale_down_interval_s", 3600, 0, 86400)),
      tier_(read_tier(params, env.default_tier)) {
  config_.target_utilization = params.get_double("target_utilization", 0.7, 0.01, 1);
  config_.utilization_boundary = params.get_double("utilization_boundary", 0.3, 0, 1);
  config_.catch_up_duration_s =
      params.get_double("catch_up_duration_s", tuned ? 300 : 1800, 0, 86400);
  config_.restart_time_s = params.get_double("restart_time_s", tuned ? 120 : 300, 0, 86400);
  config_.backlog_lag_threshold_s = params.get_double("backlog_lag_threshold_s", 300, 0, 86400);
  config_.scale_down_max_factor = params.get_double("scale_down_max_factor", 0.6, 0, 1);
  config_.scale_up_max_factor = params.get_double("scale_up_max_factor", 100000, 0, 1e9);
  const double step = std::max(1e-3, env.step_s);
  samples_.resize(static_cast<int>(std::ceil(metrics_window_s_ / step)) + 2);
  reset();
}

void Ds2Policy::reset() {
  started_ = false;
  target_ = 0;
  job_update_s_ = 0;
  evaluated_once_ = false;
  last_evaluation_s_ = 0;
  clear_samples();
  delayed_down_ = false;
  delayed_first_s_ = 0;
  delayed_max_ = 0;
  reason_ = "";
}

void Ds2Policy::clear_samples() {
  sample_head_ = 0;
  sample_count_ = 0;
  first_sample_s_ = 0;
}

core::Decision Ds2Policy::hold(const char* reason) {
  reason_ = reason;
  return core::Decision{clamp_executors(target_, env_), tier_, core::Compression::kNone, reason_};
}

int Ds2Policy::evaluate(const core::Observation& obs) {
  const double now = obs.time_s;
  const int cap = static_cast<int>(samples_.size());
  double input_sum = 0, processed_sum = 0, busy_sum = 0;
  int n = 0;
  for (int i = 0; i < sample_count_; ++i) {
    const Sample& s = samples_[(sample_head_ - 1 - i + 2 * cap) % cap];
    if (s.time_s < now - metrics_window_s_ - kTimeEpsilon) break;  // older than the window
    input_sum += s.input_rps;
    processed_sum += s.processed_rps;
    busy_sum += s.busy_fraction;
    ++n;
  }
  if (n == 0 || obs.active_executors <= 0) {
    reason_ = "ds2: no processing-rate information";
    return -1;
  }
  const double processed = processed_sum / n;
  const double busy = busy_sum / n;
  Ds2Metrics m;
  m.input_rate = input_sum / n;
  m.processed_rate = processed;
  // computeTprFromBusyTime: rate / busy; nothing processed -> +inf (division by 0 busy
  // time is +inf as well).
  m.true_processing_rate = processed <= 0 ? kInf : (busy <= 0 ? kInf : processed / busy);
  m.lag = std::max(0.0, obs.backlog_records);
  m.parallelism = obs.active_executors;
  const Ds2Evaluation e = ds2_evaluate(config_, m);

  // JobVertexScaler: bound to [min(p, vertex min), max(p, vertex max)].
  const int p = m.parallelism;
  int new_p = std::min(std::max(e.new_parallelism, std::min(p, env_.min_executors)),
                       std::max(p, env_.max_executors));
  int change = -1;
  if (new_p == p) {
    delayed_down_ = false;
    reason_ = "ds2: at target parallelism";
  } else if (new_p > p) {
    delayed_down_ = false;
    change = new_p;
  } else if (scale_down_interval_s_ <= 0) {
    change = new_p;
  } else {
    if (!delayed_down_) {
      delayed_down_ = true;
      delayed_first_s_ = now;
      delayed_max_ = new_p;
    } else {
      delayed_max_ = std::max(delayed_max_, new_p);
    }
    if (now < delayed_first_s_ + scale_down_interval_s_ - kTimeEpsilon) {
      reason_ = "ds2: scale-down delayed by the scale-down interval";
    } else {
      change = delayed_max_;
    }
  }
  if (change >= 0 && e.within_target) {
    reason_ = "ds2: processing rate within the utilisation target";
    return -1;
  }
  if (change >= 0) {
    reason_ = change > p ? "ds2: scaling up to the target capacity"
                         : "ds2: scaling down to the target capacity";
  }
  return change;
}

core::Decision Ds2Policy::decide(const core::Observation& obs) {
  const double now = obs.time_s;
  if (!started_) {
    started_ = true;
    target_ = obs.total_executors();
    job_update_s_ = now;
  }
  if (!obs.metrics_available) return hold("ds2: metrics unavailable, holding");

  // ScalingMetricCollector: nothing is collected while stabilising after a job update.
  if (now < job_update_s_ + stabilization_interval_s_ - kTimeEpsilon) {
    return hold("ds2: stabilising after the last rescale");
  }
  const int cap = static_cast<int>(samples_.size());
  if (sample_count_ == 0) first_sample_s_ = now;
  samples_[sample_head_] = {now, obs.input_rps, obs.processed_rps, obs.busy_fraction};
  sample_head_ = (sample_head_ + 1) % cap;
  sample_count_ = std::min(sample_count_ + 1, cap);

  if (evaluated_once_ && now - last_evaluation_s_ < interval_s_ - kTimeEpsilon) {
    return hold("ds2: between reconciles");
  }
  evaluated_once_ = true;
  last_evaluation_s_ = now;
  if (now < first_sample_s_ + metrics_window_s_ - kTimeEpsilon) {
    return hold("ds2: metric window not full");
  }
  const int change = evaluate(obs);
  if (change >= 0) {
    target_ = change;
    job_update_s_ = now;
    clear_samples();
    delayed_down_ = false;
  }
  return core::Decision{clamp_executors(target_, env_), tier_, core::Compression::kNone, reason_};
}

}  // namespace prescale::policy

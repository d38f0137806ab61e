#include "policy/keda.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace prescale::policy {

namespace {

bool due(bool done_once, double last_s, double now_s, double period_s) {
  return !done_once || now_s - last_s >= period_s - kTimeEpsilon;
}

}  // namespace

long long kafka_lag_metric(long long total_lag, long long lag_threshold, long long partitions,
                           bool allow_idle_consumers) {
  if (!allow_idle_consumers && lag_threshold > 0 && total_lag / lag_threshold > partitions) {
    return partitions * lag_threshold;
  }
  return total_lag;
}

KedaPolicy::KedaPolicy(const PolicyEnv& env, core::ParamTable& params)
    : env_(env),
      lag_threshold_(params.get_int("lag_threshold", 10, 1, 1000000000)),
      activation_lag_threshold_(params.get_int("activation_lag_threshold", 0, 0, 1000000000)),
      allow_idle_consumers_(params.get_bool("allow_idle_consumers", false)),
      polling_interval_s_(params.get_double("polling_interval_s", 30, 1, 3600)),
      cooldown_period_s_(params.get_double("cooldown_period_s", 300, 0, 86400)),
      min_replica_count_(params.get_int("min_replica_count", 0, 0, env.max_executors)),
      behavior_([&] {
        const double sync = params.get_double("sync_period_s", 15, 1, 3600);
        const int max_replicas = params.get_int("max_replica_count", env.max_executors, 1, 100000);
        // KEDA creates the HPA with minReplicas = max(minReplicaCount, 1).
        return read_hpa_behavior(params, std::max(min_replica_count_, 1), std::max(max_replicas, 1),
                                 sync);
      }()),
      tier_(read_tier(params, env.default_tier)) {
  calculator_.tolerance = params.get_double("tolerance", 0.1, 0, 1);
  reset();
}

void KedaPolicy::reset() {
  behavior_.reset();
  started_ = false;
  polled_once_ = false;
  last_poll_s_ = 0;
  synced_once_ = false;
  last_sync_s_ = 0;
  ever_active_ = false;
  last_active_s_ = 0;
  target_ = 0;
  reason_ = "";
}

long long KedaPolicy::lag_messages(const core::Observation& obs) const {
  // Offsets count messages; a partly filled message is still one message.
  const double per_message = std::max(1, env_.records_per_message);
  const double messages = std::max(0.0, obs.kafka_lag_records) / per_message;
  return static_cast<long long>(std::ceil(messages - kTimeEpsilon));
}

core::Decision KedaPolicy::decide(const core::Observation& obs) {
  const int current = obs.total_executors();
  const double now = obs.time_s;
  if (!started_) {
    started_ = true;
    target_ = current;
  }
  if (!obs.metrics_available) {
    reason_ = "keda: metrics unavailable, holding";
    return core::Decision{clamp_executors(target_, env_), tier_, core::Compression::kNone, reason_};
  }
  const long long messages = lag_messages(obs);

  // The ScaledObject controller: activation and scale to/from zero.
  bool keda_scaled = false;
  if (due(polled_once_, last_poll_s_, now, polling_interval_s_)) {
    polled_once_ = true;
    last_poll_s_ = now;
    const bool active = messages > activation_lag_threshold_;
    if (active) {
      ever_active_ = true;
      last_active_s_ = now;
      if (current == 0) {
        target_ = std::max(min_replica_count_, 1);
        keda_scaled = true;
        reason_ = "keda: activated, scaling from zero";
      }
    } else if (current > 0 && min_replica_count_ == 0) {
      // LastActiveTime + cooldown must be strictly before now; nil scales at once.
      if (!ever_active_ || last_active_s_ + cooldown_period_s_ < now - kTimeEpsilon) {
        target_ = 0;
        keda_scaled = true;
        reason_ = "keda: inactive past cooldown, scaling to zero";
      }
    } else if (current < min_replica_count_) {
      target_ = min_replica_count_;
      keda_scaled = true;
      reason_ = "keda: below minReplicaCount";
    }
  }

  // The HPA on the External metric. It reconciles on its own period; at zero replicas
  // (or when KEDA just rescaled and the HPA still sees the old count) it does nothing.
  if (due(synced_once_, last_sync_s_, now, behavior_.config().sync_period_s)) {
    synced_once_ = true;
    last_sync_s_ = now;
    if (!keda_scaled && current > 0) {
      const long long metric =
          kafka_lag_metric(messages, lag_threshold_, env_.kafka_partitions, allow_idle_consumers_);
      const int proposal = calculator_.external_per_pod_replicas(
          current, static_cast<double>(metric), static_cast<double>(lag_threshold_));
      target_ = behavior_.reconcile(now, current, proposal);
      reason_ = target_ > current   ? "keda: lag above threshold"
                : target_ < current ? "keda: lag below threshold"
                                    : "keda: within tolerance or stabilised";
    }
  } else if (!keda_scaled) {
    reason_ = "keda: between syncs";
  }
  return core::Decision{clamp_executors(target_, env_), tier_, core::Compression::kNone, reason_};
}

}  // namespace prescale::policy

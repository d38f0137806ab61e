#include "policy/spark_dra.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <string>

namespace prescale::policy {

namespace {

// Rounds applied in one decision at most; by then the doubling has long reached any
// realistic maximum and further rounds are no-ops.
constexpr int kMaxRoundsPerDecision = 64;

int ceil_div(int a, int b) { return (a + b - 1) / b; }

}  // namespace

SparkDraPolicy::SparkDraPolicy(const PolicyEnv& env, core::ParamTable& params)
    : env_(env),
      backlog_timeout_s_(params.get_double("scheduler_backlog_timeout_s", 1, 0.001, 3600)),
      sustained_backlog_timeout_s_(params.get_double("sustained_scheduler_backlog_timeout_s",
                                                     backlog_timeout_s_, 0.001, 3600)),
      idle_timeout_s_(params.get_double("executor_idle_timeout_s", 60, 0.001, 86400)),
      allocation_ratio_(params.get_double("executor_allocation_ratio", 1.0, 0.001, 1.0)),
      tier_(read_tier(params, env.default_tier)) {
  // One idle sample per observation; observations come every env.step_s (at least one
  // per second is assumed for sizing).
  const double step = std::max(1e-3, std::min(env.step_s, 1.0));
  idle_.resize(static_cast<int>(std::ceil(idle_timeout_s_ / step)) + 1);
  reset();
}

void SparkDraPolicy::reset() {
  started_ = false;
  target_ = 0;
  to_add_ = 1;
  add_time_set_ = false;
  add_time_s_ = 0;
  idle_head_ = 0;
  idle_count_ = 0;
  reason_ = "";
}

void SparkDraPolicy::add_round(int max_needed, int registered) {
  if (max_needed < target_) {
    // The target exceeds what all running and pending tasks could use: lower it.
    target_ = std::max(max_needed, env_.min_executors);
    to_add_ = 1;
    return;
  }
  if (target_ >= env_.max_executors) {
    to_add_ = 1;
    return;
  }
  const int old_target = target_;
  int t = std::max(target_, registered) + to_add_;
  t = std::min(t, max_needed);
  t = std::max(std::min(t, env_.max_executors), env_.min_executors);
  const int delta = t - old_target;
  target_ = t;
  if (delta == 0) {
    to_add_ = 1;
    return;
  }
  // Double only when the whole increment was granted.
  to_add_ = delta == to_add_ ? std::min(to_add_, INT_MAX / 2) * 2 : 1;
}

int SparkDraPolicy::remove_idle(const core::Observation& obs) {
  const int cap = static_cast<int>(idle_.size());
  const int slots_used =
      ceil_div(std::max(0, env_.tasks_per_batch), std::max(1, env_.cores_per_executor));
  const int idle_now =
      obs.input_rps <= 0 ? obs.active_executors : std::max(0, obs.active_executors - slots_used);
  idle_[idle_head_] = idle_now;
  idle_head_ = (idle_head_ + 1) % cap;
  idle_count_ = std::min(idle_count_ + 1, cap);

  const double step = obs.step_s > 0 ? obs.step_s : env_.step_s;
  const int needed = std::min(cap, static_cast<int>(std::ceil(idle_timeout_s_ / step - 1e-9)));
  if (needed <= 0 || idle_count_ < needed) return 0;
  int idle_throughout = INT_MAX;
  for (int i = 0; i < needed; ++i) {
    idle_throughout = std::min(idle_throughout, idle_[(idle_head_ - 1 - i + 2 * cap) % cap]);
  }
  // removeExecutors never goes below minExecutors.
  const int removed =
      std::min(idle_throughout, std::max(0, obs.active_executors - env_.min_executors));
  if (removed <= 0) return 0;
  target_ = std::max(target_ - removed, env_.min_executors);
  // The killed executors were the idle ones; the others keep their idle history.
  for (int i = 0; i < idle_count_; ++i) {
    int& v = idle_[(idle_head_ - 1 - i + 2 * cap) % cap];
    v = std::max(0, v - removed);
  }
  return removed;
}

core::Decision SparkDraPolicy::decide(const core::Observation& obs) {
  if (!started_) {
    started_ = true;
    target_ = obs.total_executors();
  }
  if (!obs.metrics_available) {
    reason_ = "spark-dra: metrics unavailable, holding";
    return core::Decision{clamp_executors(target_, env_), tier_, core::Compression::kNone, reason_};
  }
  const double now = obs.time_s;
  const bool backlogged = obs.backlog_records > 0 || obs.batch_duration_ms > obs.trigger_ms;
  const int before = target_;
  reason_ = "spark-dra: steady";
  if (backlogged) {
    const int tasks_per_executor = std::max(1, env_.cores_per_executor);
    const int max_needed =
        static_cast<int>(std::ceil(static_cast<double>(std::max(0, env_.tasks_per_batch)) *
                                       allocation_ratio_ / static_cast<double>(tasks_per_executor) -
                                   1e-9));
    if (!add_time_set_) {
      // onSchedulerBacklogged at the start of the observed step.
      add_time_set_ = true;
      add_time_s_ = now - obs.step_s + backlog_timeout_s_;
    }
    int rounds = 0;
    while (add_time_s_ <= now + kTimeEpsilon && rounds < kMaxRoundsPerDecision) {
      add_round(max_needed, obs.active_executors);
      add_time_s_ += sustained_backlog_timeout_s_;
      ++rounds;
    }
    if (add_time_s_ <= now + kTimeEpsilon) add_time_s_ = now + sustained_backlog_timeout_s_;
    if (target_ > before) reason_ = "spark-dra: tasks backlogged, adding executors";
  } else {
    // onSchedulerQueueEmpty
    add_time_set_ = false;
    to_add_ = 1;
  }
  if (remove_idle(obs) > 0) reason_ = "spark-dra: removing idle executors";
  return core::Decision{clamp_executors(target_, env_), tier_, core::Compression::kNone, reason_};
}

}  // namespace prescale::policy

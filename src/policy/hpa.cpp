#include "policy/hpa.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <string>

namespace prescale::policy {

namespace {

int buffer_capacity(double window_s, double sync_period_s) {
  double period = std::max(sync_period_s, 1e-3);
  return static_cast<int>(std::ceil(window_s / period)) + 4;
}

double longest_period(const HpaScalingRules& rules) {
  double longest = 0;
  for (const auto& p : rules.policies) longest = std::max(longest, p.period_s);
  return longest;
}

}  // namespace

// ---------------------------------------------------------------------------------------
// HpaCalculator

long long HpaCalculator::utilization_percent(int ready, int unready, double cpu_util) const {
  // Upstream sums per-pod usage and requests as millicore integers and divides them as
  // integers, so 87.9% is 87%. Usage is rounded to whole millicores first.
  long long usage =
      std::llround(cpu_util * static_cast<double>(ready) * static_cast<double>(request_millicores));
  long long requests = static_cast<long long>(ready + unready) * request_millicores;
  if (requests <= 0) return 0;
  return usage * 100 / requests;
}

std::optional<int> HpaCalculator::resource_replicas(int current, int ready, int unready,
                                                    double cpu_util, int target_percent) const {
  if (ready <= 0 || target_percent <= 0) return std::nullopt;  // no metrics for ready pods

  const double usage_ratio = static_cast<double>(utilization_percent(ready, 0, cpu_util)) /
                             static_cast<double>(target_percent);

  // Pending pods are "ignored"; they only matter on a scale-up, where they count at 0%.
  const bool rebalance_ignored = unready > 0 && usage_ratio > 1.0;
  if (!rebalance_ignored) {
    if (std::abs(1.0 - usage_ratio) <= tolerance) return current;
    return static_cast<int>(std::ceil(usage_ratio * static_cast<double>(ready)));
  }

  const double new_usage_ratio =
      static_cast<double>(utilization_percent(ready, unready, cpu_util)) /
      static_cast<double>(target_percent);
  // Too small a change, or a change of direction once the unready pods are counted.
  if (std::abs(1.0 - new_usage_ratio) <= tolerance ||
      (usage_ratio < 1.0 && new_usage_ratio > 1.0) ||
      (usage_ratio > 1.0 && new_usage_ratio < 1.0)) {
    return current;
  }
  const int pods_counted = ready + unready;
  const int new_replicas =
      static_cast<int>(std::ceil(new_usage_ratio * static_cast<double>(pods_counted)));
  if ((new_usage_ratio < 1.0 && new_replicas > current) ||
      (new_usage_ratio > 1.0 && new_replicas < current)) {
    return current;
  }
  return new_replicas;
}

int HpaCalculator::external_per_pod_replicas(int status_replicas, double metric_total,
                                             double target_per_pod) const {
  if (target_per_pod <= 0) return status_replicas;
  // Go divides by zero replicas into +Inf, which is always outside the tolerance.
  const double usage_ratio =
      status_replicas > 0 ? metric_total / (target_per_pod * static_cast<double>(status_replicas))
                          : HUGE_VAL;
  if (std::abs(1.0 - usage_ratio) > tolerance) {
    return static_cast<int>(std::ceil(metric_total / target_per_pod));
  }
  return status_replicas;
}

// ---------------------------------------------------------------------------------------
// HpaBehaviorConfig

HpaBehaviorConfig HpaBehaviorConfig::Defaults(int min_replicas, int max_replicas) {
  HpaBehaviorConfig c;
  c.scale_up.stabilization_window_s = 0;
  c.scale_up.select = HpaScalingRules::Select::kMax;
  c.scale_up.policies = {{HpaScalingPolicy::Type::kPods, 4, 15},
                         {HpaScalingPolicy::Type::kPercent, 100, 15}};
  c.scale_down.stabilization_window_s = 300;
  c.scale_down.select = HpaScalingRules::Select::kMax;
  c.scale_down.policies = {{HpaScalingPolicy::Type::kPercent, 100, 15}};
  c.min_replicas = min_replicas;
  c.max_replicas = max_replicas;
  c.sync_period_s = 15;
  return c;
}

HpaBehaviorConfig read_hpa_behavior(core::ParamTable& params, int min_replicas, int max_replicas,
                                    double sync_period_s) {
  HpaBehaviorConfig c = HpaBehaviorConfig::Defaults(min_replicas, max_replicas);
  c.sync_period_s = sync_period_s;
  c.scale_up.stabilization_window_s = params.get_double("scale_up_stabilization_s", 0, 0, 3600);
  c.scale_down.stabilization_window_s =
      params.get_double("scale_down_stabilization_s", 300, 0, 3600);
  const int up_pods = params.get_int("scale_up_pods", 4, 0, 100000);
  const int up_percent = params.get_int("scale_up_percent", 100, 0, 100000);
  const double up_period = params.get_double("scale_up_period_s", 15, 1, 1800);
  const int down_percent = params.get_int("scale_down_percent", 100, 0, 100);
  const double down_period = params.get_double("scale_down_period_s", 15, 1, 1800);
  c.scale_up.policies = {{HpaScalingPolicy::Type::kPods, up_pods, up_period},
                         {HpaScalingPolicy::Type::kPercent, up_percent, up_period}};
  c.scale_down.policies = {{HpaScalingPolicy::Type::kPercent, down_percent, down_period}};
  return c;
}

// ---------------------------------------------------------------------------------------
// HpaBehavior

HpaBehavior::HpaBehavior(HpaBehaviorConfig config) : config_(std::move(config)) {
  const double window =
      std::max(config_.scale_up.stabilization_window_s, config_.scale_down.stabilization_window_s);
  recommendations_.resize(buffer_capacity(window, config_.sync_period_s));
  up_events_.resize(buffer_capacity(longest_period(config_.scale_up), config_.sync_period_s));
  down_events_.resize(buffer_capacity(longest_period(config_.scale_down), config_.sync_period_s));
  reset();
}

void HpaBehavior::reset() {
  initialised_ = false;
  rec_head_ = rec_count_ = 0;
  up_head_ = up_count_ = 0;
  down_head_ = down_count_ = 0;
}

void HpaBehavior::record_initial_recommendation(double now_s, int current) {
  if (initialised_) return;
  initialised_ = true;
  recommendations_[rec_head_] = {now_s, current};
  rec_head_ = (rec_head_ + 1) % static_cast<int>(recommendations_.size());
  rec_count_ = 1;
}

int HpaBehavior::stabilize(double now_s, int current, int desired) {
  return stabilize(now_s, current, desired, config_.scale_down.stabilization_window_s);
}

int HpaBehavior::stabilize(double now_s, int current, int desired, double scale_down_window_s) {
  // A record is inside a window when its timestamp is strictly after now - window
  // (time.After(cutoff)); with a 0 s window no record qualifies.
  const double up_cutoff = now_s - config_.scale_up.stabilization_window_s;
  const double down_cutoff =
      now_s - std::min(scale_down_window_s, config_.scale_down.stabilization_window_s);
  int up_recommendation = desired;    // min over the scale-up window
  int down_recommendation = desired;  // max over the scale-down window
  const int cap = static_cast<int>(recommendations_.size());
  for (int i = 0; i < rec_count_; ++i) {
    const Recommendation& r = recommendations_[(rec_head_ - 1 - i + 2 * cap) % cap];
    if (r.time_s > up_cutoff + kTimeEpsilon) {
      up_recommendation = std::min(up_recommendation, r.replicas);
    }
    if (r.time_s > down_cutoff + kTimeEpsilon) {
      down_recommendation = std::max(down_recommendation, r.replicas);
    }
  }
  int recommendation = current;
  if (recommendation < up_recommendation) recommendation = up_recommendation;
  if (recommendation > down_recommendation) recommendation = down_recommendation;

  // Record the unstabilised recommendation; the ring only overwrites records older than
  // both windows when it is sized for the sync period.
  recommendations_[rec_head_] = {now_s, desired};
  rec_head_ = (rec_head_ + 1) % cap;
  rec_count_ = std::min(rec_count_ + 1, cap);
  return recommendation;
}

int HpaBehavior::changes_within(const std::vector<ScaleEvent>& events, int count, double now_s,
                                double period_s) {
  // getReplicasChangePerPeriod: events whose timestamp is after now - period. The ring
  // holds the newest `count` events; their order does not matter for a sum.
  int total = 0;
  for (int i = 0; i < count; ++i) {
    if (events[i].time_s > now_s - period_s + kTimeEpsilon) total += events[i].change;
  }
  return total;
}

int HpaBehavior::period_start(double now_s, int current, double period_s) const {
  const int added = changes_within(up_events_, up_count_, now_s, period_s);
  const int deleted = changes_within(down_events_, down_count_, now_s, period_s);
  return current - added + deleted;
}

int HpaBehavior::scale_up_limit(double now_s, int current) const {
  const HpaScalingRules& rules = config_.scale_up;
  if (rules.select == HpaScalingRules::Select::kDisabled) return current;
  if (rules.policies.empty()) return INT_MAX;
  const bool pick_min = rules.select == HpaScalingRules::Select::kMin;
  int result = pick_min ? INT_MAX : INT_MIN;
  for (const HpaScalingPolicy& policy : rules.policies) {
    const int start = period_start(now_s, current, policy.period_s);
    int proposed = 0;
    if (policy.type == HpaScalingPolicy::Type::kPods) {
      proposed = start + policy.value;
    } else {
      // Rounded up so that a small percentage still adds a pod.
      proposed = static_cast<int>(std::ceil(static_cast<double>(start) *
                                            (1.0 + static_cast<double>(policy.value) / 100.0)));
    }
    result = pick_min ? std::min(result, proposed) : std::max(result, proposed);
  }
  return result;
}

int HpaBehavior::scale_down_limit(double now_s, int current) const {
  const HpaScalingRules& rules = config_.scale_down;
  if (rules.select == HpaScalingRules::Select::kDisabled) return current;
  if (rules.policies.empty()) return INT_MIN;
  // For scale-down, the "Max" change is the smallest resulting replica count.
  const bool pick_max_count = rules.select == HpaScalingRules::Select::kMin;
  int result = pick_max_count ? INT_MIN : INT_MAX;
  for (const HpaScalingPolicy& policy : rules.policies) {
    const int start = period_start(now_s, current, policy.period_s);
    int proposed = 0;
    if (policy.type == HpaScalingPolicy::Type::kPods) {
      proposed = start - policy.value;
    } else {
      // Truncated toward zero, as int32(float64(...)) does.
      proposed = static_cast<int>(static_cast<double>(start) *
                                  (1.0 - static_cast<double>(policy.value) / 100.0));
    }
    result = pick_max_count ? std::max(result, proposed) : std::min(result, proposed);
  }
  return result;
}

int HpaBehavior::limit_rate(double now_s, int current, int desired) const {
  if (desired > current) {
    int limit = scale_up_limit(now_s, current);
    if (limit < current) limit = current;  // wait until the events age out
    const int maximum_allowed = std::min(config_.max_replicas, limit);
    return std::min(desired, maximum_allowed);
  }
  if (desired < current) {
    int limit = scale_down_limit(now_s, current);
    if (limit > current) limit = current;
    const int minimum_allowed = std::max(config_.min_replicas, limit);
    return std::max(desired, minimum_allowed);
  }
  return desired;
}

void HpaBehavior::push_event(std::vector<ScaleEvent>& events, int& head, int& count,
                             ScaleEvent event) {
  const int cap = static_cast<int>(events.size());
  events[head] = event;
  head = (head + 1) % cap;
  count = std::min(count + 1, cap);
}

void HpaBehavior::store_scale_event(double now_s, int previous, int next) {
  if (next > previous) {
    push_event(up_events_, up_head_, up_count_, {now_s, next - previous});
  } else if (next < previous) {
    push_event(down_events_, down_head_, down_count_, {now_s, previous - next});
  }
}

int HpaBehavior::reconcile(double now_s, int current, std::optional<int> proposal) {
  record_initial_recommendation(now_s, current);
  int desired = current;
  if (current == 0 && config_.min_replicas != 0) {
    return current;  // "scaling is disabled since the replica count of the target is zero"
  } else if (current > config_.max_replicas) {
    desired = config_.max_replicas;
  } else if (current < config_.min_replicas) {
    desired = config_.min_replicas;
  } else {
    if (!proposal.has_value()) return current;  // every metric failed: no rescale
    desired = limit_rate(now_s, current, stabilize(now_s, current, *proposal));
  }
  if (desired != current) store_scale_event(now_s, current, desired);
  return desired;
}

// ---------------------------------------------------------------------------------------
// HpaPolicy

HpaPolicy::HpaPolicy(const PolicyEnv& env, core::ParamTable& params)
    : env_(env),
      behavior_([&] {
        const double sync = params.get_double("sync_period_s", 15, 1, 3600);
        const int min_replicas =
            params.get_int("min_replicas", env.min_executors, 0, env.max_executors);
        const int max_replicas =
            params.get_int("max_replicas", env.max_executors, std::max(1, min_replicas), 100000);
        return read_hpa_behavior(params, min_replicas, max_replicas, sync);
      }()),
      sync_period_s_(behavior_.config().sync_period_s),
      target_cpu_percent_(params.get_int("target_cpu_percent", 80, 1, 100)),
      tier_(read_tier(params, env.default_tier)) {
  calculator_.tolerance = params.get_double("tolerance", 0.1, 0, 1);
  calculator_.request_millicores = 1000LL * std::max(1, env.cores_per_executor);
  reset();
}

void HpaPolicy::reset() {
  behavior_.reset();
  synced_once_ = false;
  last_sync_s_ = 0;
  target_ = 0;
  reason_ = "";
}

core::Decision HpaPolicy::decide(const core::Observation& obs) {
  const int current = obs.total_executors();
  const bool due = !synced_once_ || obs.time_s - last_sync_s_ >= sync_period_s_ - kTimeEpsilon;
  if (!synced_once_) target_ = current;
  if (!due) {
    reason_ = "hpa: between syncs";
  } else if (!obs.metrics_available) {
    // The sync fails in computeReplicasForMetrics (after the initial recommendation and
    // the min/max corrections); the next attempt is one period later.
    synced_once_ = true;
    last_sync_s_ = obs.time_s;
    target_ = behavior_.reconcile(obs.time_s, current, std::nullopt);
    reason_ = "hpa: metrics unavailable, holding";
  } else {
    synced_once_ = true;
    last_sync_s_ = obs.time_s;
    const std::optional<int> proposal = calculator_.resource_replicas(
        current, obs.active_executors, obs.pending_executors, obs.cpu_util, target_cpu_percent_);
    target_ = behavior_.reconcile(obs.time_s, current, proposal);
    reason_ = target_ > current   ? "hpa: cpu above target"
              : target_ < current ? "hpa: all metrics below target"
                                  : "hpa: within tolerance or stabilised";
  }
  return core::Decision{clamp_executors(target_, env_), tier_, core::Compression::kNone, reason_};
}

}  // namespace prescale::policy

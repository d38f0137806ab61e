// hpa: the Kubernetes Horizontal Pod Autoscaler v2, with executors as pods (the seed's
// "Dexter: scale if CPU > 80%", implemented as the real controller).
//
// Source: kubernetes/kubernetes
//   pkg/controller/podautoscaler/replica_calculator.go  (GetResourceReplicas,
//       GetExternalPerPodMetricReplicas)
//   pkg/controller/podautoscaler/metrics/utilization.go (integer-percent utilisation)
//   pkg/controller/podautoscaler/horizontal.go          (reconcileAutoscaler,
//       stabilizeRecommendationWithBehaviors, convertDesiredReplicasWithBehaviorRate,
//       calculateScale{Up,Down}Limit..., storeScaleEvent)
//   pkg/apis/autoscaling/v2/defaults.go                 (default behaviour)
//
// The controller is split the way the original is, so that KEDA (keda.h) and the
// predictive HPA (phpa.h) reuse it:
//   HpaCalculator  — the pure replica arithmetic of replica_calculator.go;
//   HpaBehavior    — stabilisation windows, scale-rate policies and their event history,
//                    plus one reconcile step of horizontal.go;
//   HpaPolicy      — the `hpa` policy: a CPU-utilisation HPA synced every 15 s.
//
// Parameters of `hpa` (defaults are the upstream defaults):
//   sync_period_s               15   --horizontal-pod-autoscaler-sync-period
//   target_cpu_percent          80   averageUtilization (the seed's 80% threshold)
//   tolerance                   0.1  --horizontal-pod-autoscaler-tolerance
//   min_replicas       env.min_executors   (HPA default 1)
//   max_replicas       env.max_executors
//   scale_up_stabilization_s     0   defaults.go scaleUpStabilizationSeconds
//   scale_down_stabilization_s 300   --horizontal-pod-autoscaler-downscale-stabilization
//   scale_up_pods                4   defaults.go scaleUpLimitMinimumPods
//   scale_up_percent           100   defaults.go scaleUpLimitPercent
//   scale_up_period_s           15   defaults.go scaleUpPeriod
//   scale_down_percent         100   defaults.go scaleDownLimitPercent
//   scale_down_period_s         15   defaults.go scaleDownPeriod
//   tier               env.default_tier
//
// Modelling choices: ready pods = obs.active_executors (their mean CPU is obs.cpu_util);
// pending executors are pods in the Pending phase, which groupPods() puts in the ignored
// set; there are no pods with missing metrics and no CPU-initialisation window (an
// executor serves as soon as it is active). currentReplicas = obs.total_executors(),
// i.e. scale.spec.replicas once the previous decision has been applied. When metrics are
// unavailable the reconcile fails before normalisation: no recommendation or scale event
// is recorded and the target holds (only an out-of-range count is corrected, as upstream
// does before it reads metrics).
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "core/params.h"
#include "core/types.h"
#include "policy/policy.h"

namespace prescale::policy {

// The replica arithmetic of replica_calculator.go. Pure and stateless.
struct HpaCalculator {
  double tolerance = 0.1;
  // CPU request of one pod in millicores; utilisation is computed, like upstream, as the
  // integer percentage (sum(usage) * 100) / sum(requests) over millicore integers.
  long long request_millicores = 1000;

  // GetResourceReplicas. `current` is the scale's spec.replicas, `ready` the ready pods
  // (whose mean utilisation in [0,1] is `cpu_util`), `unready` the Pending pods.
  // Returns std::nullopt when no ready pod reports a metric (upstream: "did not receive
  // metrics for any ready pods"), in which case the HPA does not scale.
  std::optional<int> resource_replicas(int current, int ready, int unready, double cpu_util,
                                       int target_percent) const;

  // GetExternalPerPodMetricReplicas: an External metric with an AverageValue target (what
  // KEDA creates). usageRatio = total / (target * statusReplicas); outside the tolerance
  // the proposal is ceil(total / target), inside it statusReplicas.
  int external_per_pod_replicas(int status_replicas, double metric_total,
                                double target_per_pod) const;

  // Integer utilisation percentage of `ready` pods at `cpu_util` with `unready` pods
  // counted at 0 usage (metrics.GetResourceUtilizationRatio on millicore integers).
  long long utilization_percent(int ready, int unready, double cpu_util) const;
};

// One HPAScalingPolicy: change by `value` pods or percent within `period_s`.
struct HpaScalingPolicy {
  enum class Type { kPods, kPercent };
  Type type = Type::kPods;
  int value = 0;
  double period_s = 15;
};

// HPAScalingRules. An empty policy list means "no rate limit" (used by phpa, whose
// upstream applies only the downscale stabilisation).
struct HpaScalingRules {
  enum class Select { kMax, kMin, kDisabled };
  double stabilization_window_s = 0;
  Select select = Select::kMax;
  std::vector<HpaScalingPolicy> policies;
};

struct HpaBehaviorConfig {
  HpaScalingRules scale_up;
  HpaScalingRules scale_down;
  int min_replicas = 1;
  int max_replicas = 20;
  double sync_period_s = 15;  // only sizes the history buffers

  // The upstream defaults (defaults.go + the 300 s downscale stabilisation flag).
  static HpaBehaviorConfig Defaults(int min_replicas, int max_replicas);
};

// Reads the behaviour parameters listed in hpa.h's header comment (all but the tier, the
// target and the sync period) with their upstream defaults.
HpaBehaviorConfig read_hpa_behavior(core::ParamTable& params, int min_replicas, int max_replicas,
                                    double sync_period_s);

// The stateful half of horizontal.go for one HPA object: recommendation history for the
// stabilisation windows and scale-event history for the rate policies. Buffers are sized
// in the constructor; nothing allocates afterwards. Times are seconds on any monotonic
// clock (the simulator's time_s).
class HpaBehavior {
 public:
  explicit HpaBehavior(HpaBehaviorConfig config);

  void reset();

  // recordInitialRecommendation: the first reconcile seeds the window with `current`.
  void record_initial_recommendation(double now_s, int current);

  // stabilizeRecommendationWithBehaviors: clamps `current` into [min of the scale-up
  // window, max of the scale-down window], both including `desired`, then records
  // `desired` (the unstabilised recommendation).
  int stabilize(double now_s, int current, int desired);
  // The same with the scale-down window given (at most the configured one, which sized the
  // history buffer): the safety envelope adapts its window at run time.
  int stabilize(double now_s, int current, int desired, double scale_down_window_s);

  // convertDesiredReplicasWithBehaviorRate: applies the scale-up/down rate policies
  // (from periodStartReplicas = current - added + deleted within each period) and the
  // min/max replica bounds. Does not record anything.
  int limit_rate(double now_s, int current, int desired) const;

  // storeScaleEvent: remembers a rescale from `previous` to `next` for the rate policies.
  void store_scale_event(double now_s, int previous, int next);

  // One reconcileAutoscaler step after the metrics were evaluated. `proposal` is the
  // metric's desired replica count, or nullopt when every metric failed (then nothing is
  // recorded and `current` is returned). Applies the out-of-range corrections, the
  // stabilisation, the rate limits, and stores the scale event.
  int reconcile(double now_s, int current, std::optional<int> proposal);

  const HpaBehaviorConfig& config() const { return config_; }

 private:
  struct Recommendation {
    double time_s;
    int replicas;
  };
  struct ScaleEvent {
    double time_s;
    int change;  // always positive; direction given by the buffer
  };

  // Sum of changes in `events` strictly after now - period.
  static int changes_within(const std::vector<ScaleEvent>& events, int count, double now_s,
                            double period_s);
  // Replicas at the start of the rate-limit period: current minus the net change within it.
  int period_start(double now_s, int current, double period_s) const;
  int scale_up_limit(double now_s, int current) const;
  int scale_down_limit(double now_s, int current) const;
  static void push_event(std::vector<ScaleEvent>& events, int& head, int& count, ScaleEvent event);

  HpaBehaviorConfig config_;
  bool initialised_ = false;
  std::vector<Recommendation> recommendations_;  // ring buffer
  int rec_head_ = 0;                             // next slot to write
  int rec_count_ = 0;
  std::vector<ScaleEvent> up_events_;  // ring buffers
  int up_head_ = 0;
  int up_count_ = 0;
  std::vector<ScaleEvent> down_events_;
  int down_head_ = 0;
  int down_count_ = 0;
};

// The `hpa` policy.
class HpaPolicy final : public Policy {
 public:
  HpaPolicy(const PolicyEnv& env, core::ParamTable& params);

  std::string_view name() const override { return "hpa"; }
  void reset() override;
  core::Decision decide(const core::Observation& obs) override;

 private:
  PolicyEnv env_;
  HpaCalculator calculator_;
  HpaBehavior behavior_;
  double sync_period_s_;
  int target_cpu_percent_;
  core::Tier tier_;

  bool synced_once_ = false;
  double last_sync_s_ = 0;
  int target_ = 0;
  const char* reason_ = "";
};

}  // namespace prescale::policy

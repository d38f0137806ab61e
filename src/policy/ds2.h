// ds2, ds2-tuned: DS2 (Kalavri et al., "Three steps is all you need: fast, accurate,
// automatic scaling decisions for distributed streaming dataflows", OSDI 2018) as
// productised by the Flink Kubernetes Operator autoscaler, with Spark executors as the
// parallelism of a single (source) vertex.
//
// Source: apache/flink-kubernetes-operator, flink-autoscaler/src/main/java/org/apache/flink/
//   autoscaler/utils/AutoScalerUtils.java   getTargetProcessingCapacity
//   autoscaler/ScalingMetricEvaluator.java  true processing rate from busy time,
//       isProcessingBacklog, computeProcessingRateThresholds, computeTargetDataRate
//   autoscaler/JobVertexScaler.java         computeScaleTargetParallelism, scale,
//       applyScaleDownInterval (with DelayedScaleDown.java)
//   autoscaler/ScalingExecutor.java         allChangedVerticesWithinUtilizationTarget
//   autoscaler/ScalingMetricCollector.java  stabilisation and metric-window filling
//   autoscaler/config/AutoScalerOptions.java (defaults below)
//   flink-kubernetes-operator KubernetesOperatorConfigOptions (reconcile.interval)
//
// The rule, from window averages (all observations of the last metrics window):
//   TPR (true processing rate, records/s the executors could do at 100% busy)
//       = mean(processed_rps) / mean(busy_fraction)          (+inf when nothing flows)
//   capacity(u, restart?) = round(lag / catchUp
//                                 + [restart? inputRate * restartTime / catchUp]
//                                 + inputRate / u)           (+inf when u = 0)
//   target          = capacity(targetUtilisation, restart)
//   scale-up   threshold = capacity(target + boundary, no restart)
//   scale-down threshold = capacity(target - boundary, restart)
//   While "processing backlog" (lag / processed rate > backlog-processing.lag-threshold)
//   the utilisations become 1.0 and 0.0: a scale-down threshold of +inf, so no
//   scale-down while catching up.
//   scaleFactor = target / TPR, bounded to [1 - scale-down.max-factor,
//   1 + scale-up.max-factor]; new executors = ceil(scaleFactor * active executors)
//   (= ceil(target / TPR per executor)).
//   No change when TPR lies within [scale-up threshold, scale-down threshold].
//   A scale-down only happens once it has been recommended for scale-down.interval since
//   its first trigger, and then to the highest parallelism recommended meanwhile.
// Timing: after the start and after every rescale, metrics are ignored for the
// stabilisation interval, then collected until a full metrics window is available; the
// autoscaler evaluates once per operator reconcile interval.
//
// Observation mapping: inputRate = obs.input_rps (the source's ingestion rate: records in
// plus lag growth), processed = obs.processed_rps, busy = obs.busy_fraction, lag =
// obs.backlog_records (the latest value, not averaged), parallelism =
// obs.active_executors. Not modelled: key-group/partition alignment of the parallelism
// (executors are not source subtasks), memory tuning, ineffective-scaling detection
// (disabled by default upstream), observed-TPR switching (needs catch-up observations).
//
// Parameters (Flink operator defaults; `ds2-tuned` changes only the two marked *):
//   metrics_window_s          900   job.autoscaler.metrics.window (15 min)
//   stabilization_interval_s  300   job.autoscaler.stabilization.interval (5 min)
//   interval_s                 60   kubernetes.operator.reconcile.interval (1 min)
//   target_utilization        0.7   job.autoscaler.utilization.target
//   utilization_boundary      0.3   job.autoscaler.target.utilization.boundary
//   catch_up_duration_s *    1800   job.autoscaler.catch-up.duration (30 min; tuned 300)
//   restart_time_s *          300   job.autoscaler.restart.time (5 min; tuned 120)
//   backlog_lag_threshold_s   300   job.autoscaler.backlog-processing.lag-threshold
//   scale_down_max_factor     0.6   job.autoscaler.scale-down.max-factor
//   scale_up_max_factor    100000   job.autoscaler.scale-up.max-factor
//   scale_down_interval_s    3600   job.autoscaler.scale-down.interval (1 h)
//   tier          env.default_tier
#pragma once

#include <string_view>
#include <vector>

#include "core/params.h"
#include "core/types.h"
#include "policy/policy.h"

namespace prescale::policy {

struct Ds2Config {
  double target_utilization = 0.7;
  double utilization_boundary = 0.3;
  double catch_up_duration_s = 1800;
  double restart_time_s = 300;
  double backlog_lag_threshold_s = 300;
  double scale_down_max_factor = 0.6;
  double scale_up_max_factor = 100000;
};

// Window-averaged metrics of the job (one vertex).
struct Ds2Metrics {
  double input_rate = 0;            // records/s arriving (the source's target data rate)
  double processed_rate = 0;        // records/s the source read (its numRecordsIn rate)
  double true_processing_rate = 0;  // records/s at 100% busy, all executors together
  double lag = 0;                   // records waiting, latest value
  int parallelism = 0;              // executors that produced the rates
};

struct Ds2Evaluation {
  bool processing_backlog = false;
  double target_capacity = 0;
  double scale_up_threshold = 0;
  double scale_down_threshold = 0;
  int new_parallelism = 0;     // ceil(bounded scale factor * parallelism)
  bool within_target = false;  // TPR inside [scale-up, scale-down] thresholds: no scaling
};

// AutoScalerUtils.getTargetProcessingCapacity.
double ds2_target_capacity(const Ds2Config& config, double input_rate, double lag,
                           double utilization, bool with_restart);

// ScalingMetricEvaluator thresholds + JobVertexScaler's parallelism, without the
// scale-down interval. Pure.
Ds2Evaluation ds2_evaluate(const Ds2Config& config, const Ds2Metrics& metrics);

class Ds2Policy final : public Policy {
 public:
  // `tuned` selects the name "ds2-tuned" and its catch-up/restart defaults.
  Ds2Policy(const PolicyEnv& env, core::ParamTable& params, bool tuned = false);

  std::string_view name() const override { return tuned_ ? "ds2-tuned" : "ds2"; }
  void reset() override;
  core::Decision decide(const core::Observation& obs) override;

 private:
  struct Sample {
    double time_s;
    double input_rps;
    double processed_rps;
    double busy_fraction;
  };

  core::Decision hold(const char* reason);
  void clear_samples();
  // Evaluates the window and returns the new parallelism, or -1 for no change.
  int evaluate(const core::Observation& obs);

  PolicyEnv env_;
  bool tuned_;
  Ds2Config config_;
  double metrics_window_s_;
  double stabilization_interval_s_;
  double interval_s_;
  double scale_down_interval_s_;
  core::Tier tier_;

  bool started_ = false;
  int target_ = 0;
  double job_update_s_ = 0;  // start, or the last rescale
  bool evaluated_once_ = false;
  double last_evaluation_s_ = 0;
  std::vector<Sample> samples_;  // ring buffer over the metrics window
  int sample_head_ = 0;
  int sample_count_ = 0;
  double first_sample_s_ = 0;  // first sample since the last job update
  bool delayed_down_ = false;  // DelayedScaleDown for the vertex
  double delayed_first_s_ = 0;
  int delayed_max_ = 0;
  const char* reason_ = "";
};

}  // namespace prescale::policy

// The arena's discrete-time model of a serverless Spark cluster under an IoT stream.
//
// One step of `step_s` seconds (docs/model.md, "The step loop"):
//   1. executors whose cold start is over start serving;
//   2. the policy's decision is applied: target clamped to [min, max] executors (new
//      ones bill now and serve after the cold start; removal is immediate), shuffle tier
//      and codec switched (a switch pauses the job: StepModel::switch_pause_s);
//   3. StepModel: arrivals + backlog are processed at the serving capacity;
//   4. cost: every alive executor for the whole step + the tier's storage and requests;
//   5. metrics are accumulated, and the next Observation is built from this step's
//      outcome and the edge signal of the next step.
#pragma once

#include <cstdint>
#include <vector>

#include "core/types.h"
#include "sim/executor_pool.h"
#include "sim/scenario.h"
#include "sim/step_model.h"
#include "sim/workload.h"

namespace prescale::sim {

// One row of the timeline (per step and policy).
struct StepRecord {
  int step;
  double load_rps;
  double processed_rps;
  double backlog;
  int active;
  int pending;
  int target;
  core::Tier tier;
  core::Compression codec;
  double latency_ms;
  double cpu_util;
  double cost;  // $ in this step
  bool violation;
  bool signal;
  std::uint8_t guards = 0;  // core::kGuard* bits: the safety envelope overrode the policy
  const char* reason = "";  // the decision's reason (a string literal)
  float hold_s = 0;         // the envelope's adaptive scale-down window, s (0: not guarded)
};

// Totals of one run. All figures are over the run's steps.
struct RunMetrics {
  int steps = 0;
  double step_s = 0;
  double cost = 0;           // $ total = executor_cost + tier_cost
  double executor_cost = 0;  // $
  double tier_cost = 0;      // $
  int violations = 0;        // steps with latency > SLA
  double violation_pct = 0;  // 100 * violations / steps
  double violation_minutes = 0;
  double p95_latency_ms = 0;  // nearest-rank 95th percentile of per-step latency
  double mean_latency_ms = 0;
  double stability = 0;       // population std dev of alive executors per step
  double mean_executors = 0;  // mean alive executors (serving + provisioning)
  double executor_seconds = 0;
  int rescales = 0;   // steps whose applied target differs from the previous one
  int reversals = 0;  // rescales whose direction differs from the previous rescale's
  int switches = 0;   // steps that changed the shuffle tier or codec (each paid a pause)
  // Steps in which the safety envelope overrode the policy, by guard (policy/envelope.h).
  int guard_floor = 0, guard_stabilise = 0, guard_dwell = 0, guard_shuffle = 0;
  int regrets = 0;                  // releases the envelope judged regretted (its window grew)
  int guard_overrides = 0;          // steps with any override
  double throughput_mb_s = 0;       // processed MB / run time
  double peak_throughput_mb_s = 0;  // highest processed MB/s of any step
  double cpu_util_pct = 0;          // mean over steps with serving executors
  double lag_integral = 0;          // sum of backlog * step_s, record-seconds
  double arrived = 0;               // records
  double processed = 0;             // records
  double final_backlog = 0;         // records
};

class Simulator {
 public:
  // The scenario and workload must outlive the simulator.
  Simulator(const Scenario& scenario, const Workload& workload);

  // Back to t = 0 with the scenario's initial executors; metrics cleared.
  void reset();

  bool done() const { return t_ >= steps_; }
  const core::Observation& observation() const { return obs_; }
  void step(const core::Decision& decision);

  // Final metrics (valid once done(); computes the percentile on first call).
  const RunMetrics& metrics();

  // Optional per-step records, appended from the next step on (nullptr to stop).
  void record_timeline(std::vector<StepRecord>* out) { timeline_ = out; }

 private:
  void build_observation(const StepOutcome& o, double arrivals_rps, int next_step);

  const Scenario& scenario_;
  const Workload& workload_;
  StepModel model_;
  ExecutorPool pool_;
  int steps_;
  int min_executors_;
  int max_executors_;
  double sla_ms_;
  std::int64_t t_ = 0;
  double backlog_ = 0;
  double warmup_left_s_ = 0;  // warm-up pause still to come (cluster.warmup_s)
  core::Tier tier_;
  core::Compression codec_ = core::Compression::kNone;
  core::Observation obs_;
  RunMetrics m_;
  bool finalized_ = false;
  int last_target_ = 0;
  int last_direction_ = 0;
  double sum_exec_ = 0, sum_exec_sq_ = 0, sum_cpu_ = 0, sum_latency_ = 0;
  int cpu_steps_ = 0;
  std::vector<double> latencies_;
  std::vector<StepRecord>* timeline_ = nullptr;
};

// Runs a whole workload with a decide-callable (anything with Decision decide(const
// Observation&)); returns the metrics.
template <class DecideFn>
RunMetrics simulate(Simulator& sim, DecideFn&& decide) {
  sim.reset();
  while (!sim.done()) sim.step(decide(sim.observation()));
  return sim.metrics();
}

}  // namespace prescale::sim

#include "sim/simulator.h"

#include <algorithm>
#include <cmath>
#include <span>

#include "core/percentile.h"
#include "observe/observe.h"

namespace prescale::sim {

Simulator::Simulator(const Scenario& scenario, const Workload& workload)
    : scenario_(scenario),
      workload_(workload),
      model_(scenario),
      pool_(scenario.cold_start_steps(), scenario.cluster.initial_executors),
      steps_(workload.steps()),
      min_executors_(scenario.cluster.min_executors),
      max_executors_(scenario.cluster.max_executors),
      sla_ms_(scenario.latency.sla_ms),
      tier_(scenario.default_tier) {
  latencies_.reserve(steps_);
  reset();
}

void Simulator::reset() {
  t_ = 0;
  backlog_ = 0;
  warmup_left_s_ = 0;
  tier_ = scenario_.default_tier;
  codec_ = core::Compression::kNone;
  pool_.reset(scenario_.cluster.initial_executors);
  m_ = RunMetrics{};
  m_.steps = steps_;
  m_.step_s = scenario_.step_s;
  finalized_ = false;
  last_target_ = pool_.total();
  last_direction_ = 0;
  sum_exec_ = sum_exec_sq_ = sum_cpu_ = sum_latency_ = 0;
  cpu_steps_ = 0;
  latencies_.clear();
  // The first observation describes a virtual warm-up step at the first step's load.
  obs_ = core::Observation{};
  if (steps_ > 0) {
    const double a0 = workload_.arrivals_rps[0];
    build_observation(model_.run(a0, 0, pool_.active(), tier_, codec_), a0, 0);
  }
}

// The arena's facts; what they mean in the Observation is observe::build's (docs/model.md,
// "The Observation"). The step model computes the latency, busy time and CPU exactly, and
// the edge model gives one signal per step.
void Simulator::build_observation(const StepOutcome& o, double arrivals_rps, int next_step) {
  const double dt = scenario_.step_s;
  const int e = std::min(next_step, steps_ - 1);
  const observe::EdgeSignal edge{workload_.signal[e] != 0, workload_.forecast_rps[e],
                                 scenario_.edge.horizon_s, workload_.confidence[e]};
  observe::Facts f;
  f.step = next_step;
  f.time_s = next_step * dt;
  f.step_s = dt;
  f.trigger_s = scenario_.latency.trigger_s;
  f.sla_ms = sla_ms_;
  f.context = scenario_.context;
  f.input_rps = arrivals_rps;
  f.processed_rps = o.processed / dt;
  f.record_mb = model_.record_mb();
  f.backlog_records = o.backlog_out;
  f.batch_duration_ms = o.batch_ms;
  f.busy_fraction = o.busy;
  f.cpu_util = o.cpu_util;
  f.latency_ms = o.latency_ms;
  f.active_executors = pool_.active();
  f.requested_executors = pool_.total();
  f.tier = tier_;
  f.compression = codec_;
  f.signals = std::span<const observe::EdgeSignal>(&edge, 1);
  f.default_horizon_s = scenario_.edge.horizon_s;
  observe::build(f, &obs_);
}

void Simulator::step(const core::Decision& decision) {
  if (done()) return;
  const double dt = scenario_.step_s;
  const int t = static_cast<int>(t_);

  // 1-2. Cold starts that ended; the decision (clamped to the cluster's bounds).
  const int serving_before = pool_.active();
  pool_.promote(t_);
  // Executors that joined: the job's next batches wait for their first tasks
  // (cluster.warmup_s, docs/model.md), a pause of the whole job, carried over steps.
  if (pool_.active() > serving_before) warmup_left_s_ += scenario_.cluster.warmup_s;
  const int target = std::clamp(decision.target_executors, min_executors_, max_executors_);
  pool_.set_target(target, t_);
  const double switch_pause =
      model_.switch_pause_s(tier_, codec_, decision.tier, decision.compression);
  if (switch_pause > 0) ++m_.switches;
  const double warmup = std::min(warmup_left_s_, std::max(0.0, dt - switch_pause));
  warmup_left_s_ -= warmup;
  const double pause = switch_pause + warmup;
  tier_ = decision.tier;
  codec_ = decision.compression;

  // 3. Process.
  const double arrivals = workload_.arrivals_rps[t];
  const StepOutcome o = model_.run(arrivals, backlog_, pool_.active(), tier_, codec_, pause);
  backlog_ = o.backlog_out;

  // 4. Cost.
  const int alive = pool_.total();
  const double exec_cost = alive * model_.executor_step_cost();
  const double step_cost = exec_cost + o.tier_cost;

  // 5. Metrics.
  m_.cost += step_cost;
  m_.executor_cost += exec_cost;
  m_.tier_cost += o.tier_cost;
  m_.violations += o.violation ? 1 : 0;
  m_.executor_seconds += alive * dt;
  m_.lag_integral += o.backlog_out * dt;
  m_.arrived += arrivals * dt;
  m_.processed += o.processed;
  m_.peak_throughput_mb_s =
      std::max(m_.peak_throughput_mb_s, o.processed / dt * model_.record_mb());
  sum_exec_ += alive;
  sum_exec_sq_ += static_cast<double>(alive) * alive;
  sum_latency_ += o.latency_ms;
  latencies_.push_back(o.latency_ms);
  if (pool_.active() > 0) {
    sum_cpu_ += o.cpu_util;
    ++cpu_steps_;
  }
  m_.regrets += decision.regret ? 1 : 0;
  if (decision.guards != 0) {
    ++m_.guard_overrides;
    m_.guard_floor += (decision.guards & core::kGuardFloor) ? 1 : 0;
    m_.guard_stabilise += (decision.guards & core::kGuardStabilise) ? 1 : 0;
    m_.guard_dwell += (decision.guards & core::kGuardDwell) ? 1 : 0;
    m_.guard_shuffle += (decision.guards & core::kGuardShuffle) ? 1 : 0;
  }
  if (target != last_target_) {
    ++m_.rescales;
    const int direction = target > last_target_ ? 1 : -1;
    if (last_direction_ != 0 && direction != last_direction_) ++m_.reversals;
    last_direction_ = direction;
    last_target_ = target;
  }
  if (timeline_ != nullptr) {
    timeline_->push_back(StepRecord{t, arrivals, o.processed / dt, o.backlog_out, pool_.active(),
                                    pool_.pending(), target, tier_, codec_, o.latency_ms,
                                    o.cpu_util, step_cost, o.violation, workload_.signal[t] != 0,
                                    decision.guards, decision.reason, decision.hold_s});
  }

  ++t_;
  build_observation(o, arrivals, t + 1);
}

const RunMetrics& Simulator::metrics() {
  if (finalized_) return m_;
  finalized_ = true;
  const int n = static_cast<int>(latencies_.size());
  if (n == 0) return m_;
  const double dt = scenario_.step_s;
  m_.steps = n;
  m_.violation_pct = 100.0 * m_.violations / n;
  m_.violation_minutes = m_.violations * dt / 60.0;
  m_.mean_executors = sum_exec_ / n;
  m_.stability = std::sqrt(std::max(0.0, sum_exec_sq_ / n - m_.mean_executors * m_.mean_executors));
  m_.mean_latency_ms = sum_latency_ / n;
  m_.throughput_mb_s = m_.processed * model_.record_mb() / (n * dt);
  m_.cpu_util_pct = cpu_steps_ > 0 ? 100.0 * sum_cpu_ / cpu_steps_ : 0.0;
  m_.final_backlog = backlog_;
  m_.p95_latency_ms = core::nearest_rank(latencies_, 0.95);
  return m_;
}

}  // namespace prescale::sim

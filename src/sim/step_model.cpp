#include "sim/step_model.h"

#include <algorithm>

namespace prescale::sim {

StepModel::StepModel(const Scenario& s)
    : dt_(s.step_s),
      trigger_ms_(1000.0 * s.latency.trigger_s),
      sla_ms_(s.latency.sla_ms),
      cap_ms_(s.latency.cap_ms),
      record_mb_(s.record_bytes / 1e6),
      executor_step_cost_(s.executor_price_per_step()),
      pause_s_(s.shuffle.switch_pause_s),
      state_mb_(s.shuffle.state_mb),
      model_(s.latency.model),
      contention_(s.cluster.contention) {
  for (int ti = 0; ti < core::kNumTiers; ++ti) {
    for (int ci = 0; ci < core::kNumCompressions; ++ci) {
      const TierSpec& tier = s.shuffle.tiers[ti];
      bandwidth_mb_s_[ti] = tier.bandwidth_mb_s;
      const CompressionSpec& codec = s.shuffle.codecs[ci];
      Config& c = configs_[ti * core::kNumCompressions + ci];
      c.cpu_rps_per_executor = s.cluster.capacity_rps / (1.0 + codec.cpu_overhead);
      c.shuffle_mb_per_record = record_mb_ * s.shuffle.bytes_per_input_byte * codec.ratio;
      c.io_cap_rps =
          c.shuffle_mb_per_record > 0 ? tier.bandwidth_mb_s / c.shuffle_mb_per_record : 1e300;
      c.fixed_latency_ms = s.latency.overhead_ms + s.shuffle.ops_per_batch * tier.latency_ms;
      c.cpu_per_record = (1.0 + codec.cpu_overhead) / s.cluster.capacity_rps;
      // Storage: each processed record keeps shuffle_mb resident for retention_s.
      const double storage_per_record =
          c.shuffle_mb_per_record / 1000.0 * s.shuffle.retention_s * tier.price_gb_hour / 3600.0;
      // Requests: one PUT and one GET per object_mb of shuffle data.
      const double requests_per_record = c.shuffle_mb_per_record / s.shuffle.object_mb;
      const double request_cost =
          requests_per_record * (tier.put_per_1000 + tier.get_per_1000) / 1000.0;
      c.tier_cost_per_record = storage_per_record + request_cost;
    }
  }
}

StepOutcome StepModel::run(double arrivals_rps, double backlog_in, int active, core::Tier tier,
                           core::Compression codec, double pause_s) const {
  const Config& c = config(tier, codec);
  const double pause = std::clamp(pause_s, 0.0, dt_);
  StepOutcome o;
  o.cpu_cap_rps = effective_executors(active) * c.cpu_rps_per_executor;
  o.io_cap_rps = active > 0 ? c.io_cap_rps : 0.0;
  const double mu = std::min(o.cpu_cap_rps, o.io_cap_rps);
  o.capacity_rps = mu;
  const double demand = backlog_in + arrivals_rps * dt_;
  if (!(mu > 0)) {
    o.backlog_out = demand;
    o.batch_ms = cap_ms_;
    o.latency_ms = demand > 0 ? cap_ms_ : c.fixed_latency_ms;
  } else if (model_ == LatencyModel::kMicroBatch) {
    run_micro_batch(c, mu, arrivals_rps, backlog_in, pause, o);
  } else {
    o.processed = std::min(demand, mu * (dt_ - pause));
    o.backlog_out = demand - o.processed;
    const double rho = arrivals_rps / mu;
    o.batch_ms = std::min(cap_ms_, c.fixed_latency_ms + trigger_ms_ * rho + 1000.0 * pause);
    o.latency_ms = std::min(cap_ms_, c.fixed_latency_ms + trigger_ms_ * std::min(rho, 1.0) +
                                         1000.0 * o.backlog_out / mu + 1000.0 * pause);
    o.cpu_util =
        std::min(1.0, o.processed * c.cpu_per_record / (effective_executors(active) * dt_));
    o.busy = o.processed / (mu * dt_);
  }
  o.shuffle_mb = o.processed * c.shuffle_mb_per_record;
  o.tier_cost = o.processed * c.tier_cost_per_record;
  o.violation = o.latency_ms > sla_ms_;
  return o;
}

// Spark's trigger loop in closed form (docs/model.md, "The micro-batch model"). A batch takes
// every reading waiting when it starts: at the step's start, the backlog and a trigger's
// arrivals, B. It lasts D = fixed + B / mu, and the next starts one interval I = max(trigger,
// D) later, so the executors spend fixed of every I on the batch's own cost: the step
// processes at mu x (1 - fixed / I). A backlog therefore stretches the interval, which
// recovers the rate (bigger batches amortise the fixed cost); in a steady state above the
// trigger-filling load, I = fixed / (1 - rho). The latency is Spark's event-time measure of
// the batch that takes the step's arrivals: its oldest reading waited one interval, then the
// batch ran, both sized by what is left at the step's end.
void StepModel::run_micro_batch(const Config& c, double mu, double arrivals_rps, double backlog_in,
                                double pause, StepOutcome& o) const {
  const double fixed = c.fixed_latency_ms;
  const double per_trigger = arrivals_rps * trigger_ms_ / 1000.0;
  const double d_start = fixed + 1000.0 * (backlog_in + per_trigger) / mu;
  const double interval = std::max(trigger_ms_, d_start);
  const double rate = mu * std::max(0.0, 1.0 - fixed / interval);
  const double demand = backlog_in + arrivals_rps * dt_;
  o.processed = std::min(demand, rate * (dt_ - pause));
  o.backlog_out = demand - o.processed;
  const double d_end = fixed + 1000.0 * (o.backlog_out + per_trigger) / mu;
  o.batch_ms = std::min(cap_ms_, d_start + 1000.0 * pause);
  o.latency_ms = std::min(cap_ms_, std::max(trigger_ms_, d_end) + d_end + 1000.0 * pause);
  // Busy as the live job reports it (batch / trigger): the fixed cost holds the executors.
  o.busy = std::min(1.0, (d_start + 1000.0 * pause) / interval);
  o.cpu_util = o.busy;
}

double switch_pause(double pause_s, double state_mb, double from_bandwidth_mb_s,
                    double to_bandwidth_mb_s, bool tier_changes, bool codec_changes) {
  if (!tier_changes && !codec_changes) return 0;
  double pause = pause_s;
  if (tier_changes) {
    const double bw = std::min(from_bandwidth_mb_s, to_bandwidth_mb_s);
    if (state_mb > 0) pause += bw > 0 ? state_mb / bw : 1e9;
  }
  return pause;
}

double StepModel::switch_pause_s(core::Tier from_tier, core::Compression from_codec,
                                 core::Tier tier, core::Compression codec) const {
  return std::min(
      switch_pause(pause_s_, state_mb_, bandwidth_mb_s_[static_cast<int>(from_tier)],
                   bandwidth_mb_s_[static_cast<int>(tier)], from_tier != tier, from_codec != codec),
      dt_);
}

}  // namespace prescale::sim

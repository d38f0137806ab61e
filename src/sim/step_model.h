// The physics of one simulated step: given the arrivals, the backlog carried in, the
// serving executors and the shuffle configuration, how much is processed, what is left,
// how long a record waits, and what the shuffle tier costs. Pure and allocation-free;
// the simulator and the oracle both call it, so they can never disagree.
//
// Equations (docs/model.md, "One step"):
//   n_eff    = active / (1 + contention * (active - 1))    (cluster.contention; 0: linear)
//   cpu_cap  = n_eff * capacity_rps / (1 + cpu_overhead[codec])            records/s
//   io_cap   = bandwidth[tier] * 1e6 / (record_bytes * shuffle_factor * ratio[codec])
//   mu       = min(cpu_cap, io_cap)                                        records/s
//   demand   = backlog_in + arrivals_rps * dt
//   processed= min(demand, mu * (dt - pause));  backlog_out = demand - processed
//              (pause: seconds lost to a tier or codec switch in this step, <= dt)
//   rho      = arrivals_rps / mu
//   batch_ms = overhead_ms + ops * latency_ms[tier] + 1000 * trigger_s * rho
//   latency  = overhead_ms + ops * latency_ms[tier] + 1000 * trigger_s * min(rho, 1)
//              + 1000 * backlog_out / mu + 1000 * pause  (capped at cap_ms; cap_ms when mu = 0)
//   cpu_util = processed * (1 + cpu_overhead) / (n_eff * capacity_rps * dt)
//   tier $   = resident_GB * price_gb_hour * dt / 3600 + requests
//              resident_GB = shuffle_MB/s * retention_s / 1000
// That is latency.model = fluid (the default). With latency.model = microbatch (Spark's
// trigger loop: StepModel::run_micro_batch), fixed = overhead_ms + ops * latency_ms[tier], T =
// the trigger in ms:
//   B        = backlog_in + arrivals_rps * T / 1000     (what a batch starting now takes)
//   D        = fixed + 1000 * B / mu;  I = max(T, D)    (its duration; the batch interval)
//   processed= min(demand, mu * (1 - fixed / I) * (dt - pause))
//   batch_ms = D + 1000 * pause;  busy = cpu_util = min(1, batch_ms / I)
//   D'       = fixed + 1000 * (backlog_out + arrivals_rps * T / 1000) / mu
//   latency  = max(T, D') + D' + 1000 * pause          (the oldest reading of that batch)
#pragma once

#include <array>

#include "core/types.h"
#include "sim/scenario.h"

namespace prescale::sim {

// Seconds a switch of shuffle option costs the job (docs/model.md, "Switching tier or
// codec"): `pause_s` when anything changes, plus `state_mb` moved at the slower of the two
// tiers' bandwidths on a tier switch. Not capped (StepModel caps it at one step). Shared by
// the simulator and the safety envelope (policy/envelope.cpp), so they agree.
double switch_pause(double pause_s, double state_mb, double from_bandwidth_mb_s,
                    double to_bandwidth_mb_s, bool tier_changes, bool codec_changes);

struct StepOutcome {
  double processed = 0;     // records processed in the step
  double backlog_out = 0;   // records left at the end of the step
  double capacity_rps = 0;  // mu: effective service rate, records/s
  double cpu_cap_rps = 0;
  double io_cap_rps = 0;
  double latency_ms = 0;   // end-to-end latency of a record arriving in the step
  double batch_ms = 0;     // micro-batch processing time
  double cpu_util = 0;     // [0,1]
  double busy = 0;         // [0,1], processed / (mu * dt)
  double shuffle_mb = 0;   // shuffle bytes moved through the tier, MB
  double tier_cost = 0;    // $ for the tier in this step (storage + requests)
  bool violation = false;  // latency_ms > sla_ms
};

class StepModel {
 public:
  explicit StepModel(const Scenario& scenario);

  StepOutcome run(double arrivals_rps, double backlog_in, int active, core::Tier tier,
                  core::Compression codec, double pause_s = 0) const;

  // Seconds a switch from (from_tier, from_codec) to (tier, codec) costs the job:
  // switch_pause_s when anything changes, plus state_mb moved at the slower of the two
  // tiers' bandwidths on a tier switch. At most one step.
  double switch_pause_s(core::Tier from_tier, core::Compression from_codec, core::Tier tier,
                        core::Compression codec) const;

  // What shuffle option (tier, codec) allows: the records/s its tier can move, and the fixed
  // part of a batch's latency on it (overhead + tier round trips), ms. The safety envelope
  // reads these through PolicyEnv (policy/registry.cpp: env_from).
  double io_cap_rps(core::Tier tier, core::Compression codec) const {
    return config(tier, codec).io_cap_rps;
  }
  double fixed_latency_ms(core::Tier tier, core::Compression codec) const {
    return config(tier, codec).fixed_latency_ms;
  }

  // What `active` executors are worth in executors: active / (1 + contention x (active - 1)).
  double effective_executors(int active) const {
    return active > 1 ? active / (1.0 + contention_ * (active - 1)) : static_cast<double>(active);
  }

  // $ for one executor alive (serving or provisioning) during one step.
  double executor_step_cost() const { return executor_step_cost_; }
  double step_s() const { return dt_; }
  double sla_ms() const { return sla_ms_; }
  double record_mb() const { return record_mb_; }

 private:
  struct Config {  // per (tier, codec)
    double cpu_rps_per_executor;
    double io_cap_rps;
    double fixed_latency_ms;  // overhead + ops * tier latency
    double cpu_per_record;    // (1 + overhead) / capacity_rps: CPU-seconds per record
    double shuffle_mb_per_record;
    double tier_cost_per_record;  // $ per processed record
  };
  const Config& config(core::Tier tier, core::Compression codec) const {
    return configs_[static_cast<int>(tier) * core::kNumCompressions + static_cast<int>(codec)];
  }
  void run_micro_batch(const Config& c, double mu, double arrivals_rps, double backlog_in,
                       double pause, StepOutcome& o) const;

  std::array<Config, core::kNumTiers * core::kNumCompressions> configs_{};
  double dt_;
  double trigger_ms_;
  double sla_ms_;
  double cap_ms_;
  double record_mb_;
  double executor_step_cost_;
  double pause_s_;
  double state_mb_;
  LatencyModel model_;
  double contention_;
  std::array<double, core::kNumTiers> bandwidth_mb_s_{};
};

}  // namespace prescale::sim

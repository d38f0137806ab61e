// The traffic of one run: arrival rates per step (synthetic or a replayed trace), the
// ground truth of where bursts are, and the edge burst signal the gateways would send.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "core/result.h"
#include "sim/scenario.h"
#include "sim/trace.h"

namespace prescale::sim {

struct Workload {
  std::vector<double> arrivals_rps;  // records/s arriving in each step
  std::vector<double> baseline_rps;  // the load without bursts (synthetic) / rolling median (trace)
  std::vector<std::uint8_t> burst;   // 1 where a burst is in progress (ground truth)
  // Edge burst signal model, per step.
  std::vector<std::uint8_t> signal;  // Burst_Signal raised
  std::vector<double> forecast_rps;  // forecast of the rate horizon_s ahead
  std::vector<double> confidence;    // [0,1]
  int steps() const { return static_cast<int>(arrivals_rps.size()); }
};

// Makes workloads for a scenario. Loads and resamples a trace once; generate() is then
// cheap and deterministic in the seed.
class WorkloadGenerator {
 public:
  static core::Result<WorkloadGenerator> create(const Scenario& scenario);

  // The workload of seed `seed`. Synthetic: a new draw. Trace: the whole resampled trace
  // when scenario.steps is 0 or covers it, else a window of `steps` starting at a seeded
  // offset; the seed also drives jitter and the edge signal's misses and false alarms.
  Workload generate(std::uint64_t seed) const;

  // Number of steps each generated workload has.
  int steps() const;

 private:
  explicit WorkloadGenerator(const Scenario& scenario) : scenario_(scenario) {}
  Scenario scenario_;
  std::vector<double> trace_rps_;  // resampled, scaled trace (trace source only)
};

// The per-step series of a trace replay, before scaling to the peak: with spec.speedup > 0
// the mean of the linear interpolant over buckets of step_s x speedup trace seconds
// (resample_linear); otherwise one bucket of spec.bucket_s per step, 0 = the median sample
// gap (resample). Errors: both set, or a resampling beyond `max_steps` (at most
// kMaxResampledSteps).
core::Result<std::vector<double>> replay_series(const Trace& trace, const TraceSpec& spec,
                                                double step_s,
                                                double max_steps = kMaxResampledSteps);

// Building blocks, exposed for tests.
void generate_synthetic(const Scenario& s, std::uint64_t seed, Workload* w);
void mark_trace_bursts(const TraceSpec& spec, Workload* w);
void generate_edge_signal(const Scenario& s, std::uint64_t seed, Workload* w);

}  // namespace prescale::sim

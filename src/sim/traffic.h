// Training traffic that covers real traffic (issue 12): seeded generators for four families
// of load real services show and the synthetic generator does not (intermittent on/off load,
// diurnal ramps, sustained step changes, isolated spikes), replay windows of real traces, and
// randomised cluster facts. Everything is deterministic in its seed; docs/rl.md "Training"
// lists the ranges. No libtorch here.
//
// A generated workload looks like a replayed trace: arrivals per step, scaled so that their
// maximum is the episode's peak rate, then mark_trace_bursts (burst ground truth against
// a rolling median) and generate_edge_signal (the edge signal), as trace replays do.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "sim/rng.h"
#include "sim/scenario.h"
#include "sim/workload.h"

namespace prescale::sim {

enum class TrafficFamily { kOnOff, kDiurnal, kSteps, kSpikes };
inline constexpr int kNumTrafficFamilies = 4;
std::string_view to_string(TrafficFamily f);

// A family's noise-free load: `level` is the rate relative to the family's top rate, in
// [0, 1]; `event` marks the steps of the family's events (on/off: ON; spikes: inside a
// spike; steps: the steps where the level moves (a shift or its ramp); diurnal: none).
struct TrafficShape {
  std::vector<double> level;
  std::vector<std::uint8_t> event;
};

// --- Intermittent on/off load: a Markov-modulated Poisson process. ---
// ON and OFF periods alternate. Period lengths are Pareto (heavy-tailed: a few very long
// bursts and idle gaps among many short ones), each truncated at half the episode so every
// episode has at least one busy and one idle stretch. Each ON period runs at one of 1-3
// levels; OFF runs at a low floor. Arrivals are Poisson counts per step at
// `events_per_s_at_top` x level events/s, turned back into a rate: a stream of a few events
// per second is as noisy as per-second request counts, a stream of thousands is smooth.
struct OnOffParams {
  double on_alpha = 1.5;               // Pareto shape of ON (burst) durations, U[1.2, 2]
  double on_min_s = 60;                // Pareto scale (shortest burst), log-uniform [10, 300] s
  double off_alpha = 1.5;              // Pareto shape of OFF (idle gap) durations, U[1.2, 2]
  double off_min_s = 120;              // Pareto scale (shortest gap), log-uniform [10, 600] s
  std::vector<double> levels = {1.0};  // 1-3 ON levels: 1 and others U[0.25, 0.8]
  double floor = 0.0;                  // OFF rate relative to the top: 0 (30%), else U[0, 0.05]
  double events_per_s_at_top = 100;    // Poisson events/s at level 1, log-uniform [1, 1000]
  double p_start_on = 0.5;             // probability the episode starts ON
};
OnOffParams draw_on_off(Rng& rng);
TrafficShape on_off_shape(const OnOffParams& p, int steps, double step_s, Rng& rng);

// --- Diurnal ramps: a day compressed to a random period. ---
// level = trough + (1 - trough) x day(phase), day = ((1 + sin)/2)^sharpness, optionally with
// a second daily hump (morning and evening peaks); peak/trough ratio up to 10x; log-normal
// AR(1) noise on top.
struct DiurnalParams {
  double period_s = 3600;    // log-uniform [0.2, 4] x the episode's length
  double phase = 0;          // U[0, 2 pi)
  double ratio = 4;          // peak / trough, log-uniform [1.5, 10]
  double sharpness = 1;      // U[0.7, 3]: > 1 = a short peak over a long trough
  double second_hump = 0;    // 0 (50%), else U[0.2, 0.6]: weight of a second daily peak
  double second_phase = 0;   // U[0, 2 pi)
  double noise_sigma = 0.1;  // U[0.02, 0.2]
  double noise_phi = 0.8;    // U[0.5, 0.95]
};
DiurnalParams draw_diurnal(Rng& rng, double episode_s);
TrafficShape diurnal_shape(const DiurnalParams& p, int steps, double step_s);

// --- Step changes: sustained level shifts. ---
// 1-6 shifts at random times; every level lasts at least steps / (4 (shifts + 1)) steps.
// Each shift multiplies or divides the level by a factor log-uniform in [1.5, 6] (the
// direction is random but the level stays within 12x of the start), abruptly or over a
// linear ramp of 5-120 s (at most half the shortest level).
struct StepParams {
  std::vector<double> factors;  // per shift: > 1 up, < 1 down; |log| in [log 1.5, log 6]
  std::vector<double> weights;  // shifts + 1 Exp(1) draws spreading the levels' lengths
  double ramp_s = 0;            // 0 (50%), else U[5, 120] s
  double noise_sigma = 0.08;    // U[0.02, 0.15]
  double noise_phi = 0.8;       // U[0.5, 0.95]
};
StepParams draw_steps(Rng& rng);
TrafficShape steps_shape(const StepParams& p, int steps, double step_s);
int steps_min_dwell(int shifts, int steps);  // the shortest level, in steps

// --- Isolated spikes: short, 3-50x the base. ---
// A base with a mild slow cycle; 1-8 spikes, one per equal segment of the episode (so they
// never overlap), each lasting log-uniform [one step, 240 s] and multiplying the base by a
// factor log-uniform in [3, 50].
struct SpikeParams {
  struct Spike {
    double start_u = 0;   // start within its segment, U[0, 1)
    double length_s = 5;  // log-uniform [step_s, kMaxSpikeS]
    double factor = 10;   // log-uniform [3, 50]
  };
  std::vector<Spike> spikes;
  double cycle_amplitude = 0.1;  // U[0, 0.3]
  double cycle_period_s = 3600;  // log-uniform [0.5, 4] x the episode's length
  double cycle_phase = 0;
  double noise_sigma = 0.08;  // U[0.02, 0.15]
  double noise_phi = 0.8;     // U[0.5, 0.95]
};
inline constexpr double kMaxSpikeS = 240;
SpikeParams draw_spikes(Rng& rng, double episode_s, double step_s);
TrafficShape spikes_shape(const SpikeParams& p, int steps, double step_s);

// Fills `w` with `s.steps` steps of family `f` at `s.step_s`, its maximum rate equal to
// `peak_rps`; then burst ground truth (s.trace.burst_threshold, baseline_window) and the edge
// signal (s.edge). Deterministic in `seed`.
void generate_traffic(TrafficFamily f, const Scenario& s, double peak_rps, std::uint64_t seed,
                      Workload* w);

// A window of `s.steps` steps of a resampled trace `series` at a seeded offset, with
// log-normal AR(1) noise (sigma U[0, 0.15], phi U[0.5, 0.95]: a trace interpolated to a
// fine step is smoother than real load), scaled so the window's maximum is `peak_rps`;
// then burst ground truth and the edge signal as above. `series` must have >= s.steps
// values.
void replay_window(const std::vector<float>& series, const Scenario& s, double peak_rps,
                   std::uint64_t seed, Workload* w);

// --- The cluster. ---
// The most records/s the cluster can process: over every (tier, codec), the smaller of
// max_executors x the CPU capacity and the tier's shuffle bandwidth (docs/model.md).
double max_throughput_rps(const Scenario& s);

// An episode's peak rate relative to max_throughput_rps: 90% log-uniform in [0.2, 1.3],
// 10% uniform in [1.3, 1.6] (the worker must also learn what to do when it cannot keep up;
// about 23% of peaks exceed what the cluster can serve in its best configuration).
double draw_peak_rps(const Scenario& s, Rng& rng);

// Randomised cluster facts, so one worker serves any cluster a PolicyEnv describes:
// cold_start_s U[20, 180], capacity_rps x log-uniform [0.3, 3] of the scenario's,
// max_executors uniform in [8, 60], min_executors kept (lowered to max if above it),
// initial_executors uniform in [min, max]. Everything else is kept; the result passes
// sim::validate when `s` did.
struct ClusterRanges {
  double cold_start_min_s = 20, cold_start_max_s = 180;
  double capacity_min_factor = 0.3, capacity_max_factor = 3;
  int max_executors_min = 8, max_executors_max = 60;
};
void randomise_cluster(Rng& rng, Scenario* s, const ClusterRanges& r = {});

// A Poisson variate with the project's portable Rng: multiplication method below a mean of
// 30, the rounded normal approximation above.
double poisson(Rng& rng, double mean);

}  // namespace prescale::sim

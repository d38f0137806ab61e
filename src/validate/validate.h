// The arena against the live stack, side by side (issue 16, item 3; docs/sim2real.md,
// "Validation"): the traffic a live race sent, replayed through the arena with a (calibrated)
// scenario, for each policy the race ran, with the policy configured as the live controller
// configured it; then, per policy, the live and the arena figures side by side.
//
// The arena's side of a run:
//   - traffic: the trace the edge agent replayed (RUN_DIR/trace.csv, replay.json: the same
//     samples, speed-up and scale), as readings/s per arena step: sample i's
//     round(value x scale) readings spread over its interval [i I, (i+1) I) of the replay
//     clock, each step taking the part of each interval it overlaps; zero after the replay
//     (the race watches a tail). The step is the controller's tick;
//   - the edge signal: the agent's own signal source (edge::make_signal_source over the same
//     forecaster: lookahead or the global model) run over the same loads, each interval's
//     signal sent at its end; a decision at t sees the last signal sent by t;
//   - the policy: built as control::make_controller builds it (the controller config's
//     scenario, its tick as the step, its bounds and readings per message), its decisions
//     through the same policy::CommandEnvelope (clamp, scale-down stabilisation);
//   - the physics: the given scenario (calibrated, or scenarios/live.yaml) with the
//     controller's tick, bounds, trigger and context and the run's SLA; warm at the minimum
//     with no backlog at t = 0, as the race's reset leaves the job.
//
// The figures (compare()), on the run's clock (0 = the replay's start), over [0, duration]:
//   executors_mae     mean over the live REST samples of |live - arena serving executors at
//                     that time| (the arena's count of its step);
//   p95_latency_ms_*  nearest-rank p95 of batch latency, over batches that read rows: live,
//                     the job's batches (the race's figure); arena, one batch per trigger
//                     (arena_batches(): the highest latency of the steps in its window);
//   violations_*      those batches above the SLA;
//   cost_*            executor-seconds of the same executor timelines over [0, duration] (live:
//                     each REST sample held until the next, the first back to 0; arena:
//                     serving executors per step). One definition for both: serving executors,
//                     not billed ones (the arena bills pending executors too).
// Targets (issue 16): MAE <= 0.5 executors; |p95 arena - live| <= 25% of live; violations
// within 2 per 5 minutes of run; the same ranking (violations, then cost) in both worlds.
#pragma once

#include <string>
#include <vector>

#include "calibrate/calibrate.h"
#include "core/result.h"
#include "sim/scenario.h"
#include "sim/simulator.h"

namespace prescale::validate {

// replay.json (live::ReplayInfo), with trace_file and controller_config resolved.
struct Replay {
  std::string shape;
  std::string trace_file;  // absolute, or relative to the current directory
  double speedup = 0, scale = 1;
  int sensors = 16;
  double interval_s = 0;
  int horizon = 0;
  std::string forecaster = "lookahead";
  std::string controller_config;
  double burst_threshold = 2;
};

// DIR/replay.json; trace_file relative to DIR. Errors name the file and the field.
core::Result<Replay> load_replay(const std::string& dir);

// The traffic of the arena's side, per step of `step_s` for `steps` steps.
struct Traffic {
  std::vector<double> arrivals_rps;
  std::vector<std::uint8_t> signal;
  std::vector<double> forecast_rps, confidence;
  double horizon_s = 0;           // the signal's
  double replay_s = 0;            // samples x interval
  double readings = 0;            // sent in all
  std::string forecaster_label;   // as the agent names it
  int signal_raised_samples = 0;  // intervals whose signal said burst
};
core::Result<Traffic> replay_traffic(const Replay& replay, double step_s, int steps);

// Readings/s per step from readings per interval (the spreading above); exposed for tests.
std::vector<double> spread(const std::vector<double>& readings_per_interval, double interval_s,
                           double step_s, int steps);

// One policy's arena run: its per-step timeline.
struct ArenaRun {
  std::string policy;
  double step_s = 0, trigger_s = 0;
  std::vector<sim::StepRecord> steps;
};

struct Targets {
  double mae = 0.5;                // executors
  double p95_tolerance = 0.25;     // relative to live
  double violations_per_5min = 2;  // allowed difference per 5 minutes of run
};

struct Comparison {
  std::string policy;
  int run = 0;  // its index in the records
  double duration_s = 0;
  double executors_mae = 0;
  int executor_samples = 0;
  double mean_executors_live = 0, mean_executors_arena = 0;  // over the same samples
  double p95_latency_ms_live = 0, p95_latency_ms_arena = 0;
  int violations_live = 0, violations_arena = 0;
  int batches_live = 0, batches_arena = 0;
  double cost_live = 0, cost_arena = 0;          // executor-seconds
  double readings_live = 0, readings_arena = 0;  // the batches' rows; the arena's arrivals
  double violations_allowed = 0;                 // the target's difference for this duration
  bool mae_ok = false, p95_ok = false, violations_ok = false;
};

// The figures of run `run` of `live` against `arena` (SLA `sla_ms`, over [0, duration_s]).
Comparison compare(const calibrate::RunRecords& live, int run, const ArenaRun& arena, double sla_ms,
                   double duration_s, const Targets& targets = {});

// The arena's batches: one per trigger j (at t = j x trigger, up to `until_s`) whose window
// ((j - 1) x trigger, j x trigger] overlaps steps that processed readings; its latency is the
// highest of those steps' (a batch's measured latency is its oldest reading's age), its rows
// the readings that arrived in the window.
struct ArenaBatch {
  double t_s = 0, latency_ms = 0, rows = 0;
};
std::vector<ArenaBatch> arena_batches(const ArenaRun& arena, double until_s);

// Policies ordered by violations, then cost (the ranking).
std::vector<std::string> ranking(const std::vector<Comparison>& c, bool arena);

struct Options {
  std::string controller_config;  // "" = replay.json's
  Targets targets;
};

struct Report {
  std::string dir, shape, scenario, forecaster;
  int intervals = 0, signal_burst_intervals = 0;  // the replay's, and those signalled as burst
  double sla_ms = 0, step_s = 0, trigger_s = 0;
  std::vector<Comparison> policies;  // in race order
  std::vector<ArenaRun> arena;       // the same order
  std::vector<std::string> ranking_live, ranking_arena;
  bool same_ranking = false;
  // {"dir","shape","scenario","forecaster","sla_ms","policies":[{figures, "targets"}],
  //  "ranking_live","ranking_arena","same_ranking"}; with `timelines`, each policy also has
  //  "arena": {"t_s":[...], "executors":[...], "target":[...], "latency_ms":[...],
  //  "input_rps":[...], "batches":[[t, latency_ms], ...]}.
  std::string to_json(bool timelines) const;
  std::string table() const;
};

// Replays every run of `live` (as recorded with `replay`) through the arena with `scenario`
// and compares. Errors: the controller config, its scenario or policy, the trace, the model.
core::Result<Report> validate(const calibrate::RunRecords& live, const Replay& replay,
                              const sim::Scenario& scenario, const Options& options = {});

}  // namespace prescale::validate

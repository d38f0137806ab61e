// `prescale calibrate --from RUN_DIR`: the arena's parameters fitted from what a live run
// recorded (live::write_records: runs.jsonl, batches.jsonl, executors.jsonl, commands.jsonl;
// docs/sim2real.md, "Calibration").
//
// What is fitted, against the arena's step model (docs/model.md, "One step"):
//   - per-executor capacity and per-batch overhead, from one robust (Huber) least-squares
//     line through the batches with rows: batch_ms = fixed + (1000 / capacity_rps) x
//     readings per executor. capacity_rps = 1000 / slope; the intercept is the arena's fixed
//     part of a batch, overhead_ms + ops_per_batch x the default tier's latency_ms, so
//     overhead_ms = intercept - that tier term. When the batches ran at two or more executor
//     counts, a third column, rows x (n - 1) / n, fits cluster.contention (how much less
//     each executor past the first adds: rows / (capacity x n / (1 + contention (n - 1))));
//   - the cold start, from every scale-up command to the first sample at which one more
//     executor than the previous target has run a task (else, in older records, is live):
//     its mean, standard error and range;
//   - how latency grows with backlog: the batches' latency minus the model's no-backlog part
//     (fixed + trigger x min(rho, 1)) against the backlog per executor; the arena charges
//     1000 / capacity_rps ms per reading per executor, so the slope (and the drain rate it
//     implies) is reported beside the fitted capacity. It is no scenario field.
// A parameter with too few samples keeps the base scenario's value, and says so.
#pragma once

#include <string>
#include <vector>

#include "core/result.h"
#include "core/run_records.h"
#include "sim/scenario.h"

namespace prescale::calibrate {

// One line of each record file: the record (core/run_records.h, what the race wrote), the
// run it belongs to, and its line number (1-based) for messages.
struct BatchRow : core::BatchRecord {
  int run = 0;
  int line = 0;
};
struct ExecutorRow : core::ExecutorSample {
  int run = 0;
  int line = 0;
};
struct CommandRow : core::CommandRecord {
  int run = 0;
  int line = 0;
};
struct RunInfo {
  int run = 0;
  std::string policy;
  double duration_s = 0;
  double sla_ms = 0;  // what the run was judged by (0 = not recorded)
  int min_executors = 1;
};

struct RunRecords {
  std::string dir;
  std::vector<RunInfo> runs;
  std::vector<BatchRow> batches;
  std::vector<ExecutorRow> executors;
  std::vector<CommandRow> commands;
};

// Reads DIR/{runs,batches,executors,commands}.jsonl. Blank lines are skipped; a missing
// file, a line that is not a JSON object, or a missing or mistyped field is an error naming
// file:line and the field.
core::Result<RunRecords> load_run_dir(const std::string& dir);

// Several run directories as one (prescale calibrate --from A --from B): runs renumbered after
// the previous directories' (each record follows its run), dir = the directories joined by
// ", ".
RunRecords merge_runs(const std::vector<RunRecords>& parts);

// One fitted value: `fitted` false = too few samples (value = the base's, `note` says why).
struct Estimate {
  double value = 0;
  double se = 0;          // standard error (0 when not fitted)
  double lo = 0, hi = 0;  // a 95% range (cold start: the observed min..max)
  int n = 0;              // samples it rests on
  bool fitted = false;
  std::string note;  // how it was fitted, or why not
};

struct Options {
  int min_batches = 8;      // batches with rows for capacity and overhead
  int min_backlogged = 3;   // batches with a backlog for the backlog slope
  int min_cold_starts = 2;  // scale-ups for the cold start
};

struct Fit {
  Estimate capacity_rps;  // readings/s per executor
  Estimate overhead_ms;   // latency.overhead_ms (the intercept less the tier term)
  // cluster.contention: n executors process n / (1 + contention (n - 1)) executors' worth;
  // fitted when the batches ran at two or more executor counts (else the base's).
  Estimate contention;
  // cluster.warmup_s: per executor join, the seconds its first batches ran above the line.
  // Reported always; written by apply() only with use_warmup (`prescale calibrate --warmup`):
  // in the leave-one-shape-out validation it lowered the score (docs/sim2real.md).
  Estimate warmup_s;
  bool use_warmup = false;
  // The input per executor at which a batch's work takes its whole trigger, (1000 / slope) x
  // (1 - intercept / trigger): what a hand fit that folds the overhead into the capacity
  // gets (scenarios/live.yaml's 1400). Reported, not written (unless --capacity trigger): the
  // calibrated arena runs the microbatch latency model, whose executors pay the overhead out
  // of their time per batch, so its capacity is 1000 / slope.
  Estimate trigger_fill_rps;
  Estimate cold_start_s;            // request -> first task (else -> live)
  Estimate cold_start_live_s;       // request -> the executor live in Spark's REST API
  Estimate backlog_ms_per_rpe;      // latency ms per backlog reading per executor
  Estimate backlog_intercept_ms;    // latency above the model's at no backlog
  double batch_residual_sd_ms = 0;  // of the batch-duration line
  int batches_used = 0;             // rows > 0 and executors > 0
  int outliers = 0;                 // of those, down-weighted by the robust fit (w < 0.5)
  // The arena's latency model the fitted values are for (latency.model): the marginal capacity
  // with the overhead paid per batch out of the executors' time (microbatch), or, with
  // --capacity trigger, the overhead folded into the capacity (fluid).
  sim::LatencyModel latency_model = sim::LatencyModel::kMicroBatch;
};

// Fits the records against `base` (its trigger, tier term and fallbacks).
Fit fit(const RunRecords& records, const sim::Scenario& base, const Options& options = {});

// The fit with `cluster.capacity_rps` taken as the trigger-filling rate instead of the marginal
// one (`prescale calibrate --capacity trigger`), for the fluid latency model, whose executors
// pay the per-batch overhead in latency only, never in throughput (a live job pays it in
// executor time too, as the microbatch model does, so at its trigger it sustains the
// trigger-filling rate per executor, not 1000 / slope); sets latency_model to kFluid. Which
// of the two predicts the live runs better is the validation's to say (docs/sim2real.md,
// "Validation").
Fit trigger_capacity(Fit f);

// `base` with the fitted values in place (the others unchanged).
sim::Scenario apply(const Fit& f, sim::Scenario base);

// The calibrated scenario as YAML: the base file's text (base.source_file) with the fitted
// values replaced and `name` set, headed by comments that give each value's uncertainty,
// sample count, the run directory and the command. Checked with sim::parse_scenario before
// it is returned.
core::Result<std::string> scenario_yaml(const Fit& f, const RunRecords& records,
                                        const sim::Scenario& base, const std::string& name,
                                        const std::string& stamp);

// The fit as a readable table (parameter, base, fitted, +- SE, range, n, note).
std::string summary(const Fit& f, const sim::Scenario& base);

}  // namespace prescale::calibrate

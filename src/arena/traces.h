// The development-trace report: a policy against hpa, the best autoscaler and the oracle on
// each of the real traces named in data/traces/README.md, each replayed at two speeds
// (compressed: one trace sample per step, whole trace; real: 1 trace second per simulated
// second, a seeded day-long window), on identical traffic per case.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "arena/tournament.h"
#include "core/result.h"
#include "sim/scenario.h"

namespace prescale::arena {

// The traces the repository ships: data/traces/ of the source tree (absolute; the build's
// PRESCALE_SOURCE_DIR). The CLI's default for `traces --dir` and, with "/nab", `train --traces`.
std::string default_traces_dir();

// The development traces, paths relative to the traces directory (data/traces). The one
// definition: training (rl/trainer.cpp) excludes them through development_trace_names().
const std::vector<std::string>& development_trace_paths();
// Their file names ("nyc_taxi.csv", ...).
const std::vector<std::string>& development_trace_names();

enum class ReplaySpeed {
  kCompressed,  // no speedup: one trace sample per step (bucket_s), the whole trace
  kReal,        // speedup 1: real time, a seeded window of real_window_steps
};
std::string_view to_string(ReplaySpeed speed);
std::optional<ReplaySpeed> parse_replay_speed(std::string_view text);  // compressed|real

inline constexpr int kDayOfFiveSecondSteps = 17'280;
// "Dominates hpa": SLA violations at most this many points above hpa's, cost at most hpa's.
inline constexpr double kSlaTolerancePoints = 0.5;

struct TraceCase;

struct TracesOptions {
  std::string dir;            // the traces directory; paths above are relative to it
  std::string policy = "rl";  // the judged policy
  std::vector<std::string> compare = {"rl-raw"};  // more rows shown beside it (ablations)
  // The autoscalers a user has (the project notes' baselines.md, outside this repository);
  // hpa must be one of them.
  std::vector<std::string> baselines = {"hpa", "keda",      "spark-dra", "batch-ratio",
                                        "ds2", "ds2-tuned", "phpa"};
  std::vector<ReplaySpeed> speeds = {ReplaySpeed::kCompressed, ReplaySpeed::kReal};
  std::vector<std::string> traces;  // keep only these (stem, file name or path); empty = all
  int seeds = 5;
  int real_window_steps = kDayOfFiveSecondSteps;  // whole trace when shorter
  // Called after each case (progress; the case carries its wall time).
  std::function<void(const TraceCase&)> on_case;
  // Optional: replaces each workload's edge signal, as TournamentOptions::edge (`traces
  // --edge forecast`: the global forecaster).
  std::function<void(sim::Workload*)> edge;
  // Record each case's first-seed timeline, for on_tournament.
  bool timeline = false;
  // Called after each case with its tournament, before on_case; an error stops the run and
  // is returned by evaluate_traces.
  std::function<core::Status(const TraceCase&, const TournamentResult&)> on_tournament;
};

struct PolicyFigures {
  std::string policy;
  double sla = 0;   // SLA violations, % of steps (mean over seeds)
  double cost = 0;  // $ per run (mean over seeds)
  double cost_vs_oracle = 0;
  double p95_latency_ms = 0;
};

struct TraceCase {
  std::string trace;  // file stem ("nyc_taxi")
  std::string file;   // relative to the traces directory
  ReplaySpeed speed = ReplaySpeed::kCompressed;
  double speedup = 0;  // 0 = one sample per step
  int steps = 0;
  int seeds = 0;
  PolicyFigures hpa;
  PolicyFigures best;  // the best autoscaler: lowest SLA violations, ties to the cheaper
  PolicyFigures judged;
  std::vector<PolicyFigures> compare;  // TracesOptions::compare, in order
  double oracle_cost = 0;
  std::vector<PolicyFigures> rows;  // every row of the tournament, in its order
  bool dominates = false;           // judged SLA <= hpa's + kSlaTolerancePoints and cost <= hpa's
  double sla_gap = 0;               // judged SLA - hpa's SLA, points
  double wall_s = 0;                // time the case took
};

// Checks a --traces filter: every name must match a development trace. Returns the
// selected relative paths in report order.
core::Result<std::vector<std::string>> select_traces(const std::vector<std::string>& names);

// The verdict of one tournament (pure; `trace`, `file`, `speed`, `speedup` and `wall_s` are
// left for the caller). Errors when hpa, the judged or a compared policy has no row.
core::Result<TraceCase> judge_case(const TournamentResult& result, const TracesOptions& options);

// Runs one tournament per (trace, speed): the baselines, the judged policy, the compared
// ones and the oracle, with `options.seeds` seeds from the scenario's base seed.
core::Result<std::vector<TraceCase>> evaluate_traces(const sim::Scenario& scenario,
                                                     const TracesOptions& options);

// evaluate_traces with an --out directory: traces.csv (every row of every case),
// report.html (the table, html_report.h) and one case page per case
// (case_page_name()), all or nothing (output_dir.h). Each case page is written as soon as
// its case has run, so the timelines are never all in memory at once.
core::Result<std::vector<TraceCase>> evaluate_traces_into(const std::string& dir,
                                                          const sim::Scenario& scenario,
                                                          TracesOptions options);
// A case's page relative to the --out directory: "timelines/nyc_taxi-compressed.html".
std::string case_page_name(const TraceCase& c);

// "dominates", or "no: SLA", "no: cost", "no: SLA, cost": why the judged policy does not.
std::string verdict_of(const TraceCase& c);
// "rl dominates hpa in N of M cases; worst SLA gap vs hpa: X points (trace, speed)".
std::string traces_summary(const std::vector<TraceCase>& cases);
std::string format_traces_table(const std::vector<TraceCase>& cases);
std::string format_traces_json(const std::vector<TraceCase>& cases);
// One row per case and tournament row: trace,speed,speedup,steps,seeds,policy,
// sla_violation_pct,cost,cost_vs_oracle,p95_latency_ms.
std::string format_traces_csv(const std::vector<TraceCase>& cases);

}  // namespace prescale::arena

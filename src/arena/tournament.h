// The tournament: every policy on identical traffic. For each seed one workload is
// generated and every policy runs on exactly that workload; the oracle's plan for the
// same workload gives each policy's cost ratio.
#pragma once

#include <functional>

#include <cstdint>
#include <string>
#include <vector>

#include "arena/stats.h"
#include "core/result.h"
#include "sim/scenario.h"
#include "sim/simulator.h"

namespace prescale::arena {

struct TournamentOptions {
  std::vector<std::string> policies;  // empty = all known policies
  int seeds = 0;                      // 0 = the scenario's default
  bool timeline = false;              // record the first seed's per-step rows
  // Optional: replaces each generated workload's edge signal (signal, forecast_rps,
  // confidence) before any policy runs, e.g. with a real forecaster (`--edge lstm`).
  std::function<void(sim::Workload*)> edge;
};

struct PolicySummary {
  std::string policy;
  std::vector<sim::RunMetrics> runs;  // one per seed, in seed order
  Stat cost, cost_vs_oracle, p95_latency_ms, sla_violation_pct, violation_minutes, stability,
      mean_executors, rescales, reversals, throughput_mb_s, peak_throughput_mb_s, cpu_util_pct,
      executor_seconds, lag_integral,
      switches,  // tier/codec switches per run
      guard_overrides, guard_floor, guard_stabilise, guard_dwell,
      guard_shuffle,  // envelope overrides (steps)
      regrets;        // releases the envelope regretted (its adaptive window grew)
};

struct TimelineRow {
  std::string policy;
  std::uint64_t seed;
  sim::StepRecord record;
};

struct TournamentResult {
  std::string scenario;
  std::string workload;  // "synthetic" or the trace file
  int seeds = 0;
  int steps = 0;
  double step_s = 0;
  double sla_ms = 0;  // the scenario's latency target
  std::uint64_t base_seed = 0;
  bool oracle_exact = true;  // every oracle plan was exact (no truncated front)
  // A proven lower bound on the cheapest cost with the oracle's violations (the programme
  // with the backlog rounded down; meaningful when oracle_exact).
  Stat oracle_lower_bound_cost;
  std::vector<PolicySummary> results;
  std::vector<TimelineRow> timeline;
};

// Runs the tournament. Errors (unknown policy, bad policy parameter, unreadable trace)
// come back before any policy runs.
core::Result<TournamentResult> run_tournament(const sim::Scenario& scenario,
                                              const TournamentOptions& options);

}  // namespace prescale::arena

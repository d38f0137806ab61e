// The arena's commands: `prescale tournament`, `prescale ablation` and `prescale traces`
// (src/arena), each with --out DIR for the CSVs and a self-contained report.html
// (docs/report.md), and the workload options the benchmarks in main.cpp share with them.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

#include "core/result.h"
#include "sim/scenario.h"
#include "sim/workload.h"

namespace prescale::cli {

struct WorkloadArgs {
  std::string scenario = "seed";
  std::string trace;
  int steps = -1;
  std::string context;
  double speedup = -1;  // -1 = not given
};

void add_workload_args(CLI::App* cmd, WorkloadArgs* a);
void add_speedup_arg(CLI::App* cmd, WorkloadArgs* a);
// The scenario with --trace, --speedup, --steps and --context applied, validated.
core::Result<sim::Scenario> resolve_scenario(const WorkloadArgs& a);

// `--edge forecast` (tournament, traces, train): the global forecaster
// (models/forecast/global.json) and its burst head drive a workload's edge signal.
core::Status set_forecast_edge(std::function<void(sim::Workload*)>* edge);

struct TournamentArgs {
  WorkloadArgs workload;
  int seeds = 0;  // 0 = the scenario's
  std::string policies = "all";
  std::string format = "table";  // table | json | csv
  std::string out;               // results.csv, timeline.csv, report.html
  std::string edge = "synthetic";
};

CLI::App* add_tournament_command(CLI::App& app, TournamentArgs* a);
int run_tournament_cmd(const TournamentArgs& a);

struct AblationArgs {
  WorkloadArgs workload;
  int seeds = 0;
  std::string format = "table";  // table | json
  std::string out;               // results.csv, timeline.csv, report.html
};

CLI::App* add_ablation_command(CLI::App& app, AblationArgs* a);
int run_ablation_cmd(const AblationArgs& a);

struct TracesArgs {
  WorkloadArgs workload;
  std::string dir;
  std::string policy = "rl";
  std::vector<std::string> compare = {"rl-raw"};
  std::vector<std::string> speeds = {"compressed", "real"};
  std::vector<std::string> traces;
  int seeds = 5;
  std::string format = "table";
  std::string out;  // traces.csv, report.html, timelines/<trace>-<speed>.html
  // The real signal by default: the global forecaster. synthetic reads the future (an upper
  // bound); none: no edge.
  std::string edge = "forecast";
};

CLI::App* add_traces_command(CLI::App& app, TracesArgs* a);
int run_traces_cmd(const TracesArgs& a);

// `prescale policies`: the policies, one line each (name and summary).
CLI::App* add_policies_command(CLI::App& app);
int run_policies_cmd();

// `prescale check SCENARIO`: the scenario loads and every policy accepts its parameters.
CLI::App* add_check_command(CLI::App& app, std::string* scenario);
int run_check_cmd(const std::string& scenario);

}  // namespace prescale::cli

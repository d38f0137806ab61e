// `prescale bench tournament` and `prescale bench decision`: benchmarks that print JSON
// (docs/benchmarks.md). `bench dualplane` is live_cmds.h's.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "arena_cmds.h"

namespace prescale::cli {

struct BenchArgs {
  WorkloadArgs tournament_workload;
  int tournament_seeds = 20;
  std::string tournament_policies = "all";
  WorkloadArgs decision_workload;
  std::string decision_policy = "rl";
  int decisions = 200'000;
  CLI::App* tournament = nullptr;  // the subcommand, to tell which ran
  CLI::App* decision = nullptr;
};

// `bench` itself, with its tournament and decision subcommands.
CLI::App* add_bench_command(CLI::App& app, BenchArgs* a);
// Runs the subcommand that was given (0 when neither: `bench dualplane` is live_cmds.h's).
int run_bench_cmd(const BenchArgs& a);

}  // namespace prescale::cli

#include "bench_cmds.h"

#include <sched.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <nlohmann/json.hpp>
#include <vector>

#include "arena/tournament.h"
#include "fail.h"
#include "policy/registry.h"
#include "sim/simulator.h"
#include "sim/workload.h"

namespace prescale::cli {
namespace {

// `prescale bench tournament`: wall time of a whole tournament, as JSON.
int run_bench_tournament(const WorkloadArgs& wa, int seeds, const std::string& policies) {
  auto scenario = resolve_scenario(wa);
  if (!scenario.ok()) return fail(scenario.error().message);
  auto names = policy::parse_policy_list(policies);
  if (!names.ok()) return fail(names.error().message);
  arena::TournamentOptions options;
  options.policies = *names;
  options.seeds = seeds;
  const auto start = std::chrono::steady_clock::now();
  auto result = arena::run_tournament(*scenario, options);
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!result.ok()) return fail(result.error().message);
  const double policy_steps =
      static_cast<double>(result->seeds) * result->steps * result->results.size();
  nlohmann::json j = {{"bench", "tournament"},
                      {"scenario", result->scenario},
                      {"seeds", result->seeds},
                      {"steps", result->steps},
                      {"policies", result->results.size()},
                      {"wall_s", secs},
                      {"policy_steps_per_s", policy_steps / secs}};
  std::cout << j.dump() << "\n";
  return 0;
}

// `prescale bench decision`: latency of single decide() calls (observation -> decision,
// manager + worker for rl) on one core, timed one by one over observations recorded
// from a simulated run of the same policy.
int run_bench_decision(const WorkloadArgs& wa, const std::string& policy_name, int decisions) {
  auto scenario = resolve_scenario(wa);
  if (!scenario.ok()) return fail(scenario.error().message);
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(0, &one);
  const bool pinned = sched_setaffinity(0, sizeof one, &one) == 0;
  auto gen = sim::WorkloadGenerator::create(*scenario);
  if (!gen.ok()) return fail(gen.error().message);
  const sim::Workload w = gen->generate(scenario->base_seed);
  auto policy = policy::make_policy(policy_name, *scenario, &w);
  if (!policy.ok()) return fail(policy.error().message);
  std::vector<core::Observation> trace;
  sim::Simulator sim(*scenario, w);
  (*policy)->reset();
  sim::simulate(sim, [&](const core::Observation& o) {
    if (trace.size() < static_cast<size_t>(decisions)) trace.push_back(o);
    return (*policy)->decide(o);
  });
  std::vector<double> ns;
  ns.reserve(static_cast<size_t>(decisions));
  long long sink = 0;
  (*policy)->reset();
  for (int i = 0; i < decisions; ++i) {
    const auto& o = trace[static_cast<size_t>(i) % trace.size()];
    if (i % trace.size() == 0) (*policy)->reset();
    const auto t0 = std::chrono::steady_clock::now();
    sink += (*policy)->decide(o).target_executors;
    const auto t1 = std::chrono::steady_clock::now();
    ns.push_back(std::chrono::duration<double, std::nano>(t1 - t0).count());
  }
  std::sort(ns.begin(), ns.end());
  auto q = [&](double p) {
    return ns[std::min(ns.size() - 1, static_cast<size_t>(p * ns.size()))] / 1000.0;
  };
  double mean = 0;
  for (double x : ns) mean += x / 1000.0 / ns.size();
  nlohmann::json j = {{"bench", "decision"},    {"policy", policy_name},
                      {"decisions", decisions}, {"pinned_one_core", pinned},
                      {"mean_us", mean},        {"p50_us", q(0.50)},
                      {"p99_us", q(0.99)},      {"max_us", ns.back() / 1000.0},
                      {"checksum", sink}};
  std::cout << j.dump() << "\n";
  return 0;
}

}  // namespace

CLI::App* add_bench_command(CLI::App& app, BenchArgs* a) {
  auto* bench = app.add_subcommand("bench", "benchmarks that print JSON");
  bench->require_subcommand(1);
  a->tournament = bench->add_subcommand("tournament", "wall time of a whole tournament");
  add_workload_args(a->tournament, &a->tournament_workload);
  a->tournament->add_option("--seeds", a->tournament_seeds, "seeds")->capture_default_str();
  a->tournament->add_option("--policies", a->tournament_policies, "policies")
      ->capture_default_str();
  a->decision = bench->add_subcommand("decision", "latency of one decision, p50/p99/max in µs");
  add_workload_args(a->decision, &a->decision_workload);
  a->decision->add_option("--policy", a->decision_policy, "policy")->capture_default_str();
  a->decision->add_option("--decisions", a->decisions, "timed decisions")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  return bench;
}

int run_bench_cmd(const BenchArgs& a) {
  if (*a.decision) return run_bench_decision(a.decision_workload, a.decision_policy, a.decisions);
  if (*a.tournament)
    return run_bench_tournament(a.tournament_workload, a.tournament_seeds, a.tournament_policies);
  return 0;
}

}  // namespace prescale::cli

#include "arena/tournament.h"

#include <memory>

#include "policy/oracle.h"
#include "policy/registry.h"
#include "sim/workload.h"

namespace prescale::arena {
namespace {

Stat stat_of(const std::vector<sim::RunMetrics>& runs, double sim::RunMetrics::*field) {
  std::vector<double> v;
  v.reserve(runs.size());
  for (const auto& r : runs) v.push_back(r.*field);
  return summarize(v);
}

Stat stat_of_int(const std::vector<sim::RunMetrics>& runs, int sim::RunMetrics::*field) {
  std::vector<double> v;
  v.reserve(runs.size());
  for (const auto& r : runs) v.push_back(r.*field);
  return summarize(v);
}

}  // namespace

core::Result<TournamentResult> run_tournament(const sim::Scenario& scenario,
                                              const TournamentOptions& options) {
  std::vector<std::string> names = options.policies;
  if (names.empty()) {
    for (const auto& info : policy::known_policies()) names.push_back(info.name);
  }
  // A typo in a policy's table or a bad parameter stops the run before anything runs.
  if (auto st = policy::check_policies(scenario, names); !st.ok()) return st.error();
  auto gen = sim::WorkloadGenerator::create(scenario);
  if (!gen.ok()) return gen.error();

  TournamentResult result;
  result.scenario = scenario.name;
  result.workload =
      scenario.source == sim::WorkloadSource::kTrace ? scenario.trace.file : "synthetic";
  result.seeds = options.seeds > 0 ? options.seeds : scenario.seeds;
  result.steps = gen->steps();
  result.step_s = scenario.step_s;
  result.sla_ms = scenario.latency.sla_ms;
  result.base_seed = scenario.base_seed;
  result.results.resize(names.size());
  std::vector<std::vector<double>> ratios(names.size());
  std::vector<double> lower_bounds;
  for (size_t i = 0; i < names.size(); ++i) result.results[i].policy = names[i];

  for (int k = 0; k < result.seeds; ++k) {
    const std::uint64_t seed = scenario.base_seed + static_cast<std::uint64_t>(k);
    sim::Workload generated = gen->generate(seed);
    if (options.edge) options.edge(&generated);
    const sim::Workload workload = std::move(generated);
    sim::Simulator simulator(scenario, workload);

    // The oracle's plan on this workload: its cost is every policy's yardstick, and the
    // `oracle` row follows the same plan.
    core::ParamTable oracle_params("policies.oracle");
    if (auto it = scenario.policies.find("oracle"); it != scenario.policies.end()) {
      oracle_params = it->second;
    }
    policy::OracleOptions oracle_options = policy::read_oracle_options(oracle_params);
    oracle_options.lower_bound = true;  // report how close the plan is to the true optimum
    auto planned = policy::plan_oracle(scenario, workload, oracle_options);
    if (!planned.ok()) return planned.error();
    const policy::OraclePlan oracle_plan = std::move(*planned);
    result.oracle_exact = result.oracle_exact && oracle_plan.exact;
    lower_bounds.push_back(oracle_plan.lower_bound_cost);

    for (size_t i = 0; i < names.size(); ++i) {
      std::unique_ptr<policy::Policy> made;
      if (names[i] == "oracle") {
        made = std::make_unique<policy::OraclePolicy>(policy::env_from(scenario), oracle_plan);
      } else {
        auto built = policy::make_policy(names[i], scenario, &workload);
        if (!built.ok()) return built.error();
        made = std::move(*built);
      }
      policy::Policy& p = *made;
      std::vector<sim::StepRecord> rows;
      if (options.timeline && k == 0) simulator.record_timeline(&rows);
      p.reset();
      const sim::RunMetrics m =
          sim::simulate(simulator, [&](const core::Observation& obs) { return p.decide(obs); });
      simulator.record_timeline(nullptr);
      result.results[i].runs.push_back(m);
      ratios[i].push_back(oracle_plan.cost > 0 ? m.cost / oracle_plan.cost : 0.0);
      for (const auto& r : rows) result.timeline.push_back(TimelineRow{names[i], seed, r});
    }
  }

  result.oracle_lower_bound_cost = summarize(lower_bounds);
  for (size_t i = 0; i < names.size(); ++i) {
    PolicySummary& s = result.results[i];
    using M = sim::RunMetrics;
    s.cost = stat_of(s.runs, &M::cost);
    s.cost_vs_oracle = summarize(ratios[i]);
    s.p95_latency_ms = stat_of(s.runs, &M::p95_latency_ms);
    s.sla_violation_pct = stat_of(s.runs, &M::violation_pct);
    s.violation_minutes = stat_of(s.runs, &M::violation_minutes);
    s.stability = stat_of(s.runs, &M::stability);
    s.mean_executors = stat_of(s.runs, &M::mean_executors);
    s.rescales = stat_of_int(s.runs, &M::rescales);
    s.reversals = stat_of_int(s.runs, &M::reversals);
    s.throughput_mb_s = stat_of(s.runs, &M::throughput_mb_s);
    s.peak_throughput_mb_s = stat_of(s.runs, &M::peak_throughput_mb_s);
    s.cpu_util_pct = stat_of(s.runs, &M::cpu_util_pct);
    s.executor_seconds = stat_of(s.runs, &M::executor_seconds);
    s.lag_integral = stat_of(s.runs, &M::lag_integral);
    s.switches = stat_of_int(s.runs, &M::switches);
    s.guard_overrides = stat_of_int(s.runs, &M::guard_overrides);
    s.guard_floor = stat_of_int(s.runs, &M::guard_floor);
    s.guard_stabilise = stat_of_int(s.runs, &M::guard_stabilise);
    s.guard_dwell = stat_of_int(s.runs, &M::guard_dwell);
    s.guard_shuffle = stat_of_int(s.runs, &M::guard_shuffle);
    s.regrets = stat_of_int(s.runs, &M::regrets);
  }
  return result;
}

}  // namespace prescale::arena

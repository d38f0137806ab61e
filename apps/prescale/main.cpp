// prescale: the command line. A thin main: parsing and printing only; the work lives in
// the libraries under src/.
#include <sched.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "arena/tournament.h"
#include "arena/traces.h"
#include "arena_cmds.h"
#include "calibrate_cmds.h"
#include "core/result.h"
#include "fail.h"
#include "forecast_cmds.h"
#include "live_cmds.h"
#include "model_cmds.h"
#include "policy/registry.h"
#include "policy/rl_policy.h"
#include "rl/trainer.h"
#include "sim/scenario.h"
#include "sim/simulator.h"
#include "sim/workload.h"
#include "tier_cmds.h"
#include "validate_cmds.h"

namespace {

using prescale::cli::resolve_scenario;
using prescale::cli::WorkloadArgs;
using prescale::core::Result;
using prescale::sim::Scenario;

using prescale::cli::fail;
using prescale::cli::kBadInput;

// CLI11 answers "A subcommand is required" both when a command is missing and when a word is
// not a command. Say which, and list the commands accepted at that point ("" when the
// command line names its commands properly; CLI11 then reports anything else).
std::string command_problem(CLI::App& app, int argc, char** argv) {
  CLI::App* at = &app;
  std::string path = "prescale";
  for (int i = 1;; ++i) {
    if (at->get_require_subcommand_min() == 0) return "";
    const std::string word = i < argc ? argv[i] : "";
    if (!word.empty() && word[0] == '-') return "";  // an option (--help, --version)
    std::string names;
    CLI::App* next = nullptr;
    for (CLI::App* s : at->get_subcommands([](CLI::App*) { return true; })) {
      names += (names.empty() ? "" : ", ") + s->get_name();
      if (!word.empty() && s->check_name(word)) next = s;
    }
    if (next == nullptr) {
      return (word.empty() ? path + ": a command is required"
                           : path + ": unknown command " + prescale::core::echo(word)) +
             "; expected one of: " + names + " (" + path + " --help)";
    }
    at = next;
    path += " " + word;
  }
}

// `prescale bench tournament`: wall time of a whole tournament, as JSON.
int run_bench_tournament(const WorkloadArgs& wa, int seeds, const std::string& policies) {
  auto scenario = resolve_scenario(wa);
  if (!scenario.ok()) return fail(scenario.error().message);
  auto names = prescale::policy::parse_policy_list(policies);
  if (!names.ok()) return fail(names.error().message);
  prescale::arena::TournamentOptions options;
  options.policies = *names;
  options.seeds = seeds;
  const auto start = std::chrono::steady_clock::now();
  auto result = prescale::arena::run_tournament(*scenario, options);
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
  auto gen = prescale::sim::WorkloadGenerator::create(*scenario);
  if (!gen.ok()) return fail(gen.error().message);
  const prescale::sim::Workload w = gen->generate(scenario->base_seed);
  auto policy = prescale::policy::make_policy(policy_name, *scenario, &w);
  if (!policy.ok()) return fail(policy.error().message);
  std::vector<prescale::core::Observation> trace;
  prescale::sim::Simulator sim(*scenario, w);
  (*policy)->reset();
  prescale::sim::simulate(sim, [&](const prescale::core::Observation& o) {
    trace.push_back(o);
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

struct TrainArgs {
  std::string scenario = "seed";
  std::string context = "all";
  long long steps = 0;
  int manager_episodes = 0;
  unsigned long long seed = 1;
  std::string out;
  bool fresh = false;
  std::string traces;
  bool no_eval = false;
  int eval_seeds = 20;
  std::vector<std::string> variants;
  bool skip_workers = false;
  int members = 1;
  std::string edge = "synthetic";
  std::string cost_scale = "cluster";
};

int run_train_cmd(const TrainArgs& a) {
  auto scenario = prescale::sim::load_scenario(a.scenario);
  if (!scenario.ok()) return fail(scenario.error().message);
  prescale::rl::TrainOptions o;
  o.scenario = *scenario;
  if (a.context == "all") {
    o.contexts = {prescale::core::BusinessContext::kBalanced,
                  prescale::core::BusinessContext::kHealthcare,
                  prescale::core::BusinessContext::kBudget};
  } else {
    o.contexts = {*prescale::core::parse_context(a.context)};
  }
  if (a.steps > 0) o.worker_steps = a.steps;
  if (a.manager_episodes > 0) o.manager_episodes = a.manager_episodes;
  o.seed = a.seed;
  o.out_dir = a.out.empty() ? prescale::policy::default_models_dir() : a.out;
  if (a.out.empty()) {
    // A scenario whose rl has its own models (policies.rl.models) trains into them, never
    // over the seed's.
    if (auto it = scenario->policies.find("rl"); it != scenario->policies.end()) {
      auto params = it->second;
      const std::string sub = params.get_relative_path("models", "");
      if (!sub.empty()) o.out_dir += "/" + sub;
    }
  }
  o.resume = !a.fresh;
  const std::string traces =
      a.traces.empty() ? prescale::arena::default_traces_dir() + "/nab" : a.traces;
  if (a.traces != "none") o.trace_files = prescale::rl::training_traces(traces);
  std::fprintf(stderr, "training on: %s synthetic traffic (seed and randomised)%s\n",
               o.scenario.name.c_str(),
               o.trace_files.empty()
                   ? ", no real traces"
                   : (" + " + std::to_string(o.trace_files.size()) + " real traces from " + traces +
                      " (development set excluded)")
                         .c_str());
  if (!a.variants.empty()) o.variants = a.variants;
  if (a.skip_workers) o.variants.clear();
  o.evaluate = !a.no_eval;
  o.eval_seeds = a.eval_seeds;
  o.edge_name = a.edge;
  if (a.edge == "forecast") {
    if (auto st = prescale::cli::set_forecast_edge(&o.edge); !st.ok()) return fail(st.message());
  }
  o.cost_scale =
      a.cost_scale == "load" ? prescale::rl::CostScale::kLoad : prescale::rl::CostScale::kCluster;
  if (a.members > 1) {
    auto ens = prescale::rl::train_ensemble(o, a.members);
    if (!ens.ok()) return fail(ens.error().message);
    std::fprintf(stderr, "ensemble of %d written to %s (summary: %s/ensemble.json)\n", a.members,
                 o.out_dir.c_str(), o.out_dir.c_str());
    return 0;
  }
  auto summary = prescale::rl::train(o);
  if (!summary.ok()) return fail(summary.error().message);
  std::fprintf(stderr, "models written to %s (summary: %s/training.json)\n", o.out_dir.c_str(),
               o.out_dir.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "prescale: a proactive, edge-aware autoscaler for IoT stream processing, and "
      "the arena that compares it with the autoscalers people use"};
  app.require_subcommand(1);

  prescale::cli::TournamentArgs tournament_args;
  auto* tournament = prescale::cli::add_tournament_command(app, &tournament_args);

  auto* list = app.add_subcommand("policies", "list the policies");

  std::string check_name;
  auto* check = app.add_subcommand("check", "validate a scenario file (exit 2 on errors)");
  check->add_option("scenario", check_name, "scenario name or YAML path")->required();

  auto* bench = app.add_subcommand("bench", "benchmarks that print JSON");
  bench->require_subcommand(1);
  WorkloadArgs bw;
  int bench_seeds = 20;
  std::string bench_policies = "all";
  auto* bench_t = bench->add_subcommand("tournament", "wall time of a whole tournament");
  prescale::cli::add_workload_args(bench_t, &bw);
  bench_t->add_option("--seeds", bench_seeds, "seeds")->capture_default_str();
  bench_t->add_option("--policies", bench_policies, "policies")->capture_default_str();

  TrainArgs ta;
  auto* train = app.add_subcommand("train", "train the RL workers (PPO) and the manager (TD3)");
  train->add_option("--scenario", ta.scenario, "scenario name or YAML path")->capture_default_str();
  train
      ->add_option("--context", ta.context,
                   "contexts the manager learns: healthcare|budget|balanced|all")
      ->check(CLI::IsMember({"healthcare", "budget", "balanced", "all"}))
      ->capture_default_str();
  train
      ->add_option("--steps", ta.steps,
                   "environment steps of the rl-full worker; rl-basic and rl-shuffle get half "
                   "(default 20,000,000)")
      ->check(CLI::PositiveNumber);
  train->add_option("--manager-episodes", ta.manager_episodes, "manager episodes (default 1500)")
      ->check(CLI::PositiveNumber);
  train->add_option("--seed", ta.seed, "training seed")->capture_default_str();
  train->add_option("--out", ta.out, "output directory (default: models/ of the source tree)");
  train->add_flag("--fresh", ta.fresh, "ignore checkpoints in --out (default: resume from them)");
  train->add_option("--traces", ta.traces,
                    "directory of NAB traces to mix into training (default: data/traces/nab/ of "
                    "the source tree; 'none' for synthetic only)");
  train->add_option("--variants", ta.variants, "worker variants to train (default all three)")
      ->delimiter(',')
      ->check(CLI::IsMember({"rl-basic", "rl-shuffle", "rl-full"}));
  train->add_flag("--skip-workers", ta.skip_workers,
                  "train only the manager, on the rl-full worker already in --out");
  train->add_flag("--no-eval", ta.no_eval, "skip the held-out evaluation");
  train
      ->add_option("--members", ta.members,
                   "train an ensemble: N models with seeds --seed, --seed + 1, ... into "
                   "--out/member-1..N; rl decides by the median of their targets (docs/rl.md)")
      ->check(CLI::Range(1, 9))
      ->capture_default_str();
  train->add_option("--eval-seeds", ta.eval_seeds, "held-out evaluation seeds")
      ->capture_default_str();
  train
      ->add_option("--edge", ta.edge,
                   "the edge signal the workers and the manager train with: synthetic (the "
                   "simulator's model, which reads the future) or forecast (the global "
                   "forecaster, models/forecast/global.json, as `tournament --edge forecast`)")
      ->check(CLI::IsMember({"synthetic", "forecast"}))
      ->capture_default_str();
  train
      ->add_option("--cost-scale", ta.cost_scale,
                   "the unit of the worker's cost term: cluster (half the cluster's maximum "
                   "executors) or load (the executors the episode's mean load needs; docs/rl.md)")
      ->check(CLI::IsMember({"cluster", "load"}))
      ->capture_default_str();

  prescale::cli::AblationArgs ablation_args;
  auto* ablation = prescale::cli::add_ablation_command(app, &ablation_args);
  prescale::cli::TracesArgs traces_args;
  auto* traces = prescale::cli::add_traces_command(app, &traces_args);

  prescale::cli::ForecastArgs forecast_args;
  auto* forecast = prescale::cli::add_forecast_command(app, &forecast_args);

  prescale::cli::PlaneBenchArgs plane_args;
  auto* bench_planes = prescale::cli::add_plane_bench_command(*bench, &plane_args);
  std::string controller_config;
  auto* controller_cmd = prescale::cli::add_controller_command(app, &controller_config);
  prescale::cli::EdgeArgs edge_args;
  auto* edge_cmd = prescale::cli::add_edge_command(app, &edge_args);
  prescale::cli::RaceArgs race_args;
  auto* race_cmd = prescale::cli::add_race_command(app, &race_args);
  prescale::cli::CalibrateArgs calibrate_args;
  auto* calibrate_cmd = prescale::cli::add_calibrate_command(app, &calibrate_args);
  prescale::cli::ValidateArgs validate_args;
  auto* validate_cmd = prescale::cli::add_validate_command(app, &validate_args);
  prescale::cli::ModelsArgs models_args;
  auto* models_cmd = prescale::cli::add_models_command(app, &models_args);
  auto* tier_args = prescale::cli::add_tier_command(app);

  WorkloadArgs dw;
  std::string decision_policy = "rl";
  int decisions = 200'000;
  auto* bench_d = bench->add_subcommand("decision", "latency of one decision, p50/p99/max in µs");
  prescale::cli::add_workload_args(bench_d, &dw);
  bench_d->add_option("--policy", decision_policy, "policy")->capture_default_str();
  bench_d->add_option("--decisions", decisions, "timed decisions")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();

  if (const std::string problem = command_problem(app, argc, argv); !problem.empty()) {
    std::cerr << problem << "\n";
    return kBadInput;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : kBadInput;
  }

  if (prescale::cli::tier_selected(tier_args))
    return prescale::cli::run_tier_cmd(tier_args, PRESCALE_SOURCE_DIR);
  if (*train) return run_train_cmd(ta);
  if (*controller_cmd) return prescale::cli::run_controller_cmd(controller_config);
  if (*edge_cmd) return prescale::cli::run_edge_cmd(std::move(edge_args));
  if (*race_cmd) return prescale::cli::run_race_cmd(std::move(race_args), PRESCALE_SOURCE_DIR);
  if (*calibrate_cmd) return prescale::cli::run_calibrate_cmd(calibrate_args);
  if (*validate_cmd) return prescale::cli::run_validate_cmd(validate_args);
  if (*models_cmd) return prescale::cli::run_models_cmd(models_args);
  if (*tournament) return prescale::cli::run_tournament_cmd(tournament_args);
  if (*list) {
    for (const auto& info : prescale::policy::known_policies()) {
      std::printf("%-12s %s\n", info.name.c_str(), info.summary.c_str());
    }
    return 0;
  }
  if (*check) {
    auto s = prescale::sim::load_scenario(check_name);
    if (!s.ok()) return fail(s.error().message);
    for (const auto& info : prescale::policy::known_policies()) {
      auto p = prescale::policy::make_policy(info.name, *s, nullptr);
      if (!p.ok()) return fail(p.error().message);
    }
    for (const auto& [name, table] : s->policies) {
      bool known = false;
      for (const auto& info : prescale::policy::known_policies()) known |= info.name == name;
      if (!known)
        return fail((table.origin().empty() ? s->source_file : table.origin()) + ": policies." +
                    name + ": unknown policy");
    }
    std::printf("%s: ok (%d steps of %g s, %s)\n", s->source_file.c_str(), s->steps, s->step_s,
                s->source == prescale::sim::WorkloadSource::kTrace ? "trace" : "synthetic");
    return 0;
  }
  if (*forecast) return prescale::cli::run_forecast_cmd(forecast_args);
  if (*traces) return prescale::cli::run_traces_cmd(traces_args);
  if (*ablation) return prescale::cli::run_ablation_cmd(ablation_args);
  if (*bench_planes) return prescale::cli::run_plane_bench_cmd(plane_args, PRESCALE_SOURCE_DIR);
  if (*bench_d) return run_bench_decision(dw, decision_policy, decisions);
  if (*bench_t) return run_bench_tournament(bw, bench_seeds, bench_policies);
  return 0;
}

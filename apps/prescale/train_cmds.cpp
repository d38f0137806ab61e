#include "train_cmds.h"

#include <cstdio>
#include <string>

#include "arena/traces.h"
#include "arena_cmds.h"
#include "core/types.h"
#include "fail.h"
#include "policy/registry.h"
#include "rl/trainer.h"
#include "sim/scenario.h"

namespace prescale::cli {

CLI::App* add_train_command(CLI::App& app, TrainArgs* a) {
  auto* cmd = app.add_subcommand("train", "train the RL workers (PPO) and the manager (TD3)");
  cmd->add_option("--scenario", a->scenario, "scenario name or YAML path")->capture_default_str();
  cmd->add_option("--context", a->context,
                  "contexts the manager learns: healthcare|budget|balanced|all")
      ->check(CLI::IsMember({"healthcare", "budget", "balanced", "all"}))
      ->capture_default_str();
  cmd->add_option("--steps", a->steps,
                  "environment steps of the rl-full worker; rl-basic and rl-shuffle get half "
                  "(default 20,000,000)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--manager-episodes", a->manager_episodes, "manager episodes (default 1500)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--seed", a->seed, "training seed")->capture_default_str();
  cmd->add_option("--out", a->out, "output directory (default: models/ of the source tree)");
  cmd->add_flag("--fresh", a->fresh, "ignore checkpoints in --out (default: resume from them)");
  cmd->add_option("--traces", a->traces,
                  "directory of NAB traces to mix into training (default: data/traces/nab/ of "
                  "the source tree; 'none' for synthetic only)");
  cmd->add_option("--variants", a->variants, "worker variants to train (default all three)")
      ->delimiter(',')
      ->check(CLI::IsMember({"rl-basic", "rl-shuffle", "rl-full"}));
  cmd->add_flag("--skip-workers", a->skip_workers,
                "train only the manager, on the rl-full worker already in --out");
  cmd->add_flag("--no-eval", a->no_eval, "skip the held-out evaluation");
  cmd->add_option("--members", a->members,
                  "train an ensemble: N models with seeds --seed, --seed + 1, ... into "
                  "--out/member-1..N; rl decides by the median of their targets (docs/rl.md)")
      ->check(CLI::Range(1, 9))
      ->capture_default_str();
  cmd->add_option("--eval-seeds", a->eval_seeds, "held-out evaluation seeds")
      ->capture_default_str();
  cmd->add_option("--edge", a->edge,
                  "the edge signal the workers and the manager train with: synthetic (the "
                  "simulator's model, which reads the future) or forecast (the global "
                  "forecaster, models/forecast/global.json, as `tournament --edge forecast`)")
      ->check(CLI::IsMember({"synthetic", "forecast"}))
      ->capture_default_str();
  cmd->add_option("--cost-scale", a->cost_scale,
                  "the unit of the worker's cost term: cluster (half the cluster's maximum "
                  "executors) or load (the executors the episode's mean load needs; docs/rl.md)")
      ->check(CLI::IsMember({"cluster", "load"}))
      ->capture_default_str();
  return cmd;
}

int run_train_cmd(const TrainArgs& a) {
  auto scenario = sim::load_scenario(a.scenario);
  if (!scenario.ok()) return fail(scenario.error().message);
  rl::TrainOptions o;
  o.scenario = *scenario;
  if (a.context == "all") {
    o.contexts = {core::BusinessContext::kBalanced, core::BusinessContext::kHealthcare,
                  core::BusinessContext::kBudget};
  } else {
    o.contexts = {*core::parse_context(a.context)};
  }
  if (a.steps > 0) o.worker_steps = a.steps;
  if (a.manager_episodes > 0) o.manager_episodes = a.manager_episodes;
  o.seed = a.seed;
  o.out_dir = a.out.empty() ? policy::default_models_dir() : a.out;
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
  const std::string traces = a.traces.empty() ? arena::default_traces_dir() + "/nab" : a.traces;
  if (a.traces != "none") o.trace_files = rl::training_traces(traces);
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
    if (auto st = set_forecast_edge(&o.edge); !st.ok()) return fail(st.message());
  }
  o.cost_scale = a.cost_scale == "load" ? rl::CostScale::kLoad : rl::CostScale::kCluster;
  if (a.members > 1) {
    auto ens = rl::train_ensemble(o, a.members);
    if (!ens.ok()) return fail(ens.error().message);
    std::fprintf(stderr, "ensemble of %d written to %s (summary: %s/ensemble.json)\n", a.members,
                 o.out_dir.c_str(), o.out_dir.c_str());
    return 0;
  }
  auto summary = rl::train(o);
  if (!summary.ok()) return fail(summary.error().message);
  std::fprintf(stderr, "models written to %s (summary: %s/training.json)\n", o.out_dir.c_str(),
               o.out_dir.c_str());
  return 0;
}

}  // namespace prescale::cli

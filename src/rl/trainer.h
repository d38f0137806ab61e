// `prescale train`: PPO workers for the three ablation variants, then the TD3 manager on
// top of the rl-full worker, then an evaluation on held-out seeds. Checkpoints let an
// interrupted run resume; the same seed on the same machine gives the same models.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/types.h"
#include "rl/env.h"
#include "sim/scenario.h"

namespace prescale::rl {

struct TrainOptions {
  sim::Scenario scenario;
  std::vector<core::BusinessContext> contexts;  // the manager learns these
  std::vector<std::string> variants = {"rl-basic", "rl-shuffle", "rl-full"};
  // Environment steps of the rl-full worker; the ablation workers (rl-basic, rl-shuffle)
  // get half, trained one after the other on a second thread meanwhile.
  std::int64_t worker_steps = 20'000'000;
  int manager_episodes = 1500;  // 500-step episodes for the manager
  std::uint64_t seed = 1;
  std::string out_dir;                   // models land here; checkpoints in out_dir/checkpoints
  bool resume = true;                    // continue from checkpoints found in out_dir
  std::vector<std::string> trace_files;  // training traces (never the development set)
  int envs = 32;
  int rollout = 256;          // steps per environment per PPO update
  int checkpoint_every = 20;  // PPO updates between checkpoints
  int eval_seeds = 20;
  bool evaluate = true;
  // The edge signal the workers and the manager train with (TrafficMix::edge) and its name
  // for the summary: "synthetic" (empty edge: the simulator's model) or, e.g., "forecast".
  std::function<void(sim::Workload*)> edge;
  std::string edge_name = "synthetic";
  CostScale cost_scale = CostScale::kCluster;  // the worker's cost unit (worker_cost_ref)
};

// The non-development NAB traces under `traces_dir` (the nine development traces of
// data/traces/README.md, arena::development_trace_names(), are excluded). Empty if the
// directory is missing. The CLI's default directory: arena::default_traces_dir() + "/nab".
std::vector<std::string> training_traces(const std::string& traces_dir);
// The development traces' file names.
const std::vector<std::string>& development_traces();

// Runs everything; progress lines go to stderr, the summary (JSON) is returned.
core::Result<std::string> train(const TrainOptions& options);

// Trains `members` models with seeds options.seed, options.seed + 1, ... into
// options.out_dir/member-1, member-2, ... (each resumable as train() is), evaluates the
// ensemble they form when options.evaluate, and writes options.out_dir/ensemble.json.
core::Result<std::string> train_ensemble(const TrainOptions& options, int members);

// One intra-op thread: faster than two on this 2-core machine (the project notes' stack.md).
void use_single_torch_thread();

}  // namespace prescale::rl

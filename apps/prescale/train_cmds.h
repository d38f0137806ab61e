// `prescale train`: the RL workers (PPO) and the manager (TD3), src/rl (docs/rl.md).
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace prescale::cli {

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

CLI::App* add_train_command(CLI::App& app, TrainArgs* a);
int run_train_cmd(const TrainArgs& a);

}  // namespace prescale::cli

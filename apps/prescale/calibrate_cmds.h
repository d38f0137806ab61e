// `prescale calibrate --from RUN_DIR`: the arena's parameters fitted from a live run's
// records (src/calibrate; docs/sim2real.md, "Calibration").
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace prescale::cli {

struct CalibrateArgs {
  // The run directories (runs/batches/executors/commands.jsonl), fitted as one.
  std::vector<std::string> from;
  std::string base = "live";  // the scenario whose other values the output keeps
  std::string out;            // the calibrated scenario YAML ("" = stdout)
  std::string name;           // its name ("" = the base's + "-calibrated")
  std::string format = "table";
  std::string capacity = "marginal";  // marginal | trigger (calibrate::trigger_capacity)
  bool warmup = false;                // write cluster.warmup_s (always fitted and reported)
};

CLI::App* add_calibrate_command(CLI::App& app, CalibrateArgs* a);
int run_calibrate_cmd(const CalibrateArgs& a);

}  // namespace prescale::cli

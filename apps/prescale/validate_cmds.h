// `prescale validate --from RUN_DIR`: the arena's side of a recorded live race, compared with
// it (src/validate; docs/sim2real.md, "Validation"); also what `prescale race` runs after
// its live runs.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "core/result.h"
#include "live/race.h"
#include "validate/validate.h"

namespace prescale::cli {

struct ValidateArgs {
  std::string from;               // the run directory (prescale race --record-dir)
  std::string scenario = "live";  // the arena's (a calibrated one: prescale calibrate --out)
  std::string config;             // the controller YAML ("" = the one the race used)
  std::string format = "table";   // table | json
  std::string out;                // also write the JSON (with the arena's timelines) here
  std::string report;             // report.html: live and arena on one chart per policy
};

CLI::App* add_validate_command(CLI::App& app, ValidateArgs* a);
int run_validate_cmd(const ValidateArgs& a);

// The comparison of the records in `dir` with the arena on `scenario` (name or file).
core::Result<validate::Report> validate_run_dir(const std::string& dir, const std::string& scenario,
                                                const std::string& controller_config = "");

// The live runs as the race page draws them, rebuilt from the records.
std::vector<live::RunResult> runs_from_records(const calibrate::RunRecords& rec,
                                               const validate::Replay& replay);

}  // namespace prescale::cli

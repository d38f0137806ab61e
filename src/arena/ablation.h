// The seed's incremental analysis, reproduced: each phase adds one capability.
//   Phase 0 hpa         reactive CPU autoscaling (the baseline)
//   Phase 1 rl-basic    learned executor scaling; NVMe shuffle, no compression, no edge
//   Phase 2 rl-shuffle  + the shuffle tier and codec choice (adaptive shuffle)
//   Phase 3 rl-full     + the edge burst signal (proactive)
#pragma once

#include <string>
#include <vector>

#include "arena/tournament.h"
#include "core/result.h"
#include "sim/scenario.h"

namespace prescale::arena {

struct AblationPhase {
  int phase;
  std::string policy;
  std::string adds;
  const PolicySummary* summary;  // into AblationResult::tournament
};

struct AblationResult {
  TournamentResult tournament;
  std::vector<AblationPhase> phases;
};

// `timeline`: record the first seed's per-step rows (for write_ablation_outputs).
core::Result<AblationResult> run_ablation(const sim::Scenario& scenario, int seeds,
                                          bool timeline = false);
std::string format_ablation_table(const AblationResult& r);
std::string format_ablation_json(const AblationResult& r);

// The --out directory: results.csv, timeline.csv and report.html (html_report.h), all or
// nothing (output_dir.h).
core::Status write_ablation_outputs(const std::string& dir, const AblationResult& r);

}  // namespace prescale::arena

// The development-trace report: a policy against every baseline on each of the real
// traces named in ../shared/traces/README.md, whole trace replayed, on identical traffic.
#pragma once

#include <string>
#include <vector>

#include "arena/tournament.h"
#include "core/result.h"
#include "sim/scenario.h"

namespace prescale::arena {

struct TraceVerdict {
  std::string trace;  // file name
  int steps = 0;
  std::string policy;
  double policy_sla = 0, policy_cost = 0;
  // The best baseline: the lowest SLA violations (ties: the cheaper) among the autoscalers
  // prescale must beat (../shared/baselines.md: hpa, keda, spark-dra, batch-ratio, ds2,
  // ds2-tuned, phpa) ...
  std::string best_baseline;
  double best_sla = 0, best_cost = 0;
  // ... and among every non-learning, non-clairvoyant row, including the seed's static
  // `fixed` (15 executors) and `seer`.
  std::string best_any;
  double best_any_sla = 0, best_any_cost = 0;
  bool beats_any = false;
  double oracle_cost = 0;
  bool beats = false;  // policy_sla < best_sla and policy_cost <= best_cost
  // Pareto view: baselines at least as good on both SLA violations and cost (and better on
  // one), and how many baselines the policy itself dominates.
  std::vector<std::string> dominated_by;
  int dominates = 0;
  int baselines = 0;
};

// The eight development traces (paths relative to the NAB directory).
const std::vector<std::string>& development_trace_paths();

core::Result<std::vector<TraceVerdict>> evaluate_traces(const sim::Scenario& scenario,
                                                        const std::string& nab_dir,
                                                        const std::string& policy, int seeds);
std::string format_traces_table(const std::vector<TraceVerdict>& v);
std::string format_traces_json(const std::vector<TraceVerdict>& v);

}  // namespace prescale::arena

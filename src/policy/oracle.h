// The clairvoyant oracle: knows the whole trace and the cold start, and plans the
// cheapest schedule (executors, shuffle tier, codec per step) that keeps every step
// within the SLA; where that is impossible within max executors, the fewest violating
// steps first, then the least cost.
//
// Dynamic programme (docs/model.md, "The oracle"). With removal immediate and billing
// from request, a serving profile a_t costs
//     price * (sum_t a_t + D * sum_t max(0, a_t - a_{t-1})) + sum_t tier_cost_t
// (each executor that starts serving at t was requested at t - D and billed since), and
// increases are impossible before t = D. The backlog couples the steps, so each state
// (t, a_t, shuffle option) keeps a Pareto staircase of labels (backlog, (violations, cost));
// the option is part of the state because a switch of tier or codec pauses the job
// (StepModel::switch_pause_s), so the oracle pays for switches as every policy does. The backlog
// is kept on a fine grid (OracleOptions::backlog_quantum): rounded up for the plan, which
// stays feasible in the simulator, and rounded down for a proven lower bound. The SLA is
// first a hard constraint (exact, small staircases); only if no schedule meets it
// everywhere is the programme solved again with violations allowed, where staircases are
// capped at `max_labels` (the plan is then marked inexact). Every step's outcome comes
// from sim::StepModel, the same code the simulator runs.
#pragma once

#include <vector>

#include "core/params.h"
#include "core/result.h"
#include "policy/policy.h"
#include "sim/scenario.h"
#include "sim/workload.h"

namespace prescale::policy {

struct OraclePlan {
  std::vector<int> active;  // serving executors per step
  std::vector<int> target;  // alive target per step (serving + provisioning)
  std::vector<core::Tier> tier;
  std::vector<core::Compression> codec;
  int violations = 0;  // planned violating steps
  double cost = 0;     // planned $ (executors + tiers)
  bool exact = true;   // false if a Pareto front was truncated
  // The same programme with the backlog rounded down: a proven lower bound on the true
  // optimum (filled when OracleOptions::lower_bound).
  int lower_bound_violations = 0;
  double lower_bound_cost = 0;
  bool target_within_max = true;  // alive target never exceeded max_executors
};

struct OracleOptions {
  int max_labels = 64;       // per (step, active) state
  bool choose_tier = true;   // false: only the scenario's default tier
  bool choose_codec = true;  // false: only "none"
  // Backlog grid, as a fraction of one mean step's arrivals (0 = continuous: exact but
  // slow). The plan rounds the backlog up (it stays feasible and its simulated cost is at
  // most the planned one); the lower bound rounds down (a relaxation of the problem).
  double backlog_quantum = 0.001;
  bool lower_bound = true;
  // The programme keeps every step's labels to walk the plan back: at most steps x executor
  // counts x max_labels of them. A run whose bound exceeds this is refused before planning
  // (a whole trace replayed at real speed is millions of steps: a day of 5 s steps needs
  // ~0.7 GB on the seed's cluster).
  double max_memory_mb = 2048;
};

// The most the programme may hold for `steps` steps of `scenario` (bytes), and whether that
// fits options.max_memory_mb (an error that says how to make it fit: a window, or a higher
// max_memory_mb).
double oracle_memory_bound(const sim::Scenario& scenario, int steps, const OracleOptions& options);
core::Status check_oracle_memory(const sim::Scenario& scenario, int steps,
                                 const OracleOptions& options);

// Errors: check_oracle_memory's.
core::Result<OraclePlan> plan_oracle(const sim::Scenario& scenario, const sim::Workload& workload,
                                     const OracleOptions& options = {});

// Reads max_labels, choose_tier, choose_codec, backlog_quantum and max_memory_mb from a
// parameter table.
OracleOptions read_oracle_options(core::ParamTable& params);

class OraclePolicy : public Policy {
 public:
  // Follows a plan made elsewhere (the tournament plans once per seed).
  OraclePolicy(const PolicyEnv& env, OraclePlan plan) : env_(env), plan_(std::move(plan)) {}
  // workload may be null only to validate parameters; decide() then holds. A plan that cannot
  // be made (check_oracle_memory) leaves status() with the error and decide() holding.
  OraclePolicy(const PolicyEnv& env, core::ParamTable& params, const sim::Scenario& scenario,
               const sim::Workload* workload);
  std::string_view name() const override { return "oracle"; }
  void reset() override {}
  core::Decision decide(const core::Observation& obs) override;
  const OraclePlan& plan() const { return plan_; }
  const core::Status& status() const { return status_; }

 private:
  PolicyEnv env_;
  OraclePlan plan_;
  core::Status status_;
};

}  // namespace prescale::policy

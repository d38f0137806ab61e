#include "policy/oracle.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "core/format.h"
#include "sim/step_model.h"

namespace prescale::policy {
namespace {

struct Label {
  double cost;
  double backlog;
  std::int32_t parent;  // index into the previous step's labels (-1 at t = 0)
  std::int32_t violations;
  std::int16_t active;
  std::uint8_t option;  // tier * kNumCompressions + codec
};

// Lexicographic order of the objective: violations, then cost.
bool better(const Label& a, const Label& b) {
  if (a.violations != b.violations) return a.violations < b.violations;
  return a.cost < b.cost;
}

}  // namespace

namespace {

OraclePlan solve(const sim::Scenario& s, const sim::Workload& w, const OracleOptions& options,
                 bool round_up);

}  // namespace

namespace {

// Serving counts the programme keeps a staircase for at each step.
int executor_counts(const sim::Scenario& s) {
  return std::max(1, s.cluster.max_executors - s.cluster.min_executors + 1);
}

}  // namespace

double oracle_memory_bound(const sim::Scenario& s, int steps, const OracleOptions& options) {
  return static_cast<double>(std::max(steps, 0)) * executor_counts(s) * options.max_labels *
         static_cast<double>(sizeof(Label));
}

core::Status check_oracle_memory(const sim::Scenario& s, int steps, const OracleOptions& options) {
  const double budget = options.max_memory_mb * 1024.0 * 1024.0;
  const double bytes = oracle_memory_bound(s, steps, options);
  if (bytes <= budget) return {};
  const auto fits = static_cast<long long>(budget / oracle_memory_bound(s, 1, options));
  return core::Error{
      "oracle: a plan over " + std::to_string(steps) + " steps may hold " +
      core::fmt("%.0f", bytes / (1024.0 * 1024.0)) + " MB (" + std::to_string(executor_counts(s)) +
      " executor counts x " + std::to_string(options.max_labels) + " labels of " +
      std::to_string(sizeof(Label)) + " bytes a step), over policies.oracle.max_memory_mb = " +
      core::fmt("%g", options.max_memory_mb) + "; replay a window of at most " +
      std::to_string(fits) +
      " steps with --steps (a day of 5 s steps is 17280), or raise max_memory_mb"};
}

core::Result<OraclePlan> plan_oracle(const sim::Scenario& s, const sim::Workload& w,
                                     const OracleOptions& options) {
  if (auto st = check_oracle_memory(s, w.steps(), options); !st.ok()) return st.error();
  OraclePlan plan = solve(s, w, options, /*round_up=*/true);
  if (options.lower_bound) {
    const OraclePlan bound = solve(s, w, options, /*round_up=*/false);
    plan.lower_bound_violations = bound.violations;
    plan.lower_bound_cost = bound.cost;
    plan.exact = plan.exact && bound.exact;  // a truncated relaxation proves nothing
  }
  return plan;
}

namespace {

// Keeps only labels not dominated by another; the result is a staircase sorted by
// backlog with a strictly improving objective. A label dominates another (same step,
// same serving count) when it carries no more backlog and is no worse in the
// lexicographic objective: every later outcome is monotone in the backlog carried in
// (violations, tier cost and backlog out never decrease with it), so any continuation of
// the dominated label serves the dominating one at least as well.
void prune(std::vector<Label>& labels) {
  // Labels in different shuffle options are not comparable: the next step's switch cost
  // depends on the option (docs/model.md, "Switching tier or codec").
  std::sort(labels.begin(), labels.end(), [](const Label& a, const Label& b) {
    if (a.option != b.option) return a.option < b.option;
    if (a.backlog != b.backlog) return a.backlog < b.backlog;
    return better(a, b);
  });
  size_t kept = 0;
  for (size_t i = 0; i < labels.size(); ++i) {
    if (kept > 0 && labels[kept - 1].option == labels[i].option &&
        !better(labels[i], labels[kept - 1])) {
      continue;  // dominated
    }
    labels[kept++] = labels[i];
  }
  labels.resize(kept);
}

// Truncates a staircase to `cap` labels spread evenly along it (both ends kept).
bool truncate(std::vector<Label>& labels, int cap) {
  if (static_cast<int>(labels.size()) <= cap) return false;
  std::vector<Label> kept;
  kept.reserve(cap);
  const double stride = static_cast<double>(labels.size() - 1) / (cap - 1);
  for (int i = 0; i < cap; ++i) kept.push_back(labels[static_cast<size_t>(i * stride + 0.5)]);
  labels = std::move(kept);
  return true;
}

OraclePlan solve(const sim::Scenario& s, const sim::Workload& w, const OracleOptions& options,
                 bool round_up, bool allow_violations, bool* infeasible) {
  const sim::StepModel model(s);
  const int n = w.steps();
  const int d = s.cold_start_steps();
  const int amin = s.cluster.min_executors;
  const int amax = s.cluster.max_executors;
  const double price = model.executor_step_cost();
  double mean_rate = 0;
  for (double r : w.arrivals_rps) mean_rate += r;
  mean_rate = n > 0 ? mean_rate / n : 0;
  // Backlog grid: rounding up keeps the plan feasible, rounding down relaxes the problem.
  const double quantum = options.backlog_quantum * mean_rate * s.step_s;
  auto snap = [&](double b) {
    if (quantum <= 0 || b <= 0) return b;
    return (round_up ? std::ceil(b / quantum - 1e-9) : std::floor(b / quantum + 1e-9)) * quantum;
  };

  std::vector<std::uint8_t> opts;
  for (int ti = 0; ti < core::kNumTiers; ++ti) {
    if (!options.choose_tier && ti != static_cast<int>(s.default_tier)) continue;
    for (int ci = 0; ci < core::kNumCompressions; ++ci) {
      if (!options.choose_codec && ci != 0) continue;
      opts.push_back(static_cast<std::uint8_t>(ti * core::kNumCompressions + ci));
    }
  }

  OraclePlan plan;
  *infeasible = false;
  std::vector<std::vector<Label>> labels(n);  // all labels of step t, grouped by state
  std::vector<Label> prev;
  // Virtual step -1: the initial warm executors, no backlog.
  prev.push_back(
      Label{0, 0, -1, 0, static_cast<std::int16_t>(s.cluster.initial_executors),
            static_cast<std::uint8_t>(static_cast<int>(s.default_tier) * core::kNumCompressions)});
  std::vector<Label> entry, front;

  for (int t = 0; t < n; ++t) {
    const double lambda = w.arrivals_rps[t];
    labels[t].clear();
    for (int a = amin; a <= amax; ++a) {
      // Entering state a: the best predecessor per backlog, with the start-up cost of the
      // executors added (each new one was requested D steps earlier and billed since).
      entry.clear();
      for (std::int32_t pi = 0; pi < static_cast<std::int32_t>(prev.size()); ++pi) {
        const Label& p = prev[pi];
        const int inc = std::max(0, a - p.active);
        if (inc > 0 && t < d) continue;  // nothing requested before t = 0 can serve yet
        Label l = p;
        l.cost += price * (a + static_cast<double>(d) * inc);
        l.parent = pi;
        entry.push_back(l);
      }
      prune(entry);
      front.clear();
      for (const Label& e : entry) {
        for (std::uint8_t o : opts) {
          const auto tier = static_cast<core::Tier>(o / core::kNumCompressions);
          const auto codec = static_cast<core::Compression>(o % core::kNumCompressions);
          const double pause = model.switch_pause_s(
              static_cast<core::Tier>(e.option / core::kNumCompressions),
              static_cast<core::Compression>(e.option % core::kNumCompressions), tier, codec);
          const sim::StepOutcome out = model.run(lambda, e.backlog, a, tier, codec, pause);
          if (out.violation && !allow_violations) continue;
          front.push_back(Label{e.cost + out.tier_cost, snap(out.backlog_out), e.parent,
                                e.violations + (out.violation ? 1 : 0),
                                static_cast<std::int16_t>(a), o});
        }
      }
      prune(front);
      if (truncate(front, options.max_labels)) plan.exact = false;
      labels[t].insert(labels[t].end(), front.begin(), front.end());
    }
    labels[t].shrink_to_fit();  // what check_oracle_memory bounds: no growth slack kept
    if (labels[t].empty()) {
      *infeasible = true;
      return plan;
    }
    prev = labels[t];
  }

  // Best final label, then walk the parents back.
  plan.active.assign(n, 0);
  plan.tier.assign(n, s.default_tier);
  plan.codec.assign(n, core::Compression::kNone);
  if (n == 0) return plan;
  std::int32_t idx = 0;
  for (std::int32_t i = 1; i < static_cast<std::int32_t>(labels[n - 1].size()); ++i) {
    if (better(labels[n - 1][i], labels[n - 1][idx])) idx = i;
  }
  plan.violations = labels[n - 1][idx].violations;
  plan.cost = labels[n - 1][idx].cost;
  for (int t = n - 1; t >= 0; --t) {
    const Label& l = labels[t][idx];
    plan.active[t] = l.active;
    plan.tier[t] = static_cast<core::Tier>(l.option / core::kNumCompressions);
    plan.codec[t] = static_cast<core::Compression>(l.option % core::kNumCompressions);
    idx = l.parent;
  }
  // Alive target: serving now + those requested for the next D steps' increases.
  plan.target.assign(n, 0);
  int prev_active = s.cluster.initial_executors;
  std::vector<int> inc(n, 0);
  for (int t = 0; t < n; ++t) {
    inc[t] = std::max(0, plan.active[t] - prev_active);
    prev_active = plan.active[t];
  }
  for (int t = 0; t < n; ++t) {
    int alive = plan.active[t];
    for (int u = t + 1; u <= std::min(n - 1, t + d); ++u) alive += inc[u];
    plan.target[t] = alive;
    if (alive > amax) plan.target_within_max = false;
  }
  return plan;
}

// Solves with the SLA as a hard constraint first (small fronts, exact); only when no
// schedule meets it everywhere, again with violations allowed (lexicographic objective).
OraclePlan solve(const sim::Scenario& s, const sim::Workload& w, const OracleOptions& options,
                 bool round_up) {
  bool infeasible = false;
  OraclePlan plan = solve(s, w, options, round_up, /*allow_violations=*/false, &infeasible);
  if (!infeasible) return plan;
  return solve(s, w, options, round_up, /*allow_violations=*/true, &infeasible);
}

}  // namespace

OracleOptions read_oracle_options(core::ParamTable& params) {
  OracleOptions options;
  options.max_labels = params.get_int("max_labels", options.max_labels, 2, 1'000'000);
  options.choose_tier = params.get_bool("choose_tier", options.choose_tier);
  options.choose_codec = params.get_bool("choose_codec", options.choose_codec);
  options.backlog_quantum = params.get_double("backlog_quantum", options.backlog_quantum, 0, 1);
  options.max_memory_mb =
      params.get_double("max_memory_mb", options.max_memory_mb, 1, 1024.0 * 1024.0);
  options.lower_bound = false;  // a policy only needs the plan
  return options;
}

OraclePolicy::OraclePolicy(const PolicyEnv& env, core::ParamTable& params,
                           const sim::Scenario& scenario, const sim::Workload* workload)
    : env_(env) {
  const OracleOptions options = read_oracle_options(params);
  if (workload != nullptr && params.finish().ok()) {
    auto plan = plan_oracle(scenario, *workload, options);
    if (plan.ok()) {
      plan_ = std::move(*plan);
    } else {
      status_ = plan.error();
    }
  }
}

core::Decision OraclePolicy::decide(const core::Observation& obs) {
  const auto t = static_cast<std::size_t>(obs.step);
  if (t >= plan_.target.size()) {
    return core::Decision{obs.total_executors(), obs.tier, obs.compression, "oracle: no plan"};
  }
  return core::Decision{clamp_executors(plan_.target[t], env_), plan_.tier[t], plan_.codec[t],
                        "oracle: clairvoyant plan"};
}

}  // namespace prescale::policy

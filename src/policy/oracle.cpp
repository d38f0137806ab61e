#include "policy/oracle.h"

#include <algorithm>
#include <cstdint>

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

bool dominates(const Label& a, const Label& b) {
  return a.violations <= b.violations && a.cost <= b.cost + 1e-12 && a.backlog <= b.backlog + 1e-9;
}

// Lexicographic order of the objective: violations, then cost.
bool better(const Label& a, const Label& b) {
  if (a.violations != b.violations) return a.violations < b.violations;
  return a.cost < b.cost;
}

// Inserts `l` into a Pareto front; returns false if it was dominated.
bool insert(std::vector<Label>& front, const Label& l) {
  for (const Label& x : front) {
    if (dominates(x, l)) return false;
  }
  std::erase_if(front, [&](const Label& x) { return dominates(l, x); });
  front.push_back(l);
  return true;
}

}  // namespace

OraclePlan plan_oracle(const sim::Scenario& s, const sim::Workload& w,
                       const OracleOptions& options) {
  const sim::StepModel model(s);
  const int n = w.steps();
  const int d = s.cold_start_steps();
  const int amin = s.cluster.min_executors;
  const int amax = s.cluster.max_executors;
  const int na = amax - amin + 1;
  const double price = model.executor_step_cost();

  std::vector<std::uint8_t> opts;
  for (int ti = 0; ti < core::kNumTiers; ++ti) {
    if (!options.choose_tier && ti != static_cast<int>(s.default_tier)) continue;
    for (int ci = 0; ci < core::kNumCompressions; ++ci) {
      if (!options.choose_codec && ci != 0) continue;
      opts.push_back(static_cast<std::uint8_t>(ti * core::kNumCompressions + ci));
    }
  }

  OraclePlan plan;
  // labels[t] holds all labels of step t; fronts are built per active count then flattened.
  std::vector<std::vector<Label>> labels(n);
  std::vector<std::vector<Label>> fronts(na);
  std::vector<Label> prev;  // labels of step t-1 (flattened)
  // Virtual step -1: the initial warm executors, no backlog.
  prev.push_back(Label{0, 0, -1, 0, static_cast<std::int16_t>(s.cluster.initial_executors), 0});

  for (int t = 0; t < n; ++t) {
    for (auto& f : fronts) f.clear();
    const double lambda = w.arrivals_rps[t];
    for (int a = amin; a <= amax; ++a) {
      auto& front = fronts[a - amin];
      for (std::int32_t pi = 0; pi < static_cast<std::int32_t>(prev.size()); ++pi) {
        const Label& p = prev[pi];
        const int inc = std::max(0, a - p.active);
        if (inc > 0 && t < d) continue;  // nothing requested before t = 0 can serve yet
        const double exec_cost = price * (a + static_cast<double>(d) * inc);
        for (std::uint8_t o : opts) {
          const auto tier = static_cast<core::Tier>(o / core::kNumCompressions);
          const auto codec = static_cast<core::Compression>(o % core::kNumCompressions);
          const sim::StepOutcome out = model.run(lambda, p.backlog, a, tier, codec);
          Label l{p.cost + exec_cost + out.tier_cost,
                  out.backlog_out,
                  pi,
                  p.violations + (out.violation ? 1 : 0),
                  static_cast<std::int16_t>(a),
                  o};
          insert(front, l);
        }
      }
      if (static_cast<int>(front.size()) > options.max_labels) {
        std::sort(front.begin(), front.end(), better);
        front.resize(options.max_labels);
        plan.exact = false;
      }
    }
    labels[t].clear();
    for (auto& f : fronts) labels[t].insert(labels[t].end(), f.begin(), f.end());
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

OraclePolicy::OraclePolicy(const PolicyEnv& env, core::ParamTable& params,
                           const sim::Scenario& scenario, const sim::Workload* workload)
    : env_(env) {
  OracleOptions options;
  options.max_labels = params.get_int("max_labels", options.max_labels, 1, 1'000'000);
  options.choose_tier = params.get_bool("choose_tier", options.choose_tier);
  options.choose_codec = params.get_bool("choose_codec", options.choose_codec);
  if (workload != nullptr && params.finish().ok()) {
    plan_ = plan_oracle(scenario, *workload, options);
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

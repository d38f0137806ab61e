#include "rl/env.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace prescale::rl {

double worker_reward(double alpha, bool violation, double latency_ms, double sla_ms,
                     double step_cost, double executor_price_per_step) {
  double lat = 0;
  if (violation) lat = 1.0 + 0.25 * std::min(latency_ms / sla_ms - 1.0, 4.0);
  const double cost = step_cost / (executor_price_per_step * kCostRefExecutors);
  return -(alpha * lat + (1.0 - alpha) * cost);
}

double draw_alpha(sim::Rng& rng) { return rng.uniform(); }

double business_objective(core::BusinessContext context, double cost, int violations, int steps,
                          double step_s) {
  if (steps <= 0) return 0;
  const policy::ContextGoals g = policy::context_goals(context);
  const double hours = steps * step_s / 3600.0;
  const double budget = g.budget_per_hour * hours;
  const double viol_minutes = violations * step_s / 60.0;
  return -(cost + viol_minutes * g.violation_minute_price) / budget;
}

core::Result<WorldFactory> WorldFactory::create(TrafficMix mix) {
  WorldFactory f;
  f.mix_ = std::move(mix);
  for (const auto& file : f.mix_.trace_files) {
    sim::Scenario s = f.mix_.base;
    s.source = sim::WorkloadSource::kTrace;
    s.trace.file = file;
    s.steps = f.mix_.base.steps;
    auto g = sim::WorkloadGenerator::create(s);
    if (!g.ok()) {
      // Some NAB files repeat timestamps (DST); the strict parser rejects them. Training
      // goes on without that trace and says so.
      std::fprintf(stderr, "training: skipping trace: %s\n", g.error().message.c_str());
      continue;
    }
    if (g->steps() < s.steps) continue;  // too short for a window
    f.traces_.push_back(std::make_shared<sim::WorkloadGenerator>(std::move(*g)));
    f.trace_scenarios_.push_back(std::move(s));
  }
  return f;
}

void WorldFactory::make(std::uint64_t episode, World* w) const {
  const std::uint64_t seed = kTrainSeedBase + episode;
  sim::Rng rng(sim::derive_seed(seed, 7001));
  const double u = rng.uniform();
  if (!traces_.empty() && u < mix_.trace_fraction) {
    const size_t k =
        static_cast<size_t>(rng.uniform() * static_cast<double>(traces_.size())) % traces_.size();
    w->scenario = trace_scenarios_[k];
    w->workload = traces_[k]->generate(seed);
  } else {
    w->scenario = mix_.base;
    w->scenario.source = sim::WorkloadSource::kSynthetic;
    if (rng.uniform() >= mix_.seed_fraction) {
      auto& syn = w->scenario.synthetic;
      syn.base_rps = rng.uniform(60'000, 400'000);
      const double max_factor = std::min(8.0, 1.3e6 / syn.base_rps);
      syn.burst_factor = rng.uniform(1.5, std::max(1.6, max_factor));
      syn.bursts = static_cast<int>(rng.uniform() * 9);  // 0..8
      syn.burst_min_s = rng.uniform(20, 150);
      syn.burst_max_s = syn.burst_min_s * rng.uniform(1.0, 3.0);
      syn.burst_ramp_s = rng.uniform(5, 60);
      // Cycles from slow to a whole "day" in a few minutes: a replayed 30-minute trace
      // (nyc_taxi) rises 7x in two cold starts.
      syn.cycle_amplitude = rng.uniform(0, 0.9);
      syn.cycle_period_s = 200.0 * std::pow(27.0, rng.uniform());  // 200 s .. 5400 s, log-uniform
      syn.noise_sigma = rng.uniform(0.03, 0.2);
    }
    auto g = sim::WorkloadGenerator::create(w->scenario);
    w->workload = g.ok() ? g->generate(seed) : sim::Workload{};
  }
  w->sim = std::make_unique<sim::Simulator>(w->scenario, w->workload);
}

WorkerEnv::WorkerEnv(const WorldFactory& factory, policy::RlVariant variant, int n,
                     std::uint64_t seed, std::uint64_t first_episode)
    : factory_(factory),
      variant_(variant),
      rng_(sim::derive_seed(seed, 9001)),
      next_episode_(first_episode) {
  obs_.assign(static_cast<size_t>(n) * policy::kNumWorkerFeatures, 0.0f);
  for (int i = 0; i < n; ++i) {
    slots_.push_back(std::make_unique<Slot>(
        Slot{World{}, policy::PolicyEnv{}, policy::WorkerFeatures(policy::PolicyEnv{}, false)}));
    start(*slots_.back());
    observe(i);
  }
}

void WorkerEnv::start(Slot& s) {
  factory_.make(next_episode_++, &s.world);
  s.world.sim->reset();
  s.world.sim->record_timeline(&s.world.last);
  s.env = policy::env_from(s.world.scenario);
  s.features = policy::WorkerFeatures(s.env, policy::variant_uses_edge(variant_));
  s.alpha = draw_alpha(rng_);
  s.ret = s.alpha_sum = 0;
  s.steps = 0;
}

void WorkerEnv::observe(int i) {
  Slot& s = *slots_[static_cast<size_t>(i)];
  s.features.build(s.world.sim->observation(), s.alpha,
                   obs_.data() + static_cast<size_t>(i) * policy::kNumWorkerFeatures);
}

void WorkerEnv::step(const int* actions, float* rewards, unsigned char* dones) {
  for (int i = 0; i < n(); ++i) {
    Slot& s = *slots_[static_cast<size_t>(i)];
    const core::Observation& obs = s.world.sim->observation();
    policy::WorkerAction a{actions[i * 3], actions[i * 3 + 1], actions[i * 3 + 2]};
    s.world.sim->step(policy::worker_decision(a, obs, s.env, variant_));
    const sim::StepRecord& r = s.world.last.back();
    const double reward =
        worker_reward(s.alpha, r.violation, r.latency_ms, s.world.scenario.latency.sla_ms, r.cost,
                      s.world.scenario.executor_price_per_step());
    s.world.last.clear();
    rewards[i] = static_cast<float>(reward);
    s.ret += reward;
    s.alpha_sum += s.alpha;
    ++s.steps;
    dones[i] = s.world.sim->done() ? 1 : 0;
    if (dones[i]) {
      const sim::RunMetrics& m = s.world.sim->metrics();
      finished_.push_back({s.ret, m.violation_pct, m.cost, s.alpha_sum / std::max(1, s.steps)});
      start(s);
    } else if (s.steps % policy::kManagerPeriod == 0) {
      s.alpha = draw_alpha(rng_);
    }
    observe(i);
  }
}

std::vector<EpisodeStats> WorkerEnv::take_finished() {
  std::vector<EpisodeStats> out;
  out.swap(finished_);
  return out;
}

}  // namespace prescale::rl

#include "rl/env.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "arena/traces.h"
#include "sim/trace.h"
#include "sim/traffic.h"

namespace prescale::rl {

double worker_reward(double alpha, bool violation, double latency_ms, double sla_ms,
                     double step_cost, double executor_price_per_step, double cost_ref) {
  double lat = 0;
  if (violation) lat = 1.0 + 0.25 * std::min(latency_ms / sla_ms - 1.0, 4.0);
  const double cost = step_cost / (executor_price_per_step * cost_ref);
  return -(alpha * lat + (1.0 - alpha) * cost);
}

double draw_alpha(sim::Rng& rng) { return rng.uniform(); }

double worker_cost_ref(CostScale scale, const sim::Scenario& scenario,
                       const sim::Workload& workload) {
  if (scale == CostScale::kCluster) return cost_ref_executors(scenario.cluster.max_executors);
  double sum = 0;
  for (double r : workload.arrivals_rps) sum += std::max(0.0, r);
  const size_t n = workload.arrivals_rps.size();
  const double mean = n > 0 ? sum / static_cast<double>(n) : 0.0;
  const double need = mean / std::max(scenario.cluster.capacity_rps, 1e-9);
  return std::isfinite(need) ? std::max(1.0, need) : 1.0;
}

double business_objective(core::BusinessContext context, double cost, int violations, int steps,
                          double step_s) {
  if (steps <= 0) return 0;
  const policy::ContextGoals g = policy::context_goals(context);
  const double hours = steps * step_s / 3600.0;
  const double budget = g.budget_per_hour * hours;
  const double viol_minutes = violations * step_s / 60.0;
  return -(cost + viol_minutes * g.violation_minute_price) / budget;
}

namespace {

// Where an episode's traffic comes from (TrafficMix).
enum class Source { kSeed, kTrace, kSynthetic, kFamily };

// Seed streams of WorldFactory::make (the workload generators use theirs from the same seed).
enum MakeStream : std::uint64_t { kSourceDraw = 7001, kClusterDraw = 7002, kPeakDraw = 7003 };

// The randomised synthetic episodes: the ranges used with the seed scenario (base 60k-400k
// records/s, burst peak at most 1.3M) relative to its 1.5M records/s max throughput, so that
// they scale with the cluster's.
constexpr double kSynBaseLo = 0.04, kSynBaseHi = 0.8 / 3.0, kSynPeakHi = 1.3 / 1.5;

size_t pick(sim::Rng& rng, size_t n) {
  return std::min(n - 1, static_cast<size_t>(rng.uniform() * static_cast<double>(n)));
}

// The development traces (arena/traces.h: the 8 NAB ones and azure_llm_2023's) are never
// trained on, whatever directory they are found in.
bool is_development_trace(const std::string& file) {
  const std::string name = std::filesystem::path(file).filename().string();
  const auto& dev = arena::development_trace_names();
  return std::find(dev.begin(), dev.end(), name) != dev.end();
}

}  // namespace

core::Result<WorldFactory> WorldFactory::create(TrafficMix mix) {
  const double shares[] = {mix.seed_fraction, mix.trace_fraction, mix.synthetic_fraction,
                           mix.cluster_fraction};
  for (double x : shares) {
    if (!(x >= 0 && x <= 1))
      return core::Error{"training traffic: every share must lie in [0, 1], got " +
                         std::to_string(x)};
  }
  for (double v : mix.trace_speedups) {
    if (!(v > 0) || !std::isfinite(v))
      return core::Error{"training traffic: a trace speedup must be > 0, got " + std::to_string(v)};
  }
  const sim::ClusterRanges& cr = mix.cluster_ranges;
  if (!(cr.cold_start_min_s >= 0 && cr.cold_start_min_s <= cr.cold_start_max_s) ||
      !(cr.capacity_min_factor > 0 && cr.capacity_min_factor <= cr.capacity_max_factor) ||
      !(cr.max_executors_min >= 1 && cr.max_executors_min <= cr.max_executors_max)) {
    return core::Error{
        "training traffic: cluster ranges must be non-empty (min <= max), with cold start >= 0, "
        "capacity factors > 0 and at least one executor"};
  }
  WorldFactory f;
  f.mix_ = std::move(mix);
  const sim::Scenario& base = f.mix_.base;
  const size_t steps = static_cast<size_t>(std::max(1, base.steps));
  for (const auto& file : f.mix_.trace_files) {
    if (is_development_trace(file)) {
      std::fprintf(stderr, "training: skipping development trace %s\n", file.c_str());
      continue;
    }
    // Some NAB files repeat timestamps (a daylight-saving change): those rows are left out.
    auto trace = sim::load_trace(file, sim::TimeOrder::kDropClockChanges);
    if (!trace.ok()) {
      // Training goes on without a trace that does not load, and says so.
      std::fprintf(stderr, "training: skipping trace: %s\n", trace.error().message.c_str());
      continue;
    }
    Replay r;
    r.file = file;
    for (double speed : f.mix_.trace_speedups) {
      sim::TraceSpec spec = base.trace;
      spec.bucket_s = 0;
      spec.speedup = speed;
      auto series = sim::replay_series(*trace, spec, base.step_s);
      if (!series.ok() || series->size() < steps) continue;  // too long or too short
      r.speedups.push_back(speed);
      r.series.push_back(
          std::make_shared<const std::vector<float>>(series->begin(), series->end()));
    }
    if (r.speedups.empty()) {
      std::fprintf(stderr,
                   "training: skipping trace %s: no window of %zu steps of %g s at any speed\n",
                   file.c_str(), steps, base.step_s);
      continue;
    }
    f.replays_.push_back(std::move(r));
  }
  return f;
}

// The mix (shares of all episodes; docs/rl.md "Training"), with the defaults:
//   20% the base scenario itself (seed: its synthetic traffic and its cluster, unchanged);
//   25% a window of a non-development trace at a speed drawn from trace_speedups;
//   15% the synthetic generator with randomised parameters;
//   40% the traffic families of sim/traffic.h, 10% each.
// Cluster facts are randomised on 50% of all episodes: on 62.5% of the non-seed ones. Trace
// and family episodes draw their peak against the (possibly randomised) cluster's max
// throughput (sim::draw_peak_rps).
void WorldFactory::make(std::uint64_t episode, World* w) const {
  const std::uint64_t seed = kTrainSeedBase + episode;
  const TrafficMix& m = mix_;
  sim::Rng rng(sim::derive_seed(seed, kSourceDraw));
  const double u = rng.uniform();
  Source src = Source::kFamily;
  if (u < m.seed_fraction) {
    src = Source::kSeed;
  } else if (u < m.seed_fraction + m.trace_fraction) {
    src = replays_.empty() ? Source::kFamily : Source::kTrace;
  } else if (u < m.seed_fraction + m.trace_fraction + m.synthetic_fraction) {
    src = Source::kSynthetic;
  }
  w->scenario = m.base;
  sim::Scenario& s = w->scenario;
  if (src != Source::kSeed && m.seed_fraction < 1) {
    sim::Rng crng(sim::derive_seed(seed, kClusterDraw));
    if (crng.uniform() < std::min(1.0, m.cluster_fraction / (1 - m.seed_fraction)))
      sim::randomise_cluster(crng, &s, m.cluster_ranges);
  }
  sim::Rng peak_rng(sim::derive_seed(seed, kPeakDraw));
  switch (src) {
    case Source::kSeed:
    case Source::kSynthetic: {
      s.source = sim::WorkloadSource::kSynthetic;
      if (src == Source::kSynthetic) {
        const double top = sim::max_throughput_rps(s);
        auto& syn = s.synthetic;
        syn.base_rps = rng.uniform(kSynBaseLo, kSynBaseHi) * top;
        const double max_factor = std::min(8.0, kSynPeakHi * top / syn.base_rps);
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
      auto g = sim::WorkloadGenerator::create(s);
      w->workload = g.ok() ? g->generate(seed) : sim::Workload{};
      break;
    }
    case Source::kTrace: {
      const Replay& r = replays_[pick(rng, replays_.size())];
      const size_t j = pick(rng, r.speedups.size());
      s.name = "train:trace";
      s.source = sim::WorkloadSource::kTrace;
      s.trace.file = r.file;
      s.trace.bucket_s = 0;
      s.trace.speedup = r.speedups[j];
      s.trace.peak_rps = sim::draw_peak_rps(s, peak_rng);
      sim::replay_window(*r.series[j], s, s.trace.peak_rps, seed, &w->workload);
      break;
    }
    case Source::kFamily: {
      const auto fam = static_cast<sim::TrafficFamily>(pick(rng, sim::kNumTrafficFamilies));
      // A generated trace: the edge model treats it as it treats a replay.
      s.name = "train:" + std::string(sim::to_string(fam));
      s.source = sim::WorkloadSource::kTrace;
      s.trace.file = "generated:" + std::string(sim::to_string(fam));
      s.trace.peak_rps = sim::draw_peak_rps(s, peak_rng);
      sim::generate_traffic(fam, s, s.trace.peak_rps, seed, &w->workload);
      break;
    }
  }
  if (m.edge) m.edge(&w->workload);
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
    slots_.push_back(std::make_unique<Slot>(Slot{World{}, policy::PolicyEnv{},
                                                 policy::WorkerFeatures(policy::PolicyEnv{}, false),
                                                 std::nullopt}));
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
  s.guard.emplace(s.env, policy::envelope_config(s.world.scenario, policy::variant_name(variant_)));
  s.alpha = draw_alpha(rng_);
  s.cost_ref = worker_cost_ref(factory_.mix().cost_scale, s.world.scenario, s.world.workload);
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
    s.world.sim->step(s.guard->apply(
        obs, policy::worker_decision(a, obs, s.env, variant_, s.features.recent_peak_rps())));
    const sim::StepRecord& r = s.world.last.back();
    const double reward =
        worker_reward(s.alpha, r.violation, r.latency_ms, s.world.scenario.latency.sla_ms, r.cost,
                      s.world.scenario.executor_price_per_step(), s.cost_ref);
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

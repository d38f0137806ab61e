// The training worlds: vectors of arena simulators that the PPO worker and the TD3 manager
// learn in. No libtorch here: environments see actions as integers and floats.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "policy/registry.h"
#include "policy/rl_policy.h"
#include "sim/rng.h"
#include "sim/scenario.h"
#include "sim/simulator.h"
#include "sim/traffic.h"
#include "sim/workload.h"

namespace prescale::rl {

// Seeds: training episodes draw workload seeds from kTrainSeedBase up; the tournament's
// evaluation seeds (scenario.base_seed + k, k < 1000) are never used in training.
inline constexpr std::uint64_t kTrainSeedBase = 1'000'000;

// The unit of the worker's cost term (docs/rl.md "Reward"):
//   kCluster  half the cluster's maximum (cost_ref_executors): an executor of headroom costs
//             the same on a load that needs 2 executors as on one that needs 15;
//   kLoad     the executors the episode's mean load needs at full capacity (at least 1): an
//             executor of headroom costs what it adds to the bill relative to the load, as a
//             user comparing bills sees it, on any cluster and any load.
enum class CostScale { kCluster, kLoad };

// Where training traffic comes from (docs/rl.md "Training"). Each episode draws one source;
// the shares are of all episodes, taken in the order below (a share larger than what the
// earlier ones leave gets only that: seed_fraction = 1 means the base scenario only), and
// the traffic families of sim/traffic.h (on/off, diurnal, steps, spikes, evenly) get the
// rest. Trace episodes fall to the families when no trace file is usable.
struct TrafficMix {
  sim::Scenario base;                    // the scenario being trained for (seed)
  std::vector<std::string> trace_files;  // real traces mixed in (never the development set)
  double seed_fraction = 0.20;           // the base scenario itself, unchanged
  double trace_fraction = 0.25;          // windows of trace_files replayed at a random speed
  double synthetic_fraction = 0.15;      // the synthetic generator with randomised parameters
  // Share of all episodes with randomised cluster facts (sim::randomise_cluster). Never the
  // seed-scenario episodes: the others are randomised with probability
  // cluster_fraction / (1 - seed_fraction), capped at 1.
  double cluster_fraction = 0.5;
  sim::ClusterRanges cluster_ranges;  // what randomise_cluster draws (the documented defaults)
  // Replay speeds (trace seconds per simulated second, sim::TraceSpec::speedup) resampled
  // once per file in WorldFactory::create; an episode picks one of a file's speeds at
  // random (log-spaced, so about log-uniform in [1, 60]).
  std::vector<double> trace_speedups = {1, 3, 10, 30, 60};
  // The edge signal of every episode (signal, forecast_rps, confidence), e.g. the global
  // forecaster (`prescale train --edge forecast`): the worker learns from the signal it is
  // deployed with, false alarms and misses included. Empty: the workload's own signal (the
  // simulator's synthetic model, which reads the future).
  std::function<void(sim::Workload*)> edge;
  // What one unit of the worker's cost term is (worker_cost_ref).
  CostScale cost_scale = CostScale::kCluster;
};

// Scale of the worker's cost term: cost / (cost_ref_executors(max) executors' price per
// step), half the cluster's maximum (10 on the seed's 20), so the latency/cost balance at a
// given alpha is the same on a cluster of 8 executors and on one of 60.
inline constexpr double kCostRefExecutors = 10;
inline double cost_ref_executors(int max_executors) {
  return max_executors > 2 ? 0.5 * max_executors : 1.0;
}

double worker_cost_ref(CostScale scale, const sim::Scenario& scenario,
                       const sim::Workload& workload);

// The worker's reward for one step: -(alpha * latency_penalty + (1 - alpha) * cost_term).
// latency_penalty = violation + 0.25 * min(latency / SLA - 1, 4) when violated.
double worker_reward(double alpha, bool violation, double latency_ms, double sla_ms,
                     double step_cost, double executor_price_per_step,
                     double cost_ref = kCostRefExecutors);

// One episode's world: scenario, workload, simulator (stable addresses).
struct World {
  sim::Scenario scenario;
  sim::Workload workload;
  std::unique_ptr<sim::Simulator> sim;
  std::vector<sim::StepRecord> last;  // the last step's record
};

// Builds worlds for episodes, deterministic in the episode number. Episodes keep the base
// scenario's steps and step_s. Thread-safe after create() (make() only reads).
class WorldFactory {
 public:
  // Loads and resamples every trace file at every speed once. Files that fail to parse
  // (some NAB files repeat a timestamp at a DST change), development traces and files
  // shorter than one episode at every speed are skipped with a message on stderr; a speed
  // at which a file is shorter than one episode is dropped for that file.
  // Errors: a share outside [0, 1], a speed not > 0, an empty or invalid cluster range.
  static core::Result<WorldFactory> create(TrafficMix mix);
  void make(std::uint64_t episode, World* w) const;
  const TrafficMix& mix() const { return mix_; }

  // What the trace episodes can replay: per usable file, the speeds kept.
  struct Replay {
    std::string file;
    std::vector<double> speedups;
    std::vector<std::shared_ptr<const std::vector<float>>> series;  // per speed, unscaled
  };
  const std::vector<Replay>& replays() const { return replays_; }

 private:
  TrafficMix mix_;
  std::vector<Replay> replays_;
};

struct EpisodeStats {
  double ret = 0;
  double violation_pct = 0;
  double cost = 0;
  double alpha = 0;  // mean
};

// The worker's alpha during training: uniform on [0, 1]. (An arcsine draw, giving the ends
// more practice, was tried: its worker violated more at every alpha; see docs/rl.md.)
double draw_alpha(sim::Rng& rng);

// n worlds stepping in lockstep for the PPO worker; alpha is redrawn every kManagerPeriod
// steps (the manager changes it at that period in deployment).
class WorkerEnv {
 public:
  WorkerEnv(const WorldFactory& factory, policy::RlVariant variant, int n, std::uint64_t seed,
            std::uint64_t first_episode);

  int n() const { return static_cast<int>(slots_.size()); }
  const float* obs() const { return obs_.data(); }  // n x kNumWorkerFeatures
  // actions: n x 3 (level, tier, codec). Finished episodes restart with a new world.
  void step(const int* actions, float* rewards, unsigned char* dones);
  std::vector<EpisodeStats> take_finished();
  std::uint64_t next_episode() const { return next_episode_; }

 private:
  struct Slot {
    World world;
    policy::PolicyEnv env;  // of this episode's scenario (set by start())
    policy::WorkerFeatures features;
    // The safety envelope the worker is trained inside (as it is deployed: registry.cpp), so
    // it learns what is left to decide: when to pre-scale, how much headroom, which tier.
    std::optional<policy::Envelope> guard;
    double alpha = 0.5;
    double cost_ref = kCostRefExecutors;  // worker_cost_ref of this episode
    double ret = 0, alpha_sum = 0;
    int steps = 0;
  };
  void start(Slot& s);
  void observe(int i);

  const WorldFactory& factory_;
  policy::RlVariant variant_;
  sim::Rng rng_;
  std::uint64_t next_episode_;
  std::vector<std::unique_ptr<Slot>> slots_;
  std::vector<float> obs_;
  std::vector<EpisodeStats> finished_;
};

// The manager's business objective for one window of steps under a context: what the
// window cost the business, in units of the context's budget for that time:
// -(cost + violation minutes x the context's price of a violation minute) / budget.
double business_objective(core::BusinessContext context, double cost, int violations, int steps,
                          double step_s);

// Runs one episode of the hierarchical controller: the manager picks alpha every
// kManagerPeriod steps via `choose` (features -> alpha), the worker model acts greedily.
// Calls `window` after each window with (features before, alpha, objective, features
// after, last window?). Returns the episode's metrics.
struct ManagerWindow {
  std::vector<float> state, next_state;
  double alpha = 0, objective = 0;
  bool last = false;
};
template <class Choose, class OnWindow>
sim::RunMetrics run_hierarchical(World& world, const policy::Model& worker,
                                 core::BusinessContext context, Choose&& choose,
                                 OnWindow&& on_window);

}  // namespace prescale::rl

#include "rl/env_inl.h"

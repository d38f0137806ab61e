// PPO (Schulman et al. 2017) for a factored categorical action (one softmax head per
// action component): clipped surrogate, GAE(lambda), value loss, entropy bonus, several
// epochs of shuffled minibatches per rollout, running observation normalisation.
// libtorch stays inside ppo.cpp; this header is light.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/result.h"
#include "policy/rl_model.h"
#include "rl/gae.h"
#include "sim/rng.h"

namespace prescale::rl {

struct PpoConfig {
  int obs_dim = 0;
  std::vector<int> heads;  // categorical head sizes
  int hidden = 64;
  double lr = 3e-4;
  double clip = 0.2;
  double gamma = 0.99;
  double lambda = 0.95;
  double value_coef = 0.5;
  double entropy_coef = 0.003;
  int epochs = 4;
  int minibatch = 1024;
  double max_grad_norm = 0.5;
  std::uint64_t seed = 1;
};

// One rollout, flattened over environments and time; obs are raw (unnormalised).
struct PpoBatch {
  int n = 0;
  std::vector<float> obs;    // n x obs_dim, normalised at collection time
  std::vector<int> actions;  // n x heads
  std::vector<float> logp;   // n
  std::vector<float> adv;    // n
  std::vector<float> ret;    // n
};

struct PpoStats {
  double policy_loss = 0, value_loss = 0, entropy = 0, approx_kl = 0, clip_frac = 0;
};

class Ppo {
 public:
  explicit Ppo(const PpoConfig& config);
  ~Ppo();
  Ppo(const Ppo&) = delete;
  Ppo& operator=(const Ppo&) = delete;

  const PpoConfig& config() const { return cfg_; }
  RunningNorm& normalizer() { return norm_; }
  // Running statistics of the discounted return, for reward scaling: rewards are divided by
  // the return's standard deviation so that value targets stay O(1) whatever the units.
  RunningNorm& return_normalizer() { return ret_norm_; }

  // For n raw observations: normalised copies (into norm_obs), actions (n x heads, sampled
  // with rng or greedy), their joint log-probabilities and the state values.
  void act(const float* raw_obs, int n, sim::Rng& rng, bool greedy, float* norm_obs, int* actions,
           float* logp, float* values);
  // State values of raw observations.
  void values(const float* raw_obs, int n, float* out);

  PpoStats update(const PpoBatch& batch, sim::Rng& rng);

  // Adam's step size from now on (the trainer anneals it linearly over the run).
  void set_learning_rate(double lr);

  // The actor as a shipped model (normalisation folded into obs_mean/obs_std).
  policy::Model export_actor(const std::string& variant, const std::vector<std::string>& features,
                             const std::string& training_json) const;

  // Full training state (networks, optimiser, normaliser) for resuming.
  core::Status save_checkpoint(const std::string& path) const;
  core::Status load_checkpoint(const std::string& path);

 private:
  struct Impl;
  PpoConfig cfg_;
  RunningNorm norm_;
  RunningNorm ret_norm_{1};
  std::unique_ptr<Impl> impl_;
};

}  // namespace prescale::rl

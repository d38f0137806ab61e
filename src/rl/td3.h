// TD3 (Fujimoto et al. 2018): deterministic actor with tanh output in [-1, 1]^act_dim, twin
// critics (the target takes their minimum), target-policy smoothing (clipped Gaussian noise
// on the target action), delayed actor and target updates, soft (Polyak) target updates.
// libtorch stays inside td3.cpp.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/result.h"
#include "policy/rl_model.h"
#include "rl/replay_buffer.h"
#include "sim/rng.h"

namespace prescale::rl {

struct Td3Config {
  int obs_dim = 0;
  int act_dim = 1;
  int hidden = 64;
  double actor_lr = 1e-3;
  double critic_lr = 1e-3;
  double gamma = 0.9;
  double tau = 0.005;
  double policy_noise = 0.2;  // std of the target-policy smoothing noise
  double noise_clip = 0.5;
  int policy_delay = 2;  // critic updates per actor (and target) update
  int batch = 128;
  std::uint64_t seed = 1;
};

struct Td3Stats {
  double critic_loss = 0;
  double actor_loss = 0;  // of the last actor update
  bool actor_updated = false;
};

class Td3 {
 public:
  explicit Td3(const Td3Config& config);
  ~Td3();
  Td3(const Td3&) = delete;
  Td3& operator=(const Td3&) = delete;

  const Td3Config& config() const { return cfg_; }

  // Deterministic action for one state, in [-1, 1]^act_dim.
  void act(const float* s, float* a) const;
  // min(Q1, Q2) of one state-action pair.
  float q(const float* s, const float* a) const;

  // One gradient step of the critics (and every policy_delay-th, of the actor and targets).
  Td3Stats update(const ReplayBuffer& buffer, sim::Rng& rng);

  // Regresses the actor onto argmax_a min(Q1, Q2)(s, a) over a grid of `grid` actions per
  // dimension (act_dim 1 only), for `steps` minibatches of buffer states; then copies it to
  // its target. The deterministic policy gradient only climbs the critic locally; when the
  // objective over actions has several peaks (it does for the manager: the worker's
  // response to alpha is not monotone) one global step after the warm-up puts the actor on
  // the right one, and TD3 refines from there.
  void fit_actor_to_critic(const ReplayBuffer& buffer, sim::Rng& rng, int steps, int grid);

  // target <- tau * online + (1 - tau) * target, for every network pair.
  void soft_update(double tau);
  // Flattened parameters: "actor", "actor_target", "critic1", "critic1_target", "critic2", ...
  std::vector<float> parameters(const std::string& which) const;

  policy::Model export_actor(const std::vector<std::string>& features,
                             const std::string& training_json) const;
  core::Status save_checkpoint(const std::string& path) const;
  core::Status load_checkpoint(const std::string& path);

 private:
  struct Impl;
  Td3Config cfg_;
  std::unique_ptr<Impl> impl_;
  std::int64_t updates_ = 0;
};

}  // namespace prescale::rl

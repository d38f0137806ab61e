// TD3's experience replay: a fixed-capacity ring of (s, a, r, s', done) transitions,
// sampled uniformly with a seeded generator.
#pragma once

#include <cstdint>
#include <vector>

#include "sim/rng.h"

namespace prescale::rl {

class ReplayBuffer {
 public:
  ReplayBuffer(int capacity, int obs_dim, int act_dim);

  int size() const { return size_; }
  int capacity() const { return capacity_; }
  int obs_dim() const { return obs_dim_; }
  int act_dim() const { return act_dim_; }

  // Adds one transition, overwriting the oldest when full.
  void add(const float* s, const float* a, float r, const float* s2, bool done);

  // Fills n sampled transitions (with replacement) into the output arrays, row-major.
  void sample(int n, sim::Rng& rng, std::vector<float>* s, std::vector<float>* a,
              std::vector<float>* r, std::vector<float>* s2, std::vector<float>* done) const;

  // Row i (0 = oldest still held), for tests and checkpoints.
  float reward(int i) const { return r_[static_cast<size_t>(index(i))]; }
  const float* state(int i) const { return &s_[static_cast<size_t>(index(i)) * obs_dim_]; }

 private:
  int index(int i) const { return (head_ - size_ + i + capacity_) % capacity_; }
  int capacity_, obs_dim_, act_dim_;
  int head_ = 0, size_ = 0;
  std::vector<float> s_, a_, r_, s2_, d_;
};

}  // namespace prescale::rl

#include "rl/replay_buffer.h"

#include <algorithm>

namespace prescale::rl {

ReplayBuffer::ReplayBuffer(int capacity, int obs_dim, int act_dim)
    : capacity_(std::max(1, capacity)),
      obs_dim_(obs_dim),
      act_dim_(act_dim),
      s_(static_cast<size_t>(capacity_) * obs_dim),
      a_(static_cast<size_t>(capacity_) * act_dim),
      r_(static_cast<size_t>(capacity_)),
      s2_(static_cast<size_t>(capacity_) * obs_dim),
      d_(static_cast<size_t>(capacity_)) {}

void ReplayBuffer::add(const float* s, const float* a, float r, const float* s2, bool done) {
  const size_t h = static_cast<size_t>(head_);
  std::copy(s, s + obs_dim_, s_.begin() + static_cast<long>(h * obs_dim_));
  std::copy(a, a + act_dim_, a_.begin() + static_cast<long>(h * act_dim_));
  r_[h] = r;
  std::copy(s2, s2 + obs_dim_, s2_.begin() + static_cast<long>(h * obs_dim_));
  d_[h] = done ? 1.0f : 0.0f;
  head_ = (head_ + 1) % capacity_;
  size_ = std::min(size_ + 1, capacity_);
}

void ReplayBuffer::sample(int n, sim::Rng& rng, std::vector<float>* s, std::vector<float>* a,
                          std::vector<float>* r, std::vector<float>* s2,
                          std::vector<float>* done) const {
  s->resize(static_cast<size_t>(n) * obs_dim_);
  a->resize(static_cast<size_t>(n) * act_dim_);
  r->resize(static_cast<size_t>(n));
  s2->resize(static_cast<size_t>(n) * obs_dim_);
  done->resize(static_cast<size_t>(n));
  for (int k = 0; k < n; ++k) {
    const int i = index(static_cast<int>(rng.uniform() * size_) % std::max(1, size_));
    const size_t ii = static_cast<size_t>(i), kk = static_cast<size_t>(k);
    std::copy_n(s_.begin() + static_cast<long>(ii * obs_dim_), obs_dim_,
                s->begin() + static_cast<long>(kk * obs_dim_));
    std::copy_n(a_.begin() + static_cast<long>(ii * act_dim_), act_dim_,
                a->begin() + static_cast<long>(kk * act_dim_));
    (*r)[kk] = r_[ii];
    std::copy_n(s2_.begin() + static_cast<long>(ii * obs_dim_), obs_dim_,
                s2->begin() + static_cast<long>(kk * obs_dim_));
    (*done)[kk] = d_[ii];
  }
}

}  // namespace prescale::rl

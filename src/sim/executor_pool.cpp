#include "sim/executor_pool.h"

#include <algorithm>

namespace prescale::sim {

ExecutorPool::ExecutorPool(int cold_start_steps, int initial_active)
    : d_(std::max(0, cold_start_steps)), ring_(d_ + 1, 0) {
  reset(initial_active);
}

void ExecutorPool::reset(int initial_active) {
  std::fill(ring_.begin(), ring_.end(), 0);
  active_ = initial_active;
  pending_ = 0;
  promoted_through_ = -1;
}

void ExecutorPool::promote(std::int64_t t) {
  // Every pending executor has ready step in (promoted_through_, promoted_through_ + D].
  for (std::int64_t s = promoted_through_ + 1; s <= t; ++s) {
    int& n = ring_[slot(s)];
    active_ += n;
    pending_ -= n;
    n = 0;
    if (pending_ == 0) break;  // nothing else can be waiting
  }
  promoted_through_ = t;
}

void ExecutorPool::set_target(int target, std::int64_t t) {
  target = std::max(0, target);
  int delta = target - total();
  if (delta > 0 && d_ == 0) {
    active_ += delta;
    return;
  }
  if (delta > 0) {
    ring_[slot(t + d_)] += delta;
    pending_ += delta;
    return;
  }
  // Remove the youngest first: pending with the latest ready step, then serving ones.
  for (std::int64_t s = t + d_; s > t && delta < 0 && pending_ > 0; --s) {
    int& n = ring_[slot(s)];
    const int take = std::min(n, -delta);
    n -= take;
    pending_ -= take;
    delta += take;
  }
  if (delta < 0) active_ = std::max(0, active_ + delta);
}

}  // namespace prescale::sim

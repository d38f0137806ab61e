// Executors of a serverless Spark application: requested executors are billed at once
// and serve only after the cold start; removal is immediate and takes the youngest
// first (pending before serving), which is what a requestTotalExecutors(target) /
// killExecutors pair does when the driver kills idle or unlaunched executors first.
#pragma once

#include <cstdint>
#include <vector>

namespace prescale::sim {

class ExecutorPool {
 public:
  // cold_start_steps: a request made at the start of step t serves from step t + D.
  ExecutorPool(int cold_start_steps, int initial_active);

  void reset(int initial_active);

  // At the start of step t: promote(t) (cold starts that ended), then set_target(target, t).
  void promote(std::int64_t t);
  void set_target(int target, std::int64_t t);

  int active() const { return active_; }
  int pending() const { return pending_; }
  int total() const { return active_ + pending_; }
  int cold_start_steps() const { return d_; }

 private:
  int slot(std::int64_t ready_step) const {
    return static_cast<int>(ready_step % static_cast<std::int64_t>(ring_.size()));
  }

  int d_;
  std::vector<int> ring_;  // pending executors by ready step (mod D + 1)
  int active_ = 0;
  int pending_ = 0;
  std::int64_t promoted_through_ = -1;  // last step whose arrivals were promoted
};

}  // namespace prescale::sim

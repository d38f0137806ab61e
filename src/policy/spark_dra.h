// spark-dra: Spark core dynamic allocation (ExecutorAllocationManager) applied to a
// Structured Streaming job.
//
// Source: apache/spark
//   core/src/main/scala/org/apache/spark/ExecutorAllocationManager.scala
//       (updateAndSyncNumExecutorsTarget, addExecutors, removeExecutors,
//        maxNumExecutorsNeeded, onSchedulerBacklogged / onSchedulerQueueEmpty)
//   core/src/main/scala/org/apache/spark/internal/config/package.scala (defaults)
//   docs/job-scheduling.md ("Resource Allocation Policy")
//
// SPARK-24815 ("Structured Streaming should support dynamic allocation") documents why
// this is a poor fit: core dynamic allocation reasons about pending tasks and idle
// executors, but every micro-batch spreads its tasks over all executors, so executors are
// rarely idle for the idle timeout and the allocation only ratchets up. The proposal to
// port the batch-duration policy (see batch_ratio.h) was never merged. It is here because
// it is what a Spark user gets by setting spark.dynamicAllocation.enabled=true.
//
// Modelling of the scheduler events from one observation (which covers [t - step, t]):
//   * Tasks are pending ("the scheduler is backlogged") when the micro-batch cannot keep
//     up: obs.backlog_records > 0 || obs.batch_duration_ms > obs.trigger_ms. The backlog
//     is taken to start at the beginning of the observed step.
//   * Add rounds: the first at backlog start + schedulerBacklogTimeout, then one every
//     sustainedSchedulerBacklogTimeout while the backlog lasts; all rounds falling in
//     the observed step are applied now. Each round raises the target by numExecutorsToAdd
//     (1, 2, 4, ... doubling while each round's full request is granted), capped at
//     maxNumExecutorsNeeded = ceil(tasks_per_batch * executorAllocationRatio /
//     cores_per_executor) (spark.task.cpus = 1; all of a batch's tasks are pending or
//     running while it is backlogged). When the backlog clears, numExecutorsToAdd resets
//     to 1.
//   * Removal: an executor idle for executorIdleTimeout is killed (never below
//     minExecutors). A batch's tasks_per_batch tasks go to ceil(tasks_per_batch / cores)
//     executors' worth of slots, so max(0, active - ceil(tasks_per_batch / cores))
//     executors get no task (all of them when obs.input_rps == 0: no batches run). An
//     executor counts as idle for the timeout when that many executors were idle in every
//     observation of the last executorIdleTimeout seconds.
//   * Simplification: when the backlog clears, Spark also lowers its target to the tasks
//     still running and cancels surplus pending executor requests; here pending executors
//     are kept and are subject to the idle rule once they serve.
//
// Parameters (Spark defaults):
//   scheduler_backlog_timeout_s            1   spark.dynamicAllocation.schedulerBacklogTimeout
//   sustained_scheduler_backlog_timeout_s  = scheduler_backlog_timeout_s
//                                              spark.dynamicAllocation.sustainedSchedulerBacklogTimeout
//   executor_idle_timeout_s               60   spark.dynamicAllocation.executorIdleTimeout
//   executor_allocation_ratio            1.0   spark.dynamicAllocation.executorAllocationRatio
//   tier                  env.default_tier
// Initial, min and max executors come from the environment (initialExecutors is the
// executor count at the first decision).
#pragma once

#include <string_view>
#include <vector>

#include "core/params.h"
#include "core/types.h"
#include "policy/policy.h"

namespace prescale::policy {

class SparkDraPolicy final : public Policy {
 public:
  SparkDraPolicy(const PolicyEnv& env, core::ParamTable& params);

  std::string_view name() const override { return "spark-dra"; }
  void reset() override;
  core::Decision decide(const core::Observation& obs) override;

 private:
  // One run of updateAndSyncNumExecutorsTarget's add branch (addExecutors).
  void add_round(int max_needed, int registered);
  // Kills executors idle for the timeout; returns how many.
  int remove_idle(const core::Observation& obs);

  PolicyEnv env_;
  double backlog_timeout_s_;
  double sustained_backlog_timeout_s_;
  double idle_timeout_s_;
  double allocation_ratio_;
  core::Tier tier_;

  bool started_ = false;
  int target_ = 0;             // numExecutorsTarget (serving + pending)
  int to_add_ = 1;             // numExecutorsToAdd
  bool add_time_set_ = false;  // addTime != NOT_SET
  double add_time_s_ = 0;
  std::vector<int> idle_;  // ring buffer: idle executors per observation
  int idle_head_ = 0;
  int idle_count_ = 0;
  const char* reason_ = "";
};

}  // namespace prescale::policy

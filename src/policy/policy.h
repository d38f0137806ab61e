// The policy interface: a pure, deterministic controller from an observation history to
// a decision. The simulator (src/sim via src/arena) and the live controller drive the
// same objects.
#pragma once

#include <array>
#include <memory>
#include <string>
#include <string_view>

#include "core/types.h"

namespace prescale::core {
class ParamTable;
}

namespace prescale::policy {

// Static facts about the cluster a policy controls. Everything a real autoscaler would
// know from its own configuration (bounds, periods, the job's shape) and nothing it
// could not know (no hidden capacities except where a baseline is configured with one,
// like seer's k).
struct PolicyEnv {
  int min_executors = 1;
  int max_executors = 20;
  double step_s = 5;                 // control period of the host loop, seconds
  double cold_start_s = 60;          // provisioning delay of a new executor
  double trigger_s = 0.5;            // Structured Streaming trigger interval
  int cores_per_executor = 4;        // spark.executor.cores
  double executor_capacity_rps = 0;  // records/s one executor processes at 100% CPU
  double record_bytes = 1000;        // mean record size
  int kafka_partitions = 24;         // partitions of the data topic
  int records_per_message = 100;     // readings per Kafka message (gateways batch)
  int tasks_per_batch = 200;         // tasks in one micro-batch (spark.sql.shuffle.partitions)
  core::Tier default_tier = core::Tier::kNvme;  // shuffle tier of policies without storage logic
  // The shuffle path's configured facts (the scenario's `shuffle:` section): records/s each
  // (tier, codec) option can move, index tier * kNumCompressions + codec; 0 = unknown. The
  // safety envelope uses them to let a switch that relieves a saturated tier through its
  // dwell (policy/envelope.h).
  std::array<double, core::kNumTiers * core::kNumCompressions> shuffle_cap_rps{};
  // The fixed part of a micro-batch's latency on each option (overhead + tier round trips),
  // ms; 0 = unknown. An option whose fixed latency alone leaves no room under the SLA
  // cannot carry a load whatever its bandwidth (S3's 2 x 200 ms against a 1 s SLA).
  std::array<double, core::kNumTiers * core::kNumCompressions> shuffle_latency_ms{};
  // What a switch costs (sim::switch_pause): the pause, the state moved, tier bandwidths.
  double switch_pause_s = 0;
  double state_mb = 0;
  std::array<double, core::kNumTiers> tier_bandwidth_mb_s{};
};

class Policy {
 public:
  virtual ~Policy() = default;

  // Stable name as used on the command line ("hpa", "ds2-tuned", ...).
  virtual std::string_view name() const = 0;

  // Forget all history; the next decide() is the first of a run.
  virtual void reset() = 0;

  // Called once per control step, in order. Must be deterministic: the same sequence of
  // observations after reset() gives the same decisions. Must not allocate on the hot
  // path (the arena runs millions of steps per second).
  virtual core::Decision decide(const core::Observation& obs) = 0;
};

// Two times closer than this are the same instant (periodic checks compare `now - last >= period`
// on sums of float steps).
inline constexpr double kTimeEpsilon = 1e-9;

// The `tier` parameter of a policy's table (redis, nvme or s3), `fallback` when absent; a bad
// value is reported by params.finish().
core::Tier read_tier(core::ParamTable& params, core::Tier fallback);

// Clamp helper shared by policies.
inline int clamp_executors(int n, const PolicyEnv& env) {
  if (n < env.min_executors) return env.min_executors;
  if (n > env.max_executors) return env.max_executors;
  return n;
}

}  // namespace prescale::policy

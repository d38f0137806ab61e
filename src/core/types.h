// The one contract between the world and a policy: Observation -> Decision.
//
// The arena's simulator and the live controller both build an Observation each control
// step and apply the Decision a policy returns, so a policy tuned in the arena runs
// unchanged in production. Both types are plain values, cheap to copy, and allocate
// nothing (the simulator runs ~10^7 steps per second).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace prescale::core {

// Where shuffle data lives. The numeric values are the design's tier numbers.
enum class Tier : std::uint8_t { kRedis = 0, kNvme = 1, kS3 = 2 };
inline constexpr int kNumTiers = 3;

// Compression of shuffle data: less I/O, more CPU.
enum class Compression : std::uint8_t { kNone = 0, kLz4 = 1, kZstd = 2 };
inline constexpr int kNumCompressions = 3;

// The business context that steers the latency/cost trade-off.
enum class BusinessContext : std::uint8_t { kBalanced = 0, kHealthcare = 1, kBudget = 2 };

std::string_view to_string(Tier tier);
std::string_view to_string(Compression compression);
std::string_view to_string(BusinessContext context);
std::optional<Tier> parse_tier(std::string_view text);                // "redis" | "nvme" | "s3"
std::optional<Compression> parse_compression(std::string_view text);  // "none" | "lz4" | "zstd"
std::optional<BusinessContext> parse_context(std::string_view text);

// What a policy sees at the start of control step `step`. Rates, latencies and
// utilisations describe the step that just ended (step - 1); counts describe now.
struct Observation {
  std::int64_t step = 0;  // control step index, 0-based
  double time_s = 0;      // start of this step, seconds since the run began
  double step_s = 5;      // control period, seconds

  // Load and progress over the last step.
  double input_rps = 0;           // records/s that arrived
  double input_mb_s = 0;          // MB/s that arrived (1 MB = 10^6 bytes)
  double processed_rps = 0;       // records/s the job processed
  double processed_mb_s = 0;      // MB/s the job processed
  double backlog_records = 0;     // arrived but not processed at the end of the last step
  double kafka_lag_records = 0;   // consumer lag: backlog + records waiting for the next trigger
  double cpu_util = 0;            // [0,1], mean CPU utilisation of the serving executors
  double busy_fraction = 0;       // [0,1], fraction of the step the executors spent processing
  double batch_duration_ms = 0;   // processing time of one micro-batch
  double trigger_ms = 500;        // micro-batch trigger interval
  double latency_ms = 0;          // end-to-end latency of a record arriving in the last step
  double sla_ms = 1000;           // latency target
  bool metrics_available = true;  // false: the metrics pipeline is down (policies should hold)

  // Cluster state now (after the previous decision was applied).
  int active_executors = 0;   // serving
  int pending_executors = 0;  // requested, still in their cold start (billed, not serving)
  Tier tier = Tier::kNvme;
  Compression compression = Compression::kNone;

  // Edge: the gateways' Burst_Signal, aggregated.
  bool burst_signal = false;       // a burst is expected within the horizon
  double forecast_rps = 0;         // forecast input rate `forecast_horizon_s` ahead, records/s
  double forecast_horizon_s = 60;  // how far ahead the forecast looks
  double signal_confidence = 0;    // [0,1]

  BusinessContext context = BusinessContext::kBalanced;

  int total_executors() const { return active_executors + pending_executors; }
};

// What a policy wants. target_executors counts serving + provisioning executors, like a
// Kubernetes Deployment's spec.replicas or Spark's requestTotalExecutors(target).
struct Decision {
  int target_executors = 0;
  Tier tier = Tier::kNvme;
  Compression compression = Compression::kNone;
  // Why, for logs: a string literal (static storage), so deciding never allocates.
  const char* reason = "";
  // Which safety-envelope guards overrode the policy (policy/envelope.h): kGuard* bits.
  std::uint8_t guards = 0;
  // The safety envelope's adaptive scale-down window in force, seconds (0: not guarded),
  // and whether this step judged one of its releases regretted (policy/envelope.h).
  float hold_s = 0;
  bool regret = false;
};

inline constexpr std::uint8_t kGuardFloor = 1;      // raised to the reactive floor
inline constexpr std::uint8_t kGuardStabilise = 2;  // a scale-down held by the window
inline constexpr std::uint8_t kGuardDwell = 4;      // a tier or codec switch deferred
inline constexpr std::uint8_t kGuardShuffle = 8;    // a switch to a tier/codec too slow refused

}  // namespace prescale::core

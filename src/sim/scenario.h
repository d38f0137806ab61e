// A scenario: every parameter of one arena experiment, loaded from scenarios/*.yaml.
// docs/model.md explains each field, its unit, its default and where the figure comes
// from. Defaults below are the documented defaults; a scenario file may override any.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/params.h"
#include "core/result.h"
#include "core/types.h"

namespace prescale::sim {

enum class WorkloadSource { kSynthetic, kTrace };

// How a step's latency and throughput follow from the micro-batches (docs/model.md, "One step").
// kFluid: a fluid queue at the executors' rate, a batch's fixed cost added to the latency
// only (the models in models/ were trained on it). kMicroBatch: Spark's trigger loop: a
// reading waits for the next batch (up to one batch interval), each batch pays the fixed cost
// out of the executors' time, and a batch that outlasts the trigger stretches the interval.
enum class LatencyModel { kFluid, kMicroBatch };
std::optional<LatencyModel> parse_latency_model(std::string_view text);  // "fluid" | "microbatch"
std::string_view to_string(LatencyModel model);

// Seeded synthetic IoT load: a base rate with a slow cycle and AR(1) noise, plus bursts.
struct SyntheticSpec {
  double base_rps = 250'000;      // mean base arrival rate, records/s
  double cycle_amplitude = 0.15;  // relative amplitude of the slow sinusoidal cycle
  double cycle_period_s = 1800;   // its period, s
  double noise_sigma = 0.08;      // stationary std dev of the log-normal AR(1) noise
  double noise_phi = 0.9;         // AR(1) coefficient per step
  int bursts = 4;                 // number of bursts per run
  double burst_factor = 4.0;      // burst rate = factor x base rate
  double burst_min_s = 90;        // burst duration range (uniform), s
  double burst_max_s = 180;
  double burst_ramp_s = 10;          // linear ramp up and down, s
  double first_burst_after_s = 120;  // no burst starts earlier (covers the cold start)
};

// Replay of a `timestamp,value` or `t_seconds,value` CSV, resampled to the step and scaled
// to a peak rate.
struct TraceSpec {
  std::string file;             // path; relative paths are resolved against the cwd
  double peak_rps = 1'000'000;  // the series' maximum maps to this rate, records/s
  double bucket_s = 0;          // trace seconds per simulated step; 0 = median sample gap
  // Trace seconds per simulated second (1 = real time): steps are buckets of step_s x
  // speedup trace seconds, each the mean of the linear interpolant of the samples.
  // 0 = off (bucket_s applies); setting both is an error.
  double speedup = 0;
  double jitter_sigma = 0.0;     // per-seed multiplicative log-normal jitter per step
  double burst_threshold = 2.0;  // burst = rate > threshold x rolling median (edge truth)
  int baseline_window = 60;      // steps in the rolling median baseline
};

// The edge burst-signal model (replaced by the real forecaster in the edge issue).
struct EdgeSpec {
  double horizon_s = 60;               // the signal rises this long before a burst
  double miss_rate = 0.05;             // probability a burst is not signalled at all
  double false_alarms_per_hour = 1.0;  // spurious signals per simulated hour
  double forecast_sigma = 0.10;        // log-normal error of the forecast rate
};

// The largest cluster a scenario (or the live controller) may describe. Every tournament run
// plans the oracle (policy/oracle.h) for cost_vs_oracle, at about steps x executors^2.9:
// measured on this machine (2 shared cores), one seed of 100 steps took 1.5 s at 20
// executors, 9 s at 400, 21 s at 500 and 131 s at 1000 (a 20-seed, 500-step tournament:
// about 35 min at 500, 3.6 h at 1000). Larger bounds passed `prescale check` only to run
// for hours, so they are input errors.
inline constexpr int kMaxExecutors = 500;
// The most steps a run may have (`steps:` or --steps): a synthetic workload allocates a few
// doubles per step for each of its series (10 M steps: ~0.6 GB).
inline constexpr int kMaxSteps = 10'000'000;

struct ClusterSpec {
  int min_executors = 1;
  int max_executors = 20;
  int initial_executors = 6;  // warm (serving) at t = 0
  double cold_start_s = 60;   // request -> serving
  int vcpu_per_executor = 4;
  double memory_gb_per_executor = 16;
  double capacity_rps = 75'000;  // records/s one executor processes at 100% CPU, uncompressed
  // How much each executor past the first adds less than the first: n executors process
  // n / (1 + contention x (n - 1)) executors' worth (Amdahl's law in the form of Gunther's
  // universal scalability law without its coherency term; 0 = linear). Shared cores, a
  // driver or one Kafka partition make it > 0 on a real job (docs/model.md).
  double contention = 0;
  // Seconds the job's batches lose when executors join: a batch waits for the first tasks
  // of a new executor (JVM start-up, its Kafka consumer), a pause of the whole job in the
  // steps after the join (docs/model.md). 0 = a new executor serves at full speed at once.
  double warmup_s = 0;
  int kafka_partitions = 24;
  int records_per_message = 100;
  int tasks_per_batch = 200;  // spark.sql.shuffle.partitions
};

struct TierSpec {
  double latency_ms = 20;       // per shuffle operation
  double bandwidth_mb_s = 850;  // aggregate shuffle bandwidth, MB/s
  double price_gb_hour = 0;     // storage price of resident shuffle data, $/GB-hour
  double put_per_1000 = 0;      // $ per 1000 write requests (S3)
  double get_per_1000 = 0;      // $ per 1000 read requests (S3)
};

struct CompressionSpec {
  double ratio = 1.0;         // compressed / raw size of shuffle data
  double cpu_overhead = 0.0;  // extra CPU per record, relative (0.1 = +10%)
};

struct ShuffleSpec {
  double bytes_per_input_byte = 1.0;  // shuffle volume relative to input volume
  int ops_per_batch = 2;              // tier round trips on a batch's critical path
  double retention_s = 60;            // how long shuffle data stays resident in the tier
  double object_mb = 32;              // S3 object size for request counts, MB
  // What a switch of tier or codec costs (docs/model.md, "Switching tier or codec"): the
  // job pauses `switch_pause_s` (the query restarts with the new shuffle configuration) and
  // a tier switch also moves `state_mb` of streaming state at the slower tier's bandwidth.
  double switch_pause_s = 0.25;
  double state_mb = 200;
  std::array<TierSpec, core::kNumTiers> tiers{};                 // indexed by core::Tier
  std::array<CompressionSpec, core::kNumCompressions> codecs{};  // by core::Compression
};

struct LatencySpec {
  double sla_ms = 1000;
  double overhead_ms = 200;  // scheduling + source + sink per micro-batch
  double trigger_s = 0.5;    // micro-batch trigger interval
  double cap_ms = 300'000;   // latency reported when nothing is served
  LatencyModel model = LatencyModel::kFluid;
};

struct PricingSpec {
  double vcpu_hour = 0.052624;        // $ per vCPU-hour (EMR Serverless, us-east-1)
  double memory_gb_hour = 0.0057785;  // $ per GB-hour (EMR Serverless, us-east-1)
};

struct Scenario {
  std::string name = "unnamed";
  std::string description;
  std::string source_file;  // where it was loaded from ("" = built in)
  int steps = 500;
  double step_s = 5;
  int seeds = 20;               // default number of seeds for the tournament
  std::uint64_t base_seed = 1;  // seed i of a run uses base_seed + i
  double record_bytes = 1000;
  core::BusinessContext context = core::BusinessContext::kBalanced;

  WorkloadSource source = WorkloadSource::kSynthetic;
  SyntheticSpec synthetic;
  TraceSpec trace;
  EdgeSpec edge;
  ClusterSpec cluster;
  ShuffleSpec shuffle;
  LatencySpec latency;
  PricingSpec pricing;
  core::Tier default_tier = core::Tier::kNvme;

  // Per-policy parameter tables: policies.<name>.<key>.
  std::map<std::string, core::ParamTable> policies;

  // Derived helpers.
  int cold_start_steps() const;            // ceil(cold_start_s / step_s)
  double executor_price_per_step() const;  // $ for one executor alive one step
};

// The built-in defaults with the tier and codec figures filled in (the seed's numbers).
Scenario default_scenario();

// Loads a scenario from a YAML file, strictly: unknown keys, wrong types and out-of-range
// values are errors naming file:line, the field and what was expected.
core::Result<Scenario> load_scenario_file(const std::string& path);

// The same from the file's text; `origin` names it in errors and becomes source_file.
// load_scenario_file() reads the file and calls this.
core::Result<Scenario> parse_scenario(std::string_view text, const std::string& origin);

// Resolves a scenario by name ("seed" -> scenarios/seed.yaml, searched in ./scenarios,
// $PRESCALE_SCENARIOS and the source tree) or by path (anything containing '/' or '.yaml').
core::Result<Scenario> load_scenario(const std::string& name_or_path);

// Cross-field checks (max >= min, initial within bounds, ...). load_* already call it.
core::Status validate(const Scenario& scenario);

}  // namespace prescale::sim

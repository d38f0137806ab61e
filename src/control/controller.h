// The live controller's logic (`prescale controller`), without Kafka or HTTP: what it
// makes of the control plane's messages, and what it decides each tick.
//
// Inputs: Burst_Signals from the gateways (iot-metadata; verified: unsigned, unknown,
// tampered, replayed, stale or future ones are rejected and counted) and the Spark job's
// Progress (iot-metrics). Each tick has the HPA's shape, four steps each a unit of its own
// (tick() runs them in order; the clock is the caller's now_ms):
//   1. observe   the job's and the gateways' facts -> core::Observation, by observe::build,
//                the builder the arena's simulator uses (one definition of lag and latency:
//                docs/model.md, "The Observation");
//   2. decide    the configured policy's decision on it;
//   3. envelope  what may be carried out (policy::CommandEnvelope): no fresh progress for
//                `metrics_stale_ms` -> hold the current target (the HPA's fail-safe; the
//                policy still decided, on metrics_available = false, and is not trusted);
//                else the target within [min_executors, max_executors], scale-downs
//                stabilised over `scale_down_stabilization_ms` (the safety envelope's window);
//   4. act       the ScaleTo command to publish on iot-control, with a sequence number, the
//                lease's epoch and the reason; the holder's becomes what the job was told.
//
// One controller per job (control/lease.h): only the lease holder commands. A standby
// still ticks — the policy decides on the same inputs, so its state is warm when it takes
// over — but its decisions are not commands: it follows the holder's commands instead, so
// it knows what the job was last told.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bus/kafka.h"
#include "bus/messages.h"
#include "bus/signing.h"
#include "core/result.h"
#include "core/types.h"
#include "observe/observe.h"
#include "policy/envelope.h"
#include "policy/policy.h"

namespace prescale::control {

struct ControllerConfig {
  std::string source;  // the file it came from, for messages
  std::string policy = "rl";
  std::string scenario = "seed";  // policy parameters and the cluster's static facts
  core::BusinessContext context = core::BusinessContext::kBalanced;
  std::int64_t tick_ms = 5000;
  int min_executors = 1;  // overrides the scenario's bounds
  int max_executors = 20;
  int initial_executors = 2;  // what the job runs with before the first decision
  std::int64_t metrics_stale_ms = 30'000;
  std::int64_t signal_stale_ms = 120'000;  // a device's last signal older than this is ignored
  std::int64_t signal_window_ms = 60'000;  // the verifier's freshness window
  std::int64_t scale_down_stabilization_ms = 60'000;  // scale down to the max target of this window
  double record_bytes = 100;                          // mean reading size, for the MB/s fields
  // Readings per Kafka message (the gateways batch them): Spark's progress counts messages.
  double records_per_message = 1;
  double trigger_ms = 1000;  // the job's micro-batch trigger (busy fraction = batch / trigger)
  // The latency target the policy sees (Observation::sla_ms); 0 = the scenario's
  // latency.sla_ms (make_controller fills it in).
  double sla_ms = 0;
  std::string keys_file;
  std::string metadata_topic = "iot-metadata", metrics_topic = "iot-metrics",
              control_topic = "iot-control";
  std::string http_listen = "127.0.0.1";
  int http_port = 9464;  // 0 = no HTTP server (and no dashboard)
  // The tier server's Prometheus endpoint (`prescale tier serve`: http://HOST:PORT/metrics);
  // when set, the dashboard shows the store's occupancy per tier. "" = no tier server.
  std::string tier_metrics_url;
  // The lease (control/lease.h, `lease:` map): one active controller per job. "" = derived
  // from the control topic (lease_group(), lease_topic()) / host:pid (controller_id()).
  std::string lease_group, lease_topic, lease_id;
  int lease_session_timeout_ms = 6000;  // a dead holder is replaced after this (+ a heartbeat)
  int lease_heartbeat_interval_ms = 1000;
  bus::KafkaProps kafka;  // `kafka:` map, passed through to librdkafka
  // Where each field was set, "file:line" by its dotted name ("keys_file", "lease.group",
  // "kafka.bootstrap.servers"), for messages that blame a field after loading.
  std::map<std::string, std::string> lines;
  // "file:line" of a field (just the file when the field was not in it).
  std::string line_of(const std::string& field) const;
  // "file:line: field", the start of a message about that field.
  std::string where(const std::string& field) const { return line_of(field) + ": " + field; }
};

// What the job says about itself against what the configuration says (docs/controller.md,
// "Start-up checks and units"): the plugin's executor bounds and the readings the gateways
// put in one Kafka message, both published in the job's Progress. Where they disagree the
// job's values are used, and one log line says so, naming both values.
//
// Bounds: the configuration may be stricter than the plugin (max_executors 3 under a cap of
// 6 is kept: the controller just never asks for more), never looser (max_executors 20 over
// a cap of 6 becomes 6: the plugin would clamp every command above it, and the controller
// would count the difference as pending executors forever).
//
// Units: Spark's progress counts Kafka messages (rows of the source); the policies think in
// readings. readings() is the one place where one becomes the other: with the job's last
// measure of readings per message, else the configured records_per_message.
class JobFacts {
 public:
  explicit JobFacts(const ControllerConfig& cfg);

  struct Update {
    std::string line;             // "" = nothing new to say
    bool bounds_changed = false;  // min_executors()/max_executors() changed
  };
  // Takes one progress's published facts (absent ones change nothing).
  Update update(const bus::Progress& p);

  // The bounds every command stays within.
  int min_executors() const { return min_; }
  int max_executors() const { return max_; }
  // Readings per Kafka message: the job's last measure, else the configuration's.
  double readings_per_message() const { return job_rpm_ > 0 ? job_rpm_ : config_rpm_; }
  // Messages (Spark's rows, offsets) -> readings.
  double readings(double messages) const { return messages * readings_per_message(); }

 private:
  int config_min_, config_max_;
  double config_rpm_;
  std::string where_min_, where_max_, where_rpm_;  // "file:line" of each in the configuration
  int min_, max_;
  int job_min_ = -1, job_max_ = -1;  // the plugin's, once published
  double job_rpm_ = 0;
  bool rpm_reported_ = false;  // a disagreement on records_per_message is said once
};

// The policies a controller can run: every known one but the oracle (it needs the future),
// as "a, b, c"; and whether a name is one of them.
std::string live_policy_list();
bool is_live_policy(const std::string& name);

// The lease's consumer group: lease.group, else "prescale-controller.<control topic>".
std::string lease_group(const ControllerConfig& c);
// The lease topic (one partition): lease.topic, else "<control topic>-lease".
std::string lease_topic(const ControllerConfig& c);

// Loads and checks a YAML file; errors name file:line and the field. Relative paths in it
// (keys_file, a scenario given as a path, librdkafka's file properties such as
// ssl.ca.location) are resolved against the file's directory.
core::Result<ControllerConfig> load_config(const std::string& path);
// The same from the file's text; `origin` names it in errors, becomes source, and its
// directory is the one relative paths are resolved against.
core::Result<ControllerConfig> parse_config(std::string_view text, const std::string& origin);

// Counters for /metrics.
struct ControllerStats {
  std::uint64_t ticks = 0, decisions = 0, holds_stale = 0, commands = 0;
  std::uint64_t progress_accepted = 0, progress_rejected = 0;
  std::uint64_t signals[bus::kNumVerdicts] = {};  // by verdict
  std::uint64_t signals_malformed = 0;
  int target = 0, actual = 0;
  double last_tick_ms = 0;  // duration of the last tick
  bool metrics_fresh = false;
  std::uint64_t standby_ticks = 0;      // ticks decided but not commanded (no lease)
  std::uint64_t commands_followed = 0;  // the lease holder's commands a standby adopted
};

// This controller's part in the job's lease, as the daemon last saw it.
struct LeaseState {
  bool active = true;      // commands; false = a standby (a controller without a daemon: true)
  std::int64_t epoch = 0;  // its fencing token while active (0 = no lease)
  std::int64_t holder_epoch = 0;  // a standby: the holder's epoch, as far as known (0 = unknown)
  std::string role = "active";    // one line for /healthz and the dashboard (Lease::describe())
};

class Controller {
 public:
  // Builds the policy again for new executor bounds (the job's, once it publishes them: the
  // policies' arithmetic and the learned policies' features depend on the bounds), with the
  // readings per Kafka message in use then (KEDA counts its lag in messages).
  using PolicyFactory = std::function<core::Result<std::unique_ptr<policy::Policy>>(
      int min_executors, int max_executors, double readings_per_message)>;
  Controller(ControllerConfig cfg, std::unique_ptr<policy::Policy> policy, bus::KeyRing keys,
             PolicyFactory factory = nullptr);

  // Control-plane input; returns false (and counts it) when rejected.
  bool on_signal(const std::string& json, std::int64_t now_ms);
  bool on_progress(const std::string& json, std::int64_t now_ms);
  // The newest progress accepted (none yet: empty).
  const std::optional<bus::Progress>& last_progress() const { return progress_; }

  // One tick: act(envelope(decide(observe(now_ms)))). The command to publish (every tick:
  // the plugin ignores repeats by seq), stamped with the lease's epoch. A standby's tick
  // decides in the shadow: its result (reason "standby: ...") is not to be published and
  // changes nothing the job was told.
  bus::ScaleTo tick(std::int64_t now_ms);

  // The tick's steps, each usable alone (tick() also keeps the counters and the step index).
  // 1. The Observation now: the last progress (converted to readings by JobFacts), what the
  //    job was last told, the gateways' fresh signals, through observe::build.
  core::Observation observe(std::int64_t now_ms);
  // 2. The policy's decision on it (on stale metrics and on a standby too: its state stays
  //    warm). Remembered as last_decision().
  core::Decision decide(const core::Observation& obs);
  // 3. What of it may be carried out, given what the job was last told.
  policy::CommandEnvelope::Outcome envelope(const core::Observation& obs, const core::Decision& d);
  // 4. The command for it: seq, time, epoch and reason; while the lease is held, it becomes
  //    what the job was told (target, tier, codec); a standby's changes nothing.
  bus::ScaleTo act(std::int64_t now_ms, const core::Decision& d,
                   const policy::CommandEnvelope::Outcome& carried);

  // The lease as the daemon sees it (before each tick).
  void set_lease(LeaseState s) { lease_ = std::move(s); }
  const LeaseState& lease() const { return lease_; }
  // A command seen on the control topic (a standby follows the holder's): adopted as what
  // the job was last told (target, tier) unless its epoch is older than one adopted before.
  // Returns false when ignored (malformed, or an older epoch).
  bool on_command(const std::string& json);

  // The observation the last tick gave the policy, and what the policy decided on it
  // (before the controller's envelope; its reason and the policy's own envelope guards).
  const core::Observation& last_observation() const { return obs_; }
  const core::Decision& last_decision() const { return decision_; }
  // Each gateway's last accepted signal and when it was received (ms), by device.
  using GatewaySignals = std::map<std::string, std::pair<bus::BurstSignal, std::int64_t>>;
  const GatewaySignals& gateway_signals() const { return signals_; }
  const ControllerStats& stats() const { return stats_; }
  const ControllerConfig& config() const { return cfg_; }
  // What the job published about itself, as used (bounds, units).
  const JobFacts& job() const { return job_; }
  // Lines worth a log line since the last call (the job disagreeing with the configuration),
  // oldest first.
  std::vector<std::string> take_notices();
  std::string prometheus() const;  // /metrics body
  void set_tick_duration_ms(double ms) { stats_.last_tick_ms = ms; }

 private:
  // The job's bounds changed: the policy and the envelope follow them.
  void apply_bounds();

  ControllerConfig cfg_;
  std::unique_ptr<policy::Policy> policy_;
  PolicyFactory factory_;
  JobFacts job_;
  std::vector<std::string> notices_;
  bus::SignalVerifier verifier_;
  GatewaySignals signals_;  // device -> (last, received)
  std::optional<bus::Progress> progress_;
  std::int64_t progress_at_ms_ = 0;
  std::int64_t started_ms_ = -1;
  std::int64_t last_tick_ms_ = 0;
  std::int64_t step_ = 0;
  int target_;  // what the job was last told
  core::Tier tier_ = core::Tier::kNvme;
  core::Compression compression_ = core::Compression::kNone;
  std::uint64_t seq_ = 0;
  // Step 3 for every policy's target; learned policies also carry their own full envelope
  // (policy/registry.cpp).
  policy::CommandEnvelope envelope_;
  std::vector<prescale::observe::EdgeSignal> fresh_signals_;  // observe()'s scratch
  core::Observation obs_;
  core::Decision decision_;
  ControllerStats stats_;
  LeaseState lease_;
  std::int64_t followed_epoch_ = 0;  // the newest epoch of a command a standby adopted
};

}  // namespace prescale::control

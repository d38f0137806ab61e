// `prescale race`: the end-to-end proof on the live stack. One bursty trace is replayed into
// Kafka by the real edge agent (with its signed Burst_Signal ahead of the burst) once per
// policy; each time, the real controller drives the real Spark job, and the race records
// what actually happened:
//   - executors: Spark's REST API (/api/v1/applications/ID/executors), every 0.5 s;
//   - batches: the job's progress on iot-metrics (latency = the oldest reading's age when
//     its batch finished, as the listener measures it; else the controller's estimate);
//   - commands: the controller's scale_to on iot-control.
// With `record_dir` set, the same timelines are also written there as JSON lines, one file
// per kind (runs, batches, executors, commands: write_records), the input of
// `prescale calibrate --from DIR` (docs/sim2real.md, "What a live run records").
// Before each run the job is reset to the minimum scale and the backlog drained, so every
// policy starts from the same state on the same traffic.
#pragma once

#include <atomic>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/run_records.h"

namespace prescale::live {

// Where the race is, for a progress line (core/progress.h): run `index` of `runs`,
// `phase` "warm-up" (before the first run: `t_s` of `expected_s`), "reset" (waiting for the minimum
// scale and no backlog; `t_s` since it began, `expected_s` its timeout) or "run" (`t_s` on the
// run's clock, `expected_s` = replay + tail).
struct RaceProgress {
  int index = 0, runs = 0;
  std::string policy, phase;
  double t_s = 0, expected_s = 0;
};

struct RaceOptions {
  std::string controller_config;                      // YAML (control/controller.h)
  std::vector<std::string> policies = {"rl", "hpa"};  // one run each, in this order
  std::string brokers;                                // overrides the config's bootstrap.servers
  int spark_ui_port = 4040;                           // the job's REST API on 127.0.0.1
  // The replay (edge/agent.h): trace samples of `interval` s each after the speed-up.
  std::string trace_file;
  double speedup = 30;
  double scale = 1;
  int sensors = 16;
  int horizon = 15;  // intervals the signal sees ahead; 0 = the global model's own
  // The agent's forecaster: "lookahead" (the trace's own future: the signal rises a known
  // `horizon` ahead of the burst, so the race tests the cloud side, not the forecaster), or
  // "global" / "global:FILE" (the global model, as `prescale edge --forecaster global`: its
  // burst head and 90% quantile; "global" = models/forecast/global.json).
  std::string forecaster = "lookahead";
  std::string device = "gw-1";
  std::string key_file;  // DEVICE HEXKEY lines, for the agent and the controller
  // A sample at or above burst_threshold x the trace's median is part of a burst.
  double burst_threshold = 2.0;
  // A batch whose latency exceeds this is a violation; 0 = the SLA the controller's policy
  // is given (its sla_ms, else its scenario's latency.sla_ms).
  double sla_ms = 0;
  // Watched after the replay ends (the scale-down): at least tail_s, then on while Spark still
  // runs more than min_executors, up to tail_max_s in all (a policy whose envelope holds
  // capacity after a regretted release can take longer than tail_s to come back).
  int tail_s = 40;
  int tail_max_s = 120;
  int settle_timeout_s = 150;
  // Before the first run: the trace's opening (up to its first burst) replayed for this long
  // with no controller, so the job's cold start (class loading, JIT, its Kafka consumers) is
  // paid by no policy. 0 = none: the first run then meets a cold job (on a 2-core machine its
  // first batches took 14-18 s where a warm job's took 6-8).
  int warmup_s = 30;
  // Where to write the JSON-lines records (write_records) after each run; "" = nowhere.
  std::string record_dir;
  std::string shape;  // the --shape the replay came from ("" = --trace), for the records
  std::function<void(const std::string&)> log = [](const std::string&) {};
  // Called about twice a second while the race runs (optional).
  std::function<void(const RaceProgress&)> progress;
};

// The records of a run (core/run_records.h: calibrate and validate read them too).
using core::BatchRecord;
using core::CommandRecord;
using core::ExecutorSample;
struct SignalRecord {  // the gateway's Burst_Signal on iot-metadata, as sent
  double t_s = 0;
  bool burst = false;
  double forecast_rps = 0;
};

struct RunResult {
  std::string policy;
  double sla_ms = 0;  // what the run was judged by
  int min_executors = 1;
  double burst_start_s = 0, burst_end_s = 0;  // from the trace, on the run's clock
  std::vector<ExecutorSample> executors;
  std::vector<BatchRecord> batches;
  std::vector<CommandRecord> commands;
  std::vector<SignalRecord> signals;
  // Derived (summarise()): -1 when it never happened.
  double first_scale_up_command_s = -1;  // first command above min_executors
  double first_scale_up_serving_s = -1;  // first REST sample above min_executors
  double back_to_min_s = -1;         // after a scale-up: first sample at min after the burst ended
  int executors_at_burst_start = 0;  // REST, the last sample before the burst
  int max_executors_seen = 0;
  int violations = 0, batches_with_rows = 0;
  double p95_latency_ms = 0, max_latency_ms = 0;
  double executor_seconds = 0;  // REST samples integrated over the run
  double duration_s = 0;
  std::int64_t started_ms = 0;  // wall clock (Unix ms) of the run's t = 0
  void summarise(double sla);   // sets sla_ms and the derived fields
  std::string to_json() const;  // the summary and the four timelines
};

// Spark's live executors (not the driver) for the first application on 127.0.0.1:port;
// nullopt when the REST API does not answer.
std::optional<int> spark_executors(int ui_port);
// The same sample with, of those executors, how many have run a task (totalTasks > 0).
std::optional<ExecutorSample> spark_executor_sample(int ui_port);

// What every run replayed, for the arena's side of the comparison (src/validate): the trace
// and how the edge agent sent it. replay_info() derives it as the agent will (interval and
// horizon from edge::prepare_agent).
struct ReplayInfo {
  std::string shape;       // "" = a --trace
  std::string trace_file;  // the file replayed (write_records copies it to DIR/trace.csv)
  double speedup = 0, scale = 1;
  int sensors = 16;
  double interval_s = 0;  // one sample's replay time (the agent's interval)
  int horizon = 0;        // intervals the signal looks ahead (the global model's when global)
  std::string forecaster;
  std::string controller_config;  // the controller's YAML (absolute)
  double burst_threshold = 2;
  std::string to_json() const;  // trace_file as given
};
core::Result<ReplayInfo> replay_info(const RaceOptions& opts);

// Writes the runs' timelines to `dir` as JSON lines (one object a line, "run" = the run's
// index in `runs`, times on the run's clock; docs/sim2real.md):
//   runs.jsonl       run, policy, started_ms, duration_s, sla_ms, min_executors
//   batches.jsonl    run, t_s, batch_id, rows, batch_ms, executors, latency_ms,
//                    latency_measured, backlog, input_rps
//   executors.jsonl  run, t_s, executors, with_tasks
//   commands.jsonl   run, t_s, target, reason
// and, with `replay`, replay.json (ReplayInfo, its trace_file "trace.csv") and trace.csv (a
// copy of the trace replayed): what `prescale validate --from DIR` replays in the arena.
// Each file is replaced whole (atomically).
core::Status write_records(const std::string& dir, const std::vector<RunResult>& runs,
                           const ReplayInfo* replay = nullptr);

// The trace's bursts as [start, end) sample indices (samples >= threshold x median).
std::vector<std::pair<int, int>> trace_bursts(const std::vector<double>& series, double threshold);

// Checks what the edge agent of every run will be given (key file and device, trace,
// forecaster and its model: edge::prepare_agent) without touching any server; errors name
// the option or file.
core::Status check_agent(const RaceOptions& opts);

// Runs every policy in turn; stops early (with what it has) when `stop` is set.
core::Result<std::vector<RunResult>> race(const RaceOptions& opts, const std::atomic<bool>& stop);

// rl vs hpa, side by side: executors at the burst, scale-up timing, violations, p95 batch
// latency, executor-seconds.
std::string summary_table(const std::vector<RunResult>& runs, double sla_ms);

}  // namespace prescale::live

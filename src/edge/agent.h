// `prescale edge`: the gateway agent. Reads sensor readings from one input (a replayed
// trace, stdin JSON lines, or a local MQTT broker), feeds the Gateway (edge/gateway.h), and
// sends its output on Kafka through two separate producer instances: reading batches on the
// data plane, signed Burst_Signals on the control plane (bus/kafka.h).
//
// A malformed input line or MQTT payload is counted and skipped with a log line naming where
// it came from (stdin:LINE or mqtt:TOPIC) and what was wrong; the agent keeps running.
// SIGINT/SIGTERM (the `stop` flag) end the run cleanly: the partial batch is sent and both
// producers are flushed before it returns.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>

#include "bus/kafka.h"
#include "core/progress.h"
#include "core/result.h"
#include "edge/gateway.h"
#include "forecast/evaluate.h"

namespace prescale::edge {

enum class Input { kTrace, kStdin, kMqtt };

// Bounds of a trace replay: synthetic sensors (each a name held for the whole replay), and
// readings one trace sample may become (value x --scale; at the trace's peak).
inline constexpr int kMaxSensors = 1'000'000;
inline constexpr double kMaxReadingsPerSample = 1e9;

struct AgentOptions {
  GatewayConfig gateway;  // interval_ms is derived from the trace for Input::kTrace
  std::string key_file;   // `DEVICE HEXKEY` lines (bus/signing.h); gateway.device must be in it
  bus::KafkaProps kafka;  // passed through to librdkafka (bootstrap.servers, TLS, SASL, ...)
  std::string data_topic = "iot-raw-data";
  std::string control_topic = "iot-metadata";
  int connect_timeout_ms = 15'000;  // for the first broker answer
  int partitions = 1;               // for topics the agent creates when they do not exist
  bool create_topics = true;

  Input input = Input::kStdin;
  // Trace replay: one trace sample = one interval, replayed `speedup` times faster than its
  // own clock (0 = as fast as possible); sample t becomes round(value x scale) readings from
  // `sensors` synthetic sensors "trace-K", with values [t, k] (sample, index in the sample).
  std::string trace_file;
  double speedup = 1.0;
  int sensors = 16;  // at most kMaxSensors
  int input_fd = 0;  // Input::kStdin
  std::string mqtt_host = "127.0.0.1";
  int mqtt_port = 1883;
  std::string mqtt_topic = "sensors/#";  // one reading (JSON) per message
  // Forecaster: "auto" (the trace's shipped LSTM under models_dir when replaying a trace that
  // has one, else linreg), "lstm:FILE", "global" (models_dir/global.json) or "global:FILE"
  // (the global forecaster, forecast/global.h: its burst head drives the signal and its 90%
  // quantile is the forecast sent; gateway.horizon 0 = the model's own, anything else must
  // be it), a baseline name (forecast/forecaster.h), or "lookahead" (trace replay only: the
  // trace's own future, a perfect forecaster for demonstrating and testing the cloud side).
  std::string forecaster = "auto";
  std::string models_dir = "models/forecast";
  int log_every_malformed = 1000;  // after the first 10, log every Nth malformed input
};

struct AgentReport {
  std::string input;
  std::string forecaster;
  GatewayStats stats;
  std::uint64_t malformed = 0;
  std::uint64_t data_delivered = 0, control_delivered = 0, delivery_failed = 0;
  std::uint64_t data_bytes_delivered = 0;
  double elapsed_s = 0;
  std::string to_json() const;
};

// The trace replay's status line (`prescale edge --trace`): on a terminal, one line on
// stderr rewritten in place every `every_s` seconds — where the replay is in the trace, the
// readings sent so far, their rate over the last period, and the signal the gateway sends —
// with the elapsed time and an ETA (core::Progress); log lines go above it. Anywhere else
// (a pipe, a log file) nothing at all.
class ReplayStatus {
 public:
  struct Options {
    std::FILE* out = stderr;
    int tty = -1;  // -1 = isatty(out); 0 or 1 to force (tests)
    double every_s = 2;
    std::function<double()> clock;  // seconds, monotonic; default steady_clock
  };
  ReplayStatus(size_t samples, Options options);
  bool tty() const { return progress_.tty(); }
  // After sample `index` (0-based) of the trace; redraws when every_s has passed (or
  // `force`).
  void update(size_t index, const GatewayStats& stats, const bus::BurstSignal& signal,
              bool force = false);
  core::Progress& progress() { return progress_; }

 private:
  double now() const;
  Options opt_;
  core::Progress progress_;
  double last_s_ = -1;
  std::uint64_t last_readings_ = 0;
};

// "1.23M readings, 5.1k/s, signal BURST": readings sent, their rate, the signal sent last.
std::string format_replay_status(std::uint64_t readings, double readings_per_s,
                                 const bus::BurstSignal& signal);

// The agent after its input checks: options (with what the trace implies), the device key,
// the trace, the forecaster.
struct PreparedAgent {
  AgentOptions opts;
  std::vector<unsigned char> key;
  forecast::PreparedTrace trace;
  std::unique_ptr<forecast::Forecaster> forecaster;
  std::string forecaster_label;
};

// Checks everything that is the user's to fix (options, key file, trace, model): errors
// name the option or file. Touches no network.
core::Result<PreparedAgent> prepare_agent(const AgentOptions& opts);

// Opens Kafka (probe, topics, one producer per plane), runs the input to its end (trace,
// EOF) or until `stop`, flushes, and reports. Errors here are the environment's (broker
// unreachable, delivery failed).
core::Result<AgentReport> run_agent(PreparedAgent agent, const std::atomic<bool>& stop);

// True for "global" and "global:FILE".
bool is_global_forecaster(const std::string& spec);

// The forecaster the agent would use, by the rules of AgentOptions::forecaster; `period` =
// samples per day; `trace` = the replayed trace (nullptr for stdin/MQTT; lookahead reads
// it); `horizon` 0 = the model's own (global only). Also names it for the report. A global
// model comes back as a forecast::GlobalForecaster, which the Gateway recognises
// (make_signal_source).
core::Result<std::unique_ptr<forecast::Forecaster>> make_forecaster(
    const AgentOptions& opts, int period, int horizon, const forecast::PreparedTrace* trace,
    std::string* label);

}  // namespace prescale::edge

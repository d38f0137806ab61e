// The one place where raw facts become the core::Observation a policy sees, for the arena's
// simulator (sim/simulator.cpp) and the live controller (control/controller.cpp) alike.
//
// Each world gathers its facts (the simulator from its step model and executor pool, the
// controller from the job's Spark progress, its own commands and the gateways' signals) and
// calls build(); what lag, latency, busy time and pending executors *mean* is decided here
// and documented once, in docs/model.md ("The Observation"):
//
//   backlog_records   = readings arrived but not taken by the job at the end of the last step
//                       (arena: the step model's backlog; live: Spark's offsets behind latest)
//   kafka_lag_records = backlog + half a trigger's arrivals: the consumer lag a Kafka exporter
//                       (KEDA's metric) shows on average over a trigger interval, the records
//                       that arrived since the last trigger included
//   latency_ms        = the end-to-end latency of a reading that arrived in the last step,
//                       its wait behind the backlog left at the step's end included. A world
//                       that computes exactly that gives it (Facts::latency_ms: the arena's
//                       step model); a world that measures only the past (Spark's event-time
//                       latency: the oldest reading of the batch that ran) gets the larger of
//                       that measure and the estimate batch + backlog / processing rate
//   busy_fraction     = the fraction of the step the executors spent processing: given, else
//                       batch duration / trigger (at most 1); cpu_util: given, else busy
//   processed_rps     = readings processed per second of the step (the arena's measure). A
//                       world that measures per second of the batch (Spark's
//                       processedRowsPerSecond: rows / batch duration) gives that as
//                       batch_processed_rps, and build() multiplies it by busy; else DS2's
//                       rate, processed / busy, would count it per busy second twice
//   pending_executors = requested (billed) but not serving yet = requested - serving, >= 0
//   edge fields       = over the fresh gateways' signals: burst if any says burst, forecast =
//                       their sum (each forecasts its own load), horizon = the shortest,
//                       confidence = the highest among those saying burst
//
// Header-only and allocation-free: the simulator builds ~10^7 observations per second.
#pragma once

#include <algorithm>
#include <cstdint>
#include <span>

#include "core/types.h"

namespace prescale::observe {

// One gateway's (or the arena's edge model's) last burst signal.
struct EdgeSignal {
  bool burst = false;
  double forecast_rps = 0;  // its load forecast `horizon_s` ahead, readings/s
  double horizon_s = 60;
  double confidence = 0;  // [0,1]
};

// What a world knows at the start of a control step, in readings (not Kafka messages).
struct Facts {
  // When.
  std::int64_t step = 0;
  double time_s = 0;
  double step_s = 5;
  double trigger_s = 0.5;  // the job's micro-batch trigger
  double sla_ms = 1000;
  core::BusinessContext context = core::BusinessContext::kBalanced;
  bool metrics_available = true;  // false: the job's metrics are stale (policies should hold)

  // The last step's load and progress.
  double input_rps = 0;      // readings/s that arrived
  double processed_rps = 0;  // readings/s the job processed, per second of the step
  // Per second of the batch (Spark's processedRowsPerSecond); < 0 = not measured so. When
  // given, processed_rps is derived from it (x busy) and the backlog drains at it.
  double batch_processed_rps = -1;
  double record_mb = 1e-4;       // MB per reading (1 MB = 10^6 bytes)
  double backlog_records = 0;    // arrived, not taken by the job at the end of the step
  double batch_duration_ms = 0;  // processing time of one micro-batch
  // Measures a world may have; < 0 = it has none, and build() derives them (header comment).
  double busy_fraction = -1;
  double cpu_util = -1;
  double latency_ms = -1;  // exactly the definition above (a model's), backlog wait included
  // The oldest reading's age at the end of its batch (a measure of the past); 0 = none.
  double event_latency_ms = 0;

  // Executors now.
  int active_executors = 0;     // serving
  int requested_executors = 0;  // serving + provisioning (what the job was last told)
  core::Tier tier = core::Tier::kNvme;
  core::Compression compression = core::Compression::kNone;

  // The fresh edge signals (none: no burst, no forecast, horizon `default_horizon_s`).
  std::span<const EdgeSignal> signals;
  double default_horizon_s = 60;
};

// Consumer lag: the backlog plus the readings that arrived since the last trigger, half a
// trigger's arrivals on average.
inline double kafka_lag(double backlog_records, double input_rps, double trigger_s) {
  return backlog_records + input_rps * trigger_s * 0.5;
}

// A reading arriving now waits for a batch and for the backlog ahead of it to drain at the
// processing rate (no drain term when nothing is processed: nothing to measure it by).
inline double estimate_latency_ms(double batch_duration_ms, double backlog_records,
                                  double processed_rps) {
  return batch_duration_ms + (processed_rps > 0 ? 1000.0 * backlog_records / processed_rps : 0.0);
}

// The latency of the definition: the world's exact figure, else the larger of the past's
// measure and the estimate (the measure misses the backlog still waiting).
inline double latency_ms(const Facts& f) {
  if (f.latency_ms >= 0) return f.latency_ms;
  // A backlog drains at the batch's rate: the executors run batches back to back then.
  const double drain_rps = f.batch_processed_rps >= 0 ? f.batch_processed_rps : f.processed_rps;
  return std::max(estimate_latency_ms(f.batch_duration_ms, f.backlog_records, drain_rps),
                  f.event_latency_ms);
}

// Busy fraction: given, else batch / trigger (a trigger under 1 ms counts as 1 ms), <= 1.
inline double busy_fraction(const Facts& f) {
  if (f.busy_fraction >= 0) return f.busy_fraction;
  return std::min(1.0, f.batch_duration_ms / std::max(1.0, 1000.0 * f.trigger_s));
}

// The edge fields of the observation from the fresh signals.
inline void aggregate_signals(std::span<const EdgeSignal> signals, double default_horizon_s,
                              core::Observation* o) {
  double forecast = 0, confidence = 0, horizon = default_horizon_s;
  bool burst = false;
  for (size_t i = 0; i < signals.size(); ++i) {
    const EdgeSignal& s = signals[i];
    forecast += s.forecast_rps;
    horizon = i == 0 ? s.horizon_s : std::min(horizon, s.horizon_s);
    if (s.burst) {
      burst = true;
      confidence = std::max(confidence, s.confidence);
    }
  }
  o->burst_signal = burst;
  o->forecast_rps = forecast;
  o->forecast_horizon_s = horizon;
  o->signal_confidence = confidence;
}

// The Observation of the definitions above, into *o (every field written).
inline void build(const Facts& f, core::Observation* o) {
  o->step = f.step;
  o->time_s = f.time_s;
  o->step_s = f.step_s;
  o->trigger_ms = 1000.0 * f.trigger_s;
  o->sla_ms = f.sla_ms;
  o->context = f.context;
  o->metrics_available = f.metrics_available;
  o->input_rps = f.input_rps;
  o->input_mb_s = f.input_rps * f.record_mb;
  o->busy_fraction = busy_fraction(f);
  o->processed_rps =
      f.batch_processed_rps >= 0 ? f.batch_processed_rps * o->busy_fraction : f.processed_rps;
  o->processed_mb_s = o->processed_rps * f.record_mb;
  o->backlog_records = f.backlog_records;
  o->kafka_lag_records = kafka_lag(f.backlog_records, f.input_rps, f.trigger_s);
  o->cpu_util = f.cpu_util >= 0 ? f.cpu_util : o->busy_fraction;
  o->batch_duration_ms = f.batch_duration_ms;
  o->latency_ms = latency_ms(f);
  o->active_executors = f.active_executors;
  o->pending_executors = std::max(0, f.requested_executors - f.active_executors);
  o->tier = f.tier;
  o->compression = f.compression;
  aggregate_signals(f.signals, f.default_horizon_s, o);
}

inline core::Observation build(const Facts& f) {
  core::Observation o;
  build(f, &o);
  return o;
}

}  // namespace prescale::observe

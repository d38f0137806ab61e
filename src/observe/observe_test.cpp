#include "observe/observe.h"

#include <gtest/gtest.h>

#include <vector>

namespace prescale::observe {
namespace {

// The facts the arena gives: every measure exact (from its step model), one edge signal.
Facts arena_facts(const EdgeSignal* edge) {
  Facts f;
  f.step = 7;
  f.time_s = 35;
  f.step_s = 5;
  f.trigger_s = 0.5;
  f.sla_ms = 1000;
  f.context = core::BusinessContext::kHealthcare;
  f.input_rps = 80'000;
  f.processed_rps = 70'000;
  f.record_mb = 1e-4;
  f.backlog_records = 50'000;
  f.batch_duration_ms = 650;
  f.busy_fraction = 0.93;
  f.cpu_util = 0.88;
  f.latency_ms = 1234.5;
  f.active_executors = 3;
  f.requested_executors = 5;
  f.tier = core::Tier::kRedis;
  f.compression = core::Compression::kLz4;
  f.signals = std::span<const EdgeSignal>(edge, 1);
  f.default_horizon_s = 45;
  return f;
}

// The facts the live controller gives: Spark's progress (no CPU, no busy time, an event-time
// latency), gateways' signals.
Facts live_facts(std::span<const EdgeSignal> signals) {
  Facts f;
  f.step = 3;
  f.time_s = 15;
  f.step_s = 5;
  f.trigger_s = 1;
  f.sla_ms = 12'000;
  f.input_rps = 2000;
  f.batch_processed_rps = 1000;  // Spark's processedRowsPerSecond, as the controller gives it
  f.record_mb = 100 / 1e6;
  f.backlog_records = 6000;  // offsets behind latest, in readings
  f.batch_duration_ms = 800;
  f.event_latency_ms = 0;
  f.active_executors = 2;
  f.requested_executors = 4;
  f.signals = signals;
  return f;
}

TEST(ObserveTest, ArenaFactsPassThroughExactly) {
  const EdgeSignal edge{true, 150'000, 45, 0.9};
  const Facts f = arena_facts(&edge);
  const core::Observation o = build(f);
  EXPECT_EQ(o.step, 7);
  EXPECT_EQ(o.time_s, 35);
  EXPECT_EQ(o.step_s, 5);
  EXPECT_EQ(o.trigger_ms, 500);
  EXPECT_EQ(o.sla_ms, 1000);
  EXPECT_EQ(o.context, core::BusinessContext::kHealthcare);
  EXPECT_TRUE(o.metrics_available);
  EXPECT_EQ(o.input_rps, 80'000);
  EXPECT_EQ(o.input_mb_s, 80'000 * 1e-4);
  EXPECT_EQ(o.processed_rps, 70'000);
  EXPECT_EQ(o.processed_mb_s, 70'000 * 1e-4);
  EXPECT_EQ(o.backlog_records, 50'000);
  // The model's figures are taken as they are: no estimate replaces them.
  EXPECT_EQ(o.latency_ms, 1234.5);
  EXPECT_EQ(o.busy_fraction, 0.93);
  EXPECT_EQ(o.cpu_util, 0.88);
  EXPECT_EQ(o.batch_duration_ms, 650);
  EXPECT_EQ(o.active_executors, 3);
  EXPECT_EQ(o.pending_executors, 2);
  EXPECT_EQ(o.tier, core::Tier::kRedis);
  EXPECT_EQ(o.compression, core::Compression::kLz4);
  EXPECT_TRUE(o.burst_signal);
  EXPECT_EQ(o.forecast_rps, 150'000);
  EXPECT_EQ(o.forecast_horizon_s, 45);
  EXPECT_EQ(o.signal_confidence, 0.9);
}

TEST(ObserveTest, LagIsBacklogPlusHalfATriggersArrivalsInBothWorlds) {
  const EdgeSignal edge{};
  const core::Observation arena = build(arena_facts(&edge));
  EXPECT_EQ(arena.kafka_lag_records, 50'000 + 80'000 * 0.5 * 0.5);
  const core::Observation live = build(live_facts({}));
  EXPECT_EQ(live.kafka_lag_records, 6000 + 2000 * 1.0 * 0.5);
  EXPECT_EQ(live.backlog_records, 6000);
  EXPECT_EQ(kafka_lag(0, 0, 1), 0);
}

TEST(ObserveTest, LiveLatencyIsTheLargerOfTheMeasureAndTheBacklogEstimate) {
  Facts f = live_facts({});
  // No measure: batch + backlog / processing rate = 800 + 6000 / 1000 s.
  EXPECT_DOUBLE_EQ(build(f).latency_ms, 800 + 6000);
  EXPECT_DOUBLE_EQ(estimate_latency_ms(800, 6000, 1000), 6800);
  // A measure above the estimate wins (the batch's oldest reading waited longer).
  f.event_latency_ms = 9000;
  EXPECT_EQ(build(f).latency_ms, 9000);
  // One below it does not: the backlog still waiting is not in the measure.
  f.event_latency_ms = 2000;
  EXPECT_DOUBLE_EQ(build(f).latency_ms, 6800);
  // Nothing processed: no drain rate to estimate with, the batch alone.
  f.batch_processed_rps = 0;
  f.event_latency_ms = 0;
  EXPECT_EQ(build(f).latency_ms, 800);
}

TEST(ObserveTest, LiveProcessingRateIsPerSecondOfTheStepAsTheArenasIs) {
  // Spark's processedRowsPerSecond is rows over the batch's duration: 1000/s for a batch
  // busy 0.8 of its 1 s trigger is 800 readings a second of the step, what the arena's step
  // model reports for the same job. DS2's rate per busy executor-second is then the batch's
  // rate per executor (1000 / 2), not 1 / busy times it (625).
  Facts f = live_facts({});
  const core::Observation o = build(f);
  EXPECT_DOUBLE_EQ(o.processed_rps, 800);
  EXPECT_DOUBLE_EQ(o.processed_mb_s, 800 * 100 / 1e6);
  EXPECT_DOUBLE_EQ(o.processed_rps / (o.active_executors * o.cpu_util), 500);
  // A backlogged job runs batches back to back: busy 1, both rates agree.
  f.batch_duration_ms = 2500;
  EXPECT_DOUBLE_EQ(build(f).processed_rps, 1000);
  // A world that gives the rate per second of the step (the arena) passes it through.
  f.batch_processed_rps = -1;
  f.processed_rps = 640;
  EXPECT_DOUBLE_EQ(build(f).processed_rps, 640);
}

TEST(ObserveTest, LiveBusyTimeIsBatchOverTriggerAndStandsInForCpu) {
  Facts f = live_facts({});
  core::Observation o = build(f);
  EXPECT_DOUBLE_EQ(o.busy_fraction, 0.8);
  EXPECT_DOUBLE_EQ(o.cpu_util, 0.8);
  f.batch_duration_ms = 3000;  // longer than the trigger: busy all the time
  EXPECT_EQ(build(f).busy_fraction, 1.0);
  f.trigger_s = 0;  // a trigger under 1 ms counts as 1 ms
  f.batch_duration_ms = 0.5;
  EXPECT_EQ(build(f).busy_fraction, 0.5);
}

TEST(ObserveTest, PendingIsRequestedLessServingNeverNegative) {
  Facts f = live_facts({});
  EXPECT_EQ(build(f).pending_executors, 2);
  f.active_executors = 6;  // more serving than last asked for (a scale-down in progress)
  EXPECT_EQ(build(f).pending_executors, 0);
  EXPECT_EQ(build(f).total_executors(), 6);
}

TEST(ObserveTest, GatewaySignalsAggregate) {
  const std::vector<EdgeSignal> signals = {
      {false, 100, 30, 0.95},  // calm: its confidence does not count
      {true, 400, 60, 0.6},
      {true, 500, 20, 0.8},
  };
  const core::Observation o = build(live_facts(signals));
  EXPECT_TRUE(o.burst_signal);
  EXPECT_EQ(o.forecast_rps, 1000);
  EXPECT_EQ(o.forecast_horizon_s, 20);
  EXPECT_EQ(o.signal_confidence, 0.8);
}

TEST(ObserveTest, NoSignalsMeanCalmAtTheDefaultHorizon) {
  Facts f = live_facts({});
  f.default_horizon_s = 60;
  const core::Observation o = build(f);
  EXPECT_FALSE(o.burst_signal);
  EXPECT_EQ(o.forecast_rps, 0);
  EXPECT_EQ(o.forecast_horizon_s, 60);
  EXPECT_EQ(o.signal_confidence, 0);
}

TEST(ObserveTest, NoProgressYetIsAllZeroAndStale) {
  Facts f;
  f.metrics_available = false;
  f.active_executors = 2;
  f.requested_executors = 2;
  const core::Observation o = build(f);
  EXPECT_FALSE(o.metrics_available);
  EXPECT_EQ(o.latency_ms, 0);
  EXPECT_EQ(o.kafka_lag_records, 0);
  EXPECT_EQ(o.busy_fraction, 0);
  EXPECT_EQ(o.active_executors, 2);
  EXPECT_EQ(o.pending_executors, 0);
}

TEST(ObserveTest, BuildWritesEveryFieldInPlace) {
  // The simulator reuses one Observation: nothing of the previous one may survive.
  core::Observation o;
  o.metrics_available = false;
  o.burst_signal = true;
  o.signal_confidence = 1;
  o.forecast_horizon_s = 999;
  Facts f = live_facts({});
  build(f, &o);
  EXPECT_TRUE(o.metrics_available);
  EXPECT_FALSE(o.burst_signal);
  EXPECT_EQ(o.signal_confidence, 0);
  EXPECT_EQ(o.forecast_horizon_s, 60);
}

}  // namespace
}  // namespace prescale::observe

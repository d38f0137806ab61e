#include "sim/simulator.h"

#include <gtest/gtest.h>

#include "sim/rng.h"

namespace prescale::sim {
namespace {

Scenario seed_scenario() {
  auto s = load_scenario("seed");
  EXPECT_TRUE(s.ok());
  return *s;
}

// The timeline of `s` on the load `w` when every decision asks for `target` executors.
std::vector<StepRecord> held_at(const Scenario& s, const Workload& w, int target) {
  Simulator sim(s, w);
  std::vector<StepRecord> rows;
  sim.record_timeline(&rows);
  simulate(sim, [target](const core::Observation&) {
    return core::Decision{target, core::Tier::kNvme, core::Compression::kNone, "t"};
  });
  EXPECT_EQ(sim.metrics().switches, 0);  // one option all along
  return rows;
}

TEST(SimulatorTest, RecordsAreConservedUnderAnyDecisions) {
  const Scenario s = seed_scenario();
  auto gen = WorkloadGenerator::create(s);
  ASSERT_TRUE(gen.ok());
  for (std::uint64_t seed = 1; seed <= 5; ++seed) {
    SCOPED_TRACE(seed);
    const Workload w = gen->generate(seed);
    Simulator sim(s, w);
    Rng rng(seed);
    const RunMetrics m = simulate(sim, [&](const core::Observation&) {
      return core::Decision{static_cast<int>(rng.uniform(0, 25)),
                            static_cast<core::Tier>(static_cast<int>(rng.uniform(0, 3))),
                            static_cast<core::Compression>(static_cast<int>(rng.uniform(0, 3))),
                            "random"};
    });
    EXPECT_NEAR(m.arrived, m.processed + m.final_backlog, 1e-6 * m.arrived);
    EXPECT_NEAR(m.cost, m.executor_cost + m.tier_cost, 1e-9 * m.cost);
  }
}

TEST(SimulatorTest, AnExecutorServesAfterItsColdStartAndBillsFromItsRequest) {
  const Scenario s = seed_scenario();
  auto gen = WorkloadGenerator::create(s);
  const Workload w = gen->generate(1);
  // Ask for 10 at step 0 (6 are warm), hold.
  const std::vector<StepRecord> rows = held_at(s, w, 10);
  const double price = s.executor_price_per_step();
  for (int t = 0; t < 12; ++t) {
    EXPECT_EQ(rows[t].active, 6) << t;
    EXPECT_EQ(rows[t].pending, 4) << t;
  }
  EXPECT_EQ(rows[12].active, 10);
  EXPECT_EQ(rows[12].pending, 0);
  // Step 0 bills all 10: the 4 pending included.
  const StepModel model(s);
  const StepOutcome o =
      model.run(w.arrivals_rps[0], 0, 6, core::Tier::kNvme, core::Compression::kNone);
  EXPECT_NEAR(rows[0].cost, 10 * price + o.tier_cost, 1e-12);
}

// cluster.warmup_s: the steps after executors join pause the job for that long in all (here
// 7 s over 5 s steps: the whole join step, then 2 s of the next), and only then.
TEST(SimulatorTest, ExecutorsThatJoinPauseTheJobForTheWarmUp) {
  Scenario s = seed_scenario();
  s.cluster.warmup_s = 7;
  auto gen = WorkloadGenerator::create(s);
  const Workload w = gen->generate(1);
  const std::vector<StepRecord> rows = held_at(s, w, 10);  // a warm-up is no switch either
  const StepModel model(s);
  double backlog = 0;
  for (int t = 0; t < 16; ++t) {
    const double pause = t == 12 ? 5 : t == 13 ? 2 : 0;  // 10 serve from step 12
    const StepOutcome o = model.run(w.arrivals_rps[static_cast<size_t>(t)], backlog,
                                    rows[static_cast<size_t>(t)].active, core::Tier::kNvme,
                                    core::Compression::kNone, pause);
    EXPECT_NEAR(rows[static_cast<size_t>(t)].processed_rps, o.processed / s.step_s, 1e-6) << t;
    EXPECT_NEAR(rows[static_cast<size_t>(t)].latency_ms, o.latency_ms, 1e-6) << t;
    backlog = o.backlog_out;
  }
  EXPECT_EQ(rows[12].processed_rps, 0);  // the join step paused whole
}

TEST(SimulatorTest, TargetsAreClampedToTheClusterBounds) {
  const Scenario s = seed_scenario();
  auto gen = WorkloadGenerator::create(s);
  const Workload w = gen->generate(1);
  Simulator sim(s, w);
  std::vector<StepRecord> rows;
  sim.record_timeline(&rows);
  int t = 0;
  simulate(sim, [&](const core::Observation&) {
    return core::Decision{t++ % 2 ? 1000 : -5, core::Tier::kNvme, core::Compression::kNone, ""};
  });
  for (const auto& r : rows) {
    EXPECT_GE(r.target, s.cluster.min_executors);
    EXPECT_LE(r.target, s.cluster.max_executors);
  }
}

TEST(SimulatorTest, SameSeedSameMetrics) {
  const Scenario s = seed_scenario();
  auto gen = WorkloadGenerator::create(s);
  const Workload w1 = gen->generate(9), w2 = gen->generate(9);
  Simulator a(s, w1), b(s, w2);
  auto policy = [](const core::Observation& o) {
    return core::Decision{o.cpu_util > 0.8 ? o.total_executors() + 2 : o.total_executors() - 1,
                          core::Tier::kNvme, core::Compression::kNone, ""};
  };
  const RunMetrics ma = simulate(a, policy);
  const RunMetrics mb = simulate(b, policy);
  EXPECT_EQ(ma.cost, mb.cost);
  EXPECT_EQ(ma.violations, mb.violations);
  EXPECT_EQ(ma.p95_latency_ms, mb.p95_latency_ms);
  // And a reset gives the same again.
  const RunMetrics mc = simulate(a, policy);
  EXPECT_EQ(ma.cost, mc.cost);
}

TEST(SimulatorTest, RescalesAndReversalsCountDirectionChanges) {
  const Scenario s = seed_scenario();
  auto gen = WorkloadGenerator::create(s);
  const Workload w = gen->generate(1);
  Simulator sim(s, w);
  // initial 6 -> 8 (up) -> 8 -> 3 (down, reversal) -> 5 (up, reversal) -> 5 ...
  const int targets[] = {8, 8, 3, 5};
  int t = 0;
  const RunMetrics m = simulate(sim, [&](const core::Observation&) {
    const int v = t < 4 ? targets[t] : 5;
    ++t;
    return core::Decision{v, core::Tier::kNvme, core::Compression::kNone, ""};
  });
  EXPECT_EQ(m.rescales, 3);
  EXPECT_EQ(m.reversals, 2);
}

}  // namespace
}  // namespace prescale::sim

namespace prescale::sim {
namespace {

TEST(SimulatorTest, CountsSwitchesAndEnvelopeOverridesFromTheDecisions) {
  const Scenario s = seed_scenario();
  auto gen = WorkloadGenerator::create(s);
  const Workload w = gen->generate(1);
  Simulator sim(s, w);
  std::vector<StepRecord> rows;
  sim.record_timeline(&rows);
  int t = 0;
  // Steps 0-1 on Redis (one switch from the default NVMe), step 2 back to NVMe with lz4
  // (a second), then NVMe/lz4; steps 1 and 3 carry envelope overrides.
  const RunMetrics m = simulate(sim, [&](const core::Observation&) {
    core::Decision d{6, t < 2 ? core::Tier::kRedis : core::Tier::kNvme,
                     t < 2 ? core::Compression::kNone : core::Compression::kLz4, "test"};
    if (t == 1) d.guards = core::kGuardFloor | core::kGuardDwell, d.reason = "guard: floor";
    if (t == 3) d.guards = core::kGuardStabilise, d.reason = "guard: stabilise";
    ++t;
    return d;
  });
  EXPECT_EQ(m.switches, 2);
  EXPECT_EQ(m.guard_overrides, 2);
  EXPECT_EQ(m.guard_floor, 1);
  EXPECT_EQ(m.guard_dwell, 1);
  EXPECT_EQ(m.guard_stabilise, 1);
  ASSERT_GT(rows.size(), 3u);
  EXPECT_STREQ(rows[1].reason, "guard: floor");
  EXPECT_EQ(rows[3].guards, core::kGuardStabilise);
}

// The observation the arena gives a policy follows the one definition (observe/observe.h,
// docs/model.md "The Observation"), checked here against the step model's own figures,
// field by field and exactly: the arena's values must not move with the builder.
TEST(SimulatorTest, TheObservationFollowsTheSharedDefinitions) {
  const Scenario s = seed_scenario();
  auto gen = WorkloadGenerator::create(s);
  const Workload w = gen->generate(2);
  Simulator sim(s, w);
  std::vector<StepRecord> rows;
  sim.record_timeline(&rows);
  const StepModel model(s);
  double backlog = 0;
  int t = 0;
  simulate(sim, [&](const core::Observation& o) {
    if (t > 0) {
      const StepRecord& r = rows[t - 1];
      // What the step that just ended did, recomputed from the model (no switches here).
      const StepOutcome out = model.run(r.load_rps, backlog, r.active, r.tier, r.codec);
      backlog = out.backlog_out;
      EXPECT_EQ(o.step, t);
      EXPECT_EQ(o.time_s, t * s.step_s);
      EXPECT_EQ(o.backlog_records, out.backlog_out);
      EXPECT_EQ(o.kafka_lag_records,
                out.backlog_out + r.load_rps * s.latency.trigger_s * 0.5);  // + half a trigger
      EXPECT_EQ(o.latency_ms, out.latency_ms);  // the model's: exact, backlog wait included
      EXPECT_EQ(o.busy_fraction, out.busy);
      EXPECT_EQ(o.cpu_util, out.cpu_util);
      EXPECT_EQ(o.batch_duration_ms, out.batch_ms);
      EXPECT_EQ(o.input_mb_s, r.load_rps * model.record_mb());
      EXPECT_EQ(o.trigger_ms, 1000.0 * s.latency.trigger_s);
      EXPECT_EQ(o.forecast_horizon_s, s.edge.horizon_s);
      EXPECT_EQ(o.burst_signal, w.signal[t] != 0);
      EXPECT_EQ(o.forecast_rps, w.forecast_rps[t]);
      EXPECT_EQ(o.signal_confidence, w.confidence[t]);
      EXPECT_TRUE(o.metrics_available);
      EXPECT_EQ(o.active_executors, r.active);
      EXPECT_EQ(o.pending_executors, r.pending);                   // requested - serving
      if (::testing::Test::HasFailure()) return core::Decision{};  // one step's worth
    }
    ++t;
    // Up and down, on one shuffle option: the pool's pending executors show.
    return core::Decision{t % 40 < 20 ? 12 : 3, core::Tier::kNvme, core::Compression::kNone, "t"};
  });
  ASSERT_GT(t, 100);
  int pending_seen = 0;
  for (const StepRecord& r : rows) pending_seen += r.pending > 0;
  EXPECT_GT(pending_seen, 0);
}

}  // namespace
}  // namespace prescale::sim

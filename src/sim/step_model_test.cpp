#include "sim/step_model.h"

#include <gtest/gtest.h>

namespace prescale::sim {
namespace {

using core::Compression;
using core::Tier;

// Seed figures: capacity 75,000 rec/s per executor, 1 kB records, NVMe 850 MB/s, Redis
// 2400 MB/s, overhead 200 ms, trigger 0.5 s, 2 tier ops per batch, step 5 s.
struct Case {
  const char* name;
  double arrivals, backlog_in;
  int active;
  Tier tier;
  Compression codec;
  double processed, backlog_out, latency_ms, cpu_util;
};

TEST(StepModelTest, MatchesHandComputedCases) {
  const Scenario s = default_scenario();
  const StepModel m(s);
  const Case cases[] = {
      // mu = min(4*75k, 850k) = 300k; rho = 0.5; latency = 200 + 2*20 + 500*0.5 = 490.
      {"a CPU-bound step under capacity has no backlog", 150'000, 0, 4, Tier::kNvme,
       Compression::kNone, 750'000, 0, 490, 0.5},
      // mu = min(20*75k = 1.5M, 850k) = 850k; demand 5M, processed 4.25M, backlog 750k;
      // latency = 240 + 500 + 1000*750k/850k = 1622.35; cpu = 4.25M/(20*75k*5) = 0.5667.
      {"NVMe bandwidth caps a large cluster", 1'000'000, 0, 20, Tier::kNvme, Compression::kNone,
       4'250'000, 750'000, 240 + 500 + 1000.0 * 750'000 / 850'000,
       4'250'000.0 / (20 * 75'000.0 * 5)},
      // Redis: io = 2.4M; mu = 1.5M; rho = 2/3: latency = 200 + 1 + 333.33.
      {"Redis lifts the I/O cap so CPU binds again", 1'000'000, 0, 20, Tier::kRedis,
       Compression::kNone, 5'000'000, 0, 201 + 500.0 * 1'000'000 / 1'500'000,
       5'000'000.0 / (20 * 75'000.0 * 5)},
      // lz4 on NVMe: io = 850/0.5 = 1.7M; cpu = 20*75k/1.1 = 1.3636M; mu = cpu.
      {"lz4 halves shuffle bytes but costs 10% CPU", 1'000'000, 0, 20, Tier::kNvme,
       Compression::kLz4, 5'000'000, 0, 240 + 500.0 * 1'000'000 / (1'500'000 / 1.1),
       5'000'000.0 * 1.1 / (20 * 75'000.0 * 5)},
      // Backlog carried in: demand = 1M + 100k*5 = 1.5M <= mu*dt = 1.5M: all processed.
      {"a backlog is drained when capacity allows", 100'000, 1'000'000, 4, Tier::kNvme,
       Compression::kNone, 1'500'000, 0, 240 + 500.0 * 100'000 / 300'000, 1.0},
      // No serving executor: nothing processed, latency = cap.
      {"no serving executor processes nothing", 100'000, 0, 0, Tier::kNvme, Compression::kNone, 0,
       500'000, 300'000, 0},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const StepOutcome o = m.run(c.arrivals, c.backlog_in, c.active, c.tier, c.codec);
    EXPECT_NEAR(o.processed, c.processed, 1e-6);
    EXPECT_NEAR(o.backlog_out, c.backlog_out, 1e-6);
    EXPECT_NEAR(o.latency_ms, c.latency_ms, 1e-6);
    EXPECT_NEAR(o.cpu_util, c.cpu_util, 1e-9);
    EXPECT_NEAR(o.processed + o.backlog_out, c.backlog_in + c.arrivals * 5, 1e-6);
    EXPECT_EQ(o.violation, o.latency_ms > 1000);
  }
}

TEST(StepModelTest, TierCostIsStoragePlusRequests) {
  const Scenario s = default_scenario();
  const StepModel m(s);
  // 100k rec/s * 5 s = 500k records = 500 MB shuffled; resident = 100 MB/s * 60 s = 6 GB.
  const StepOutcome redis = m.run(100'000, 0, 4, Tier::kRedis, Compression::kNone);
  EXPECT_NEAR(redis.tier_cost, 6.0 * s.shuffle.tiers[0].price_gb_hour * 5 / 3600, 1e-12);
  // S3: storage as above at the S3 price + 500 MB / 32 MB objects, one PUT + one GET each.
  const StepOutcome s3 = m.run(100'000, 0, 4, Tier::kS3, Compression::kNone);
  const double requests = 500.0 / 32.0;
  EXPECT_NEAR(
      s3.tier_cost,
      6.0 * s.shuffle.tiers[2].price_gb_hour * 5 / 3600 + requests * (0.005 + 0.0004) / 1000,
      1e-12);
  // zstd stores 30% of the bytes.
  const StepOutcome zstd = m.run(100'000, 0, 4, Tier::kRedis, Compression::kZstd);
  EXPECT_NEAR(zstd.tier_cost, 0.3 * redis.tier_cost, 1e-12);
}

TEST(StepModelTest, ExecutorPriceIsVcpuPlusMemory) {
  const Scenario s = default_scenario();
  // (4 * 0.052624 + 16 * 0.0057785) $/h * 5 s.
  EXPECT_NEAR(StepModel(s).executor_step_cost(), (4 * 0.052624 + 16 * 0.0057785) * 5 / 3600, 1e-15);
}

}  // namespace
}  // namespace prescale::sim

namespace prescale::sim {
namespace {

TEST(StepModelTest, ASwitchPausesTheJobAndATierSwitchMovesTheState) {
  const Scenario s = default_scenario();  // pause 0.25 s, state 200 MB
  const StepModel m(s);
  struct SwitchCase {
    const char* name;
    Tier from_tier;
    Compression from_codec;
    Tier tier;
    Compression codec;
    double pause_s;
  } cases[] = {
      {"no change costs nothing", Tier::kNvme, Compression::kNone, Tier::kNvme, Compression::kNone,
       0},
      {"a codec switch pauses the job", Tier::kNvme, Compression::kNone, Tier::kNvme,
       Compression::kLz4, 0.25},
      {"NVMe to Redis moves the state at NVMe's 850 MB/s", Tier::kNvme, Compression::kNone,
       Tier::kRedis, Compression::kNone, 0.25 + 200.0 / 850},
      {"Redis to S3 moves it at S3's 1200 MB/s", Tier::kRedis, Compression::kLz4, Tier::kS3,
       Compression::kZstd, 0.25 + 200.0 / 1200},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_NEAR(m.switch_pause_s(c.from_tier, c.from_codec, c.tier, c.codec), c.pause_s, 1e-12);
  }
  // The paused step: mu = 300k; the job serves 5 - 0.49 s of it and the latency grows by
  // the pause.
  const double pause = 0.25 + 200.0 / 850;
  const StepOutcome calm = m.run(150'000, 0, 4, Tier::kNvme, Compression::kNone);
  const StepOutcome paused = m.run(150'000, 0, 4, Tier::kNvme, Compression::kNone, pause);
  EXPECT_NEAR(paused.processed, 750'000, 1e-6);  // demand still fits in 4.51 s at 300k/s
  EXPECT_NEAR(paused.latency_ms, calm.latency_ms + 1000 * pause, 1e-6);
  const StepOutcome loaded = m.run(290'000, 0, 4, Tier::kNvme, Compression::kNone, pause);
  EXPECT_NEAR(loaded.processed, 300'000 * (5 - pause), 1e-6);
  EXPECT_TRUE(loaded.violation);
}

// The micro-batch model on the live stack's figures: 1 executor of 2,000 readings/s, 1,000
// ms of fixed cost per batch (overhead 960 + 2 x 20 ms NVMe round trips), a 5 s trigger,
// 2 s steps; every value worked by hand from the equations in step_model.h.
Scenario micro_batch_scenario() {
  Scenario s = default_scenario();
  s.step_s = 2;
  s.record_bytes = 100;
  s.cluster.capacity_rps = 2000;
  s.latency.overhead_ms = 960;
  s.latency.trigger_s = 5;
  s.latency.sla_ms = 12'000;
  s.latency.model = LatencyModel::kMicroBatch;
  return s;
}

TEST(StepModelMicroBatch, AReadingWaitsOneTriggerThenItsBatch) {
  const StepModel m(micro_batch_scenario());
  // 800/s: a batch takes 4,000 readings, D = 1,000 + 2,000 = 3,000 ms < the trigger, so
  // I = 5,000 and the executor loses 1/5 of its time to the fixed cost: 1,600/s > 800/s.
  const StepOutcome o = m.run(800, 0, 1, Tier::kNvme, Compression::kNone);
  EXPECT_DOUBLE_EQ(o.processed, 1600);
  EXPECT_DOUBLE_EQ(o.backlog_out, 0);
  EXPECT_DOUBLE_EQ(o.batch_ms, 3000);
  EXPECT_DOUBLE_EQ(o.latency_ms, 5000 + 3000);  // the oldest reading waited one trigger
  EXPECT_DOUBLE_EQ(o.busy, 3000.0 / 5000);      // batch / trigger, as the live job reports
  EXPECT_DOUBLE_EQ(o.cpu_util, o.busy);
  // The fluid model of the same job: no trigger wait, the fixed cost in latency only.
  Scenario fluid = micro_batch_scenario();
  fluid.latency.model = LatencyModel::kFluid;
  const StepOutcome f = StepModel(fluid).run(800, 0, 1, Tier::kNvme, Compression::kNone);
  EXPECT_DOUBLE_EQ(f.latency_ms, 1000 + 5000 * 0.4);
}

TEST(StepModelMicroBatch, ABatchLongerThanTheTriggerStretchesTheInterval) {
  const StepModel m(micro_batch_scenario());
  // 1,800/s: B = 9,000, D = 1,000 + 4,500 = 5,500 ms = I; the rate is 2,000 x (1 - 1/5.5) =
  // 1,636.4/s < 1,800/s, so a backlog grows: the trigger-filling load (1,600/s) is passed.
  const StepOutcome o = m.run(1800, 0, 1, Tier::kNvme, Compression::kNone);
  const double rate = 2000 * (1 - 1000.0 / 5500);
  EXPECT_NEAR(o.processed, 2 * rate, 1e-9);
  EXPECT_NEAR(o.backlog_out, 3600 - 2 * rate, 1e-9);
  EXPECT_DOUBLE_EQ(o.batch_ms, 5500);
  EXPECT_DOUBLE_EQ(o.busy, 1);
  const double d_end = 1000 + 1000 * (o.backlog_out + 9000) / 2000;
  EXPECT_NEAR(o.latency_ms, 2 * d_end, 1e-9);
  // Its steady state: the interval where the rate meets the load, I = fixed / (1 - rho) =
  // 1,000 / 0.1 = 10 s, so the backlog is 1,800 x (10 - 5) = 9,000 and the latency 2 I.
  const StepOutcome s = m.run(1800, 9000, 1, Tier::kNvme, Compression::kNone);
  EXPECT_NEAR(s.processed, 3600, 1e-9);
  EXPECT_NEAR(s.backlog_out, 9000, 1e-9);
  EXPECT_NEAR(s.latency_ms, 20'000, 1e-9);
}

TEST(StepModelMicroBatch, BigBatchesAmortiseTheFixedCost) {
  const StepModel m(micro_batch_scenario());
  // Above the executors' rate the backlog is drained by ever longer batches, at nearly the
  // full rate: 100,000 waiting and a trigger's 12,500, D = 1,000 + 56,250 ms, rate = 2,000 x
  // (1 - 1/57.25).
  const StepOutcome o = m.run(2500, 100'000, 1, Tier::kNvme, Compression::kNone);
  EXPECT_NEAR(o.processed, 2 * 2000 * (1 - 1000.0 / 57'250), 1e-9);
  EXPECT_TRUE(o.violation);
  // No executor serving: nothing moves, the latency is capped.
  const StepOutcome none = m.run(2500, 0, 0, Tier::kNvme, Compression::kNone);
  EXPECT_DOUBLE_EQ(none.processed, 0);
  EXPECT_DOUBLE_EQ(none.backlog_out, 5000);
  EXPECT_DOUBLE_EQ(none.latency_ms, micro_batch_scenario().latency.cap_ms);
}

TEST(StepModelMicroBatch, TheScenarioNamesItsLatencyModel) {
  auto ok = parse_scenario("name: x\nlatency: {model: microbatch}\n", "t.yaml");
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok->latency.model, LatencyModel::kMicroBatch);
  EXPECT_EQ(parse_scenario("name: x\n", "t.yaml")->latency.model, LatencyModel::kFluid);
  auto bad = parse_scenario("name: x\nlatency: {model: queue}\n", "t.yaml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("fluid|microbatch"), std::string::npos) << bad.error().message;
}

TEST(StepModelTest, ContentionMakesEachExecutorPastTheFirstWorthLess) {
  Scenario s = default_scenario();
  s.cluster.contention = 0.5;
  const StepModel m(s);
  EXPECT_DOUBLE_EQ(m.effective_executors(0), 0);
  EXPECT_DOUBLE_EQ(m.effective_executors(1), 1);
  EXPECT_DOUBLE_EQ(m.effective_executors(3), 3 / 2.0);  // 3 / (1 + 0.5 x 2)
  // Three executors of 75,000/s serve 112,500/s: saturated at 150,000/s, fully busy.
  const StepOutcome o = m.run(150'000, 0, 3, Tier::kRedis, Compression::kNone);
  EXPECT_DOUBLE_EQ(o.cpu_cap_rps, 112'500);
  EXPECT_DOUBLE_EQ(o.processed, 112'500 * s.step_s);
  EXPECT_DOUBLE_EQ(o.cpu_util, 1);
  // Linear without it.
  EXPECT_DOUBLE_EQ(StepModel(default_scenario()).effective_executors(3), 3);
}

}  // namespace
}  // namespace prescale::sim

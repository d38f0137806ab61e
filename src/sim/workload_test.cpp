#include "sim/workload.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace prescale::sim {
namespace {

Scenario seed_like() {
  Scenario s = default_scenario();
  s.steps = 500;
  s.step_s = 5;
  return s;
}

std::vector<std::pair<int, int>> episodes(const std::vector<std::uint8_t>& mask) {
  std::vector<std::pair<int, int>> out;
  for (int t = 0; t < static_cast<int>(mask.size()); ++t) {
    if (mask[t] && (t == 0 || !mask[t - 1])) out.push_back({t, t});
    if (mask[t]) out.back().second = t;
  }
  return out;
}

TEST(WorkloadTest, SameSeedSameTrafficOtherSeedOtherTraffic) {
  const Scenario s = seed_like();
  auto gen = WorkloadGenerator::create(s);
  ASSERT_TRUE(gen.ok());
  const Workload a = gen->generate(7), b = gen->generate(7), c = gen->generate(8);
  EXPECT_EQ(a.arrivals_rps, b.arrivals_rps);
  EXPECT_EQ(a.signal, b.signal);
  EXPECT_EQ(a.forecast_rps, b.forecast_rps);
  EXPECT_NE(a.arrivals_rps, c.arrivals_rps);
}

TEST(WorkloadTest, SyntheticLoadHasFourBurstsOfFourTimesTheBase) {
  const Scenario s = seed_like();
  Workload w;
  generate_synthetic(s, 3, &w);
  const auto eps = episodes(w.burst);
  ASSERT_EQ(eps.size(), 4u);
  for (const auto& [start, end] : eps) {
    EXPECT_GE(start * s.step_s, s.synthetic.first_burst_after_s);
    const int len = end - start + 1;
    EXPECT_GE(len * s.step_s, s.synthetic.burst_min_s - 2 * s.step_s);
    EXPECT_LE(len * s.step_s, s.synthetic.burst_max_s + s.step_s);
    const int mid = (start + end) / 2;
    EXPECT_NEAR(w.arrivals_rps[mid] / w.baseline_rps[mid], 4.0, 1e-9);
  }
  double sum = 0;
  for (double b : w.baseline_rps) sum += b;
  EXPECT_NEAR(sum / w.baseline_rps.size(), s.synthetic.base_rps, 0.15 * s.synthetic.base_rps);
}

TEST(WorkloadTest, EdgeSignalRisesAHorizonBeforeEachBurst) {
  Scenario s = seed_like();
  s.edge.miss_rate = 0;
  s.edge.false_alarms_per_hour = 0;
  Workload w;
  generate_synthetic(s, 5, &w);
  generate_edge_signal(s, 5, &w);
  const int h = 12;  // 60 s / 5 s
  for (const auto& [start, end] : episodes(w.burst)) {
    EXPECT_FALSE(w.signal[start - h - 1]) << "rises exactly h steps ahead";
    for (int t = start - h; t <= end; ++t) EXPECT_TRUE(w.signal[t]) << t;
    // The forecast made h steps ahead sees the burst's rate (10% noise).
    EXPECT_NEAR(w.forecast_rps[start + 2 - h] / w.arrivals_rps[start + 2], 1.0, 0.5);
  }
}

TEST(WorkloadTest, AMissRateOfOneHidesEveryBurst) {
  Scenario s = seed_like();
  s.edge.miss_rate = 1;
  s.edge.false_alarms_per_hour = 0;
  Workload w;
  generate_synthetic(s, 5, &w);
  generate_edge_signal(s, 5, &w);
  for (auto v : w.signal) EXPECT_FALSE(v);
}

TEST(WorkloadTest, FalseAlarmsRaiseTheSignalWithoutABurst) {
  Scenario s = seed_like();
  s.synthetic.bursts = 0;
  s.edge.false_alarms_per_hour = 60;  // ~ one per minute
  Workload w;
  generate_synthetic(s, 5, &w);
  generate_edge_signal(s, 5, &w);
  int on = 0;
  for (auto v : w.signal) on += v;
  EXPECT_GT(on, 0);
}

TEST(WorkloadTest, TraceReplaySpeedSetsTheStepsOfATrace) {
  // 10 minutes sampled every 10 s: 61 samples, a ramp 0..60.
  const auto path = std::filesystem::temp_directory_path() / "prescale_workload_speed.csv";
  {
    std::ofstream out(path);
    out << "t_seconds,value\n";
    for (int i = 0; i <= 60; ++i) out << i * 10 << "," << i << "\n";
  }
  struct Case {
    const char* name;
    double speedup, bucket_s;
    int steps;         // whole trace
    double first_rps;  // step 0: its bucket's mean x 600 / the highest bucket's mean
  } cases[] = {
      {"without speedup one sample is one step", 0, 0, 61, 0},
      {"bucket_s averages the samples in each bucket", 0, 20, 31, 5},
      {"at real speed a 5 s step is half a sample gap", 1, 0, 120, 0.25 * 600 / 59.75},
      {"at 2x a 5 s step covers one sample gap", 2, 0, 60, 0.5 * 600 / 59.5},
      {"at 60x the ten minutes take two steps", 60, 0, 2, 15 * 600 / 45.0},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    Scenario s = seed_like();
    s.source = WorkloadSource::kTrace;
    s.trace.file = path.string();
    s.trace.peak_rps = 600;
    s.trace.speedup = c.speedup;
    s.trace.bucket_s = c.bucket_s;
    s.steps = 0;
    auto gen = WorkloadGenerator::create(s);
    ASSERT_TRUE(gen.ok()) << gen.error().message;
    EXPECT_EQ(gen->steps(), c.steps);
    const Workload w = gen->generate(1);
    ASSERT_EQ(w.steps(), c.steps);
    EXPECT_NEAR(w.arrivals_rps[0], c.first_rps, 1e-9);
  }
}

TEST(WorkloadTest, ATinyBucketIsRefusedBeforeAllocating) {
  // A month of 30-minute samples (nyc_taxi's shape) in buckets of 1 ms: 2.6e9 steps.
  const auto path = std::filesystem::temp_directory_path() / "prescale_workload_tiny.csv";
  {
    std::ofstream out(path);
    out << "t_seconds,value\n";
    for (int i = 0; i <= 1440; ++i) out << i * 1800 << "," << i % 48 << "\n";
  }
  Scenario s = seed_like();
  s.source = WorkloadSource::kTrace;
  s.trace.file = path.string();
  s.trace.bucket_s = 0.001;
  auto gen = WorkloadGenerator::create(s);
  ASSERT_FALSE(gen.ok());
  EXPECT_NE(gen.error().message.find(path.string() + ": resampling the trace's span of 2592000 s"),
            std::string::npos)
      << gen.error().message;
  // 1 s buckets stay under the step bound, but are 1,800 made-up steps per sample.
  s.trace.bucket_s = 1;
  gen = WorkloadGenerator::create(s);
  ASSERT_FALSE(gen.ok());
  EXPECT_NE(gen.error().message.find("per sample; expected at most 1000"), std::string::npos)
      << gen.error().message;
}

TEST(WorkloadTest, SpeedupAndBucketTogetherAreRefused) {
  Scenario s = seed_like();
  s.source = WorkloadSource::kTrace;
  s.trace.file = "x.csv";
  s.trace.speedup = 1;
  s.trace.bucket_s = 300;
  const auto st = validate(s);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("workload.trace.bucket_s (300) and workload.trace.speedup (1) are "
                              "both set"),
            std::string::npos)
      << st.message();
  Trace t;
  t.file = "x.csv";
  t.points = {{0, 1}, {10, 2}};
  const auto r = replay_series(t, s.trace, s.step_s);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("bucket_s and workload.trace.speedup are both set"),
            std::string::npos);
}

}  // namespace
}  // namespace prescale::sim

#include "sim/workload.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace prescale::sim

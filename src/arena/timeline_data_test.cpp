#include "arena/timeline_data.h"

#include <gtest/gtest.h>

namespace prescale::arena {
namespace {

sim::StepRecord step(int i, double load, double latency, int active, std::uint8_t guards = 0,
                     bool signal = false) {
  sim::StepRecord r{};
  r.step = i;
  r.load_rps = load;
  r.processed_rps = load;
  r.active = active;
  r.pending = 0;
  r.target = active;
  r.tier = i % 2 == 0 ? core::Tier::kNvme : core::Tier::kRedis;
  r.codec = core::Compression::kNone;
  r.latency_ms = latency;
  r.signal = signal;
  r.guards = guards;
  return r;
}

TournamentResult run_of(int steps, const std::vector<std::string>& with_rows,
                        const std::vector<std::string>& results) {
  TournamentResult r;
  r.step_s = 5;
  r.steps = steps;
  for (const auto& name : results) {
    PolicySummary s;
    s.policy = name;
    r.results.push_back(s);
  }
  for (const auto& name : with_rows) {
    for (int i = 0; i < steps; ++i) {
      r.timeline.push_back(TimelineRow{name, 7, step(i, 100 + i, 500, 3)});
    }
  }
  return r;
}

TEST(TimelineColumnsTest, AShortRunKeepsEveryStepAsAPoint) {
  const TimelineColumns c = timeline_columns(run_of(10, {"hpa", "oracle"}, {"hpa", "oracle"}));
  EXPECT_EQ(c.seed, 7u);
  EXPECT_EQ(c.steps, 10);
  EXPECT_EQ(c.bucket_steps, 1);
  ASSERT_EQ(c.t_s.size(), 10u);
  EXPECT_DOUBLE_EQ(c.t_s[3], 15);
  EXPECT_DOUBLE_EQ(c.load_rps[3], 103);
  ASSERT_EQ(c.policies.size(), 2u);
  EXPECT_EQ(c.policies[0].policy, "hpa");
  EXPECT_EQ(c.policies[0].tier[1], static_cast<int>(core::Tier::kRedis));
}

TEST(TimelineColumnsTest, APolicyWithoutRowsIsListedWithNoSteps) {
  const TimelineColumns c = timeline_columns(run_of(4, {"oracle"}, {"hpa", "oracle"}));
  ASSERT_EQ(c.policies.size(), 2u);
  EXPECT_EQ(c.policies[0].policy, "hpa");
  EXPECT_EQ(c.policies[0].steps, 0);
  EXPECT_TRUE(c.policies[0].latency_ms.empty());
  EXPECT_EQ(c.policies[1].steps, 4);
}

TEST(TimelineColumnsTest, AnEmptyRunHasNoPointsAndNoPolicies) {
  const TimelineColumns c = timeline_columns(TournamentResult{});
  EXPECT_EQ(c.steps, 0);
  EXPECT_TRUE(c.t_s.empty());
  EXPECT_TRUE(c.policies.empty());
}

TEST(TimelineColumnsTest, ALongRunIsDecimatedKeepingEachBucketsMinimumAndMaximum) {
  TournamentResult r = run_of(1000, {}, {"hpa"});
  for (int i = 0; i < 1000; ++i) {
    // One spike of latency at step 457, one floor override at 611, a signal at 802.
    r.timeline.push_back(TimelineRow{"hpa", 1,
                                     step(i, 100, i == 457 ? 90'000 : 500, i == 300 ? 1 : 3,
                                          i == 611 ? core::kGuardFloor : 0, i == 802)});
    r.timeline.back().record.hold_s = i == 700 ? 240.0f : 60.0f;
  }
  const TimelineColumns c = timeline_columns(r, 100);
  EXPECT_EQ(c.bucket_steps, 20);
  ASSERT_EQ(c.t_s.size(), 100u);
  const PolicyColumns& p = c.policies[0];
  ASSERT_EQ(p.latency_ms.size(), 100u);
  // Bucket 22 holds steps 440..459: its two points are the minimum, then the maximum.
  EXPECT_DOUBLE_EQ(c.t_s[44], 440 * 5.0);
  EXPECT_DOUBLE_EQ(c.t_s[45], 450 * 5.0);
  EXPECT_DOUBLE_EQ(p.latency_ms[44], 500);
  EXPECT_DOUBLE_EQ(p.latency_ms[45], 90'000);
  EXPECT_EQ(p.active[30], 1);  // bucket 15 (steps 300..319): the dip survives
  EXPECT_EQ(p.active[31], 3);
  // Bits mark the half-bucket of their step: 611 is in bucket 30 (600..619), second half.
  EXPECT_EQ(p.guards[60], 0);
  EXPECT_EQ(p.guards[61], core::kGuardFloor);
  // The scale-down window: a bucket's minimum, then its maximum (700 is in 700..719).
  EXPECT_FLOAT_EQ(p.hold_s[70], 60);
  EXPECT_FLOAT_EQ(p.hold_s[71], 240);
  EXPECT_FLOAT_EQ(p.hold_s[73], 60);
  EXPECT_EQ(c.signal[80], 1);  // 802 is in 800..809, the first half of bucket 40
  EXPECT_EQ(c.signal[81], 0);
}

TEST(TimelineColumnsTest, NoSeriesExceedsTheCapForAnyLength) {
  for (int steps : {199, 200, 201, 999, 1001}) {
    const TimelineColumns c = timeline_columns(run_of(steps, {"hpa"}, {"hpa"}), 200);
    SCOPED_TRACE(steps);
    EXPECT_LE(c.t_s.size(), 200u);
    EXPECT_EQ(c.policies[0].latency_ms.size(), c.t_s.size());
    EXPECT_EQ(c.load_rps.size(), c.t_s.size());
  }
}

}  // namespace
}  // namespace prescale::arena

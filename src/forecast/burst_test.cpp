#include "forecast/burst.h"

#include <gtest/gtest.h>

namespace prescale::forecast {
namespace {

std::vector<std::uint8_t> bits(const char* s) {
  std::vector<std::uint8_t> v;
  for (; *s; ++s) v.push_back(*s == '1' ? 1 : 0);
  return v;
}

TEST(ScoreBursts, HandCounted) {
  // Bursts at 6-8 and 16-17; horizon 3. Signal 1 (4-7) detects the first 2 steps ahead;
  // signal 2 (11) is a false alarm; the second burst is missed.
  const auto truth = bits("000000111000000011000");
  const auto sig = bits("000011110001000000000");
  const BurstMetrics m = score_bursts(sig, truth, 3, 0);
  EXPECT_EQ(m.bursts, 2);
  EXPECT_EQ(m.detected, 1);
  EXPECT_EQ(m.signals, 2);
  EXPECT_EQ(m.true_signals, 1);
  EXPECT_DOUBLE_EQ(m.precision, 0.5);
  EXPECT_DOUBLE_EQ(m.recall, 0.5);
  EXPECT_DOUBLE_EQ(m.f1, 0.5);
  EXPECT_DOUBLE_EQ(m.mean_lead_steps, 2.0);
}

TEST(ScoreBursts, OnlyEpisodesFromTheTestSplitCount) {
  const auto truth = bits("0110000000110");
  const auto sig = bits("1100000001100");
  const BurstMetrics m = score_bursts(sig, truth, 2, 5);
  EXPECT_EQ(m.bursts, 1);
  EXPECT_EQ(m.signals, 1);
  EXPECT_DOUBLE_EQ(m.f1, 1.0);
  EXPECT_DOUBLE_EQ(m.mean_lead_steps, 1.0);
}

TEST(ScoreBursts, FragmentsAreOneBurstAndLateSignalsHaveNegativeLead) {
  // Truth 3-4 and 6-7 (gap 1 < horizon 3): one burst starting at 3; the signal rises at 5.
  const auto truth = bits("0001101100");
  const auto sig = bits("0000011100");
  const BurstMetrics m = score_bursts(sig, truth, 3, 0);
  EXPECT_EQ(m.bursts, 1);
  EXPECT_EQ(m.detected, 1);
  EXPECT_DOUBLE_EQ(m.mean_lead_steps, -2.0);
}

TEST(DetectBursts, HysteresisHoldsThroughADip) {
  // A flat load of 10, then a burst to 40 with one dip to 17 (below the raise threshold of
  // 2 x 10 but above the release threshold of 1.5 x 10): the last-value forecaster raises
  // once and stays up.
  std::vector<double> x(80, 10.0);
  for (int t = 70; t < 78; ++t) x[static_cast<size_t>(t)] = 40;
  x[74] = 17;
  LastValue f;
  const auto sig = detect_bursts(f, x, 1, DetectorParams{});
  int raises = 0;
  for (size_t t = 1; t < sig.size(); ++t) raises += sig[t] && !sig[t - 1];
  EXPECT_EQ(raises, 1);
  EXPECT_EQ(sig[74], 1);
  EXPECT_EQ(sig[69], 0);
}

TEST(TrueBursts, MatchesTheArenaDefinition) {
  std::vector<double> x(100, 5.0);
  x[80] = 11;  // > 2 x median 5
  x[81] = 10;  // not > 2 x 5
  const auto t = true_bursts(x);
  EXPECT_EQ(t[80], 1);
  EXPECT_EQ(t[81], 0);
}

}  // namespace
}  // namespace prescale::forecast

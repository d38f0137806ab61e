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
  // Bursts at 6-8 and 16-17; horizon 3, so windows 3-8 and 13-17. Signal 1 (4-7) detects the
  // first 2 steps ahead; signal 2 (11) is a false alarm; the second burst is missed.
  // Precision by time: 4 of the 5 signal samples (4, 5, 6, 7 but not 11) are in a window.
  const auto truth = bits("000000111000000011000");
  const auto sig = bits("000011110001000000000");
  const BurstMetrics m = score_bursts(sig, truth, 3, 0);
  EXPECT_EQ(m.bursts, 2);
  EXPECT_EQ(m.detected, 1);
  EXPECT_EQ(m.signals, 2);
  EXPECT_EQ(m.true_signals, 1);
  EXPECT_EQ(m.signal_on_steps, 5);
  EXPECT_EQ(m.in_window_steps, 4);
  EXPECT_DOUBLE_EQ(m.precision, 0.8);
  EXPECT_DOUBLE_EQ(m.recall, 0.5);
  EXPECT_DOUBLE_EQ(m.f1, 2 * 0.8 * 0.5 / 1.3);
  EXPECT_DOUBLE_EQ(m.mean_lead_steps, 2.0);
}

TEST(ScoreBursts, OnlyEpisodesFromTheTestSplitCount) {
  // Bursts 1-2 (before `from`, not scored) and 10-11 (window 8-11); the signal's samples
  // before `from` (0-1) do not count against its precision.
  const auto truth = bits("0110000000110");
  const auto sig = bits("1100000001100");
  const BurstMetrics m = score_bursts(sig, truth, 2, 5);
  EXPECT_EQ(m.bursts, 1);
  EXPECT_EQ(m.signals, 1);
  EXPECT_EQ(m.signal_on_steps, 2);
  EXPECT_DOUBLE_EQ(m.precision, 1.0);
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

// A series of n samples, 1 on [start, end] of each burst.
std::vector<std::uint8_t> episodes_of(size_t n, const std::vector<std::pair<size_t, size_t>>& on) {
  std::vector<std::uint8_t> v(n, 0);
  for (const auto& [a, b] : on)
    for (size_t t = a; t <= b; ++t) v[t] = 1;
  return v;
}

// x shifted by k samples: later when k > 0, earlier when k < 0 (zeros shifted in).
std::vector<std::uint8_t> shifted(const std::vector<std::uint8_t>& x, int k) {
  std::vector<std::uint8_t> v(x.size(), 0);
  for (size_t t = 0; t < x.size(); ++t) {
    const long s = static_cast<long>(t) + k;
    if (s >= 0 && s < static_cast<long>(x.size())) v[static_cast<size_t>(s)] = x[t];
  }
  return v;
}

TEST(ScoreBursts, AlwaysOnSignalHasLowPrecisionAndDetectsOnlyTheFirstBurst) {
  // Three bursts of 5 samples, horizon 5: the windows cover 3 x 10 of the 100 samples.
  const auto truth = episodes_of(100, {{20, 24}, {50, 54}, {80, 84}});
  const std::vector<std::uint8_t> on(100, 1);
  const BurstMetrics m = score_bursts(on, truth, 5, 0);
  EXPECT_EQ(m.bursts, 3);
  EXPECT_EQ(m.signal_on_steps, 100);
  EXPECT_EQ(m.in_window_steps, 30);
  EXPECT_DOUBLE_EQ(m.precision, 0.3);
  // Up since sample 0: it rose before the first burst only; it was already up through the
  // first burst when the second and third came.
  EXPECT_EQ(m.detected, 1);
  EXPECT_DOUBLE_EQ(m.recall, 1.0 / 3);
  EXPECT_DOUBLE_EQ(m.mean_lead_steps, 5.0);  // capped at the horizon
  EXPECT_LT(m.f1, 0.35);
}

TEST(ScoreBursts, AlwaysOffSignalScoresZero) {
  const auto truth = episodes_of(100, {{20, 24}, {50, 54}, {80, 84}});
  const std::vector<std::uint8_t> off(100, 0);
  const BurstMetrics m = score_bursts(off, truth, 5, 0);
  EXPECT_EQ(m.bursts, 3);
  EXPECT_EQ(m.detected, 0);
  EXPECT_DOUBLE_EQ(m.precision, 0.0);
  EXPECT_DOUBLE_EQ(m.recall, 0.0);
  EXPECT_DOUBLE_EQ(m.f1, 0.0);
  EXPECT_DOUBLE_EQ(m.mean_lead_steps, 0.0);
}

TEST(ScoreBursts, NoBurstsAndNoSignalIsPerfectButAnySignalTimeIsNot) {
  const std::vector<std::uint8_t> none(50, 0);
  const BurstMetrics quiet = score_bursts(none, none, 5, 0);
  EXPECT_DOUBLE_EQ(quiet.precision, 1.0);
  EXPECT_DOUBLE_EQ(quiet.recall, 1.0);
  EXPECT_DOUBLE_EQ(quiet.f1, 1.0);
  const BurstMetrics alarm = score_bursts(episodes_of(50, {{10, 12}}), none, 5, 0);
  EXPECT_DOUBLE_EQ(alarm.precision, 0.0);
  EXPECT_DOUBLE_EQ(alarm.f1, 0.0);
}

TEST(ScoreBursts, TruthDelayedByKStepsLeadsByExactlyMinusK) {
  // Bursts 5 long; the second starts h + 1 after the first ends (two bursts, not one), so the
  // late signal of the first burst is still up inside the second's window: it rose before the
  // first burst ended and must not be credited (with h) for the second.
  const int h = 4;
  const auto truth = episodes_of(60, {{10, 14}, {19, 23}, {40, 44}});
  for (int k = 1; k <= 4; ++k) {
    const BurstMetrics m = score_bursts(shifted(truth, k), truth, h, 0);
    EXPECT_EQ(m.bursts, 3) << "k = " << k;
    EXPECT_DOUBLE_EQ(m.recall, 1.0) << "k = " << k;
    EXPECT_DOUBLE_EQ(m.mean_lead_steps, -k) << "k = " << k;
    EXPECT_LT(m.precision, 1.0) << "k = " << k;  // the last k samples of each are past the end
  }
}

TEST(ScoreBursts, TruthAdvancedByKStepsLeadsByKWithPrecisionOne) {
  const int h = 6;
  const auto truth = episodes_of(80, {{20, 24}, {40, 47}, {60, 62}});
  for (int k = 0; k <= h; ++k) {
    const BurstMetrics m = score_bursts(shifted(truth, -k), truth, h, 0);
    EXPECT_DOUBLE_EQ(m.recall, 1.0) << "k = " << k;
    EXPECT_DOUBLE_EQ(m.precision, 1.0) << "k = " << k;
    EXPECT_DOUBLE_EQ(m.f1, 1.0) << "k = " << k;
    EXPECT_DOUBLE_EQ(m.mean_lead_steps, k) << "k = " << k;
  }
  // Earlier than the horizon: the lead is capped at h, and the time before the window costs
  // precision.
  const BurstMetrics early = score_bursts(shifted(truth, -(h + 2)), truth, h, 0);
  EXPECT_DOUBLE_EQ(early.recall, 1.0);
  EXPECT_DOUBLE_EQ(early.mean_lead_steps, h);
  EXPECT_LT(early.precision, 1.0);
}

TEST(ScoreBursts, SignalHeldLongAfterTheBurstLosesPrecision) {
  // A 5-sample burst; the signal rises with it and stays up 3 x 5 samples after it ends.
  const auto truth = episodes_of(60, {{20, 24}});
  const auto sig = episodes_of(60, {{20, 24 + 15}});
  const BurstMetrics m = score_bursts(sig, truth, 4, 0);
  EXPECT_DOUBLE_EQ(m.recall, 1.0);
  EXPECT_DOUBLE_EQ(m.mean_lead_steps, 0.0);
  EXPECT_EQ(m.signal_on_steps, 20);
  EXPECT_EQ(m.in_window_steps, 5);
  EXPECT_DOUBLE_EQ(m.precision, 0.25);
  EXPECT_LT(m.f1, 0.5);
}

TEST(ScoreBursts, PersistenceHasNoLead) {
  // A flat load of 10 with clear bursts to 40; before the third, the load stays at 17 for 15
  // samples after the second (below the ground truth's 2 x 10, above the detector's release
  // at 1.5 x 10), so last-value's signal is still up from the second burst when the third
  // comes: persistence echoes the present and must not be credited with any lead for it.
  std::vector<double> x(600, 10.0);
  const auto set = [&](size_t a, size_t b, double v) {
    for (size_t t = a; t <= b; ++t) x[t] = v;
  };
  set(100, 109, 40);
  set(200, 209, 40);
  set(210, 224, 17);
  set(225, 234, 40);
  set(400, 409, 40);
  const int h = 12;
  LastValue f;
  const auto sig = detect_bursts(f, x, h, DetectorParams{});
  ASSERT_EQ(sig[220], 1);  // the premise: held up between the second and third bursts
  const BurstMetrics m = score_bursts(sig, true_bursts(x), h, 0);
  EXPECT_EQ(m.bursts, 4);
  EXPECT_EQ(m.detected, 3);  // not the third: the signal rose before the second ended
  EXPECT_LE(m.mean_lead_steps, 0.0);
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

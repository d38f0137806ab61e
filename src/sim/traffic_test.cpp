#include "sim/traffic.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>

#include "sim/scenario.h"

namespace prescale::sim {
namespace {

constexpr TrafficFamily kFamilies[] = {TrafficFamily::kOnOff, TrafficFamily::kDiurnal,
                                       TrafficFamily::kSteps, TrafficFamily::kSpikes};

Workload make(TrafficFamily f, std::uint64_t seed, double peak = 1e6) {
  Workload w;
  generate_traffic(f, default_scenario(), peak, seed, &w);
  return w;
}

// Maximal runs of steps where pred(t) holds: (start, length).
template <class Pred>
std::vector<std::pair<int, int>> runs(int n, Pred pred) {
  std::vector<std::pair<int, int>> out;
  for (int t = 0; t < n;) {
    if (!pred(t)) {
      ++t;
      continue;
    }
    int e = t;
    while (e < n && pred(e)) ++e;
    out.emplace_back(t, e - t);
    t = e;
  }
  return out;
}

TEST(Traffic, EveryFamilyIsDeterministicInItsSeedAndDiffersAcrossSeeds) {
  for (auto f : kFamilies) {
    const Workload a = make(f, 42), b = make(f, 42), c = make(f, 43);
    EXPECT_EQ(a.arrivals_rps, b.arrivals_rps) << to_string(f);
    EXPECT_EQ(a.signal, b.signal) << to_string(f);
    EXPECT_EQ(a.forecast_rps, b.forecast_rps) << to_string(f);
    EXPECT_NE(a.arrivals_rps, c.arrivals_rps) << to_string(f);
  }
}

TEST(Traffic, EveryFamilyGivesFiniteNonNegativeRatesPeakingAtThePeakWithEdgeSignal) {
  const int n = default_scenario().steps;
  for (auto f : kFamilies) {
    for (std::uint64_t seed = 1; seed <= 50; ++seed) {
      const Workload w = make(f, seed, 7e5);
      ASSERT_EQ(w.steps(), n);
      ASSERT_EQ(static_cast<int>(w.signal.size()), n);
      ASSERT_EQ(static_cast<int>(w.burst.size()), n);
      ASSERT_EQ(static_cast<int>(w.baseline_rps.size()), n);
      for (int t = 0; t < n; ++t) {
        ASSERT_TRUE(std::isfinite(w.arrivals_rps[t]) && w.arrivals_rps[t] >= 0) << to_string(f);
        ASSERT_TRUE(std::isfinite(w.forecast_rps[t]) && w.forecast_rps[t] >= 0) << to_string(f);
      }
      EXPECT_NEAR(*std::max_element(w.arrivals_rps.begin(), w.arrivals_rps.end()), 7e5, 1e-3)
          << to_string(f) << " seed " << seed;
    }
  }
}

TEST(Traffic, OnOffDrawsStayInTheirDocumentedRanges) {
  Rng rng(3);
  for (int i = 0; i < 500; ++i) {
    const OnOffParams p = draw_on_off(rng);
    EXPECT_GE(p.on_alpha, 1.2);
    EXPECT_LE(p.on_alpha, 2.0);
    EXPECT_GE(p.off_alpha, 1.2);
    EXPECT_LE(p.off_alpha, 2.0);
    EXPECT_GE(p.on_min_s, 10);
    EXPECT_LE(p.on_min_s, 300);
    EXPECT_GE(p.off_min_s, 10);
    EXPECT_LE(p.off_min_s, 600);
    ASSERT_GE(p.levels.size(), 1u);
    ASSERT_LE(p.levels.size(), 3u);
    EXPECT_EQ(p.levels[0], 1.0);
    for (double l : p.levels) EXPECT_GE(l, 0.25);
    EXPECT_GE(p.floor, 0);
    EXPECT_LE(p.floor, 0.05);
    EXPECT_GE(p.events_per_s_at_top, 1);
    EXPECT_LE(p.events_per_s_at_top, 1000);
  }
}

TEST(Traffic, OnOffLoadHasIdleAndBusyStretchesInEveryEpisode) {
  const int n = 500;
  const double dt = 5;
  for (std::uint64_t seed = 1; seed <= 200; ++seed) {
    Rng prng(seed), srng(seed + 1000);
    const OnOffParams p = draw_on_off(prng);
    const TrafficShape sh = on_off_shape(p, n, dt, srng);
    ASSERT_EQ(static_cast<int>(sh.level.size()), n);
    int on = 0;
    for (int t = 0; t < n; ++t) {
      if (sh.event[t]) {
        ++on;
        EXPECT_GE(sh.level[t], 0.25);
      } else {
        EXPECT_EQ(sh.level[t], p.floor);
      }
    }
    EXPECT_GT(on, 0) << "seed " << seed;
    EXPECT_LT(on, n) << "seed " << seed;
    // No period is longer than half the episode.
    for (auto [s, len] : runs(n, [&](int t) { return sh.event[t] == 1; })) EXPECT_LE(len, n / 2);
    for (auto [s, len] : runs(n, [&](int t) { return sh.event[t] == 0; })) EXPECT_LE(len, n / 2);
  }
}

TEST(Traffic, OnOffPeriodsAreHeavyTailed) {
  // Many short bursts and a few long ones: with a Pareto shape below 2 the longest of many
  // ON periods is far above their median.
  OnOffParams p;
  p.on_alpha = p.off_alpha = 1.3;
  p.on_min_s = p.off_min_s = 10;
  Rng rng(7);
  const TrafficShape sh = on_off_shape(p, 100'000, 5, rng);
  std::vector<int> lens;
  for (auto [s, len] : runs(100'000, [&](int t) { return sh.event[t] == 1; })) lens.push_back(len);
  ASSERT_GT(lens.size(), 100u);
  std::sort(lens.begin(), lens.end());
  EXPECT_GE(lens.back(), 20 * lens[lens.size() / 2]);
}

TEST(Traffic, LowEventRatesAreNoisyAndHighOnesAreSmooth) {
  auto cv_of_on = [](double events) {
    OnOffParams p;
    p.events_per_s_at_top = events;
    p.levels = {1.0};
    // A constant ON level through Poisson counts: the coefficient of variation is
    // 1 / sqrt(events x step).
    Rng rng(5);
    double sum = 0, sq = 0;
    const int n = 20'000;
    for (int t = 0; t < n; ++t) {
      const double x = poisson(rng, events * 5) / (events * 5);
      sum += x;
      sq += x * x;
    }
    const double mean = sum / n;
    return std::sqrt(sq / n - mean * mean) / mean;
  };
  EXPECT_NEAR(cv_of_on(1), 1 / std::sqrt(5.0), 0.03);
  EXPECT_NEAR(cv_of_on(1000), 1 / std::sqrt(5000.0), 0.003);
}

TEST(Traffic, PoissonHasTheRightMeanOnBothSidesOfTheApproximation) {
  Rng rng(11);
  for (double mean : {0.3, 4.0, 29.0, 31.0, 500.0}) {
    double sum = 0;
    const int n = 50'000;
    for (int i = 0; i < n; ++i) {
      const double k = poisson(rng, mean);
      ASSERT_GE(k, 0);
      ASSERT_EQ(k, std::floor(k));
      sum += k;
    }
    EXPECT_NEAR(sum / n, mean, 4 * std::sqrt(mean / n) + 0.01) << mean;
  }
  EXPECT_EQ(poisson(rng, 0), 0);
}

TEST(Traffic, DiurnalRampsAreSmoothWithinTheirRatioAndCoverPeakAndTrough) {
  const int n = 500;
  const double dt = 5;
  for (std::uint64_t seed = 1; seed <= 200; ++seed) {
    Rng rng(seed);
    const DiurnalParams p = draw_diurnal(rng, n * dt);
    EXPECT_GE(p.period_s, 0.2 * n * dt - 1e-9);
    EXPECT_LE(p.period_s, 4 * n * dt + 1e-9);
    EXPECT_GE(p.ratio, 1.5);
    EXPECT_LE(p.ratio, 10);
    const TrafficShape sh = diurnal_shape(p, n, dt);
    for (int t = 0; t < n; ++t) {
      EXPECT_GE(sh.level[t], 1 / p.ratio - 1e-12);
      EXPECT_LE(sh.level[t], 1 + 1e-12);
      if (t > 0) {
        EXPECT_LT(std::abs(sh.level[t] - sh.level[t - 1]), 0.25) << "seed " << seed;
      }
    }
    // A whole period within the episode reaches both the peak and the trough.
    if (p.period_s <= n * dt / 1.2) {
      const auto [lo, hi] = std::minmax_element(sh.level.begin(), sh.level.end());
      EXPECT_GT(*hi, 0.97);
      EXPECT_LT(*lo, 1 / p.ratio + 0.03);
    }
  }
}

TEST(Traffic, StepChangesPersistAndShiftByTheirFactors) {
  const int n = 500;
  const double dt = 5;
  for (std::uint64_t seed = 1; seed <= 200; ++seed) {
    Rng rng(seed);
    const StepParams p = draw_steps(rng);
    const int m = static_cast<int>(p.factors.size());
    ASSERT_GE(m, 1);
    ASSERT_LE(m, 6);
    const TrafficShape sh = steps_shape(p, n, dt);
    // Moves (a shift and its ramp) are the marked steps; between them the level is flat
    // for at least half the shortest dwell.
    const auto moves = runs(n, [&](int t) { return sh.event[t] == 1; });
    ASSERT_EQ(static_cast<int>(moves.size()), m) << "seed " << seed;
    const int dwell = steps_min_dwell(m, n);
    int prev_end = 0;
    for (size_t i = 0; i < moves.size(); ++i) {
      const auto [start, len] = moves[i];
      EXPECT_GE(start - prev_end, dwell / 2) << "seed " << seed;
      for (int t = prev_end + 1; t < start; ++t) EXPECT_EQ(sh.level[t], sh.level[t - 1]);
      // The level after the move over the level before it is the shift's factor.
      const double before = sh.level[start - 1], after = sh.level[start + len - 1];
      EXPECT_NEAR(after / before, p.factors[i], 1e-9) << "seed " << seed;
      const double r = std::max(p.factors[i], 1 / p.factors[i]);
      EXPECT_GE(r, 1.5 - 1e-9);
      EXPECT_LE(r, 6 + 1e-9);
      prev_end = start + len;
    }
    EXPECT_GE(n - prev_end, dwell / 2);
    EXPECT_NEAR(*std::max_element(sh.level.begin(), sh.level.end()), 1.0, 1e-12);
    EXPECT_LE(*std::max_element(sh.level.begin(), sh.level.end()) /
                  *std::min_element(sh.level.begin(), sh.level.end()),
              12 * 12 + 1e-6);
  }
}

TEST(Traffic, SpikesAreShortIsolatedAndThreeToFiftyTimesTheBase) {
  const int n = 500;
  const double dt = 5;
  const int max_len = static_cast<int>(std::lround(kMaxSpikeS / dt));
  int one_step = 0;
  for (std::uint64_t seed = 1; seed <= 200; ++seed) {
    Rng rng(seed);
    const SpikeParams p = draw_spikes(rng, n * dt, dt);
    ASSERT_GE(p.spikes.size(), 1u);
    ASSERT_LE(p.spikes.size(), 8u);
    const TrafficShape sh = spikes_shape(p, n, dt);
    const auto spikes = runs(n, [&](int t) { return sh.event[t] == 1; });
    ASSERT_EQ(spikes.size(), p.spikes.size()) << "seed " << seed;
    for (size_t i = 0; i < spikes.size(); ++i) {
      const auto [start, len] = spikes[i];
      EXPECT_GE(len, 1);
      EXPECT_LE(len, max_len) << "seed " << seed;
      one_step += len <= 3;
      // Against the neighbouring base (the cycle moves by less than 1.7x in a few minutes).
      const int nb = start > 0 ? start - 1 : start + len;
      const double ratio = sh.level[start] / sh.level[nb];
      EXPECT_GE(ratio, 3 * 0.6) << "seed " << seed;
      EXPECT_LE(ratio, 50 / 0.6) << "seed " << seed;
    }
  }
  EXPECT_GT(one_step, 20);  // spikes of 1-3 steps are common
}

TEST(Traffic, ReplayWindowIsAScaledNoisyWindowOfTheSeries) {
  std::vector<float> series(5000);
  for (size_t i = 0; i < series.size(); ++i) series[i] = static_cast<float>(1 + (i / 100) % 7);
  Scenario s = default_scenario();
  Workload a, b;
  replay_window(series, s, 9e5, 77, &a);
  replay_window(series, s, 9e5, 77, &b);
  EXPECT_EQ(a.arrivals_rps, b.arrivals_rps);
  ASSERT_EQ(a.steps(), s.steps);
  EXPECT_NEAR(*std::max_element(a.arrivals_rps.begin(), a.arrivals_rps.end()), 9e5, 1e-3);
  for (double x : a.arrivals_rps) EXPECT_TRUE(std::isfinite(x) && x >= 0);
}

TEST(Traffic, PeaksLandBetweenAFifthAnd160PercentOfTheClusterMaxThroughput) {
  const Scenario s = default_scenario();
  // The seed: 20 executors x 75k records/s, under every tier's bandwidth with redis.
  EXPECT_NEAR(max_throughput_rps(s), 1.5e6, 1);
  Rng rng(9);
  int beyond = 0;
  for (int i = 0; i < 2000; ++i) {
    const double rel = draw_peak_rps(s, rng) / max_throughput_rps(s);
    EXPECT_GE(rel, 0.2 - 1e-9);
    EXPECT_LE(rel, 1.6 + 1e-9);
    beyond += rel > 1.0;
  }
  EXPECT_GT(beyond, 300);  // sometimes the cluster cannot keep up (~23%)
  EXPECT_LT(beyond, 600);
}

TEST(Traffic, RandomisedClustersStayValidAndWithinRanges) {
  const Scenario base = default_scenario();
  Rng rng(13);
  std::set<int> maxes;
  for (int i = 0; i < 1000; ++i) {
    Scenario s = base;
    randomise_cluster(rng, &s);
    ASSERT_TRUE(sim::validate(s).ok()) << sim::validate(s).error().message;
    EXPECT_GE(s.cluster.cold_start_s, 20);
    EXPECT_LE(s.cluster.cold_start_s, 180);
    EXPECT_GE(s.cluster.capacity_rps, 0.3 * base.cluster.capacity_rps - 1e-6);
    EXPECT_LE(s.cluster.capacity_rps, 3 * base.cluster.capacity_rps + 1e-6);
    EXPECT_GE(s.cluster.max_executors, 8);
    EXPECT_LE(s.cluster.max_executors, 60);
    EXPECT_GE(s.cluster.initial_executors, s.cluster.min_executors);
    EXPECT_LE(s.cluster.initial_executors, s.cluster.max_executors);
    EXPECT_EQ(s.step_s, base.step_s);
    EXPECT_EQ(s.steps, base.steps);
    maxes.insert(s.cluster.max_executors);
  }
  EXPECT_EQ(maxes.size(), 53u);  // every value of [8, 60]
  // A minimum above the drawn maximum is lowered to it.
  Scenario s = base;
  s.cluster.min_executors = s.cluster.initial_executors = s.cluster.max_executors = 70;
  randomise_cluster(rng, &s);
  EXPECT_TRUE(sim::validate(s).ok());
}

}  // namespace
}  // namespace prescale::sim

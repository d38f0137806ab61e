#include "forecast/forecaster.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include <cmath>

#include "forecast/evaluate.h"

namespace prescale::forecast {
namespace {

TEST(Baselines, LastValueAndEwma) {
  LastValue l;
  Ewma e(0.5);
  EXPECT_EQ(l.forecast(3), 0);
  for (double x : {2.0, 4.0, 8.0}) {
    l.observe(x);
    e.observe(x);
  }
  EXPECT_EQ(l.forecast(5), 8.0);
  EXPECT_DOUBLE_EQ(e.forecast(1), 0.5 * 8 + 0.5 * (0.5 * 4 + 0.5 * 2));  // 5.5
}

TEST(Baselines, SeasonalNaiveRepeatsTheLastPeriod) {
  SeasonalNaive s(4);
  for (double x : {1.0, 2.0, 3.0}) s.observe(x);
  EXPECT_EQ(s.forecast(2), 3.0);                  // less than a period: last value
  for (double x : {4.0, 5.0, 6.0}) s.observe(x);  // series 1..6, period 4: ..., 3, 4, 5, 6
  EXPECT_EQ(s.forecast(1), 3.0);                  // same phase as sample 3 (value 3)
  EXPECT_EQ(s.forecast(2), 4.0);
  EXPECT_EQ(s.forecast(4), 6.0);  // one whole period ahead = the last value
  EXPECT_EQ(s.forecast(5), 3.0);  // two periods back
}

TEST(Baselines, LinearRegressionExtrapolatesALine) {
  LinearRegression r(5);
  for (int i = 0; i < 10; ++i) r.observe(10 + 2.0 * i);  // last = 28
  EXPECT_NEAR(r.forecast(1), 30, 1e-9);
  EXPECT_NEAR(r.forecast(12), 52, 1e-9);
  LinearRegression down(3);
  for (double x : {9.0, 6.0, 3.0}) down.observe(x);
  EXPECT_EQ(down.forecast(5), 0.0);  // never below zero
}

TEST(Baselines, HoltWintersLearnsASeasonalPattern) {
  const int period = 24;
  HoltWinters hw(0.3, 0.02, 0.2, period);
  auto value = [&](int t) { return 100 + 30 * std::sin(2 * M_PI * t / period); };
  for (int t = 0; t < 20 * period; ++t) hw.observe(value(t));
  const int last = 20 * period - 1;
  for (int h : {1, 6, 12, 24}) EXPECT_NEAR(hw.forecast(h), value(last + h), 2.0) << "h=" << h;
}

TEST(Evaluate, HandComputedMetrics) {
  // Last value at h = 1 on 1,2,4,8 from index 1: errors -1,-2,-4.
  LastValue l;
  const PointMetrics m = evaluate(l, {1, 2, 4, 8}, 1, 1);
  EXPECT_EQ(m.points, 3u);
  EXPECT_NEAR(m.mae, 7.0 / 3, 1e-12);
  EXPECT_NEAR(m.rmse, std::sqrt(21.0 / 3), 1e-12);
  EXPECT_NEAR(m.smape, (200.0 / 3 + 200.0 * 2 / 6 + 200.0 * 4 / 12) / 3, 1e-9);
}

TEST(Evaluate, WindowedScoringAndParameters) {
  LastValue l;
  const PointMetrics m = evaluate(l, {1, 2, 4, 8, 16}, 1, 1, 3);  // targets 1 and 2 only
  EXPECT_EQ(m.points, 2u);
  EXPECT_NEAR(m.mae, 1.5, 1e-12);
  EXPECT_TRUE(make_baseline("ewma", 24, "alpha=0.7").ok());
  EXPECT_FALSE(make_baseline("ewma", 24, "alpha=1.7").ok());
  EXPECT_FALSE(make_baseline("ewma", 24, "alpha").ok());
  EXPECT_FALSE(make_baseline("linreg", 24, "window=1").ok());
  for (const auto& name : baseline_names()) {
    for (const auto& p : baseline_grid(name))
      EXPECT_TRUE(make_baseline(name, 24, p).ok()) << name << " " << p;
  }
}

TEST(Evaluate, SplitIsChronological) {
  const Split s = chronological_split(100);
  EXPECT_EQ(s.train_end, 60u);
  EXPECT_EQ(s.validation_end, 80u);
  EXPECT_EQ(s.n, 100u);
}

TEST(Evaluate, UnknownModelAndBadTraceAreClearErrors) {
  auto f = make_baseline("prophet", 24);
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.error().message.find("holt-winters"), std::string::npos);
  auto r = evaluate_baselines({"/nonexistent.csv"}, 12);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("/nonexistent.csv"), std::string::npos);
}

// A flat series up to 80% and alternating after: every baseline is exact on the validation
// split and not on the test split, so the two scorings must differ.
TEST(Evaluate, ValidationSplitScoresTheTwentyPercentBeforeTheTest) {
  const std::string path = testing::TempDir() + "/flat_then_noisy.csv";
  {
    std::ofstream out(path);
    out << "timestamp,value\n";
    for (int i = 0; i < 1000; ++i) {
      char ts[32];
      std::snprintf(ts, sizeof ts, "2015-01-%02d %02d:%02d:00", 1 + i / 288, (i % 288) / 12,
                    (i % 12) * 5);
      out << ts << "," << (i < 800 ? 10 : (i % 5 ? 5 : 30)) << "\n";
    }
  }
  auto test = evaluate_baselines({path}, 12);
  auto validation = evaluate_baselines({path}, 12, "", true);
  ASSERT_TRUE(test.ok()) << test.error().message;
  ASSERT_TRUE(validation.ok()) << validation.error().message;
  ASSERT_EQ(test->size(), validation->size());
  for (size_t i = 0; i < test->size(); ++i) {
    if ((*test)[i].model != "last") continue;
    EXPECT_EQ((*validation)[i].metrics.mae, 0.0);
    EXPECT_GT((*test)[i].metrics.mae, 1.0);
    EXPECT_EQ((*validation)[i].metrics.points, 200u);
  }
}

TEST(Evaluate, SeasonalBeatsLastValueOnNycTaxi) {
  const std::string path =
      std::string(PRESCALE_SOURCE_DIR) + "/data/traces/nab/realKnownCause/nyc_taxi.csv";
  auto rows = evaluate_baselines({path}, 12);  // the repository ships the trace
  ASSERT_TRUE(rows.ok()) << rows.error().message;
  double last = 0, seasonal = 0;
  for (const auto& r : *rows) {
    if (r.model == "last") last = r.metrics.mae;
    if (r.model == "seasonal") seasonal = r.metrics.mae;
  }
  // 12 half-hours ahead on a daily cycle: yesterday is a far better guess than now.
  EXPECT_LT(seasonal, 0.5 * last);
}

TEST(Evaluate, AFewMillisecondRowsDoNotSizeADayOfHistory) {
  // 400 rows 1 ms apart: a day is 86.4 M samples, which the seasonal baselines would each hold
  // (691 MB; 6.9 GB at 0.1 ms) for a series that never completes one.
  const std::string path = testing::TempDir() + "/millisecond_rows.csv";
  {
    std::ofstream out(path);
    out << "t_seconds,value\n";
    for (int i = 0; i < 400; ++i) out << (i + 1) * 0.001 << "," << 1 + i % 7 << "\n";
  }
  auto p = prepare_trace(path);
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->period, 86'400'000);
  ASSERT_GE(p->series.size(), 399u);
  EXPECT_EQ(p->baseline_period(), static_cast<int>(p->series.size()) + 1);
  // A period the series never completes forecasts as the day would: the last value.
  auto capped = make_baseline("seasonal", p->baseline_period());
  ASSERT_TRUE(capped.ok());
  LastValue last;
  EXPECT_EQ(evaluate(**capped, p->series, 12, 0).mae, evaluate(last, p->series, 12, 0).mae);
  auto rows = evaluate_baselines({path}, 12);
  ASSERT_TRUE(rows.ok()) << rows.error().message;
  // A spacing of a nanosecond is still a day of at most kMaxDaySamples, not an int overflow.
  std::ofstream(path) << "t_seconds,value\n0.000000001,1\n0.000000002,2\n0.000000003,3\n";
  auto tiny = prepare_trace(path);
  ASSERT_TRUE(tiny.ok()) << tiny.error().message;
  EXPECT_EQ(tiny->period, static_cast<int>(kMaxDaySamples));
  EXPECT_LE(tiny->baseline_period(), 4);
}

}  // namespace
}  // namespace prescale::forecast

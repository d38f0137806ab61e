#include "forecast/blend.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "forecast/evaluate.h"
#include "forecast/global_testing.h"

namespace prescale::forecast {
namespace {

constexpr int kH = 12;

// A daily-like cycle of 24 samples: seasonal naive at 24 is exact, the last value is not.
std::vector<double> cycle(int n, int from = 0) {
  std::vector<double> x;
  for (int i = from; i < from + n; ++i) x.push_back(100 + 50 * std::sin(2 * M_PI * i / 24.0));
  return x;
}

OnlineBlend last_and_seasonal(BlendParams p = {}) {
  std::vector<std::unique_ptr<Forecaster>> e;
  e.push_back(std::make_unique<LastValue>());
  e.push_back(std::make_unique<SeasonalNaive>(24));
  return OnlineBlend(std::move(e), kH, p);
}

TEST(Blend, WeightsMoveToTheExpertThatForecastsThisStream) {
  OnlineBlend b = last_and_seasonal();
  EXPECT_DOUBLE_EQ(b.weights()[0], 0.5);  // nothing scored yet: equal weights
  const auto x = cycle(600);
  for (double v : x) b.observe(v);
  EXPECT_GT(b.weights()[1], 0.999);
  // Its forecast is then the seasonal one, exact on this stream.
  EXPECT_NEAR(b.forecast(kH), 100 + 50 * std::sin(2 * M_PI * (600 - 1 + kH) / 24.0), 1e-3);
  // Scored as a forecaster, it is as good as the better expert and far from the worse.
  SeasonalNaive s(24);
  LastValue l;
  const double mb = evaluate(b, x, kH, 300).mae, ms = evaluate(s, x, kH, 300).mae,
               ml = evaluate(l, x, kH, 300).mae;
  EXPECT_LT(mb, ms + 1e-6 * ml);
  EXPECT_LT(mb, 0.01 * ml);
}

// An expert that always says the same.
class Constant : public Forecaster {
 public:
  explicit Constant(double v) : v_(v) {}
  std::string_view name() const override { return "constant"; }
  void reset() override {}
  void observe(double) override {}
  double forecast(int) const override { return v_; }

 private:
  double v_;
};

TEST(Blend, TheDiscountLetsTheWeightsFollowAStreamThatChanges) {
  // 600 samples at 100, then 200: the expert saying 100 was right, then the one saying 200.
  auto pair = [](BlendParams p) {
    std::vector<std::unique_ptr<Forecaster>> e;
    e.push_back(std::make_unique<Constant>(100));
    e.push_back(std::make_unique<Constant>(200));
    return OnlineBlend(std::move(e), kH, p);
  };
  OnlineBlend fast = pair({}), slow = pair({0.5, 1.0});  // discount 1: every loss kept for ever
  for (int i = 0; i < 600; ++i) fast.observe(100), slow.observe(100);
  ASSERT_GT(fast.weights()[0], 0.999);
  ASSERT_GT(slow.weights()[0], 0.999);
  int moved_fast = -1, moved_slow = -1;
  for (int i = 0; i < 2000; ++i) {
    fast.observe(200), slow.observe(200);
    if (moved_fast < 0 && fast.weights()[1] > 0.99) moved_fast = i;
    if (moved_slow < 0 && slow.weights()[1] > 0.99) moved_slow = i;
  }
  // Discounted, the blend follows within about a hundred samples; kept for ever, the 600
  // samples at 100 hold it on the old expert for as long again.
  EXPECT_GE(moved_fast, 0);
  EXPECT_LT(moved_fast, 120);
  EXPECT_GT(moved_slow, 500) << moved_fast;
}

TEST(Blend, AForecastDependsOnlyOnWhatWasObserved) {
  // Two streams with the same first 400 samples: the blends agree up to there, whatever comes
  // after.
  auto a = cycle(500), b = cycle(400);
  for (int i = 0; i < 100; ++i) b.push_back(7.0 * i);
  const GlobalModel m = random_global_model(3, 8, kH);
  OnlineBlend fa = make_global_blend(m, 24), fb = make_global_blend(m, 24);
  for (size_t t = 0; t < 400; ++t) {
    fa.observe(a[t]);
    fb.observe(b[t]);
    ASSERT_EQ(fa.forecast(kH), fb.forecast(kH)) << "t=" << t;
  }
  // reset() starts over: the same stream gives the same forecasts again.
  const double before = fa.forecast(kH);
  fa.reset();
  for (size_t t = 0; t < 400; ++t) fa.observe(a[t]);
  EXPECT_EQ(fa.forecast(kH), before);
}

TEST(Blend, ABadReadingNeitherPoisonsTheWeightsNorTheForecast) {
  const GlobalModel m = random_global_model(5, 8, kH);
  OnlineBlend b = make_global_blend(m, 24);
  EXPECT_EQ(b.experts(), 9u);  // global, last, six EWMAs, seasonal
  for (double v : cycle(100)) b.observe(v);
  b.observe(std::numeric_limits<double>::quiet_NaN());
  b.observe(std::numeric_limits<double>::infinity());
  b.observe(1e300);
  for (double v : cycle(100, 103)) b.observe(v);
  double sum = 0;
  for (double w : b.weights()) {
    ASSERT_TRUE(std::isfinite(w));
    EXPECT_GE(w, 0);
    sum += w;
  }
  EXPECT_NEAR(sum, 1, 1e-9);
  EXPECT_TRUE(std::isfinite(b.forecast(kH)));
}

}  // namespace
}  // namespace prescale::forecast

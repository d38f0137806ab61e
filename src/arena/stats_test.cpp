#include "arena/stats.h"

#include <gtest/gtest.h>

#include <cmath>

namespace prescale::arena {
namespace {

TEST(StatsTest, MeanAndStudentInterval) {
  // 1, 2, 3, 4, 5: mean 3, sample sd sqrt(2.5), t(4) = 2.776: ci = 2.776 * 1.5811 / 2.2361.
  const Stat s = summarize({1, 2, 3, 4, 5});
  EXPECT_DOUBLE_EQ(s.mean, 3);
  EXPECT_NEAR(s.ci95, 2.776 * std::sqrt(2.5) / std::sqrt(5.0), 1e-9);
  EXPECT_EQ(s.n, 5);
}

TEST(StatsTest, OneValueHasNoInterval) {
  const Stat s = summarize({7});
  EXPECT_DOUBLE_EQ(s.mean, 7);
  EXPECT_DOUBLE_EQ(s.ci95, 0);
}

TEST(StatsTest, TQuantileApproachesTheNormal) {
  EXPECT_DOUBLE_EQ(t_quantile_975(19), 2.093);
  EXPECT_NEAR(t_quantile_975(1000), 1.962, 1e-3);
}

}  // namespace
}  // namespace prescale::arena

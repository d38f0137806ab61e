#include "rl/gae.h"

#include <gtest/gtest.h>

#include <cmath>

#include "rl/replay_buffer.h"

namespace prescale::rl {
namespace {

TEST(Gae, HandComputedThreeSteps) {
  // gamma 0.9, lambda 0.8; no terminal; bootstrap V(s3) = 4.
  // delta2 = 3 + 0.9*4 - 2.5 = 4.1;       A2 = 4.1
  // delta1 = 0 + 0.9*2.5 - 1 = 1.25;      A1 = 1.25 + 0.72*4.1 = 4.202
  // delta0 = 1 + 0.9*1 - 0.5 = 1.4;       A0 = 1.4 + 0.72*4.202 = 4.42544
  std::vector<float> adv, ret;
  compute_gae({1, 0, 3}, {0.5f, 1, 2.5f}, {0, 0, 0}, 4, 0.9f, 0.8f, &adv, &ret);
  ASSERT_EQ(adv.size(), 3u);
  EXPECT_NEAR(adv[2], 4.1, 1e-5);
  EXPECT_NEAR(adv[1], 4.202, 1e-5);
  EXPECT_NEAR(adv[0], 4.42544, 1e-5);
  EXPECT_NEAR(ret[0], 4.92544, 1e-5);
  EXPECT_NEAR(ret[2], 6.6, 1e-5);
}

TEST(Gae, TerminalStopsBootstrapAndPropagation) {
  // Episode ends after step 0: A0 = r0 - V0 only; step 1 starts a new episode.
  std::vector<float> adv, ret;
  compute_gae({2, 1}, {1, 3}, {1, 0}, 10, 0.5f, 1.0f, &adv, &ret);
  EXPECT_NEAR(adv[0], 1.0, 1e-6);               // 2 - 1
  EXPECT_NEAR(adv[1], 1 + 0.5 * 10 - 3, 1e-6);  // 3
}

TEST(Gae, LambdaOneIsMonteCarloAdvantage) {
  std::vector<float> adv, ret;
  compute_gae({1, 1, 1}, {0, 0, 0}, {0, 0, 1}, 99, 1.0f, 1.0f, &adv, &ret);
  EXPECT_NEAR(ret[0], 3, 1e-6);
  EXPECT_NEAR(ret[1], 2, 1e-6);
  EXPECT_NEAR(ret[2], 1, 1e-6);
}

TEST(ClippedSurrogate, HandComputed) {
  // Positive advantage: the gain is capped at (1 + eps) A.
  EXPECT_FLOAT_EQ(clipped_surrogate(1.5f, 2.0f, 0.2f), 2.4f);
  EXPECT_FLOAT_EQ(clipped_surrogate(1.1f, 2.0f, 0.2f), 2.2f);
  // Negative advantage: a smaller ratio is clipped at (1 - eps), the pessimistic min wins.
  EXPECT_FLOAT_EQ(clipped_surrogate(0.5f, -1.0f, 0.2f), -0.8f);
  EXPECT_FLOAT_EQ(clipped_surrogate(1.5f, -1.0f, 0.2f), -1.5f);
}

TEST(RunningNorm, MatchesBatchStatisticsAcrossMerges) {
  RunningNorm n(2);
  const float a[] = {1, 10, 2, 20, 3, 30};
  const float b[] = {4, 40, 5, 50};
  n.update(a, 3);
  n.update(b, 2);
  const auto mean = n.mean();
  const auto sd = n.stddev();
  EXPECT_NEAR(mean[0], 3.0, 1e-6);
  EXPECT_NEAR(mean[1], 30.0, 1e-5);
  EXPECT_NEAR(sd[0], std::sqrt(2.0), 1e-5);  // population variance of 1..5 is 2
  EXPECT_NEAR(sd[1], std::sqrt(200.0), 1e-4);
  float out[2];
  const float x[] = {3, 30};
  n.normalize(x, out);
  EXPECT_NEAR(out[0], 0, 1e-6);
  RunningNorm copy(2);
  ASSERT_TRUE(copy.set_state(n.state()));
  EXPECT_EQ(copy.mean(), n.mean());
  EXPECT_FALSE(copy.set_state({1, 2}));
}

TEST(RunningNorm, ConstantFeatureHasFlooredStd) {
  RunningNorm n(1);
  const float z[] = {0, 0, 0};
  n.update(z, 3);
  EXPECT_FLOAT_EQ(n.stddev()[0], static_cast<float>(RunningNorm::kMinStd));
}

TEST(ReplayBuffer, RingOverwritesOldestAndSamplesStoredRows) {
  ReplayBuffer b(3, 2, 1);
  for (int i = 0; i < 5; ++i) {
    const float s[] = {static_cast<float>(i), 0};
    const float a[] = {0.5f};
    const float s2[] = {static_cast<float>(i + 1), 0};
    b.add(s, a, static_cast<float>(i), s2, i == 4);
  }
  EXPECT_EQ(b.size(), 3);
  EXPECT_EQ(b.reward(0), 2);  // 0 and 1 were overwritten
  EXPECT_EQ(b.reward(2), 4);
  EXPECT_EQ(b.state(1)[0], 3);
  sim::Rng rng(5);
  std::vector<float> s, a, r, s2, d;
  b.sample(64, rng, &s, &a, &r, &s2, &d);
  ASSERT_EQ(r.size(), 64u);
  bool seen[5] = {};
  for (int k = 0; k < 64; ++k) {
    ASSERT_GE(r[k], 2);
    ASSERT_LE(r[k], 4);
    seen[static_cast<int>(r[k])] = true;
    EXPECT_EQ(s[k * 2], r[k]);  // rows stay intact
    EXPECT_EQ(s2[k * 2], r[k] + 1);
    EXPECT_EQ(d[k], r[k] == 4 ? 1.0f : 0.0f);
  }
  EXPECT_TRUE(seen[2] && seen[3] && seen[4]);
}

}  // namespace
}  // namespace prescale::rl

// Learning tests: PPO and TD3 each solve a tiny problem within a small budget, so broken
// learning (a sign error, a detached loss, a wrong head offset) fails here.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>

#include "policy/rl_model.h"
#include "rl/ppo.h"
#include "rl/td3.h"
#include "rl/trainer.h"

namespace prescale::rl {
namespace {

// Contextual bandit: 3 contexts (one-hot + a noise input); head 0 (5 choices) must pick
// the context's arm, head 1 (2 choices) must pick context % 2.
TEST(Ppo, LearnsAContextualBanditWithTwoHeads) {
  use_single_torch_thread();
  PpoConfig cfg;
  cfg.obs_dim = 4;
  cfg.heads = {5, 2};
  cfg.hidden = 32;
  cfg.lr = 3e-3;
  cfg.minibatch = 128;
  cfg.seed = 3;
  Ppo ppo(cfg);
  sim::Rng rng(11);
  const int arm[3] = {4, 0, 2};
  const int n = 256;
  std::vector<float> obs(n * 4), norm(n * 4), logp(n), val(n), rew(n);
  std::vector<int> act(n * 2);
  auto fill = [&](std::vector<int>* ctx) {
    ctx->resize(n);
    for (int i = 0; i < n; ++i) {
      (*ctx)[i] = static_cast<int>(rng.uniform() * 3) % 3;
      for (int j = 0; j < 3; ++j) obs[i * 4 + j] = (*ctx)[i] == j ? 1.0f : 0.0f;
      obs[i * 4 + 3] = static_cast<float>(rng.normal());
    }
  };
  std::vector<int> ctx;
  for (int it = 0; it < 60; ++it) {
    fill(&ctx);
    ppo.normalizer().update(obs.data(), n);
    ppo.act(obs.data(), n, rng, false, norm.data(), act.data(), logp.data(), val.data());
    PpoBatch b;
    b.n = n;
    b.obs = norm;
    b.actions = act;
    b.logp = logp;
    std::vector<unsigned char> done(1, 1);
    for (int i = 0; i < n; ++i) {
      const float r =
          (act[i * 2] == arm[ctx[i]] ? 1.0f : 0.0f) + (act[i * 2 + 1] == ctx[i] % 2 ? 0.5f : 0.0f);
      std::vector<float> a1, g1;
      compute_gae({r}, {val[i]}, done, 0, 0.99f, 0.95f, &a1, &g1);
      b.adv.push_back(a1[0]);
      b.ret.push_back(g1[0]);
    }
    ppo.update(b, rng);
  }
  fill(&ctx);
  ppo.act(obs.data(), n, rng, true, norm.data(), act.data(), logp.data(), val.data());
  int right = 0;
  for (int i = 0; i < n; ++i) right += act[i * 2] == arm[ctx[i]] && act[i * 2 + 1] == ctx[i] % 2;
  EXPECT_EQ(right, n);
  // The critic learned the value of the greedy policy's world (~1.5 under a good policy).
  float v = 0;
  for (int i = 0; i < n; ++i) v += val[i] / n;
  EXPECT_GT(v, 1.0);
}

// Exported model = the same greedy actions as the torch actor; save -> load is exact.
TEST(Ppo, ExportSaveLoadGivesIdenticalActions) {
  PpoConfig cfg;
  cfg.obs_dim = 6;
  cfg.heads = {4, 3};
  cfg.seed = 9;
  Ppo ppo(cfg);
  sim::Rng rng(2);
  const int n = 200;
  std::vector<float> obs(n * 6), norm(n * 6), logp(n), val(n);
  for (auto& x : obs) x = static_cast<float>(rng.normal() * 3 + 1);
  ppo.normalizer().update(obs.data(), n);
  std::vector<int> act(n * 2);
  ppo.act(obs.data(), n, rng, true, norm.data(), act.data(), logp.data(), val.data());

  const std::string path = testing::TempDir() + "/ppo_export.json";
  policy::Model m =
      ppo.export_actor("rl-test", {"a", "b", "c", "d", "e", "f"}, R"({"why":"test"})");
  ASSERT_TRUE(policy::save_model(m, path).ok());
  auto loaded = policy::load_model(path);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  for (int i = 0; i < n; ++i) {
    const auto& y = loaded->net.forward(&obs[static_cast<size_t>(i) * 6]);
    const auto& y0 = m.net.forward(&obs[static_cast<size_t>(i) * 6]);
    for (int k = 0; k < 7; ++k) ASSERT_EQ(y[k], y0[k]) << "save/load changed a number";
    int a0 = 0, a1 = 4;
    for (int k = 1; k < 4; ++k)
      if (y[k] > y[a0]) a0 = k;
    for (int k = 5; k < 7; ++k)
      if (y[k] > y[a1]) a1 = k;
    EXPECT_EQ(a0, act[i * 2]) << "row " << i;
    EXPECT_EQ(a1 - 4, act[i * 2 + 1]) << "row " << i;
  }
}

TEST(Ppo, CheckpointResumesExactlyAndRejectsGarbage) {
  PpoConfig cfg;
  cfg.obs_dim = 3;
  cfg.heads = {2};
  Ppo a(cfg);
  const float x[] = {0.5f, -1, 2};
  a.normalizer().update(x, 1);
  const std::string path = testing::TempDir() + "/ppo.pt";
  ASSERT_TRUE(a.save_checkpoint(path).ok());
  PpoConfig other = cfg;
  other.seed = 99;
  Ppo b(other);
  ASSERT_TRUE(b.load_checkpoint(path).ok());
  sim::Rng r1(1), r2(1);
  float n1[3], n2[3], lp1, lp2, v1, v2;
  int a1, a2;
  a.act(x, 1, r1, false, n1, &a1, &lp1, &v1);
  b.act(x, 1, r2, false, n2, &a2, &lp2, &v2);
  EXPECT_EQ(lp1, lp2);
  EXPECT_EQ(v1, v2);

  PpoConfig wider = cfg;
  wider.obs_dim = 4;
  Ppo c(wider);
  auto st = c.load_checkpoint(path);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("different network shape"), std::string::npos) << st.message();

  const std::string junk = testing::TempDir() + "/junk.pt";
  std::FILE* f = std::fopen(junk.c_str(), "wb");
  std::fputs("not a checkpoint", f);
  std::fclose(f);
  st = b.load_checkpoint(junk);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("junk.pt"), std::string::npos) << st.message();
  EXPECT_FALSE(b.load_checkpoint(testing::TempDir() + "/missing.pt").ok());
}

TEST(Td3, SoftUpdateIsPolyakAveraging) {
  Td3Config cfg;
  cfg.obs_dim = 2;
  cfg.hidden = 8;
  Td3 td3(cfg);
  // Targets start as copies.
  EXPECT_EQ(td3.parameters("actor"), td3.parameters("actor_target"));
  EXPECT_EQ(td3.parameters("critic2"), td3.parameters("critic2_target"));
  // Move the online critic by learning, then check target' = tau*online + (1-tau)*target.
  ReplayBuffer buf(16, 2, 1);
  sim::Rng rng(1);
  for (int i = 0; i < 16; ++i) {
    const float s[] = {1, 0}, a[] = {0.3f}, s2[] = {0, 1};
    buf.add(s, a, 1.0f, s2, true);
  }
  td3.update(buf, rng);  // critic step only (policy_delay 2)
  const auto online = td3.parameters("critic1");
  const auto before = td3.parameters("critic1_target");
  ASSERT_NE(online, before);
  td3.soft_update(0.25);
  const auto after = td3.parameters("critic1_target");
  for (size_t i = 0; i < after.size(); ++i) {
    ASSERT_NEAR(after[i], 0.25f * online[i] + 0.75f * before[i], 1e-6);
  }
}

// One-step continuous problem: two states with best actions +0.6 and -0.4 (reward
// -(a - best)^2). TD3 must find both within a few hundred updates.
TEST(Td3, LearnsAContinuousTarget) {
  use_single_torch_thread();
  Td3Config cfg;
  cfg.obs_dim = 2;
  cfg.hidden = 32;
  cfg.gamma = 0.0;
  cfg.batch = 64;
  cfg.seed = 4;
  Td3 td3(cfg);
  ReplayBuffer buf(5000, 2, 1);
  sim::Rng rng(8);
  const float best[2] = {0.6f, -0.4f};
  for (int it = 0; it < 1500; ++it) {
    const int k = it % 2;
    const float s[] = {k == 0 ? 1.0f : 0.0f, k == 1 ? 1.0f : 0.0f};
    float a = 0;
    if (it < 200) {
      a = static_cast<float>(rng.uniform(-1, 1));
    } else {
      td3.act(s, &a);
      a = std::clamp(a + static_cast<float>(0.2 * rng.normal()), -1.0f, 1.0f);
    }
    const float r = -(a - best[k]) * (a - best[k]);
    buf.add(s, &a, r, s, true);
    if (it >= 100) td3.update(buf, rng);
  }
  for (int k = 0; k < 2; ++k) {
    const float s[] = {k == 0 ? 1.0f : 0.0f, k == 1 ? 1.0f : 0.0f};
    float a = 0;
    td3.act(s, &a);
    EXPECT_NEAR(a, best[k], 0.1) << "state " << k;
  }
}

TEST(Td3, CheckpointRoundTrip) {
  Td3Config cfg;
  cfg.obs_dim = 3;
  cfg.hidden = 8;
  Td3 a(cfg);
  const std::string path = testing::TempDir() + "/td3.pt";
  ASSERT_TRUE(a.save_checkpoint(path).ok());
  Td3Config c2 = cfg;
  c2.seed = 42;
  Td3 b(c2);
  ASSERT_NE(a.parameters("actor"), b.parameters("actor"));
  ASSERT_TRUE(b.load_checkpoint(path).ok());
  EXPECT_EQ(a.parameters("actor"), b.parameters("actor"));
  EXPECT_EQ(a.parameters("critic2_target"), b.parameters("critic2_target"));
  Td3Config c3 = cfg;
  c3.obs_dim = 5;
  Td3 c(c3);
  EXPECT_FALSE(c.load_checkpoint(path).ok());
}

}  // namespace
}  // namespace prescale::rl

#include "rl/trainer.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "policy/rl_policy.h"
#include "rl/env.h"
#include "sim/scenario.h"

namespace prescale::rl {
namespace {

TrainOptions tiny(const std::string& out) {
  TrainOptions o;
  o.scenario = sim::default_scenario();
  o.contexts = {core::BusinessContext::kHealthcare, core::BusinessContext::kBudget};
  o.variants = {"rl-full"};
  o.envs = 4;
  o.rollout = 64;
  o.worker_steps = 4 * 64 * 3;
  o.manager_episodes = 3;
  o.checkpoint_every = 1;
  o.evaluate = false;
  o.seed = 5;
  o.out_dir = out;
  o.resume = false;
  return o;
}

std::string checksum_of(const std::string& path) {
  auto m = policy::load_model(path);
  EXPECT_TRUE(m.ok()) << m.error().message;
  return m.ok() ? policy::model_checksum(m->net) : "";
}

TEST(Trainer, SameSeedSameModels) {
  const std::string a = testing::TempDir() + "/train_a", b = testing::TempDir() + "/train_b";
  std::filesystem::remove_all(a);
  std::filesystem::remove_all(b);
  ASSERT_TRUE(train(tiny(a)).ok());
  ASSERT_TRUE(train(tiny(b)).ok());
  EXPECT_EQ(checksum_of(a + "/worker-rl-full.json"), checksum_of(b + "/worker-rl-full.json"));
  EXPECT_EQ(checksum_of(a + "/manager.json"), checksum_of(b + "/manager.json"));
  TrainOptions other = tiny(b);
  other.seed = 6;
  other.out_dir = testing::TempDir() + "/train_c";
  std::filesystem::remove_all(other.out_dir);
  ASSERT_TRUE(train(other).ok());
  EXPECT_NE(checksum_of(a + "/worker-rl-full.json"),
            checksum_of(other.out_dir + "/worker-rl-full.json"));
}

// An ensemble: one member per seed, each what train() makes with that seed, and the arena
// runs rl on the directory (the held-out evaluation covers the ensemble).
TEST(Trainer, AnEnsembleTrainsOneMemberPerSeedAndEvaluatesThem) {
  const std::string dir = testing::TempDir() + "/train_ensemble";
  const std::string single = testing::TempDir() + "/train_ensemble_single";
  std::filesystem::remove_all(dir);
  std::filesystem::remove_all(single);
  TrainOptions o = tiny(dir);
  o.evaluate = true;
  o.eval_seeds = 1;
  auto r = train_ensemble(o, 2);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_NE(r->find("\"evaluation\""), std::string::npos) << *r;
  EXPECT_NE(r->find("\"rl\""), std::string::npos) << *r;
  ASSERT_TRUE(train(tiny(single)).ok());  // seed 5, as member-1
  EXPECT_EQ(checksum_of(dir + "/member-1/worker-rl-full.json"),
            checksum_of(single + "/worker-rl-full.json"));
  EXPECT_NE(checksum_of(dir + "/member-1/worker-rl-full.json"),
            checksum_of(dir + "/member-2/worker-rl-full.json"));
  EXPECT_TRUE(std::filesystem::exists(dir + "/ensemble.json"));
  EXPECT_FALSE(train_ensemble(o, 10).ok());
}

// The ablation workers alone train no manager (there is no rl-full worker to train it on);
// asking for the manager alone without that worker is an error naming the directory.
TEST(Trainer, AblationWorkersAloneTrainNoManager) {
  const std::string dir = testing::TempDir() + "/train_ablation_only";
  std::filesystem::remove_all(dir);
  TrainOptions o = tiny(dir);
  o.variants = {"rl-basic"};
  auto r = train(o);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(std::filesystem::exists(dir + "/worker-rl-basic.json"));
  EXPECT_FALSE(std::filesystem::exists(dir + "/manager.json"));
  o.variants.clear();  // --skip-workers
  r = train(o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("no worker-rl-full.json"), std::string::npos)
      << r.error().message;
}

TEST(Trainer, ResumesFromCheckpointAndRefusesAnotherSeed) {
  const std::string dir = testing::TempDir() + "/train_resume";
  std::filesystem::remove_all(dir);
  TrainOptions o = tiny(dir);
  o.contexts.clear();  // workers only
  ASSERT_TRUE(train(o).ok());
  o.resume = true;
  o.worker_steps *= 2;
  auto r = train(o);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_NE(r->find("\"env_steps\": 1536"), std::string::npos) << *r;
  o.seed = 77;
  r = train(o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("seed"), std::string::npos) << r.error().message;
}

TEST(Trainer, DevelopmentTracesAreNeverTrainingTraces) {
  const std::string nab = std::string(PRESCALE_SOURCE_DIR) + "/data/traces/nab";
  ASSERT_TRUE(std::filesystem::is_directory(nab)) << nab << " is missing (the repository ships it)";
  const auto files = training_traces(nab);
  // The 27 NAB files the repository ships, less the 8 NAB development traces.
  EXPECT_EQ(files.size(), 19u);
  for (const auto& f : files) {
    for (const auto& dev : development_traces()) {
      EXPECT_EQ(f.find(dev), std::string::npos) << f;
    }
  }
  EXPECT_TRUE(training_traces("/nonexistent").empty());
}

TEST(Env, RewardPricesViolationsAndCost) {
  // alpha 1: only latency; alpha 0: only cost (in units of kCostRefExecutors executors).
  EXPECT_DOUBLE_EQ(worker_reward(1.0, false, 500, 1000, 5.0, 1.0), 0.0);
  EXPECT_DOUBLE_EQ(worker_reward(1.0, true, 2000, 1000, 5.0, 1.0), -1.25);
  EXPECT_DOUBLE_EQ(worker_reward(0.0, true, 2000, 1000, kCostRefExecutors, 1.0), -1.0);
  EXPECT_DOUBLE_EQ(worker_reward(1.0, true, 1e9, 1000, 0, 1.0), -2.0);  // capped
}

TEST(Env, BusinessObjectiveHealthcarePunishesViolationsHarderThanBudget) {
  const double h = business_objective(core::BusinessContext::kHealthcare, 0.1, 5, 50, 5);
  const double b = business_objective(core::BusinessContext::kBudget, 0.1, 5, 50, 5);
  const double h0 = business_objective(core::BusinessContext::kHealthcare, 0.1, 0, 50, 5);
  const double b0 = business_objective(core::BusinessContext::kBudget, 0.1, 0, 50, 5);
  EXPECT_LT(h - h0, b - b0);  // the same 5 violations cost healthcare more
  EXPECT_LT(b0, h0);          // the same $ weighs more against the smaller budget
  // ($0.10 + 25 s of violation = 0.4167 min x $2) / ($4/h x 250 s)
  EXPECT_NEAR(h, -(0.1 + 25.0 / 60 * 2.0) / (4.0 * 250 / 3600), 1e-9);
}

}  // namespace
}  // namespace prescale::rl

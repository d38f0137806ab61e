#include "policy/rl_policy.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "core/files.h"
#include "policy/envelope.h"
#include "policy/registry.h"
#include "sim/scenario.h"
#include "sim/simulator.h"
#include "sim/workload.h"

namespace prescale::policy {
namespace {

PolicyEnv test_env() {
  PolicyEnv env;
  env.min_executors = 1;
  env.max_executors = 20;
  env.executor_capacity_rps = 75'000;
  return env;
}

core::Observation base_obs() {
  core::Observation o;
  o.input_rps = 300'000;
  o.input_mb_s = 300;
  o.active_executors = 5;
  o.latency_ms = 600;
  o.sla_ms = 1000;
  o.burst_signal = true;
  o.forecast_rps = 1'200'000;
  o.signal_confidence = 0.85;
  o.tier = core::Tier::kRedis;
  o.compression = core::Compression::kLz4;
  return o;
}

TEST(WorkerFeatures, EdgeInputsOnlyForEdgeVariants) {
  float with[kNumWorkerFeatures], without[kNumWorkerFeatures];
  WorkerFeatures edge(test_env(), true), blind(test_env(), false);
  edge.build(base_obs(), 0.7, with);
  blind.build(base_obs(), 0.7, without);
  EXPECT_EQ(with[12], 1.0f);
  EXPECT_NEAR(with[13], std::log(4.0), 1e-5);
  EXPECT_NEAR(with[14], 0.85, 1e-6);
  EXPECT_EQ(without[12], 0.0f);
  EXPECT_EQ(without[13], 0.0f);
  EXPECT_EQ(without[14], 0.0f);
  for (int i = 0; i < 12; ++i) EXPECT_EQ(with[i], without[i]) << worker_feature_names()[i];
  EXPECT_NEAR(with[0], 300'000.0 / 75'000 / 20, 1e-6);
  EXPECT_EQ(with[15], 1.0f);  // redis
  EXPECT_EQ(with[19], 1.0f);  // lz4
  EXPECT_FLOAT_EQ(with[21], 0.7f);
}

TEST(WorkerFeatures, TrendUsesThePreviousStepAndResets) {
  float x[kNumWorkerFeatures];
  WorkerFeatures f(test_env(), true);
  core::Observation o = base_obs();
  f.build(o, 0.5, x);
  EXPECT_EQ(x[11], 0.0f);
  o.input_rps = 600'000;
  f.build(o, 0.5, x);
  EXPECT_NEAR(x[11], std::log(2.0), 1e-5);
  f.reset();
  f.build(o, 0.5, x);
  EXPECT_EQ(x[11], 0.0f);
}

struct TargetCase {
  int level;
  double input_rps, backlog;
  int expected;
};

class WorkerTarget : public testing::TestWithParam<TargetCase> {};

TEST_P(WorkerTarget, CeilOfLevelTimesNeedClamped) {
  const TargetCase c = GetParam();
  core::Observation o;
  o.input_rps = c.input_rps;
  o.backlog_records = c.backlog;
  EXPECT_EQ(worker_target(c.level, o, test_env(), true), c.expected);
}

INSTANTIATE_TEST_SUITE_P(Table, WorkerTarget,
                         testing::Values(TargetCase{3, 300'000, 0, 4},  // level 1.0: exactly 4
                                         TargetCase{5, 300'000, 0, 5},  // 1.1 x 4 = 4.4 -> 5
                                         TargetCase{1, 225'000, 0, 3},  // 0.8 x 3 = 2.4 -> 3
                                         TargetCase{3, 300'000, 2'250'000,
                                                    5},  // + 30 s drain of 2.25M = 1 more
                                         TargetCase{12, 300'000, 0, 12},  // 3.0 x 4 = 12
                                         TargetCase{12, 600'000, 0, 20},  // 3.0 x 8 = 24 -> max 20
                                         TargetCase{3, 0, 0, 1}));        // idle: min 1

TEST(WorkerTarget, ForecastLevelsUseTheSignalOnlyWithTheEdge) {
  core::Observation o = base_obs();         // need 4, forecast 1.2M = 16 executors, signalled
  const int f11 = kFirstForecastLevel + 1;  // 1.1
  EXPECT_EQ(worker_target(f11, o, test_env(), true), 18);  // ceil(17.6)
  EXPECT_EQ(worker_target(f11, o, test_env(), false), 5);  // blind: 1.1 x need
  o.burst_signal = false;
  EXPECT_EQ(worker_target(f11, o, test_env(), true), 5);  // no signal: need
  o.burst_signal = true;
  o.forecast_rps = 100'000;                               // forecast below the load
  EXPECT_EQ(worker_target(f11, o, test_env(), true), 5);  // never below need
}

TEST(WorkerTarget, HoldKeepsTheCurrentTarget) {
  core::Observation o = base_obs();
  o.active_executors = 9;
  o.pending_executors = 2;
  EXPECT_EQ(worker_target(kHoldLevel, o, test_env(), true), 11);
  o.input_rps = 1'500'000;  // need 20: hold never starves the job
  EXPECT_EQ(worker_target(kHoldLevel, o, test_env(), true), 18);
}

TEST(WorkerTarget, PeakLevelKeepsCapacityForTheRecentPeak) {
  core::Observation o = base_obs();  // need 4 (300k/s at 75k per executor)
  EXPECT_EQ(worker_target(kPeakLevel, o, test_env(), true, 900'000), 12);  // the peak needs 12
  EXPECT_EQ(worker_target(kPeakLevel, o, test_env(), true, 100'000), 4);   // never below need
  EXPECT_EQ(worker_target(kPeakLevel, o, test_env(), true, 5e6), 20);      // clamped to max
  // WorkerFeatures remembers the peak of the last kLoadMemorySteps inputs.
  WorkerFeatures f(test_env(), true);
  f.reset();
  float x[kNumWorkerFeatures];
  for (double rate : {100'000.0, 900'000.0, 200'000.0}) {
    o.input_rps = rate;
    f.build(o, 0.5, x);
  }
  EXPECT_DOUBLE_EQ(f.recent_peak_rps(), 900'000);
  for (int i = 0; i < kLoadMemorySteps; ++i) f.build(o, 0.5, x);
  EXPECT_DOUBLE_EQ(f.recent_peak_rps(), 200'000);  // the peak aged out
}

TEST(WorkerDecision, CancelsProvisioningExecutorsOnlyBelowTheServingCount) {
  core::Observation o = base_obs();
  o.active_executors = 4;
  o.pending_executors = 8;
  WorkerAction a;
  a.level = 3;  // level 1.0: wants 4
  const core::Decision d = worker_decision(a, o, test_env(), RlVariant::kFull);
  EXPECT_EQ(d.target_executors, 12);
  a.level = 1;  // level 0.8 of a need of 3: wants 3 < 4 serving, a real scale-down
  o.input_rps = 225'000;
  EXPECT_EQ(worker_decision(a, o, test_env(), RlVariant::kFull).target_executors,
            3);  // cancels them
  a.level = 3;
  o.input_rps = 300'000;
  o.pending_executors = 0;
  EXPECT_EQ(worker_decision(a, o, test_env(), RlVariant::kFull).target_executors, 4);
}

TEST(WorkerDecision, StorageOnlyWhenTheVariantChoosesIt) {
  core::Observation o = base_obs();
  WorkerAction a;
  a.tier = 0;
  a.codec = 2;
  core::Decision d = worker_decision(a, o, test_env(), RlVariant::kFull);
  EXPECT_EQ(d.tier, core::Tier::kRedis);
  EXPECT_EQ(d.compression, core::Compression::kZstd);
  d = worker_decision(a, o, test_env(), RlVariant::kBasic);
  EXPECT_EQ(d.tier, core::Tier::kNvme);
  EXPECT_EQ(d.compression, core::Compression::kNone);
}

TEST(WorkerDecision, HoldsWithoutMetrics) {
  core::Observation o = base_obs();
  o.metrics_available = false;
  o.active_executors = 7;
  WorkerAction a;
  a.level = 15;
  const core::Decision d = worker_decision(a, o, test_env(), RlVariant::kFull);
  EXPECT_EQ(d.target_executors, 7);
  EXPECT_EQ(d.tier, o.tier);
  EXPECT_EQ(d.compression, o.compression);
}

TEST(ManagerFeatures, ContextAndLastWindow) {
  ManagerFeatures f(test_env());
  float x[kNumManagerFeatures];
  core::Observation o = base_obs();
  o.latency_ms = 2000;  // violation
  o.active_executors = 10;
  f.observe(o);
  o.latency_ms = 100;
  o.burst_signal = false;
  f.observe(o);
  f.build(core::BusinessContext::kHealthcare, x);
  EXPECT_EQ(x[1], 1.0f);
  EXPECT_EQ(x[0] + x[2], 0.0f);
  EXPECT_NEAR(x[3], 0.02, 1e-6);
  EXPECT_NEAR(x[5], 0.5, 1e-6);
  EXPECT_NEAR(x[6], 0.5, 1e-6);  // 10 of 20
  EXPECT_NEAR(x[7], 0.5, 1e-6);
}

TEST(ContextGoals, HealthcareIsStricterThanBalancedThanBudget) {
  const auto h = context_goals(core::BusinessContext::kHealthcare);
  const auto b = context_goals(core::BusinessContext::kBalanced);
  const auto c = context_goals(core::BusinessContext::kBudget);
  EXPECT_LT(h.sla_violation_target_pct, b.sla_violation_target_pct);
  EXPECT_LT(b.sla_violation_target_pct, c.sla_violation_target_pct);
  EXPECT_GT(h.violation_minute_price, b.violation_minute_price);
  EXPECT_GT(b.violation_minute_price, c.violation_minute_price);
}

// ---- model files ----------------------------------------------------------------------

Model tiny_model() {
  Model m;
  m.kind = "manager";
  m.variant = "manager";
  m.features = {"x", "y"};
  m.heads = {1};
  DenseLayer l;
  l.w.resize(1, 2);
  l.w << 0.5f, -0.25f;
  l.b.resize(1);
  l.b << 0.125f;
  l.tanh = true;
  Eigen::VectorXf mean(2), sd(2);
  mean << 1, 2;
  sd << 2, 4;
  m.net = Mlp({l}, mean, sd);
  return m;
}

TEST(ModelFile, RoundTripAndForward) {
  const Model m = tiny_model();
  auto back = parse_model(serialize_model(m), "mem");
  ASSERT_TRUE(back.ok()) << back.error().message;
  const float x[] = {3, 6};  // normalised (1, 1)
  EXPECT_FLOAT_EQ(back->net.forward(x)[0], std::tanh(0.5f - 0.25f + 0.125f));
  EXPECT_EQ(model_checksum(back->net), model_checksum(m.net));
}

void expect_error(const std::string& text, const std::string& fragment) {
  auto r = parse_model(text, "models/x.json");
  ASSERT_FALSE(r.ok()) << "accepted: " << text.substr(0, 80);
  EXPECT_NE(r.error().message.find("models/x.json"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find(fragment), std::string::npos) << r.error().message;
}

TEST(ModelFile, CorruptOrMismatchedFilesGiveClearErrors) {
  const std::string good = serialize_model(tiny_model());
  expect_error(good.substr(0, good.size() / 2), "not JSON");
  expect_error("[]", "not an object");
  const struct {
    const char* from;
    const char* to;
    const char* error;
  } kEdits[] = {
      {"0.5", "0.6", "checksum mismatch"},  // one weight edited
      {"\"prescale-model\"", "\"other-model\"", "format"},
      {"\"version\": 2", "\"version\": 7", "version: expected an integer in [1, 2]"},
      // Version 1 covered only the numbers: these edits went unnoticed.
      {"\"tanh\"", "\"linear\"", "checksum mismatch"},
      {"\"variant\": \"", "\"variant\": \"x", "checksum mismatch"},
      // Bounded before allocating, and no cast of a float to int.
      {"\"in\": 2", "\"in\": 1e300", "layers[0].in: expected an integer in [1, 4096]"},
      {"\"out\": 1", "\"out\": 2147483648", "layers[0].out: expected an integer in [1, 4096]"},
      // nlohmann throws out_of_range, not parse_error, on a number it cannot hold.
      {"0.5", "1e999", "not JSON"},
      {"0.5", "1e300", "w[0]: not finite"},
      {"\"in\": 2", "\"in\": 3", "does not match the previous width"},
      {"\"heads\"", "\"headz\"", "heads"},
      // An integer list given a float: refused, not cast (undefined behaviour; the fuzzer's).
      {"\"heads\": [", "\"heads\": [2e117, ", "heads: expected a list of integers"},
  };
  for (const auto& e : kEdits) {
    std::string s = good;
    const size_t at = s.find(e.from);
    ASSERT_NE(at, std::string::npos) << e.from;
    s.replace(at, std::string(e.from).size(), e.to);
    expect_error(s, e.error);
  }
}

TEST(ModelFile, Version1LoadsOnlyAfterAnUpgradeThatChecksItsOldChecksum) {
  const Model m = tiny_model();
  std::string v1 = serialize_model(m);
  v1.replace(v1.find("\"version\": 2"), 12, "\"version\": 1");
  v1.replace(v1.find(model_checksum(m)), 16, model_checksum(m.net));  // numbers only
  auto refused = parse_model(v1, "models/old.json");
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("run `prescale models upgrade models/old.json`"),
            std::string::npos)
      << refused.error().message;
  auto upgraded = upgrade_model(v1, "models/old.json");
  ASSERT_TRUE(upgraded.ok()) << upgraded.error().message;
  EXPECT_EQ(*upgraded, serialize_model(m));  // only the version and the checksum change
  EXPECT_TRUE(parse_model(*upgraded, "models/old.json").ok());
  std::string edited = v1;
  edited.replace(edited.find("0.5"), 3, "0.6");
  EXPECT_FALSE(upgrade_model(edited, "models/old.json").ok());  // a broken file stays broken
}

TEST(ModelFile, ShippedModelsAreCurrent) {
  for (const char* name :
       {"worker-rl-basic.json", "worker-rl-shuffle.json", "member-1/manager.json",
        "member-1/worker-rl-full.json", "member-2/manager.json", "member-2/worker-rl-full.json",
        "member-3/manager.json", "member-3/worker-rl-full.json", "live/manager.json",
        "live/worker-rl-full.json"}) {
    SCOPED_TRACE(name);
    auto m = load_model(std::string("models/") + name);  // tests run in the source tree
    EXPECT_TRUE(m.ok()) << m.error().message;
  }
}

TEST(ModelFile, MissingFileNamesThePath) {
  auto r = load_model("/nonexistent/dir/worker.json");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("/nonexistent/dir/worker.json"), std::string::npos);
}

TEST(ModelFile, WorkerLoaderRejectsAManagerAndWrongVariant) {
  const std::string path = testing::TempDir() + "/m.json";
  ASSERT_TRUE(save_model(tiny_model(), path).ok());
  auto r = load_worker(path, RlVariant::kFull);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("expected a worker"), std::string::npos);
  auto shipped = load_worker(default_models_dir() + "/worker-rl-basic.json", RlVariant::kFull);
  ASSERT_FALSE(shipped.ok());
  EXPECT_NE(shipped.error().message.find("expected 'rl-full'"), std::string::npos);
}

// ---- the shipped models --------------------------------------------------------------

// rl and rl-full are the shipped ensemble (models/member-*, docs/rl.md); the ablation
// workers rl-basic and rl-shuffle are single models.
TEST(ShippedModels, LoadAndMatchThisBuild) {
  for (RlVariant v : {RlVariant::kBasic, RlVariant::kShuffle}) {
    auto m = load_worker(default_models_dir() + "/worker-" + variant_name(v) + ".json", v);
    EXPECT_TRUE(m.ok()) << m.error().message;
  }
  auto members = load_members(default_models_dir(), RlVariant::kFull, true);
  ASSERT_TRUE(members.ok()) << members.error().message;
  EXPECT_EQ(members->size(), 3u);
}

double manager_alpha(const Model& m, core::BusinessContext c) {
  ManagerFeatures f(test_env());
  float x[kNumManagerFeatures];
  f.build(c, x);
  return alpha_from_output(m.net.forward(x)[0]);
}

// The manager learned what the contexts ask: latency first in healthcare (alpha high),
// cost first in budget (beta = 1 - alpha high).
// The ensemble's weight is its members' mean (RlPolicy::alpha()).
TEST(ShippedModels, ManagerWeightsFollowTheContext) {
  auto members = load_members(default_models_dir(), RlVariant::kFull, true);
  ASSERT_TRUE(members.ok()) << members.error().message;
  double health = 0, budget = 0;
  const double n = static_cast<double>(members->size());
  for (const auto& m : *members) {
    health += manager_alpha(*m.manager, core::BusinessContext::kHealthcare) / n;
    budget += manager_alpha(*m.manager, core::BusinessContext::kBudget) / n;
  }
  // The shipped ensemble's managers (seeds 4, 5, 6 of 2026-11-27), healthcare / balanced /
  // budget: 1.00 / 0.12 / 0.03, 1.00 / 0.00 / 0.35, 0.92 / 0.12 / 0.28 (means 0.97, 0.08,
  // 0.22): one manager alone can miss an end (seed 5's budget beta is 0.65). The contexts'
  // ends are what must hold: latency first for healthcare, cost first for budget.
  EXPECT_GE(health, 0.6) << "healthcare alpha";
  EXPECT_GE(1 - budget, 0.75) << "budget beta";
  EXPECT_GE(health - budget, 0.5) << "the contexts pull in opposite directions";
}

// Runs the hierarchical policy over one workload; returns the decisions (encoded) and the
// alpha the manager set at each of its periods.
void run_rl(core::BusinessContext context, std::vector<int>* decisions,
            std::vector<double>* alphas) {
  sim::Scenario s = sim::default_scenario();
  s.context = context;
  auto gen = sim::WorkloadGenerator::create(s);
  ASSERT_TRUE(gen.ok());
  const sim::Workload w = gen->generate(3);
  auto p = make_policy("rl", s, &w);
  ASSERT_TRUE(p.ok()) << p.error().message;
  // rl runs inside the safety envelope; the learned policy is its inner one.
  auto* guarded = dynamic_cast<GuardedPolicy*>(p->get());
  ASSERT_NE(guarded, nullptr);
  const auto* rl = dynamic_cast<const RlPolicy*>(&guarded->inner());
  ASSERT_NE(rl, nullptr);
  sim::Simulator sim(s, w);
  (*p)->reset();
  sim::simulate(sim, [&](const core::Observation& o) {
    const core::Decision d = (*p)->decide(o);
    decisions->push_back(d.target_executors * 10 + static_cast<int>(d.tier) * 3 +
                         static_cast<int>(d.compression));
    if (o.step % kManagerPeriod == 0) alphas->push_back(rl->alpha());
    return d;
  });
}

TEST(RlPolicy, DeterministicAndTheManagerActsEveryPeriodByContext) {
  std::vector<int> first, second, budget;
  std::vector<double> a1, a2, ab;
  run_rl(core::BusinessContext::kHealthcare, &first, &a1);
  run_rl(core::BusinessContext::kHealthcare, &second, &a2);
  run_rl(core::BusinessContext::kBudget, &budget, &ab);
  EXPECT_EQ(first, second);
  EXPECT_EQ(a1, a2);
  ASSERT_EQ(a1.size(), 10u);  // 500 steps / 50
  double mean_h = 0, mean_b = 0;
  for (size_t i = 0; i < a1.size(); ++i) {
    mean_h += a1[i] / a1.size();
    mean_b += ab[i] / ab.size();
  }
  // The shipped ensemble over this run: healthcare 0.76, budget 0.27 (its members' mean; the
  // single model of 2026-11-26 was further apart). Latency first against cost first.
  EXPECT_GE(mean_h - mean_b, 0.4) << "healthcare " << mean_h << " budget " << mean_b;
  EXPECT_NE(first, budget);
}

// ---- ensembles -----------------------------------------------------------------------

core::Decision member(int target, core::Tier tier, core::Compression codec) {
  core::Decision d;
  d.target_executors = target;
  d.tier = tier;
  d.compression = codec;
  return d;
}

TEST(Ensemble, TheMedianTargetAndThePluralityTierAndCodec) {
  using core::Compression;
  using core::Tier;
  const core::Decision three[] = {member(9, Tier::kS3, Compression::kZstd),
                                  member(2, Tier::kRedis, Compression::kLz4),
                                  member(4, Tier::kRedis, Compression::kNone)};
  core::Decision d = combine_members(three, 3);
  EXPECT_EQ(d.target_executors, 4);              // one member asking for 9 does not decide
  EXPECT_EQ(d.tier, Tier::kRedis);               // two of three
  EXPECT_EQ(d.compression, Compression::kNone);  // a three-way tie: the median member's
  // An even count takes the lower middle.
  const core::Decision four[] = {
      member(8, Tier::kNvme, Compression::kNone), member(3, Tier::kNvme, Compression::kNone),
      member(5, Tier::kS3, Compression::kLz4), member(1, Tier::kS3, Compression::kLz4)};
  d = combine_members(four, 4);
  EXPECT_EQ(d.target_executors, 3);
  EXPECT_EQ(d.tier, Tier::kNvme);  // 2-2: the median member (target 3) chose NVMe
  EXPECT_EQ(combine_members(three, 1).target_executors, 9);
}

// An ensemble of one member decides exactly as the single policy; an ensemble of the same
// member three times does too.
TEST(Ensemble, CopiesOfOneMemberDecideAsTheMemberAlone) {
  const std::string dir = testing::TempDir() + "/ensemble_copies";
  std::filesystem::remove_all(dir);
  for (int i = 1; i <= 3; ++i) {
    const std::string m = dir + "/member-" + std::to_string(i);
    std::filesystem::create_directories(m);
    std::filesystem::copy_file(default_models_dir() + "/member-1/worker-rl-full.json",
                               m + "/worker-rl-full.json");
    std::filesystem::copy_file(default_models_dir() + "/member-1/manager.json",
                               m + "/manager.json");
  }
  auto members = load_members(dir, RlVariant::kFull, true);
  ASSERT_TRUE(members.ok()) << members.error().message;
  ASSERT_EQ(members->size(), 3u);
  auto single = load_members(default_models_dir() + "/member-1", RlVariant::kFull, true);
  ASSERT_TRUE(single.ok()) << single.error().message;
  ASSERT_EQ(single->size(), 1u);
  RlPolicy ens("rl", test_env(), RlVariant::kFull, std::move(*members), 0.5);
  RlPolicy one("rl", test_env(), RlVariant::kFull, std::move(*single), 0.5);
  EXPECT_EQ(ens.members(), 3);
  core::Observation o = base_obs();
  for (int i = 0; i < 300; ++i) {
    o.step = i;
    o.input_rps = 300'000 + 250'000 * std::sin(i / 20.0);
    o.burst_signal = i % 60 > 50;
    o.forecast_rps = o.input_rps * 2;
    const core::Decision a = ens.decide(o), b = one.decide(o);
    ASSERT_EQ(a.target_executors, b.target_executors) << "step " << i;
    ASSERT_EQ(a.tier, b.tier);
    ASSERT_EQ(a.compression, b.compression);
    ASSERT_DOUBLE_EQ(ens.alpha(), one.alpha());
    o.active_executors = a.target_executors;
  }
}

TEST(Ensemble, ADirectoryWithoutModelsOrMembersNamesBoth) {
  const std::string dir = testing::TempDir() + "/ensemble_empty";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir + "/other");
  auto r = load_members(dir, RlVariant::kFull, true);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("worker-rl-full.json: no such model"), std::string::npos)
      << r.error().message;
  EXPECT_NE(r.error().message.find("member-*"), std::string::npos) << r.error().message;
  // A member without its manager names the file.
  std::filesystem::create_directories(dir + "/member-1");
  std::filesystem::copy_file(default_models_dir() + "/member-1/worker-rl-full.json",
                             dir + "/member-1/worker-rl-full.json");
  r = load_members(dir, RlVariant::kFull, true);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("member-1/manager.json"), std::string::npos)
      << r.error().message;
  EXPECT_TRUE(load_members(dir, RlVariant::kFull, false).ok());  // a worker alone needs none
}

}  // namespace
}  // namespace prescale::policy

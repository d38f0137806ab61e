#include "policy/oracle.h"

#include <gtest/gtest.h>

#include <functional>

#include "sim/rng.h"
#include "sim/simulator.h"
#include "sim/step_model.h"

namespace prescale::policy {
namespace {

// A small world the brute force can enumerate: 6 steps of 5 s, 1..3 executors of
// 100 rec/s, a 10 s cold start (D = 2) and a burst the initial executor cannot carry.
sim::Scenario tiny_scenario() {
  sim::Scenario s = sim::default_scenario();
  s.steps = 6;
  s.step_s = 5;
  s.cluster.min_executors = 1;
  s.cluster.max_executors = 3;
  s.cluster.initial_executors = 1;
  s.cluster.cold_start_s = 10;
  s.cluster.capacity_rps = 100;
  s.record_bytes = 1e6;  // 1 MB records: tiers' bandwidth matters at 100s of records/s
  return s;
}

sim::Workload tiny_workload(std::vector<double> rates) {
  sim::Workload w;
  w.arrivals_rps = std::move(rates);
  const size_t n = w.arrivals_rps.size();
  w.baseline_rps = w.arrivals_rps;
  w.burst.assign(n, 0);
  w.signal.assign(n, 0);
  w.forecast_rps.assign(n, 0);
  w.confidence.assign(n, 0);
  return w;
}

struct Best {
  int violations = 1 << 30;
  double cost = 1e300;
};

// Enumerates every serving profile and option sequence; the objective as documented.
Best brute_force(const sim::Scenario& s, const sim::Workload& w, bool tiers, bool codecs) {
  const sim::StepModel model(s);
  const int n = w.steps(), d = s.cold_start_steps();
  std::vector<int> options;
  for (int t = 0; t < core::kNumTiers; ++t) {
    if (!tiers && t != static_cast<int>(s.default_tier)) continue;
    for (int c = 0; c < core::kNumCompressions; ++c) {
      if (!codecs && c != 0) continue;
      options.push_back(t * core::kNumCompressions + c);
    }
  }
  Best best;
  // State: step, previous serving count, previous option (a switch pauses the job).
  std::function<void(int, int, int, double, int, double)> rec =
      [&](int t, int prev, int prev_o, double backlog, int viol, double cost) {
        if (t == n) {
          if (viol < best.violations || (viol == best.violations && cost < best.cost)) {
            best = {viol, cost};
          }
          return;
        }
        for (int a = s.cluster.min_executors; a <= s.cluster.max_executors; ++a) {
          const int inc = std::max(0, a - prev);
          if (inc > 0 && t < d) continue;
          for (int o : options) {
            const auto tier = static_cast<core::Tier>(o / core::kNumCompressions);
            const auto codec = static_cast<core::Compression>(o % core::kNumCompressions);
            const double pause = model.switch_pause_s(
                static_cast<core::Tier>(prev_o / core::kNumCompressions),
                static_cast<core::Compression>(prev_o % core::kNumCompressions), tier, codec);
            const auto out = model.run(w.arrivals_rps[t], backlog, a, tier, codec, pause);
            rec(t + 1, a, o, out.backlog_out, viol + out.violation,
                cost + model.executor_step_cost() * (a + d * inc) + out.tier_cost);
          }
        }
      };
  rec(0, s.cluster.initial_executors, static_cast<int>(s.default_tier) * core::kNumCompressions, 0,
      0, 0);
  return best;
}

TEST(OracleTest, MatchesBruteForceOnSmallWorlds) {
  struct Case {
    const char* name;
    std::vector<double> rates;
    bool tiers, codecs;
  } cases[] = {
      {"a late burst is covered exactly when it starts", {50, 50, 50, 250, 250, 50}, false, false},
      {"an early burst cannot be covered: fewest violations",
       {250, 250, 50, 50, 50, 50},
       false,
       false},
      {"tiers and codecs are chosen per step", {50, 50, 200, 280, 120, 50}, true, true},
      {"a dip shorter than the cold start keeps executors",
       {50, 50, 250, 60, 250, 50},
       true,
       false},
  };
  const sim::Scenario s = tiny_scenario();
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const sim::Workload w = tiny_workload(c.rates);
    OracleOptions options;
    options.choose_tier = c.tiers;
    options.choose_codec = c.codecs;
    options.backlog_quantum = 0;  // continuous backlog: the exact programme
    const OraclePlan plan = *plan_oracle(s, w, options);
    const Best best = brute_force(s, w, c.tiers, c.codecs);
    EXPECT_TRUE(plan.exact || best.violations > 0);
    EXPECT_EQ(plan.violations, best.violations);
    EXPECT_NEAR(plan.cost, best.cost, 1e-12);
  }
}

TEST(OracleTest, SimulatedPlanMeetsTheSlaAtThePlannedCost) {
  auto s = sim::load_scenario("seed");
  ASSERT_TRUE(s.ok());
  auto gen = sim::WorkloadGenerator::create(*s);
  for (std::uint64_t seed = 1; seed <= 3; ++seed) {
    SCOPED_TRACE(seed);
    const sim::Workload w = gen->generate(seed);
    core::ParamTable params;
    OraclePolicy oracle(PolicyEnv{}, params, *s, &w);
    const OraclePlan& plan = oracle.plan();
    EXPECT_TRUE(plan.exact);
    EXPECT_TRUE(plan.target_within_max);
    EXPECT_EQ(plan.violations, 0) << "the seed scenario is feasible for a clairvoyant";
    sim::Simulator simulator(*s, w);
    const sim::RunMetrics m =
        sim::simulate(simulator, [&](const core::Observation& o) { return oracle.decide(o); });
    EXPECT_EQ(m.violations, 0);
    EXPECT_NEAR(m.cost, plan.cost, 1e-3 * plan.cost);
  }
}

TEST(OracleTest, NoScheduleWithoutViolationsIsCheaper) {
  auto s = sim::load_scenario("seed");
  ASSERT_TRUE(s.ok());
  auto gen = sim::WorkloadGenerator::create(*s);
  const sim::Workload w = gen->generate(4);
  const OraclePlan plan = *plan_oracle(*s, w);
  sim::Simulator simulator(*s, w);
  int feasible = 0;
  // Static allocations on every tier and codec, and seeded random reactive policies.
  for (int n = 1; n <= s->cluster.max_executors; ++n) {
    for (int o = 0; o < core::kNumTiers * core::kNumCompressions; ++o) {
      const core::Decision d{n, static_cast<core::Tier>(o / 3),
                             static_cast<core::Compression>(o % 3), ""};
      const auto m = sim::simulate(simulator, [&](const core::Observation&) { return d; });
      if (m.violations == 0) {
        ++feasible;
        EXPECT_GE(m.cost, plan.cost) << n << " executors, option " << o;
      }
    }
  }
  for (std::uint64_t seed = 0; seed < 200; ++seed) {
    sim::Rng rng(seed);
    const double headroom = rng.uniform(0.3, 0.9);
    const auto tier = static_cast<core::Tier>(static_cast<int>(rng.uniform(0, 3)));
    const auto m = sim::simulate(simulator, [&](const core::Observation& o) {
      const double need = std::max(o.input_rps, o.forecast_rps) / (75'000 * headroom);
      return core::Decision{static_cast<int>(need) + 1, tier, core::Compression::kLz4, ""};
    });
    if (m.violations == 0) {
      ++feasible;
      EXPECT_GE(m.cost, plan.cost);
    }
  }
  EXPECT_GT(feasible, 0) << "the property must be exercised by some feasible schedule";
}

TEST(OracleTest, ARunLongerThanItsMemoryBoundIsRefusedWithTheWindowThatFits) {
  // The programme keeps every step's labels: 3 executor counts x 4 labels a step here. A
  // whole trace at real speed (millions of steps) once allocated until the machine gave out.
  const sim::Scenario s = tiny_scenario();
  OracleOptions options;
  options.max_labels = 4;
  const double per_step = oracle_memory_bound(s, 1, options);
  options.max_memory_mb = 10 * per_step / (1024.0 * 1024.0);  // room for 10 steps
  const sim::Workload fits = tiny_workload({50, 50, 250, 60, 250, 50, 50, 50, 50, 50});
  EXPECT_TRUE(plan_oracle(s, fits, options).ok());
  const sim::Workload longer = tiny_workload(std::vector<double>(11, 50.0));
  const auto refused = plan_oracle(s, longer, options);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("a plan over 11 steps"), std::string::npos)
      << refused.error().message;
  EXPECT_NE(refused.error().message.find("at most 10 steps with --steps"), std::string::npos)
      << refused.error().message;
}

TEST(OracleTest, ThePolicyReportsAPlanItCannotMake) {
  const sim::Scenario s = tiny_scenario();
  // 3 executor counts x 64 labels: about 170 steps fit in 1 MB.
  const sim::Workload w = tiny_workload(std::vector<double>(1000, 50.0));
  core::ParamTable params("policies.oracle");
  params.set("max_memory_mb", "1", "test");
  OraclePolicy oracle(PolicyEnv{}, params, s, &w);
  ASSERT_FALSE(oracle.status().ok());
  EXPECT_NE(oracle.status().error().message.find("max_memory_mb = 1;"), std::string::npos)
      << oracle.status().error().message;
}

}  // namespace
}  // namespace prescale::policy

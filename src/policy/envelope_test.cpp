// The safety envelope, table-driven: the reactive floor's arithmetic, then the windowed
// behaviour (stabilised release, dwell) on short observation sequences.
#include "policy/envelope.h"

#include <gtest/gtest.h>

#include <cstring>
#include <iterator>
#include <string>
#include <vector>

#include "policy/fixed.h"

namespace prescale::policy {
namespace {

PolicyEnv Env() {
  PolicyEnv env;
  env.min_executors = 1;
  env.max_executors = 20;
  env.step_s = 5;
  env.executor_capacity_rps = 1000;
  return env;
}

core::Observation Obs(double time_s, double input_rps, int active, double backlog = 0) {
  core::Observation o;
  o.time_s = time_s;
  o.step = static_cast<std::int64_t>(time_s / 5);
  o.input_rps = input_rps;
  o.active_executors = active;
  o.backlog_records = backlog;
  return o;
}

struct FloorCase {
  const char* name;
  core::Observation obs;
  EnvelopeConfig config;
  int expected;
};

TEST(ReactiveFloor, SizesCapacityForTheRateAndTheBacklog) {
  EnvelopeConfig at90;  // utilisation 0.9, drain 60 s
  EnvelopeConfig full;
  full.utilisation = 1.0;
  core::Observation measured = Obs(0, 4000, 4);
  measured.processed_rps = 2000;  // 4 executors at 100% CPU serve only 2000/s: 500 each
  measured.cpu_util = 1.0;
  core::Observation idle_noise = Obs(0, 100, 4);
  idle_noise.processed_rps = 100;
  idle_noise.cpu_util = 0.05;  // too idle to measure: the configured capacity is used
  core::Observation fast = Obs(0, 4000, 2);
  fast.processed_rps = 4000;  // would mean 2000/s per executor: capped at the configured 1000
  fast.cpu_util = 1.0;
  const FloorCase cases[] = {
      {"the rate alone needs rate / (capacity x utilisation)", Obs(0, 4500, 3), at90, 5},
      {"an exact fit at full utilisation needs no extra executor", Obs(0, 4000, 3), full, 4},
      {"a backlog is drained within drain_s", Obs(0, 1000, 1, 120000), full, 3},
      {"no load still keeps the minimum", Obs(0, 0, 3), at90, 1},
      {"a huge load is clamped to the maximum", Obs(0, 1e9, 3), at90, 20},
      {"a measured slower rate per executor raises the floor", measured, full, 8},
      {"an idle job's rate is not trusted", idle_noise, full, 1},
      {"a measured rate above the configured one is not trusted", fast, full, 4},
  };
  for (const FloorCase& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(reactive_floor(c.obs, Env(), c.config), c.expected);
  }
}

// A policy that returns the targets of a script, one per step.
class Scripted final : public Policy {
 public:
  explicit Scripted(std::vector<core::Decision> script) : script_(std::move(script)) {}
  std::string_view name() const override { return "scripted"; }
  void reset() override { i_ = 0; }
  core::Decision decide(const core::Observation&) override {
    return script_[std::min(i_++, script_.size() - 1)];
  }

 private:
  std::vector<core::Decision> script_;
  size_t i_ = 0;
};

core::Decision Want(int target, core::Tier tier = core::Tier::kNvme,
                    core::Compression codec = core::Compression::kNone) {
  return core::Decision{target, tier, codec, "scripted"};
}

// The envelope's first decision around a policy that wants `want`, on `obs`.
core::Decision FirstDecision(const PolicyEnv& env, const EnvelopeConfig& c,
                             const core::Decision& want, const core::Observation& obs) {
  GuardedPolicy p(std::make_unique<Scripted>(std::vector<core::Decision>{want}), env, c);
  p.reset();
  return p.decide(obs);
}

struct Step {
  double load;
  core::Decision wanted;
  int target;
  const char* reason;
};

struct WindowCase {
  const char* name;
  EnvelopeConfig config;
  std::vector<Step> steps;
};

TEST(Envelope, OverridesOnlyWhereAGuardApplies) {
  EnvelopeConfig c;
  c.utilisation = 1.0;
  c.stabilisation_s = 10;  // two steps of 5 s
  c.dwell_s = 10;
  EnvelopeConfig off = c;
  off.enabled = false;
  const WindowCase cases[] = {
      {"a plan above the floor passes unchanged",
       c,
       {{2000, Want(5), 5, "scripted"}, {2000, Want(6), 6, "scripted"}}},
      {"a plan below what the rate needs is raised to the floor",
       c,
       {{2000, Want(5), 5, "scripted"}, {7000, Want(3), 7, "guard: floor"}}},
      {"a release waits until the window's highest target has aged out",
       c,
       {{2000, Want(8), 8, "scripted"},
        {2000, Want(3), 8, "guard: stabilise"},
        {2000, Want(3), 3, "scripted"}}},
      {"a tier switch right after another is deferred for the dwell",
       c,
       {{2000, Want(5, core::Tier::kRedis), 5, "scripted"},
        {2000, Want(5, core::Tier::kS3), 5, "guard: dwell"},
        {2000, Want(5, core::Tier::kS3), 5, "scripted"}}},
      {"a disabled envelope changes nothing",
       off,
       {{2000, Want(8), 8, "scripted"}, {9000, Want(1), 1, "scripted"}}},
  };
  for (const WindowCase& wc : cases) {
    SCOPED_TRACE(wc.name);
    std::vector<core::Decision> script;
    for (const Step& s : wc.steps) script.push_back(s.wanted);
    GuardedPolicy p(std::make_unique<Scripted>(script), Env(), wc.config);
    p.reset();
    core::Tier tier = core::Tier::kNvme;
    int total = 5;
    for (size_t i = 0; i < wc.steps.size(); ++i) {
      SCOPED_TRACE(i);
      core::Observation obs = Obs(5.0 * static_cast<double>(i), wc.steps[i].load, total);
      obs.tier = tier;
      const core::Decision d = p.decide(obs);
      EXPECT_EQ(d.target_executors, wc.steps[i].target);
      EXPECT_STREQ(d.reason, wc.steps[i].reason);
      EXPECT_EQ(d.guards != 0, std::strncmp(d.reason, "guard:", 6) == 0);
      total = d.target_executors;
      tier = d.tier;
    }
  }
}

TEST(ForecastFloor, SizesCapacityForTheSignalledRateOnlyWhileABurstIsSignalled) {
  EnvelopeConfig full;
  full.utilisation = 1.0;
  auto signalled = [](double input, double forecast, bool burst) {
    core::Observation o = Obs(0, input, 2);
    o.burst_signal = burst;
    o.forecast_rps = forecast;
    return o;
  };
  core::Observation busy = signalled(1000, 4000, true);
  busy.processed_rps = 1000;  // one executor's worth of records at full CPU on 2: 500 each
  busy.cpu_util = 1.0;
  const FloorCase cases[] = {
      {"no signal: the minimum", signalled(1000, 9000, false), full, 1},
      {"a burst signal: the forecast rate's executors", signalled(1000, 4000, true), full, 4},
      {"a forecast below twice the load: not a burst's", signalled(3000, 5000, true), full, 1},
      {"a forecast of twice the load: a burst's", signalled(2500, 5000, true), full, 5},
      {"a signal without a forecast: the minimum", signalled(1000, 0, true), full, 1},
      {"the measured rate per executor sizes it", busy, full, 8},
      {"clamped to the maximum", signalled(1000, 1e9, true), full, 20},
  };
  for (const FloorCase& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(forecast_floor(c.obs, Env(), c.config), c.expected);
  }
}

TEST(Envelope, TheForecastFloorRaisesAPlanThatIgnoresABurstSignal) {
  EnvelopeConfig c;
  c.utilisation = 1.0;
  c.stabilisation_s = 10;
  c.forecast = true;
  EnvelopeConfig without = c;
  without.forecast = false;
  auto run = [](const EnvelopeConfig& config, bool burst) {
    GuardedPolicy p(std::make_unique<Scripted>(std::vector<core::Decision>{Want(2)}), Env(),
                    config);
    p.reset();
    core::Observation o = Obs(0, 1500, 2);
    o.burst_signal = burst;
    o.forecast_rps = 6000;
    return p.decide(o);
  };
  const core::Decision raised = run(c, true);
  EXPECT_EQ(raised.target_executors, 6);
  EXPECT_STREQ(raised.reason, "guard: forecast");
  EXPECT_TRUE(raised.guards & core::kGuardFloor);
  EXPECT_EQ(run(c, false).target_executors, 2);       // no signal: the plan stands
  EXPECT_EQ(run(without, true).target_executors, 2);  // off: the plan stands
  EXPECT_STREQ(run(without, true).reason, "scripted");
}

TEST(Envelope, TheForecastFloorIsNotHeldOnceTheSignalFalls) {
  // The adaptive window holds the reactive need, not the forecast: after the signal falls the
  // target comes down with the short window, as any floored target does.
  EnvelopeConfig c;
  c.utilisation = 1.0;
  c.stabilisation_s = 10;
  c.forecast = true;
  GuardedPolicy p(std::make_unique<Scripted>(std::vector<core::Decision>{Want(2)}), Env(), c);
  p.reset();
  std::vector<int> targets;
  for (int i = 0; i < 6; ++i) {
    core::Observation o = Obs(5.0 * i, 1500, targets.empty() ? 2 : targets.back());
    o.burst_signal = i < 2;
    o.forecast_rps = 6000;
    targets.push_back(p.decide(o).target_executors);
  }
  // Signalled at 0 and 5 s; the 5 s target is held through 10 s (the 10 s window), released at 15.
  EXPECT_EQ(targets, (std::vector<int>{6, 6, 6, 2, 2, 2}));
}

TEST(Envelope, ReadsItsParametersAndRejectsBadOnes) {
  core::ParamTable ok("policies.rl");
  ok.set("guard_stabilisation_s", "120");
  ok.set("guard_utilisation", "0.8");
  const EnvelopeConfig c = read_envelope(ok);
  EXPECT_TRUE(ok.finish().ok());
  EXPECT_DOUBLE_EQ(c.stabilisation_s, 120);
  EXPECT_DOUBLE_EQ(c.utilisation, 0.8);
  core::ParamTable bad("policies.rl");
  bad.set("guard_utilisation", "0", "x.yaml:3");
  read_envelope(bad);
  EXPECT_FALSE(bad.finish().ok());
  EXPECT_NE(bad.finish().message().find("x.yaml:3"), std::string::npos);
}

TEST(Envelope, TheBusinessContextSetsTheDefaultWindow) {
  // Half a cold start for balanced and budget, a whole one for healthcare; an explicit
  // guard_stabilisation_s wins over the context.
  PolicyEnv env = Env();
  env.cold_start_s = 60;
  const auto window = [&](core::BusinessContext context, const char* explicit_s) {
    core::ParamTable params("policies.rl");
    if (explicit_s) params.set("guard_stabilisation_s", explicit_s);
    const EnvelopeConfig c = read_envelope(params, true, context);
    EXPECT_TRUE(params.finish().ok());
    return Envelope(env, c).window_s();
  };
  EXPECT_DOUBLE_EQ(window(core::BusinessContext::kBalanced, nullptr), 30);
  EXPECT_DOUBLE_EQ(window(core::BusinessContext::kBudget, nullptr), 30);
  EXPECT_DOUBLE_EQ(window(core::BusinessContext::kHealthcare, nullptr), 60);
  EXPECT_DOUBLE_EQ(window(core::BusinessContext::kHealthcare, "15"), 15);
  // The window is what a release is held for: 30 s in balanced is six steps of 5 s.
  core::ParamTable params("policies.rl");
  Envelope e(env, read_envelope(params, true, core::BusinessContext::kBalanced));
  const std::vector<int> held = [&] {
    std::vector<int> targets;
    int total = 8;
    for (int i = 0; i < 10; ++i) {
      core::Observation obs = Obs(5.0 * i, i == 0 ? 8000 : 2000, total);
      obs.latency_ms = 500;
      total = e.apply(obs, Want(1)).target_executors;
      targets.push_back(total);
    }
    return targets;
  }();
  // Need 8000/900 -> 9 at the peak, 2000/900 -> 3 after it: the peak's recommendation is
  // held through t = 25 s and released at t = 30 s, when it is a window old.
  EXPECT_EQ(held, (std::vector<int>{9, 9, 9, 9, 9, 9, 3, 3, 3, 3}));
}

TEST(Envelope, TheQuantileFloorIgnoresAOneStepSpikeAndFollowsANeedThatHolds) {
  EnvelopeConfig c;
  c.utilisation = 1.0;
  c.floor_rule = EnvelopeConfig::FloorRule::kQuantile;
  c.floor_quantile = 0.75;
  c.floor_window_s = 20;  // four 5 s steps: the third-lowest need of the last four
  Envelope quantile(Env(), c);
  EnvelopeConfig r = c;
  r.floor_rule = EnvelopeConfig::FloorRule::kRate;
  Envelope rate(Env(), r);
  struct SpikeStep {
    double input_rps;
    int quantile_target, rate_target;
  };
  // 3 executors' worth, a one-step spike to 9, back to 3 for a window, then a spike that
  // holds two steps. The rate rule's stabilisation (one cold start) holds the first spike.
  const SpikeStep steps[] = {{3000, 3, 3}, {3000, 3, 3}, {3000, 3, 3}, {9000, 3, 9}, {3000, 3, 9},
                             {3000, 3, 9}, {3000, 3, 9}, {3000, 3, 9}, {9000, 3, 9}, {9000, 9, 9}};
  int active = 3;
  for (size_t i = 0; i < std::size(steps); ++i) {
    SCOPED_TRACE("step " + std::to_string(i));
    const core::Observation o = Obs(5.0 * static_cast<double>(i), steps[i].input_rps, active);
    EXPECT_EQ(quantile.apply(o, Want(1)).target_executors, steps[i].quantile_target);
    EXPECT_EQ(rate.apply(o, Want(1)).target_executors, steps[i].rate_target);
  }
  core::ParamTable ok("policies.rl");
  ok.set("guard_floor", "quantile");
  ok.set("guard_floor_quantile", "0.9");
  ok.set("guard_floor_window_s", "120");
  const EnvelopeConfig read = read_envelope(ok);
  EXPECT_EQ(read.floor_rule, EnvelopeConfig::FloorRule::kQuantile);
  EXPECT_DOUBLE_EQ(read.floor_quantile, 0.9);
  EXPECT_DOUBLE_EQ(read.floor_window_s, 120);
  EXPECT_TRUE(ok.finish().ok());
  core::ParamTable bad("policies.rl");
  bad.set("guard_floor_quantile", "0.2", "x.yaml:5");
  read_envelope(bad);
  ASSERT_FALSE(bad.finish().ok());
  EXPECT_NE(bad.finish().message().find("x.yaml:5"), std::string::npos);
}

}  // namespace
}  // namespace prescale::policy

namespace prescale::policy {
namespace {

TEST(Envelope, ASwitchThatRelievesASaturatedTierSkipsTheDwell) {
  PolicyEnv env = Env();
  env.shuffle_cap_rps.fill(1e9);
  env.shuffle_cap_rps[static_cast<size_t>(core::Tier::kNvme) * core::kNumCompressions] = 5000;
  EnvelopeConfig c;
  c.utilisation = 1.0;
  c.dwell_s = 300;
  // Step 0 goes to Redis; step 1 asks for NVMe at 2000/s (NVMe carries it, but the dwell
  // holds); step 2 asks for S3 at 6000/s: Redis carries that, so the dwell holds too.
  GuardedPolicy p(
      std::make_unique<Scripted>(std::vector<core::Decision>{
          Want(5, core::Tier::kRedis), Want(5, core::Tier::kNvme), Want(7, core::Tier::kS3)}),
      env, c);
  p.reset();
  core::Observation o = Obs(0, 2000, 5);
  EXPECT_EQ(p.decide(o).tier, core::Tier::kRedis);  // first switch: the start counts as old
  o = Obs(5, 2000, 5);
  o.tier = core::Tier::kRedis;
  core::Decision d = p.decide(o);
  EXPECT_EQ(d.tier, core::Tier::kRedis);
  EXPECT_STREQ(d.reason, "guard: dwell");
  o = Obs(10, 6000, 7);
  o.tier = core::Tier::kRedis;
  EXPECT_EQ(p.decide(o).tier, core::Tier::kRedis);  // Redis carries 6000/s: no relief

  // Saturated NVMe (cap 5000/s at 6000/s): a switch to S3 goes through the dwell.
  GuardedPolicy q(std::make_unique<Scripted>(std::vector<core::Decision>{Want(7, core::Tier::kNvme),
                                                                         Want(7, core::Tier::kS3)}),
                  env, c);
  q.reset();
  o = Obs(0, 2000, 7);
  o.tier = core::Tier::kRedis;
  EXPECT_EQ(q.decide(o).tier, core::Tier::kNvme);  // Redis -> NVMe at 2000/s: allowed once
  o = Obs(5, 6000, 7);
  o.tier = core::Tier::kNvme;
  d = q.decide(o);
  EXPECT_EQ(d.tier, core::Tier::kS3);
  EXPECT_EQ(d.guards & core::kGuardDwell, 0);
}

}  // namespace
}  // namespace prescale::policy

namespace prescale::policy {
namespace {

TEST(Envelope, NeverSwitchesToAShuffleOptionThatCannotCarryTheLoad) {
  PolicyEnv env = Env();
  env.shuffle_cap_rps.fill(1e9);
  env.shuffle_cap_rps[static_cast<size_t>(core::Tier::kS3) * core::kNumCompressions] = 5000;
  EnvelopeConfig c;
  c.utilisation = 1.0;
  c.dwell_s = 0;
  GuardedPolicy p(std::make_unique<Scripted>(std::vector<core::Decision>{Want(7, core::Tier::kS3),
                                                                         Want(7, core::Tier::kS3)}),
                  env, c);
  p.reset();
  core::Observation o = Obs(0, 6000, 7);  // S3 moves 5000/s: refused
  core::Decision d = p.decide(o);
  EXPECT_EQ(d.tier, core::Tier::kNvme);
  EXPECT_STREQ(d.reason, "guard: shuffle");
  EXPECT_EQ(d.guards, core::kGuardShuffle);
  o = Obs(5, 3000, 7);  // now it carries the load: allowed
  d = p.decide(o);
  EXPECT_EQ(d.tier, core::Tier::kS3);
  EXPECT_EQ(d.guards, 0);
}

}  // namespace
}  // namespace prescale::policy

namespace prescale::policy {
namespace {

TEST(Envelope, MovesOffASaturatedShuffleOptionWhenThePolicyDoesNot) {
  PolicyEnv env = Env();
  env.shuffle_cap_rps.fill(1e9);
  const auto nvme = static_cast<size_t>(core::Tier::kNvme) * core::kNumCompressions;
  env.shuffle_cap_rps[nvme] = 5000;      // NVMe, no codec: 5000/s
  env.shuffle_cap_rps[nvme + 1] = 9000;  // NVMe with lz4: 9000/s
  EnvelopeConfig c;
  c.utilisation = 1.0;
  const core::Decision d =
      FirstDecision(env, c, Want(7), Obs(0, 6000, 7));  // the policy stays on NVMe/none
  EXPECT_EQ(d.tier, core::Tier::kNvme);
  EXPECT_EQ(d.compression, core::Compression::kLz4);  // the lightest codec that carries
  EXPECT_STREQ(d.reason, "guard: shuffle");
  EXPECT_EQ(carrying_option(env, core::Tier::kNvme, 20000)->first, core::Tier::kNvme);
  env.shuffle_cap_rps[nvme + 2] = 10000;
  EXPECT_EQ(carrying_option(env, core::Tier::kNvme, 20000)->first, core::Tier::kRedis);
  env.shuffle_cap_rps.fill(100);
  EXPECT_FALSE(carrying_option(env, core::Tier::kNvme, 20000).has_value());
}

}  // namespace
}  // namespace prescale::policy

namespace prescale::policy {
namespace {

TEST(Envelope, AShuffleOptionTooSlowForTheSlaCannotCarryAnyLoad) {
  PolicyEnv env = Env();
  env.shuffle_cap_rps.fill(1e9);
  env.shuffle_latency_ms.fill(240);
  env.shuffle_latency_ms[static_cast<size_t>(core::Tier::kS3) * core::kNumCompressions] = 600;
  EnvelopeConfig c;
  c.dwell_s = 0;  // budget = 1000 ms SLA - one 0.5 s trigger = 500 ms
  const core::Decision d = FirstDecision(env, c, Want(7, core::Tier::kS3), Obs(0, 100, 7));
  EXPECT_EQ(d.tier, core::Tier::kNvme);
  EXPECT_STREQ(d.reason, "guard: shuffle");
}

}  // namespace
}  // namespace prescale::policy

namespace prescale::policy {
namespace {

// The adaptive window, step by step: a policy that always asks for the minimum, so every
// target is the envelope's own. Capacity 1000/s per executor at 100% utilisation: the need
// is load / 1000. The short window is 10 s, the adaptive one may reach 60 s.
struct AdaptStep {
  double load;
  double latency_ms;
  int expected_target;
  double expected_window_s;
};

std::vector<int> RunAdaptive(Envelope& e, const std::vector<AdaptStep>& steps, double t0 = 0) {
  std::vector<int> targets;
  int total = e.config().enabled ? 8 : 1;
  for (size_t i = 0; i < steps.size(); ++i) {
    SCOPED_TRACE(i);
    core::Observation obs = Obs(t0 + 5.0 * static_cast<double>(i), steps[i].load, total);
    obs.latency_ms = steps[i].latency_ms;
    const core::Decision d = e.apply(obs, Want(1));
    EXPECT_EQ(d.target_executors, steps[i].expected_target);
    EXPECT_DOUBLE_EQ(e.window_s(), steps[i].expected_window_s);
    targets.push_back(d.target_executors);
    total = d.target_executors;  // executors arrive at once in this test
  }
  return targets;
}

EnvelopeConfig Adaptive() {
  EnvelopeConfig c;
  c.utilisation = 1.0;
  c.stabilisation_s = 10;
  c.stabilisation_max_s = 60;
  return c;
}

TEST(EnvelopeAdaptiveWindow, ARegrettedReleaseLengthensTheHoldThroughTheNextTrough) {
  Envelope e(Env(), Adaptive());
  RunAdaptive(e, {
                     {8000, 500, 8, 10},   // a peak
                     {2000, 500, 8, 10},   // the trough: held by both windows
                     {2000, 500, 2, 10},   // released after 10 s
                     {8000, 3000, 8, 20},  // the peak is back and the SLA broke: regretted
                     {8000, 500, 8, 20},   //
                     {8000, 500, 8, 20},   //
                     {2000, 500, 8, 20},   // the next trough is held for 20 s
                     {2000, 500, 8, 20},   //
                     {2000, 500, 8, 20},   //
                     {2000, 500, 2, 20},   // then released
                 });
  EXPECT_EQ(e.regrets(), 1);
}

TEST(EnvelopeAdaptiveWindow, AReleaseThatHoldsShrinksTheWindowBackToItsMinimum) {
  Envelope e(Env(), Adaptive());
  std::vector<AdaptStep> steps = {
      {8000, 500, 8, 10}, {2000, 500, 8, 10}, {2000, 500, 2, 10}, {8000, 3000, 8, 20},
      {2000, 500, 8, 20}, {2000, 500, 8, 20}, {2000, 500, 8, 20}, {2000, 500, 2, 20},
  };
  // The release at t = 35 s holds (no violation) for stabilisation_max_s = 60 s: at
  // t = 95 s the window's excess over 10 s is halved.
  for (int i = 0; i < 11; ++i) steps.push_back({2000, 500, 2, 20});
  steps.push_back({2000, 500, 2, 15});
  RunAdaptive(e, steps);
  EXPECT_EQ(e.regrets(), 1);
}

TEST(EnvelopeAdaptiveWindow, NoiseAboveTheTroughLengthensItOnlyByItsShare) {
  Envelope e(Env(), Adaptive());
  RunAdaptive(e, {
                     {8000, 500, 8, 10},
                     {2000, 500, 8, 10},
                     {2000, 500, 2, 10},  // released from 8 to 2
                     // 3 executors needed and 2 serve: a violation, but only 1 of the 6
                     // released executors came back: the window grows by a sixth of 10 s.
                     {3000, 1500, 3, 10 + 10.0 / 6},
                 });
}

TEST(EnvelopeAdaptiveWindow, AViolationTheWindowCouldNotHavePreventedLeavesItAlone) {
  EnvelopeConfig fixed = Adaptive();
  fixed.stabilisation_max_s = 0;  // <= stabilisation_s: a fixed window
  Envelope f(Env(), fixed);
  RunAdaptive(f, {{8000, 500, 8, 10}, {2000, 500, 8, 10}, {2000, 500, 2, 10}, {8000, 3000, 8, 10}});
  EXPECT_EQ(f.regrets(), 0);
  // A release 60 s before the violation: a window long enough to hold it would exceed
  // stabilisation_max_s.
  Envelope e(Env(), Adaptive());
  std::vector<AdaptStep> steps = {{8000, 500, 8, 10}, {2000, 500, 8, 10}, {2000, 500, 2, 10}};
  for (int i = 0; i < 10; ++i) steps.push_back({2000, 500, 2, 10});
  steps.push_back({8000, 3000, 8, 10});
  RunAdaptive(e, steps);
  EXPECT_EQ(e.regrets(), 0);
}

TEST(EnvelopeAdaptiveWindow, AStepwiseReleaseIsJudgedFromWhenTheNeededLevelWasLeft) {
  // A peak released to 3 at t = 10 s, then from 3 to 2 at t = 55 s. Five seconds later the
  // peak is back: holding its 8 executors until now would have taken a 65 s window, over
  // the 60 s maximum, so the window stays (it was once judged from the small release, 5 s
  // before, and grew). A need of 3 instead came back to the level left 5 s before: that is
  // regretted, by its share of the release.
  auto steps_to = [](AdaptStep last) {
    std::vector<AdaptStep> steps = {{8000, 500, 8, 10}, {3000, 500, 8, 10}};
    for (int i = 0; i < 8; ++i) steps.push_back({3000, 500, 3, 10});
    steps.push_back({2000, 500, 3, 10});
    steps.push_back({2000, 500, 2, 10});
    steps.push_back(last);
    return steps;
  };
  Envelope peak(Env(), Adaptive());
  RunAdaptive(peak, steps_to({8000, 3000, 8, 10}));
  EXPECT_EQ(peak.regrets(), 0);
  Envelope small(Env(), Adaptive());
  RunAdaptive(small, steps_to({3000, 1500, 3, 10 + 10.0 / 6}));
  EXPECT_EQ(small.regrets(), 1);
}

}  // namespace
}  // namespace prescale::policy

namespace prescale::policy {
namespace {

TEST(CommandEnvelope, HoldsWithoutMetricsBoundsAndStabilisesScaleDowns) {
  CommandEnvelope e(1, 8, 5, 20);
  core::Observation o;
  o.active_executors = 4;
  core::Decision d;
  d.target_executors = 12;
  d.tier = core::Tier::kRedis;
  d.compression = core::Compression::kZstd;
  o.metrics_available = false;
  auto out = e.apply(o, d, 4, core::Tier::kNvme, core::Compression::kLz4);
  EXPECT_TRUE(out.held);
  EXPECT_EQ(out.decision.target_executors, 4);
  EXPECT_EQ(out.decision.tier, core::Tier::kNvme);
  EXPECT_EQ(out.decision.compression, core::Compression::kLz4);
  o.metrics_available = true;
  out = e.apply(o, d, 4, core::Tier::kNvme, core::Compression::kLz4);
  EXPECT_FALSE(out.held);
  EXPECT_EQ(out.wanted, 8);
  EXPECT_EQ(out.decision.target_executors, 8);
  EXPECT_EQ(out.decision.tier, core::Tier::kRedis);  // the policy's shuffle choice stands
  EXPECT_EQ(out.decision.compression, core::Compression::kZstd);
  // Down to 2 within 20 s of the 8: held at 8 (HpaBehavior's window: records strictly
  // after now - 20 s); from 20 s on: released.
  d.target_executors = 2;
  for (double t : {5.0, 10.0, 15.0}) {
    o.time_s = t;
    out = e.apply(o, d, 8, core::Tier::kRedis, core::Compression::kZstd);
    EXPECT_EQ(out.decision.target_executors, 8) << t;
    EXPECT_TRUE(out.stabilised);
  }
  o.time_s = 20;
  out = e.apply(o, d, 8, core::Tier::kRedis, core::Compression::kZstd);
  EXPECT_EQ(out.decision.target_executors, 2);
  EXPECT_FALSE(out.stabilised);
  // A scale-up is never held.
  d.target_executors = 6;
  o.time_s = 30;
  EXPECT_EQ(
      e.apply(o, d, 2, core::Tier::kRedis, core::Compression::kZstd).decision.target_executors, 6);
}

TEST(CommandEnvelope, NewBoundsStartTheWindowAfresh) {
  CommandEnvelope e(1, 10, 5, 60);
  core::Observation o;
  o.active_executors = 2;
  core::Decision d;
  d.target_executors = 9;
  (void)e.apply(o, d, 2, core::Tier::kNvme, core::Compression::kNone);
  e.set_bounds(1, 6);
  EXPECT_EQ(e.min_executors(), 1);
  EXPECT_EQ(e.max_executors(), 6);
  d.target_executors = 3;
  o.time_s = 5;
  o.active_executors = 6;
  const auto out = e.apply(o, d, 6, core::Tier::kNvme, core::Compression::kNone);
  EXPECT_EQ(out.wanted, 3);
  // The 9 recommended under the old bounds is forgotten; the window starts from what runs.
  EXPECT_EQ(out.decision.target_executors, 6);
  EXPECT_TRUE(out.stabilised);
}

}  // namespace
}  // namespace prescale::policy

namespace prescale::policy {
namespace {

// A lower floor utilisation buys executors, never a slower shuffle: the latency budget an
// option must fit is the SLA less one whole trigger, whatever the utilisation (it was the SLA
// less the trigger x utilisation, so a floor at 0.8 admitted S3 at 560 ms, and on the seed
// scenario rl's violations went from 3.2% at 0.9 to 15.4% at 0.8).
TEST(Envelope, ALowerUtilisationDoesNotAdmitASlowerShuffleOption) {
  PolicyEnv env = Env();
  env.shuffle_cap_rps.fill(1e9);
  env.shuffle_latency_ms.fill(240);
  env.shuffle_latency_ms[static_cast<size_t>(core::Tier::kS3) * core::kNumCompressions] = 560;
  for (double u : {0.9, 0.8, 0.5}) {
    SCOPED_TRACE(u);
    EnvelopeConfig c;
    c.dwell_s = 0;
    c.utilisation = u;
    const core::Decision d = FirstDecision(env, c, Want(7, core::Tier::kS3), Obs(0, 100, 7));
    EXPECT_EQ(d.tier, core::Tier::kNvme);
    EXPECT_STREQ(d.reason, "guard: shuffle");
  }
}

// When no option carries the load, the shuffle floor moves to the one that moves the most,
// rather than leaving the job on a slower saturated one.
TEST(Envelope, WhenNoShuffleOptionCarriesTheLoadTheWidestOneIsUsed) {
  PolicyEnv env = Env();
  env.shuffle_cap_rps.fill(1000);
  const auto redis_lz4 = static_cast<size_t>(core::Tier::kRedis) * core::kNumCompressions + 2;
  env.shuffle_cap_rps[redis_lz4] = 4000;
  EnvelopeConfig c;
  c.utilisation = 1.0;
  const core::Decision d =
      FirstDecision(env, c, Want(7), Obs(0, 6000, 7));  // 6000/s: more than any option moves
  EXPECT_EQ(d.tier, core::Tier::kRedis);
  EXPECT_EQ(static_cast<size_t>(d.compression), 2u);
  EXPECT_STREQ(d.reason, "guard: shuffle");
  EXPECT_EQ(widest_option(env, core::Tier::kNvme),
            std::make_pair(core::Tier::kRedis, d.compression));
}

}  // namespace
}  // namespace prescale::policy

namespace prescale::policy {
namespace {

// The shuffle must move the input (and the backlog's drain), not the executors' headroom: a
// floor at utilisation 0.5 sizes executors for twice the input but leaves the shuffle on an
// option that moves the input.
TEST(Envelope, TheShuffleFloorIgnoresTheExecutorsUtilisationHeadroom) {
  PolicyEnv env = Env();
  env.shuffle_cap_rps.fill(1e9);
  const auto nvme = static_cast<size_t>(core::Tier::kNvme) * core::kNumCompressions;
  env.shuffle_cap_rps[nvme] = 7000;
  EnvelopeConfig c;
  c.utilisation = 0.5;
  const core::Decision d = FirstDecision(env, c, Want(7), Obs(0, 6000, 7));
  EXPECT_EQ(d.target_executors, 12);  // 6000/s at 1000/s per executor and 50%
  EXPECT_EQ(d.tier, core::Tier::kNvme);
  EXPECT_EQ(d.compression, core::Compression::kNone);
  EXPECT_FALSE(d.guards & core::kGuardShuffle);
}

}  // namespace
}  // namespace prescale::policy

namespace prescale::policy {
namespace {

// The floor rules (`guard_floor`): the rate rule, the recommendation of a shadow HPA with
// upstream defaults on the same observations, or the lower of the two.
TEST(Envelope, TheFloorRuleChoosesBetweenTheRateRuleAndAShadowHpa) {
  auto with = [](EnvelopeConfig::FloorRule rule) {
    EnvelopeConfig c;
    c.utilisation = 1.0;
    c.floor_rule = rule;
    return c;
  };
  using Rule = EnvelopeConfig::FloorRule;
  // A load the five executors cannot carry while their CPU reads half busy (the HPA lags
  // it): the rate rule needs 7, the HPA holds its 5 (its 300 s window keeps the start).
  core::Observation surge = Obs(0, 7000, 5);
  surge.cpu_util = 0.5;
  // A light load on CPU-saturated executors (a slow codec, say): the rate rule needs 2, the
  // HPA asks ceil(5 x 1.0 / 0.8) = 7.
  core::Observation hot = Obs(0, 2000, 5);
  hot.cpu_util = 1.0;
  struct Case {
    const char* name;
    core::Observation obs;
    Rule rule;
    int target;
    const char* reason;
  };
  const Case cases[] = {
      {"rate: the surge raises the floor to 7", surge, Rule::kRate, 7, "guard: floor"},
      {"hpa: the HPA's 5 is the floor", surge, Rule::kHpa, 5, "guard: floor"},
      {"min: the lower of 7 and 5", surge, Rule::kMin, 5, "guard: floor"},
      {"rate: 2 is needed, the release is held at 5", hot, Rule::kRate, 5, "guard: stabilise"},
      {"hpa: the HPA's 7 is the floor", hot, Rule::kHpa, 7, "guard: floor"},
      {"min: the lower of 2 and 7, held at 5", hot, Rule::kMin, 5, "guard: stabilise"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const core::Decision d = FirstDecision(Env(), with(c.rule), Want(1), c.obs);
    EXPECT_EQ(d.target_executors, c.target);
    EXPECT_STREQ(d.reason, c.reason);
  }
  core::ParamTable ok("policies.rl");
  ok.set("guard_floor", "min");
  EXPECT_EQ(read_envelope(ok).floor_rule, Rule::kMin);
  EXPECT_TRUE(ok.finish().ok());
  core::ParamTable bad("policies.rl");
  bad.set("guard_floor", "median", "x.yaml:4");
  read_envelope(bad);
  ASSERT_FALSE(bad.finish().ok());
  EXPECT_NE(bad.finish().message().find("x.yaml:4"), std::string::npos);
}

}  // namespace
}  // namespace prescale::policy

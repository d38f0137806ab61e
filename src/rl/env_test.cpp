// The world factory: training episodes across the traffic mix (sim/traffic.h) and
// randomised clusters.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "rl/env.h"
#include "sim/scenario.h"

namespace prescale::rl {
namespace {

std::string write_trace(const std::string& name, int samples) {
  const std::string dir = testing::TempDir() + "/traffic_test_traces";
  std::filesystem::create_directories(dir);
  const std::string path = dir + "/" + name;
  std::ofstream out(path);
  out << "timestamp,value\n";
  for (int i = 0; i < samples; ++i) {
    const int minutes = 5 * i;
    char ts[64];
    std::snprintf(ts, sizeof ts, "2020-01-%02d %02d:%02d:00", 1 + minutes / 1440,
                  (minutes / 60) % 24, minutes % 60);
    out << ts << "," << 10 + 5 * std::sin(i / 20.0) + (i % 97 == 0 ? 40 : 0) << "\n";
  }
  return path;
}

TEST(WorldFactory, MakesValidDeterministicWorldsAcrossTheMix) {
  TrafficMix mix;
  mix.base = sim::default_scenario();
  // 3 days of 5-minute samples: a 500-step window at every speed. One day: 17,280 steps of
  // 5 s at speed 1 but only 287 at speed 60, too short for a window there. A development
  // trace's name: never used, whatever its directory.
  mix.trace_files = {write_trace("long.csv", 864), write_trace("short.csv", 288),
                     write_trace("nyc_taxi.csv", 864),
                     write_trace("conv_requests_per_second.csv", 864)};
  auto f = WorldFactory::create(mix);
  ASSERT_TRUE(f.ok()) << f.error().message;
  ASSERT_EQ(f->replays().size(), 2u);
  EXPECT_EQ(f->replays()[0].speedups, (std::vector<double>{1, 3, 10, 30, 60}));
  EXPECT_EQ(f->replays()[1].speedups, (std::vector<double>{1, 3, 10, 30}));
  EXPECT_EQ(f->replays()[0].file.substr(f->replays()[0].file.size() - 8), "long.csv");
  EXPECT_EQ(f->replays()[1].file.substr(f->replays()[1].file.size() - 9), "short.csv");

  std::map<std::string, int> kinds;
  int randomised = 0;
  for (std::uint64_t ep = 0; ep < 200; ++ep) {
    World w;
    f->make(ep, &w);
    ASSERT_TRUE(sim::validate(w.scenario).ok()) << sim::validate(w.scenario).error().message;
    ASSERT_EQ(w.workload.steps(), mix.base.steps) << w.scenario.name;
    EXPECT_EQ(w.scenario.step_s, mix.base.step_s);
    for (double x : w.workload.arrivals_rps) ASSERT_TRUE(std::isfinite(x) && x >= 0);
    const bool same_cluster = w.scenario.cluster.max_executors == mix.base.cluster.max_executors &&
                              w.scenario.cluster.capacity_rps == mix.base.cluster.capacity_rps &&
                              w.scenario.cluster.cold_start_s == mix.base.cluster.cold_start_s;
    randomised += !same_cluster;
    std::string kind = w.scenario.name;
    if (w.scenario.source == sim::WorkloadSource::kSynthetic)
      kind = w.scenario.synthetic.base_rps == mix.base.synthetic.base_rps ? "seed" : "synthetic";
    if (kind == "seed") {
      EXPECT_TRUE(same_cluster);
    }
    ++kinds[kind];
    // The simulator runs.
    w.sim->reset();
    for (int t = 0; t < 5 && !w.sim->done(); ++t) {
      core::Decision d;
      d.target_executors = 4 + t;
      d.tier = core::Tier::kNvme;
      d.compression = core::Compression::kNone;
      w.sim->step(d);
    }
    // Deterministic in the episode number.
    World again;
    f->make(ep, &again);
    EXPECT_EQ(again.workload.arrivals_rps, w.workload.arrivals_rps);
    EXPECT_EQ(again.scenario.cluster.max_executors, w.scenario.cluster.max_executors);
  }
  for (const char* k : {"seed", "synthetic", "train:trace", "train:onoff", "train:diurnal",
                        "train:steps", "train:spikes"}) {
    EXPECT_GT(kinds[k], 5) << k;
  }
  EXPECT_NEAR(kinds["seed"], 40, 20);
  EXPECT_NEAR(kinds["train:trace"], 50, 20);
  EXPECT_NEAR(randomised, 100, 25);
}

TEST(WorldFactory, SeedOnlyMixGivesTheSeedScenarioAndBadSharesAreErrors) {
  // As the trainer builds the manager's worlds: the other shares keep their defaults.
  TrafficMix mix;
  mix.base = sim::default_scenario();
  mix.seed_fraction = 1.0;
  mix.trace_fraction = 0;
  auto f = WorldFactory::create(mix);
  ASSERT_TRUE(f.ok());
  for (std::uint64_t ep = 0; ep < 20; ++ep) {
    World w;
    f->make(ep, &w);
    EXPECT_EQ(w.scenario.source, sim::WorkloadSource::kSynthetic);
    EXPECT_EQ(w.scenario.synthetic.base_rps, mix.base.synthetic.base_rps);
    EXPECT_EQ(w.scenario.cluster.max_executors, mix.base.cluster.max_executors);
    EXPECT_EQ(w.scenario.cluster.cold_start_s, mix.base.cluster.cold_start_s);
  }
  mix.trace_fraction = -0.1;
  EXPECT_FALSE(WorldFactory::create(mix).ok());
  mix.trace_fraction = 0;
  mix.trace_speedups = {0};
  EXPECT_FALSE(WorldFactory::create(mix).ok());
  mix.trace_speedups = {1};
  mix.cluster_ranges.max_executors_min = 70;  // above max_executors_max
  EXPECT_FALSE(WorldFactory::create(mix).ok());
}

TEST(WorldFactory, TheEdgeGivenReplacesEveryEpisodesSignal) {
  // `prescale train --edge forecast`: the function sees every episode's workload before the
  // simulator does, so the worker learns from the signal it will be deployed with.
  TrafficMix mix;
  mix.base = sim::default_scenario();
  int calls = 0;
  mix.edge = [&calls](sim::Workload* w) {
    ++calls;
    w->signal.assign(w->arrivals_rps.size(), 0);
    w->signal[w->signal.size() / 2] = 1;  // one raise, in the middle
  };
  auto f = WorldFactory::create(mix);
  ASSERT_TRUE(f.ok());
  for (std::uint64_t ep = 0; ep < 12; ++ep) {
    World w;
    f->make(ep, &w);
    ASSERT_FALSE(w.workload.signal.empty());
    int raised = 0;
    for (auto s : w.workload.signal) raised += s;
    EXPECT_EQ(raised, 1) << "episode " << ep;
    // The simulator replays the replaced signal.
    const size_t mid = w.workload.signal.size() / 2;
    for (size_t t = 0; t < mid; ++t)
      w.sim->step(core::Decision{.target_executors = w.sim->observation().total_executors()});
    EXPECT_TRUE(w.sim->observation().burst_signal) << "episode " << ep;
  }
  EXPECT_EQ(calls, 12);
}

TEST(WorkerCost, TheLoadScaleIsTheExecutorsTheMeanLoadNeeds) {
  sim::Scenario s = sim::default_scenario();
  s.cluster.capacity_rps = 1000;
  s.cluster.max_executors = 40;
  sim::Workload w;
  w.arrivals_rps = {2000, 4000, 6000, 8000};                           // mean 5,000 = 5 executors
  EXPECT_DOUBLE_EQ(worker_cost_ref(CostScale::kCluster, s, w), 20.0);  // half of 40
  EXPECT_DOUBLE_EQ(worker_cost_ref(CostScale::kLoad, s, w), 5.0);
  // At alpha 0 one executor of headroom costs a fifth of the load's need on this load, a
  // twentieth on the cluster's scale: the same bill, four times the weight.
  const double price = s.executor_price_per_step();
  EXPECT_DOUBLE_EQ(worker_reward(0.0, false, 0, 1000, price, price, 5.0), -0.2);
  EXPECT_DOUBLE_EQ(worker_reward(0.0, false, 0, 1000, price, price, 20.0), -0.05);
  // A light or empty load, or a nonsense capacity, never makes the unit below one executor.
  w.arrivals_rps = {10, 20};
  EXPECT_DOUBLE_EQ(worker_cost_ref(CostScale::kLoad, s, w), 1.0);
  w.arrivals_rps.clear();
  EXPECT_DOUBLE_EQ(worker_cost_ref(CostScale::kLoad, s, w), 1.0);
  w.arrivals_rps = {5000};
  s.cluster.capacity_rps = 0;
  EXPECT_TRUE(std::isfinite(worker_cost_ref(CostScale::kLoad, s, w)));
  EXPECT_GE(worker_cost_ref(CostScale::kLoad, s, w), 1.0);
}

}  // namespace
}  // namespace prescale::rl

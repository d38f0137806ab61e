// The calibration recovers known parameters from run directories written in the live
// race's format (live::write_records) from the arena's own runs of a known scenario.
#include "calibrate/calibrate.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <string>

#include "core/temp_dir.h"
#include "live/race.h"
#include "sim/scenario.h"
#include "sim/simulator.h"
#include "sim/step_model.h"
#include "sim/workload.h"

namespace prescale::calibrate {
namespace {

namespace fs = std::filesystem;

// A fresh directory per test, removed at the end.
using core::TempDir;

sim::Scenario base_scenario() {
  auto s = sim::load_scenario("scenarios/live.yaml");
  EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
  return *s;
}

// The truth the synthetic runs are made from: scenarios/live.yaml with other figures, so a
// fit that returned the base's values would fail.
sim::Scenario truth_scenario() {
  sim::Scenario s = base_scenario();
  s.cluster.capacity_rps = 1100;
  s.latency.overhead_ms = 900;
  s.cluster.cold_start_s = 12;  // 6 steps of 2 s
  s.cluster.max_executors = 4;
  s.steps = 400;
  return s;
}

// The arena runs `truth` under a simple threshold policy (target = the executors that keep
// utilisation under 75%); each step becomes one batch (its readings = a trigger's arrivals,
// its duration and latency the step model's, with noise and a few stalls), one executor
// sample and, when the target changes, one command: a live run's records, with the run's
// policy as "threshold". Returns the RunResult as the race would have recorded it.
live::RunResult arena_run(const sim::Scenario& truth, std::uint64_t seed, double noise_ms,
                          bool stalls = true) {
  auto gen = sim::WorkloadGenerator::create(truth);
  EXPECT_TRUE(gen.ok());
  const sim::Workload w = gen->generate(seed);
  sim::Simulator simulator(truth, w);
  std::vector<sim::StepRecord> timeline;
  simulator.record_timeline(&timeline);
  const double cap = truth.cluster.capacity_rps;
  sim::simulate(simulator, [&](const core::Observation& o) {
    core::Decision d;
    d.target_executors = std::max(1, static_cast<int>(std::ceil(o.input_rps / (0.75 * cap))));
    d.tier = o.tier;
    return d;
  });
  const sim::StepModel model(truth);
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> noise(0, noise_ms);
  live::RunResult run;
  run.policy = "threshold";
  run.min_executors = truth.cluster.min_executors;
  run.sla_ms = truth.latency.sla_ms;
  int target = truth.cluster.initial_executors;
  double backlog = 0;
  int serving = truth.cluster.initial_executors;
  double warmup_left = 0;  // the simulator's warm-up pause after a join
  for (const auto& r : timeline) {
    if (r.active > serving) warmup_left += truth.cluster.warmup_s;
    serving = r.active;
    const double pause = std::min(warmup_left, truth.step_s);
    warmup_left -= pause;
    const double t = r.step * truth.step_s;
    if (r.target != target) run.commands.push_back({t, r.target, "threshold"});
    target = r.target;
    run.executors.push_back({t, r.active, r.active});
    const sim::StepOutcome o = model.run(r.load_rps, backlog, r.active, r.tier, r.codec, pause);
    backlog = r.backlog;
    live::BatchRecord b;
    b.batch_id = r.step;
    b.rows = r.load_rps * truth.latency.trigger_s;
    b.input_rps = r.load_rps;
    b.executors = r.active;
    // A stall now and then (a GC pause, a slow commit): the robust fit must shrug it off.
    const double stall = stalls && r.step % 41 == 7 ? 4000 : 0;
    b.batch_ms = std::max(1.0, o.batch_ms + noise(rng) + stall);
    b.t_s = t + b.batch_ms / 1000.0;  // its progress arrives when it ends
    b.latency_ms = std::max(1.0, o.latency_ms + noise(rng) + stall);
    b.latency_measured = true;
    b.backlog = r.backlog;
    run.batches.push_back(b);
  }
  run.duration_s = truth.steps * truth.step_s;
  return run;
}

Fit fit_dir(const std::string& dir, const sim::Scenario& base) {
  auto rec = load_run_dir(dir);
  EXPECT_TRUE(rec.ok()) << (rec.ok() ? "" : rec.error().message);
  return fit(*rec, base);
}

TEST(Calibrate, RecoversTheArenasOwnParameters) {
  const sim::Scenario truth = truth_scenario();
  TempDir dir;
  std::vector<live::RunResult> runs = {arena_run(truth, 11, 60), arena_run(truth, 12, 60)};
  ASSERT_TRUE(live::write_records(dir.str(), runs).ok());
  const sim::Scenario base = base_scenario();
  const Fit f = fit_dir(dir.str(), base);
  std::cout << summary(f, base);

  ASSERT_TRUE(f.capacity_rps.fitted) << f.capacity_rps.note;
  EXPECT_NEAR(f.capacity_rps.value, 1100, 0.01 * 1100);
  EXPECT_GT(f.capacity_rps.se, 0);
  EXPECT_LE(std::abs(f.capacity_rps.value - 1100), 4 * f.capacity_rps.se + 5);
  EXPECT_LT(f.capacity_rps.lo, 1100);
  EXPECT_GT(f.capacity_rps.hi, 1100);
  // Every batch but those running near an executor join (their excess is the warm-up).
  EXPECT_EQ(f.capacity_rps.n, f.batches_used);
  EXPECT_GT(f.batches_used, 600);
  EXPECT_LT(f.batches_used, 800);
  EXPECT_GT(f.outliers, 10);  // the stalls were down-weighted

  // The arena's fixed part is overhead + 2 nvme round trips of 20 ms: the fit takes them off.
  ASSERT_TRUE(f.overhead_ms.fitted) << f.overhead_ms.note;
  EXPECT_NEAR(f.overhead_ms.value, 900, 20);
  EXPECT_LE(std::abs(f.overhead_ms.value - 900), 4 * f.overhead_ms.se + 5);

  // 1100 x (1 - 940 / 5000): the input at which a batch takes its 5 s trigger.
  ASSERT_TRUE(f.trigger_fill_rps.fitted);
  EXPECT_NEAR(f.trigger_fill_rps.value, 1100 * (1 - 940.0 / 5000), 15);
  EXPECT_LT(f.trigger_fill_rps.lo, 1100 * (1 - 940.0 / 5000));
  EXPECT_GT(f.trigger_fill_rps.hi, 1100 * (1 - 940.0 / 5000));

  // Requests serve after exactly 6 steps of 2 s in the arena.
  ASSERT_TRUE(f.cold_start_s.fitted) << f.cold_start_s.note;
  EXPECT_GE(f.cold_start_s.n, 4);
  EXPECT_NEAR(f.cold_start_s.value, 12, 1e-9);
  EXPECT_NEAR(f.cold_start_live_s.value, 12, 1e-9);

  // The arena charges 1000 / capacity ms of latency per backlog reading per executor.
  ASSERT_TRUE(f.backlog_ms_per_rpe.fitted) << f.backlog_ms_per_rpe.note;
  EXPECT_NEAR(f.backlog_ms_per_rpe.value, 1000.0 / 1100, 0.02 * 1000.0 / 1100);
  EXPECT_NEAR(f.backlog_intercept_ms.value, 0, 20);

  const sim::Scenario s = apply(f, base);
  EXPECT_NEAR(s.cluster.capacity_rps, 1100, 33);
  EXPECT_EQ(s.cluster.max_executors, base.cluster.max_executors);  // the rest is the base's
}

// --capacity trigger: the scenario's capacity is the input per executor that fills a trigger
// (with the fluid model, which pays the overhead in latency only; docs/sim2real.md).
TEST(Calibrate, TriggerCapacityWritesTheTriggerFillingRate) {
  const sim::Scenario truth = truth_scenario();
  TempDir dir;
  ASSERT_TRUE(live::write_records(dir.str(), {arena_run(truth, 11, 60)}).ok());
  const sim::Scenario base = base_scenario();
  const Fit f = fit_dir(dir.str(), base);
  const Fit t = trigger_capacity(f);
  EXPECT_DOUBLE_EQ(t.capacity_rps.value, f.trigger_fill_rps.value);
  EXPECT_NEAR(t.capacity_rps.value, 1100 * (1 - 940.0 / 5000), 15);
  EXPECT_NE(t.capacity_rps.note.find("fills a trigger"), std::string::npos);
  EXPECT_NEAR(apply(t, base).cluster.capacity_rps, 1100 * (1 - 940.0 / 5000), 15);
  EXPECT_DOUBLE_EQ(t.overhead_ms.value, f.overhead_ms.value);  // the rest as fitted
  // The overhead folded into the capacity goes with the fluid model (latency only); the
  // marginal rate with the micro-batch one (the overhead out of the executors' time).
  EXPECT_EQ(apply(t, base).latency.model, sim::LatencyModel::kFluid);
  EXPECT_EQ(apply(f, base).latency.model, sim::LatencyModel::kMicroBatch);
}

// Shared cores: n executors serve n / (1 + 0.3 (n - 1)) executors' worth. The fit separates
// that from the capacity when the batches ran at several executor counts, and keeps the
// base's 0 (saying why) when they all ran at one.
TEST(Calibrate, RecoversTheContentionOfSharedCores) {
  sim::Scenario truth = truth_scenario();
  truth.cluster.contention = 0.3;
  TempDir dir;
  ASSERT_TRUE(
      live::write_records(dir.str(), {arena_run(truth, 11, 60), arena_run(truth, 12, 60)}).ok());
  const sim::Scenario base = base_scenario();
  const Fit f = fit_dir(dir.str(), base);
  std::cout << summary(f, base);
  ASSERT_TRUE(f.contention.fitted) << f.contention.note;
  EXPECT_NEAR(f.contention.value, 0.3, 0.05);
  EXPECT_LT(f.contention.lo, 0.3);
  EXPECT_GT(f.contention.hi, 0.3);
  EXPECT_NEAR(f.capacity_rps.value, 1100, 0.03 * 1100);
  EXPECT_NEAR(apply(f, base).cluster.contention, 0.3, 0.05);

  sim::Scenario one = truth_scenario();
  one.cluster.max_executors = 1;
  one.cluster.initial_executors = 1;
  TempDir single;
  ASSERT_TRUE(live::write_records(single.str(), {arena_run(one, 11, 60)}).ok());
  const Fit g = fit_dir(single.str(), base);
  EXPECT_FALSE(g.contention.fitted);
  EXPECT_NE(g.contention.note.find("second executor count"), std::string::npos)
      << g.contention.note;
  EXPECT_DOUBLE_EQ(apply(g, base).cluster.contention, base.cluster.contention);
}

// A batch's progress (and the executor count recorded with it) arrives when it ends; the
// executors that served it are those live when it started. Records that count a batch's
// executors at its end (after a scale-up that came during it) are fitted with the counts at
// its start, from the executor samples; without the samples the fit is biased.
TEST(Calibrate, ABatchCountsTheExecutorsLiveWhenItStarted) {
  const sim::Scenario truth = truth_scenario();
  live::RunResult run = arena_run(truth, 11, 60);
  for (auto& b : run.batches) {
    int at_end = b.executors;
    for (const auto& s : run.executors)
      if (s.t_s <= b.t_s) at_end = s.executors;
    b.executors = at_end;
  }
  int moved = 0;
  for (size_t i = 0; i < run.batches.size(); ++i)
    moved += run.batches[i].executors != run.executors[i].executors;
  ASSERT_GT(moved, 5);  // some batches saw a scale-up or -down while they ran
  TempDir dir;
  ASSERT_TRUE(live::write_records(dir.str(), {run}).ok());
  const sim::Scenario base = base_scenario();
  const Fit f = fit_dir(dir.str(), base);
  EXPECT_NEAR(f.capacity_rps.value, 1100, 0.02 * 1100);
  EXPECT_NEAR(f.overhead_ms.value, 900, 30);

  // The same batches without the samples at their starts: each keeps its end count.
  run.executors = {{0, 1, 1}};
  TempDir bare;
  ASSERT_TRUE(live::write_records(bare.str(), {run}).ok());
  const Fit g = fit_dir(bare.str(), base);
  EXPECT_GT(std::abs(g.capacity_rps.value - 1100) + std::abs(g.overhead_ms.value - 900),
            std::abs(f.capacity_rps.value - 1100) + std::abs(f.overhead_ms.value - 900) + 30);
}

// Executors that join slow the job's next batches (cluster.warmup_s, here 3 s per join in
// the truth): the fit takes the disturbed batches out of the line and sums their excess per
// join. Without warm-up in the truth it keeps the base's 0 or finds next to nothing. No
// stalls here: a stall in a join's window is time above the line near a join, which is what
// the warm-up measures whatever its cause (the median over joins keeps a rare one out).
TEST(Calibrate, RecoversTheWarmUpOfJoiningExecutors) {
  sim::Scenario truth = truth_scenario();
  truth.cluster.warmup_s = 3;
  TempDir dir;
  ASSERT_TRUE(live::write_records(
                  dir.str(), {arena_run(truth, 11, 60, false), arena_run(truth, 12, 60, false)})
                  .ok());
  const sim::Scenario base = base_scenario();
  const Fit f = fit_dir(dir.str(), base);
  std::cout << summary(f, base);
  ASSERT_TRUE(f.warmup_s.fitted) << f.warmup_s.note;
  EXPECT_GE(f.warmup_s.n, 4);
  EXPECT_NEAR(f.warmup_s.value, 3, 0.3);
  EXPECT_NEAR(f.capacity_rps.value, 1100, 0.02 * 1100);  // the line is not bent by them
  EXPECT_DOUBLE_EQ(apply(f, base).cluster.warmup_s, base.cluster.warmup_s);  // reported only
  Fit written = f;
  written.use_warmup = true;  // prescale calibrate --warmup
  EXPECT_NEAR(apply(written, base).cluster.warmup_s, 3, 0.3);

  TempDir none;
  ASSERT_TRUE(live::write_records(none.str(), {arena_run(truth_scenario(), 11, 60, false)}).ok());
  const Fit g = fit_dir(none.str(), base);
  EXPECT_LT(g.warmup_s.value, 0.3) << g.warmup_s.note;
}

// Two run directories fitted as one: runs renumbered, every record kept with its run.
TEST(Calibrate, SeveralRunDirectoriesAreFittedAsOne) {
  const sim::Scenario truth = truth_scenario();
  TempDir a, b;
  ASSERT_TRUE(live::write_records(a.str(), {arena_run(truth, 11, 60)}).ok());
  ASSERT_TRUE(
      live::write_records(b.str(), {arena_run(truth, 12, 60), arena_run(truth, 13, 60)}).ok());
  auto ra = load_run_dir(a.str());
  auto rb = load_run_dir(b.str());
  ASSERT_TRUE(ra.ok() && rb.ok());
  const RunRecords m = merge_runs({*ra, *rb});
  ASSERT_EQ(m.runs.size(), 3u);
  EXPECT_EQ(m.runs[0].run, 0);
  EXPECT_EQ(m.runs[1].run, 1);
  EXPECT_EQ(m.runs[2].run, 2);
  EXPECT_EQ(m.batches.size(), ra->batches.size() + rb->batches.size());
  EXPECT_EQ(m.batches.back().run, 2);
  EXPECT_EQ(m.executors.front().run, 0);
  EXPECT_EQ(m.dir, a.str() + ", " + b.str());
  const Fit f = fit(m, base_scenario());
  EXPECT_EQ(f.batches_used,
            fit(*ra, base_scenario()).batches_used + fit(*rb, base_scenario()).batches_used);
  EXPECT_NEAR(f.capacity_rps.value, 1100, 0.01 * 1100);
}

TEST(Calibrate, ANoisierRunGivesAWiderButHonestRange) {
  const sim::Scenario truth = truth_scenario();
  TempDir quiet, noisy;
  ASSERT_TRUE(live::write_records(quiet.str(), {arena_run(truth, 5, 20)}).ok());
  ASSERT_TRUE(live::write_records(noisy.str(), {arena_run(truth, 5, 300)}).ok());
  const Fit q = fit_dir(quiet.str(), base_scenario());
  const Fit n = fit_dir(noisy.str(), base_scenario());
  ASSERT_TRUE(q.capacity_rps.fitted && n.capacity_rps.fitted);
  EXPECT_GT(n.capacity_rps.se, 3 * q.capacity_rps.se);
  EXPECT_LT(n.capacity_rps.lo, 1100);
  EXPECT_GT(n.capacity_rps.hi, 1100);
  EXPECT_LT(n.overhead_ms.lo, 900);
  EXPECT_GT(n.overhead_ms.hi, 900);
}

// Executors that registered but run their first task one batch later: the cold start to
// the first task is longer than to "live", and it is the one the scenario takes.
TEST(Calibrate, ColdStartToTheFirstTaskWhenRecorded) {
  TempDir dir;
  live::RunResult run;
  run.policy = "hpa";
  run.min_executors = 1;
  for (int i = 0; i < 4; ++i) {  // four scale-ups 1 -> 2 at t0, live at t0+15, tasks at t0+18
    const double t0 = 100.0 * i;
    run.commands.push_back({t0, 2, "up"});
    run.commands.push_back({t0 + 60, 1, "down"});
    for (double t = t0; t < t0 + 100; t += 0.5) {
      const int live = (t >= t0 + 15 + 0.5 * i && t < t0 + 60) ? 2 : 1;
      const int tasks = (t >= t0 + 18 + 0.5 * i && t < t0 + 60) ? 2 : 1;
      run.executors.push_back({t, live, tasks});
    }
  }
  ASSERT_TRUE(live::write_records(dir.str(), {run}).ok());
  const Fit f = fit_dir(dir.str(), base_scenario());
  ASSERT_TRUE(f.cold_start_s.fitted);
  EXPECT_EQ(f.cold_start_s.n, 4);
  EXPECT_NEAR(f.cold_start_s.value, 18.75, 1e-9);
  EXPECT_NEAR(f.cold_start_s.lo, 18, 1e-9);
  EXPECT_NEAR(f.cold_start_s.hi, 19.5, 1e-9);
  EXPECT_NEAR(f.cold_start_live_s.value, 15.75, 1e-9);
  EXPECT_GT(f.cold_start_s.se, 0);
  // No batches: capacity and overhead keep the base's values and say why.
  EXPECT_FALSE(f.capacity_rps.fitted);
  EXPECT_EQ(f.capacity_rps.value, base_scenario().cluster.capacity_rps);
  EXPECT_NE(f.capacity_rps.note.find("too few batches"), std::string::npos);
}

// A scale-up cancelled before its executor served is no cold-start sample.
TEST(Calibrate, ACancelledScaleUpIsNoSample) {
  TempDir dir;
  live::RunResult run;
  run.policy = "rl";
  run.commands = {{10, 2, "up"}, {12, 1, "down"}, {20, 2, "up"}};
  for (double t = 0; t < 60; t += 0.5) run.executors.push_back({t, t >= 35 ? 2 : 1, -1});
  ASSERT_TRUE(live::write_records(dir.str(), {run}).ok());
  const Fit f = fit_dir(dir.str(), base_scenario());
  EXPECT_FALSE(f.cold_start_s.fitted);  // one sample (15 s) < the two needed
  EXPECT_EQ(f.cold_start_s.n, 1);
  EXPECT_EQ(f.cold_start_s.value, base_scenario().cluster.cold_start_s);
  EXPECT_NE(f.cold_start_s.note.find("too few scale-ups"), std::string::npos);
}

TEST(Calibrate, WritesAScenarioTheLoaderAccepts) {
  const sim::Scenario truth = truth_scenario();
  TempDir dir;
  ASSERT_TRUE(live::write_records(dir.str(), {arena_run(truth, 3, 40)}).ok());
  auto rec = load_run_dir(dir.str());
  ASSERT_TRUE(rec.ok());
  const sim::Scenario base = base_scenario();
  const Fit f = fit(*rec, base);
  auto yaml = scenario_yaml(f, *rec, base, "live-calibrated", "test");
  ASSERT_TRUE(yaml.ok()) << yaml.error().message;
  auto s = sim::parse_scenario(*yaml, "out.yaml");
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->name, "live-calibrated");
  EXPECT_NEAR(s->cluster.capacity_rps, 1100, 40);
  EXPECT_NEAR(s->latency.overhead_ms, 900, 60);
  EXPECT_NEAR(s->cluster.cold_start_s, 12, 1e-9);
  EXPECT_EQ(s->latency.model, sim::LatencyModel::kMicroBatch);
  EXPECT_NE(yaml->find("model: microbatch"), std::string::npos);
  EXPECT_EQ(s->cluster.max_executors, base.cluster.max_executors);
  EXPECT_EQ(s->steps, base.steps);
  EXPECT_EQ(s->policies.count("keda"), 1u);
  // The provenance: the run directory, each value's SE and sample count.
  EXPECT_NE(yaml->find(dir.str()), std::string::npos);
  EXPECT_NE(yaml->find("cluster.capacity_rps: "), std::string::npos);
  EXPECT_NE(yaml->find("(SE)"), std::string::npos);
  EXPECT_NE(yaml->find(std::to_string(f.capacity_rps.n) + " samples"), std::string::npos);
}

// Writes the four files with `batches` as batches.jsonl's text.
void write_dir(const std::string& dir, const std::string& batches) {
  std::ofstream(dir + "/runs.jsonl") << R"({"run":0,"policy":"hpa","min_executors":1})"
                                     << "\n";
  std::ofstream(dir + "/batches.jsonl") << batches;
  std::ofstream(dir + "/executors.jsonl") << R"({"run":0,"t_s":0,"executors":1})"
                                          << "\n";
  std::ofstream(dir + "/commands.jsonl") << "";
}

std::string load_error(const std::string& dir) {
  auto rec = load_run_dir(dir);
  return rec.ok() ? std::string("(loaded)") : rec.error().message;
}

TEST(Calibrate, BadInputNamesFileAndLine) {
  TempDir dir;
  const std::string good =
      R"({"run":0,"t_s":5,"rows":3000,"batch_ms":2500,"executors":1,"latency_ms":6000,"backlog":0,"input_rps":600})"
      "\n";
  write_dir(dir.str(), good + "\n" + good + "{\"run\":0,\"t_s\":\n");
  EXPECT_NE(load_error(dir.str()).find("batches.jsonl:4: not a JSON object"), std::string::npos)
      << load_error(dir.str());

  write_dir(dir.str(), good + R"({"run":0,"t_s":5,"rows":3000,"executors":1})"
                              "\n");
  EXPECT_NE(load_error(dir.str()).find("batches.jsonl:2: missing field 'batch_ms'"),
            std::string::npos)
      << load_error(dir.str());

  write_dir(
      dir.str(),
      good + good +
          R"({"run":0,"t_s":5,"rows":-3,"batch_ms":1,"executors":1,"latency_ms":1,"backlog":0,"input_rps":1})"
          "\n");
  EXPECT_NE(load_error(dir.str()).find("batches.jsonl:3: field 'rows'"), std::string::npos)
      << load_error(dir.str());

  write_dir(
      dir.str(),
      R"({"run":7,"t_s":5,"rows":3,"batch_ms":1,"executors":1,"latency_ms":1,"backlog":0,"input_rps":1})"
      "\n");
  EXPECT_NE(load_error(dir.str()).find("batches.jsonl:1: run 7 is not in runs.jsonl"),
            std::string::npos)
      << load_error(dir.str());

  write_dir(dir.str(), good);
  std::ofstream(dir.str() + "/executors.jsonl") << R"({"run":0,"t_s":0,"executors":"2"})"
                                                << "\n";
  EXPECT_NE(load_error(dir.str()).find("executors.jsonl:1: field 'executors': expected an integer"),
            std::string::npos)
      << load_error(dir.str());

  write_dir(dir.str(), good);
  fs::remove(dir.str() + "/commands.jsonl");
  EXPECT_NE(load_error(dir.str()).find("commands.jsonl"), std::string::npos)
      << load_error(dir.str());

  write_dir(dir.str(), good);
  EXPECT_EQ(load_error(dir.str()), "(loaded)");
}

}  // namespace
}  // namespace prescale::calibrate

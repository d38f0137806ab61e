// The comparison of a live run with the arena's replay of it: run directories in the live
// race's format (live::write_records with its replay.json and trace.csv) made from the arena
// itself, so the true figures are known; then the same records with a live timeline shifted
// by a cold start, latencies that grew, and hand-made timelines with figures worked out by
// hand.
#include "validate/validate.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "core/files.h"
#include "core/temp_dir.h"
#include "live/race.h"
#include "live/shapes.h"
#include "sim/scenario.h"
#include "sim/trace.h"

namespace prescale::validate {
namespace {

namespace fs = std::filesystem;

using core::TempDir;

sim::Scenario live_scenario() {
  auto s = sim::load_scenario("scenarios/live.yaml");
  EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
  return *s;
}

// The burst shape as `prescale race --shape burst` replays it.
live::ReplayInfo burst_replay(const std::string& dir) {
  auto shape = live::find_shape("burst");
  EXPECT_TRUE(shape.ok());
  auto m = live::materialise(*shape, ".", dir + "/window.csv");
  EXPECT_TRUE(m.ok()) << (m.ok() ? "" : m.error().message);
  live::ReplayInfo r;
  r.shape = "burst";
  r.trace_file = m->trace_file;
  r.speedup = m->speedup;
  r.scale = m->scale;
  r.interval_s = m->interval_s;
  r.horizon = m->horizon;
  r.forecaster = "lookahead";
  r.controller_config = fs::absolute("scenarios/race/controller.yaml").string();
  r.burst_threshold = m->burst_threshold;
  return r;
}

// The live records the arena's run `a` would have left: a REST sample every 0.5 s (the
// serving count of its step, `shift_s` late), one batch per trigger that processed readings
// (arena_batches(), latencies x `latency_factor`), `extra` executors more all along.
live::RunResult as_live(const ArenaRun& a, double duration_s, double sla_ms, double shift_s = 0,
                        double latency_factor = 1, int extra = 0) {
  live::RunResult r;
  r.policy = a.policy;
  r.min_executors = 1;
  r.sla_ms = sla_ms;
  r.duration_s = duration_s;
  const auto at = [&](double t) {
    const auto k =
        static_cast<size_t>(std::clamp<long>(static_cast<long>(std::floor(t / a.step_s + 1e-9)), 0,
                                             static_cast<long>(a.steps.size()) - 1));
    return a.steps[k];
  };
  for (double t = 0; t <= duration_s; t += 0.5) {
    const int n = (t < shift_s ? at(0).active : at(t - shift_s).active) + extra;
    r.executors.push_back({t, n, n});
  }
  std::int64_t id = 0;
  for (const ArenaBatch& x : arena_batches(a, duration_s)) {
    live::BatchRecord b;
    b.t_s = x.t_s;
    b.batch_id = ++id;
    b.rows = x.rows;
    b.input_rps = std::max(1.0, x.rows / a.trigger_s);  // read rows
    b.executors = at(x.t_s).active;
    b.latency_ms = x.latency_ms * latency_factor;
    b.latency_measured = true;
    r.batches.push_back(b);
  }
  return r;
}

Report validate_dir(const std::string& dir) {
  auto replay = load_replay(dir);
  EXPECT_TRUE(replay.ok()) << (replay.ok() ? "" : replay.error().message);
  auto records = calibrate::load_run_dir(dir);
  EXPECT_TRUE(records.ok()) << (records.ok() ? "" : records.error().message);
  auto rep = validate(*records, *replay, live_scenario());
  EXPECT_TRUE(rep.ok()) << (rep.ok() ? "" : rep.error().message);
  return *rep;
}

struct Made {
  Replay replay;
  std::vector<ArenaRun> arena;
  double duration_s = 0, sla_ms = 0;
};

// hpa and rl through the arena on the burst shape, with scenarios/live.yaml: the "truth".
Made arena_truth(const std::string& dir) {
  const live::ReplayInfo info = burst_replay(dir);
  live::RunResult hpa, rl;
  hpa.policy = "hpa";
  rl.policy = "rl";
  Made m;
  m.duration_s = 180;  // the 120 s replay and a 60 s tail
  m.sla_ms = 12'000;
  for (auto* r : {&hpa, &rl}) {
    r->duration_s = m.duration_s;
    r->sla_ms = m.sla_ms;
  }
  EXPECT_TRUE(live::write_records(dir, {hpa, rl}, &info).ok());
  const Report rep = validate_dir(dir);
  auto replay = load_replay(dir);
  m.replay = *replay;
  m.arena = rep.arena;
  m.sla_ms = rep.sla_ms;
  return m;
}

TEST(Validate, ReadingsPerIntervalAreSpreadOverTheStepsTheyOverlap) {
  // 300 and 600 readings in two 3 s intervals (100/s, then 200/s), in 2 s steps.
  const auto r = spread({300, 600}, 3, 2, 4);
  ASSERT_EQ(r.size(), 4u);
  EXPECT_DOUBLE_EQ(r[0], 100);
  EXPECT_DOUBLE_EQ(r[1], 150);  // 1 s at 100/s, 1 s at 200/s
  EXPECT_DOUBLE_EQ(r[2], 200);
  EXPECT_DOUBLE_EQ(r[3], 0);  // after the replay
  // One sample per step: the samples themselves, per second.
  EXPECT_EQ(spread({1200, 4800}, 2, 2, 2), (std::vector<double>{600, 2400}));
}

TEST(Validate, TheBurstShapesTrafficIsWhatTheAgentSends) {
  TempDir dir;
  const live::ReplayInfo info = burst_replay(dir.str());
  ASSERT_TRUE(live::write_records(dir.str(), {}, &info).ok());
  auto replay = load_replay(dir.str());
  ASSERT_TRUE(replay.ok()) << replay.error().message;
  EXPECT_EQ(replay->interval_s, 2);
  EXPECT_EQ(replay->horizon, 15);
  EXPECT_DOUBLE_EQ(replay->scale, 1);
  auto t = replay_traffic(*replay, 2, 90);
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_DOUBLE_EQ(t->replay_s, 120);
  EXPECT_DOUBLE_EQ(t->arrivals_rps[0], 600);  // 1,200 readings in 2 s
  EXPECT_DOUBLE_EQ(t->arrivals_rps[30], 2400);
  EXPECT_DOUBLE_EQ(t->arrivals_rps[60], 0);  // the tail
  double readings = 0;
  for (double a : t->arrivals_rps) readings += a * 2;
  EXPECT_DOUBLE_EQ(readings, t->readings);
  // The lookahead signal rises 15 intervals (30 s) before the burst at +50 s.
  EXPECT_DOUBLE_EQ(t->horizon_s, 30);
  int first = -1;
  for (size_t k = 0; k < t->signal.size(); ++k)
    if (t->signal[k]) {
      first = static_cast<int>(k);
      break;
    }
  EXPECT_GE(first, 8);  // not before +16 s
  EXPECT_LE(first, 12);
}

// The arena's own run, written as the race writes a live one, compares to itself exactly.
TEST(Validate, AnArenaMadeRunMatchesItsOwnReplay) {
  TempDir truth_dir, dir;
  const Made m = arena_truth(truth_dir.str());
  ASSERT_EQ(m.arena.size(), 2u);
  const live::ReplayInfo info = burst_replay(dir.str());
  ASSERT_TRUE(live::write_records(dir.str(),
                                  {as_live(m.arena[0], m.duration_s, m.sla_ms),
                                   as_live(m.arena[1], m.duration_s, m.sla_ms)},
                                  &info)
                  .ok());
  const Report rep = validate_dir(dir.str());
  std::cout << rep.table();
  ASSERT_EQ(rep.policies.size(), 2u);
  for (const auto& c : rep.policies) {
    SCOPED_TRACE(c.policy);
    EXPECT_EQ(c.executor_samples, 361);
    EXPECT_DOUBLE_EQ(c.executors_mae, 0);
    EXPECT_GT(c.mean_executors_arena, 1);  // it scaled
    EXPECT_DOUBLE_EQ(c.p95_latency_ms_live, c.p95_latency_ms_arena);
    EXPECT_GT(c.p95_latency_ms_live, 0);
    EXPECT_EQ(c.violations_live, c.violations_arena);
    EXPECT_EQ(c.batches_live, c.batches_arena);
    EXPECT_DOUBLE_EQ(c.cost_live, c.cost_arena);
    EXPECT_NEAR(c.readings_live, c.readings_arena, 1e-6);
    EXPECT_TRUE(c.mae_ok && c.p95_ok && c.violations_ok);
    EXPECT_DOUBLE_EQ(c.violations_allowed, 2 * 180.0 / 300);
  }
  EXPECT_TRUE(rep.same_ranking);
  const auto j = nlohmann::json::parse(rep.to_json(true));
  EXPECT_EQ(j["policies"][0]["policy"], "hpa");
  EXPECT_EQ(j["policies"][1]["arena"]["executors"].size(), 90u);
  for (const char* key : {"executors_mae", "p95_latency_ms_live", "p95_latency_ms_arena",
                          "violations_live", "violations_arena", "cost_live", "cost_arena"})
    EXPECT_TRUE(j["policies"][0].contains(key)) << key;
}

// The live job takes only the executor target from a command (the plugin applies no
// shuffle tier, and no codec is sent), so the replay runs every step on the default tier,
// uncompressed, whatever the policy asked: rl asks for other options on this shape.
TEST(Validate, TheReplayRunsTheJobOnItsOwnTierAndCodecAsTheLiveOneRan) {
  TempDir dir;
  const Made m = arena_truth(dir.str());
  ASSERT_EQ(m.arena.size(), 2u);
  for (const ArenaRun& run : m.arena) {
    SCOPED_TRACE(run.policy);
    ASSERT_FALSE(run.steps.empty());
    for (const auto& s : run.steps) {
      EXPECT_EQ(s.tier, core::Tier::kNvme) << s.step;
      EXPECT_EQ(s.codec, core::Compression::kNone) << s.step;
    }
  }
}

// A live job whose executors serve 20 s later than the arena's (a cold start the arena
// does not have) and whose latencies are half again as long: the comparison must say so.
TEST(Validate, AColdStartTheArenaLacksAndSlowerBatchesAreMisses) {
  TempDir truth_dir, dir;
  const Made m = arena_truth(truth_dir.str());
  const live::ReplayInfo info = burst_replay(dir.str());
  ASSERT_TRUE(live::write_records(dir.str(),
                                  {as_live(m.arena[0], m.duration_s, m.sla_ms, 20, 1.5),
                                   as_live(m.arena[1], m.duration_s, m.sla_ms, 20, 1.5)},
                                  &info)
                  .ok());
  const Report rep = validate_dir(dir.str());
  std::cout << rep.table();
  for (const auto& c : rep.policies) {
    SCOPED_TRACE(c.policy);
    // Worked out from the arena's own timeline: |n(t) - n(t - 20)| over the samples.
    const ArenaRun& a = c.policy == "hpa" ? m.arena[0] : m.arena[1];
    double sum = 0;
    int count = 0;
    for (double t = 0; t <= m.duration_s; t += 0.5, ++count) {
      auto n = [&](double x) {
        return a.steps[static_cast<size_t>(std::clamp<long>(static_cast<long>(x / 2), 0, 89))]
            .active;
      };
      sum += std::abs(n(t < 20 ? 0 : t - 20) - n(t));
    }
    EXPECT_NEAR(c.executors_mae, sum / count, 1e-9);
    EXPECT_GT(c.executors_mae, 0.05);      // 20 s late at each change: under the target here
    EXPECT_LE(c.cost_live, c.cost_arena);  // later up, later down: the middle is the same
    EXPECT_NEAR(c.p95_latency_ms_live, 1.5 * c.p95_latency_ms_arena, 1e-6);
    EXPECT_FALSE(c.p95_ok);
  }
}

// A live job that counts one executor more than the arena all along (the driver taken for
// an executor, or one never released): an MAE of exactly 1, a miss, and a cost one
// executor x the run higher; the latencies agree.
TEST(Validate, OneExecutorMoreAllAlongIsAMiss) {
  TempDir truth_dir, dir;
  const Made m = arena_truth(truth_dir.str());
  const live::ReplayInfo info = burst_replay(dir.str());
  ASSERT_TRUE(live::write_records(dir.str(),
                                  {as_live(m.arena[0], m.duration_s, m.sla_ms, 0, 1, 1),
                                   as_live(m.arena[1], m.duration_s, m.sla_ms, 0, 1, 1)},
                                  &info)
                  .ok());
  const Report rep = validate_dir(dir.str());
  for (const auto& c : rep.policies) {
    SCOPED_TRACE(c.policy);
    EXPECT_DOUBLE_EQ(c.executors_mae, 1);
    EXPECT_FALSE(c.mae_ok);
    EXPECT_DOUBLE_EQ(c.cost_live - c.cost_arena, m.duration_s);
    EXPECT_TRUE(c.p95_ok && c.violations_ok);
  }
}

// Hand-made: figures worked out by hand.
TEST(Validate, TheFiguresOfHandMadeTimelines) {
  calibrate::RunRecords live;
  live.runs = {{0, "hpa", 12, 1000, 1}};
  // 1 executor to +4 s, 2 from +4 s, 3 from +10 s.
  for (double t : {0.0, 2.0, 4.0, 6.0, 8.0, 10.0}) {
    calibrate::ExecutorRow e;  // run 0
    e.t_s = t;
    e.executors = e.with_tasks = t < 4 ? 1 : t < 10 ? 2 : 3;
    live.executors.push_back(e);
  }
  // Batches at +5 and +10 s with rows (600 and 1,500 ms), one idle at +11 s.
  auto batch = [](double t, double rows, int executors, double latency_ms, double input_rps) {
    calibrate::BatchRow b;  // run 0
    b.t_s = t;
    b.rows = rows;
    b.batch_ms = 300;
    b.executors = executors;
    b.latency_ms = latency_ms;
    b.latency_measured = true;
    b.input_rps = input_rps;
    return b;
  };
  live.batches.push_back(batch(5, 100, 1, 600, 20));
  live.batches.push_back(batch(10, 100, 2, 1500, 20));
  live.batches.push_back(batch(11, 0, 2, 5000, 0));
  ArenaRun a;
  a.policy = "hpa";
  a.step_s = 4;
  a.trigger_s = 5;
  for (int k = 0; k < 3; ++k) {
    sim::StepRecord s{};
    s.step = k;
    s.load_rps = 10;
    s.processed_rps = 10;
    s.active = k + 1;  // 1, 2, 3 from 0, 4, 8 s
    s.latency_ms = 400.0 * (k + 1);
    a.steps.push_back(s);
  }
  const Comparison c = compare(live, 0, a, 1000, 12);
  // Samples 0..10 s: live 1 1 2 2 2 3, arena 1 1 2 2 3 3: one off by one in six.
  EXPECT_EQ(c.executor_samples, 6);
  EXPECT_NEAR(c.executors_mae, 1.0 / 6, 1e-12);
  // Live: 1 x 4 + 2 x 6 + 3 x 2 = 22; arena: 1 x 4 + 2 x 4 + 3 x 4 = 24.
  EXPECT_DOUBLE_EQ(c.cost_live, 22);
  EXPECT_DOUBLE_EQ(c.cost_arena, 24);
  // Live: two batches with rows, one above 1 s; arena: triggers at 5 and 10 s = steps 1, 2.
  EXPECT_EQ(c.batches_live, 2);
  EXPECT_EQ(c.violations_live, 1);
  EXPECT_DOUBLE_EQ(c.p95_latency_ms_live, 1500);
  EXPECT_EQ(c.batches_arena, 2);
  EXPECT_EQ(c.violations_arena, 1);  // 1,200 ms at +10 s
  EXPECT_DOUBLE_EQ(c.p95_latency_ms_arena, 1200);
  EXPECT_TRUE(c.p95_ok);  // 20% off
  EXPECT_TRUE(c.mae_ok);
  EXPECT_DOUBLE_EQ(c.readings_live, 200);
  EXPECT_DOUBLE_EQ(c.readings_arena, 120);
}

TEST(Validate, TheRankingIsByViolationsThenCost) {
  Comparison a, b, c;
  a.policy = "a";
  a.violations_live = 2;
  a.violations_arena = 0;
  a.cost_arena = 300;
  b.policy = "b";
  b.violations_live = 1;
  b.cost_live = 500;
  b.violations_arena = 0;
  b.cost_arena = 200;
  c.policy = "c";
  c.violations_live = 1;
  c.cost_live = 400;
  c.violations_arena = 3;
  EXPECT_EQ(ranking({a, b, c}, false), (std::vector<std::string>{"c", "b", "a"}));
  EXPECT_EQ(ranking({a, b, c}, true), (std::vector<std::string>{"b", "a", "c"}));
}

TEST(Validate, EveryShapeMakesAReplayableWindowWithABurstMarker) {
  TempDir dir;
  for (const auto& s : live::shapes()) {
    SCOPED_TRACE(s.name);
    auto m = live::materialise(s, ".", dir.str() + "/" + s.name + ".csv");
    ASSERT_TRUE(m.ok()) << m.error().message;
    auto trace = sim::load_trace(m->trace_file);
    ASSERT_TRUE(trace.ok());
    std::vector<double> v;
    double peak = 0;
    for (const auto& p : trace->points) {
      v.push_back(p.value);
      peak = std::max(peak, p.value);
    }
    if (s.samples > 0) {
      EXPECT_EQ(m->samples, s.samples);
    }
    // About 3 minutes a policy: the replay takes 2-3 of them.
    EXPECT_GE(m->samples * m->interval_s, 120);
    EXPECT_LE(m->samples * m->interval_s, 180);
    EXPECT_NEAR(peak * m->scale / m->interval_s, s.peak_rps, 1e-9);
    EXPECT_FALSE(live::trace_bursts(v, m->burst_threshold).empty());
  }
  EXPECT_EQ(live::shape_names(), "burst, diurnal, llm");
  auto bad = live::find_shape("sine");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("burst, diurnal, llm"), std::string::npos);
}

TEST(Validate, AMissingOrBadReplayFileNamesTheFileAndField) {
  TempDir dir;
  auto r = load_replay(dir.str());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("replay.json"), std::string::npos);
  ASSERT_TRUE(core::write_file_atomic(dir.str() + "/replay.json",
                                      R"({"shape":"burst","trace_file":"trace.csv","speedup":30,)"
                                      R"("scale":"x","sensors":16,"interval_s":2,"horizon":15,)"
                                      R"("forecaster":"lookahead","controller_config":"c.yaml",)"
                                      R"("burst_threshold":2})")
                  .ok());
  r = load_replay(dir.str());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("replay.json: field 'scale'"), std::string::npos)
      << r.error().message;
}

}  // namespace
}  // namespace prescale::validate

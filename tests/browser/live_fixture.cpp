// The live pages' browser test (dashboard_test.mjs) needs two things no command does on
// purpose: control-plane messages as the job and a gateway would send them, and race
// reports from hand-made runs (the real race takes minutes on the whole stack).
//
//   live_fixture progress BROKERS RPS BATCH_MS EXECUTORS SECONDS
//       one Progress on iot-metrics every 250 ms for SECONDS (batch ids from the clock)
//   live_fixture signal BROKERS DEVICE HEXKEY BURST FORECAST [forged]
//       one Burst_Signal on iot-metadata, signed with HEXKEY (forged: altered after signing)
//   live_fixture race-pages DIR
//       DIR/race/report.html (rl and hpa), DIR/race-empty/report.html (no runs),
//       DIR/race-no-batches/report.html (a run that recorded nothing),
//       DIR/race-validation/report.html (rl and hpa with the arena's side: src/validate)
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>

#include "bus/kafka.h"
#include "bus/messages.h"
#include "bus/signing.h"
#include "core/files.h"
#include "live/race_report.h"
#include "sim/simulator.h"
#include "validate/validate.h"

namespace bus = prescale::bus;
namespace live = prescale::live;
namespace sim = prescale::sim;
namespace validate = prescale::validate;

namespace {

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int fail(const std::string& msg) {
  std::fprintf(stderr, "live_fixture: %s\n", msg.c_str());
  return 1;
}

std::unique_ptr<bus::Producer> producer(const std::string& brokers) {
  auto p = bus::Producer::create({{"bootstrap.servers", brokers}}, bus::Plane::kControl);
  if (!p.ok()) {
    fail(p.error().message);
    return nullptr;
  }
  return std::move(*p);
}

int progress(const std::string& brokers, double rps, double batch_ms, int executors,
             double seconds) {
  auto p = producer(brokers);
  if (!p) return 1;
  const std::int64_t until = wall_ms() + static_cast<std::int64_t>(seconds * 1000);
  while (wall_ms() < until) {
    bus::Progress m;
    m.app = "browser-test";
    m.ts_ms = wall_ms();
    m.batch_id = wall_ms();  // increasing, also across several feeders in a row
    m.input_rows_per_s = rps;
    m.processed_rows_per_s = rps;
    m.batch_duration_ms = batch_ms;
    m.num_input_rows = static_cast<std::int64_t>(rps);
    m.executors_active = executors;
    if (auto st = p->send(bus::kTopicMetrics, "browser-test", bus::encode(m)); !st.ok())
      return fail(st.message());
    p->poll(0);
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  auto st = p->flush(5000);
  return st.ok() ? 0 : fail(st.message());
}

int signal(const std::string& brokers, const std::string& device, const std::string& hex,
           bool burst, double forecast, bool forged) {
  std::vector<unsigned char> key;
  for (size_t i = 0; i + 1 < hex.size(); i += 2)
    key.push_back(static_cast<unsigned char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  bus::BurstSignal s;
  s.device = device;
  s.seq = static_cast<std::uint64_t>(wall_ms());
  s.ts_ms = wall_ms();
  s.horizon_s = 30;
  s.forecast = forecast;
  s.baseline = forecast / 4;
  s.burst = burst;
  s.confidence = burst ? 0.9 : 0;
  bus::sign(&s, key);
  if (forged) s.forecast *= 1000;  // after signing: the signature no longer matches
  auto p = producer(brokers);
  if (!p) return 1;
  if (auto st = p->send(bus::kTopicMetadata, device, bus::encode(s)); !st.ok())
    return fail(st.message());
  auto st = p->flush(5000);
  return st.ok() ? 0 : fail(st.message());
}

live::RunResult run(const std::string& policy, double scale_up_s) {
  live::RunResult r;
  r.policy = policy;
  r.min_executors = 1;
  r.burst_start_s = 50;
  r.burst_end_s = 80;
  for (int i = 0; i <= 300; ++i) {
    const double t = i * 0.5;
    r.executors.push_back({t, t >= scale_up_s + 18 && t < 115 ? 2 : 1});
  }
  for (int b = 0; b < 30; ++b) {
    live::BatchRecord x;
    x.t_s = 5.0 * b + 2;
    x.batch_id = b;
    const bool in_burst = x.t_s >= 50 && x.t_s < 85;
    x.input_rps = in_burst ? 2400 : 600;
    x.batch_ms = in_burst ? 4000 : 1500;
    x.latency_ms = in_burst && x.t_s < scale_up_s + 25 ? 14'000 : 8'000;
    x.executors = x.t_s >= scale_up_s + 18 && x.t_s < 115 ? 2 : 1;
    r.batches.push_back(x);
  }
  r.commands = {{2, 1, policy + ": hold"},
                {scale_up_s, 2, policy + ": scale up"},
                {100, 1, policy + ": scale down (scale-down stabilised at 1)"}};
  for (int i = 0; i < 75; ++i) {
    const double t = 2.0 * i;
    r.signals.push_back({t, t >= 20 && t < 85, t >= 20 && t < 85 ? 2400.0 : 600.0});
  }
  r.duration_s = 150;
  r.summarise(12'000);
  return r;
}

// The arena's side of the same runs (prescale race after its runs): serving 10 s before the
// live job and back at 1 executor 10 s later; one batch per 5 s trigger.
std::string validation_json(const std::vector<live::RunResult>& runs) {
  validate::Report rep;
  rep.dir = "out/race";
  rep.shape = "burst";
  rep.scenario = "scenarios/live.yaml";
  rep.forecaster = "lookahead";
  rep.sla_ms = 12'000;
  rep.step_s = 2;
  rep.trigger_s = 5;
  for (const auto& r : runs) {
    validate::ArenaRun a;
    a.policy = r.policy;
    a.step_s = 2;
    a.trigger_s = 5;
    const double up = r.first_scale_up_serving_s - 10;
    for (int k = 0; k < 75; ++k) {
      sim::StepRecord s{};
      s.step = k;
      s.load_rps = k * 2 >= 50 && k * 2 < 80 ? 2400 : 600;
      s.processed_rps = s.load_rps;
      s.active = s.target = k * 2 >= up && k * 2 < 105 ? 2 : 1;
      s.latency_ms = s.load_rps > 1000 && s.active < 2 ? 13'000 : 7'000;
      a.steps.push_back(s);
    }
    rep.arena.push_back(a);
    validate::Comparison c;
    c.policy = r.policy;
    c.duration_s = r.duration_s;
    c.executors_mae = 0.13;
    c.p95_latency_ms_live = r.p95_latency_ms;
    c.p95_latency_ms_arena = 13'000;
    c.violations_live = r.violations;
    c.violations_arena = r.violations;
    c.batches_live = r.batches_with_rows;
    c.batches_arena = 30;
    c.cost_live = r.executor_seconds;
    c.cost_arena = r.executor_seconds + 20;
    c.mae_ok = true;
    rep.policies.push_back(c);
  }
  rep.ranking_live = validate::ranking(rep.policies, false);
  rep.ranking_arena = validate::ranking(rep.policies, true);
  rep.same_ranking = rep.ranking_live == rep.ranking_arena;
  return rep.to_json(true);
}

int race_pages(const std::string& dir) {
  std::string validation;  // the next page's
  auto write = [&](const std::string& name, const std::vector<live::RunResult>& runs) {
    std::filesystem::create_directories(dir + "/" + name);
    return prescale::core::write_file_atomic(dir + "/" + name + "/report.html",
                                             live::race_page(runs, 12'000, validation));
  };
  live::RunResult empty;
  empty.policy = "hpa";
  empty.burst_start_s = 50;
  empty.burst_end_s = 80;
  for (const auto& st : {write("race", {run("rl", 24), run("hpa", 66)}), write("race-empty", {}),
                         write("race-no-batches", {run("rl", 24), empty})})
    if (!st.ok()) return fail(st.message());
  const std::vector<live::RunResult> runs = {run("rl", 24), run("hpa", 66)};
  validation = validation_json(runs);
  if (auto st = write("race-validation", runs); !st.ok()) return fail(st.message());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> a(argv + 1, argv + argc);
  try {
    if (a.size() == 6 && a[0] == "progress")
      return progress(a[1], std::stod(a[2]), std::stod(a[3]), std::stoi(a[4]), std::stod(a[5]));
    if ((a.size() == 6 || a.size() == 7) && a[0] == "signal")
      return signal(a[1], a[2], a[3], a[4] == "1", std::stod(a[5]),
                    a.size() == 7 && a[6] == "forged");
    if (a.size() == 2 && a[0] == "race-pages") return race_pages(a[1]);
  } catch (const std::exception& e) {
    return fail(std::string("bad argument: ") + e.what());
  }
  return fail("usage: see tests/browser/live_fixture.cpp");
}

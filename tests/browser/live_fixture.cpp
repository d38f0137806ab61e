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
//       DIR/race-no-batches/report.html (a run that recorded nothing)
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

namespace bus = prescale::bus;
namespace live = prescale::live;

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

int race_pages(const std::string& dir) {
  auto write = [&](const std::string& name, const std::vector<live::RunResult>& runs) {
    std::filesystem::create_directories(dir + "/" + name);
    return prescale::core::write_file_atomic(dir + "/" + name + "/report.html",
                                             live::race_page(runs, 12'000));
  };
  live::RunResult empty;
  empty.policy = "hpa";
  empty.burst_start_s = 50;
  empty.burst_end_s = 80;
  for (const auto& st : {write("race", {run("rl", 24), run("hpa", 66)}), write("race-empty", {}),
                         write("race-no-batches", {run("rl", 24), empty})})
    if (!st.ok()) return fail(st.message());
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

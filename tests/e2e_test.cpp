// End to end on the live stack (issue 5): Kafka, Spark 3.5 standalone and the IoT job with the
// prescale plugin and listener, started by the test on loopback and stopped at the end. The
// same bursty replay (scenarios/race/burst.csv at 3 s a sample, the burst at +75 s, a signed
// Burst_Signal 20 samples = 60 s ahead of it) runs once with the rl controller and once with
// hpa (`prescale race`, the job warmed first); the assertions read the executor counts Spark's
// REST API reported and the batch latencies the job's progress stream carried.
// The lead: a scale-up on this 2-core machine serves 31-33 s after its command (15 s emulated
// + 16-18 s to launch and register the executors while the job runs), where docs/sim2real.md
// measured 21 s on an idle one; with the demo's 30 s lead the race measured the machine's
// launch time, not the policy (rl commanded at +21 s and +23 s, served at +52 s, burst at
// +50 s). The controller acts from its first metrics (about +10 s), so the signal rises at
// +15 s and the executors have about 25 s of margin.
#include <gtest/gtest.h>

#include <algorithm>
#include <iostream>
#include <nlohmann/json.hpp>

#include "stack_fixture.h"

namespace prescale {
namespace {

using testing::Child;
using testing::read_text;

TEST(E2E, RlScalesBeforeTheBurstAndHpaAfterIt) {
  testing::Stack stack(PRESCALE_SOURCE_DIR);
  ASSERT_EQ(stack.start_kafka(), "");
  ASSERT_EQ(stack.create_topics("iot-raw-data iot-processed iot-metrics iot-control iot-metadata"),
            "");
  ASSERT_EQ(stack.start_spark(), "");
  // The live scenario's job (scenarios/live.yaml, scenarios/race/README.md).
  ASSERT_EQ(
      stack.start_iot_job(
          "REDIS_PORT= JOB_MAX_EXECUTORS=3 JOB_MIN_EXECUTORS=1 JOB_WORK_US=400 JOB_WORK_MODE=sleep "
          "JOB_TRIGGER_MS=5000 JOB_SHUFFLE_PARTITIONS=2 "
          "JOB_PROVISION_DELAY_MS=15000"),
      "");
  const std::string dir = stack.run_dir();
  std::ofstream(dir + "/keys.txt") << "gw-1 " << std::string(64, '7') << "\n";
  Child race(
      {PRESCALE_BIN,      "race",
       "--config",        std::string(PRESCALE_SOURCE_DIR) + "/scenarios/race/controller.yaml",
       "--trace",         std::string(PRESCALE_SOURCE_DIR) + "/scenarios/race/burst.csv",
       "--key-file",      dir + "/keys.txt",
       "--brokers",       stack.brokers(),
       "--spark-ui-port", std::to_string(stack.job_ui_port()),
       "--policies",      "rl,hpa",
       "--speedup",       "20",  // 3 s a sample; --scale 1.5 keeps the demo's readings/s
       "--scale",         "1.5",
       "--horizon",       "20",
       "--tail-s",        "45",
       "--tail-max-s",    "90",
       "--format",        "json",
       "--out",           dir + "/race.json"},
      "/dev/null", dir + "/race.out", dir + "/race.err");
  ASSERT_EQ(race.wait(900), 0) << read_text(dir + "/race.err");
  const auto j = nlohmann::json::parse(read_text(dir + "/race.json"));
  ASSERT_EQ(j["runs"].size(), 2u);
  const auto& rl = j["runs"][0];
  const auto& hpa = j["runs"][1];
  ASSERT_EQ(rl["policy"], "rl");
  const double burst = rl["burst_start_s"].get<double>();
  const std::string log = read_text(dir + "/race.err");

  // rl: more executors serving (Spark's REST API) before the burst arrives, and back to the
  // minimum after it.
  EXPECT_GT(rl["executors_at_burst_start"].get<int>(), 1) << log;
  EXPECT_GE(rl["first_scale_up_serving_s"].get<double>(), 0) << log;
  EXPECT_LT(rl["first_scale_up_serving_s"].get<double>(), burst) << log;
  EXPECT_GE(rl["back_to_min_s"].get<double>(), rl["burst_end_s"].get<double>()) << log;
  // hpa: still one executor when the burst arrives; its scale-up comes after.
  EXPECT_EQ(hpa["executors_at_burst_start"].get<int>(), 1) << log;
  EXPECT_GT(hpa["first_scale_up_command_s"].get<double>(), burst) << log;
  // Batch latencies from the progress stream. The batches that serve the burst are those that
  // started (finished minus their duration) between its arrival and 15 s after its end: a
  // micro-batch reads its offsets when it starts, so these carry the burst's readings and the
  // backlog it leaves. rl's worst among them below hpa's, and fewer of them over the SLA.
  // Not the batches that merely finish in the burst, nor the run's p95 or violations: a
  // scale-up's first batches on new executors stall (cold JVMs and Kafka consumers, beside
  // the executors' launch on 2 cores: 14-28 s on this machine), and rl pays that before the
  // burst, at calm load. In CI (stop 35's commit) the batch that stall delayed started at
  // +66.4 s with pre-burst readings (598/s) and finished at +77.4 s, 2.4 s into the burst,
  // at 23.3 s: counted by finish time, rl's worst "in the burst" was 23.3 s against hpa's
  // 19.8 s, though every batch rl started in the burst ran within 12.9 s. The whole run's
  // figures are printed below (CI: rl 5 / 32 violations, hpa 6 / 30).
  EXPECT_GT(rl["batches_with_rows"].get<int>(), 10);
  EXPECT_GT(hpa["batches_with_rows"].get<int>(), 10);
  struct Served {
    int batches = 0, violations = 0;
    double worst_ms = 0;
  };
  const double sla_ms = rl["sla_ms"].get<double>();
  auto serving_the_burst = [sla_ms](const nlohmann::json& run) {
    const double from = run["burst_start_s"].get<double>();
    const double to = run["burst_end_s"].get<double>() + 15;
    Served s;
    for (const auto& b : run["batches"]) {
      const double started = b["t_s"].get<double>() - b["batch_ms"].get<double>() / 1000;
      if (started < from || started > to || b["input_rps"].get<double>() <= 0) continue;
      const double latency = b["latency_ms"].get<double>();
      ++s.batches;
      s.violations += latency > sla_ms;
      s.worst_ms = std::max(s.worst_ms, latency);
    }
    return s;
  };
  const Served rl_burst = serving_the_burst(rl), hpa_burst = serving_the_burst(hpa);
  EXPECT_GT(rl_burst.batches, 3) << log;
  EXPECT_GT(hpa_burst.batches, 3) << log;
  EXPECT_LT(rl_burst.worst_ms, hpa_burst.worst_ms) << log;
  EXPECT_LT(rl_burst.violations, hpa_burst.violations) << log;
  std::cout << "serving the burst: rl " << rl_burst.violations << "/" << rl_burst.batches
            << " violations, worst " << rl_burst.worst_ms << " ms; hpa " << hpa_burst.violations
            << "/" << hpa_burst.batches << ", worst " << hpa_burst.worst_ms << " ms\n";
  std::cout << read_text(dir + "/race.err") << "\n";
  for (const auto& r : j["runs"]) {
    std::cout << r["policy"].get<std::string>() << ": executors at burst start "
              << r["executors_at_burst_start"] << ", first scale-up command "
              << r["first_scale_up_command_s"] << " s, serving " << r["first_scale_up_serving_s"]
              << " s, back to min " << r["back_to_min_s"] << " s, violations " << r["violations"]
              << "/" << r["batches_with_rows"] << ", p95 " << r["p95_latency_ms"] << " ms, max "
              << r["max_latency_ms"] << " ms, executor-seconds " << r["executor_seconds"] << "\n";
  }
}

}  // namespace
}  // namespace prescale

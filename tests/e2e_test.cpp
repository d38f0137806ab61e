// End to end on the live stack (issue 5): Kafka, Spark 3.5 standalone and the IoT job with the
// prescale plugin and listener, started by the test on loopback and stopped at the end. The
// same bursty replay (scenarios/race/burst.csv, a signed Burst_Signal 30 s ahead of the
// burst) runs once with the rl controller and once with hpa (`prescale race`); the
// assertions read the executor counts Spark's REST API reported and the batch latencies the
// job's progress stream carried.
#include <gtest/gtest.h>

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
       "--tail-s",        "45",
       "--tail-max-s",    "90",
       "--format",        "json",
       "--out",           dir + "/race.json"},
      "/dev/null", dir + "/race.out", dir + "/race.err");
  ASSERT_EQ(race.wait(650), 0) << read_text(dir + "/race.err");
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
  // Batch latencies from the progress stream: there, and rl's p95 no worse than hpa's.
  EXPECT_GT(rl["batches_with_rows"].get<int>(), 10);
  EXPECT_GT(hpa["batches_with_rows"].get<int>(), 10);
  EXPECT_LE(rl["p95_latency_ms"].get<double>(), hpa["p95_latency_ms"].get<double>()) << log;
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

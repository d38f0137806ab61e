// The short chaos cases of `make test` (issue 15 item 6; `make chaos` runs them all):
// scripts/stack/chaos.sh with its kafka and lease cases, on free loopback ports in a private run
// directory: the real Kafka, Spark 3.5, the IoT job with the prescale plugin, `prescale
// controller` and `prescale edge`; the broker is killed (kill -9) for 5 s and restarted. The
// controller must hold while blind, command on fresh metrics again within 10 s of the broker's
// return, never command outside the plugin's bounds, deliver no command made while the broker
// was down after its return, and no command may be applied twice. Then the lease topic is
// deleted: the controller creates it again and claims a newer epoch, which the plugin takes
// within 30 s. The
// script stops everything it started (its EXIT trap), also when a check fails.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "stack_fixture.h"

namespace prescale {
namespace {

using testing::Child;
using testing::read_text;

TEST(Chaos, ControllerHoldsWhileKafkaIsDownAndSurvivesALostLeaseTopic) {
  const std::string run =
      (std::filesystem::temp_directory_path() / ("prescale-it-chaos-" + std::to_string(::getpid())))
          .string();
  std::filesystem::remove_all(run);
  std::filesystem::create_directories(run);
  // Every port the script would take by default, free ones instead (a `make chaos` or a
  // stack-up may be running beside the test).
  const std::vector<std::string> ports = {"CHAOS_KAFKA_PORT",
                                          "CHAOS_KAFKA_CONTROLLER_PORT",
                                          "CHAOS_SPARK_MASTER_PORT",
                                          "CHAOS_SPARK_MASTER_WEBUI_PORT",
                                          "CHAOS_SPARK_WORKER_WEBUI_PORT",
                                          "CHAOS_JOB_UI_PORT",
                                          "CHAOS_REDIS_PORT",
                                          "CHAOS_S3_PORT",
                                          "CHAOS_CONTROLLER_PORT",
                                          "CHAOS_TIER_PORT"};
  for (const auto& p : ports) ::setenv(p.c_str(), std::to_string(testing::free_port()).c_str(), 1);
  ::setenv("CHAOS_RUN_DIR", run.c_str(), 1);
  ::setenv("CHAOS_CASES", "kafka lease", 1);
  ::setenv("CHAOS_KAFKA_DOWN_S", "5", 1);
  ::setenv("CHAOS_SETTLE_S", "10", 1);
  ::setenv("CHAOS_TRAFFIC_S", "600", 1);
  ::setenv("PRESCALE_BIN", PRESCALE_BIN, 1);
  ::setenv("PRESCALE_PROGRESS", "never", 1);
  const auto t0 = std::chrono::steady_clock::now();
  int rc = -1;
  {
    Child chaos({"/bin/bash", std::string(PRESCALE_SOURCE_DIR) + "/scripts/stack/chaos.sh"},
                "/dev/null", run + "/chaos.out", run + "/chaos.err");
    ASSERT_TRUE(chaos.started());
    rc = chaos.wait(540);
    if (rc == -1) {  // stuck: TERM lets its trap stop the stack before the Child is killed
      chaos.signal(SIGTERM);
      chaos.wait(90);
    }
  }
  const double took_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("chaos.sh (kafka case, 5 s down; lease case) took %.0f s\n%s", took_s,
              read_text(run + "/chaos.out").c_str());
  const std::string err = read_text(run + "/chaos.err");
  ASSERT_NE(rc, -1) << "chaos.sh did not finish within 540 s\n" << err;
  ASSERT_NE(rc, 2) << "the stack did not start\n" << err;
  const std::string text = read_text(run + "/chaos.json");
  ASSERT_FALSE(text.empty()) << "no chaos.json\n" << err;
  const auto j = nlohmann::json::parse(text);
  ASSERT_EQ(j["cases"].size(), 2u) << text;
  const auto& k = j["cases"][0];
  EXPECT_EQ(k["case"], "kafka");
  EXPECT_TRUE(k["held"].get<bool>()) << k["notes"].dump(2);
  ASSERT_FALSE(k["recovered_s"].is_null()) << "never recovered: " << k["notes"].dump(2) << "\n"
                                           << err;
  EXPECT_LE(k["recovered_s"].get<double>(), 10.0) << k["notes"].dump(2);
  EXPECT_EQ(k["commands_out_of_bounds"], 0);
  EXPECT_EQ(k["commands_applied_twice"], 0);
  // Commands made while the broker was down expire in the controller's producer (one lease
  // session) instead of reaching the job after its return with pre-outage targets.
  EXPECT_EQ(k["commands_delivered_late"], 0) << k["notes"].dump(2);
  EXPECT_EQ(k["verdict"], "pass") << k.dump(2);
  // The lease topic deleted under the running controller: created again, a newer epoch
  // applied by the plugin (a recreated topic restarts its offsets at 0).
  const auto& l = j["cases"][1];
  EXPECT_EQ(l["case"], "lease");
  EXPECT_TRUE(l["held"].get<bool>()) << l["notes"].dump(2);
  ASSERT_FALSE(l["recovered_s"].is_null())
      << "the job never took a newer epoch: " << l["notes"].dump(2) << "\n"
      << err;
  EXPECT_LE(l["recovered_s"].get<double>(), 30.0) << l["notes"].dump(2);
  EXPECT_EQ(l["verdict"], "pass") << l.dump(2);
  EXPECT_EQ(rc, 0) << err;
  // The whole run: commands were seen and judged, none out of bounds or applied twice.
  EXPECT_GT(j["commands_seen"].get<int>(), 10);
  EXPECT_EQ(j["commands_out_of_bounds"], 0);
  EXPECT_EQ(j["commands_applied_twice"], 0);
  // Everything it started was stopped: no PID file left of a service or of its children.
  for (const auto& e : std::filesystem::recursive_directory_iterator(run)) {
    if (e.path().extension() == ".pid") ADD_FAILURE() << "left running: " << e.path();
  }
  std::error_code ec;
  std::filesystem::remove_all(run, ec);
}

}  // namespace
}  // namespace prescale

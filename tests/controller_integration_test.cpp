// `prescale controller` against a real Kafka broker (started by the test on loopback):
// progress in on iot-metrics, signals in on iot-metadata (one authentic, one forged),
// scale_to commands out on iot-control; /metrics and /healthz over HTTP; and a controller
// whose broker is unreachable keeps running and says so on /healthz.
#include <gtest/gtest.h>
#include <httplib.h>

#include <fstream>

#include "bus/kafka.h"
#include "bus/messages.h"
#include "bus/signing.h"
#include "stack_fixture.h"

namespace prescale {
namespace {

using testing::Child;
using testing::read_text;

class ControllerIntegration : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    stack_ = new testing::Stack(PRESCALE_SOURCE_DIR);
    kafka_error_ = stack_->start_kafka();
    std::ofstream(path("keys.txt")) << "gw-1 " << std::string(64, 'b') << "\n";
  }
  static void TearDownTestSuite() {
    delete stack_;
    stack_ = nullptr;
  }
  void SetUp() override { ASSERT_EQ(kafka_error_, "") << "Kafka did not start"; }
  static std::string path(const std::string& name) { return stack_->run_dir() + "/" + name; }

  static std::string write_config(const std::string& name, const std::string& brokers, int port) {
    std::ofstream(path(name)) << "policy: seer\nscenario: seed\ntick_ms: 200\nmin_executors: 1\n"
                                 "max_executors: 12\ninitial_executors: 2\nmetrics_stale_ms: 3000\n"
                                 "scale_down_stabilization_ms: 0\nkeys_file: "
                              << path("keys.txt") << "\nhttp:\n  port: " << port
                              << "\nkafka:\n  bootstrap.servers: " << brokers << "\n";
    return path(name);
  }

  static testing::Stack* stack_;
  static std::string kafka_error_;
};

testing::Stack* ControllerIntegration::stack_ = nullptr;
std::string ControllerIntegration::kafka_error_;

std::string http_get(int port, const std::string& route, int* status) {
  httplib::Client cli("127.0.0.1", port);
  cli.set_connection_timeout(2, 0);
  auto res = cli.Get(route.c_str());
  *status = res ? res->status : -1;
  return res ? res->body : "";
}

TEST_F(ControllerIntegration, ScalesOnProgressAndCountsForgedSignals) {
  const int port = testing::free_port();
  Child ctl(
      {PRESCALE_BIN, "controller", "--config", write_config("c.yaml", stack_->brokers(), port)},
      "/dev/null", path("ctl.out"), path("ctl.err"));
  ASSERT_TRUE(ctl.started());
  // Ready when it has subscribed (its log says what it reads).
  for (int i = 0; i < 300 && read_text(path("ctl.err")).find("commanding") == std::string::npos;
       ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_NE(read_text(path("ctl.err")).find("commanding iot-control"), std::string::npos)
      << read_text(path("ctl.err"));
  int status = 0;
  http_get(port, "/healthz", &status);
  EXPECT_EQ(status, 503);  // no progress yet

  const bus::KafkaProps props{{"bootstrap.servers", stack_->brokers()}};
  auto commands =
      bus::Consumer::create(props, bus::Plane::kControl, {"iot-control"}, bus::StartAt::kLatest);
  ASSERT_TRUE(commands.ok()) << commands.error().message;
  auto producer = bus::Producer::create(props, bus::Plane::kControl);
  ASSERT_TRUE(producer.ok());

  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  bus::BurstSignal s;
  s.device = "gw-1";
  s.seq = 7;
  s.ts_ms = now;
  s.forecast = 1e6;
  s.baseline = 1e5;
  s.burst = true;
  s.confidence = 0.9;
  bus::sign(&s, std::vector<unsigned char>(32, 0xbb));
  ASSERT_TRUE((*producer)->send("iot-metadata", "gw-1", bus::encode(s)).ok());
  bus::BurstSignal forged = s;
  forged.seq = 8;
  forged.forecast = 1e12;  // a forged signal would scale the job to its maximum
  ASSERT_TRUE((*producer)->send("iot-metadata", "gw-1", bus::encode(forged)).ok());

  // A heavily loaded job: seer (executors = load x k) asks for more than the 2 it has.
  int max_target = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (std::int64_t batch = 1; std::chrono::steady_clock::now() < deadline && max_target <= 2;
       ++batch) {
    bus::Progress p;
    p.app = "it";
    p.ts_ms = now;
    p.batch_id = batch;
    p.input_rows_per_s = 400'000;
    p.processed_rows_per_s = 150'000;
    p.batch_duration_ms = 900;
    p.num_input_rows = 200'000;
    p.offsets_behind = 500'000;
    p.executors_active = 2;
    ASSERT_TRUE((*producer)->send("iot-metrics", "it", bus::encode(p)).ok());
    (*producer)->poll(0);
    for (int i = 0; i < 5; ++i) {
      auto m = (*commands)->poll(50);
      ASSERT_TRUE(m.ok()) << m.error().message;
      if (!m->has_value()) continue;
      auto cmd = bus::decode_scale_to((*m)->payload);
      ASSERT_TRUE(cmd.ok()) << cmd.error().message;
      EXPECT_LE(cmd->target_executors, 12);
      EXPECT_GE(cmd->target_executors, 1);
      max_target = std::max(max_target, cmd->target_executors);
    }
  }
  EXPECT_GT(max_target, 2) << read_text(path("ctl.err"));

  const std::string metrics = http_get(port, "/metrics", &status);
  EXPECT_EQ(status, 200);
  EXPECT_NE(metrics.find("prescale_controller_signals_total{verdict=\"accepted\"} 1"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("prescale_controller_signals_total{verdict=\"bad_signature\"} 1"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("prescale_controller_executors_target "), std::string::npos);
  http_get(port, "/healthz", &status);
  EXPECT_EQ(status, 200);

  ctl.signal(SIGTERM);
  EXPECT_EQ(ctl.wait(20), 0) << read_text(path("ctl.err"));
  EXPECT_NE(read_text(path("ctl.err")).find("scale_to "), std::string::npos);
}

TEST_F(ControllerIntegration, KeepsRunningWhileKafkaIsUnreachable) {
  const int port = testing::free_port();
  const std::string dead = "127.0.0.1:" + std::to_string(testing::free_port());
  Child ctl({PRESCALE_BIN, "controller", "--config", write_config("dead.yaml", dead, port)},
            "/dev/null", path("dead.out"), path("dead.err"));
  int status = 0;
  for (int i = 0; i < 100 && status != 503; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    http_get(port, "/healthz", &status);
  }
  EXPECT_EQ(status, 503);
  std::this_thread::sleep_for(std::chrono::seconds(3));
  http_get(port, "/healthz", &status);
  EXPECT_EQ(status, 503);  // still up, still saying why
  EXPECT_NE(read_text(path("dead.err")).find("retrying in"), std::string::npos)
      << read_text(path("dead.err"));
  ctl.signal(SIGTERM);
  EXPECT_EQ(ctl.wait(20), 0) << read_text(path("dead.err"));
}

}  // namespace
}  // namespace prescale

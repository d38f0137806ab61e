// The Spark side against a real Spark 3.5 standalone cluster, a real Kafka broker and a real
// Redis, all started by the test on loopback (scripts/stack) and stopped at the end: the
// plugin applies scale_to commands (the executor counts are read from Spark's REST API),
// ignores stale and out-of-order ones and those of an older lease epoch, clamps to its bounds; the
// listener publishes progress on iot-metrics; readings sent by the edge agent come out as
// per-sensor aggregates in Redis and on iot-processed.
#include <gtest/gtest.h>
#include <httplib.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "bus/kafka.h"
#include "bus/messages.h"
#include "stack_fixture.h"

namespace prescale {
namespace {

using testing::Child;
using testing::read_text;

class SparkIntegration : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    stack_ = new testing::Stack(PRESCALE_SOURCE_DIR);
    error_ = stack_->start_kafka();
    if (error_.empty())
      error_ =
          stack_->create_topics("iot-raw-data iot-processed iot-metrics iot-control iot-metadata");
    if (error_.empty()) error_ = stack_->start_redis();
    if (error_.empty()) error_ = stack_->start_spark();
    if (error_.empty()) error_ = stack_->start_iot_job("JOB_MAX_EXECUTORS=4");
  }
  static void TearDownTestSuite() {
    delete stack_;  // the job first, then Spark, Redis, Kafka
    stack_ = nullptr;
  }
  void SetUp() override { ASSERT_EQ(error_, "") << "the stack did not start"; }

  static bus::KafkaProps props() { return {{"bootstrap.servers", stack_->brokers()}}; }

  // Live executors (not the driver) per Spark's REST API; -1 if it does not answer.
  static int executors() {
    httplib::Client cli("127.0.0.1", stack_->job_ui_port());
    cli.set_connection_timeout(2, 0);
    auto apps = cli.Get("/api/v1/applications");
    if (!apps || apps->status != 200) return -1;
    const auto a = nlohmann::json::parse(apps->body, nullptr, false);
    if (!a.is_array() || a.empty()) return -1;
    auto ex =
        cli.Get(("/api/v1/applications/" + a[0]["id"].get<std::string>() + "/executors").c_str());
    if (!ex || ex->status != 200) return -1;
    const auto e = nlohmann::json::parse(ex->body, nullptr, false);
    int n = 0;
    for (const auto& x : e) n += x.value("id", "") != "driver" && x.value("isActive", false);
    return n;
  }

  // Waits until executors() == n; returns the last count seen.
  static int wait_executors(int n, int timeout_s) {
    int seen = -1;
    for (int i = 0; i < timeout_s * 4; ++i) {
      seen = executors();
      if (seen == n) return seen;
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
    return seen;
  }

  static void command(bus::Producer& p, std::uint64_t seq, std::int64_t ts_ms, int target,
                      std::int64_t epoch = 0) {
    bus::ScaleTo c;
    c.seq = seq;
    c.ts_ms = ts_ms;
    c.target_executors = target;
    c.epoch = epoch;
    c.reason = "test";
    ASSERT_TRUE(p.send("iot-control", "controller", bus::encode(c)).ok());
    ASSERT_TRUE(p.flush(5000).ok());
  }

  static testing::Stack* stack_;
  static std::string error_;
};

testing::Stack* SparkIntegration::stack_ = nullptr;
std::string SparkIntegration::error_;

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

TEST_F(SparkIntegration, ThePluginScalesTheJobAndIgnoresBadCommands) {
  ASSERT_EQ(wait_executors(4, 120), 4) << "the job's 4 executors did not come up";
  auto p = bus::Producer::create(props(), bus::Plane::kControl);
  ASSERT_TRUE(p.ok());
  std::uint64_t seq = static_cast<std::uint64_t>(now_ms()) * 1000;

  command(**p, ++seq, now_ms(), 2);
  EXPECT_EQ(wait_executors(2, 60), 2) << "scale down to 2";
  const std::uint64_t applied = ++seq;
  command(**p, applied, now_ms(), 3);
  EXPECT_EQ(wait_executors(3, 90), 3) << "scale up to 3";

  command(**p, applied - 5, now_ms(), 1);      // out of order
  command(**p, ++seq, now_ms() - 600'000, 1);  // ten minutes old
  // One controller per job: a new lease holder (epoch 5, its own lower seqs), then the old
  // one (epoch 2) still sending: ignored, and said once for both of its commands.
  command(**p, 1000, now_ms(), 3, 5);
  command(**p, ++seq, now_ms(), 1, 2);
  command(**p, ++seq, now_ms(), 1, 2);
  std::this_thread::sleep_for(std::chrono::seconds(5));
  EXPECT_EQ(executors(), 3);

  command(**p, 1001, now_ms(), 50, 5);  // clamped to spark.prescale.maxExecutors = 4
  EXPECT_EQ(wait_executors(4, 90), 4);
  std::this_thread::sleep_for(std::chrono::seconds(3));
  EXPECT_EQ(executors(), 4);

  const std::string log = read_text(stack_->run_dir() + "/iot-job/driver.log");
  EXPECT_NE(log.find("is not after"), std::string::npos)
      << "the out-of-order command was not reported";
  EXPECT_NE(log.find("ignored: stale"), std::string::npos) << "the stale command was not reported";
  EXPECT_NE(log.find("clamped from 50"), std::string::npos);
  const std::string stale = "ignored: epoch 2 is older than the current lease's 5";
  ASSERT_NE(log.find(stale), std::string::npos) << "the older epoch was not reported";
  EXPECT_EQ(log.find(stale, log.find(stale) + 1), std::string::npos) << "reported twice";
  // Spark's own chatter is at WARN (scripts/stack/log4j2.properties); the plugin's lines, at
  // INFO, are all there (above).
  EXPECT_EQ(log.find(" INFO TaskSetManager"), std::string::npos) << "Spark logs at INFO";
  EXPECT_EQ(log.find(" INFO DAGScheduler"), std::string::npos) << "Spark logs at INFO";
  EXPECT_NE(log.find("prescale: Starting prescale-iot"), std::string::npos);
}

TEST_F(SparkIntegration, ReadingsBecomeAggregatesInRedisAndProgressIsPublished) {
  // 2,000 readings of 4 sensors, stamped now, through the real edge agent.
  const std::string lines = stack_->run_dir() + "/readings.jsonl";
  {
    std::ofstream out(lines);
    const auto t = now_ms();
    for (int i = 0; i < 2000; ++i)
      out << "{\"sensor\":\"s-" << i % 4 << "\",\"ts_ms\":" << t << ",\"values\":[" << i % 10
          << "]}\n";
  }
  const std::string keys = stack_->run_dir() + "/keys.txt";
  std::ofstream(keys) << "gw-1 " << std::string(64, 'e') << "\n";
  Child edge({PRESCALE_BIN, "edge", "--device", "gw-1", "--key-file", keys, "--brokers",
              stack_->brokers(), "--stdin"},
             lines, stack_->run_dir() + "/edge.out", stack_->run_dir() + "/edge.err");
  ASSERT_EQ(edge.wait(60), 0) << read_text(stack_->run_dir() + "/edge.err");

  // Aggregates land in Redis: count = 500 per sensor in the window (one window: same ts).
  int found = 0;
  std::string reply;
  for (int i = 0; i < 240 && found < 4; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    const std::string cmd = "redis-cli -p " + std::to_string(stack_->redis_port()) +
                            " --scan --pattern 'prescale:hot:agg:s-*' > '" + stack_->run_dir() +
                            "/keys.out'";
    ASSERT_EQ(std::system(cmd.c_str()), 0);
    reply = read_text(stack_->run_dir() + "/keys.out");
    found = static_cast<int>(std::count(reply.begin(), reply.end(), '\n'));
  }
  ASSERT_EQ(found, 4) << reply;
  const std::string key = reply.substr(0, reply.find('\n'));
  const std::string hget = "redis-cli -p " + std::to_string(stack_->redis_port()) + " hget '" +
                           key + "' count > '" + stack_->run_dir() + "/count.out'";
  ASSERT_EQ(std::system(hget.c_str()), 0);
  EXPECT_EQ(read_text(stack_->run_dir() + "/count.out"), "500\n") << key;

  // The listener's progress: a batch that read the 2,000 readings' batches, with executors.
  auto c = bus::Consumer::create(props(), bus::Plane::kControl, {"iot-metrics"},
                                 bus::StartAt::kEarliest);
  ASSERT_TRUE(c.ok()) << c.error().message;
  bool saw_rows = false;
  double readings_per_message = 0;
  for (int i = 0; i < 200 && !saw_rows; ++i) {
    auto m = (*c)->poll(100);
    ASSERT_TRUE(m.ok());
    if (!m->has_value()) continue;
    auto pr = bus::decode_progress((*m)->payload);
    ASSERT_TRUE(pr.ok()) << pr.error().message << ": " << (*m)->payload;
    EXPECT_GE(pr->executors_active, 1);
    // What the job says about itself (docs/controller.md): the plugin's bounds, always.
    EXPECT_EQ(pr->min_executors, 1) << (*m)->payload;
    EXPECT_EQ(pr->max_executors, 4) << (*m)->payload;
    saw_rows |= pr->num_input_rows > 0;
    if (pr->num_input_rows > 0) readings_per_message = pr->records_per_message;
  }
  EXPECT_TRUE(saw_rows);
  // The agent batches up to 500 readings per Kafka message; the job counted them.
  EXPECT_GT(readings_per_message, 1);
  EXPECT_LE(readings_per_message, 500);
  auto out =
      bus::Consumer::create(props(), bus::Plane::kData, {"iot-processed"}, bus::StartAt::kEarliest);
  ASSERT_TRUE(out.ok());
  bool processed = false;
  for (int i = 0; i < 100 && !processed; ++i) {
    auto m = (*out)->poll(100);
    ASSERT_TRUE(m.ok());
    processed = m->has_value() && (*m)->payload.find("\"sensor\":\"s-") != std::string::npos;
  }
  EXPECT_TRUE(processed);
}

}  // namespace
}  // namespace prescale
